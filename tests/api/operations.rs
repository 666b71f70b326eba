//! Operating tenure: replacing a ladder, the report command line, and a
//! report that waits too long for the projector.

use serde_json::json;

use crate::helpers::bodies::{Registration, RoleChange};
use crate::helpers::reports::{cell, csv_rows, row};
use crate::helpers::{fresh_database, load_demo, spawn_app};

#[tokio::test]
async fn an_organisation_replaces_its_ladder_and_moves_are_judged_by_it() {
    let app = spawn_app().await;
    let ladder = json!({"roles": [
        {"code": "caseworker", "name": "caseworker", "level": 1},
        {"code": "lead", "name": "lead caseworker", "level": 2},
        {"code": "adviser", "name": "adviser", "level": null},
    ]});
    let put = app.replace_ladder("Fenland", &ladder, &[]).await;
    assert_eq!(put.status, 200);
    let read = app.ladder("Fenland").await;
    assert_eq!(read.body["is_default"], false);
    assert_eq!(read.body["roles"].as_array().unwrap().len(), 3);
    // Other organisations keep the default ladder.
    assert_eq!(app.ladder("Elsewhere").await.body["is_default"], true);

    // The default ladder's roles are unknown in Fenland now.
    let refused = app
        .send(&Registration::new("F-1", "Fenland", "team_manager", "2018-01-01"))
        .await;
    assert_eq!(refused.status, 422);
    assert_eq!(refused.str("field"), "role");

    let id = app.register("F-2", "Fenland", "caseworker", "2018-01-01").await;
    let promoted = app.send(&RoleChange::new(&id, "2019-01-01", "lead")).await;
    assert_eq!(promoted.status, 201, "{}", promoted.body);
    // A move to a role without a level needs its kind.
    let no_kind = app.send(&RoleChange::new(&id, "2020-01-01", "adviser")).await;
    assert_eq!(no_kind.status, 422);
    assert_eq!(no_kind.str("field"), "kind");

    // An invalid ladder (duplicate codes) is refused and changes nothing.
    let duplicate = json!({"roles": [{"code": "a", "name": "a", "level": 1}, {"code": "a", "name": "b", "level": 2}]});
    assert_eq!(app.replace_ladder("Fenland", &duplicate, &[]).await.status, 422);
    assert_eq!(app.ladder("Fenland").await.body["roles"].as_array().unwrap().len(), 3);
}

/// Runs the `tenure` binary on the database at `url`; insists it succeeds
/// and returns what it printed.
async fn run_tenure(url: &str, args: &[&str]) -> String {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_tenure"))
        .args(args)
        .env("DATABASE_URL", url)
        .output()
        .await
        .expect("run tenure");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("tenure prints UTF-8")
}

#[tokio::test]
async fn the_report_command_prints_the_published_table() {
    let (pool, url) = fresh_database().await;
    load_demo(&pool).await;
    let printed = run_tenure(
        &url,
        &[
            "report",
            "promotions",
            "--programme",
            "PLDP",
            "--as-at",
            "2021-01-31",
            "--csv",
        ],
    )
    .await;
    let rows = csv_rows(&printed);
    let total = row(&rows, "cohort", "total");
    // Published: 34 of 67 promoted to practice leader or DCS.
    assert_eq!(
        (cell(total, "promoted_to_targets_numerator"), cell(total, "cohort_size")),
        ("34", "67")
    );

    let text = run_tenure(
        &url,
        &[
            "report",
            "leavers",
            "--organisation",
            "Riverside Council",
            "--role",
            "team_manager",
            "--compare-from",
            "2017-04-01",
            "--compare-to",
            "2017-09-30",
            "--from",
            "2018-04-01",
            "--to",
            "2018-09-30",
        ],
    )
    .await;
    assert!(text.contains("team_manager"), "{text}");
    assert!(text.contains("reflects every event up to position"), "{text}");
}

#[tokio::test]
async fn ladder_edits_with_if_match_land_only_on_the_version_they_name() {
    let app = spawn_app().await;
    let put = |version: &'static str, top: &'static str| {
        let ladder = json!({"roles": [
            {"code": "worker", "name": "worker", "level": 1},
            {"code": top, "name": top, "level": 2},
        ]});
        let app = &app;
        async move { app.replace_ladder("Marsh", &ladder, &[("If-Match", version)]).await }
    };
    assert_eq!(app.ladder("Marsh").await.body["version"], 0);
    // Two editors both read the default (version 0): the first lands, the
    // second is 409 rather than silently overwriting it.
    let first = put("0", "lead").await;
    assert_eq!(first.status, 200);
    let second = put("0", "senior").await;
    assert_eq!(second.status, 409);
    assert_eq!(second.body["error"], "conflict", "{}", second.body);
    // Reading again gives version 1; an edit naming it lands as version 2.
    let read = app.ladder("Marsh").await;
    assert_eq!(
        (read.body["version"].as_i64(), read.body["roles"][1]["code"].as_str()),
        (Some(1), Some("lead"))
    );
    let third = put("1", "senior").await;
    assert_eq!(third.status, 200);
    assert_eq!(app.ladder("Marsh").await.body["version"], 2);
    assert_eq!(put("1", "other").await.status, 409);
}

#[tokio::test]
async fn a_report_waiting_for_an_unreached_position_answers_503() {
    let app = spawn_app().await;
    // An open transaction holding an xid keeps the gap-safe reader (and so
    // the projector) from passing any event committed after it began.
    let mut blocker = app.pool.begin().await.expect("begin");
    sqlx::query("SELECT pg_current_xact_id()")
        .execute(&mut *blocker)
        .await
        .expect("take an xid");
    let id = app.register("W-1", "Nowhere", "social_worker", "2018-01-01").await;
    assert!(!id.is_empty());
    let query = format!(
        "organisation=Nowhere&on=2019-01-01&min_position={}",
        app.max_position().await
    );
    let reply = app.report("vacancies", &format!("{query}&wait_ms=300")).await;
    assert_eq!(reply.status, 503, "{}", reply.body);
    assert_eq!(reply.str("error"), "projection_behind");
    // Once the transaction ends the projector passes and the report answers.
    blocker.rollback().await.expect("rollback");
    let reached = app.report("vacancies", &query).await;
    assert_eq!(reached.status, 200, "{}", reached.body);
}

#[tokio::test]
async fn a_second_rebuild_while_one_runs_is_409_and_touches_nothing() {
    let app = spawn_app().await;
    app.register("RB-1", "O", "social_worker", "2016-01-01").await;
    // Tests share a cluster, and another test's open transaction can hold
    // every gap-free reader back: wait until the event is readable.
    let caught_up = app
        .report(
            "vacancies",
            &format!(
                "organisation=O&on=2019-01-01&min_position={}&wait_ms=30000",
                app.max_position().await
            ),
        )
        .await;
    assert_eq!(caught_up.status, 200, "{}", caught_up.body);
    // Another rebuild (the CLI, say) holds the rebuild lock.
    let mut other = app.pool.begin().await.unwrap();
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(projections::projector::REBUILD_LOCK_KEY)
        .execute(&mut *other)
        .await
        .unwrap();
    let refused = app.rebuild().await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert_eq!(refused.str("error"), "rebuild_in_progress");
    let staging: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'read_models_next')")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(!staging, "a refused rebuild creates no staging schema");

    other.rollback().await.unwrap();
    let rebuilt = app.rebuild().await;
    assert_eq!(rebuilt.status, 200, "{}", rebuilt.body);
    assert_eq!(rebuilt.body["events_applied"], 1);
}
