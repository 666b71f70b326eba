//! Given/when/then tests of every participant rule, through cqrs-es's
//! `TestFramework` (so `handle` and `apply` are exercised as the framework
//! drives them).

use chrono::NaiveDate;
use cqrs_es::test::TestFramework;
use uuid::Uuid;

use super::*;
use crate::field::Field;
use crate::ladder::{Basis, MoveKind, RoleRef};

pub(super) type Given = TestFramework<Participant>;

pub(super) fn day(s: &str) -> NaiveDate {
    s.parse().expect("test dates are ISO")
}

pub(super) fn role(code: &str, level: Option<u8>) -> RoleRef {
    RoleRef {
        code: code.to_string(),
        level,
    }
}

pub(super) fn sw() -> RoleRef {
    role("social_worker", Some(2))
}

pub(super) fn tm() -> RoleRef {
    role("team_manager", Some(5))
}

pub(super) fn ctx() -> CommandContext {
    CommandContext {
        today: day("2024-06-01"),
        future_margin_days: 30,
    }
}

fn id() -> Uuid {
    Uuid::from_u128(7)
}

pub(super) fn registered(joined_on: &str) -> ParticipantEvent {
    ParticipantEvent::Registered {
        participant_id: id(),
        external_ref: "P-1".into(),
        organisation: "Northshire".into(),
        team: Some("East".into()),
        role: sw(),
        post_id: None,
        basis: Basis::Permanent,
        fte: 0.8,
        joined_on: day(joined_on),
    }
}

pub(super) fn changed(on: &str, role: RoleRef, organisation: &str, kind: Option<MoveKind>) -> ParticipantEvent {
    ParticipantEvent::RoleChanged {
        effective_on: day(on),
        role,
        organisation: organisation.into(),
        team: None,
        post_id: None,
        basis: Basis::Permanent,
        fte: Some(1.0),
        kind_given: kind,
    }
}

pub(super) fn left(on: &str) -> ParticipantEvent {
    ParticipantEvent::LeavingRecorded {
        effective_on: day(on),
        reason: "resigned".into(),
        destination: None,
    }
}

pub(super) fn rejoined(on: &str, role: RoleRef, organisation: &str) -> ParticipantEvent {
    ParticipantEvent::RejoiningRecorded {
        effective_on: day(on),
        organisation: organisation.into(),
        team: None,
        role,
        post_id: None,
        basis: Basis::Permanent,
        fte: 1.0,
        kind_given: None,
    }
}

pub(super) fn retracted(sequence: u64) -> ParticipantEvent {
    ParticipantEvent::EventRetracted {
        retracted_sequence: sequence,
        reason: "recorded in error".into(),
    }
}

pub(super) fn register(joined_on: &str) -> ParticipantCommand {
    ParticipantCommand::Register {
        participant_id: id(),
        external_ref: "P-1".into(),
        organisation: "Northshire".into(),
        team: Some("East".into()),
        role: sw(),
        post_id: None,
        basis: Basis::Permanent,
        fte: 0.8,
        joined_on: day(joined_on),
    }
}

pub(super) fn change(on: &str, role: RoleRef, organisation: &str, kind: Option<MoveKind>) -> ParticipantCommand {
    ParticipantCommand::ChangeRole {
        effective_on: day(on),
        role,
        organisation: organisation.into(),
        team: None,
        post_id: None,
        basis: Basis::Permanent,
        fte: Some(1.0),
        kind,
    }
}

pub(super) fn leave(on: &str) -> ParticipantCommand {
    ParticipantCommand::RecordLeaving {
        effective_on: day(on),
        reason: "resigned".into(),
        destination: None,
    }
}

pub(super) fn rejoin(on: &str) -> ParticipantCommand {
    ParticipantCommand::RecordRejoining {
        effective_on: day(on),
        organisation: "Northshire".into(),
        team: None,
        role: sw(),
        post_id: None,
        basis: Basis::Permanent,
        fte: 1.0,
        kind: None,
    }
}

pub(super) fn retract(sequence: u64) -> ParticipantCommand {
    ParticipantCommand::Retract {
        sequence,
        reason: "recorded in error".into(),
    }
}

