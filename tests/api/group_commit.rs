//! Group commit: commits waiting together share one transaction, each still
//! checked on its own, and recorded time, position and commit order agree.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::json;
use sqlx::PgPool;
use tenure::event_store::{AppendError, Commit, CommitReceipt, Duplicate, EventStore, Metadata, NewEvent, StreamWrite};

use crate::helpers::fresh_database;

/// One event appended to stream `id` after `version`, under `key`.
fn commit(id: &str, version: u64, key: Option<&str>) -> Commit {
    Commit {
        writes: vec![StreamWrite {
            aggregate_type: "test",
            aggregate_id: id.to_string(),
            expected_version: version,
            events: vec![NewEvent {
                event_type: "Tested".into(),
                event_version: "1.0".into(),
                payload: serde_json::value::to_raw_value(&json!({"Tested": {"stream": id}})).unwrap(),
            }],
        }],
        guards: vec![],
        enrolling_cohorts: None,
        metadata: Metadata {
            recorded_by: "test".into(),
            source: "test".into(),
            correlation_id: id.into(),
            idempotency_key: key.map(str::to_string),
            derivation: None,
        },
        idempotency: key.map(|k| (k.to_string(), "fingerprint".to_string())),
    }
}

/// Waits until a session waits for a lock on the `events` table.
async fn wait_for_a_blocked_insert(pool: &PgPool) {
    for _ in 0..500 {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_locks \
             WHERE locktype = 'relation' AND relation = 'events'::regclass AND NOT granted",
        )
        .fetch_one(pool)
        .await
        .unwrap();
        if waiting > 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the first commit never waited for the events table");
}

