//! What the door refuses before a command is decided: dates outside
//! 1900–2199 or not written `YYYY-MM-DD`, the nil UUID as an id, a key given
//! twice, over-long text, an over-large body. Each answer names the field,
//! and nothing is appended.

use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};

fn registration(joined_on: &str) -> Value {
    json!({"external_ref": "L-1", "organisation": "Limits", "role": "social_worker", "joined_on": joined_on})
}

/// Sends `body` to `path` and checks the status, `error` and `field`, and
/// that nothing was appended.
async fn refused(app: &TestApp, path: &str, body: &str, status: u16, error: &str, field: &str) {
    let before = app.event_count().await;
    let reply = app.post_raw(path, body).await;
    assert_eq!(
        (reply.status, reply.str("error").as_str(), reply.str("field").as_str()),
        (status, error, field),
        "{path} {body}: {}",
        reply.body
    );
    assert!(!reply.str("message").is_empty());
    assert_eq!(app.event_count().await, before, "nothing appended");
}

#[tokio::test]
async fn dates_outside_1900_to_2199_or_not_yyyy_mm_dd_are_refused() {
    let app = spawn_app().await;
    let participants = "/api/v1/participants";
    for (joined_on, status, error) in [
        // A year PostgreSQL's `date` cannot hold: not four digits, so 400.
        ("-5000-01-01", 400, "invalid_field"),
        ("2021-1-1", 400, "invalid_field"),
        // Written right, but outside the range every command and report keeps.
        ("1899-12-31", 422, "date_out_of_range"),
        ("2200-01-01", 422, "date_out_of_range"),
    ] {
        let body = registration(joined_on).to_string();
        refused(&app, participants, &body, status, error, "joined_on").await;
    }
    let post =
        json!({"organisation": "Limits", "title": "SW", "role": "social_worker", "established_on": "1066-10-14"});
    refused(
        &app,
        "/api/v1/posts",
        &post.to_string(),
        422,
        "date_out_of_range",
        "established_on",
    )
    .await;
    let post =
        json!({"organisation": "Limits", "title": "SW", "role": "social_worker", "established_on": "-4714-01-01"});
    refused(
        &app,
        "/api/v1/posts",
        &post.to_string(),
        400,
        "invalid_field",
        "established_on",
    )
    .await;
    // The edges of the range are dates like any other.
    assert_eq!(app.post(participants, &registration("1900-01-01")).await.status, 201);
}

#[tokio::test]
async fn a_nil_id_a_repeated_key_and_over_long_text_are_400_naming_the_field() {
    let app = spawn_app().await;
    let participants = "/api/v1/participants";
    let mut nil = registration("2020-01-01");
    nil["participant_id"] = json!("00000000-0000-0000-0000-000000000000");
    refused(
        &app,
        participants,
        &nil.to_string(),
        400,
        "invalid_field",
        "participant_id",
    )
    .await;

    let twice = r#"{"external_ref":"L-2","organisation":"Limits","role":"social_worker","joined_on":"2020-01-01","joined_on":"2021-01-01"}"#;
    refused(&app, participants, twice, 400, "duplicate_key", "joined_on").await;

    // 3,000 characters once gave 500 (an index row too large); 201 is the limit.
    let mut long = registration("2020-01-01");
    long["external_ref"] = json!("x".repeat(201));
    refused(
        &app,
        participants,
        &long.to_string(),
        400,
        "text_too_long",
        "external_ref",
    )
    .await;
    let mut long = registration("2020-01-01");
    long["organisation"] = json!("y".repeat(3_000));
    refused(
        &app,
        participants,
        &long.to_string(),
        400,
        "text_too_long",
        "organisation",
    )
    .await;
    let mut just = registration("2020-01-01");
    just["external_ref"] = json!("x".repeat(200));
    assert_eq!(app.post(participants, &just).await.status, 201);
}

#[tokio::test]
async fn a_ten_megabyte_body_is_413_with_the_json_error_body() {
    let app = spawn_app().await;
    let mut huge = registration("2020-01-01");
    huge["padding"] = json!("z".repeat(10 * 1024 * 1024));
    let reply = app.post_raw("/api/v1/participants", &huge.to_string()).await;
    assert_eq!(reply.status, 413, "{}", reply.text);
    assert_eq!(reply.str("error"), "body_too_large");
    assert_eq!(app.event_count().await, 0);
}
