//! The same facts sent one by one over HTTP give the same reports as a
//! facts file importing them (the Seaview history of `import_entities.rs`).

use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};
use crate::import_entities::{file, import, SEAVIEW};

/// POSTs a command and insists on 201; the id it created or addressed.
async fn post(app: &TestApp, path: &str, body: Value) -> String {
    let reply = app.post(path, &body).await;
    assert_eq!(reply.status, 201, "POST {path} {body}: {}", reply.body);
    reply.id()
}

/// Seaview's history sent one command at a time.
async fn record_over_http(app: &TestApp) {
    let mut posts = Vec::new();
    for title in ["Team manager North", "Team manager South", "Team manager East"] {
        let body = json!({"organisation": "Seaview", "title": title, "role": "team_manager",
                          "established_on": "2015-01-01"});
        posts.push(post(app, "/api/v1/posts", body).await);
    }
    let cohort = post(
        app,
        "/api/v1/cohorts",
        json!({"programme": "ASYE", "name": "2017 intake", "starts_on": "2017-09-01", "ends_on": "2018-08-31"}),
    )
    .await;
    let join = |r: &str, role: &str, on: &str| json!({"external_ref": r, "organisation": "Seaview", "role": role, "joined_on": on});
    let mut sv1 = join("SV-1", "team_manager", "2016-01-04");
    sv1["post_id"] = json!(posts[0]);
    post(app, "/api/v1/participants", sv1).await;
    let sv2 = post(app, "/api/v1/participants", join("SV-2", "social_worker", "2016-01-04")).await;
    let fill = json!({"participant_id": sv2, "effective_on": "2017-03-01", "basis": "interim"});
    post(app, &format!("/api/v1/posts/{}/fillings", posts[1]), fill).await;
    let mut intake = Vec::new();
    for r in ["SV-3", "SV-4", "SV-5"] {
        let id = post(app, "/api/v1/participants", join(r, "asye", "2017-09-04")).await;
        let enrol = json!({"participant_id": id, "enrolled_on": "2017-09-04"});
        post(app, &format!("/api/v1/cohorts/{cohort}/enrolments"), enrol).await;
        intake.push(id);
    }
    let completion = json!({"participant_id": intake[0], "completed_on": "2018-08-31"});
    post(app, &format!("/api/v1/cohorts/{cohort}/completions"), completion).await;
    let withdrawal =
        json!({"participant_id": intake[1], "withdrawn_on": "2018-01-31", "reason": "caring responsibilities"});
    post(app, &format!("/api/v1/cohorts/{cohort}/withdrawals"), withdrawal).await;
    let leaving = json!({"effective_on": "2018-03-30", "reason": "resigned"});
    post(app, &format!("/api/v1/participants/{}/leavings", intake[2]), leaving).await;
    let vacate = json!({"participant_id": sv2, "effective_on": "2018-10-01"});
    post(app, &format!("/api/v1/posts/{}/vacations", posts[1]), vacate).await;
    let end = json!({"effective_on": "2019-01-01"});
    post(app, &format!("/api/v1/posts/{}/disestablishment", posts[2]), end).await;
}

#[tokio::test]
async fn an_import_gives_the_same_reports_as_the_same_facts_sent_one_by_one() {
    let (imported, sent) = (spawn_app().await, spawn_app().await);
    let summary = import(&imported, "seaview.csv", &file(&SEAVIEW)).await;
    assert!(summary.errors.is_empty(), "{:?}", summary.errors);
    record_over_http(&sent).await;
    assert_eq!(imported.event_count().await, sent.event_count().await);
    for (kind, query) in [
        ("vacancies", "organisation=Seaview&on=2018-06-30"),
        ("vacancies", "organisation=Seaview&on=2019-06-30"),
        ("retention", "programme=ASYE&cohort=2017%20intake&as_at=2018-12-31"),
        ("turnover", "organisation=Seaview&from=2017-10-01&to=2018-09-30"),
        ("leavers", "organisation=Seaview&from=2017-04-01&to=2019-03-31"),
    ] {
        let query = format!("{query}&min_position=");
        let a = report_json(&imported, kind, &query).await;
        let b = report_json(&sent, kind, &query).await;
        assert_eq!(a, b, "{kind}?{query}");
    }
}

/// A report's JSON once the projector has caught up, without what differs
/// between two stores whatever their facts (positions, times, ids).
async fn report_json(app: &TestApp, kind: &str, query: &str) -> Value {
    let query = format!("{query}{}", app.max_position().await);
    for _ in 0..5 {
        let reply = app.report(kind, &query).await;
        if reply.status != 503 {
            assert_eq!(reply.status, 200, "{kind}?{query}: {}", reply.text);
            return without_store_details(reply.body);
        }
    }
    panic!("{kind}?{query}: the projector stayed behind")
}

fn without_store_details(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(k, _)| !(k.ends_with("_id") || k.contains("position") || k.ends_with("_at") || k == "meta"))
                .map(|(k, v)| (k, without_store_details(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_store_details).collect()),
        other => other,
    }
}