#[tokio::test]
async fn registering_records_the_participant() {
    Given::with(ctx())
        .given_no_previous_events()
        .when_async(register("2015-01-05"))
        .await
        .then_expect_events(vec![registered("2015-01-05")]);
}

#[tokio::test]
async fn registering_twice_is_refused() {
    Given::with(ctx())
        .given(vec![registered("2015-01-05")])
        .when_async(register("2015-01-05"))
        .await
        .then_expect_error(ParticipantError::AlreadyRegistered);
}

#[tokio::test]
async fn recording_anything_before_registration_is_refused() {
    Given::with(ctx())
        .given_no_previous_events()
        .when_async(leave("2016-01-01"))
        .await
        .then_expect_error(ParticipantError::NotRegistered);
}

#[tokio::test]
async fn a_blank_organisation_is_refused() {
    let mut command = register("2015-01-05");
    if let ParticipantCommand::Register { organisation, .. } = &mut command {
        *organisation = "  ".into();
    }
    Given::with(ctx())
        .given_no_previous_events()
        .when_async(command)
        .await
        .then_expect_error(ParticipantError::EmptyField {
            field: Field::Organisation,
        });
}

#[tokio::test]
async fn a_blank_leaving_reason_is_refused() {
    Given::with(ctx())
        .given(vec![registered("2015-01-05")])
        .when_async(ParticipantCommand::RecordLeaving {
            effective_on: day("2016-01-01"),
            reason: String::new(),
            destination: None,
        })
        .await
        .then_expect_error(ParticipantError::EmptyField { field: Field::Reason });
}

#[tokio::test]
async fn an_fte_above_one_is_refused() {
    let mut command = register("2015-01-05");
    if let ParticipantCommand::Register { fte, .. } = &mut command {
        *fte = 1.5;
    }
    Given::with(ctx())
        .given_no_previous_events()
        .when_async(command)
        .await
        .then_expect_error(ParticipantError::InvalidFte { fte: 1.5 });
}

#[tokio::test]
async fn a_zero_fte_role_change_is_refused() {
    let mut command = change("2016-01-01", tm(), "Northshire", None);
    if let ParticipantCommand::ChangeRole { fte, .. } = &mut command {
        *fte = Some(0.0);
    }
    Given::with(ctx())
        .given(vec![registered("2015-01-05")])
        .when_async(command)
        .await
        .then_expect_error(ParticipantError::InvalidFte { fte: 0.0 });
}

#[tokio::test]
async fn a_leaving_beyond_the_future_margin_is_refused() {
    Given::with(ctx())
        .given(vec![registered("2015-01-05")])
        .when_async(leave("2024-07-02"))
        .await
        .then_expect_error(ParticipantError::TooFarInFuture {
            field: Field::EffectiveOn,
            effective_on: day("2024-07-02"),
            latest_allowed: day("2024-07-01"),
        });
}

#[tokio::test]
async fn a_leaving_at_the_edge_of_the_future_margin_is_recorded() {
    Given::with(ctx())
        .given(vec![registered("2015-01-05")])
        .when_async(leave("2024-07-01"))
        .await
        .then_expect_events(vec![left("2024-07-01")]);
}

#[tokio::test]
async fn a_joining_date_beyond_the_future_margin_is_refused() {
    Given::with(ctx())
        .given_no_previous_events()
        .when_async(register("2025-01-01"))
        .await
        .then_expect_error(ParticipantError::TooFarInFuture {
            field: Field::JoinedOn,
            effective_on: day("2025-01-01"),
            latest_allowed: day("2024-07-01"),
        });
}

#[tokio::test]
async fn a_role_change_before_joining_is_refused() {
    Given::with(ctx())
        .given(vec![registered("2016-01-04")])
        .when_async(change("2015-12-31", tm(), "Northshire", None))
        .await
        .then_expect_error(ParticipantError::EffectiveBeforeJoining {
            effective_on: day("2015-12-31"),
            joined_on: day("2016-01-04"),
        });
}

#[tokio::test]
async fn leaving_while_not_employed_is_refused() {
    Given::with(ctx())
        .given(vec![registered("2015-01-05"), left("2018-03-31")])
        .when_async(leave("2019-01-01"))
        .await
        .then_expect_error(ParticipantError::NotEmployed {
            effective_on: day("2019-01-01"),
        });
}

