//! How an import reaches the store: chunks decided without the append
//! lock are re-checked under it (a change landing in between makes the
//! chunk be decided again, never appended on what it replaced), and a
//! file split into parts on disk imports exactly as the same file read
//! whole.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use aggregates::cohort::{Cohort, CohortCommand};
use aggregates::participant::{Participant, ParticipantCommand};
use aggregates::{decisions, CommandContext};
use tenure::event_store::{new_events, Commit, EventStore, Metadata, StreamWrite};
use tenure::import::{import_facts, FactsFile, ImportOptions};
use tenure::ladders::Ladders;

use crate::helpers::fresh_database;

fn options() -> ImportOptions {
    ImportOptions {
        recorded_by: "importer".to_string(),
        dry_run: false,
        future_margin_days: 366,
    }
}

async fn import(store: &EventStore, name: &str, text: &str) -> tenure::import::ImportSummary {
    let ladders = Ladders::new(store.pool().clone());
    import_facts(
        store,
        &ladders,
        name,
        FactsFile::Bytes(text.as_bytes().to_vec()),
        &options(),
        &mut |_| {},
    )
    .await
    .unwrap()
}

/// Waits until some session waits for an advisory lock (the append lock).
async fn until_someone_waits_for_the_append_lock(pool: &sqlx::PgPool) {
    let started = Instant::now();
    loop {
        let waiting: i64 =
            sqlx::query_scalar("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
                .fetch_one(pool)
                .await
                .unwrap();
        if waiting > 0 {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the import never waited for the lock"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_leaving_recorded_between_a_chunks_decision_and_its_append_makes_the_chunk_decide_again() {
    let (pool, _) = fresh_database().await;
    let store = EventStore::new(pool.clone());
    let joined = import(
        &store,
        "joiners.csv",
        "fact,person,effective_on,organisation,role\njoined,P1,2015-01-05,Harbourside,social_worker\n",
    )
    .await;
    assert_eq!(joined.events_appended, 1);
    let id = store.participants_by_external_ref(&["P1"]).await.unwrap()["P1"];

    // Hold the append lock, so the import decides its chunk (P1, still
    // employed, promoted in 2019) and then waits to append it.
    let locked = store.holding_append_lock().await.unwrap();
    let importing = tokio::spawn({
        let store = store.clone();
        async move {
            import(
                &store,
                "promotions.csv",
                "fact,person,effective_on,role\nchanged_role,P1,2019-01-01,team_manager\n",
            )
            .await
        }
    });
    until_someone_waits_for_the_append_lock(&pool).await;

    // Meanwhile P1's leaving in 2018 is recorded.
    let p1 = locked.load::<Participant>(&id.to_string()).await.unwrap();
    let leaving = decisions::decide_for_participant(
        &p1.aggregate,
        ParticipantCommand::RecordLeaving {
            effective_on: "2018-06-30".parse().unwrap(),
            reason: "resignation".to_string(),
            destination: None,
        },
        &decisions::Posts::new(),
        &[],
        &context(),
    )
    .unwrap()
    .participant;
    let commit = test_commit(StreamWrite {
        aggregate_type: "participant",
        aggregate_id: id.to_string(),
        expected_version: p1.version,
        events: new_events(&leaving).unwrap(),
    });
    locked.append_all(&[commit]).await.unwrap();

    // Decided again on P1 as they now are: no longer employed in 2019.
    let promoted = importing.await.unwrap();
    assert_eq!(promoted.events_appended, 0, "{promoted:?}");
    assert_eq!(promoted.rows_refused, 1);
    assert_eq!(promoted.errors[0].line, 2);
    assert_eq!(promoted.errors[0].person.as_deref(), Some("P1"));
    let types: Vec<String> = sqlx::query_scalar("SELECT event_type FROM events ORDER BY global_position")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(types, ["ParticipantRegistered", "LeavingRecorded"]);
}

#[tokio::test]
async fn an_enrolment_recorded_between_a_chunks_decision_and_its_append_makes_a_leaving_decide_again() {
    let (pool, _) = fresh_database().await;
    let store = EventStore::new(pool.clone());
    let before = import(
        &store,
        "start.csv",
        "fact,person,effective_on,organisation,role,programme,cohort\n\
         joined,P1,2015-01-05,Harbourside,social_worker,,\n\
         cohort_opened,,2019-09-01,,,Step Up to Management,2019\n",
    )
    .await;
    assert_eq!(before.events_appended, 2, "{before:?}");
    let id = store.participants_by_external_ref(&["P1"]).await.unwrap()["P1"];
    let cohort_id: String = sqlx::query_scalar("SELECT aggregate_id FROM events WHERE event_type = 'CohortOpened'")
        .fetch_one(&pool)
        .await
        .unwrap();

    // P1's leaving on 2019-06-30 is decided while P1 has no enrolment...
    let locked = store.holding_append_lock().await.unwrap();
    let importing = tokio::spawn({
        let store = store.clone();
        async move {
            import(
                &store,
                "leavers.csv",
                "fact,person,effective_on,reason\nleft,P1,2019-06-30,resignation\n",
            )
            .await
        }
    });
    until_someone_waits_for_the_append_lock(&pool).await;

    // ...and meanwhile the cohort enrols P1 from 2019-09-01, when P1 is
    // still employed as far as the store knows (a leaving may not end
    // employment before an enrolment: the cohort's stream changes, P1's
    // does not).
    let p1 = locked.load::<Participant>(&id.to_string()).await.unwrap();
    let cohort = locked.load::<Cohort>(&cohort_id).await.unwrap();
    let enrolment = decisions::enrol(
        &cohort.aggregate,
        &p1.aggregate,
        CohortCommand::Enrol {
            participant_id: id,
            enrolled_on: "2019-09-01".parse().unwrap(),
        },
        &context(),
    )
    .unwrap()
    .cohort;
    let commit = test_commit(StreamWrite {
        aggregate_type: "cohort",
        aggregate_id: cohort_id.clone(),
        expected_version: cohort.version,
        events: new_events(&enrolment).unwrap(),
    });
    locked.append_all(&[commit]).await.unwrap();

    // Decided again, the leaving meets the enrolment.
    let leavers = importing.await.unwrap();
    assert_eq!(leavers.events_appended, 0, "{leavers:?}");
    assert_eq!(leavers.rows_refused, 1);
    assert_eq!(leavers.errors[0].person.as_deref(), Some("P1"));
    let leavings: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = 'LeavingRecorded'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(leavings, 0);
}

fn context() -> CommandContext {
    CommandContext {
        today: chrono::Utc::now().date_naive(),
        future_margin_days: 366,
    }
}

/// A commit of `write` as a client other than the import records it.
fn test_commit(write: StreamWrite) -> Commit {
    Commit {
        writes: vec![write],
        guards: Vec::new(),
        enrolling_cohorts: None,
        metadata: Metadata {
            recorded_by: "hr".to_string(),
            source: "test".to_string(),
            correlation_id: "test".to_string(),
            idempotency_key: None,
            derivation: None,
        },
        idempotency: None,
    }
}

/// `tenure import` of `file` into `database_url`, with parts of `part_bytes`.
fn tenure_import(database_url: &str, file: &Path, part_bytes: u64) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_tenure"))
        .args(["import", "--json", "--recorded-by", "importer"])
        .arg(file)
        .env("DATABASE_URL", database_url)
        .env("TENURE_IMPORT_PART_BYTES", part_bytes.to_string())
        .env_remove("TENURE_DATA_DIR")
        .env("RUST_LOG", "warn")
        .output()
        .expect("tenure runs");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Every event as (file line, type, fact key), in line order.
async fn recorded_facts(pool: &sqlx::PgPool) -> Vec<(String, String, String)> {
    sqlx::query_as(
        "SELECT metadata->>'source', event_type, metadata->>'idempotency_key' FROM events \
          ORDER BY metadata->>'source', global_position",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_file_split_into_parts_on_disk_imports_as_the_same_file_read_whole() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/examples/facts.csv");
    let text = std::fs::read_to_string(&example).unwrap();
    // Parts of 200 bytes: the example file is split into several.
    assert!(text.len() > 3 * 200);

    let (split_pool, split_url) = fresh_database().await;
    let split = tenure_import(&split_url, &example, 200);
    let (whole_pool, _) = fresh_database().await;
    let whole = import(&EventStore::new(whole_pool.clone()), "facts.csv", &text).await;

    assert_eq!(split["rows_read"], whole.rows_read);
    assert_eq!(split["people"], whole.people);
    assert_eq!(split["events_appended"], whole.events_appended);
    assert_eq!(split["errors"].as_array().unwrap().len(), whole.errors.len());
    assert_eq!(recorded_facts(&split_pool).await, recorded_facts(&whole_pool).await);

    // Split again, the same file records nothing new.
    let again = tenure_import(&split_url, &example, 200);
    assert_eq!(again["events_appended"], 0);
    assert_eq!(again["facts_already_recorded"], whole.facts_recorded);
}

/// One person whose rows are all fine, and six each with one row broken a
/// different way (their other row, a joining, is fine).
fn file_with_every_kind_of_bad_row() -> Vec<u8> {
    let mut file = b"fact,person,effective_on,organisation,role,reason\n\
        joined,OK-1,2016-01-04,Harbourside,social_worker,\n\
        left,OK-1,2018-01-31,,,retired\n"
        .to_vec();
    for person in [
        "BAD-FIELDS",
        "BAD-UTF8",
        "BAD-MISSING",
        "BAD-VALUE",
        "BAD-ROLE",
        "BAD-RULE",
    ] {
        file.extend(format!("joined,{person},2016-01-04,Harbourside,social_worker,\n").bytes());
    }
    file.extend(b"left,BAD-FIELDS,2017-03-31,,,resigned,one too many\n");
    file.extend(b"left,BAD-UTF8,2017-03-31,,,r\xe9sign\xe9 (Latin-1)\n");
    file.extend(b"left,BAD-MISSING,2017-03-31,,,\n");
    file.extend(b"changed_role,BAD-VALUE,31/03/2017,,team_manager,\n");
    file.extend(b"changed_role,BAD-ROLE,2017-03-31,,chief_wizard,\n");
    file.extend(b"left,BAD-RULE,2015-06-30,,,resigned\n");
    file
}

/// The people registered in the store.
async fn registered(pool: &sqlx::PgPool) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT payload->'Registered'->>'external_ref' FROM events \
          WHERE event_type = 'ParticipantRegistered' ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_person_with_a_row_broken_in_any_way_has_none_of_their_rows_recorded_whole_or_split() {
    let file = file_with_every_kind_of_bad_row();
    let refused_people = |errors: &[serde_json::Value]| {
        let mut people: Vec<String> = errors
            .iter()
            .filter_map(|e| e["person"].as_str().map(str::to_string))
            .collect();
        people.sort();
        people
    };
    let bad = [
        "BAD-FIELDS",
        "BAD-MISSING",
        "BAD-ROLE",
        "BAD-RULE",
        "BAD-UTF8",
        "BAD-VALUE",
    ];

    // Read whole.
    let (pool, _) = fresh_database().await;
    let store = EventStore::new(pool.clone());
    let ladders = Ladders::new(pool.clone());
    let whole = import_facts(
        &store,
        &ladders,
        "broken.csv",
        FactsFile::Bytes(file.clone()),
        &options(),
        &mut |_| {},
    )
    .await
    .unwrap();
    let errors: Vec<serde_json::Value> = whole.errors.iter().map(|e| serde_json::to_value(e).unwrap()).collect();
    assert_eq!(refused_people(&errors), bad, "{errors:?}");
    assert_eq!(
        (
            whole.people,
            whole.people_refused,
            whole.rows_refused,
            whole.rows_not_recorded
        ),
        (7, 6, 6, 6)
    );
    assert_eq!(whole.events_appended, 2);
    assert_eq!(registered(&pool).await, ["OK-1"]);

    // Split into parts of 100 bytes.
    let (pool, url) = fresh_database().await;
    let dir = std::env::temp_dir().join(format!("tenure-broken-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("broken.csv");
    std::fs::write(&path, &file).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tenure"))
        .args(["import", "--json"])
        .arg(&path)
        .env("DATABASE_URL", &url)
        .env("TENURE_IMPORT_PART_BYTES", "100")
        .env_remove("TENURE_DATA_DIR")
        .env("RUST_LOG", "warn")
        .output()
        .expect("tenure runs");
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    let split: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(refused_people(split["errors"].as_array().unwrap()), bad);
    assert_eq!(
        (
            &split["people"],
            &split["people_refused"],
            &split["rows_refused"],
            &split["events_appended"]
        ),
        (&7.into(), &6.into(), &6.into(), &2.into())
    );
    assert_eq!(registered(&pool).await, ["OK-1"]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Two team managers who held one post in turn, the later one's reference
/// sorting first (so decided first); `earlier_until` ends the earlier one's
/// spell in the post.
fn post_held_in_turn(earlier_until: &str) -> String {
    format!(
        "fact,person,effective_on,organisation,role,post,title\n\
         post_established,,2014-01-01,Harbourside,team_manager,TM-1,Team manager\n\
         joined,Z-EARLIER,2014-03-01,Harbourside,social_worker,,\n\
         changed_role,Z-EARLIER,2015-01-10,Harbourside,team_manager,TM-1,\n\
         changed_role,Z-EARLIER,{earlier_until},Harbourside,senior_practitioner,,\n\
         joined,A-LATER,2014-03-01,Harbourside,social_worker,,\n\
         changed_role,A-LATER,2017-03-24,Harbourside,team_manager,TM-1,\n"
    )
}

/// The post's occupants as recorded: who filled it and who vacated it, when.
async fn occupancy(pool: &sqlx::PgPool) -> Vec<(String, String)> {
    sqlx::query_as(
        "SELECT event_type, COALESCE(payload->'Filled'->>'effective_on', payload->'Vacated'->>'effective_on') \
           FROM events WHERE aggregate_type = 'post' AND event_type <> 'PostEstablished' \
          ORDER BY 2, 1",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_post_held_in_turn_imports_whichever_occupant_is_decided_first() {
    let (pool, _) = fresh_database().await;
    let store = EventStore::new(pool.clone());
    let summary = import(&store, "posts.csv", &post_held_in_turn("2015-09-26")).await;
    assert!(summary.errors.is_empty(), "{:?}", summary.errors);
    assert_eq!(
        occupancy(&pool).await,
        [
            ("PostFilled".to_string(), "2015-01-10".to_string()),
            ("PostVacated".to_string(), "2015-09-26".to_string()),
            ("PostFilled".to_string(), "2017-03-24".to_string()),
        ]
    );
}

#[tokio::test]
async fn a_post_still_held_when_its_later_occupant_arrives_refuses_the_earlier_person_whole() {
    let (pool, _) = fresh_database().await;
    let store = EventStore::new(pool.clone());
    // Z-EARLIER only leaves the post in 2018, after A-LATER took it in 2017.
    let summary = import(&store, "posts.csv", &post_held_in_turn("2018-06-30")).await;
    assert_eq!(summary.rows_refused, 1, "{:?}", summary.errors);
    assert_eq!(summary.errors[0].person.as_deref(), Some("Z-EARLIER"));
    // Refused on the row that took the post.
    assert_eq!(summary.errors[0].line, 4, "{:?}", summary.errors[0]);
    assert_eq!(summary.errors[0].error, "two_permanent_occupants");
    assert_eq!(registered(&pool).await, ["A-LATER"]);
    assert_eq!(
        occupancy(&pool).await,
        [("PostFilled".to_string(), "2017-03-24".to_string())]
    );
}
