//! Commands judge with the ladders kept in memory (no query per command),
//! and their commits guard the count of ladder replacements: a replacement
//! made elsewhere (another process, here another runner with its own
//! memory) makes the next command decide again with the ladders read
//! afresh, instead of being judged with a ladder no longer in force.

use aggregates::ladder::{Basis, Ladder, Role};
use aggregates::participant::ParticipantCommand;
use chrono::NaiveDate;
use serde_json::json;
use tenure::commands::{Command, CommandOrigin};
use tenure::event_store::{AppendError, Commit, EventStore, Metadata, NewEvent, StreamWrite, LADDERS_GUARD};
use uuid::Uuid;

use crate::helpers::fresh_database;

const ORG: &str = "Kept Council";

fn origin() -> CommandOrigin {
    CommandOrigin {
        recorded_by: "test".to_string(),
        source: "test".to_string(),
        correlation_id: "ladders-kept".to_string(),
        idempotency: None,
        expected_version: None,
    }
}

fn registration(i: usize) -> (Uuid, Command) {
    let id = Uuid::new_v4();
    let register = ParticipantCommand::Register {
        participant_id: id,
        external_ref: format!("kept-{i}"),
        organisation: ORG.to_string(),
        team: None,
        role: Ladder::children_services_default().role("asye").unwrap(),
        post_id: None,
        basis: Basis::Permanent,
        fte: 1.0,
        joined_on: NaiveDate::from_ymd_opt(2020, 1, 6).unwrap(),
    };
    (id, Command::Participant(id, register))
}

#[tokio::test]
async fn a_replacement_made_elsewhere_is_used_by_the_next_command() {
    let (pool, _) = fresh_database().await;
    let here = tenure::app_state(pool.clone(), &tenure::Settings::default());
    let elsewhere = tenure::app_state(pool.clone(), &tenure::Settings::default());

    // The first command reads the ladders and keeps them: the default one.
    let (_, first) = registration(1);
    here.runner.run(&origin(), &first).await.unwrap();
    let kept = here.runner.ladders().levels_now().await.unwrap();
    assert_eq!(kept.level_of(ORG, "team_manager"), Some(Some(5)));

    // Another runner replaces the organisation's ladder: team manager at 3.
    let roles: Vec<Role> = serde_json::from_value(json!([
        {"code": "asye", "name": "newly qualified social worker", "level": 1},
        {"code": "team_manager", "name": "team manager", "level": 3},
    ]))
    .unwrap();
    elsewhere
        .runner
        .ladders()
        .replace(ORG, roles, "test", None)
        .await
        .unwrap();

    // The next command here is still recorded, and was judged with the new
    // ladder: the one kept was found out of date by its commit.
    let (second_id, second) = registration(2);
    let receipt = here.runner.run(&origin(), &second).await.unwrap();
    assert_eq!(receipt.streams[0].aggregate_id, second_id.to_string());
    let kept = here.runner.ladders().levels_now().await.unwrap();
    assert_eq!(kept.level_of(ORG, "team_manager"), Some(Some(3)));
}

#[tokio::test]
async fn a_commit_guarding_an_older_count_of_replacements_conflicts_on_the_ladders() {
    let (pool, _) = fresh_database().await;
    sqlx::query("INSERT INTO ladder_versions (organisation, version, roles, updated_by) VALUES ('X', 1, '[]', 't')")
        .execute(&pool)
        .await
        .unwrap();
    let commit = |replacements: u64| Commit {
        writes: vec![StreamWrite {
            aggregate_type: "test",
            aggregate_id: format!("s{replacements}"),
            expected_version: 0,
            events: vec![NewEvent {
                event_type: "Tested".into(),
                event_version: "1.0".into(),
                payload: serde_json::value::to_raw_value(&json!({"Tested": {}})).unwrap(),
            }],
        }],
        guards: vec![(LADDERS_GUARD, String::new(), replacements)],
        enrolling_cohorts: None,
        metadata: Metadata {
            recorded_by: "test".into(),
            source: "test".into(),
            correlation_id: "guard".into(),
            idempotency_key: None,
            derivation: None,
        },
        idempotency: None,
    };
    let store = EventStore::new(pool.clone());
    match store.append(commit(0)).await {
        Err(AppendError::Conflict {
            aggregate_type,
            expected,
            actual,
            ..
        }) => assert_eq!((aggregate_type.as_str(), expected, actual), (LADDERS_GUARD, 0, 1)),
        other => panic!("{other:?}"),
    }
    // The same under the append lock (the path a contended command takes).
    let locked = store.holding_append_lock().await.unwrap();
    assert!(matches!(
        locked.append(commit(0)).await,
        Err(AppendError::Conflict { .. })
    ));
    assert_eq!(store.append(commit(1)).await.unwrap().events_appended, 1);
}
