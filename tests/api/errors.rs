//! Every error class: the status, a JSON body naming the problem, and
//! nothing appended.

use serde_json::json;

use crate::helpers::bodies::{body, Command, Leaving, Registration, Rejoining, RoleChange};
use crate::helpers::spawn_app;

#[tokio::test]
async fn malformed_json_is_400_and_appends_nothing() {
    let app = spawn_app().await;
    let before = app.event_count().await;
    let reply = app.post_raw("/api/v1/participants", "{\"external_ref\": ").await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.str("error"), "invalid_json");
    assert!(!reply.str("message").is_empty());
    assert_eq!(app.event_count().await, before);
}

#[tokio::test]
async fn a_wrong_type_is_400_naming_the_field() {
    let app = spawn_app().await;
    let registration = Registration::new("X", "O", "social_worker", "2016-01-01");
    let mut wrong_type = body(&registration);
    wrong_type["fte"] = json!("full");
    let reply = app.post(&registration.path(), &wrong_type).await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.str("field"), "fte");
    let bad_date = app
        .send(&Registration::new("X", "O", "social_worker", "2016-02-30"))
        .await;
    assert_eq!(bad_date.status, 400);
    assert_eq!(bad_date.str("field"), "joined_on");
    let mut without_reference = body(&registration);
    without_reference.as_object_mut().unwrap().remove("external_ref");
    let missing = app.post(&registration.path(), &without_reference).await;
    assert_eq!(missing.status, 400);
    assert_eq!(missing.str("error"), "missing_field");
    assert_eq!(missing.str("field"), "external_ref");
    assert_eq!(app.event_count().await, 0);
}

#[tokio::test]
async fn an_unknown_participant_is_404() {
    let app = spawn_app().await;
    let id = uuid::Uuid::new_v4().to_string();
    let reply = app.send(&Leaving::new(&id, "2018-01-01", "resigned")).await;
    assert_eq!(reply.status, 404);
    assert_eq!(reply.str("error"), "not_found");
    assert_eq!(app.participant(&id).await.status, 404);
    assert_eq!(app.history("participants", &id).await.status, 404);
    assert_eq!(app.participant("not-a-uuid").await.status, 400);
    assert_eq!(app.event_count().await, 0);
}

#[tokio::test]
async fn a_stale_if_match_is_409_and_appends_nothing() {
    let app = spawn_app().await;
    let id = app.register("P-1", "Northshire", "social_worker", "2016-01-04").await;
    let before = app.event_count().await;
    let promotion = RoleChange::new(&id, "2017-01-01", "senior_practitioner");
    let stale = app.send_with(&promotion, &[("If-Match", "\"7\"")]).await;
    assert_eq!(stale.status, 409, "{}", stale.body);
    assert_eq!(stale.str("error"), "conflict");
    assert_eq!(app.event_count().await, before);

    let current = app.send_with(&promotion, &[("If-Match", "1")]).await;
    assert_eq!(current.status, 201, "{}", current.body);
    let bad_header = app
        .send_with(
            &RoleChange::new(&id, "2017-06-01", "practice_manager"),
            &[("If-Match", "yesterday")],
        )
        .await;
    assert_eq!(bad_header.status, 400);
    assert_eq!(bad_header.str("field"), "If-Match");
}

