//! Each report reads only the part of the read models its filters select
//! (an organisation's people and posts, or the people ever enrolled). That
//! must never change a figure: on the demo dataset, every report for every
//! organisation, cohort and programme equals the same report answered from
//! a replay of every event (`known_at`), which holds the whole history.

use serde_json::Value;

use crate::helpers::{load_demo, spawn_app, TestApp};

/// The report's figures, live (scoped read) and as known at the last
/// event (whole replay), for `query`.
async fn live_and_replayed(app: &TestApp, kind: &str, query: &str, known_at: &str) -> (Value, Value) {
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

fn urlencode(text: &str) -> String {
    text.replace('+', "%2B").replace(':', "%3A").replace(' ', "%20")
}

async fn names(app: &TestApp, sql: &str) -> Vec<String> {
    sqlx::query_scalar(sql).fetch_all(&app.pool).await.unwrap()
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
    // The whole workforce, unscoped.
    let (live, replayed) = live_and_replayed(&app, "leavers", "from=2017-04-01&to=2019-09-30", &known_at).await;
    assert_eq!(live, replayed);
    eprintln!("{compared} scoped reports equal their whole replay");
}
