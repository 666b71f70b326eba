//! `Timeline` derivations worked by hand: spells, moves, leavings and
//! exclusions for small histories, including late records and retractions.

use super::tests::{changed, day, left, registered, rejoined, retracted, role, sw, tm};
use super::*;
use crate::ladder::{Levels, MoveKind, RoleRef};

/// `(sequence, event)` in stream order, numbered from 1.
fn stream(events: Vec<ParticipantEvent>) -> Vec<(u64, ParticipantEvent)> {
    (1..).zip(events).collect()
}

fn build(events: Vec<ParticipantEvent>) -> Timeline {
    Timeline::build(&stream(events), &Levels::default()).expect("a valid history")
}

fn sp() -> RoleRef {
    role("senior_practitioner", Some(3))
}

fn sm() -> RoleRef {
    role("service_manager", Some(6))
}

#[test]
fn a_higher_level_is_a_promotion_a_lower_one_a_demotion_an_equal_one_elsewhere_sideways() {
    let t = build(vec![
        registered("2015-01-05"),
        changed("2016-01-01", tm(), "Northshire", None),
        changed("2017-01-01", sp(), "Northshire", None),
        changed("2018-01-01", sp(), "Southshire", None),
    ]);
    let kinds: Vec<MoveKind> = t.moves().iter().map(|m| m.kind).collect();
    assert_eq!(kinds, [MoveKind::Promotion, MoveKind::Demotion, MoveKind::Sideways]);
    assert!(t.moves().iter().all(|m| !m.kind_given));
    assert_eq!(t.moves()[0].from_role, sw());
    assert_eq!(t.moves()[0].to_role, tm());
    assert_eq!(t.moves()[0].sequence, 2);
    assert_eq!(t.moves()[2].effective_on, day("2018-01-01"));
}

#[test]
fn a_change_of_terms_only_is_not_a_move_but_starts_a_new_spell() {
    let mut terms = changed("2016-01-01", sw(), "Northshire", None);
    if let ParticipantEvent::RoleChanged { team, fte, .. } = &mut terms {
        *team = Some("West".into());
        *fte = Some(0.5);
    }
    let t = build(vec![registered("2015-01-05"), terms]);
    assert!(t.moves().is_empty());
    assert_eq!(t.spells().len(), 2);
    assert_eq!(t.spells()[0].until, Some(day("2016-01-01")));
    assert_eq!(t.spells()[0].ended_by, Some(SpellEnd::RoleChange));
    assert_eq!(t.spells()[1].fte, 0.5);
    assert_eq!(t.spells()[1].started_sequence, 2);
}

#[test]
fn another_role_of_the_same_level_in_the_same_place_is_not_a_move() {
    // An edited ladder with two level-3 roles: senior → advanced
    // practitioner in the same organisation and post is no move (docs/metrics.md:
    // sideways only when the post or organisation differs); the same change
    // into another organisation is sideways.
    let ap = role("advanced_practitioner", Some(3));
    let t = build(vec![
        registered("2015-01-05"),
        changed("2016-01-01", sp(), "Northshire", Some(MoveKind::Promotion)),
        changed("2017-01-01", ap.clone(), "Northshire", None),
        changed("2018-01-01", sp(), "Southshire", None),
    ]);
    let kinds: Vec<MoveKind> = t.moves().iter().map(|m| m.kind).collect();
    assert_eq!(kinds, [MoveKind::Promotion, MoveKind::Sideways]);
    assert_eq!(t.moves()[1].from_role, ap);
    assert_eq!(t.spells().len(), 4);
}

/// A role change to team manager on `on` that gives no FTE.
fn promoted_keeping_fte(on: &str) -> ParticipantEvent {
    let mut e = changed(on, tm(), "Northshire", None);
    if let ParticipantEvent::RoleChanged { fte, .. } = &mut e {
        *fte = None;
    }
    e
}

/// A change of terms to 0.5 FTE on `on`.
fn half_time(on: &str) -> ParticipantEvent {
    let mut e = changed(on, sw(), "Northshire", None);
    if let ParticipantEvent::RoleChanged { fte, .. } = &mut e {
        *fte = Some(0.5);
    }
    e
}

#[test]
fn a_role_change_without_fte_keeps_the_fte_of_the_spell_it_ends_as_history_now_stands() {
    // Joined at 0.8; half time from 2016-03-01; promoted 2016-06-01 with no
    // FTE: 0.5. Retract the half-time change: the promotion keeps 0.8.
    let t = build(vec![
        registered("2015-01-05"),
        half_time("2016-03-01"),
        promoted_keeping_fte("2016-06-01"),
    ]);
    assert_eq!(t.spells()[2].fte, 0.5);
    let t = build(vec![
        registered("2015-01-05"),
        half_time("2016-03-01"),
        promoted_keeping_fte("2016-06-01"),
        retracted(2),
    ]);
    assert_eq!(t.spells().last().map(|s| s.fte), Some(0.8));
    // Promotion recorded first, the half-time change late: 0.8 → 0.5 → 0.5.
    let t = build(vec![
        registered("2015-01-05"),
        promoted_keeping_fte("2016-06-01"),
        half_time("2016-03-01"),
    ]);
    let ftes: Vec<f64> = t.spells().iter().map(|s| s.fte).collect();
    assert_eq!(ftes, [0.8, 0.5, 0.5]);
}

