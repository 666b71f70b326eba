//! Retracting a participant event retracts the post changes it caused.

use super::test_support::*;
use super::{linked_post_changes, LinkedPostChange};
use crate::participant::{Participant, ParticipantCommand, ParticipantEvent};
use crate::post::PostEvent;

fn retract(sequence: u64) -> ParticipantCommand {
    ParticipantCommand::Retract {
        sequence,
        reason: "recorded in error".into(),
    }
}

fn participant_retracted(sequence: u64) -> ParticipantEvent {
    ParticipantEvent::EventRetracted {
        retracted_sequence: sequence,
        reason: "recorded in error".into(),
    }
}

fn post_retracted(sequence: u64) -> PostEvent {
    PostEvent::EventRetracted {
        retracted_sequence: sequence,
        reason: "recorded in error".into(),
    }
}

#[test]
fn retracting_a_move_between_posts_retracts_the_new_posts_fill_and_the_old_posts_vacancy() {
    let outcome = given(vec![
        registered("2019-01-01", Some(north())),
        tm_from("2020-03-01", Some(south())),
    ])
    .post(
        north(),
        vec![
            established(north(), "Northshire"),
            filled("2019-01-01"),
            vacated("2020-03-01"),
        ],
    )
    .post(south(), vec![established(south(), "Northshire"), filled("2020-03-01")])
    .when(retract(2));
    assert_eq!(
        outcome,
        then(
            participant_retracted(2),
            vec![(south(), post_retracted(2)), (north(), post_retracted(3))]
        )
    );
}

#[test]
fn retracting_a_leaving_retracts_the_vacancy_of_the_post_held() {
    let ann: Participant = stream(vec![registered("2019-01-01", Some(north())), left("2021-05-01")]);
    assert_eq!(
        linked_post_changes(&ann, 2),
        vec![LinkedPostChange {
            post_id: north(),
            effective_on: day("2021-05-01"),
            filled: false,
        }]
    );
    let outcome = given(vec![registered("2019-01-01", Some(north())), left("2021-05-01")])
        .post(
            north(),
            vec![
                established(north(), "Northshire"),
                filled("2019-01-01"),
                vacated("2021-05-01"),
            ],
        )
        .when(retract(2));
    assert_eq!(
        outcome,
        then(participant_retracted(2), vec![(north(), post_retracted(3))])
    );
}

#[test]
fn a_post_change_already_retracted_on_the_post_is_left_alone() {
    let outcome = given(vec![
        registered("2019-01-01", None),
        tm_from("2020-03-01", Some(north())),
    ])
    .post(
        north(),
        vec![
            established(north(), "Northshire"),
            filled("2020-03-01"),
            post_retracted(2),
        ],
    )
    .when(retract(2));
    assert_eq!(outcome, then(participant_retracted(2), vec![]));
}

#[test]
fn retracting_a_change_outside_posts_touches_no_post() {
    let ann: Participant = stream(vec![registered("2019-01-01", None), tm_from("2020-03-01", None)]);
    assert_eq!(linked_post_changes(&ann, 2), vec![]);
    let outcome = given(vec![registered("2019-01-01", None), tm_from("2020-03-01", None)]).when(retract(2));
    assert_eq!(outcome, then(participant_retracted(2), vec![]));
}

#[test]
fn a_retraction_the_participant_refuses_touches_no_post() {
    let outcome = given(vec![registered("2019-01-01", Some(north()))])
        .post(north(), vec![established(north(), "Northshire"), filled("2019-01-01")])
        .when(retract(1));
    refused(outcome, "retraction_not_retractable", Some("sequence"));
}

#[test]
fn a_posts_fill_or_vacancy_leads_back_to_the_participant_event_that_caused_it() {
    // Ann moved from north (filled 2019-01-01, post sequence 2) to south on
    // 2020-03-01 (participant sequence 2): north's vacancy (sequence 3) and
    // south's fill (sequence 2) both lead to that move; north's fill to the
    // registration (sequence 1); the establishment to nothing.
    let record: Participant = stream(vec![
        registered("2019-01-01", Some(north())),
        tm_from("2020-03-01", Some(south())),
    ]);
    let north_post: crate::post::Post = stream(vec![
        established(north(), "Northshire"),
        filled("2019-01-01"),
        vacated("2020-03-01"),
    ]);
    let south_post: crate::post::Post = stream(vec![established(south(), "Northshire"), filled("2020-03-01")]);
    assert_eq!(
        super::linked_participant_event(north(), &north_post, 3, &record),
        Some(2)
    );
    assert_eq!(
        super::linked_participant_event(south(), &south_post, 2, &record),
        Some(2)
    );
    assert_eq!(
        super::linked_participant_event(north(), &north_post, 2, &record),
        Some(1)
    );
    assert_eq!(super::linked_participant_event(north(), &north_post, 1, &record), None);
    assert_eq!(super::post_change_participant(&north_post, 3), Some(ann()));
    assert_eq!(super::post_change_participant(&north_post, 1), None);
}
