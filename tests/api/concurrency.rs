//! Concurrent commands on one aggregate: each is applied or answered 409,
//! never lost.

use serde_json::json;

use crate::helpers::spawn_app;

async fn participant_events(app: &crate::helpers::TestApp, id: &str) -> usize {
    app.get(&format!("/api/v1/participants/{id}/events"))
        .await
        .body
        .as_array()
        .unwrap()
        .len()
}

#[tokio::test]
async fn fifty_concurrent_commands_append_exactly_one_event_per_success() {
    let app = spawn_app().await;
    let id = app.register("C-1", "Northshire", "social_worker", "2010-01-04").await;
    let path = format!("/api/v1/participants/{id}/role-changes");
    let replies = futures::future::join_all((0..50).map(|i| {
        let role = if i % 2 == 0 {
            "senior_practitioner"
        } else {
            "practice_manager"
        };
        let day = chrono::NaiveDate::from_ymd_opt(2012, 1, 1).unwrap() + chrono::Days::new(i);
        let body = json!({"effective_on": day, "role": role, "fte": 0.5 + (i as f64) / 100.0});
        let app = &app;
        let path = &path;
        async move { app.post(path, &body).await }
    }))
    .await;
    let successes = replies.iter().filter(|r| r.status == 201).count();
    for r in &replies {
        assert!(
            r.status == 201 || r.status == 409,
            "unexpected {}: {}",
            r.status,
            r.body
        );
    }
    assert!(successes > 0);
    assert_eq!(participant_events(&app, &id).await, 1 + successes);
    // Each success reports a distinct version.
    let mut versions: Vec<u64> = replies
        .iter()
        .filter(|r| r.status == 201)
        .map(|r| r.body["version"].as_u64().unwrap())
        .collect();
    versions.sort();
    versions.dedup();
    assert_eq!(versions.len(), successes);
}

#[tokio::test]
async fn of_concurrent_commands_pinned_to_one_version_exactly_one_wins() {
    let app = spawn_app().await;
    let id = app.register("C-2", "Northshire", "social_worker", "2010-01-04").await;
    let path = format!("/api/v1/participants/{id}/role-changes");
    let replies = futures::future::join_all((0..20).map(|i| {
        let day = chrono::NaiveDate::from_ymd_opt(2012, 1, 1).unwrap() + chrono::Days::new(i);
        let body = json!({"effective_on": day, "role": "senior_practitioner", "fte": 0.5 + (i as f64) / 100.0});
        let app = &app;
        let path = &path;
        async move { app.post_with(path, &body, &[("If-Match", "1")]).await }
    }))
    .await;
    let wins = replies.iter().filter(|r| r.status == 201).count();
    let conflicts = replies.iter().filter(|r| r.status == 409).count();
    assert_eq!(wins, 1);
    assert_eq!(conflicts, 19);
    assert_eq!(participant_events(&app, &id).await, 2);
}
