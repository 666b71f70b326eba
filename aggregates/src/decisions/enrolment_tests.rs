//! Enrolment needs a participant employed on the enrolment date.

use uuid::Uuid;

use super::test_support::*;
use super::{enrol, Outcome};
use crate::cohort::{Cohort, CohortCommand, CohortEvent};
use crate::participant::Participant;

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
