//! Importing cohort and post facts and retractions (issue #11): a small
//! history at Seaview (three team manager posts, one ASYE cohort, five
//! people) lands and gives the hand-worked figures, whatever the order of
//! its rows; importing it again appends nothing; a retraction row
//! withdraws an earlier fact (the original event stays) and the figures
//! change as worked by hand; retracting a fact never recorded is refused;
//! a refused enrolment refuses the person's other rows; a rehire into a
//! post by reference lands (the same facts sent one by one over HTTP:
//! `import_vs_http.rs`).

use tenure::event_store::EventStore;
use tenure::import::{import_facts, FactsFile, ImportOptions, ImportSummary};
use tenure::ladders::Ladders;

use crate::helpers::reports::{cell, row, Row};
use crate::helpers::{spawn_app, TestApp};

const HEADER: &str = "fact,person,effective_on,organisation,role,basis,reason,programme,cohort,ends_on,post,title,\
                      retracts,retraction_reason";

/// Seaview's history, in an order no one would choose: the disestablishment
/// and an enrolment come before the post and cohort they are about, and an
/// enrolment before its person joined. Lines 2–19.
pub(crate) const SEAVIEW: [&str; 18] = [
    "post_disestablished,,2019-01-01,Seaview,,,,,,,SV-TM-3,,,",
    "enrolled,SV-3,2017-09-04,,,,,ASYE,2017 intake,,,,,",
    "post_established,,2015-01-01,Seaview,team_manager,,,,,,SV-TM-1,Team manager North,,",
    "post_established,,2015-01-01,Seaview,team_manager,,,,,,SV-TM-2,Team manager South,,",
    "post_established,,2015-01-01,Seaview,team_manager,,,,,,SV-TM-3,Team manager East,,",
    "cohort_opened,,2017-09-01,,,,,ASYE,2017 intake,2018-08-31,,,,",
    "joined,SV-1,2016-01-04,Seaview,team_manager,,,,,,SV-TM-1,,,",
    "joined,SV-2,2016-01-04,Seaview,social_worker,,,,,,,,,",
    "post_filled,SV-2,2017-03-01,Seaview,,interim,,,,,SV-TM-2,,,",
    "joined,SV-3,2017-09-04,Seaview,asye,,,,,,,,,",
    "joined,SV-4,2017-09-04,Seaview,asye,,,,,,,,,",
    "joined,SV-5,2017-09-04,Seaview,asye,,,,,,,,,",
    "enrolled,SV-4,2017-09-04,,,,,ASYE,2017 intake,,,,,",
    "enrolled,SV-5,2017-09-04,,,,,ASYE,2017 intake,,,,,",
    "completed,SV-3,2018-08-31,,,,,ASYE,2017 intake,,,,,",
    "withdrawn,SV-4,2018-01-31,,,,caring responsibilities,ASYE,2017 intake,,,,,",
    "left,SV-5,2018-03-30,,,,resigned,,,,,,,",
    "post_vacated,SV-2,2018-10-01,Seaview,,,,,,,SV-TM-2,,,",
];

pub(crate) fn file(rows: &[&str]) -> String {
    let mut text = format!("{HEADER}\n");
    for r in rows {
        text.push_str(r);
        text.push('\n');
    }
    text
}

pub(crate) async fn import(app: &TestApp, name: &str, text: &str) -> ImportSummary {
    let options = ImportOptions {
        recorded_by: "importer".to_string(),
        dry_run: false,
        future_margin_days: 366,
    };
    import_facts(
        &EventStore::new(app.pool.clone()),
        &Ladders::new(app.pool.clone()),
        name,
        FactsFile::Bytes(text.as_bytes().to_vec()),
        &options,
        &mut |_| {},
    )
    .await
    .unwrap()
}

