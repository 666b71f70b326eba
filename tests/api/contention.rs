//! Contention on one participant: valid commands sent together without
//! `If-Match` all land, as each would alone; a stale `If-Match` is still 409;
//! and two commands to different streams whose rules read each other cannot
//! both land when together they break a rule.

use crate::helpers::bodies::{CohortOpening, Enrolment, Leaving, Registration, RoleChange};
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

/// Waits until a session waits for a lock on the `events` table.
async fn wait_for_a_blocked_insert(app: &TestApp) {
    for _ in 0..500 {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_locks \
             WHERE locktype = 'relation' AND relation = 'events'::regclass AND NOT granted",
        )
        .fetch_one(&app.pool)
        .await
        .unwrap();
        if waiting > 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("the enrolment's commit never waited for the events table");
}

#[tokio::test]
async fn an_enrolment_and_a_backdated_leaving_decided_together_cannot_both_land() {
    let app = spawn_app().await;
    let cohort = app.record(&CohortOpening::new("PLDP", "2017", "2017-04-01")).await.id();
    let ann = app
        .register("RACE-1", "Northshire", "social_worker", "2015-01-01")
        .await;

    // Block inserts into the events table (reads go on): the enrolment
    // (Ann employed on 2017-04-01) is decided and its commit waits; then the
    // leaving dated 2016-06-01 is decided, finding no cohort enrolling Ann,
    // and waits its turn behind it.
    // (As the owner: the server role may not lock the event store so.)
    let owner = crate::helpers::superuser_pool(&app.pool).await;
    let mut holder = owner.begin().await.unwrap();
    sqlx::query("LOCK TABLE events IN SHARE MODE")
        .execute(&mut *holder)
        .await
        .unwrap();
    let enrol = {
        let app = app.clone();
        let body = Enrolment::new(&cohort, &ann, "2017-04-01");
        tokio::spawn(async move { app.send(&body).await })
    };
    wait_for_a_blocked_insert(&app).await;
    let leave = {
        let app = app.clone();
        let body = Leaving::new(&ann, "2016-06-01", "resigned");
        tokio::spawn(async move { app.send(&body).await })
    };
    // Time for the leaving to be decided (a few milliseconds); should it
    // take longer, it is decided after the enrolment and refused all the same.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    holder.rollback().await.unwrap();

    let (enrolled, left) = (enrol.await.unwrap(), leave.await.unwrap());
    assert_eq!(enrolled.status, 201, "{}", enrolled.body);
    // Decided again under the lock, the leaving now sees the enrolment.
    assert_eq!(left.status, 422, "{}", left.body);
    assert_eq!(left.str("error"), "participant_not_employed");
}
