//! Tamper evidence: the sealer chains every event's hash, `verify` recomputes
//! the chain from the events and names the first event that no longer
//! matches (an edited payload, a deleted event, an event slipped into the
//! sealed history), and a head kept from earlier proves the history up to
//! it unchanged, even after a superuser re-seals an edited store.

use serde_json::Value;

use crate::helpers::{spawn_app, spawn_app_unsealed, TestApp};

/// Registers three people in three commits; their global positions.
async fn three_registrations(app: &TestApp) -> Vec<i64> {
    let mut positions = Vec::new();
    for (i, role) in ["team_manager", "service_manager", "head_of_service"]
        .iter()
        .enumerate()
    {
        let id = app.register(&format!("V-{i}"), "Northshire", role, "2020-01-06").await;
        let history = app.history("participants", &id).await;
        positions.push(history.body[0]["global_position"].as_i64().unwrap());
    }
    positions
}

async fn seal_everything(app: &TestApp) -> u64 {
    tenure::audit::Sealer::new(app.pool.clone())
        .seal_all_committed()
        .await
        .unwrap()
}

/// Runs `sql` as the test cluster's superuser with the store's append-only
/// triggers out of the way, as an intruder with that role could.
async fn tamper(app: &TestApp, sql: &str) {
    let superuser = crate::helpers::superuser_pool(&app.pool).await;
    let mut tx = superuser.begin().await.unwrap();
    sqlx::query("SET LOCAL session_replication_role = replica")
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query(sql).execute(&mut *tx).await.unwrap();
    tx.commit().await.unwrap();
    superuser.close().await;
}

async fn verify(app: &TestApp, query: &str) -> Value {
    let reply = app.get(&format!("/api/v1/audit/verify{query}")).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body
}

#[tokio::test]
async fn the_harness_tampers_as_a_superuser_and_serves_as_a_lesser_role() {
    // The tampering below relies on it: only a superuser may set
    // session_replication_role; the app itself runs as the server role.
    let app = spawn_app_unsealed().await;
    let is_superuser = "SELECT rolsuper FROM pg_roles WHERE rolname = current_user";
    let superuser = crate::helpers::superuser_pool(&app.pool).await;
    let tamperer: bool = sqlx::query_scalar(is_superuser).fetch_one(&superuser).await.unwrap();
    assert!(tamperer);
    let server: bool = sqlx::query_scalar(is_superuser).fetch_one(&app.pool).await.unwrap();
    assert!(!server);
}

#[tokio::test]
async fn a_clean_store_verifies_and_an_edited_payload_is_named() {
    let app = spawn_app_unsealed().await;
    let p = three_registrations(&app).await;
    assert_eq!(seal_everything(&app).await, 3);

    let clean = verify(&app, "").await;
    assert_eq!(clean["ok"], true, "{clean}");
    assert_eq!(clean["events_checked"], 3);
    assert_eq!(clean["head"]["global_position"], p[2]);
    assert_eq!(clean["first_problem"], Value::Null);

    // The second person's role is rewritten in place.
    tamper(
        &app,
        &format!(
            "UPDATE events SET payload = replace(payload::text, 'service_manager', 'team_manager')::json \
              WHERE global_position = {}",
            p[1]
        ),
    )
    .await;
    let tampered = verify(&app, "").await;
    assert_eq!(tampered["ok"], false, "{tampered}");
    assert_eq!(tampered["first_problem"]["global_position"], p[1]);
    assert_eq!(tampered["first_problem"]["finding"], "hash_mismatch");
    // The first event matched; the second was recomputed and did not.
    assert_eq!(tampered["events_checked"], 2);
}

