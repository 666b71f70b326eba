//! Taking up and leaving posts through the participant's record.

use super::test_support::*;
use super::{check_external_ref_free, organisation_on};
use crate::ladder::Basis;
use crate::participant::{Participant, ParticipantCommand, ParticipantEvent};

fn register(post: Option<uuid::Uuid>, organisation: &str) -> ParticipantCommand {
    let ParticipantEvent::Registered {
        participant_id,
        external_ref,
        team,
        role,
        basis,
        fte,
        joined_on,
        ..
    } = registered("2019-01-01", post)
    else {
        unreachable!("registered() is a registration")
    };
    ParticipantCommand::Register {
        participant_id,
        external_ref,
        organisation: organisation.into(),
        team,
        role,
        post_id: post,
        basis,
        fte,
        joined_on,
    }
}

#[test]
fn registering_into_a_post_fills_it_on_the_joining_date() {
    let outcome = given(vec![])
        .post(north(), vec![established(north(), "Northshire")])
        .when(register(Some(north()), "Northshire"));
    assert_eq!(
        outcome,
        then(
            registered("2019-01-01", Some(north())),
            vec![(north(), filled("2019-01-01"))]
        )
    );
}

#[test]
fn an_external_reference_someone_else_holds_is_refused() {
    assert_eq!(check_external_ref_free("P-1", None), Ok(()));
    let taken = check_external_ref_free("P-1", Some(ann()));
    refused(
        taken.map(|()| Default::default()),
        "external_ref_taken",
        Some("external_ref"),
    );
}

#[test]
fn a_post_that_does_not_exist_cannot_be_taken_up() {
    let outcome = given(vec![]).when(register(Some(north()), "Northshire"));
    refused(outcome, "unknown_post", Some("post_id"));
}

#[test]
fn a_post_of_another_organisation_cannot_be_taken_up() {
    let outcome = given(vec![])
        .post(north(), vec![established(north(), "Southshire")])
        .when(register(Some(north()), "Northshire"));
    refused(outcome, "post_in_other_organisation", Some("post_id"));
}

#[test]
fn a_post_is_taken_up_only_in_its_role() {
    let outcome = given(vec![registered("2019-01-01", None)])
        .post(north(), vec![established(north(), "Northshire")])
        .when(ParticipantCommand::ChangeRole {
            effective_on: day("2020-01-01"),
            role: sw(),
            organisation: "Northshire".into(),
            team: None,
            post_id: Some(north()),
            basis: Basis::Permanent,
            fte: None,
            kind: None,
        });
    refused(outcome, "role_does_not_match_post", Some("role"));
}

#[test]
fn the_participants_own_rules_are_checked_before_the_posts() {
    let outcome = given(vec![]).when(register(Some(north()), " "));
    refused(outcome, "empty_field", Some("organisation"));
}

#[test]
fn a_move_between_posts_vacates_the_old_one_and_fills_the_new_one() {
    let outcome = given(vec![registered("2019-01-01", Some(north()))])
        .post(north(), vec![established(north(), "Northshire"), filled("2019-01-01")])
        .post(south(), vec![established(south(), "Northshire")])
        .when(change_to_tm("2020-03-01", Some(south())));
    assert_eq!(
        outcome,
        then(
            tm_from("2020-03-01", Some(south())),
            vec![(north(), vacated("2020-03-01")), (south(), filled("2020-03-01"))]
        )
    );
}

#[test]
fn a_change_of_terms_in_the_same_post_touches_no_post() {
    let outcome = given(vec![registered("2019-01-01", Some(north()))])
        .post(north(), vec![established(north(), "Northshire"), filled("2019-01-01")])
        .when(change_to_tm("2020-03-01", Some(north())));
    assert_eq!(outcome, then(tm_from("2020-03-01", Some(north())), vec![]));
}

#[test]
fn a_move_into_a_post_before_later_changes_is_refused() {
    let outcome = given(vec![registered("2019-01-01", None), left("2022-01-01")])
        .post(north(), vec![established(north(), "Northshire")])
        .when(change_to_tm("2021-01-01", Some(north())));
    refused(outcome.clone(), "post_change_out_of_order", Some("effective_on"));
    let message = outcome.unwrap_err().to_string();
    assert!(!message.contains("  "), "one space between words: {message:?}");
    assert!(message.contains("a leaving effective after this date"), "{message}");
}

#[test]
fn a_leaving_vacates_the_post_held_that_day() {
    let outcome = given(vec![registered("2019-01-01", Some(north()))])
        .post(north(), vec![established(north(), "Northshire"), filled("2019-01-01")])
        .when(ParticipantCommand::RecordLeaving {
            effective_on: day("2021-05-01"),
            reason: "resigned".into(),
            destination: None,
        });
    assert_eq!(
        outcome,
        then(left("2021-05-01"), vec![(north(), vacated("2021-05-01"))])
    );
}

#[test]
fn a_rejoining_into_a_post_fills_it() {
    let rejoining = ParticipantEvent::RejoiningRecorded {
        effective_on: day("2021-01-01"),
        organisation: "Northshire".into(),
        team: None,
        role: tm(),
        post_id: Some(north()),
        basis: Basis::Interim,
        fte: 1.0,
        kind_given: None,
    };
    let outcome = given(vec![registered("2019-01-01", None), left("2020-01-01")])
        .post(north(), vec![established(north(), "Northshire")])
        .when(ParticipantCommand::RecordRejoining {
            effective_on: day("2021-01-01"),
            organisation: "Northshire".into(),
            team: None,
            role: tm(),
            post_id: Some(north()),
            basis: Basis::Interim,
            fte: 1.0,
            kind: None,
        });
    let interim_fill = crate::post::PostEvent::Filled {
        participant_id: ann(),
        basis: Basis::Interim,
        effective_on: day("2021-01-01"),
    };
    assert_eq!(outcome, then(rejoining, vec![(north(), interim_fill)]));
}

#[test]
fn a_role_change_without_organisation_takes_the_employer_on_its_date() {
    // Ann moves to Southshire in 2021; a change recorded late for 2020
    // belongs to Northshire, and one before she joined to her first employer.
    let moved = ParticipantEvent::RoleChanged {
        effective_on: day("2021-01-01"),
        role: sw(),
        organisation: "Southshire".into(),
        team: None,
        post_id: None,
        basis: Basis::Permanent,
        fte: None,
        kind_given: None,
    };
    let ann: Participant = stream(vec![registered("2019-01-01", None), moved]);
    assert_eq!(organisation_on(&ann, day("2020-06-01")), Some("Northshire"));
    assert_eq!(organisation_on(&ann, day("2021-01-01")), Some("Southshire"));
    assert_eq!(organisation_on(&ann, day("2018-01-01")), Some("Northshire"));
    assert_eq!(organisation_on(&Participant::default(), day("2020-06-01")), None);
}
