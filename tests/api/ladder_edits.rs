//! Ladder edits (issue #9, "Figure bugs / Ladder edits"; docs/metrics.md
//! decision 14): the ladder as known at the moment a report answers for
//! applies to the whole of history, so a move recorded before an edit and
//! one recorded after it are judged alike; `known_at` before the edit gives
//! the figures as they were; an edit that would leave a recorded role
//! without its rung is refused.

use projections::projector::{Projector, LIVE_SCHEMA};
use projections::tables::load_dataset;
use serde_json::{json, Value};

use crate::helpers::bodies::RoleChange;
use crate::helpers::reports::{cell, row, Row};
use crate::helpers::{load_demo, spawn_app, TestApp};

const ORG: &str = "Xshire";
const PROMOTIONS: &str = "programme=PLDP&as_at=2019-01-01&targets=service_manager";

/// Xshire's edited ladder: team manager is level 3 and service manager 4
/// (the default has 5 and 6); head of service, at 3, is now level with team
/// manager. Every role Xshire's people hold keeps a level.
fn edited_ladder() -> Value {
    json!({"roles": [
        {"code": "social_worker", "name": "social worker", "level": 1},
        {"code": "team_manager", "name": "team manager", "level": 3},
        {"code": "head_of_service", "name": "head of service", "level": 3},
        {"code": "service_manager", "name": "service manager", "level": 4},
    ]})
}

/// The total row of the promotions report, live or as known at `known_at`.
async fn totals(app: &TestApp, known_at: Option<&str>) -> Row {
    let rows = match known_at {
        Some(at) => app.report_csv_known_at("promotions", PROMOTIONS, at).await,
        None => app.report_csv("promotions", PROMOTIONS).await,
    };
    row(&rows, "cohort", "total").clone()
}

/// (size, promoted to service manager, promoted other, remained).
fn outcomes(total: &Row) -> [&str; 4] {
    [
        "cohort_size",
        "promoted_to_service_manager",
        "promoted_other",
        "remained",
    ]
    .map(|c| cell(total, c))
}