#[tokio::test]
async fn an_edited_recorded_time_or_author_is_named_too() {
    let app = spawn_app_unsealed().await;
    let p = three_registrations(&app).await;
    seal_everything(&app).await;
    tamper(
        &app,
        &format!(
            "UPDATE events SET recorded_at = recorded_at - interval '1 day' WHERE global_position = {}",
            p[2]
        ),
    )
    .await;
    let tampered = verify(&app, "").await;
    assert_eq!(tampered["first_problem"]["global_position"], p[2], "{tampered}");
    assert_eq!(tampered["first_problem"]["finding"], "hash_mismatch");

    let app = spawn_app_unsealed().await;
    let p = three_registrations(&app).await;
    seal_everything(&app).await;
    tamper(
        &app,
        &format!(
            "UPDATE events SET metadata = '{{\"recorded_by\":\"someone else\",\"source\":\"api\",\
             \"correlation_id\":\"x\"}}' WHERE global_position = {}",
            p[0]
        ),
    )
    .await;
    let tampered = verify(&app, "").await;
    assert_eq!(tampered["first_problem"]["global_position"], p[0], "{tampered}");
}

#[tokio::test]
async fn a_deleted_event_is_named() {
    let app = spawn_app_unsealed().await;
    let p = three_registrations(&app).await;
    seal_everything(&app).await;
    tamper(&app, &format!("DELETE FROM events WHERE global_position = {}", p[1])).await;
    let tampered = verify(&app, "").await;
    assert_eq!(tampered["ok"], false, "{tampered}");
    assert_eq!(tampered["first_problem"]["global_position"], p[1]);
    assert_eq!(tampered["first_problem"]["finding"], "event_missing");
}

#[tokio::test]
async fn an_event_slipped_into_the_sealed_history_is_named() {
    let app = spawn_app_unsealed().await;
    let p = three_registrations(&app).await;
    seal_everything(&app).await;
    // A copy of the first event under a new stream, given the first event's
    // transaction id so that it sorts between the first and the second.
    tamper(
        &app,
        &format!(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, \
                                 metadata, global_position, transaction_id, recorded_at) \
             OVERRIDING SYSTEM VALUE \
             SELECT aggregate_type, 'forged', 1, event_type, event_version, \
                    replace(payload::text, 'V-0', 'V-forged')::json, metadata, 1000, \
                    transaction_id, recorded_at \
               FROM events WHERE global_position = {}",
            p[0]
        ),
    )
    .await;
    let tampered = verify(&app, "").await;
    assert_eq!(tampered["ok"], false, "{tampered}");
    assert_eq!(tampered["first_problem"]["global_position"], 1000);
    assert_eq!(tampered["first_problem"]["finding"], "seal_missing");
}

#[tokio::test]
async fn a_kept_head_proves_the_history_up_to_it_even_after_a_superuser_reseals() {
    let app = spawn_app_unsealed().await;
    let p = three_registrations(&app).await;
    seal_everything(&app).await;
    let head = app.get("/api/v1/audit/head").await;
    assert_eq!(head.status, 200);
    assert_eq!(head.body["global_position"], p[2]);
    assert_eq!(head.body["unsealed_events"], 0);
    let kept = head.str("hash");
    assert_eq!(kept.len(), 64);

    // An append moves the head; the kept one stays on the chain.
    app.register("V-later", "Northshire", "team_manager", "2021-01-04")
        .await;
    seal_everything(&app).await;
    let moved = app.get("/api/v1/audit/head").await;
    assert!(moved.body["global_position"].as_i64().unwrap() > p[2]);
    assert_ne!(moved.str("hash"), kept);
    let proof = verify(&app, &format!("?head={kept}&position={}", p[2])).await;
    assert_eq!(proof["ok"], true, "{proof}");
    assert_eq!(proof["supplied_head"]["on_chain"], true);
    // The same hash claimed for another position is not on the chain.
    let wrong = verify(&app, &format!("?head={kept}&position={}", p[1])).await;
    assert_eq!(wrong["ok"], false);
    assert_eq!(wrong["supplied_head"]["on_chain"], false);

    // A superuser edits the first event and re-seals the whole store so
    // that the chain is consistent again: only the kept head shows it.
    tamper(
        &app,
        &format!(
            "UPDATE events SET payload = replace(payload::text, 'V-0', 'V-9')::json WHERE global_position = {}",
            p[0]
        ),
    )
    .await;
    tamper(&app, "DELETE FROM event_seals").await;
    seal_everything(&app).await;
    assert_eq!(verify(&app, "").await["ok"], true);
    let proof = verify(&app, &format!("?head={kept}&position={}", p[2])).await;
    assert_eq!(proof["ok"], false, "{proof}");
    assert_eq!(proof["supplied_head"]["on_chain"], false);
}

