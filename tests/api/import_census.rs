//! Importing annual census returns (issue #11, second part): the example
//! pair derives the hand-worked starts, leavings and changes, each marked
//! in its metadata with the rule and the row; importing a return again
//! appends nothing; an unmapped role code refuses the worker's rows on the
//! column; the file's kind is told by its header or chosen with `--format`
//! and `format=`.

use std::path::Path;
use std::process::Command;

use tenure::event_store::EventStore;
use tenure::import::{import_file, FactsFile, FileFormat, ImportOptions, ImportSummary};
use tenure::ladders::Ladders;

use crate::helpers::reports::{cell, row};
use crate::helpers::{fresh_database, spawn_app, TestApp};

const CENSUS_2017: &str = include_str!("../../docs/examples/census-2017.csv");
const CENSUS_2018: &str = include_str!("../../docs/examples/census-2018.csv");

async fn import(app: &TestApp, name: &str, text: &str, format: FileFormat) -> ImportSummary {
    let store = EventStore::new(app.pool.clone());
    let ladders = Ladders::new(app.pool.clone());
    let options = ImportOptions {
        recorded_by: "census-team".to_string(),
        dry_run: false,
        future_margin_days: 366,
    };
    import_file(
        &store,
        &ladders,
        name,
        FactsFile::Bytes(text.as_bytes().to_vec()),
        format,
        &options,
        &mut |_| {},
    )
    .await
    .unwrap()
}

/// One appended event as the test compares it.
type Appended = (String, String, String, String, String);

