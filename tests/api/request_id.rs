//! Every request has an id: the client's `X-Request-Id`, or a new UUID. The
//! answer carries it back, and a command records it as its correlation id.

use crate::helpers::bodies::{Leaving, Registration};
use crate::helpers::spawn_app;

/// The correlation id the participant's event at `index` was recorded with.
async fn correlation_id(app: &crate::helpers::TestApp, id: &str, index: usize) -> String {
    let history = app.history("participants", id).await;
    assert_eq!(history.status, 200, "{}", history.body);
    history.body[index]["metadata"]["correlation_id"]
        .as_str()
        .expect("a correlation id")
        .to_string()
}

#[tokio::test]
async fn a_request_without_an_id_gets_a_new_uuid_back_and_its_command_records_that_uuid() {
    let app = spawn_app().await;
    let health = app.get("/healthz").await;
    let made = health.header("x-request-id").expect("an X-Request-Id on the answer");
    assert!(uuid::Uuid::parse_str(made).is_ok(), "{made} is a UUID");
    // Each request its own id.
    let again = app.get("/healthz").await;
    assert_ne!(again.header("x-request-id"), Some(made));

    let registered = app
        .record(&Registration::new("RID-1", "O", "social_worker", "2016-01-01"))
        .await;
    let made = registered
        .header("x-request-id")
        .expect("an X-Request-Id on the answer");
    assert!(uuid::Uuid::parse_str(made).is_ok(), "{made} is a UUID");
    assert_eq!(correlation_id(&app, &registered.id(), 0).await, made);
}

#[tokio::test]
async fn a_client_request_id_is_echoed_and_recorded_as_the_correlation_id() {
    let app = spawn_app().await;
    let id = app.register("RID-2", "O", "social_worker", "2016-01-01").await;
    let leave = |on: &'static str, request_id: &'static str| {
        let (app, id) = (&app, &id);
        async move {
            app.send_with(&Leaving::new(id, on, "resigned"), &[("X-Request-Id", request_id)])
                .await
        }
    };
    // Accepted, refused (no longer employed) or at no endpoint: every answer
    // names its request.
    let left = leave("2018-01-31", "client-7").await;
    let refused = leave("2018-02-28", "client-8").await;
    let nowhere = app.get_with("/nowhere", &[("X-Request-Id", "client-9")]).await;
    assert_eq!((left.status, refused.status, nowhere.status), (201, 422, 404));
    for (reply, sent) in [(&left, "client-7"), (&refused, "client-8"), (&nowhere, "client-9")] {
        assert_eq!(reply.header("x-request-id"), Some(sent), "{}", reply.text);
    }
    assert_eq!(correlation_id(&app, &id, 1).await, "client-7");
}

#[tokio::test]
async fn a_command_with_an_unusable_request_id_is_400_and_appends_nothing() {
    let app = spawn_app().await;
    let too_long = "r".repeat(201);
    for request_id in ["", too_long.as_str()] {
        let reply = app
            .send_with(
                &Registration::new("RID-3", "O", "social_worker", "2016-01-01"),
                &[("X-Request-Id", request_id)],
            )
            .await;
        assert_eq!(reply.status, 400, "{:?}: {}", request_id.len(), reply.body);
        assert_eq!(
            (reply.str("error"), reply.str("field")),
            ("invalid_header".into(), "x-request-id".into())
        );
    }
    assert_eq!(app.event_count().await, 0);
}
