//! Idempotency keys: a repeated request returns the first answer and appends
//! nothing; a key reused for another request is refused.

use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn repeating_a_request_with_its_idempotency_key_returns_the_first_answer() {
    let app = spawn_app().await;
    let body =
        json!({"external_ref": "IDEM-1", "organisation": "O", "role": "social_worker", "joined_on": "2016-01-01"});
    let first = app
        .post_with("/api/v1/participants", &body, &[("Idempotency-Key", "k-1")])
        .await;
    assert_eq!(first.status, 201, "{}", first.body);
    let count = app.event_count().await;
    let second = app
        .post_with("/api/v1/participants", &body, &[("Idempotency-Key", "k-1")])
        .await;
    assert_eq!(second.status, 201);
    assert_eq!(second.body, first.body);
    assert_eq!(app.event_count().await, count);

    let other =
        json!({"external_ref": "IDEM-2", "organisation": "O", "role": "social_worker", "joined_on": "2016-01-01"});
    let reused = app
        .post_with("/api/v1/participants", &other, &[("Idempotency-Key", "k-1")])
        .await;
    assert_eq!(reused.status, 422);
    assert_eq!(reused.str("error"), "idempotency_key_reused");
    assert_eq!(app.event_count().await, count);
}

#[tokio::test]
async fn concurrent_retries_with_one_key_append_once() {
    let app = spawn_app().await;
    let id = app.register("IDEM-3", "O", "social_worker", "2016-01-01").await;
    let body = json!({"effective_on": "2017-01-01", "role": "senior_practitioner"});
    let path = format!("/api/v1/participants/{id}/role-changes");
    let replies =
        futures::future::join_all((0..10).map(|_| app.post_with(&path, &body, &[("Idempotency-Key", "same-key")])))
            .await;
    for r in &replies {
        assert_eq!(r.status, 201, "{}", r.body);
        assert_eq!(r.body, replies[0].body);
    }
    let history = app.get(&format!("/api/v1/participants/{id}/events")).await;
    assert_eq!(history.body.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_refusal_is_the_first_answer_too_even_after_the_data_changes() {
    let app = spawn_app().await;
    let id = app.register("IDEM-4", "O", "social_worker", "2016-01-01").await;
    let rejoin = json!({"effective_on": "2018-01-01", "organisation": "O", "role": "social_worker"});
    let path = format!("/api/v1/participants/{id}/rejoinings");
    let key = [("Idempotency-Key", "rejoin-1")];

    // Still employed: a rejoining is refused.
    let first = app.post_with(&path, &rejoin, &key).await;
    assert_eq!(first.status, 422, "{}", first.body);

    // Now they leave, so the same rejoining would be accepted afresh...
    let leaving = json!({"effective_on": "2017-06-30", "reason": "resigned"});
    let left = app.post(&format!("/api/v1/participants/{id}/leavings"), &leaving).await;
    assert_eq!(left.status, 201, "{}", left.body);
    let count = app.event_count().await;

    // ...but under the key the client gets its first answer, and nothing is appended.
    let retry = app.post_with(&path, &rejoin, &key).await;
    assert_eq!(retry.status, 422);
    assert_eq!(retry.body, first.body);
    assert_eq!(app.event_count().await, count);

    // A new key is a new request.
    let fresh = app.post_with(&path, &rejoin, &[("Idempotency-Key", "rejoin-2")]).await;
    assert_eq!(fresh.status, 201, "{}", fresh.body);
    assert_eq!(app.event_count().await, count + 1);
}

#[tokio::test]
async fn a_not_found_answer_is_kept_under_its_key() {
    let app = spawn_app().await;
    let id = "5f0c7a52-8d4e-4f57-9f0e-3a1f3cbf6a10";
    let path = format!("/api/v1/participants/{id}/leavings");
    let leaving = json!({"effective_on": "2017-06-30", "reason": "resigned"});
    let key = [("Idempotency-Key", "leave-unknown")];
    let first = app.post_with(&path, &leaving, &key).await;
    assert_eq!(first.status, 404, "{}", first.body);

    let registered = app
        .post(
            "/api/v1/participants",
            &json!({"participant_id": id, "external_ref": "IDEM-5", "organisation": "O",
                    "role": "social_worker", "joined_on": "2016-01-01"}),
        )
        .await;
    assert_eq!(registered.status, 201, "{}", registered.body);
    let count = app.event_count().await;

    let retry = app.post_with(&path, &leaving, &key).await;
    assert_eq!(retry.status, 404);
    assert_eq!(retry.body, first.body);
    assert_eq!(app.event_count().await, count);
}

#[tokio::test]
async fn a_retry_after_a_ladder_change_gets_the_first_answer() {
    let app = spawn_app().await;
    let body =
        json!({"external_ref": "IDEM-6", "organisation": "Fenland", "role": "team_manager", "joined_on": "2016-01-01"});
    let key = [("Idempotency-Key", "register-6")];
    let first = app.post_with("/api/v1/participants", &body, &key).await;
    assert_eq!(first.status, 201, "{}", first.body);

    // Fenland's new ladder has no team_manager: a fresh request would be 422.
    let ladder = json!({"roles": [{"code": "caseworker", "name": "caseworker", "level": 1}]});
    let put = reqwest::Client::new()
        .put(format!("{}/api/v1/organisations/Fenland/ladder", app.address))
        .json(&ladder)
        .send()
        .await
        .unwrap();
    assert_eq!(put.status().as_u16(), 200);
    let count = app.event_count().await;

    let retry = app.post_with("/api/v1/participants", &body, &key).await;
    assert_eq!(retry.status, 201, "{}", retry.body);
    assert_eq!(retry.body, first.body);
    assert_eq!(app.event_count().await, count);
}