#[tokio::test]
async fn rule_violations_are_422_naming_the_rule_and_append_nothing() {
    let app = spawn_app().await;
    let id = app.register("P-2", "Northshire", "team_manager", "2016-01-04").await;
    let before = app.event_count().await;

    let before_joining = app.send(&RoleChange::new(&id, "2015-12-31", "service_manager")).await;
    assert_eq!(before_joining.status, 422, "{}", before_joining.body);
    assert_eq!(before_joining.str("field"), "effective_on");

    let rejoin_while_employed = app
        .send(&Rejoining::new(&id, "2017-01-01", "Northshire", "team_manager"))
        .await;
    assert_eq!(rejoin_while_employed.status, 422);

    let off_ladder_without_kind = app
        .send(&RoleChange::new(&id, "2017-01-01", "inspector").at("Ofsted"))
        .await;
    assert_eq!(off_ladder_without_kind.status, 422);
    assert_eq!(off_ladder_without_kind.str("field"), "kind");

    let unknown_role = app.send(&RoleChange::new(&id, "2017-01-01", "wizard")).await;
    assert_eq!(unknown_role.status, 422);
    assert_eq!(unknown_role.str("error"), "unknown_role");
    assert_eq!(unknown_role.str("field"), "role");

    let far_future = app.send(&Leaving::new(&id, "2999-01-01", "resigned")).await;
    assert_eq!(far_future.status, 422);
    assert_eq!(far_future.str("field"), "effective_on");

    assert_eq!(app.event_count().await, before);
    // The process keeps serving after refusals.
    assert_eq!(app.get("/healthz").await.status, 200);
}

#[tokio::test]
async fn the_openapi_document_describes_the_command_endpoints() {
    let app = spawn_app().await;
    let doc = app.get("/api/v1/openapi.json").await;
    assert_eq!(doc.status, 200);
    for path in [
        "/api/v1/participants",
        "/api/v1/participants/{id}/role-changes",
        "/api/v1/participants/{id}/events",
        "/api/v1/cohorts/{id}/enrolments",
        "/api/v1/posts/{id}/fillings",
        "/healthz",
    ] {
        assert!(doc.body["paths"].get(path).is_some(), "{path} missing from OpenAPI");
    }
}

#[tokio::test]
async fn text_that_postgresql_cannot_store_is_400_at_the_door_and_appends_nothing() {
    let app = spawn_app().await;
    // A NUL inside a JSON string: PostgreSQL text cannot hold it, and a
    // read-model row could never be written for it.
    let body = r#"{"programme": "PL\u0000DP", "name": "x", "starts_on": "2020-01-01"}"#;
    let reply = app.post_raw("/api/v1/cohorts", body).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert_eq!(
        (reply.str("error"), reply.str("field")),
        ("invalid_text".into(), "programme".into())
    );
    assert_eq!(app.event_count().await, 0);
    // In a query string or a path, and a path segment that is not UTF-8.
    for path in [
        "/api/v1/participants?external_ref=%00",
        "/api/v1/organisations/a%00b/ladder",
        "/api/v1/participants/%FF",
    ] {
        let reply = app.get(path).await;
        assert_eq!(reply.status, 400, "{path}: {}", reply.body);
        assert_eq!(reply.str("error"), "invalid_text", "{path}");
    }
    // The server still serves.
    assert_eq!(app.get("/healthz").await.status, 200);
}

#[tokio::test]
async fn a_method_the_path_does_not_take_is_405_with_the_json_body() {
    let app = spawn_app().await;
    let response = app.delete("/api/v1/participants").await;
    assert_eq!(response.status, 405);
    assert!(response.body.is_object(), "a JSON body: {}", response.text);
    assert_eq!(response.body["error"], "method_not_allowed");
    assert!(response.body["message"].as_str().is_some_and(|m| m.contains("DELETE")));
}

#[tokio::test]
async fn report_dates_out_of_range_and_positions_never_handed_out_are_refused_at_once() {
    let app = spawn_app().await;
    let far = app.report("leavers", "from=2000-01-01&to=9999-12-31").await;
    assert_eq!(far.status, 400, "{}", far.body);
    assert_eq!(
        (far.str("error"), far.str("field")),
        ("invalid_parameter".into(), "to".into())
    );
    let early = app.report("vacancies", "organisation=O&on=1066-10-14").await;
    assert_eq!((early.status, early.str("field")), (400, "on".into()));
    // The store is empty: position 5 was never handed out (a wait would
    // end in 503 projection_behind).
    let ahead = app
        .report(
            "turnover",
            "organisation=O&from=2020-01-01&to=2020-12-31&min_position=5",
        )
        .await;
    assert_eq!(ahead.status, 422, "{}", ahead.body);
    assert_eq!(
        (ahead.str("error"), ahead.str("field")),
        ("unknown_position".into(), "min_position".into())
    );
}