/// The moves table's kinds for one participant, in order.
async fn move_kinds(app: &TestApp, participant: &str) -> Vec<(String, Option<i16>, Option<i16>)> {
    let id: uuid::Uuid = participant.parse().unwrap();
    sqlx::query_as(
        "SELECT kind, from_level, to_level FROM read_models.moves WHERE participant_id = $1 ORDER BY ordinal",
    )
    .bind(id)
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_move_recorded_after_a_ladder_edit_is_judged_like_one_recorded_before_it() {
    let app = spawn_app().await;
    let cohort = app.open_cohort("PLDP", "2016", "2016-01-01").await;
    // Before the edit (default ladder): Ann and Carl are team managers
    // (level 5); Carl becomes head of service (7): a promotion.
    let ann = app.register("LE-ANN", ORG, "team_manager", "2015-01-01").await;
    let carl = app.register("LE-CARL", ORG, "team_manager", "2015-01-01").await;
    app.enrol(&cohort, &ann, "2016-01-01").await;
    app.enrol(&cohort, &carl, "2016-01-01").await;
    let carl_moved = app.change_role(&carl, "2016-06-01", "head_of_service").await;
    let before_edit = carl_moved.str("recorded_at").to_string();
    // Ann remained, Carl promoted to another post.
    assert_eq!(outcomes(&totals(&app, None).await), ["2", "0", "1", "1"]);

    let put = app.replace_ladder(ORG, &edited_ladder(), &[]).await;
    assert_eq!(put.status, 200, "{}", put.body);
    // The PUT answers once the read models judge by the new ladder: asked
    // at once (with min_position), Carl's move is team manager (3) to head
    // of service (3) in the same place: a change of terms, no move
    // (decision 13), so he remained.
    assert_eq!(outcomes(&totals(&app, None).await), ["2", "0", "0", "2"]);
    assert!(move_kinds(&app, &carl).await.is_empty());
    // That answer's last_recorded_at is the edit's (no event came after it),
    // so asking with it as known_at reproduces the answer.
    let live = app.report("promotions", PROMOTIONS).await;
    let reflected = live.body["provenance"]["last_recorded_at"]
        .as_str()
        .unwrap()
        .to_string();
    let at = |text: &str| chrono::DateTime::parse_from_rfc3339(text).unwrap();
    assert!(
        at(&reflected) > at(&before_edit),
        "{reflected} is not after {before_edit}"
    );
    assert_eq!(outcomes(&totals(&app, Some(&reflected)).await), ["2", "0", "0", "2"]);

    // Bob is registered after the edit: his event records team manager at 3.
    let bob = app.register("LE-BOB", ORG, "team_manager", "2015-01-01").await;
    app.enrol(&cohort, &bob, "2016-01-01").await;
    let bob_registered = app.max_position().await;
    let known_after_edit = sqlx::query_scalar::<_, chrono::DateTime<chrono::Utc>>(
        "SELECT recorded_at FROM events WHERE global_position = $1",
    )
    .bind(bob_registered)
    .fetch_one(&app.pool)
    .await
    .unwrap()
    .to_rfc3339();

    // The same move for both: team manager to service manager. Ann's
    // registration recorded level 5, Bob's 3; by Xshire's ladder now both
    // are 3 → 4, a promotion.
    app.change_role(&ann, "2017-01-01", "service_manager").await;
    app.change_role(&bob, "2017-01-01", "service_manager").await;
    // 3 members: Ann and Bob promoted to service manager, Carl remained.
    assert_eq!(outcomes(&totals(&app, None).await), ["3", "2", "0", "1"]);
    for person in [&ann, &bob] {
        assert_eq!(
            move_kinds(&app, person).await,
            [("promotion".to_string(), Some(3), Some(4))],
            "levels are the ladder's now, not the recorded ones"
        );
    }

    // The participant's state shows the level by Xshire's ladder too (the
    // default ladder would say 6).
    let state = app.participant(&ann).await;
    assert_eq!(state.body["employment"]["role"]["level"], 4, "{}", state.body);

    // As known before the edit: the default ladder, Carl promoted (5 → 7),
    // Ann remained; Bob not yet registered.
    assert_eq!(outcomes(&totals(&app, Some(&before_edit)).await), ["2", "0", "1", "1"]);
    // As known after the edit but before the moves: everyone remained.
    assert_eq!(
        outcomes(&totals(&app, Some(&known_after_edit)).await),
        ["3", "0", "0", "3"]
    );

    // Rebuilt tables equal the incrementally built (and re-derived) ones,
    // and both equal a replay of everything with today's ladders.
    let incremental = projections::tables::load_dataset(&app.pool, "read_models")
        .await
        .unwrap()
        .0;
    let (replayed, _) = projections::replay::dataset_known_at(&app.pool, None).await.unwrap();
    assert_eq!(incremental, replayed);
    let rebuilt = app.rebuild().await;
    assert_eq!(rebuilt.status, 200, "{}", rebuilt.body);
    let after_rebuild = projections::tables::load_dataset(&app.pool, "read_models")
        .await
        .unwrap()
        .0;
    assert_eq!(incremental, after_rebuild);
}

#[tokio::test]
async fn a_ladder_edit_that_would_drop_a_recorded_role_or_its_level_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    app.register("RU-1", ORG, "team_manager", "2015-01-01").await;
    let post = app
        .establish_post(ORG, "Service manager (north)", "service_manager", "2015-01-01")
        .await;
    assert!(!post.is_empty());
    let events = app.event_count().await;

    // Without team_manager (held by RU-1's registration), or with it off
    // the ladder: 422 role_in_use naming it.
    let dropped = json!({"roles": [{"code": "service_manager", "name": "service manager", "level": 4}]});
    let no_level = json!({"roles": [
        {"code": "team_manager", "name": "team manager", "level": null},
        {"code": "service_manager", "name": "service manager", "level": 4},
    ]});
    for ladder in [&dropped, &no_level] {
        let refused = app.replace_ladder(ORG, ladder, &[]).await;
        assert_eq!(refused.status, 422, "{}", refused.body);
        assert_eq!(refused.str("error"), "role_in_use");
        assert_eq!(refused.str("field"), "roles");
        assert!(refused.str("message").contains("team_manager"), "{}", refused.body);
    }
    // A post's role is recorded too: dropping service_manager is refused.
    let no_post_role = json!({"roles": [{"code": "team_manager", "name": "team manager", "level": 3}]});
    let refused = app.replace_ladder(ORG, &no_post_role, &[]).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.str("message").contains("service_manager"), "{}", refused.body);

    // Nothing changed: still the default ladder, no events.
    let ladder = app.ladder(ORG).await;
    assert_eq!(
        (ladder.body["is_default"].as_bool(), ladder.body["version"].as_i64()),
        (Some(true), Some(0))
    );
    let versions: i64 = sqlx::query_scalar("SELECT count(*) FROM ladder_versions")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(versions, 0);
    assert_eq!(app.event_count().await, events);

    // Keeping both roles with levels (and adding one) lands, and a role
    // nobody holds may go again; another organisation's ladder is its own.
    let kept = json!({"roles": [
        {"code": "team_manager", "name": "team manager", "level": 3},
        {"code": "service_manager", "name": "service manager", "level": 4},
        {"code": "adviser", "name": "adviser", "level": null},
    ]});
    assert_eq!(app.replace_ladder(ORG, &kept, &[]).await.status, 200);
    let without_adviser = json!({"roles": [
        {"code": "team_manager", "name": "team manager", "level": 3},
        {"code": "service_manager", "name": "service manager", "level": 4},
    ]});
    assert_eq!(app.replace_ladder(ORG, &without_adviser, &[]).await.status, 200);
    let elsewhere = json!({"roles": [{"code": "caseworker", "name": "caseworker", "level": 1}]});
    assert_eq!(app.replace_ladder("Elsewhere", &elsewhere, &[]).await.status, 200);
    assert_eq!(app.ladder(ORG).await.body["version"], 2);
}

