//! Judging a history with the ladders in force (docs/metrics.md decision
//! 14): given a participant's events and the ladders, when a command is
//! decided or the history derived, then every level comes from the ladder
//! of the organisation where the role is held, not from the events.

use std::collections::BTreeMap;

use cqrs_es::Aggregate;

use super::tests::{change, changed, ctx, registered, role};
use super::*;
use crate::ladder::{Ladder, MoveKind, Role};

/// The ladders: `X` has its own (`roles` as code and level), every other
/// organisation the default.
fn x_ladder(roles: &[(&str, Option<u8>)]) -> Levels {
    let roles = roles
        .iter()
        .map(|(code, level)| Role {
            code: code.to_string(),
            name: code.to_string(),
            level: *level,
        })
        .collect();
    Levels::new(BTreeMap::from([(
        "X".to_string(),
        Ladder::new(roles).expect("a ladder"),
    )]))
}

/// Xshire's edited ladder of the issue: team manager 3, service manager 4
/// (5 and 6 on the default), head of service level with team manager.
fn edited() -> Levels {
    x_ladder(&[
        ("team_manager", Some(3)),
        ("head_of_service", Some(3)),
        ("service_manager", Some(4)),
        ("adviser", None),
        ("inspector", Some(2)),
    ])
}

/// Registered in X on 2015-01-05 as `role` (with the level recorded then).
fn registered_in_x(recorded: RoleRef) -> ParticipantEvent {
    let mut e = registered("2015-01-05");
    if let ParticipantEvent::Registered { organisation, role, .. } = &mut e {
        *organisation = "X".into();
        *role = recorded;
    }
    e
}

/// Given `events`, judged with `levels`.
fn given(levels: Levels, events: Vec<ParticipantEvent>) -> Participant {
    let mut p = Participant::default().judged_with(levels);
    for e in events {
        p.apply(e);
    }
    p
}

/// The kinds of the participant's moves with their judged levels.
fn moves(p: &Participant) -> Vec<(MoveKind, Option<u8>, Option<u8>)> {
    p.timeline()
        .expect("a valid history")
        .moves()
        .iter()
        .map(|m| (m.kind, m.from_role.level, m.to_role.level))
        .collect()
}

#[test]
fn a_move_is_judged_by_the_ladder_now_whatever_level_the_registration_recorded() {
    // Ann registered before the edit (team manager recorded at 5), Bob
    // after it (at 3); both become service manager (recorded at 4).
    for recorded in [Some(5), Some(3)] {
        let p = given(
            edited(),
            vec![
                registered_in_x(role("team_manager", recorded)),
                changed("2017-01-01", role("service_manager", Some(4)), "X", None),
            ],
        );
        // 3 → 4 by X's ladder: a promotion for both.
        assert_eq!(
            moves(&p),
            [(MoveKind::Promotion, Some(3), Some(4))],
            "recorded {recorded:?}"
        );
        // Spells carry the ladder's levels too; the events keep theirs.
        let levels: Vec<_> = p.timeline().unwrap().spells().iter().map(|s| s.role.level).collect();
        assert_eq!(levels, [Some(3), Some(4)]);
        assert!(matches!(p.event(1), Some(ParticipantEvent::Registered { role, .. }) if role.level == recorded));
    }
}

#[test]
fn a_code_the_ladder_does_not_know_keeps_its_recorded_level() {
    // "wizard" is on no ladder of X's: recorded 2 → team manager (3) is a
    // promotion; recorded 4 → a demotion.
    for (recorded, kind) in [(2, MoveKind::Promotion), (4, MoveKind::Demotion)] {
        let p = given(
            edited(),
            vec![
                registered_in_x(role("wizard", Some(recorded))),
                changed("2017-01-01", role("team_manager", Some(3)), "X", None),
            ],
        );
        assert_eq!(moves(&p), [(kind, Some(recorded), Some(3))]);
    }
}

#[test]
fn a_kind_given_when_recorded_wins_over_the_ladder() {
    let p = given(
        edited(),
        vec![
            registered_in_x(role("team_manager", Some(5))),
            changed(
                "2017-01-01",
                role("service_manager", Some(4)),
                "X",
                Some(MoveKind::Demotion),
            ),
        ],
    );
    assert_eq!(moves(&p), [(MoveKind::Demotion, Some(3), Some(4))]);
    assert!(p.timeline().unwrap().moves()[0].kind_given);
}