#[test]
fn a_given_kind_wins_over_the_derived_one() {
    let t = build(vec![
        registered("2015-01-05"),
        changed("2016-01-01", tm(), "Northshire", Some(MoveKind::Sideways)),
    ]);
    assert_eq!(t.moves()[0].kind, MoveKind::Sideways);
    assert!(t.moves()[0].kind_given);
}

#[test]
fn a_given_kind_makes_even_a_same_role_change_a_move() {
    let t = build(vec![
        registered("2015-01-05"),
        changed("2016-01-01", sw(), "Northshire", Some(MoveKind::Promotion)),
    ]);
    assert_eq!(t.moves().len(), 1);
    assert_eq!(t.moves()[0].kind, MoveKind::Promotion);
}

#[test]
fn a_move_off_the_ladder_needs_its_kind() {
    let inspector = role("inspector", None);
    let refused = Timeline::build(
        &stream(vec![
            registered("2015-01-05"),
            changed("2016-01-01", inspector.clone(), "Ofsted", None),
        ]),
        &Levels::default(),
    );
    assert_eq!(
        refused,
        Err(ParticipantError::MoveKindRequired {
            from: "social_worker".into(),
            to: "inspector".into()
        })
    );
    let t = build(vec![
        registered("2015-01-05"),
        changed("2016-01-01", inspector, "Ofsted", Some(MoveKind::Promotion)),
        changed("2019-01-01", tm(), "Northshire", Some(MoveKind::Sideways)),
    ]);
    assert_eq!(t.moves().len(), 2);
    assert!(!t.moves()[0].internal);
}

#[test]
fn a_move_within_the_organisation_is_internal_and_to_another_external() {
    let t = build(vec![
        registered("2015-01-05"),
        changed("2016-01-01", tm(), "Northshire", None),
        changed("2017-01-01", sm(), "Southshire", None),
    ]);
    assert!(t.moves()[0].internal);
    assert!(!t.moves()[1].internal);
    assert_eq!(t.moves()[1].from_organisation, "Northshire");
    assert_eq!(t.moves()[1].to_organisation, "Southshire");
}

#[test]
fn a_rejoining_is_judged_against_the_role_held_before_the_leaving() {
    let t = build(vec![
        registered("2015-01-05"),
        changed("2016-01-01", tm(), "Northshire", None),
        left("2018-03-31"),
        rejoined("2019-01-01", sm(), "Northshire"),
    ]);
    let m = t.moves().last().unwrap();
    assert!(m.rejoining);
    assert_eq!(m.from_role, tm());
    assert_eq!(m.kind, MoveKind::Promotion);
    assert!(m.internal);
    assert_eq!(t.spells().len(), 3);
    assert_eq!(t.employment_on(day("2018-06-01")), None);
    assert_eq!(t.employment_on(day("2019-01-01")).unwrap().role, sm());
}

#[test]
fn rejoining_the_same_role_and_place_without_a_kind_is_not_a_move() {
    let t = build(vec![
        registered("2015-01-05"),
        left("2018-03-31"),
        rejoined("2019-01-01", sw(), "Northshire"),
    ]);
    assert!(t.moves().is_empty());
    let external = build(vec![
        registered("2015-01-05"),
        left("2018-03-31"),
        rejoined("2019-01-01", sw(), "Southshire"),
    ]);
    assert_eq!(external.moves()[0].kind, MoveKind::Sideways);
    assert!(!external.moves()[0].internal);
}

#[test]
fn joining_and_leaving_on_one_day_is_never_employed_at_a_day_end() {
    let t = build(vec![registered("2015-01-05"), left("2015-01-05")]);
    assert_eq!(t.spells().len(), 1);
    assert_eq!(t.spells()[0].from, t.spells()[0].until.unwrap());
    assert_eq!(t.employment_on(day("2015-01-05")), None);
    assert_eq!(t.leavings()[0].role, sw());
    assert!(t.current().is_none());
}

#[test]
fn a_joining_starts_on_its_day_and_a_role_change_switches_spell_that_day() {
    let t = build(vec![
        registered("2015-01-05"),
        changed("2016-01-01", tm(), "Northshire", None),
        left("2017-01-01"),
    ]);
    assert_eq!(t.employment_on(day("2015-01-04")), None);
    assert_eq!(t.employment_on(day("2015-01-05")).unwrap().role, sw());
    assert_eq!(t.employment_on(day("2015-12-31")).unwrap().role, sw());
    assert_eq!(t.employment_on(day("2016-01-01")).unwrap().role, tm());
    assert_eq!(t.employment_on(day("2016-12-31")).unwrap().role, tm());
    assert_eq!(t.employment_on(day("2017-01-01")), None);
    assert_eq!(t.spells()[1].ended_by, Some(SpellEnd::Leaving));
}

