//! Filling and vacating a post from the post's side.

use super::test_support::*;
use super::{fill_as_role_change, vacate_as_role_change, DecisionError};
use crate::ladder::Basis;
use crate::participant::{Participant, ParticipantCommand};
use crate::post::Post;

#[test]
fn filling_a_post_moves_the_occupant_into_its_role_and_organisation_keeping_their_team() {
    let post: Post = stream(vec![established(north(), "Northshire")]);
    let occupant: Participant = stream(vec![registered("2019-01-01", None)]);
    let command = fill_as_role_change(north(), &post, &occupant, Basis::Acting, Some(0.5), day("2020-01-01"));
    assert_eq!(
        command,
        ParticipantCommand::ChangeRole {
            effective_on: day("2020-01-01"),
            role: tm(),
            organisation: "Northshire".into(),
            team: Some("East".into()),
            post_id: Some(north()),
            basis: Basis::Acting,
            fte: Some(0.5),
            kind: None,
        }
    );
}

#[test]
fn vacating_keeps_the_occupants_role_and_terms_without_the_post() {
    let occupant: Participant = stream(vec![registered("2019-01-01", Some(north()))]);
    let command = vacate_as_role_change(north(), &occupant, ann(), day("2020-01-01"));
    assert_eq!(
        command,
        Ok(ParticipantCommand::ChangeRole {
            effective_on: day("2020-01-01"),
            role: tm(),
            organisation: "Northshire".into(),
            team: Some("East".into()),
            post_id: None,
            basis: Basis::Permanent,
            fte: Some(0.8),
            kind: None,
        })
    );
}

#[test]
fn only_the_occupant_on_that_day_can_vacate_the_post() {
    let occupant: Participant = stream(vec![registered("2019-01-01", Some(north()))]);
    let elsewhere = vacate_as_role_change(south(), &occupant, ann(), day("2020-01-01"));
    let before_joining = vacate_as_role_change(north(), &occupant, ann(), day("2018-01-01"));
    for refused in [elsewhere, before_joining] {
        let e = refused.expect_err("not in post");
        assert!(matches!(e, DecisionError::NotInPost { .. }), "{e:?}");
        assert_eq!((e.code(), e.field()), ("not_in_post", Some("participant_id")));
    }
}
