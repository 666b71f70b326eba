//! A report "as known at" a moment replays only the streams its scope can
//! need (an organisation's posts and people, or the cohorts and the people
//! they enrolled), found in the append-only events table as recorded by
//! then (docs/design.md, "Known at: replaying only the report's streams").
//! That must never change an answer: each test here asks the same report
//! replaying the scope (as requests do) and replaying the whole store, and
//! insists that both agree, byte for byte, on hand-made histories that a
//! scope taken from today's read models, from registrations only, without
//! posts, or from today's enrolments would get wrong, and on the demo
//! dataset at several moments.
//!
//! In each organisation's test someone registered there stays throughout,
//! so that the organisation's name is known to any scope: a name the scope
//! does not hold sends the request to the whole store, which would hide a
//! scope too narrow. The projector runs, and the organisation tests ask once
//! it has caught up, so that a scope read from today's read models would
//! see today's state (not the state as known then).

use serde_json::{json, Value};
use sqlx::PgPool;
use tenure::reports::{produce, produce_replaying_whole_store, to_csv, ReportKind, ReportQuery};

use crate::helpers::bodies::{CohortOpening, Enrolment, Filling, Leaving, Registration, Retraction, RoleChange};
use crate::helpers::reports::{cell, csv_rows, row, Row};
use crate::helpers::{load_demo, spawn_app, TestApp};

