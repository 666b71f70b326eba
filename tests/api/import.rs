//! Importing facts files (issue #11, first part): the example file lands
//! and its figures are the hand-counted ones; a second import of the same
//! facts appends nothing; a later extract appends only what is new; a
//! person with a refused row has none of their rows recorded while everyone
//! else's land; a dry run appends nothing; `tenure import` exits 2 when a
//! row was refused.

use std::path::Path;
use std::process::Command;

use tenure::event_store::EventStore;
use tenure::import::{import_facts, FactsFile, ImportOptions, ImportSummary};
use tenure::ladders::Ladders;

use crate::helpers::reports::{cell, row};
use crate::helpers::{fresh_database, spawn_app, TestApp};

const EXAMPLE: &str = include_str!("../../docs/examples/facts.csv");

fn options(dry_run: bool) -> ImportOptions {
    ImportOptions {
        recorded_by: "importer".to_string(),
        dry_run,
        future_margin_days: 366,
    }
}

async fn import(app: &TestApp, name: &str, text: &str, dry_run: bool) -> ImportSummary {
    let store = EventStore::new(app.pool.clone());
    let ladders = Ladders::new(app.pool.clone());
    import_facts(
        &store,
        &ladders,
        name,
        FactsFile::Bytes(text.as_bytes().to_vec()),
        &options(dry_run),
        &mut |_| {},
    )
    .await
    .unwrap()
}

