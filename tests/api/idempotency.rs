//! Idempotency keys: a repeated request returns the first answer and appends
//! nothing; a key reused for another request is refused.

use serde_json::json;

use crate::helpers::bodies::{Leaving, Registration, Rejoining, RoleChange};
use crate::helpers::spawn_app;

#[tokio::test]
async fn repeating_a_request_with_its_idempotency_key_returns_the_first_answer() {
    let app = spawn_app().await;
    let registration = Registration::new("IDEM-1", "O", "social_worker", "2016-01-01");
    let key = [("Idempotency-Key", "k-1")];
    let first = app.send_with(&registration, &key).await;
    assert_eq!(first.status, 201, "{}", first.body);
    let count = app.event_count().await;
    let second = app.send_with(&registration, &key).await;
    assert_eq!(second.status, 201);
    assert_eq!(second.body, first.body);
    assert_eq!(app.event_count().await, count);

    let other = Registration::new("IDEM-2", "O", "social_worker", "2016-01-01");
    let reused = app.send_with(&other, &key).await;
    assert_eq!(reused.status, 422);
    assert_eq!(reused.str("error"), "idempotency_key_reused");
    assert_eq!(app.event_count().await, count);
}

#[tokio::test]
async fn concurrent_retries_with_one_key_append_once() {
    let app = spawn_app().await;
    let id = app.register("IDEM-3", "O", "social_worker", "2016-01-01").await;
    let promotion = RoleChange::new(&id, "2017-01-01", "senior_practitioner");
    let replies =
        futures::future::join_all((0..10).map(|_| app.send_with(&promotion, &[("Idempotency-Key", "same-key")]))).await;
    for r in &replies {
        assert_eq!(r.status, 201, "{}", r.body);
        assert_eq!(r.body, replies[0].body);
    }
    let history = app.history("participants", &id).await;
    assert_eq!(history.body.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_refusal_is_the_first_answer_too_even_after_the_data_changes() {
    let app = spawn_app().await;
    let id = app.register("IDEM-4", "O", "social_worker", "2016-01-01").await;
    let rejoin = Rejoining::new(&id, "2018-01-01", "O", "social_worker");
    let key = [("Idempotency-Key", "rejoin-1")];

    // Still employed: a rejoining is refused.
    let first = app.send_with(&rejoin, &key).await;
    assert_eq!(first.status, 422, "{}", first.body);

    // Now they leave, so the same rejoining would be accepted afresh...
    app.leave(&id, "2017-06-30").await;
    let count = app.event_count().await;

    // ...but under the key the client gets its first answer, and nothing is appended.
    let retry = app.send_with(&rejoin, &key).await;
    assert_eq!(retry.status, 422);
    assert_eq!(retry.body, first.body);
    assert_eq!(app.event_count().await, count);

    // A new key is a new request.
    let fresh = app.send_with(&rejoin, &[("Idempotency-Key", "rejoin-2")]).await;
    assert_eq!(fresh.status, 201, "{}", fresh.body);
    assert_eq!(app.event_count().await, count + 1);
}

#[tokio::test]
async fn a_not_found_answer_is_kept_under_its_key() {
    let app = spawn_app().await;
    let id = "5f0c7a52-8d4e-4f57-9f0e-3a1f3cbf6a10";
    let leaving = Leaving::new(id, "2017-06-30", "resigned");
    let key = [("Idempotency-Key", "leave-unknown")];
    let first = app.send_with(&leaving, &key).await;
    assert_eq!(first.status, 404, "{}", first.body);

    app.record(&Registration::new("IDEM-5", "O", "social_worker", "2016-01-01").id(id))
        .await;
    let count = app.event_count().await;

    let retry = app.send_with(&leaving, &key).await;
    assert_eq!(retry.status, 404);
    assert_eq!(retry.body, first.body);
    assert_eq!(app.event_count().await, count);
}

#[tokio::test]
async fn a_retry_after_a_ladder_change_gets_the_first_answer() {
    let app = spawn_app().await;
    // Caseworker is on no ladder of Fenland's yet: 422, kept under the key.
    let registration = Registration::new("IDEM-6", "Fenland", "caseworker", "2016-01-01");
    let key = [("Idempotency-Key", "register-6")];
    let first = app.send_with(&registration, &key).await;
    assert_eq!(first.status, 422, "{}", first.body);
    assert_eq!(first.str("error"), "unknown_role");

    // Fenland's new ladder has caseworker: a fresh request would be 201.
    let ladder = json!({"roles": [{"code": "caseworker", "name": "caseworker", "level": 1}]});
    let put = app.replace_ladder("Fenland", &ladder, &[]).await;
    assert_eq!(put.status, 200, "{}", put.body);
    let count = app.event_count().await;

    let retry = app.send_with(&registration, &key).await;
    assert_eq!(retry.status, 422, "{}", retry.body);
    assert_eq!(retry.body, first.body);
    assert_eq!(app.event_count().await, count);
}