#[tokio::test]
async fn the_projector_re_derives_whoever_a_ladder_it_has_not_applied_concerns() {
    // A ladder the read models were never judged with: as after migration
    // 0005 over a store whose ladders predate it, or a rebuild's fresh
    // tables. The projector's next pass brings the rows in line.
    let (pool, _) = crate::helpers::fresh_database().await;
    load_demo(&pool).await;
    let projector = Projector::live(pool.clone());
    // Other tests' transactions in the cluster may hold the gap-free reader
    // back for a moment: project until every event is applied.
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&pool)
        .await
        .unwrap();
    while projections::projector::checkpoint(&pool, LIVE_SCHEMA)
        .await
        .unwrap()
        .events_applied
        < total
    {
        projector.catch_up().await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let (default_judged, _) = load_dataset(&pool, LIVE_SCHEMA).await.unwrap();

    // Riverside Council's ladder with team and practice manager swapped
    // (4 ↔ 5), written straight into the table, as no PUT re-derived it.
    let mut roles = aggregates::Ladder::children_services_default().roles().to_vec();
    for role in &mut roles {
        role.level = match role.code.as_str() {
            "team_manager" => Some(4),
            "practice_manager" => Some(5),
            _ => role.level,
        };
    }
    sqlx::query("INSERT INTO ladders (organisation, roles, updated_by) VALUES ('Riverside Council', $1, 'test')")
        .bind(sqlx::types::Json(&roles))
        .execute(&pool)
        .await
        .unwrap();
    // No new events: the pass only re-derives.
    assert_eq!(projector.catch_up().await.unwrap(), 0);
    let (re_derived, _) = load_dataset(&pool, LIVE_SCHEMA).await.unwrap();
    assert_ne!(
        re_derived, default_judged,
        "the demo has Riverside moves between the two roles"
    );
    let (replayed, _) = projections::replay::dataset_known_at(&pool, None).await.unwrap();
    assert_eq!(re_derived, replayed);
    // A rebuild from zero gives the same rows as the re-derived tables.
    projections::projector::rebuild(&pool).await.unwrap();
    let (rebuilt, _) = load_dataset(&pool, LIVE_SCHEMA).await.unwrap();
    assert_eq!(rebuilt, re_derived);
    // Every Riverside spell in either role carries the swapped level.
    let levels: Vec<(String, Option<i16>)> = sqlx::query_as(
        "SELECT DISTINCT role_code, role_level FROM read_models.spells \
          WHERE organisation = 'Riverside Council' AND role_code IN ('team_manager', 'practice_manager') \
          ORDER BY role_code",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        levels,
        [
            ("practice_manager".to_string(), Some(5)),
            ("team_manager".to_string(), Some(4))
        ]
    );
}

#[tokio::test]
async fn a_command_judges_both_ends_of_a_move_with_the_ladder_in_force_now() {
    let app = spawn_app().await;
    // Registered as inspector, off the default ladder (recorded level null).
    let id = app.register("CJ-1", "Yshire", "inspector", "2015-01-01").await;
    // Yshire puts inspectors on its ladder at 2 (giving a level is allowed).
    let ladder = json!({"roles": [
        {"code": "inspector", "name": "inspector", "level": 2},
        {"code": "team_manager", "name": "team manager", "level": 3},
    ]});
    let put = app.replace_ladder("Yshire", &ladder, &[]).await;
    assert_eq!(put.status, 200, "{}", put.body);
    // A move to team manager needs no kind now: 2 → 3, a promotion. By the
    // recorded level (null) it would be 422 move_kind_required.
    let moved = app.send(&RoleChange::new(&id, "2017-01-01", "team_manager")).await;
    assert_eq!(moved.status, 201, "{}", moved.body);
    // Once the projector has the move (a report with min_position waits for it):
    app.report_csv("leavers", "organisation=Yshire&from=2017-01-01&to=2017-12-31")
        .await;
    assert_eq!(
        move_kinds(&app, &id).await,
        [("promotion".to_string(), Some(2), Some(3))]
    );
}