#[tokio::test]
async fn commits_waiting_together_share_one_transaction_and_each_gets_its_own_answer() {
    let (pool, _) = fresh_database().await;
    let store = EventStore::new(pool.clone());

    // Inserts wait while the test holds this lock: the first commit takes
    // the writer and waits; the next ones queue behind it and form a group.
    // (As the owner: the server role may not lock the event store so.)
    let owner = crate::helpers::superuser_pool(&pool).await;
    let mut holder = owner.begin().await.unwrap();
    sqlx::query("LOCK TABLE events IN SHARE MODE")
        .execute(&mut *holder)
        .await
        .unwrap();
    let first = {
        let store = store.clone();
        tokio::spawn(async move { store.append(commit("first", 0, None)).await })
    };
    wait_for_a_blocked_insert(&pool).await;

    // The group: s0..s9 new streams, a second writer of s3 at version 0
    // (a conflict once s3's first commit is in), and key k sent twice.
    let mut sent: Vec<(&str, tokio::task::JoinHandle<Result<CommitReceipt, AppendError>>)> = Vec::new();
    for i in 0..10 {
        let store = store.clone();
        let id = format!("s{i}");
        sent.push((
            "new",
            tokio::spawn(async move { store.append(commit(&id, 0, None)).await }),
        ));
    }
    let late = store.clone();
    sent.push((
        "conflict",
        tokio::spawn(async move { late.append(commit("s3", 0, None)).await }),
    ));
    for _ in 0..2 {
        let store = store.clone();
        sent.push((
            "keyed",
            tokio::spawn(async move { store.append(commit("keyed", 0, Some("k"))).await }),
        ));
    }
    // Every one of them is queued within microseconds; give a loaded machine time.
    tokio::time::sleep(Duration::from_millis(300)).await;
    holder.rollback().await.unwrap();

    let first = first.await.unwrap().unwrap();
    let mut keyed_receipts = Vec::new();
    for (what, handle) in sent {
        let answer = handle.await.unwrap();
        match what {
            "new" => assert_eq!(answer.unwrap().events_appended, 1),
            "conflict" => assert!(matches!(answer, Err(AppendError::Conflict { .. })), "{answer:?}"),
            _ => keyed_receipts.push(match answer {
                Ok(receipt) => receipt,
                Err(AppendError::Replayed(receipt)) => *receipt,
                other => panic!("{other:?}"),
            }),
        }
    }
    // The key's second use got the first one's receipt: one event.
    assert_eq!(keyed_receipts[0], keyed_receipts[1]);

    // 1 + 10 + 1: nothing lost, nothing doubled, the conflict left nothing.
    let rows: Vec<(String, i64, i64, chrono::DateTime<chrono::Utc>)> = sqlx::query_as(
        "SELECT aggregate_id, global_position, transaction_id::text::bigint, recorded_at FROM events ORDER BY global_position",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(rows.len(), 12);
    let mut per_stream: BTreeMap<&str, usize> = BTreeMap::new();
    for (id, ..) in &rows {
        *per_stream.entry(id.as_str()).or_default() += 1;
    }
    assert!(per_stream.values().all(|n| *n == 1), "{per_stream:?}");
    assert_eq!(rows[0].1, first.global_position);

    // The eleven queued commits shared one transaction (one flush) ...
    let group: std::collections::BTreeSet<i64> = rows[1..].iter().map(|r| r.2).collect();
    assert_eq!(group.len(), 1, "the queued commits were not grouped: {rows:?}");
    assert_ne!(rows[0].2, rows[1].2);
    // ... and the recorded clock still rises with position, commit by commit.
    for pair in rows.windows(2) {
        assert!(pair[0].3 < pair[1].3, "{pair:?}");
    }
}

/// Appends `first` alone and then `group` while it waits, so that `group`
/// queues behind it and is written as one group; every answer, in order.
async fn appended_as_one_group(
    pool: &PgPool,
    first: Commit,
    group: Vec<Commit>,
) -> Vec<Result<CommitReceipt, AppendError>> {
    let store = EventStore::new(pool.clone());
    // (As the owner: the server role may not lock the event store so.)
    let owner = crate::helpers::superuser_pool(pool).await;
    let mut holder = owner.begin().await.unwrap();
    sqlx::query("LOCK TABLE events IN SHARE MODE")
        .execute(&mut *holder)
        .await
        .unwrap();
    let first = {
        let store = store.clone();
        tokio::spawn(async move { store.append(first).await })
    };
    wait_for_a_blocked_insert(pool).await;
    let mut sent = Vec::new();
    for commit in group {
        let store = store.clone();
        sent.push(tokio::spawn(async move { store.append(commit).await }));
        // Arrival order is the order the group is judged in.
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    holder.rollback().await.unwrap();
    first.await.unwrap().unwrap();
    let mut answers = Vec::new();
    for handle in sent {
        answers.push(handle.await.unwrap());
    }
    answers
}

/// A commit of one event of `event_type` with `payload` to stream `id`.
fn event_commit(aggregate_type: &'static str, id: &str, event_type: &str, payload: serde_json::Value) -> Commit {
    let mut commit = commit(id, 0, None);
    commit.writes[0].aggregate_type = aggregate_type;
    commit.writes[0].events[0].event_type = event_type.to_string();
    commit.writes[0].events[0].payload = serde_json::value::to_raw_value(&payload).unwrap();
    commit
}

#[tokio::test]
async fn an_enrolment_earlier_in_the_group_makes_a_leaving_that_did_not_see_it_conflict() {
    let (pool, _) = fresh_database().await;
    let enrolment = event_commit(
        "cohort",
        "cohort-1",
        "ParticipantEnrolled",
        json!({"ParticipantEnrolled": {"participant_id": "person-1"}}),
    );
    // A leaving decided when no cohort enrolled person-1.
    let mut leaving = commit("person-1", 0, None);
    leaving.enrolling_cohorts = Some(("person-1".to_string(), vec![]));
    // The same for someone the enrolment does not name: it lands.
    let mut other = commit("person-2", 0, None);
    other.enrolling_cohorts = Some(("person-2".to_string(), vec![]));

    let answers = appended_as_one_group(&pool, commit("first", 0, None), vec![enrolment, leaving, other]).await;
    assert_eq!(answers[0].as_ref().unwrap().events_appended, 1);
    match &answers[1] {
        Err(AppendError::Conflict {
            aggregate_type,
            aggregate_id,
            actual,
            ..
        }) => assert_eq!(
            (aggregate_type.as_str(), aggregate_id.as_str(), *actual),
            ("cohort", "cohort-1", 1)
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(answers[2].as_ref().unwrap().events_appended, 1);
    let streams: Vec<String> = sqlx::query_scalar("SELECT aggregate_id FROM events ORDER BY global_position")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(streams, ["first", "cohort-1", "person-2"]);
}

#[tokio::test]
async fn a_duplicate_external_reference_in_a_group_refuses_only_the_second_registration() {
    let (pool, _) = fresh_database().await;
    let registration = |id: &str| {
        event_commit(
            "participant",
            id,
            "ParticipantRegistered",
            json!({"Registered": {"external_ref": "HR-1"}}),
        )
    };
    let answers = appended_as_one_group(
        &pool,
        commit("first", 0, None),
        vec![
            registration("p-1"),
            commit("s-1", 0, None),
            registration("p-2"),
            commit("s-2", 0, None),
        ],
    )
    .await;
    assert_eq!(answers[0].as_ref().unwrap().events_appended, 1);
    assert_eq!(answers[1].as_ref().unwrap().events_appended, 1);
    assert!(
        matches!(answers[2], Err(AppendError::Duplicate(Duplicate::ExternalRef))),
        "{:?}",
        answers[2]
    );
    assert_eq!(answers[3].as_ref().unwrap().events_appended, 1);
    let streams: Vec<String> = sqlx::query_scalar("SELECT aggregate_id FROM events ORDER BY global_position")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(streams, ["first", "p-1", "s-1", "s-2"]);
}

#[tokio::test]
async fn a_commit_of_several_events_and_streams_in_a_group_gets_its_own_receipt() {
    let (pool, _) = fresh_database().await;
    let mut two_streams = commit("a", 0, None);
    let mut second = two_streams.writes[0].clone();
    second.aggregate_id = "b".to_string();
    second.events.push(second.events[0].clone());
    two_streams.writes.push(second);
    let answers = appended_as_one_group(
        &pool,
        commit("first", 0, None),
        vec![commit("c", 0, None), two_streams, commit("a", 1, None)],
    )
    .await;
    let (one, three, after) = (
        answers[0].as_ref().unwrap(),
        answers[1].as_ref().unwrap(),
        answers[2].as_ref().unwrap(),
    );
    assert_eq!(three.events_appended, 3);
    let versions: Vec<(&str, u64)> = three
        .streams
        .iter()
        .map(|s| (s.aggregate_id.as_str(), s.version))
        .collect();
    assert_eq!(versions, [("a", 1), ("b", 2)]);
    // Positions: first, c, a#1, b#1, b#2, a#2.
    assert_eq!(three.global_position, one.global_position + 3);
    assert_eq!(after.global_position, three.global_position + 1);
    assert!(one.recorded_at < three.recorded_at && three.recorded_at < after.recorded_at);
    let stamps: Vec<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("SELECT recorded_at FROM events WHERE aggregate_id IN ('a', 'b') AND global_position <= $1")
            .bind(three.global_position)
            .fetch_all(&pool)
            .await
            .unwrap();
    assert!(stamps.iter().all(|s| *s == three.recorded_at), "{stamps:?}");
}