async fn count(app: &TestApp, event_type: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = $1")
        .bind(event_type)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

fn errors(summary: &ImportSummary) -> Vec<(u64, Option<&str>, Option<&str>, &str)> {
    summary
        .errors
        .iter()
        .map(|e| (e.line, e.column.as_deref(), e.person.as_deref(), e.error.as_str()))
        .collect()
}

/// The figures the tests check: vacancies on two days, the cohort's
/// retention at the end of 2018, each as CSV rows.
async fn figures(app: &TestApp) -> [Vec<Row>; 3] {
    [
        app.report_csv("vacancies", "organisation=Seaview&on=2018-06-30").await,
        app.report_csv("vacancies", "organisation=Seaview&on=2019-06-30").await,
        app.report_csv("retention", "programme=ASYE&cohort=2017%20intake&as_at=2018-12-31")
            .await,
    ]
}

fn vacancy(rows: &[Row]) -> (&str, &str, &str, &str, &str) {
    let total = row(rows, "role_code", "total");
    (
        cell(total, "established"),
        cell(total, "filled"),
        cell(total, "vacant"),
        cell(total, "vacancy_percent"),
        cell(total, "covered"),
    )
}

#[tokio::test]
async fn cohort_and_post_rows_land_in_any_order_and_give_the_hand_worked_figures() {
    let app = spawn_app().await;
    let summary = import(&app, "seaview.csv", &file(&SEAVIEW)).await;
    assert!(summary.errors.is_empty(), "{:?}", summary.errors);
    // 18 rows, 18 facts. Events: 3 posts established + 1 disestablished,
    // 1 cohort opened; SV-1 registered into SV-TM-1 (2: their event and the
    // post's fill); SV-2 registered (1), filled SV-TM-2 (2), vacated it (2);
    // SV-3, SV-4, SV-5 each registered and enrolled (6), then one
    // completion, one withdrawal, one leaving (3): 4 + 1 + 2 + 5 + 6 + 3 = 21.
    assert_eq!(
        (
            summary.rows_read,
            summary.people,
            summary.facts_recorded,
            summary.events_appended
        ),
        (18, 5, 18, 21)
    );
    let [mid_2018, mid_2019, retention] = figures(&app).await;
    // 2018-06-30: SV-TM-1 held by SV-1 (permanent), SV-TM-2 by SV-2
    // (interim: cover), SV-TM-3 vacant: 1 / 3 = 33.3%, 1 covered.
    assert_eq!(vacancy(&mid_2018), ("3", "2", "1", "33.3", "1"));
    // 2019-06-30: SV-TM-3 disestablished on 2019-01-01, SV-2 left SV-TM-2
    // on 2018-10-01: 2 established, SV-TM-1 filled, 1 / 2 = 50.0%.
    assert_eq!(vacancy(&mid_2019), ("2", "1", "1", "50.0", "0"));
    // The 2017 intake at the end of 2018: SV-3, SV-4, SV-5 enrolled; SV-5
    // left on 2018-03-30; SV-4 withdrew but is employed (decision 7):
    // retained 2 / 3 = 66.7%.
    let r = &retention[0];
    assert_eq!(
        (
            cell(r, "members"),
            cell(r, "retained"),
            cell(r, "withdrawn"),
            cell(r, "retention_percent")
        ),
        ("3", "2", "1", "66.7")
    );

    // Every event names the import, the row and the fact's key.
    let (source, key): (String, String) = sqlx::query_as(
        "SELECT metadata->>'source', metadata->>'idempotency_key' FROM events WHERE event_type = 'CohortOpened'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(source, "import:seaview.csv#7");
    assert!(key.starts_with("fact:"), "{key}");
    let reference: String = sqlx::query_scalar(
        "SELECT payload->'Established'->>'reference' FROM events WHERE event_type = 'PostEstablished' \
          ORDER BY global_position LIMIT 1",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(reference, "SV-TM-1");

    // The rows in file order (then reversed) in another store: the same figures.
    let other = spawn_app().await;
    let mut reversed = SEAVIEW.to_vec();
    reversed.reverse();
    let again = import(&other, "seaview-reversed.csv", &file(&reversed)).await;
    assert!(again.errors.is_empty(), "{:?}", again.errors);
    // The same figures; only the cohort's id (new in each store) differs.
    let without_id = |rows: Vec<Row>| -> Vec<Row> {
        rows.into_iter()
            .map(|mut r| {
                r.remove("cohort_id");
                r
            })
            .collect()
    };
    let [a, b, c] = figures(&other).await;
    assert_eq!([a, b, without_id(c)], [mid_2018, mid_2019, without_id(retention)]);
}

#[tokio::test]
async fn the_same_file_again_appends_nothing_and_a_repeated_entity_row_counts_once() {
    let app = spawn_app().await;
    import(&app, "seaview.csv", &file(&SEAVIEW)).await;
    let before = app.event_count().await;
    let again = import(&app, "seaview.csv", &file(&SEAVIEW)).await;
    assert!(again.errors.is_empty(), "{:?}", again.errors);
    assert_eq!(
        (
            again.facts_recorded,
            again.facts_already_recorded,
            again.events_appended
        ),
        (0, 18, 0)
    );
    assert_eq!(app.event_count().await, before);

    // A cohort of the same name with other dates is another opening: refused.
    let clash = import(
        &app,
        "clash.csv",
        &file(&["cohort_opened,,2017-10-01,,,,,ASYE,2017 intake,,,,,"]),
    )
    .await;
    assert_eq!(errors(&clash), [(2, Some("cohort"), None, "already_opened")]);
    // A post reference Seaview already uses, for another post: refused.
    let clash = import(
        &app,
        "clash.csv",
        &file(&["post_established,,2016-01-01,Seaview,team_manager,,,,,,SV-TM-1,Another,,"]),
    )
    .await;
    assert_eq!(errors(&clash), [(2, Some("post"), None, "post_reference_taken")]);
    assert_eq!(app.event_count().await, before);
}

#[tokio::test]
async fn a_retraction_row_withdraws_the_fact_it_repeats_and_the_figures_change() {
    let app = spawn_app().await;
    import(&app, "seaview.csv", &file(&SEAVIEW)).await;
    let before = app.event_count().await;
    let corrections = file(&[
        "retraction,SV-5,2018-03-30,,,,resigned,,,,,,left,recorded against the wrong person",
        "retraction,SV-4,2018-01-31,,,,caring responsibilities,ASYE,2017 intake,,,,withdrawn,entered in error",
    ]);
    let summary = import(&app, "corrections.csv", &corrections).await;
    assert!(summary.errors.is_empty(), "{:?}", summary.errors);
    assert_eq!((summary.facts_recorded, summary.events_appended), (2, 2));
    // Nothing erased: the leaving and the withdrawal are still there, each
    // with a retraction after it.
    assert_eq!(count(&app, "LeavingRecorded").await, 1);
    assert_eq!(count(&app, "WithdrawalRecorded").await, 1);
    assert_eq!(count(&app, "ParticipantEventRetracted").await, 1);
    assert_eq!(count(&app, "CohortEventRetracted").await, 1);
    assert_eq!(app.event_count().await, before + 2);
    // SV-5 never left, SV-4 never withdrew: retained 3 / 3 = 100.0%, none withdrawn.
    let [_, _, retention] = figures(&app).await;
    let r = &retention[0];
    assert_eq!(
        (
            cell(r, "members"),
            cell(r, "retained"),
            cell(r, "withdrawn"),
            cell(r, "retention_percent")
        ),
        ("3", "3", "0", "100.0")
    );
    // The corrections again: already recorded, nothing appended.
    let again = import(&app, "corrections.csv", &corrections).await;
    assert_eq!(
        (again.facts_already_recorded, again.events_appended, again.errors.len()),
        (2, 0, 0)
    );

    // A corrected leaving in the same file as the retraction of the wrong
    // one: the retraction is decided first, so the new date stands.
    let corrected = import(
        &app,
        "leaving.csv",
        &file(&[
            "left,SV-1,2019-05-31,,,,retired,,,,,,,",
            "retraction,SV-1,2019-04-30,,,,retired,,,,,,left,wrong date",
        ]),
    )
    .await;
    // SV-1's leaving on 2019-04-30 was never recorded: refused, and the
    // person's other row with it.
    assert_eq!(
        errors(&corrected),
        [(3, Some("retracts"), Some("SV-1"), "fact_not_recorded")]
    );
    assert_eq!((corrected.rows_not_recorded, corrected.events_appended), (1, 0));
    import(&app, "leaving.csv", &file(&["left,SV-1,2019-04-30,,,,retired,,,,,,,"])).await;
    let corrected = import(
        &app,
        "leaving-corrected.csv",
        &file(&[
            "left,SV-1,2019-05-31,,,,retired,,,,,,,",
            "retraction,SV-1,2019-04-30,,,,retired,,,,,,left,wrong date",
        ]),
    )
    .await;
    assert!(corrected.errors.is_empty(), "{:?}", corrected.errors);
    let leavings: Vec<String> = sqlx::query_scalar(
        "SELECT payload->'LeavingRecorded'->>'effective_on' FROM events WHERE event_type = 'LeavingRecorded' \
          ORDER BY global_position",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(leavings, ["2018-03-30", "2019-04-30", "2019-05-31"]);
}

#[tokio::test]
async fn a_refused_enrolment_refuses_the_persons_other_rows() {
    let app = spawn_app().await;
    import(&app, "seaview.csv", &file(&SEAVIEW)).await;
    let before = app.event_count().await;
    let summary = import(
        &app,
        "new.csv",
        &file(&[
            "joined,SV-7,2019-01-07,Seaview,asye,,,,,,,,,",
            // Enrolled before joining: the API's rule, on the date.
            "enrolled,SV-7,2018-12-03,,,,,ASYE,2017 intake,,,,,",
            "joined,SV-8,2019-01-07,Seaview,asye,,,,,,,,,",
            "enrolled,SV-8,2019-01-07,,,,,ASYE,2019 intake,,,,,",
            "joined,SV-9,2019-01-07,Seaview,asye,,,,,,,,,",
        ]),
    )
    .await;
    assert_eq!(
        errors(&summary),
        [
            (3, Some("effective_on"), Some("SV-7"), "participant_not_employed"),
            (5, Some("cohort"), Some("SV-8"), "unknown_cohort"),
        ]
    );
    assert!(
        summary.errors[1].message.contains("2019 intake"),
        "{:?}",
        summary.errors[1]
    );
    // SV-9 alone landed: one registration.
    assert_eq!(
        (
            summary.people_refused,
            summary.rows_not_recorded,
            summary.events_appended
        ),
        (2, 2, 1)
    );
    assert_eq!(app.event_count().await, before + 1);
    let refs: Vec<String> = sqlx::query_scalar(
        "SELECT payload->'Registered'->>'external_ref' FROM events \
          WHERE event_type = 'ParticipantRegistered' AND metadata->>'source' LIKE 'import:new.csv#%'",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(refs, ["SV-9"]);
}

#[tokio::test]
async fn a_rehire_takes_up_a_post_named_by_its_reference() {
    let app = spawn_app().await;
    import(&app, "seaview.csv", &file(&SEAVIEW)).await;
    let summary = import(
        &app,
        "rehire.csv",
        &file(&[
            "rejoined,SV-5,2019-02-04,Seaview,team_manager,,,,,,SV-TM-2,,,",
            "changed_role,SV-1,2019-03-01,,team_manager,,,,,,SV-TM-3,,,",
        ]),
    )
    .await;
    // SV-TM-3 was disestablished on 2019-01-01: SV-1 cannot move into it.
    assert_eq!(
        errors(&summary),
        [(3, Some("effective_on"), Some("SV-1"), "post_disestablished")]
    );
    // SV-5 (left 2018-03-30) rejoined into SV-TM-2: both posts filled on
    // 2019-06-30, 0 / 2 = 0.0%.
    let [_, mid_2019, _] = figures(&app).await;
    assert_eq!(vacancy(&mid_2019), ("2", "2", "0", "0.0", "0"));
}

#[tokio::test]
async fn a_dry_run_of_cohort_and_post_rows_decides_them_as_the_import_would_and_appends_nothing() {
    let app = spawn_app().await;
    let options = ImportOptions {
        recorded_by: "importer".to_string(),
        dry_run: true,
        future_margin_days: 366,
    };
    let dry = import_facts(
        &EventStore::new(app.pool.clone()),
        &Ladders::new(app.pool.clone()),
        "seaview.csv",
        FactsFile::Bytes(file(&SEAVIEW).into_bytes()),
        &options,
        &mut |_| {},
    )
    .await
    .unwrap();
    // The enrolments find the cohort and the fills the posts the file
    // opens and establishes, though none is in the store.
    assert!(dry.errors.is_empty(), "{:?}", dry.errors);
    assert_eq!((dry.facts_recorded, dry.events_appended), (18, 0));
    assert_eq!(app.event_count().await, 0);
}

#[tokio::test]
async fn a_disestablishment_can_be_retracted_and_an_establishment_cannot() {
    let app = spawn_app().await;
    import(&app, "seaview.csv", &file(&SEAVIEW)).await;
    let summary = import(
        &app,
        "posts.csv",
        &file(&[
            "retraction,,2019-01-01,Seaview,,,,,,,SV-TM-3,,post_disestablished,still in the structure",
            "retraction,,2015-01-01,Seaview,team_manager,,,,,,SV-TM-1,Team manager North,post_established,typo",
            "retraction,,2015-01-01,Seaview,team_manager,,,,,,SV-TM-9,Team manager West,post_established,typo",
        ]),
    )
    .await;
    assert_eq!(
        errors(&summary),
        [
            (3, Some("retracts"), None, "retraction_not_retractable"),
            (4, Some("post"), None, "unknown_post"),
        ]
    );
    assert_eq!((summary.facts_recorded, summary.events_appended), (1, 1));
    assert_eq!(count(&app, "PostDisestablished").await, 1);
    // 2019-06-30: SV-TM-3 still established and vacant, SV-TM-2 vacant,
    // SV-TM-1 filled: 2 / 3 = 66.7%.
    let [_, mid_2019, _] = figures(&app).await;
    assert_eq!(vacancy(&mid_2019), ("3", "1", "2", "66.7", "0"));
}

#[tokio::test]
async fn the_name_lookups_can_use_their_indexes() {
    let (pool, _) = crate::helpers::fresh_database().await;
    let mut conn = pool.acquire().await.unwrap();
    // Sequential scans priced out, as for the enrolment lookups: the plan
    // shows whether the partial expression indexes match the queries.
    sqlx::query("SET enable_seqscan = off")
        .execute(&mut *conn)
        .await
        .unwrap();
    for (sql, index) in [
        (tenure::import::facts::COHORTS_NAMED, "events_cohort_name_idx"),
        (tenure::import::facts::POSTS_NAMED, "events_post_reference_idx"),
    ] {
        let sql = sql.replace("$1", "ARRAY['a']").replace("$2", "ARRAY['b']");
        let plan: Vec<String> = sqlx::query_scalar(&format!("EXPLAIN {sql}"))
            .fetch_all(&mut *conn)
            .await
            .unwrap();
        let plan = plan.join("\n");
        assert!(plan.contains(index), "{sql}\n{plan}");
    }
}
