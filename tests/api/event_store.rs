//! The event store itself: append-only in the database, defaults under
//! postgres-es's own INSERT, and a gap-free all-events reader.

use std::collections::HashSet;

use cqrs_es::persist::{PersistedEventRepository, SerializedEvent};
use postgres_es::PostgresEventRepository;
use serde_json::json;
use tenure::event_store::{Commit, EventStore, Metadata, NewEvent, Position, StreamWrite};

use crate::helpers::fresh_database;

fn metadata() -> Metadata {
    Metadata {
        recorded_by: "test".into(),
        source: "test".into(),
        correlation_id: "c".into(),
        idempotency_key: None,
        derivation: None,
    }
}

fn one_event(aggregate_id: String, expected_version: u64) -> Commit {
    Commit {
        writes: vec![StreamWrite {
            aggregate_type: "test",
            aggregate_id,
            expected_version,
            events: vec![NewEvent {
                event_type: "Tested".into(),
                event_version: "1.0".into(),
                payload: serde_json::value::to_raw_value(&json!({"Tested": {}})).unwrap(),
            }],
        }],
        guards: vec![],
        enrolling_cohorts: None,
        metadata: metadata(),
        idempotency: None,
    }
}

#[tokio::test]
async fn update_delete_and_truncate_on_events_are_refused_by_the_database() {
    let (pool, _) = fresh_database().await;
    let store = EventStore::new(pool.clone());
    store.append(one_event("a".into(), 0)).await.unwrap();
    // The server role has no such privilege (tests/api/db_roles.rs); the
    // triggers stop even the owner.
    let owner = crate::helpers::superuser_pool(&pool).await;
    let update = sqlx::query("UPDATE events SET event_type = 'Forged'")
        .execute(&owner)
        .await;
    assert!(update.unwrap_err().to_string().contains("append-only"));
    let delete = sqlx::query("DELETE FROM events").execute(&owner).await;
    assert!(delete.unwrap_err().to_string().contains("append-only"));
    let truncate = sqlx::query("TRUNCATE events").execute(&owner).await;
    assert!(truncate.unwrap_err().to_string().contains("append-only"));
    owner.close().await;
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(count, 1);
}

#[tokio::test]
async fn postgres_es_own_insert_gets_position_transaction_and_recorded_time() {
    let (pool, _) = fresh_database().await;
    let repo = PostgresEventRepository::new(pool.clone());
    let event = SerializedEvent::new(
        "x".into(),
        1,
        "test".into(),
        "Tested".into(),
        "1.0".into(),
        json!({"Tested": {}}),
        json!({}),
    );
    repo.persist::<aggregates::post::Post>(&[event], None).await.unwrap();
    let (position, tx, recorded): (i64, String, chrono::DateTime<chrono::Utc>) = sqlx::query_as(
        "SELECT global_position, transaction_id::text, recorded_at FROM events WHERE aggregate_id = 'x'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(position >= 1);
    assert!(tx.parse::<u64>().unwrap() > 0);
    assert!((chrono::Utc::now() - recorded).num_seconds().abs() < 60);
}

#[tokio::test]
async fn the_reader_does_not_pass_an_event_whose_transaction_commits_late() {
    let (pool, _) = fresh_database().await;
    let store = EventStore::new(pool.clone());
    // A transaction takes a position first but commits last.
    let mut slow = pool.begin().await.unwrap();
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) \
         VALUES ('test', 'slow', 1, 'Tested', '1.0', '{}', '{}')",
    )
    .execute(&mut *slow)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) \
         VALUES ('test', 'fast', 1, 'Tested', '1.0', '{}', '{}')",
    )
    .execute(&pool)
    .await
    .unwrap();
    // The fast event is committed, but handing it out now would let the
    // reader's checkpoint pass the slow one.
    assert!(store.read_after(Position::default(), 100).await.unwrap().is_empty());
    slow.commit().await.unwrap();
    // Transactions of other tests in the same cluster may hold the snapshot
    // horizon back for a moment: wait for it (bounded).
    let mut events = Vec::new();
    for _ in 0..500 {
        events = store.read_after(Position::default(), 100).await.unwrap();
        if events.len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let ids: Vec<&str> = events.iter().map(|e| e.aggregate_id.as_str()).collect();
    assert_eq!(ids, ["slow", "fast"]);
}

#[tokio::test]
async fn the_reader_under_concurrent_writers_never_skips_or_repeats_an_event() {
    let (pool, _) = fresh_database().await;
    let store = EventStore::new(pool.clone());
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let store = store.clone();
            tokio::spawn(async move {
                for i in 0..40u64 {
                    store.append(one_event(format!("w{w}"), i)).await.unwrap();
                }
            })
        })
        .collect();
    // Raw concurrent inserts bypass the append lock, as a foreign writer would.
    let raw: Vec<_> = (0..4)
        .map(|w| {
            let pool = pool.clone();
            tokio::spawn(async move {
                for i in 1..=40i64 {
                    sqlx::query(
                        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) \
                         VALUES ('test', $1, $2, 'Tested', '1.0', '{}', '{}')",
                    )
                    .bind(format!("raw{w}"))
                    .bind(i)
                    .execute(&pool)
                    .await
                    .unwrap();
                }
            })
        })
        .collect();
    let mut seen = Vec::new();
    let mut position = Position::default();
    let total = 8 * 40 + 4 * 40;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while seen.len() < total && std::time::Instant::now() < deadline {
        let batch = store.read_after(position, 7).await.unwrap();
        for event in &batch {
            assert!(event.position() > position, "positions must increase");
            position = event.position();
            seen.push(event.global_position);
        }
        if batch.is_empty() {
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
    }
    for h in writers.into_iter().chain(raw) {
        h.await.unwrap();
    }
    let unique: HashSet<i64> = seen.iter().copied().collect();
    assert_eq!(unique.len(), seen.len(), "no event is read twice");
    let all: Vec<i64> = sqlx::query_scalar("SELECT global_position FROM events")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(seen.len(), all.len(), "no event is skipped");
    assert_eq!(unique, all.into_iter().collect::<HashSet<_>>());
}

#[tokio::test]
async fn the_enrolment_lookups_can_use_their_index() {
    let (pool, _) = crate::helpers::fresh_database().await;
    let mut conn = pool.acquire().await.unwrap();
    // With sequential scans priced out, the plan shows whether the partial
    // expression index matches the queries at all (an empty table would
    // otherwise be scanned whatever the indexes).
    sqlx::query("SET enable_seqscan = off")
        .execute(&mut *conn)
        .await
        .unwrap();
    for (sql, argument) in [
        (tenure::event_store::COHORTS_ENROLLING, "'p'"),
        (tenure::event_store::COHORTS_ENROLLING_ANY, "ARRAY['p']"),
    ] {
        let plan: Vec<String> = sqlx::query_scalar(&format!("EXPLAIN {}", sql.replace("$1", argument)))
            .fetch_all(&mut *conn)
            .await
            .unwrap();
        let plan = plan.join("\n");
        assert!(plan.contains("events_enrolled_participant_idx"), "{sql}\n{plan}");
    }
}