#[test]
fn another_role_of_the_same_level_by_the_edited_ladder_is_a_change_of_terms() {
    let events = vec![
        registered_in_x(role("team_manager", Some(5))),
        changed("2016-06-01", role("head_of_service", Some(7)), "X", None),
    ];
    // Default ladder: 5 → 7, a promotion.
    assert_eq!(
        moves(&given(Levels::default(), events.clone())),
        [(MoveKind::Promotion, Some(5), Some(7))]
    );
    // X's ladder: 3 → 3 in the same organisation and post: no move
    // (decision 13), only a new spell.
    let p = given(edited(), events);
    assert!(moves(&p).is_empty());
    assert_eq!(p.timeline().unwrap().spells().len(), 2);
}

#[test]
fn each_end_of_a_move_between_organisations_takes_its_own_organisations_ladder() {
    // X team manager (3 by X's ladder) → Y practice manager (4 by the
    // default): a promotion, though 5 → 4 by the recorded levels.
    let p = given(
        edited(),
        vec![
            registered_in_x(role("team_manager", Some(5))),
            changed("2017-01-01", role("practice_manager", Some(4)), "Y", None),
        ],
    );
    assert_eq!(moves(&p), [(MoveKind::Promotion, Some(3), Some(4))]);
    assert!(!p.timeline().unwrap().moves()[0].internal);
    // Y team manager (5) → X service manager (4): a demotion.
    let mut in_y = registered_in_x(role("team_manager", Some(5)));
    if let ParticipantEvent::Registered { organisation, .. } = &mut in_y {
        *organisation = "Y".into();
    }
    let p = given(
        edited(),
        vec![in_y, changed("2017-01-01", role("service_manager", Some(4)), "X", None)],
    );
    assert_eq!(moves(&p), [(MoveKind::Demotion, Some(5), Some(4))]);
}

#[test]
fn a_command_needs_a_kind_exactly_when_a_role_is_off_the_ladder_now() {
    // Adviser had level 2 when recorded; X's ladder now has it off the
    // ladder: a move from it needs its kind.
    let adviser = given(edited(), vec![registered_in_x(role("adviser", Some(2)))]);
    let refused = adviser.decide(change("2017-01-01", role("team_manager", Some(3)), "X", None), &ctx());
    assert_eq!(
        refused,
        Err(ParticipantError::MoveKindRequired {
            from: "adviser".into(),
            to: "team_manager".into(),
        })
    );
    assert_eq!(refused.unwrap_err().code(), "move_kind_required");
    // Inspector was recorded off the ladder; X's ladder now gives it 2: a
    // move to team manager (3) is a promotion and needs no kind.
    let events = vec![registered_in_x(role("inspector", None))];
    let inspector = given(edited(), events.clone());
    let command = change("2017-01-01", role("team_manager", Some(3)), "X", None);
    let event = inspector.decide(command.clone(), &ctx()).expect("judged by X's ladder");
    let mut after = inspector.clone();
    after.apply(event);
    assert_eq!(moves(&after), [(MoveKind::Promotion, Some(2), Some(3))]);
    // Judged with the default ladder (inspector off it) the same command is refused.
    let by_default = given(Levels::default(), events);
    assert!(matches!(
        by_default.decide(command, &ctx()),
        Err(ParticipantError::MoveKindRequired { .. })
    ));
}

#[test]
fn judging_again_with_other_ladders_re_derives_the_history() {
    let p = given(
        Levels::default(),
        vec![
            registered_in_x(role("team_manager", Some(5))),
            changed("2017-01-01", role("service_manager", Some(4)), "X", None),
        ],
    );
    // Default ladder: 5 → 6.
    assert_eq!(moves(&p), [(MoveKind::Promotion, Some(5), Some(6))]);
    let p = p.judged_with(edited());
    assert_eq!(moves(&p), [(MoveKind::Promotion, Some(3), Some(4))]);
    assert_eq!(p.levels(), &edited());
}
