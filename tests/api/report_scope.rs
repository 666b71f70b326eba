//! Each report reads only the part of the read models its filters select
//! (the people employed in an organisation in the periods asked, of the
//! roles and team asked; its posts on the day; the selected cohorts'
//! members). That
//! must never change a figure: on the demo dataset, every report for every
//! organisation, cohort and programme equals the same report answered from
//! a replay of every event (`known_at`), which holds the whole history.

use serde_json::Value;

use crate::helpers::{load_demo, spawn_app, TestApp};

/// The report's figures, live (scoped read) and as known at the last
/// event (whole replay), for `query`.
pub(crate) async fn live_and_replayed(app: &TestApp, kind: &str, query: &str, known_at: &str) -> (Value, Value) {
    let live = app
        .report(
            kind,
            &format!("{query}&min_position={}&wait_ms=20000", app.max_position().await),
        )
        .await;
    assert_eq!(live.status, 200, "{kind}?{query}: {}", live.body);
    let replayed = app
        .report(kind, &format!("{query}&known_at={}", urlencode(known_at)))
        .await;
    assert_eq!(replayed.status, 200, "{kind}?{query}: {}", replayed.body);
    (live.body["report"].clone(), replayed.body["report"].clone())
}

pub(crate) fn urlencode(text: &str) -> String {
    text.replace('+', "%2B").replace(':', "%3A").replace(' ', "%20")
}

async fn names(app: &TestApp, sql: &str) -> Vec<String> {
    sqlx::query_scalar(sql).fetch_all(&app.pool).await.unwrap()
}

/// The first team of each organisation, by name.
async fn teams(app: &TestApp) -> Vec<(String, String)> {
    sqlx::query_as(
        "SELECT DISTINCT ON (organisation) organisation, team FROM read_models.spells \
         WHERE team IS NOT NULL ORDER BY organisation, team",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn scoped_reports_equal_the_whole_replay_for_every_organisation_cohort_and_programme() {
    let app = spawn_app().await;
    load_demo(&app.pool).await;
    let known_at: chrono::DateTime<chrono::Utc> = sqlx::query_scalar("SELECT max(recorded_at) FROM events")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let known_at = known_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);

    let organisations = names(
        &app,
        "SELECT organisation FROM read_models.spells UNION SELECT organisation FROM read_models.posts ORDER BY 1",
    )
    .await;
    assert!(organisations.len() >= 2, "{organisations:?}");
    let mut compared = 0;
    for organisation in &organisations {
        let org = urlencode(organisation);
        for (kind, query) in [
            ("leavers", format!("organisation={org}&from=2017-04-01&to=2019-09-30")),
            (
                "leavers",
                format!(
                    "organisation={org}&from=2018-04-01&to=2018-09-30&compare_from=2017-04-01&compare_to=2017-09-30"
                ),
            ),
            // The published figure's shape: one role, two six-month periods.
            (
                "leavers",
                format!(
                    "organisation={org}&role=team_manager,practice_manager&from=2018-04-01&to=2018-09-30\
                     &compare_from=2017-04-01&compare_to=2017-09-30"
                ),
            ),
            ("turnover", format!("organisation={org}&from=2017-04-01&to=2019-03-31")),
            ("vacancies", format!("organisation={org}&on=2018-06-30")),
        ] {
            let (live, replayed) = live_and_replayed(&app, kind, &query, &known_at).await;
            assert_eq!(live, replayed, "{kind}?{query}");
            compared += 1;
        }
    }
    for cohort in names(&app, "SELECT cohort_id::text FROM read_models.cohorts ORDER BY 1").await {
        for (kind, query) in [
            ("retention", format!("cohort={cohort}&as_at=2021-03-31")),
            ("promotions", format!("cohort={cohort}&as_at=2021-03-31")),
            ("leavers", format!("cohort={cohort}&from=2017-04-01&to=2020-03-31")),
        ] {
            let (live, replayed) = live_and_replayed(&app, kind, &query, &known_at).await;
            assert_eq!(live, replayed, "{kind}?{query}");
            compared += 1;
        }
    }
    for programme in names(&app, "SELECT DISTINCT programme FROM read_models.cohorts ORDER BY 1").await {
        let query = format!("programme={}&as_at=2021-03-31", urlencode(&programme));
        let (live, replayed) = live_and_replayed(&app, "promotions", &query, &known_at).await;
        assert_eq!(live, replayed, "promotions?{query}");
        compared += 1;
    }
    // One team of each organisation (the first by name), over two periods.
    for (organisation, team) in teams(&app).await {
        let query = format!(
            "organisation={}&team={}&from=2018-04-01&to=2018-09-30&compare_from=2017-04-01&compare_to=2017-09-30",
            urlencode(&organisation),
            urlencode(&team)
        );
        let (live, replayed) = live_and_replayed(&app, "leavers", &query, &known_at).await;
        assert_eq!(live, replayed, "leavers?{query}");
        compared += 1;
    }
    // The whole workforce, unscoped.
    let (live, replayed) = live_and_replayed(&app, "leavers", "from=2017-04-01&to=2019-09-30", &known_at).await;
    assert_eq!(live, replayed);
    eprintln!("{compared} scoped reports equal their whole replay");
}

#[tokio::test]
async fn promotions_outcomes_per_participant_come_in_pages_that_add_up_to_the_whole() {
    let app = spawn_app().await;
    load_demo(&app.pool).await;
    let query = format!(
        "programme=PLDP&as_at=2021-01-31&min_position={}&wait_ms=20000",
        app.max_position().await
    );
    let whole = app
        .report("promotions", &format!("{query}&participants_limit=10000"))
        .await;
    assert_eq!(whole.status, 200, "{}", whole.body);
    let everyone = whole.body["report"]["participants"].as_array().unwrap().clone();
    let total = everyone.len() as u64;
    assert!(total > 25, "the demo's PLDP has more than one page of 25");
    assert_eq!(whole.body["report"]["participants_total"], total);
    assert!(whole.body["report"]["participants_next_offset"].is_null());

    // Pages of 25, followed by their next offset, give everyone once, in order.
    let mut paged = Vec::new();
    let mut offset = Some(0);
    while let Some(at) = offset {
        let page = app
            .report(
                "promotions",
                &format!("{query}&participants_limit=25&participants_offset={at}"),
            )
            .await;
        assert_eq!(page.status, 200, "{}", page.body);
        let report = &page.body["report"];
        assert_eq!(report["participants_total"], total);
        // The figures do not depend on the page.
        assert_eq!(report["total"], whole.body["report"]["total"]);
        paged.extend(report["participants"].as_array().unwrap().iter().cloned());
        offset = report["participants_next_offset"].as_u64();
    }
    assert_eq!(paged, everyone);

    for bad in [
        "participants_limit=0",
        "participants_limit=10001",
        "participants_offset=-1",
    ] {
        let refused = app
            .report("promotions", &format!("programme=PLDP&as_at=2021-01-31&{bad}"))
            .await;
        assert_eq!(refused.status, 400, "{bad}: {}", refused.body);
        assert_eq!(refused.str("error"), "invalid_parameter", "{bad}");
    }
}