async fn events(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_example_file_lands_and_gives_the_hand_counted_leavers() {
    let app = spawn_app().await;
    let summary = import(&app, "facts.csv", EXAMPLE, false).await;
    assert!(summary.errors.is_empty(), "{:?}", summary.errors);
    assert_eq!(
        (
            summary.rows_read,
            summary.people,
            summary.facts_recorded,
            summary.events_appended
        ),
        (40, 8, 40, 44)
    );
    // 40 rows, one fact each: 26 about the eight careers, 14 about posts
    // and cohorts. Events: one per fact (40), plus a post's fill or vacancy
    // beside a participant event for the two fills (2), HB-002's leaving
    // (vacating HB-TM-01) and HB-003's move to service manager on
    // 2018-10-01 (out of HB-TM-02): 40 + 2 + 2 = 44.
    // Leavers from Harbourside between 2017-04-01 and 2018-09-30: HB-004
    // (social worker, 2017-08-31), HB-006 (social worker, 2018-04-30),
    // HB-008 (social worker, 2018-09-28) and HB-002 (team manager since
    // 2017-06-01 although her file row came after her leaving, 2018-05-31).
    let rows = app
        .report_csv("leavers", "organisation=Harbourside&from=2017-04-01&to=2018-09-30")
        .await;
    assert_eq!(cell(row(&rows, "role_code", "social_worker"), "after_leavers"), "3");
    assert_eq!(cell(row(&rows, "role_code", "team_manager"), "after_leavers"), "1");
    assert_eq!(cell(row(&rows, "role_code", "total"), "after_leavers"), "4");

    // Every event names the import: who, which file and line, the fact's key.
    let (recorded_by, source, correlation, key): (String, String, String, String) = sqlx::query_as(
        "SELECT metadata->>'recorded_by', metadata->>'source', metadata->>'correlation_id', \
                metadata->>'idempotency_key' FROM events WHERE event_type = 'LeavingRecorded' \
          ORDER BY global_position LIMIT 1",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(recorded_by, "importer");
    assert_eq!(source, "import:facts.csv#6");
    assert_eq!(correlation, format!("import:{}", summary.sha256));
    assert!(key.starts_with("fact:"), "{key}");

    // Posts on 2018-06-30: HB-TM-01 vacant since HB-002 left on 2018-05-31,
    // HB-TM-02 held by HB-003 (permanent): 1 / 2 = 50.0%, no cover.
    let posts = app
        .report_csv("vacancies", "organisation=Harbourside&on=2018-06-30")
        .await;
    let total = row(&posts, "role_code", "total");
    assert_eq!(
        (
            cell(total, "established"),
            cell(total, "filled"),
            cell(total, "vacancy_percent")
        ),
        ("2", "1", "50.0")
    );
    // Step Up to Management 2017 on 2019-12-31: HB-001 and HB-008 enrolled
    // (HB-005's enrolment retracted by the file's last row), HB-008
    // withdrew and left on 2018-09-28: 2 members, 1 withdrawn, 1 retained.
    let cohort = app
        .report_csv(
            "retention",
            "programme=Step%20Up%20to%20Management&cohort=2017&as_at=2019-12-31",
        )
        .await;
    assert_eq!(
        (
            cell(&cohort[0], "members"),
            cell(&cohort[0], "withdrawn"),
            cell(&cohort[0], "retained")
        ),
        ("2", "1", "1")
    );
}

#[tokio::test]
async fn the_same_facts_again_append_nothing_and_a_later_extract_only_what_is_new() {
    let app = spawn_app().await;
    import(&app, "facts.csv", EXAMPLE, false).await;
    let again = import(&app, "facts.csv", EXAMPLE, false).await;
    assert_eq!(
        (
            again.facts_recorded,
            again.facts_already_recorded,
            again.events_appended
        ),
        (0, 40, 0)
    );
    assert!(again.same_file_imported_at.is_some());
    assert_eq!(events(&app).await, 44);

    // Next year's extract: every earlier row again (in another order), one
    // promotion and one new joiner.
    let mut later: Vec<&str> = EXAMPLE.lines().collect();
    later[1..].reverse();
    let later = format!(
        "{}\nchanged_role,HB-001,2020-04-01,,Assessment,practice_manager,,,,,,,,,,,,\n\
         joined,HB-009,2020-02-03,Harbourside,Assessment,asye,,,,,,,,,,,,\n",
        later.join("\n")
    );
    let summary = import(&app, "facts-2020.csv", &later, false).await;
    assert!(summary.errors.is_empty(), "{:?}", summary.errors);
    assert_eq!(
        (
            summary.facts_recorded,
            summary.facts_already_recorded,
            summary.events_appended
        ),
        (2, 40, 2)
    );
    assert_eq!(events(&app).await, 46);
}

#[tokio::test]
async fn a_person_with_a_refused_row_has_none_of_their_rows_recorded() {
    let app = spawn_app().await;
    let file = "\u{feff}fact,person,effective_on,organisation,role,reason\n\
        joined,OK-1,2016-01-04,Harbourside,social_worker,\n\
        joined,BAD-RULE,2016-01-04,Harbourside,social_worker,\n\
        left,BAD-RULE,2017-03-31,,,resigned\n\
        left,BAD-RULE,2015-06-30,,,resigned\n\
        joined,BAD-ROW,2016-01-04,Harbourside,social_worker,\n\
        changed_role,BAD-ROW,31/03/2017,,team_manager,\n\
        joined,BAD-ROLE,2016-01-04,Harbourside,chief_wizard,\n\
        left,OK-1,2018-01-31,,,retired\n";
    let summary = import(&app, "errors.csv", file, false).await;
    // BAD-RULE: a leaving before they joined is refused by the rules (the
    // leaving dated 2015 is decided first, being the earliest).
    let found: Vec<(u64, Option<&str>, Option<&str>, &str)> = summary
        .errors
        .iter()
        .map(|e| (e.line, e.column.as_deref(), e.person.as_deref(), e.error.as_str()))
        .collect();
    assert_eq!(found.len(), 3, "{:?}", summary.errors);
    assert_eq!(found[0].0, 5);
    assert_eq!(found[0].2, Some("BAD-RULE"));
    assert_eq!(found[1], (7, Some("effective_on"), Some("BAD-ROW"), "invalid_field"));
    assert_eq!(found[2], (8, Some("role"), Some("BAD-ROLE"), "unknown_role"));
    assert!(
        summary.errors[2].message.contains("team_manager"),
        "{:?}",
        summary.errors[2]
    );
    assert_eq!(
        (
            summary.people,
            summary.people_refused,
            summary.facts_recorded,
            summary.rows_not_recorded
        ),
        (4, 3, 2, 3)
    );
    // Only OK-1's two facts are in the store.
    let refs: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT payload->'Registered'->>'external_ref' FROM events WHERE event_type = 'ParticipantRegistered'",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(refs, ["OK-1"]);
    assert_eq!(events(&app).await, 2);
}

#[tokio::test]
async fn a_dry_run_checks_everything_and_appends_nothing() {
    let app = spawn_app().await;
    let dry = import(&app, "facts.csv", EXAMPLE, true).await;
    assert_eq!((dry.facts_recorded, dry.events_appended, dry.dry_run), (40, 0, true));
    assert_eq!(events(&app).await, 0);
    let imports: i64 = sqlx::query_scalar("SELECT count(*) FROM imports")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(imports, 0);
}

#[tokio::test]
async fn a_header_with_an_unknown_column_refuses_the_whole_file() {
    let app = spawn_app().await;
    let summary = import(
        &app,
        "bad.csv",
        "fact,person,effective_on,salary\njoined,A,2016-01-04,1\n",
        false,
    )
    .await;
    assert_eq!(summary.errors.len(), 1);
    assert_eq!(
        (summary.errors[0].line, summary.errors[0].error.as_str()),
        (1, "unknown_column")
    );
    assert_eq!(events(&app).await, 0);
}

/// `tenure import` with `args` against `database_url`, from `dir`.
fn tenure_import(dir: &Path, database_url: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tenure"))
        .current_dir(dir)
        .arg("import")
        .args(args)
        .env("DATABASE_URL", database_url)
        .env_remove("TENURE_DATA_DIR")
        .env("RUST_LOG", "warn")
        .output()
        .expect("tenure runs")
}

#[tokio::test]
async fn the_command_exits_0_when_everything_landed_and_2_when_a_row_was_refused() {
    let (pool, url) = fresh_database().await;
    let dir = std::env::temp_dir().join(format!("tenure-import-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/examples/facts.csv");
    let example = example.to_str().unwrap();

    let first = tenure_import(&dir, &url, &[example, "--recorded-by", "hr-team"]);
    let out = String::from_utf8_lossy(&first.stdout);
    assert_eq!(
        first.status.code(),
        Some(0),
        "{out}{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(out.contains("events appended") && out.contains("44"), "{out}");
    let by: String = sqlx::query_scalar("SELECT DISTINCT metadata->>'recorded_by' FROM events")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(by, "hr-team");

    let bad = dir.join("bad.csv");
    std::fs::write(&bad, "fact,person,effective_on\nleft,NOBODY,2017-01-01\n").unwrap();
    let refused = tenure_import(&dir, &url, &["--json", bad.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(2));
    let summary: serde_json::Value = serde_json::from_slice(&refused.stdout).unwrap();
    assert_eq!(summary["errors"][0]["line"], 2);
    assert_eq!(summary["errors"][0]["column"], "reason");
    assert_eq!(summary["errors"][0]["error"], "missing_field");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_second_joining_of_a_known_person_is_refused_on_the_person_column() {
    let app = spawn_app().await;
    import(&app, "facts.csv", EXAMPLE, false).await;
    // HB-001 joined on 2015-09-01; another extract says 2015-10-01.
    let file = "fact,person,effective_on,organisation,role\njoined,HB-001,2015-10-01,Harbourside,asye\n";
    let summary = import(&app, "other.csv", file, false).await;
    assert_eq!(summary.errors.len(), 1, "{:?}", summary.errors);
    let e = &summary.errors[0];
    assert_eq!(
        (e.line, e.column.as_deref(), e.person.as_deref(), e.error.as_str()),
        (2, Some("person"), Some("HB-001"), "already_registered")
    );
    assert_eq!(events(&app).await, 44);
}

/// `POST /api/v1/imports` with `body` as `content_type`.
/// The import is sent with a recorder token named `hr-upload`.
async fn post_import(app: &TestApp, query: &str, content_type: &str, body: String) -> (u16, serde_json::Value) {
    let bearer = app.bearer(tenure::auth::Role::Recorder, "hr-upload").await;
    let response = app
        .client
        .post(format!("{}/api/v1/imports{query}", app.address))
        .header("Content-Type", content_type)
        .header("Authorization", bearer)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn over_http_a_facts_file_is_imported_and_listed() {
    let app = spawn_app().await;
    let (status, dry) = post_import(
        &app,
        "?file_name=facts.csv&dry_run=true",
        "text/csv",
        EXAMPLE.to_string(),
    )
    .await;
    assert_eq!(status, 200, "{dry}");
    assert_eq!(
        (dry["facts_recorded"].as_u64(), dry["events_appended"].as_u64()),
        (Some(40), Some(0))
    );
    assert_eq!(events(&app).await, 0);

    let (status, summary) = post_import(
        &app,
        "?file_name=facts.csv",
        "text/csv; charset=utf-8",
        EXAMPLE.to_string(),
    )
    .await;
    assert_eq!(status, 200, "{summary}");
    assert_eq!(summary["events_appended"], 44);
    assert_eq!(summary["all_recorded"], true);
    let source: String = sqlx::query_scalar(
        "SELECT DISTINCT metadata->>'recorded_by' || ' ' || split_part(metadata->>'source', '#', 1) FROM events",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(source, "hr-upload import:facts.csv");

    let listed = app.get("/api/v1/imports").await;
    assert_eq!(listed.status, 200);
    let listed = listed.body.as_array().unwrap().clone();
    assert_eq!(listed.len(), 1, "the dry run is not listed: {listed:?}");
    assert_eq!(listed[0]["file_name"], "facts.csv");
    assert_eq!(listed[0]["events_appended"], 44);
    assert_eq!(listed[0]["recorded_by"], "hr-upload");
}

#[tokio::test]
async fn over_http_bad_requests_are_refused_with_the_json_error_body_and_nothing_recorded() {
    let app = spawn_app().await;
    let (status, body) = post_import(&app, "", "application/json", EXAMPLE.to_string()).await;
    assert_eq!((status, body["error"].as_str()), (415, Some("unsupported_media_type")));
    let (status, body) = post_import(&app, "?dryrun=true", "text/csv", EXAMPLE.to_string()).await;
    assert_eq!((status, body["field"].as_str()), (400, Some("dryrun")));
    let (status, body) = post_import(&app, "?dry_run=yes", "text/csv", EXAMPLE.to_string()).await;
    assert_eq!((status, body["field"].as_str()), (400, Some("dry_run")));
    assert_eq!(events(&app).await, 0);
}

#[tokio::test]
async fn over_http_a_file_larger_than_a_command_body_is_taken() {
    let app = spawn_app().await;
    // 1,200 people who joined and left, each leaving with a long reason:
    // about 2.4 MB, more than the 2 MiB a command body may be.
    let reason = "r".repeat(1_900);
    let mut file = String::from("fact,person,effective_on,organisation,role,reason\n");
    for i in 0..1_200 {
        file.push_str(&format!("joined,BIG-{i},2016-01-04,Bigshire,social_worker,\n"));
        file.push_str(&format!("left,BIG-{i},2017-01-31,,,{reason}\n"));
    }
    assert!(file.len() > 2 * 1024 * 1024);
    let (status, summary) = post_import(&app, "", "text/csv", file).await;
    assert_eq!(status, 200, "{summary}");
    assert_eq!(
        (summary["people"].as_u64(), summary["events_appended"].as_u64()),
        (Some(1_200), Some(2_400))
    );
}

#[tokio::test]
async fn awkward_text_is_recorded_exactly() {
    let app = spawn_app().await;
    let reason = "said \"bye\" \\ then\tleft,\nfor Zürich ✓";
    let file = format!(
        "fact,person,effective_on,organisation,role,reason\n\
         joined,ODD-1,2016-01-04,Harbourside,social_worker,\n\
         left,ODD-1,2017-01-31,,,\"{}\"\n",
        reason.replace('"', "\"\"")
    );
    let summary = import(&app, "odd.csv", &file, false).await;
    assert!(summary.errors.is_empty(), "{:?}", summary.errors);
    let stored: String = sqlx::query_scalar(
        "SELECT payload->'LeavingRecorded'->>'reason' FROM events WHERE event_type = 'LeavingRecorded'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(stored, reason);
}

#[tokio::test]
async fn a_row_repeated_in_one_file_is_recorded_once() {
    let app = spawn_app().await;
    let file = "fact,person,effective_on,organisation,role,reason\n\
        joined,TWICE-1,2016-01-04,Harbourside,social_worker,\n\
        left,TWICE-1,2017-01-31,,,resigned\n\
        joined,TWICE-1,2016-01-04,Harbourside,social_worker,\n";
    let summary = import(&app, "twice.csv", file, false).await;
    assert!(summary.errors.is_empty(), "{:?}", summary.errors);
    assert_eq!(
        (
            summary.facts_recorded,
            summary.facts_already_recorded,
            summary.events_appended
        ),
        (2, 1, 2)
    );
}
