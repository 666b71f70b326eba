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
