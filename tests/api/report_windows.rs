//! Reports read only the people their periods, roles, teams and cohorts
//! select (`projections::tables::Scope`): an organisation's leavers read
//! the people employed there in the periods asked, vacancies the holders of
//! the posts on the day, cohort reports the selected cohorts' members. These
//! histories sit on every edge of that narrowing (a leaving on a period's
//! first or last day, a spell begun long before a period, moves in and out
//! across a period, a change of team or role inside one, a comparison period
//! with people the main period does not have, an exclusion across `as_at`,
//! a cohort name two programmes share, a basis only the holder's own record
//! knows), and every answer must equal the same report over the whole
//! history (a replay at `known_at`), with a few figures worked by hand.

use crate::helpers::bodies::{Disestablishment, Exclusion, Registration, RoleChange};
use crate::helpers::reports::{cell, row};
use crate::helpers::{spawn_app, TestApp};
use crate::report_scope::{live_and_replayed, urlencode};

const WHARF: &str = "Window Wharf";
const OAKS: &str = "Other Oaks";

/// Registers someone at `organisation` in `team` on 2016-01-01.
async fn hire(app: &TestApp, external_ref: &str, organisation: &str, team: &str, role: &str) -> String {
    let registration = Registration::new(external_ref, organisation, role, "2016-01-01").team(team);
    app.record(&registration).await.id()
}

/// A move on `on` to `role` at `organisation` in `team`.
async fn move_to(app: &TestApp, who: &str, on: &str, role: &str, organisation: &str, team: &str) {
    app.record(&RoleChange::new(who, on, role).at(organisation).team(team))
        .await;
}

/// The whole history; returns the ids of cohorts "2018 intake" and
/// "2019 intake" of the Window Programme.
async fn history(app: &TestApp) -> (String, String) {
    // w1: team manager (North), leaves on the first day of the after period.
    let w1 = hire(app, "w1", WHARF, "North", "team_manager").await;
    app.leave(&w1, "2019-04-01").await;
    // w2: team manager (North), leaves inside the before period only.
    let w2 = hire(app, "w2", WHARF, "North", "team_manager").await;
    app.leave(&w2, "2018-05-15").await;
    // w3: social worker (South), promoted in place on 2019-07-01.
    let w3 = hire(app, "w3", WHARF, "South", "social_worker").await;
    move_to(app, &w3, "2019-07-01", "team_manager", WHARF, "South").await;
    // w4: team manager at Other Oaks, moves to the Wharf on 2019-06-01.
    let w4 = hire(app, "w4", OAKS, "East", "team_manager").await;
    move_to(app, &w4, "2019-06-01", "team_manager", WHARF, "North").await;
    // w5: team manager (North), moves to Other Oaks on 2019-08-01.
    let w5 = hire(app, "w5", WHARF, "North", "team_manager").await;
    move_to(app, &w5, "2019-08-01", "team_manager", OAKS, "East").await;
    // w6: social worker, North then South from 2019-05-01, leaves on the
    // after period's last day; excluded from analysis from 2019-03-01.
    let w6 = hire(app, "w6", WHARF, "North", "social_worker").await;
    app.record(&Exclusion::new(&w6, "2019-03-01", "left to work abroad"))
        .await;
    move_to(app, &w6, "2019-05-01", "social_worker", WHARF, "South").await;
    app.leave(&w6, "2019-09-30").await;
    // w7 left before every period; w8 joins after them.
    let w7 = hire(app, "w7", WHARF, "North", "team_manager").await;
    app.leave(&w7, "2017-12-31").await;
    let w8 = Registration::new("w8", WHARF, "team_manager", "2019-10-01").team("North");
    app.record(&w8).await;

    // Posts: North held by w9, interim from 2018-01-01 and made permanent
    // in the same post on 2019-01-01 (only w9's own record says so); South
    // established after the dates asked; West abolished before them.
    let north = app
        .establish_post(WHARF, "TM North", "team_manager", "2017-01-01")
        .await;
    app.establish_post(WHARF, "TM South", "team_manager", "2020-01-01")
        .await;
    let west = app.establish_post(WHARF, "TM West", "team_manager", "2017-01-01").await;
    app.record(&Disestablishment::new(&west, "2019-03-01")).await;
    let w9 = hire(app, "w9", WHARF, "North", "social_worker").await;
    let into_north = |on: &str, basis: &str| RoleChange::new(&w9, on, "team_manager").post(&north).basis(basis);
    app.record(&into_north("2018-01-01", "interim")).await;
    app.record(&into_north("2019-01-01", "permanent")).await;

    // Cohorts: two of the Window Programme, and a "2018 intake" of another.
    let a = app.open_cohort("Window Programme", "2018 intake", "2018-01-01").await;
    let b = app.open_cohort("Window Programme", "2019 intake", "2019-01-01").await;
    let other = app.open_cohort("Other Programme", "2018 intake", "2018-01-01").await;
    for who in [&w1, &w3, &w5] {
        app.enrol(&a, who, "2018-02-01").await;
    }
    for who in [&w3, &w6] {
        app.enrol(&b, who, "2019-01-15").await;
    }
    app.enrol(&other, &w2, "2018-02-01").await;
    (a, b)
}