#[tokio::test]
async fn a_role_change_after_leaving_is_refused() {
    Given::with(ctx())
        .given(vec![registered("2015-01-05"), left("2018-03-31")])
        .when_async(change("2019-01-01", tm(), "Northshire", None))
        .await
        .then_expect_error(ParticipantError::NotEmployed {
            effective_on: day("2019-01-01"),
        });
}

#[tokio::test]
async fn rejoining_while_employed_is_refused() {
    Given::with(ctx())
        .given(vec![registered("2015-01-05")])
        .when_async(rejoin("2017-01-01"))
        .await
        .then_expect_error(ParticipantError::AlreadyEmployed {
            effective_on: day("2017-01-01"),
        });
}

#[tokio::test]
async fn rejoining_after_leaving_is_recorded() {
    Given::with(ctx())
        .given(vec![registered("2015-01-05"), left("2018-03-31")])
        .when_async(rejoin("2019-01-01"))
        .await
        .then_expect_events(vec![rejoined("2019-01-01", sw(), "Northshire")]);
}

#[tokio::test]
async fn a_move_to_an_off_ladder_role_without_a_kind_is_refused() {
    Given::with(ctx())
        .given(vec![registered("2015-01-05")])
        .when_async(change("2017-01-01", role("inspector", None), "Ofsted", None))
        .await
        .then_expect_error(ParticipantError::MoveKindRequired {
            from: "social_worker".into(),
            to: "inspector".into(),
        });
}

#[tokio::test]
async fn a_move_to_an_off_ladder_role_with_its_kind_is_recorded() {
    let inspector = role("inspector", None);
    Given::with(ctx())
        .given(vec![registered("2015-01-05")])
        .when_async(change(
            "2017-01-01",
            inspector.clone(),
            "Ofsted",
            Some(MoveKind::Promotion),
        ))
        .await
        .then_expect_events(vec![changed(
            "2017-01-01",
            inspector,
            "Ofsted",
            Some(MoveKind::Promotion),
        )]);
}

#[tokio::test]
async fn a_role_change_without_fte_records_none_for_the_timeline_to_resolve() {
    let mut command = change("2017-01-01", tm(), "Northshire", None);
    if let ParticipantCommand::ChangeRole { fte, .. } = &mut command {
        *fte = None;
    }
    let mut expected = changed("2017-01-01", tm(), "Northshire", None);
    if let ParticipantEvent::RoleChanged { fte, .. } = &mut expected {
        *fte = None;
    }
    Given::with(ctx())
        .given(vec![registered("2015-01-05")])
        .when_async(command)
        .await
        .then_expect_events(vec![expected]);
}

#[tokio::test]
async fn excluding_while_excluded_is_refused() {
    let excluded = ParticipantEvent::ExcludedFromAnalysis {
        effective_on: day("2018-01-01"),
        reason: "left to work abroad".into(),
    };
    Given::with(ctx())
        .given(vec![registered("2015-01-05"), excluded])
        .when_async(ParticipantCommand::ExcludeFromAnalysis {
            effective_on: day("2019-01-01"),
            reason: "again".into(),
        })
        .await
        .then_expect_error(ParticipantError::AlreadyExcluded {
            effective_on: day("2019-01-01"),
        });
}

#[tokio::test]
async fn lifting_an_exclusion_that_is_not_in_force_is_refused() {
    Given::with(ctx())
        .given(vec![registered("2015-01-05")])
        .when_async(ParticipantCommand::LiftExclusion {
            effective_on: day("2019-01-01"),
            reason: "back".into(),
        })
        .await
        .then_expect_error(ParticipantError::NotExcluded {
            effective_on: day("2019-01-01"),
        });
}

#[tokio::test]
async fn a_lift_dated_before_the_exclusion_is_refused() {
    let excluded = ParticipantEvent::ExcludedFromAnalysis {
        effective_on: day("2018-01-01"),
        reason: "left to work abroad".into(),
    };
    Given::with(ctx())
        .given(vec![registered("2015-01-05"), excluded])
        .when_async(ParticipantCommand::LiftExclusion {
            effective_on: day("2017-06-01"),
            reason: "back".into(),
        })
        .await
        .then_expect_error(ParticipantError::NotExcluded {
            effective_on: day("2017-06-01"),
        });
}