/// The events after `position`, in order: (worker, type, effective date,
/// derivation, source).
async fn appended_after(app: &TestApp, position: i64) -> Vec<Appended> {
    sqlx::query_as(
        "SELECT r.payload -> 'Registered' ->> 'external_ref', e.event_type, \
                COALESCE(e.payload -> 'Registered' ->> 'joined_on', e.payload -> 'RoleChanged' ->> 'effective_on', \
                         e.payload -> 'LeavingRecorded' ->> 'effective_on', \
                         e.payload -> 'RejoiningRecorded' ->> 'effective_on'), \
                e.metadata ->> 'derivation', e.metadata ->> 'source' \
           FROM events e \
           JOIN events r ON r.aggregate_id = e.aggregate_id AND r.event_type = 'ParticipantRegistered' \
          WHERE e.global_position > $1 ORDER BY r.payload -> 'Registered' ->> 'external_ref', e.global_position",
    )
    .bind(position)
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

async fn last_position(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT COALESCE(max(global_position), 0) FROM events")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

fn expected(events: &[(&str, &str, &str, &str, &str)]) -> Vec<Appended> {
    events
        .iter()
        .map(|(w, t, d, r, s)| {
            (
                w.to_string(),
                t.to_string(),
                d.to_string(),
                r.to_string(),
                s.to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_example_pair_derives_the_hand_worked_starts_leavings_and_changes() {
    let app = spawn_app().await;
    let first = import(&app, "census-2017.csv", CENSUS_2017, FileFormat::Auto).await;
    assert!(first.errors.is_empty(), "{:?}", first.errors);
    assert_eq!((first.rows_read, first.people, first.events_appended), (9, 9, 10));
    // 2017: everyone is new, joined on their RoleStartDate; SW…09 also
    // left in the year (2017-06-30).
    let s17 = "import:census-2017.csv#";
    let joined = "census:joined_on_start_date";
    let joined_2017 = expected(&[
        (
            "SW0000000001",
            "ParticipantRegistered",
            "2012-04-02",
            joined,
            &format!("{s17}2"),
        ),
        (
            "SW0000000002",
            "ParticipantRegistered",
            "2010-01-04",
            joined,
            &format!("{s17}3"),
        ),
        (
            "SW0000000003",
            "ParticipantRegistered",
            "2015-09-01",
            joined,
            &format!("{s17}4"),
        ),
        (
            "SW0000000004",
            "ParticipantRegistered",
            "2017-02-06",
            joined,
            &format!("{s17}5"),
        ),
        (
            "SW0000000005",
            "ParticipantRegistered",
            "2014-06-02",
            joined,
            &format!("{s17}6"),
        ),
        (
            "SW0000000006",
            "ParticipantRegistered",
            "2016-11-07",
            joined,
            &format!("{s17}7"),
        ),
        (
            "SW0000000007",
            "ParticipantRegistered",
            "2013-01-07",
            joined,
            &format!("{s17}8"),
        ),
        (
            "SW0000000008",
            "ParticipantRegistered",
            "2009-09-01",
            joined,
            &format!("{s17}9"),
        ),
        (
            "SW0000000009",
            "ParticipantRegistered",
            "2015-03-02",
            joined,
            &format!("{s17}10"),
        ),
        (
            "SW0000000009",
            "LeavingRecorded",
            "2017-06-30",
            "census:left_on_leaving_date",
            &format!("{s17}10"),
        ),
    ]);
    assert_eq!(appended_after(&app, 0).await, joined_2017);

    let before_2018 = last_position(&app).await;
    let second = import(&app, "census-2018.csv", CENSUS_2018, FileFormat::Auto).await;
    assert!(second.errors.is_empty(), "{:?}", second.errors);
    let s18 = "import:census-2018.csv#";
    // 2018: SW…01 promoted to senior practitioner (no date: the collection
    // date); SW…02 to middle manager from its RoleStartDate; SW…03 down to
    // 0.6 FTE (collection date); SW…05 left 2018-03-31; SW…07 is not in
    // the return: left on the collection date, from no row; SW…10 started
    // 2018-01-08; SW…11 has no start date: the first day of the year.
    // SW…04 (agency), 06 and 08 are unchanged, SW…09 had left already.
    let changes_2018 = expected(&[
        (
            "SW0000000001",
            "RoleChanged",
            "2018-09-30",
            "census:changed_at_collection_date",
            &format!("{s18}2"),
        ),
        (
            "SW0000000002",
            "RoleChanged",
            "2018-04-01",
            "census:changed_on_start_date",
            &format!("{s18}3"),
        ),
        (
            "SW0000000003",
            "RoleChanged",
            "2018-09-30",
            "census:changed_at_collection_date",
            &format!("{s18}4"),
        ),
        (
            "SW0000000005",
            "LeavingRecorded",
            "2018-03-31",
            "census:left_on_leaving_date",
            &format!("{s18}6"),
        ),
        (
            "SW0000000007",
            "LeavingRecorded",
            "2018-09-30",
            "census:left_absent_from_return",
            "import:census-2018.csv",
        ),
        (
            "SW0000000010",
            "ParticipantRegistered",
            "2018-01-08",
            joined,
            &format!("{s18}9"),
        ),
        (
            "SW0000000011",
            "ParticipantRegistered",
            "2017-10-01",
            "census:joined_at_year_start",
            &format!("{s18}10"),
        ),
    ]);
    assert_eq!(appended_after(&app, before_2018).await, changes_2018);
    assert_eq!((second.rows_read, second.people, second.events_appended), (9, 9, 7));

    // What the changes say: the role and FTE the return gives, the team
    // and terms the return cannot know left as they were.
    let (role, fte, basis): (String, Option<f64>, String) = sqlx::query_as(
        "SELECT payload -> 'RoleChanged' -> 'role' ->> 'code', (payload -> 'RoleChanged' ->> 'fte')::float8, \
                payload -> 'RoleChanged' ->> 'basis' \
           FROM events WHERE event_type = 'RoleChanged' AND metadata ->> 'source' = 'import:census-2018.csv#4'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        (role.as_str(), fte, basis.as_str()),
        ("social_worker", Some(0.6), "permanent")
    );
    let reasons: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT payload -> 'LeavingRecorded' ->> 'reason', payload -> 'LeavingRecorded' ->> 'destination' \
           FROM events WHERE event_type = 'LeavingRecorded' ORDER BY global_position",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        reasons,
        [
            (
                "resignation".to_string(),
                Some("agency or consultancy in social work in England".to_string())
            ),
            (
                "resignation".to_string(),
                Some("social worker role in a different local authority in England".to_string())
            ),
            ("not in the census return".to_string(), None),
        ]
    );

    // The README's report: leavers from Northshire in the year to
    // 30 September 2018: SW…05 (senior practitioner) and SW…07 (social
    // worker); over both years SW…09 (social worker) as well.
    let rows = app
        .report_csv("leavers", "organisation=Northshire&from=2017-10-01&to=2018-09-30")
        .await;
    assert_eq!(
        cell(row(&rows, "role_code", "senior_practitioner"), "after_leavers"),
        "1"
    );
    assert_eq!(cell(row(&rows, "role_code", "social_worker"), "after_leavers"), "1");
    assert_eq!(cell(row(&rows, "role_code", "total"), "after_leavers"), "2");
    let both = app
        .report_csv("leavers", "organisation=Northshire&from=2016-10-01&to=2018-09-30")
        .await;
    assert_eq!(cell(row(&both, "role_code", "social_worker"), "after_leavers"), "2");
    assert_eq!(cell(row(&both, "role_code", "total"), "after_leavers"), "3");
}

#[tokio::test]
async fn a_return_imported_again_appends_nothing_and_an_earlier_one_after_a_later_nothing_either() {
    let app = spawn_app().await;
    import(&app, "census-2017.csv", CENSUS_2017, FileFormat::Auto).await;
    let again = import(&app, "census-2017.csv", CENSUS_2017, FileFormat::Auto).await;
    assert!(again.errors.is_empty(), "{:?}", again.errors);
    assert_eq!((again.facts_recorded, again.events_appended), (0, 0));
    assert!(again.same_file_imported_at.is_some());
    import(&app, "census-2018.csv", CENSUS_2018, FileFormat::Auto).await;
    let events = last_position(&app).await;
    let again = import(&app, "census-2018.csv", CENSUS_2018, FileFormat::Auto).await;
    assert_eq!((again.facts_recorded, again.events_appended), (0, 0));
    // The 2017 return once more, after 2018's: the store knows later
    // spells for everyone it names, and 2018's starters began after its
    // collection date.
    let late = import(&app, "census-2017-again.csv", CENSUS_2017, FileFormat::Auto).await;
    assert!(late.errors.is_empty(), "{:?}", late.errors);
    assert_eq!((late.facts_recorded, late.events_appended), (0, 0));
    assert_eq!(last_position(&app).await, events);
}

#[tokio::test]
async fn an_unmapped_role_code_refuses_the_row_on_its_column_and_nothing_of_that_worker_lands() {
    let app = spawn_app().await;
    let header = CENSUS_2017.lines().next().unwrap();
    let file = format!(
        "{header}\n\
         2017,Northshire,SW0000000101,0,1,,,,,5,2014-01-06,,,\n\
         2017,Northshire,SW0000000102,0,1,,,,,5,2015-01-05,2017-03-31,,1\n\
         2017,Northshire,SW0000000102,0,1,,,,,9,2017-05-02,,,\n"
    );
    let summary = import(&app, "bad-role.csv", &file, FileFormat::Auto).await;
    assert_eq!(summary.errors.len(), 1, "{:?}", summary.errors);
    let e = &summary.errors[0];
    assert_eq!(
        (e.line, e.column.as_deref(), e.person.as_deref(), e.error.as_str()),
        (4, Some("OrgRole"), Some("SW0000000102"), "unknown_role")
    );
    assert_eq!(
        (summary.people, summary.people_refused, summary.rows_not_recorded),
        (2, 1, 1)
    );
    assert!(!summary.all_recorded);
    let refs: Vec<String> = sqlx::query_scalar(
        "SELECT payload -> 'Registered' ->> 'external_ref' FROM events WHERE event_type = 'ParticipantRegistered'",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(refs, ["SW0000000101"]);
    assert_eq!(last_position(&app).await, 1);
}

#[tokio::test]
async fn a_refusal_by_the_rules_names_the_returns_column() {
    let app = spawn_app().await;
    // A facts file registered SW…201 as an inspector (off the ladder): a
    // move to a case holder has no kind the ladder can tell, so the
    // derived change is refused, on the role's column in the return.
    let facts = "fact,person,effective_on,organisation,role\njoined,SW0000000201,2015-01-05,Northshire,inspector\n";
    import(&app, "facts.csv", facts, FileFormat::Auto).await;
    let header = CENSUS_2017.lines().next().unwrap();
    let file = format!("{header}\n2017,Northshire,SW0000000201,0,1,,,,,5,2015-01-05,,,\n");
    let summary = import(&app, "census.csv", &file, FileFormat::Auto).await;
    assert_eq!(summary.errors.len(), 1, "{:?}", summary.errors);
    let e = &summary.errors[0];
    assert_eq!(
        (e.line, e.column.as_deref(), e.person.as_deref()),
        (2, Some("OrgRole"), Some("SW0000000201"))
    );
    assert_eq!((summary.people_refused, summary.rows_not_recorded), (1, 0));
    assert_eq!(last_position(&app).await, 1);
}

/// `tenure import` with `args` against `database_url`.
fn tenure_import(database_url: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tenure"))
        .arg("import")
        .args(args)
        .env("DATABASE_URL", database_url)
        .env_remove("TENURE_DATA_DIR")
        .env("RUST_LOG", "warn")
        .output()
        .expect("tenure runs")
}

#[tokio::test]
async fn the_command_reads_a_return_by_its_header_or_as_told() {
    let (pool, url) = fresh_database().await;
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/examples/census-2017.csv");
    let example = example.to_str().unwrap();
    // Told it is a facts file, the return's header is refused, nothing lands.
    let as_facts = tenure_import(&url, &["--json", "--format", "facts", example]);
    assert_eq!(as_facts.status.code(), Some(2));
    let summary: serde_json::Value = serde_json::from_slice(&as_facts.stdout).unwrap();
    assert_eq!(summary["errors"][0]["line"], 1);
    assert_eq!(summary["errors"][0]["error"], "unknown_column");
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(events, 0);

    let told = tenure_import(&url, &["--json", "--format", "census", "--dry-run", example]);
    assert_eq!(told.status.code(), Some(0), "{}", String::from_utf8_lossy(&told.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&told.stdout).unwrap();
    assert_eq!(
        (summary["facts_recorded"].as_u64(), summary["events_appended"].as_u64()),
        (Some(10), Some(0))
    );

    let by_header = tenure_import(&url, &["--json", example]);
    assert_eq!(by_header.status.code(), Some(0));
    let summary: serde_json::Value = serde_json::from_slice(&by_header.stdout).unwrap();
    assert_eq!(summary["events_appended"], 10);
}

#[tokio::test]
async fn over_http_format_chooses_how_the_body_is_read() {
    let app = spawn_app().await;
    let post = |query: &'static str, body: &'static str| {
        let client = app.client.clone();
        let url = format!("{}/api/v1/imports{query}", app.address);
        async move {
            let response = client
                .post(url)
                .header("Content-Type", "text/csv")
                .body(body)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            (status, response.json::<serde_json::Value>().await.unwrap())
        }
    };
    let (status, body) = post("?format=returns", CENSUS_2017).await;
    assert_eq!((status, body["field"].as_str()), (400, Some("format")));
    // A facts file read as a census return lacks the return's columns.
    let facts = "fact,person,effective_on,organisation,role\njoined,A-1,2016-01-04,Northshire,social_worker\n";
    let (status, body) = post("?format=census", facts).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["errors"][0]["error"], "unknown_column");
    assert_eq!(body["events_appended"], 0);
    let (status, body) = post("?format=census&file_name=census-2017.csv", CENSUS_2017).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["events_appended"], 10);
    let (status, body) = post("?file_name=census-2018.csv", CENSUS_2018).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["events_appended"], 7);
}

#[tokio::test]
async fn a_return_is_compared_with_history_from_the_api_or_a_facts_file() {
    let app = spawn_app().await;
    // SW…301 registered over HTTP (full time), SW…302 and SW…303 from a
    // facts file (an ASYE, and a social worker the return leaves out).
    app.register("SW0000000301", "Northshire", "social_worker", "2016-01-04")
        .await;
    let facts = "fact,person,effective_on,organisation,role\n\
                 joined,SW0000000302,2017-09-04,Northshire,asye\n\
                 joined,SW0000000303,2015-01-05,Northshire,social_worker\n";
    import(&app, "facts.csv", facts, FileFormat::Auto).await;
    let before = last_position(&app).await;
    let header = CENSUS_2017.lines().next().unwrap();
    let file = format!(
        "{header}\n\
         2018,Northshire,SW0000000301,0,0.8,,,,,5,2016-01-04,,,\n\
         2018,Northshire,SW0000000302,0,1,,,,,5,2017-09-04,,,\n"
    );
    let summary = import(&app, "census-2018.csv", &file, FileFormat::Auto).await;
    assert!(summary.errors.is_empty(), "{:?}", summary.errors);
    // Only SW…301's FTE differs; an ASYE is a case holder; SW…303 has no
    // fact from a census return, so their absence ends nothing.
    assert_eq!(
        appended_after(&app, before).await,
        expected(&[(
            "SW0000000301",
            "RoleChanged",
            "2018-09-30",
            "census:changed_at_collection_date",
            "import:census-2018.csv#2",
        )])
    );
}

#[tokio::test]
async fn a_return_ends_only_its_own_organisations_absent_workers() {
    let app = spawn_app().await;
    let header = CENSUS_2017.lines().next().unwrap();
    let southvale = format!("{header}\n2017,Southvale,SW0000000401,0,1,,,,,5,2014-01-06,,,\n");
    import(&app, "southvale-2017.csv", &southvale, FileFormat::Auto).await;
    import(&app, "census-2017.csv", CENSUS_2017, FileFormat::Auto).await;
    let before = last_position(&app).await;
    let summary = import(&app, "census-2018.csv", CENSUS_2018, FileFormat::Auto).await;
    assert_eq!(summary.events_appended, 7);
    let ended: Vec<String> = sqlx::query_scalar(
        "SELECT r.payload -> 'Registered' ->> 'external_ref' FROM events e \
           JOIN events r ON r.aggregate_id = e.aggregate_id AND r.event_type = 'ParticipantRegistered' \
          WHERE e.global_position > $1 AND e.metadata ->> 'derivation' = 'census:left_absent_from_return'",
    )
    .bind(before)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(ended, ["SW0000000007"]);
}
