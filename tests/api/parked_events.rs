//! An event the projector cannot apply is parked with its error and the
//! projector carries on: later events reach the reports, `min_position` past
//! it is reached, the admin status and every report's provenance say so, a
//! rebuild parks it too, and a retraction of it projects.
//!
//! The door refuses such events now, so they are written straight into the
//! store, as an older version of tenure or another writer could have.

use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::bodies::Retraction;
use crate::helpers::{spawn_app, TestApp};

/// The stored payload and metadata of `participant`'s event `sequence`.
async fn stored(pool: &PgPool, participant: &str, sequence: i64) -> (Value, Value) {
    sqlx::query_as("SELECT payload::jsonb, metadata::jsonb FROM events WHERE aggregate_id = $1 AND sequence = $2")
        .bind(participant)
        .bind(sequence)
        .fetch_one(pool)
        .await
        .expect("the stored event")
}

/// Writes an event straight into the store, bypassing every rule; returns
/// its global position.
async fn insert_raw(
    pool: &PgPool,
    participant: &str,
    sequence: i64,
    event_type: &str,
    payload: &Value,
    metadata: &Value,
) -> i64 {
    sqlx::query_scalar(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) \
         VALUES ('participant', $1, $2, $3, '1.0', $4::json, $5::json) RETURNING global_position",
    )
    .bind(participant)
    .bind(sequence)
    .bind(event_type)
    .bind(payload.to_string())
    .bind(metadata.to_string())
    .fetch_one(pool)
    .await
    .expect("the store takes a raw event")
}

/// The participants the live read models hold, by external reference.
async fn projected_refs(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar("SELECT external_ref FROM read_models.participants ORDER BY external_ref")
        .fetch_all(pool)
        .await
        .expect("the participants table")
}

/// How many exclusion rows the live read models hold.
async fn exclusions(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM read_models.exclusions")
        .fetch_one(pool)
        .await
        .expect("the exclusions table")
}

/// Waits (bounded) until a report asked with `min_position` past every
/// event answers 200, and returns that answer's provenance.
async fn caught_up_provenance(app: &TestApp) -> Value {
    let position = app.max_position().await;
    let reply = app
        .report(
            "vacancies",
            &format!("organisation=Parkside&on=2022-01-01&min_position={position}&wait_ms=10000"),
        )
        .await;
    assert_eq!(
        reply.status, 200,
        "min_position past the bad event is reached: {}",
        reply.body
    );
    reply.body["provenance"].clone()
}

#[tokio::test]
async fn a_registration_postgres_cannot_store_is_parked_and_the_projector_carries_on() {
    let app = spawn_app().await;
    let first = app.register("P-1", "Parkside", "social_worker", "2020-01-01").await;

    // A registration dated 5001 BC: chrono holds it, PostgreSQL's `date` does not.
    let (mut payload, metadata) = stored(&app.pool, &first, 1).await;
    let bad = Uuid::new_v4().to_string();
    payload["Registered"]["participant_id"] = json!(bad);
    payload["Registered"]["external_ref"] = json!("P-BAD");
    payload["Registered"]["joined_on"] = json!("-5000-01-01");
    let bad_position = insert_raw(&app.pool, &bad, 1, "ParticipantRegistered", &payload, &metadata).await;

    // Recorded after the bad event: it must still reach the read models.
    app.register("P-2", "Parkside", "social_worker", "2021-01-01").await;

    let provenance = caught_up_provenance(&app).await;
    // One event parked: the figures are flagged, not silently short.
    assert_eq!(provenance["parked_events"], 1, "{provenance}");
    assert_eq!(projected_refs(&app.pool).await, ["P-1", "P-2"]);

    let status = app.get("/api/v1/admin/projection").await;
    assert_eq!(status.status, 200);
    assert_eq!(status.body["parked"]["count"], 1, "{}", status.body);
    let parked = &status.body["parked"]["first"][0];
    assert_eq!(parked["global_position"], bad_position);
    assert_eq!(parked["aggregate_id"], bad);
    assert_eq!(parked["event_type"], "ParticipantRegistered");
    assert!(
        parked["error"].as_str().unwrap().contains("date out of range"),
        "{parked}"
    );

    // A rebuild meets the same event, parks it the same way and succeeds.
    let rebuilt = app.rebuild().await;
    assert_eq!(rebuilt.status, 200, "{}", rebuilt.body);
    let status = app.get("/api/v1/admin/projection").await;
    assert_eq!(status.body["parked"]["count"], 1, "{}", status.body);
    assert_eq!(status.body["parked"]["first"][0]["global_position"], bad_position);
    assert_eq!(projected_refs(&app.pool).await, ["P-1", "P-2"]);

    // And later events still flow.
    app.register("P-3", "Parkside", "social_worker", "2021-06-01").await;
    assert_eq!(caught_up_provenance(&app).await["parked_events"], 1);
    assert_eq!(projected_refs(&app.pool).await, ["P-1", "P-2", "P-3"]);
}

#[tokio::test]
async fn a_parked_event_can_be_retracted_and_the_retraction_projects() {
    let app = spawn_app().await;
    let person = app.register("R-1", "Parkside", "social_worker", "2020-01-01").await;
    let (_, metadata) = stored(&app.pool, &person, 1).await;
    // An exclusion whose reason holds a NUL character (the door refuses it;
    // `json` stores it, PostgreSQL `text` cannot), by another writer: #2.
    let exclusion = json!({"ExcludedFromAnalysis": {"effective_on": "2021-01-01", "reason": "on\u{0}loan"}});
    let bad_position = insert_raw(&app.pool, &person, 2, "ExcludedFromAnalysis", &exclusion, &metadata).await;
    assert_eq!(caught_up_provenance(&app).await["parked_events"], 1);
    // The stream stays as it was before the parked event: there, no exclusion.
    assert_eq!(projected_refs(&app.pool).await, ["R-1"]);
    assert_eq!(exclusions(&app.pool).await, 0);

    let retracted = app.send(&Retraction::new(&person, 2)).await;
    assert_eq!(retracted.status, 201, "{}", retracted.body);
    // The retraction projects (the exclusion it removes no longer needs
    // storing): still one parked event, the exclusion, and no exclusion row.
    assert_eq!(caught_up_provenance(&app).await["parked_events"], 1);
    let status = app.get("/api/v1/admin/projection").await;
    assert_eq!(status.body["parked"]["first"][0]["global_position"], bad_position);
    assert_eq!(exclusions(&app.pool).await, 0);
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM read_models.spells")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(rows, 1, "one spell since 2020-01-01, as registered");
    assert_eq!(projected_refs(&app.pool).await, ["R-1"]);
}
