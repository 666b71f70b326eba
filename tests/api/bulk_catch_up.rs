//! A projector far behind catches up in bulk (`Projector::catch_up_in_bulk`:
//! each touched stream derived once from its whole history, its rows
//! replaced with `COPY`, the checkpoint moved in the same transaction). Its
//! rows must be those the projector writes batch by batch: from zero, after
//! streams were already projected, with a parked event, and with text that
//! a careless `COPY` would mangle.
//!
//! The bulk path writes into `read_models_next` (the rebuild's schema, free
//! in these tests) while the live tables are the reference, projected batch
//! by batch.

use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::{fresh_database, load_demo, spawn_app, TestApp};
use projections::projector::{self, Projector, LIVE_SCHEMA, REBUILD_SCHEMA};

/// Empty read models in the rebuild's schema, and the projector of them.
async fn fresh_tables(pool: &PgPool) -> Projector {
    sqlx::query(&format!("DROP SCHEMA IF EXISTS {REBUILD_SCHEMA} CASCADE"))
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("SELECT tenure_create_read_models($1)")
        .bind(REBUILD_SCHEMA)
        .execute(pool)
        .await
        .unwrap();
    Projector::for_schema(pool.clone(), REBUILD_SCHEMA)
}

async fn event_count(pool: &PgPool) -> u64 {
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(pool)
        .await
        .unwrap();
    n as u64
}

/// Waits (bounded) until the live projector has applied every event.
async fn live_caught_up(app: &TestApp) {
    let position = app.max_position().await;
    for _ in 0..300 {
        if projector::has_reached(&app.pool, position).await.unwrap() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the live projector stayed behind for 30 s");
}

/// Both schemas hold the same rows, stand at the same event, and parked
/// the same events.
async fn assert_same_read_models(pool: &PgPool) {
    let live = projections::tables::load_dataset(pool, LIVE_SCHEMA).await.unwrap();
    let bulk = projections::tables::load_dataset(pool, REBUILD_SCHEMA).await.unwrap();
    assert_eq!(bulk.0, live.0);
    assert_eq!(bulk.1.last_global_position, live.1.last_global_position);
    let parked = |schema: &'static str| async move {
        sqlx::query_scalar::<_, i64>(&format!(
            "SELECT global_position FROM {schema}.parked_events ORDER BY global_position"
        ))
        .fetch_all(pool)
        .await
        .unwrap()
    };
    assert_eq!(parked(REBUILD_SCHEMA).await, parked(LIVE_SCHEMA).await);
}

#[tokio::test]
async fn a_projector_far_behind_catches_up_in_bulk_to_the_rows_it_writes_batch_by_batch() {
    let (pool, _) = fresh_database().await;
    load_demo(&pool).await;
    let events = event_count(&pool).await;
    let batch_by_batch = Projector::live(pool.clone())
        .with_bulk_from(i64::MAX)
        .catch_up()
        .await
        .unwrap();
    assert_eq!(batch_by_batch, events);

    let bulk = fresh_tables(&pool).await;
    // Every event in one bulk transaction, nothing left for the batches.
    assert_eq!(bulk.catch_up_in_bulk().await.unwrap(), Some(events));
    assert_eq!(bulk.catch_up().await.unwrap(), 0);
    assert_same_read_models(&pool).await;
    let checkpoint = projector::checkpoint(&pool, REBUILD_SCHEMA).await.unwrap();
    assert_eq!(checkpoint.events_applied as u64, events);
}

