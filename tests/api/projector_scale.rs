//! The projector's cost does not grow with the store where it need not: its
//! reads walk the commit-order index instead of sorting the whole table, and
//! a burst of commits does not leave it a backlog of wake-ups to work
//! through once it has caught up.

use std::time::Duration;

use aggregates::ladder::{Basis, Ladder};
use aggregates::participant::ParticipantCommand;
use chrono::NaiveDate;
use projections::projector::{checkpoint, Projector, LIVE_SCHEMA};
use projections::source::{read_after_sql, recorded_until_sql};
use serde_json::Value;
use tenure::commands::{Command, CommandOrigin};
use uuid::Uuid;

use crate::helpers::{fresh_database, load_demo};

/// Whether `plan` (EXPLAIN's JSON) sorts anywhere.
fn sorts(plan: &Value) -> bool {
    plan.to_string().contains("Sort Key")
}

#[tokio::test]
async fn the_gap_safe_reader_and_the_known_at_read_take_commit_order_from_the_index() {
    let (pool, _) = fresh_database().await;
    load_demo(&pool).await;
    let mut conn = pool.acquire().await.unwrap();
    // On a store this small a scan and sort is cheapest; with sorting
    // priced out the plan shows whether the index can give the order at
    // all (it cannot when the query sorts by the `transaction_id::text::bigint`
    // alias, which then still sorts).
    sqlx::query("SET enable_sort = off").execute(&mut *conn).await.unwrap();

    let plan: Value = sqlx::query_scalar(&format!("EXPLAIN (FORMAT JSON) {}", read_after_sql()))
        .bind("0")
        .bind(0_i64)
        .bind(100_i64)
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert!(!sorts(&plan), "read_after sorts: {plan}");
    assert!(plan.to_string().contains("events_transaction_position_idx"), "{plan}");

    let plan: Value = sqlx::query_scalar(&format!("EXPLAIN (FORMAT JSON) {}", recorded_until_sql()))
        .bind(Some(chrono::Utc::now()))
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert!(!sorts(&plan), "recorded_until sorts: {plan}");
}

/// Waits until the live read models have applied every event in the store.
async fn wait_until_caught_up(pool: &sqlx::PgPool) {
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(pool)
        .await
        .unwrap();
    for _ in 0..600 {
        if checkpoint(pool, LIVE_SCHEMA).await.unwrap().events_applied == events {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the projector did not catch up with {events} events");
}

#[tokio::test]
async fn after_a_burst_of_commits_a_caught_up_projector_makes_a_bounded_number_of_passes() {
    const COMMITS: usize = 120;
    let (pool, _) = fresh_database().await;
    let state = tenure::app_state(pool.clone(), &tenure::Settings::default());
    let projector = Projector::live(pool.clone());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(projector.clone().run(async {
        let _ = stopped.await;
    }));
    wait_until_caught_up(&pool).await;
    // Let the first pass finish waiting for a notification.
    tokio::time::sleep(Duration::from_millis(200)).await;

    // Hold the checkpoint while the burst is committed, so the projector
    // applies none of it and every commit's notification arrives while it
    // is behind: the backlog a busy projector sees after a burst.
    let mut holder = pool.begin().await.unwrap();
    sqlx::query(&format!("SELECT 1 FROM {LIVE_SCHEMA}.checkpoint FOR UPDATE"))
        .execute(&mut *holder)
        .await
        .unwrap();
    let origin = CommandOrigin {
        recorded_by: "test".to_string(),
        source: "test".to_string(),
        correlation_id: "burst".to_string(),
        idempotency: None,
        expected_version: None,
    };
    let role = Ladder::children_services_default().role("asye").unwrap();
    for i in 0..COMMITS {
        let id = Uuid::new_v4();
        let register = ParticipantCommand::Register {
            participant_id: id,
            external_ref: format!("burst-{i}"),
            organisation: "Burst Council".to_string(),
            team: None,
            role: role.clone(),
            post_id: None,
            basis: Basis::Permanent,
            fte: 1.0,
            joined_on: NaiveDate::from_ymd_opt(2020, 1, 6).unwrap(),
        };
        state
            .runner
            .run(&origin, &Command::Participant(id, register))
            .await
            .unwrap();
    }
    let before_release = projector.passes();
    holder.rollback().await.unwrap();

    wait_until_caught_up(&pool).await;
    // Long enough for a projector that spends one pass per notification to
    // work through a backlog of 120 (each pass is a few milliseconds), and
    // shorter than the 5 s fallback poll.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let after_release = projector.passes() - before_release;
    // One pass catches up; one more may follow for the notifications that
    // arrived during it; one may have started just before the release.
    assert!(
        after_release <= 4,
        "{after_release} passes after a burst of {COMMITS} commits"
    );
    // And it is still awake: a new commit is applied.
    let id = Uuid::new_v4();
    let register = ParticipantCommand::Register {
        participant_id: id,
        external_ref: "after-the-burst".to_string(),
        organisation: "Burst Council".to_string(),
        team: None,
        role,
        post_id: None,
        basis: Basis::Permanent,
        fte: 1.0,
        joined_on: NaiveDate::from_ymd_opt(2020, 1, 6).unwrap(),
    };
    state
        .runner
        .run(&origin, &Command::Participant(id, register))
        .await
        .unwrap();
    wait_until_caught_up(&pool).await;
    stop.send(()).unwrap();
    running.await.unwrap();
}
