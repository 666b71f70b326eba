//! Every error class: the status, a JSON body naming the problem, and
//! nothing appended.

use serde_json::json;

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
    let reply = app
        .post(
            "/api/v1/participants",
            &json!({"external_ref": "X", "organisation": "O", "role": "social_worker", "joined_on": "2016-01-01", "fte": "full"}),
        )
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.str("field"), "fte");
    let bad_date = app
        .post(
            "/api/v1/participants",
            &json!({"external_ref": "X", "organisation": "O", "role": "social_worker", "joined_on": "2016-02-30"}),
        )
        .await;
    assert_eq!(bad_date.status, 400);
    assert_eq!(bad_date.str("field"), "joined_on");
    let missing = app
        .post(
            "/api/v1/participants",
            &json!({"organisation": "O", "role": "social_worker", "joined_on": "2016-01-01"}),
        )
        .await;
    assert_eq!(missing.status, 400);
    assert_eq!(missing.str("error"), "missing_field");
    assert_eq!(missing.str("field"), "external_ref");
    assert_eq!(app.event_count().await, 0);
}

#[tokio::test]
async fn an_unknown_participant_is_404() {
    let app = spawn_app().await;
    let id = uuid::Uuid::new_v4();
    let reply = app
        .post(
            &format!("/api/v1/participants/{id}/leavings"),
            &json!({"effective_on": "2018-01-01", "reason": "resigned"}),
        )
        .await;
    assert_eq!(reply.status, 404);
    assert_eq!(reply.str("error"), "not_found");
    assert_eq!(app.get(&format!("/api/v1/participants/{id}")).await.status, 404);
    assert_eq!(app.get(&format!("/api/v1/participants/{id}/events")).await.status, 404);
    assert_eq!(app.get("/api/v1/participants/not-a-uuid").await.status, 400);
    assert_eq!(app.event_count().await, 0);
}

#[tokio::test]
async fn a_stale_if_match_is_409_and_appends_nothing() {
    let app = spawn_app().await;
    let id = app.register("P-1", "Northshire", "social_worker", "2016-01-04").await;
    let before = app.event_count().await;
    let stale = app
        .post_with(
            &format!("/api/v1/participants/{id}/role-changes"),
            &json!({"effective_on": "2017-01-01", "role": "senior_practitioner"}),
            &[("If-Match", "\"7\"")],
        )
        .await;
    assert_eq!(stale.status, 409, "{}", stale.body);
    assert_eq!(stale.str("error"), "conflict");
    assert_eq!(app.event_count().await, before);

    let current = app
        .post_with(
            &format!("/api/v1/participants/{id}/role-changes"),
            &json!({"effective_on": "2017-01-01", "role": "senior_practitioner"}),
            &[("If-Match", "1")],
        )
        .await;
    assert_eq!(current.status, 201, "{}", current.body);
    let bad_header = app
        .post_with(
            &format!("/api/v1/participants/{id}/role-changes"),
            &json!({"effective_on": "2017-06-01", "role": "practice_manager"}),
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

    let before_joining = app
        .post(
            &format!("/api/v1/participants/{id}/role-changes"),
            &json!({"effective_on": "2015-12-31", "role": "service_manager"}),
        )
        .await;
    assert_eq!(before_joining.status, 422, "{}", before_joining.body);
    assert_eq!(before_joining.str("field"), "effective_on");

    let rejoin_while_employed = app
        .post(
            &format!("/api/v1/participants/{id}/rejoinings"),
            &json!({"effective_on": "2017-01-01", "organisation": "Northshire", "role": "team_manager"}),
        )
        .await;
    assert_eq!(rejoin_while_employed.status, 422);

    let off_ladder_without_kind = app
        .post(
            &format!("/api/v1/participants/{id}/role-changes"),
            &json!({"effective_on": "2017-01-01", "role": "inspector", "organisation": "Ofsted"}),
        )
        .await;
    assert_eq!(off_ladder_without_kind.status, 422);
    assert_eq!(off_ladder_without_kind.str("field"), "kind");

    let unknown_role = app
        .post(
            &format!("/api/v1/participants/{id}/role-changes"),
            &json!({"effective_on": "2017-01-01", "role": "wizard"}),
        )
        .await;
    assert_eq!(unknown_role.status, 422);
    assert_eq!(unknown_role.str("error"), "unknown_role");
    assert_eq!(unknown_role.str("field"), "role");

    let far_future = app
        .post(
            &format!("/api/v1/participants/{id}/leavings"),
            &json!({"effective_on": "2999-01-01", "reason": "resigned"}),
        )
        .await;
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