#[tokio::test]
async fn a_bulk_catch_up_replaces_the_rows_of_streams_already_projected() {
    let app = spawn_app().await;
    load_demo(&app.pool).await;
    let bulk = fresh_tables(&app.pool).await.with_bulk_from(i64::MAX);
    bulk.catch_up().await.unwrap();
    let before = event_count(&app.pool).await;
    let leavings = |pool: PgPool| async move {
        sqlx::query_scalar::<_, i64>(&format!("SELECT count(*) FROM {REBUILD_SCHEMA}.leavings"))
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    let leavings_before = leavings(app.pool.clone()).await;

    // People already projected leave (their streams have rows to replace),
    // and two new people join.
    let employed: Vec<String> = sqlx::query_scalar(&format!(
        "SELECT participant_id::text FROM {REBUILD_SCHEMA}.spells \
          WHERE until_on IS NULL AND from_on < '2025-01-01' ORDER BY participant_id LIMIT 12"
    ))
    .fetch_all(&app.pool)
    .await
    .unwrap();
    let mut left = 0;
    for id in &employed {
        if app.leave(id, "2025-06-01").await.status == 201 {
            left += 1;
        }
    }
    assert!(left >= 3, "only {left} of the demo's people could leave");
    app.register("BULK-NEW-1", "Bulkshire", "social_worker", "2024-01-01")
        .await;
    app.register("BULK-NEW-2", "Bulkshire", "social_worker", "2024-02-01")
        .await;
    let added = event_count(&app.pool).await - before;
    // Once the live projector is done, no transaction older than the new
    // events is open, so the gap-free reader may take every one of them.
    live_caught_up(&app).await;

    assert_eq!(bulk.catch_up_in_bulk().await.unwrap(), Some(added));
    // Each leaving recorded is one more leaving row (none was replaced twice).
    assert_eq!(leavings(app.pool.clone()).await, leavings_before + left);
    assert_same_read_models(&app.pool).await;
}

#[tokio::test]
async fn an_event_a_bulk_catch_up_cannot_apply_is_parked_as_batch_by_batch_parks_it() {
    let app = spawn_app().await;
    let first = app.register("P-1", "Parkside", "social_worker", "2020-01-01").await;
    let (mut payload, metadata): (Value, Value) =
        sqlx::query_as("SELECT payload::jsonb, metadata::jsonb FROM events WHERE aggregate_id = $1")
            .bind(&first)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    // A registration dated 5001 BC: chrono holds it, PostgreSQL's `date` does not.
    let bad = Uuid::new_v4().to_string();
    payload["Registered"]["participant_id"] = json!(bad);
    payload["Registered"]["external_ref"] = json!("P-BAD");
    payload["Registered"]["joined_on"] = json!("-5000-01-01");
    let bad_position: i64 = sqlx::query_scalar(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) \
         VALUES ('participant', $1, 1, 'ParticipantRegistered', '1.0', $2::json, $3::json) RETURNING global_position",
    )
    .bind(&bad)
    .bind(payload.to_string())
    .bind(metadata.to_string())
    .fetch_one(&app.pool)
    .await
    .unwrap();
    app.register("P-2", "Parkside", "social_worker", "2021-01-01").await;
    live_caught_up(&app).await;

    let bulk = fresh_tables(&app.pool).await;
    // Three events met, one of them parked.
    assert_eq!(bulk.catch_up_in_bulk().await.unwrap(), Some(3));
    let parked: Vec<i64> = sqlx::query_scalar(&format!("SELECT global_position FROM {REBUILD_SCHEMA}.parked_events"))
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(parked, [bad_position]);
    let refs: Vec<String> = sqlx::query_scalar(&format!(
        "SELECT external_ref FROM {REBUILD_SCHEMA}.participants ORDER BY external_ref"
    ))
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(refs, ["P-1", "P-2"]);
    assert_same_read_models(&app.pool).await;
}

/// (external_ref, organisation, team) of every participant's first spell
/// in `schema`, sorted by bytes.
async fn texts(pool: &PgPool, schema: &str) -> Vec<(String, String, Option<String>, String)> {
    let mut rows: Vec<(String, String, Option<String>, String)> = sqlx::query_as(&format!(
        "SELECT p.external_ref, s.organisation, s.team, s.role_code \
           FROM {schema}.participants p JOIN {schema}.spells s USING (participant_id)"
    ))
    .fetch_all(pool)
    .await
    .unwrap();
    rows.sort();
    rows
}

#[tokio::test]
async fn awkward_text_and_null_or_empty_values_round_trip_through_copy() {
    let app = spawn_app().await;
    let first = app.register("A-0", "Plainshire", "social_worker", "2020-01-01").await;
    let (template, metadata): (Value, Value) =
        sqlx::query_as("SELECT payload::jsonb, metadata::jsonb FROM events WHERE aggregate_id = $1")
            .bind(&first)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    // Text `COPY`'s delimiter, row end, escape and end-of-data marker, its
    // NULL spelling, quotes, non-ASCII, an empty text and a NULL team.
    let awkward: [(&str, &str, Option<&str>, &str); 6] = [
        ("tab\there", "Org\tA", Some("team\twith tab"), "social_worker"),
        ("new\nline\r\n", "Org\nB", Some("a\\b"), "r\u{f4}le\t\"x\""),
        ("back\\slash\\N", "\\N", Some(""), "social_worker"),
        (
            "quotes '\" ,;|",
            "\u{dc}n\u{ef}c\u{f8}d\u{e9} \u{d6}rg \u{1f642}",
            None,
            "social_worker",
        ),
        ("\\.", "comma,org", Some("\\N"), "social_worker"),
        ("", "", Some(" "), ""),
    ];
    for (external_ref, organisation, team, role) in awkward {
        let mut payload = template.clone();
        let registered = &mut payload["Registered"];
        registered["participant_id"] = json!(Uuid::new_v4().to_string());
        registered["external_ref"] = json!(external_ref);
        registered["organisation"] = json!(organisation);
        registered["team"] = json!(team);
        registered["role"]["code"] = json!(role);
        let id = registered["participant_id"].as_str().unwrap().to_string();
        sqlx::query(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) \
             VALUES ('participant', $1, 1, 'ParticipantRegistered', '1.0', $2::json, $3::json)",
        )
        .bind(id)
        .bind(payload.to_string())
        .bind(metadata.to_string())
        .execute(&app.pool)
        .await
        .unwrap();
    }
    live_caught_up(&app).await;

    let bulk = fresh_tables(&app.pool).await;
    assert_eq!(bulk.catch_up_in_bulk().await.unwrap(), Some(7));
    let mut expected: Vec<(String, String, Option<String>, String)> = awkward
        .iter()
        .map(|(r, o, t, c)| (r.to_string(), o.to_string(), t.map(str::to_string), c.to_string()))
        .chain([(
            "A-0".to_string(),
            "Plainshire".to_string(),
            template["Registered"]["team"].as_str().map(str::to_string),
            "social_worker".to_string(),
        )])
        .collect();
    expected.sort();
    assert_eq!(texts(&app.pool, REBUILD_SCHEMA).await, expected);
    assert_eq!(texts(&app.pool, LIVE_SCHEMA).await, expected);
    assert_same_read_models(&app.pool).await;
}
