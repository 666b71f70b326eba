//! Contention on one participant: valid commands sent together without
//! `If-Match` all land, as each would alone; a stale `If-Match` is still 409.

use crate::helpers::bodies::{Leaving, Registration, RoleChange};
use crate::helpers::{spawn_app, TestApp};

async fn participant_versions(app: &TestApp, id: &str) -> Vec<u64> {
    app.history("participants", id)
        .await
        .body
        .as_array()
        .expect("a history is a JSON array")
        .iter()
        .map(|event| event["sequence"].as_u64().expect("every event has a sequence"))
        .collect()
}

/// The `i`th of a burst: a day apart from 2012-01-01, each with its own FTE,
/// so every request is a distinct valid role change.
fn nth_change(id: &str, i: u64) -> RoleChange {
    let day = chrono::NaiveDate::from_ymd_opt(2012, 1, 1).expect("a valid date") + chrono::Days::new(i);
    let role = if i % 2 == 0 {
        "senior_practitioner"
    } else {
        "practice_manager"
    };
    RoleChange::new(id, &day.to_string(), role).fte(0.5 + (i as f64) / 100.0)
}

#[tokio::test]
async fn fifty_concurrent_valid_commands_without_if_match_all_land() {
    let app = spawn_app().await;
    let id = app.register("K-1", "Northshire", "social_worker", "2010-01-04").await;
    let changes: Vec<RoleChange> = (0..50).map(|i| nth_change(&id, i)).collect();
    let replies = futures::future::join_all(changes.iter().map(|change| app.send(change))).await;
    for r in &replies {
        assert_eq!(r.status, 201, "every valid command lands: {}", r.body);
    }
    // The registration is version 1; the fifty role changes are 2 to 51,
    // one each, none lost and none twice.
    let mut answered: Vec<u64> = replies.iter().map(|r| r.body["version"].as_u64().unwrap()).collect();
    answered.sort();
    assert_eq!(answered, (2..=51).collect::<Vec<u64>>());
    assert_eq!(participant_versions(&app, &id).await, (1..=51).collect::<Vec<u64>>());
}

#[tokio::test]
async fn a_stale_if_match_under_contention_is_still_a_conflict() {
    let app = spawn_app().await;
    let id = app.register("K-2", "Northshire", "social_worker", "2010-01-04").await;
    let changes: Vec<RoleChange> = (0..10).map(|i| nth_change(&id, i)).collect();
    let replies = futures::future::join_all(changes.iter().map(|change| app.send(change))).await;
    assert!(replies.iter().all(|r| r.status == 201));
    // The participant is at version 11 now; a client still holding version 1
    // is told so.
    let stale = app.send_with(&nth_change(&id, 20), &[("If-Match", "1")]).await;
    assert_eq!(stale.status, 409, "{}", stale.body);
    assert_eq!(stale.str("error"), "conflict");
    assert_eq!(participant_versions(&app, &id).await, (1..=11).collect::<Vec<u64>>());
}

#[tokio::test]
async fn commands_refused_after_waiting_their_turn_release_the_lock() {
    let app = spawn_app().await;
    let id = app.register("K-3", "Northshire", "social_worker", "2010-01-04").await;
    // Ten leavings on different days: the first to land makes the other nine
    // refusals (a leaver cannot leave again), decided while holding the lock.
    let leavings: Vec<Leaving> = (0..10)
        .map(|i| {
            let day = chrono::NaiveDate::from_ymd_opt(2015, 1, 1).expect("a valid date") + chrono::Days::new(i);
            Leaving::new(&id, &day.to_string(), "resigned")
        })
        .collect();
    let replies = futures::future::join_all(leavings.iter().map(|leaving| app.send(leaving))).await;
    assert_eq!(replies.iter().filter(|r| r.status == 201).count(), 1);
    assert_eq!(replies.iter().filter(|r| r.status == 422).count(), 9);
    assert_eq!(participant_versions(&app, &id).await, vec![1, 2]);
    // A refusal rolled its transaction back, so the next commit is not
    // kept waiting for the lock.
    let next = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        app.send(&Registration::new("K-4", "Northshire", "social_worker", "2010-01-04")),
    )
    .await
    .expect("the append lock was released");
    assert_eq!(next.status, 201, "{}", next.body);
}