#[tokio::test]
async fn reports_narrowed_to_periods_roles_teams_posts_and_cohorts_equal_the_whole_history() {
    let app = spawn_app().await;
    let (a, b) = history(&app).await;
    let known_at: chrono::DateTime<chrono::Utc> = sqlx::query_scalar("SELECT max(recorded_at) FROM events")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let known_at = known_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let (wharf, oaks) = (urlencode(WHARF), urlencode(OAKS));
    let periods = "from=2019-04-01&to=2019-09-30&compare_from=2018-04-01&compare_to=2018-09-30";
    let programme = urlencode("Window Programme");
    let queries = [
        ("leavers", format!("organisation={wharf}&{periods}")),
        ("leavers", format!("organisation={wharf}&{periods}&role=team_manager")),
        ("leavers", format!("organisation={wharf}&{periods}&role=social_worker")),
        ("leavers", format!("organisation={wharf}&{periods}&team=North")),
        ("leavers", format!("organisation={wharf}&{periods}&team=South")),
        (
            "leavers",
            format!("organisation={wharf}&{periods}&role=team_manager&team=North"),
        ),
        ("leavers", format!("organisation={oaks}&{periods}&role=team_manager")),
        ("leavers", format!("{periods}&role=team_manager")),
        ("leavers", format!("organisation={wharf}&{periods}&cohort={a}")),
        ("leavers", format!("{periods}&cohort=2018%20intake")),
        ("leavers", format!("{periods}&programme={programme}")),
        (
            "leavers",
            format!("{periods}&programme={programme}&cohort=2018%20intake,2019%20intake"),
        ),
        (
            "turnover",
            format!("organisation={wharf}&from=2018-10-01&to=2019-09-30"),
        ),
        ("turnover", format!("organisation={oaks}&from=2018-10-01&to=2019-09-30")),
        ("vacancies", format!("organisation={wharf}&on=2019-06-30")),
        ("vacancies", format!("organisation={wharf}&on=2018-06-30")),
        ("retention", format!("cohort={a}&as_at=2020-03-31")),
        ("retention", format!("cohort={a}&organisation={wharf}&as_at=2020-03-31")),
        (
            "retention",
            format!("cohort=2019%20intake&programme={programme}&as_at=2020-03-31"),
        ),
        ("promotions", format!("programme={programme}&as_at=2020-03-31")),
        ("promotions", "cohort=2018%20intake&as_at=2020-03-31".to_string()),
        ("promotions", format!("cohort={b}&as_at=2020-03-31")),
    ];
    for (kind, query) in &queries {
        let (live, replayed) = live_and_replayed(&app, kind, query, &known_at).await;
        assert_eq!(live, replayed, "{kind}?{query}");
    }

    // By hand, team managers at the Wharf. After (2019-04-01..09-30, 183
    // days): leavers w1 (2019-04-01) and w5 (moved out 2019-08-01) = 2;
    // person-days w1 0 + w3 92 (07-01..09-30) + w4 122 (06-01..09-30) + w5
    // 122 (04-01..07-31) + w9 183 (in post North) = 519. Before
    // (2018-04-01..09-30, 183 days): leaver w2 = 1; person-days w1 183 + w2
    // 44 (04-01..05-14) + w5 183 + w9 183 = 593.
    let (live, _) = live_and_replayed(
        &app,
        "leavers",
        &format!("organisation={wharf}&{periods}&role=team_manager"),
        &known_at,
    )
    .await;
    let total = &live["total"];
    assert_eq!(
        (&total["period"]["leavers"], &total["period"]["person_days"]),
        (&2.into(), &519.into())
    );
    assert_eq!(
        (&total["before"]["leavers"], &total["before"]["person_days"]),
        (&1.into(), &593.into())
    );
    // Team South, after: one leaver, w6 on 2019-09-30 (South from 05-01);
    // person-days w6 152 (05-01..09-29: 31 + 30 + 31 + 31 + 29) + w3 183
    // (South throughout, both roles) = 335.
    let (live, _) = live_and_replayed(
        &app,
        "leavers",
        &format!("organisation={wharf}&{periods}&team=South"),
        &known_at,
    )
    .await;
    assert_eq!(
        (
            &live["total"]["period"]["leavers"],
            &live["total"]["period"]["person_days"]
        ),
        (&1.into(), &335.into())
    );
    // Vacancies on 2019-06-30: North only (South not yet, West abolished),
    // held by w9 as permanent by their own record, so filled, not cover.
    let rows = app
        .report_csv("vacancies", &format!("organisation={wharf}&on=2019-06-30"))
        .await;
    let total = row(&rows, "role_code", "total");
    assert_eq!(
        (
            cell(total, "established"),
            cell(total, "filled"),
            cell(total, "covered")
        ),
        ("1", "1", "0")
    );
}

#[tokio::test]
async fn a_cohort_name_that_matches_nothing_is_refused_with_the_same_suggestion_as_over_the_whole_history() {
    let app = spawn_app().await;
    history(&app).await;
    let known_at: chrono::DateTime<chrono::Utc> = sqlx::query_scalar("SELECT max(recorded_at) FROM events")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let known_at = urlencode(&known_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true));
    for query in [
        "cohort=2018%20intak&as_at=2020-03-31",
        "cohort=2019%20intake,2018%20intak&programme=Window%20Programme&as_at=2020-03-31",
    ] {
        // Live, once the projector has applied the whole history.
        let position = app.max_position().await;
        let live = app
            .report("promotions", &format!("{query}&min_position={position}&wait_ms=20000"))
            .await;
        let replayed = app.report("promotions", &format!("{query}&known_at={known_at}")).await;
        assert_eq!(live.status, 422, "{query}: {}", live.body);
        assert_eq!(live.body, replayed.body, "{query}");
        assert!(live.body.to_string().contains("2018 intake"), "{}", live.body);
    }
}
