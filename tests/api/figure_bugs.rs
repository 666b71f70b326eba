//! Rules that must not depend on the order facts are recorded in, and
//! retractions that keep participant and post agreeing, over HTTP
//! (issue #9, "Figure bugs").

use serde_json::json;

use crate::helpers::bodies::{CohortOpening, Enrolment, Filling, Leaving};
use crate::helpers::{spawn_app, TestApp};

/// The event types of a stream's history, in order.
async fn event_types(app: &TestApp, kind: &str, id: &str) -> Vec<String> {
    let history = app.history(kind, id).await;
    assert_eq!(history.status, 200, "{}", history.body);
    history
        .body
        .as_array()
        .expect("a history is a list")
        .iter()
        .map(|e| e["event_type"].as_str().expect("every event has a type").to_string())
        .collect()
}

/// Retracts the event at `sequence` of `post` through the post.
async fn retract_on_post(app: &TestApp, post: &str, sequence: u64) -> crate::helpers::Reply {
    let body = json!({"sequence": sequence, "reason": "recorded in error"});
    app.post(&format!("/api/v1/posts/{post}/retractions"), &body).await
}

/// A team manager post in Northshire, established 2015-01-01.
async fn team_manager_post(app: &TestApp) -> String {
    app.establish_post("Northshire", "Team manager", "team_manager", "2015-01-01")
        .await
}

#[tokio::test]
async fn a_leaving_dated_before_an_enrolment_is_refused_whichever_is_recorded_first() {
    let app = spawn_app().await;
    let cohort = app.record(&CohortOpening::new("PLDP", "2017", "2017-04-01")).await.id();

    // Enrolment first, then a leaving dated before it: refused, nothing
    // appended.
    let ann = app.register("FB-1", "Northshire", "social_worker", "2015-01-01").await;
    app.record(&Enrolment::new(&cohort, &ann, "2017-04-01")).await;
    let before = app.event_count().await;
    let early = app.send(&Leaving::new(&ann, "2016-06-01", "resigned")).await;
    assert_eq!(early.status, 422, "{}", early.body);
    assert_eq!(early.str("error"), "participant_not_employed");
    assert_eq!(early.str("field"), "effective_on");
    assert_eq!(app.event_count().await, before);
    // A leaving after the enrolment date is fine.
    app.record(&Leaving::new(&ann, "2017-05-01", "resigned")).await;

    // The leaving first, then the enrolment: refused as before.
    let bob = app.register("FB-2", "Northshire", "social_worker", "2015-01-01").await;
    app.record(&Leaving::new(&bob, "2016-06-01", "resigned")).await;
    let late = app.send(&Enrolment::new(&cohort, &bob, "2017-04-01")).await;
    assert_eq!(late.status, 422, "{}", late.body);
    assert_eq!(late.str("error"), "participant_not_employed");
    assert_eq!(late.str("field"), "enrolled_on");
}

#[tokio::test]
async fn retracting_a_posts_fill_retracts_the_occupants_role_change_too() {
    let app = spawn_app().await;
    let post = team_manager_post(&app).await;
    let ann = app.register("FB-3", "Northshire", "social_worker", "2016-01-01").await;
    // Filling appends RoleChanged (participant #2) and PostFilled (post #2).
    let filled = app.record(&Filling::new(&post, &ann, "2018-01-01")).await;
    assert_eq!(filled.body["streams"].as_array().unwrap().len(), 2);

    let retracted = retract_on_post(&app, &post, 2).await;
    assert_eq!(retracted.status, 201, "{}", retracted.body);
    // One commit, both streams: the post's fill and the role change.
    assert_eq!(retracted.body["streams"].as_array().unwrap().len(), 2);
    assert_eq!(
        event_types(&app, "participants", &ann).await,
        ["ParticipantRegistered", "RoleChanged", "ParticipantEventRetracted"]
    );
    assert_eq!(
        event_types(&app, "posts", &post).await,
        ["PostEstablished", "PostFilled", "PostEventRetracted"]
    );
    // Ann is a social worker again, in no post.
    let state = app.participant(&ann).await;
    assert_eq!(state.status, 200, "{}", state.body);
    let text = state.body.to_string();
    assert!(!text.contains(&post), "still linked to the post: {text}");
}

#[tokio::test]
async fn retracting_a_posts_establishment_still_touches_only_the_post() {
    let app = spawn_app().await;
    let post = team_manager_post(&app).await;
    let retracted = retract_on_post(&app, &post, 1).await;
    // The post's own rules answer, as before: nothing else is read.
    assert_eq!(retracted.status, 422, "{}", retracted.body);
}