#[test]
fn a_late_recorded_promotion_before_a_leaving_is_placed_by_effective_date() {
    // Recorded: registration, leaving (2020), then the 2018 promotion.
    let t = build(vec![
        registered("2015-01-05"),
        left("2020-03-31"),
        changed("2018-05-01", tm(), "Northshire", None),
    ]);
    let spells: Vec<(RoleRef, NaiveDate, Option<NaiveDate>)> =
        t.spells().iter().map(|s| (s.role.clone(), s.from, s.until)).collect();
    assert_eq!(
        spells,
        [
            (sw(), day("2015-01-05"), Some(day("2018-05-01"))),
            (tm(), day("2018-05-01"), Some(day("2020-03-31"))),
        ]
    );
    // The leaving is now from the team manager role, with its FTE.
    assert_eq!(t.leavings()[0].role, tm());
    assert_eq!(t.leavings()[0].fte, 1.0);
    assert_eq!(t.leavings()[0].sequence, 2);
    assert_eq!(t.moves()[0].sequence, 3);
}

#[test]
fn same_day_events_apply_in_recorded_order() {
    let t = build(vec![
        registered("2015-01-05"),
        left("2018-03-31"),
        rejoined("2018-03-31", tm(), "Southshire"),
    ]);
    assert_eq!(t.employment_on(day("2018-03-31")).unwrap().organisation, "Southshire");
    let refused = Timeline::build(
        &stream(vec![
            registered("2015-01-05"),
            rejoined("2018-03-31", tm(), "Southshire"),
            left("2018-03-31"),
        ]),
        &Levels::default(),
    );
    assert_eq!(
        refused,
        Err(ParticipantError::AlreadyEmployed {
            effective_on: day("2018-03-31")
        })
    );
}

#[test]
fn retracting_a_leaving_that_a_rejoining_follows_breaks_the_timeline() {
    let refused = Timeline::build(
        &stream(vec![
            registered("2015-01-05"),
            left("2018-03-31"),
            rejoined("2019-01-01", sw(), "Northshire"),
            retracted(2),
        ]),
        &Levels::default(),
    );
    assert_eq!(
        refused,
        Err(ParticipantError::AlreadyEmployed {
            effective_on: day("2019-01-01")
        })
    );
}

#[test]
fn retracting_an_earlier_move_re_derives_a_later_moves_kind() {
    let history = vec![
        registered("2015-01-05"),
        changed("2016-01-01", tm(), "Northshire", None),
        changed("2017-01-01", sm(), "Northshire", None),
        changed("2019-01-01", tm(), "Southshire", None),
    ];
    let before = build(history.clone());
    assert_eq!(before.moves()[2].kind, MoveKind::Demotion);
    let mut corrected = history;
    corrected.push(retracted(3));
    let after = build(corrected);
    // Without the service-manager spell the 2019 move is team manager to
    // team manager in another organisation: sideways.
    assert_eq!(after.moves().len(), 2);
    assert_eq!(after.moves()[1].kind, MoveKind::Sideways);
    assert_eq!(after.moves()[1].from_role, tm());
}

#[test]
fn exclusions_run_from_their_date_until_the_lift() {
    let t = build(vec![
        registered("2015-01-05"),
        ParticipantEvent::ExcludedFromAnalysis {
            effective_on: day("2018-01-01"),
            reason: "left to work abroad".into(),
        },
        ParticipantEvent::ExclusionLifted {
            effective_on: day("2019-01-01"),
            reason: "back".into(),
        },
    ]);
    let e = &t.exclusions()[0];
    assert_eq!((e.from, e.until), (day("2018-01-01"), Some(day("2019-01-01"))));
    assert_eq!(e.lift_reason.as_deref(), Some("back"));
    assert!(!t.excluded_on(day("2017-12-31")));
    assert!(t.excluded_on(day("2018-12-31")));
    assert!(!t.excluded_on(day("2019-01-01")));
    assert!(!t.excluded());
}

#[test]
fn a_history_without_its_registration_first_is_not_a_timeline() {
    assert_eq!(
        Timeline::build(&[], &Levels::default()),
        Err(ParticipantError::NotRegistered)
    );
    assert_eq!(
        Timeline::build(&stream(vec![left("2018-03-31")]), &Levels::default()),
        Err(ParticipantError::NotRegistered)
    );
    assert_eq!(
        Timeline::build(
            &stream(vec![registered("2015-01-05"), registered("2015-01-05")]),
            &Levels::default()
        ),
        Err(ParticipantError::AlreadyRegistered)
    );
}

#[test]
fn the_timeline_knows_who_it_is_about() {
    let t = build(vec![registered("2015-01-05")]);
    assert_eq!(t.external_ref(), "P-1");
    assert_eq!(t.participant_id(), uuid::Uuid::from_u128(7));
    assert_eq!(t.joined_on(), day("2015-01-05"));
    assert_eq!(t.current().unwrap().fte, 0.8);
}
