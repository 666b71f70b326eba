//! A rebuild derives every stream once and writes its rows in bulk, then
//! hands over to the projector. An event that takes its position before the
//! rebuild's snapshot but commits after it must not be lost: the bulk pass
//! reads only transactions older than every running one, and the projector
//! takes the rest in commit order.

use serde_json::Value;

use crate::helpers::{spawn_app, TestApp};

/// The participants the live read models hold, by external reference.
async fn projected_refs(app: &TestApp) -> Vec<String> {
    sqlx::query_scalar("SELECT external_ref FROM read_models.participants ORDER BY external_ref")
        .fetch_all(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_rebuild_leaves_an_event_committed_after_its_snapshot_to_the_projector() {
    let app = spawn_app().await;
    let first = app.register("BULK-1", "Bulkshire", "social_worker", "2020-01-01").await;
    let (payload, metadata): (Value, Value) =
        sqlx::query_as("SELECT payload::jsonb, metadata::jsonb FROM events WHERE aggregate_id = $1")
            .bind(&first)
            .fetch_one(&app.pool)
            .await
            .unwrap();

    // Another writer registers BULK-2 and keeps its transaction open: the
    // event has its position, but is not committed.
    let late = uuid::Uuid::new_v4().to_string();
    let mut registration = payload.clone();
    registration["Registered"]["participant_id"] = late.clone().into();
    registration["Registered"]["external_ref"] = "BULK-2".into();
    let mut open = app.pool.begin().await.unwrap();
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) \
         VALUES ('participant', $1, 1, 'ParticipantRegistered', '1.0', $2::json, $3::json)",
    )
    .bind(&late)
    .bind(registration.to_string())
    .bind(metadata.to_string())
    .execute(&mut *open)
    .await
    .unwrap();

    // A later commit, then a rebuild while BULK-2's transaction is open.
    app.register("BULK-3", "Bulkshire", "social_worker", "2020-01-01").await;
    let rebuilt = app.rebuild().await;
    assert_eq!(rebuilt.status, 200, "{}", rebuilt.body);
    assert_eq!(
        projected_refs(&app).await,
        ["BULK-1"],
        "nothing past the open transaction yet"
    );

    // Once it commits, the projector takes both, in commit order.
    open.commit().await.unwrap();
    let position = app.max_position().await;
    let caught_up = app
        .report(
            "vacancies",
            &format!("organisation=Bulkshire&on=2021-01-01&min_position={position}&wait_ms=10000"),
        )
        .await;
    assert_eq!(caught_up.status, 200, "{}", caught_up.body);
    assert_eq!(projected_refs(&app).await, ["BULK-1", "BULK-2", "BULK-3"]);
}

#[tokio::test]
async fn a_rebuild_over_more_streams_than_one_chunk_equals_the_incremental_read_models() {
    use tenure::event_store::{Commit, EventStore, Metadata, NewEvent, StreamWrite};

    let app = spawn_app().await;
    let first = app.register("MANY-0", "Manyshire", "social_worker", "2020-01-01").await;
    let payload: Value = sqlx::query_scalar("SELECT payload::jsonb FROM events WHERE aggregate_id = $1")
        .bind(&first)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    // 4,500 more people in one commit: the rebuild's bulk pass writes them
    // in several chunks (2,000 streams each), one written while the next is read.
    let writes = (1..=4_500)
        .map(|i| {
            let mut registration = payload.clone();
            let id = uuid::Uuid::new_v4().to_string();
            registration["Registered"]["participant_id"] = id.clone().into();
            registration["Registered"]["external_ref"] = format!("MANY-{i}").into();
            StreamWrite {
                aggregate_type: "participant",
                aggregate_id: id,
                expected_version: 0,
                events: vec![NewEvent {
                    event_type: "ParticipantRegistered".into(),
                    event_version: "1.0".into(),
                    payload: serde_json::value::to_raw_value(&registration).unwrap(),
                }],
            }
        })
        .collect();
    EventStore::new(app.pool.clone())
        .append(Commit {
            writes,
            guards: vec![],
            enrolling_cohorts: None,
            metadata: Metadata {
                recorded_by: "test".into(),
                source: "test".into(),
                correlation_id: "many".into(),
                idempotency_key: None,
                derivation: None,
            },
            idempotency: None,
        })
        .await
        .unwrap();
    let position = app.max_position().await;
    let caught_up = app
        .report(
            "vacancies",
            &format!("organisation=Manyshire&on=2021-01-01&min_position={position}&wait_ms=20000"),
        )
        .await;
    assert_eq!(caught_up.status, 200, "{}", caught_up.body);
    let incremental = projections::tables::load_dataset(&app.pool, "read_models")
        .await
        .unwrap();

    let rebuilt = app.rebuild().await;
    assert_eq!(rebuilt.status, 200, "{}", rebuilt.body);
    let after = projections::tables::load_dataset(&app.pool, "read_models")
        .await
        .unwrap();
    assert_eq!(after.0.people.len(), 4_501);
    assert_eq!(after.0, incremental.0);
    assert_eq!(after.1.last_global_position, incremental.1.last_global_position);
}

/// Every index of the live read models: name and definition.
async fn live_indexes(app: &TestApp) -> Vec<(String, String)> {
    sqlx::query_as("SELECT indexname::text, indexdef FROM pg_indexes WHERE schemaname = 'read_models' ORDER BY 1")
        .fetch_all(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_rebuild_builds_every_index_the_tables_were_made_with() {
    let app = spawn_app().await;
    app.register("IDX-1", "Indexshire", "social_worker", "2020-01-01").await;
    let before = live_indexes(&app).await;
    // The bulk pass drops the secondary indexes while it loads, whichever
    // migration made them; the report indexes are among them.
    assert!(
        before.iter().any(|(name, _)| name == "spells_organisation_idx"),
        "{before:?}"
    );
    let rebuilt = app.rebuild().await;
    assert_eq!(rebuilt.status, 200, "{}", rebuilt.body);
    assert_eq!(live_indexes(&app).await, before);
}
