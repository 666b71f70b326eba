//! Enrolment needs a participant employed on the enrolment date.

use uuid::Uuid;

use super::test_support::*;
use super::{enrol, Outcome};
use crate::cohort::{Cohort, CohortCommand, CohortEvent};
use crate::participant::{Participant, ParticipantEvent};

fn opened() -> Cohort {
    stream(vec![CohortEvent::Opened {
        cohort_id: Uuid::from_u128(50),
        programme: "PLDP".into(),
        name: "cohort 1".into(),
        starts_on: day("2020-01-01"),
        ends_on: None,
    }])
}

fn enrolment(on: &str) -> CohortCommand {
    CohortCommand::Enrol {
        participant_id: ann(),
        enrolled_on: day(on),
    }
}

#[test]
fn a_participant_employed_that_day_is_enrolled() {
    let ann: Participant = stream(vec![registered("2019-01-01", None), left("2021-01-01")]);
    let outcome = enrol(&opened(), &ann, enrolment("2020-09-01"), &ctx());
    let enrolled = CohortEvent::ParticipantEnrolled {
        participant_id: super::test_support::ann(),
        enrolled_on: day("2020-09-01"),
    };
    assert_eq!(
        outcome,
        Ok(Outcome {
            cohort: vec![enrolled],
            ..Outcome::default()
        })
    );
}

#[test]
fn a_participant_who_does_not_exist_cannot_be_enrolled() {
    let outcome = enrol(&opened(), &Participant::default(), enrolment("2020-09-01"), &ctx());
    refused(outcome, "unknown_participant", Some("participant_id"));
}

#[test]
fn a_participant_not_employed_that_day_cannot_be_enrolled() {
    let ann: Participant = stream(vec![registered("2019-01-01", None), left("2020-06-01")]);
    let outcome = enrol(&opened(), &ann, enrolment("2020-09-01"), &ctx());
    refused(outcome, "participant_not_employed", Some("enrolled_on"));
}

#[test]
fn the_cohorts_own_rules_still_apply() {
    let ann: Participant = stream(vec![registered("2019-01-01", None)]);
    let outcome = enrol(&Cohort::default(), &ann, enrolment("2020-09-01"), &ctx());
    refused(outcome, "not_opened", None);
}

/// The cohort enrolling Ann on 2017-04-01 in the tests below.
fn pldp() -> Uuid {
    Uuid::from_u128(50)
}

/// Ann, registered 2015-01-01 and enrolled 2017-04-01, records a leaving
/// effective `on`.
fn enrolled_ann_leaves(on: &str) -> Result<Outcome, super::DecisionError> {
    given(vec![registered("2015-01-01", None)])
        .enrolled(pldp(), "2017-04-01")
        .when(crate::participant::ParticipantCommand::RecordLeaving {
            effective_on: day(on),
            reason: "resigned".into(),
            destination: None,
        })
}

#[test]
fn enrolling_after_a_recorded_leaving_is_refused() {
    // Joined 2015-01-01, left 2016-06-01: not employed on 2017-04-01.
    let ann: Participant = stream(vec![registered("2015-01-01", None), left("2016-06-01")]);
    let outcome = enrol(&opened(), &ann, enrolment("2017-04-01"), &ctx());
    refused(outcome, "participant_not_employed", Some("enrolled_on"));
}

#[test]
fn a_leaving_dated_before_a_recorded_enrolment_is_refused_too() {
    // The same two facts recorded the other way round: enrolled on
    // 2017-04-01, then a leaving on 2016-06-01 would leave that enrolment on
    // a day Ann is not employed.
    let outcome = enrolled_ann_leaves("2016-06-01");
    refused(outcome, "participant_not_employed", Some("effective_on"));
}

#[test]
fn a_leaving_on_the_enrolment_day_is_refused_and_the_day_after_is_not() {
    // A leaving on D: not employed at the end of D, so not on 2017-04-01.
    let on_the_day = enrolled_ann_leaves("2017-04-01");
    refused(on_the_day, "participant_not_employed", Some("effective_on"));
    let after = enrolled_ann_leaves("2017-04-02");
    assert_eq!(after, then(left("2017-04-02"), vec![]));
}

#[test]
fn retracting_the_rejoining_that_employs_an_enrolled_participant_is_refused() {
    // Left 2016-06-01, rejoined 2017-01-01 (sequence 3), enrolled
    // 2017-04-01: without the rejoining Ann is not employed that day.
    let rejoined = ParticipantEvent::RejoiningRecorded {
        effective_on: day("2017-01-01"),
        organisation: "Northshire".into(),
        team: None,
        role: sw(),
        post_id: None,
        basis: crate::ladder::Basis::Permanent,
        fte: 1.0,
        kind_given: None,
    };
    let outcome = given(vec![registered("2015-01-01", None), left("2016-06-01"), rejoined])
        .enrolled(pldp(), "2017-04-01")
        .when(crate::participant::ParticipantCommand::Retract {
            sequence: 3,
            reason: "recorded in error".into(),
        });
    refused(outcome, "participant_not_employed", Some("sequence"));
}