#[tokio::test]
async fn the_server_sealer_follows_commits_and_head_waits_for_a_position() {
    let app = spawn_app().await;
    let p = three_registrations(&app).await;
    let head = app
        .get(&format!("/api/v1/audit/head?min_position={}&wait_ms=10000", p[2]))
        .await;
    assert_eq!(head.status, 200, "{}", head.body);
    assert!(head.body["global_position"].as_i64().unwrap() >= p[2]);
    let clean = verify(&app, "").await;
    assert_eq!(clean["ok"], true, "{clean}");
    assert!(clean["events_checked"].as_u64().unwrap() >= 3);
}

#[tokio::test]
async fn an_empty_store_has_the_genesis_head() {
    let app = spawn_app_unsealed().await;
    let head = app.get("/api/v1/audit/head").await;
    assert_eq!(head.body["global_position"], 0);
    assert_eq!(head.str("hash"), "0".repeat(64));
    let v = verify(&app, &format!("?head={}&position=0", "0".repeat(64))).await;
    assert_eq!(v["ok"], true, "{v}");
}

#[tokio::test]
async fn malformed_verify_and_head_parameters_are_400_naming_the_parameter() {
    let app = spawn_app_unsealed().await;
    for (query, field) in [
        ("/audit/verify?head=abc&position=1", "head"),
        (&format!("/audit/verify?head={}", "a".repeat(64)), "position"),
        ("/audit/verify?position=3", "head"),
        ("/audit/verify?position=-3&head=x", "position"),
        ("/audit/verify?positon=3", "positon"),
        ("/audit/head?min_position=soon", "min_position"),
        ("/audit/head?wait_ms=1&wait_ms=2", "wait_ms"),
    ] {
        let reply = app.get(&format!("/api/v1{query}")).await;
        assert_eq!(reply.status, 400, "{query}: {}", reply.body);
        assert_eq!(reply.body["field"], field, "{query}: {}", reply.body);
    }
    // A position never sealed is waited for, then refused as not ready.
    let reply = app.get("/api/v1/audit/head?min_position=5&wait_ms=50").await;
    assert_eq!(reply.status, 503, "{}", reply.body);
    assert_eq!(reply.body["error"], "sealer_behind");
}

#[tokio::test]
async fn a_backdated_event_is_named_even_once_sealed() {
    let app = spawn_app_unsealed().await;
    let p = three_registrations(&app).await;
    seal_everything(&app).await;
    // A new event appended by hand, recorded as if before the first one,
    // and then sealed by the sealer like any other.
    tamper(
        &app,
        &format!(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, \
                                 metadata, recorded_at) \
             SELECT aggregate_type, 'backdated', 1, event_type, event_version, \
                    replace(payload::text, 'V-0', 'V-backdated')::json, metadata, recorded_at - interval '1 day' \
               FROM events WHERE global_position = {}",
            p[0]
        ),
    )
    .await;
    assert_eq!(seal_everything(&app).await, 1);
    let forged: i64 = sqlx::query_scalar("SELECT global_position FROM events WHERE aggregate_id = 'backdated'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let tampered = verify(&app, "").await;
    assert_eq!(tampered["ok"], false, "{tampered}");
    assert_eq!(tampered["first_problem"]["global_position"], forged);
    assert_eq!(tampered["first_problem"]["finding"], "recorded_out_of_order");
}
