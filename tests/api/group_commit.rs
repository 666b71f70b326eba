//! Group commit: commits waiting together share one transaction, each still
//! checked on its own, and recorded time, position and commit order agree.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::json;
use sqlx::PgPool;
use tenure::event_store::{AppendError, Commit, CommitReceipt, EventStore, Metadata, NewEvent, StreamWrite};

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
                payload: json!({"Tested": {"stream": id}}),
            }],
        }],
        guards: vec![],
        enrolling_cohorts: None,
        metadata: Metadata {
            recorded_by: "test".into(),
            source: "test".into(),
            correlation_id: id.into(),
            idempotency_key: key.map(str::to_string),
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
    let mut holder = pool.begin().await.unwrap();
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