/// Waits until the projector has applied every event recorded so far.
async fn projected(app: &TestApp) {
    let last = app.max_position().await;
    for _ in 0..400 {
        let at: i64 = sqlx::query_scalar("SELECT global_position FROM read_models.checkpoint")
            .fetch_one(&app.pool)
            .await
            .unwrap();
        if at >= last {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the projector did not reach position {last} in 20 s");
}

/// Someone registered in `organisation` on 2017-01-01 who never moves or
/// leaves: the name is known to any scope of the organisation.
async fn stayer(app: &TestApp, external_ref: &str, organisation: &str) {
    app.register(external_ref, organisation, "team_manager", "2017-01-01")
        .await;
}

/// Report `kind` asked with `query` as known at `at`, replaying its scope
/// and replaying the whole store: asserts that both give the same figures,
/// rows and provenance (or the same refusal), and returns the answer's CSV
/// rows (or the refusal's code).
async fn scoped_and_whole(pool: &PgPool, kind: &str, query: &Value, at: &str) -> Result<Vec<Row>, String> {
    let mut query = query.clone();
    query["known_at"] = json!(at);
    let what = format!("{kind} {query}");
    let kind: ReportKind = serde_json::from_value(json!(kind)).unwrap();
    let query: ReportQuery = serde_json::from_value(query).unwrap();
    let scoped = produce(pool, kind, &query).await;
    let whole = produce_replaying_whole_store(pool, kind, &query).await;
    match (scoped, whole) {
        (Ok(scoped), Ok(whole)) => {
            assert_eq!(scoped.report, whole.report, "{what}");
            assert_eq!(scoped.rows, whole.rows, "{what}");
            assert_eq!(scoped.provenance, whole.provenance, "{what}");
            Ok(csv_rows(&to_csv(&scoped.rows).unwrap()))
        }
        (Err(scoped), Err(whole)) => {
            assert_eq!(scoped.to_string(), whole.to_string(), "{what}");
            assert_eq!(scoped.code(), whole.code(), "{what}");
            Err(scoped.code().to_string())
        }
        (scoped, whole) => panic!(
            "{what}: scoped {:?} but whole {:?}",
            scoped.map(|a| a.report),
            whole.map(|a| a.report)
        ),
    }
}

/// As [`scoped_and_whole`], insisting on an answer.
async fn answer(pool: &PgPool, kind: &str, query: &Value, at: &str) -> Vec<Row> {
    scoped_and_whole(pool, kind, query, at)
        .await
        .unwrap_or_else(|code| panic!("{kind} {query} known at {at}: refused {code}"))
}

/// Leavers from `organisation` between 2019-04-01 and 2019-09-30, all roles.
fn leavers_2019(organisation: &str) -> Value {
    json!({"organisation": organisation, "from": "2019-04-01", "to": "2019-09-30"})
}

fn total_leavers(rows: &[Row]) -> &str {
    cell(row(rows, "role_code", "total"), "after_leavers")
}

#[tokio::test]
async fn a_move_into_an_organisation_retracted_and_recorded_again_elsewhere_still_counts_there_as_known_before() {
    let app = spawn_app().await;
    stayer(&app, "stays-1", "Ashdown").await;
    let id = app
        .register("moved-1", "Elsewhere", "social_worker", "2018-01-01")
        .await;
    let moved = app
        .record(&RoleChange::new(&id, "2019-01-01", "senior_practitioner").at("Ashdown"))
        .await;
    let move_sequence = moved.body["version"].as_u64().expect("version");
    let left = app.record(&Leaving::new(&id, "2019-06-30", "resigned")).await;
    app.record(&Retraction::new(&id, move_sequence)).await;
    let again = app
        .record(&RoleChange::new(&id, "2019-01-01", "senior_practitioner").at("Birchley"))
        .await;
    projected(&app).await;

    // As known at the leaving: in Ashdown from 2019-01-01, left on
    // 2019-06-30, inside the period → 1 leaver from Ashdown (the stayer
    // stays).
    let then = answer(&app.pool, "leavers", &leavers_2019("Ashdown"), &left.str("recorded_at")).await;
    assert_eq!(total_leavers(&then), "1");
    // As known now the move went to Birchley: nobody left Ashdown → 0; the
    // leaver left Birchley → 1.
    let now = again.str("recorded_at");
    assert_eq!(
        total_leavers(&answer(&app.pool, "leavers", &leavers_2019("Ashdown"), &now).await),
        "0"
    );
    assert_eq!(
        total_leavers(&answer(&app.pool, "leavers", &leavers_2019("Birchley"), &now).await),
        "1"
    );
}

#[tokio::test]
async fn someone_registered_elsewhere_who_moved_into_the_organisation_is_in_its_scope() {
    let app = spawn_app().await;
    stayer(&app, "stays-2", "Ashdown").await;
    stayer(&app, "stays-3", "Birchley").await;
    let id = app.register("moved-2", "Birchley", "social_worker", "2018-01-01").await;
    app.record(&RoleChange::new(&id, "2018-06-01", "social_worker").at("Ashdown"))
        .await;
    let left = app.record(&Leaving::new(&id, "2019-06-30", "resigned")).await;
    projected(&app).await;
    // In Ashdown from 2018-06-01 until leaving on 2019-06-30 → 1 leaver from
    // Ashdown, none from Birchley (they left Birchley in 2018).
    let at = left.str("recorded_at");
    assert_eq!(
        total_leavers(&answer(&app.pool, "leavers", &leavers_2019("Ashdown"), &at).await),
        "1"
    );
    assert_eq!(
        total_leavers(&answer(&app.pool, "leavers", &leavers_2019("Birchley"), &at).await),
        "0"
    );
}

#[tokio::test]
async fn a_post_filled_by_someone_registered_elsewhere_is_filled_in_the_organisations_vacancies() {
    let app = spawn_app().await;
    let post = app
        .establish_post("Ashdown", "Team manager north", "team_manager", "2018-01-01")
        .await;
    let id = app
        .register("filler-1", "Birchley", "social_worker", "2018-01-01")
        .await;
    let registered = app.history("participants", &id).await.body[0]["recorded_at"]
        .as_str()
        .expect("recorded_at")
        .to_string();
    let filled = app.record(&Filling::new(&post, &id, "2018-06-01")).await;
    projected(&app).await;
    let query = json!({"organisation": "Ashdown", "on": "2018-12-31"});

    // Before the fill was recorded: one post, established 2018-01-01, empty.
    let before = answer(&app.pool, "vacancies", &query, &registered).await;
    let total = row(&before, "role_code", "total");
    assert_eq!(
        (cell(total, "established"), cell(total, "filled"), cell(total, "vacant")),
        ("1", "0", "1")
    );
    // After: filled from 2018-06-01, so on 2018-12-31 → 1 established, 1 filled.
    let after = answer(&app.pool, "vacancies", &query, &filled.str("recorded_at")).await;
    let total = row(&after, "role_code", "total");
    assert_eq!(
        (cell(total, "established"), cell(total, "filled"), cell(total, "vacant")),
        ("1", "1", "0")
    );
}

#[tokio::test]
async fn a_cohort_as_known_then_keeps_an_enrolment_retracted_later_and_not_one_recorded_later() {
    let app = spawn_app().await;
    let register = |r: &'static str| app.register(r, "Ashdown", "social_worker", "2018-01-01");
    let (stays, leaves, later) = (register("c-1").await, register("c-2").await, register("c-3").await);
    app.record(&Leaving::new(&leaves, "2020-06-30", "resigned")).await;
    let cohort = app
        .record(&CohortOpening::new("Leadership", "First", "2019-01-01"))
        .await
        .id();
    app.record(&Enrolment::new(&cohort, &stays, "2019-01-01")).await;
    let enrolled = app.record(&Enrolment::new(&cohort, &leaves, "2019-01-01")).await;
    let then = enrolled.str("recorded_at");
    let enrolment_sequence = enrolled.body["version"].as_u64().expect("version");
    let retraction = json!({"sequence": enrolment_sequence, "reason": "enrolled in error"});
    let retracted = app
        .post(&format!("/api/v1/cohorts/{cohort}/retractions"), &retraction)
        .await;
    assert_eq!(retracted.status, 201, "{}", retracted.body);
    let now = app
        .record(&Enrolment::new(&cohort, &later, "2019-01-01"))
        .await
        .str("recorded_at");
    projected(&app).await;
    let query = json!({"cohort": cohort, "as_at": "2021-03-31"});

    // Known then: the first two enrolled; one left on 2020-06-30 → size 2,
    // 1 left, 1 remained (neither was promoted).
    let rows = answer(&app.pool, "promotions", &query, &then).await;
    let first = row(&rows, "cohort", "First");
    assert_eq!(
        (cell(first, "cohort_size"), cell(first, "left"), cell(first, "remained")),
        ("2", "1", "1")
    );
    // Known now: the leaver's enrolment is retracted and the third enrolled
    // → size 2, nobody left, 2 remained.
    let rows = answer(&app.pool, "promotions", &query, &now).await;
    let first = row(&rows, "cohort", "First");
    assert_eq!(
        (cell(first, "cohort_size"), cell(first, "left"), cell(first, "remained")),
        ("2", "0", "2")
    );
    // The same population through the leavers report's cohort filter, known
    // then: the leaver left Ashdown on 2020-06-30.
    let leavers = json!({"cohort": cohort, "from": "2020-04-01", "to": "2020-09-30"});
    assert_eq!(total_leavers(&answer(&app.pool, "leavers", &leavers, &then).await), "1");
    assert_eq!(total_leavers(&answer(&app.pool, "leavers", &leavers, &now).await), "0");
}

#[tokio::test]
async fn a_stream_that_names_the_organisation_only_from_a_later_record_joins_its_scope_at_that_record() {
    let app = spawn_app().await;
    stayer(&app, "stays-4", "Ashdown").await;
    let registration = app
        .record(&Registration::new("late-1", "Birchley", "social_worker", "2018-01-01"))
        .await;
    let id = registration.id();
    // Recorded late: a move into Ashdown effective 2018-06-01. Asked at once,
    // as known at its own recorded time: the projector may not have seen it.
    let moved = app
        .record(&RoleChange::new(&id, "2018-06-01", "social_worker").at("Ashdown"))
        .await;
    let query = json!({"organisation": "Ashdown", "from": "2018-01-01", "to": "2018-12-31"});
    let turnover = |rows: Vec<Row>| {
        let total = row(&rows, "organisation", "Ashdown").clone();
        ["in_post_start", "starters", "leavers", "in_post_end"].map(|column| cell(&total, column).to_string())
    };
    // Known at the move: the stayer throughout, the mover from 2018-06-01 →
    // 1 in post at the start, 1 starter (the move in), no leaver, 2 at the end.
    let at = moved.str("recorded_at");
    assert_eq!(
        turnover(answer(&app.pool, "turnover", &query, &at).await),
        ["1", "1", "0", "2"]
    );
    // Known at the registration, before the move was recorded: the stayer only.
    let at = registration.str("recorded_at");
    assert_eq!(
        turnover(answer(&app.pool, "turnover", &query, &at).await),
        ["1", "0", "0", "1"]
    );
}

#[tokio::test]
async fn scoped_replays_equal_the_whole_replay_on_the_demo_dataset_at_several_moments() {
    let app = spawn_app().await;
    load_demo(&app.pool).await;
    let pool = &app.pool;
    let moments: Vec<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("SELECT DISTINCT recorded_at FROM events ORDER BY 1")
            .fetch_all(pool)
            .await
            .unwrap();
    let organisations: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT tenure_event_organisation(event_type, payload) FROM events \
          WHERE tenure_event_organisation(event_type, payload) IS NOT NULL ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let cohorts: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT aggregate_id FROM events WHERE aggregate_type = 'cohort' ORDER BY 1")
            .fetch_all(pool)
            .await
            .unwrap();
    let programmes: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT payload -> 'Opened' ->> 'programme' FROM events WHERE event_type = 'CohortOpened' ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert!(
        organisations.len() >= 2 && cohorts.len() >= 2,
        "{organisations:?} {cohorts:?}"
    );

    let mut requests: Vec<(&str, Value)> = Vec::new();
    for organisation in &organisations {
        requests.push(("leavers", leavers_2019(organisation)));
        requests.push((
            "leavers",
            json!({"organisation": organisation, "from": "2018-04-01", "to": "2018-09-30",
                   "compare_from": "2017-04-01", "compare_to": "2017-09-30", "role": "social_worker"}),
        ));
        requests.push((
            "turnover",
            json!({"organisation": organisation, "from": "2017-04-01", "to": "2019-03-31"}),
        ));
        requests.push(("vacancies", json!({"organisation": organisation, "on": "2018-06-30"})));
        requests.push((
            "retention",
            json!({"organisation": organisation, "cohort": cohorts[0], "as_at": "2021-03-31"}),
        ));
    }
    // Every fifteenth cohort (the demo has many), and every programme.
    for cohort in cohorts.iter().step_by(15) {
        requests.push(("retention", json!({"cohort": cohort, "as_at": "2021-03-31"})));
        requests.push(("promotions", json!({"cohort": cohort, "as_at": "2021-03-31"})));
        requests.push((
            "leavers",
            json!({"cohort": cohort, "from": "2017-04-01", "to": "2020-03-31"}),
        ));
    }
    for programme in &programmes {
        requests.push(("promotions", json!({"programme": programme, "as_at": "2021-03-31"})));
        requests.push((
            "leavers",
            json!({"programme": programme, "from": "2017-04-01", "to": "2020-03-31"}),
        ));
    }
    // A team nobody in the organisation has: the scope cannot tell whether
    // anyone holds it, so the whole store is asked.
    requests.push((
        "leavers",
        json!({"organisation": organisations[0], "team": "No Such Team", "from": "2017-04-01", "to": "2020-03-31"}),
    ));

    // A quarter and half of the way through the history, and its end.
    let mut answered = 0;
    for quarter in [1, 2, 4] {
        let at = moments[(moments.len() * quarter / 4).saturating_sub(1)];
        let at = at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        for (kind, query) in &requests {
            if scoped_and_whole(pool, kind, query, &at).await.is_ok() {
                answered += 1;
            }
        }
    }
    // At least everything at the end answers (bar the team nobody has), so
    // the comparison is not only of refusals.
    assert!(
        answered >= requests.len() - 1,
        "{answered} of {} answered",
        requests.len() * 3
    );
    eprintln!("{answered} scoped known_at answers equal their whole replay");
}
