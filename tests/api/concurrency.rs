//! Concurrent commands on one aggregate: each is applied or answered 409,
//! never lost.

use crate::helpers::bodies::RoleChange;
use crate::helpers::{spawn_app, TestApp};

async fn participant_events(app: &TestApp, id: &str) -> usize {
    app.history("participants", id)
        .await
        .body
        .as_array()
        .expect("a history is a JSON array")
        .len()
}

/// The `i`th of a burst of role changes: a day apart from 2012-01-01, each
/// with its own FTE, so no two are the same request.
fn nth_change(id: &str, i: u64, role: &str) -> RoleChange {
    let day = chrono::NaiveDate::from_ymd_opt(2012, 1, 1).expect("a valid date") + chrono::Days::new(i);
    RoleChange::new(id, &day.to_string(), role).fte(0.5 + (i as f64) / 100.0)
}

#[tokio::test]
async fn fifty_concurrent_commands_append_exactly_one_event_per_success() {
    let app = spawn_app().await;
    let id = app.register("C-1", "Northshire", "social_worker", "2010-01-04").await;
    let changes: Vec<RoleChange> = (0..50)
        .map(|i| {
            let role = if i % 2 == 0 {
                "senior_practitioner"
            } else {
                "practice_manager"
            };
            nth_change(&id, i, role)
        })
        .collect();
    let replies = futures::future::join_all(changes.iter().map(|change| app.send(change))).await;
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
    let changes: Vec<RoleChange> = (0..20).map(|i| nth_change(&id, i, "senior_practitioner")).collect();
    let replies =
        futures::future::join_all(changes.iter().map(|change| app.send_with(change, &[("If-Match", "1")]))).await;
    let wins = replies.iter().filter(|r| r.status == 201).count();
    let conflicts = replies.iter().filter(|r| r.status == 409).count();
    assert_eq!(wins, 1);
    assert_eq!(conflicts, 19);
    assert_eq!(participant_events(&app, &id).await, 2);
}
