//! Given/when/then tests of every cohort rule.

use chrono::NaiveDate;
use cqrs_es::test::TestFramework;
use uuid::Uuid;

use super::*;
use crate::field::Field;

type Given = TestFramework<Cohort>;

fn day(s: &str) -> NaiveDate {
    s.parse().expect("test dates are ISO")
}

fn ctx() -> CommandContext {
    CommandContext {
        today: day("2024-06-01"),
        future_margin_days: 30,
    }
}

fn alice() -> Uuid {
    Uuid::from_u128(1)
}

fn opened() -> CohortEvent {
    CohortEvent::Opened {
        cohort_id: Uuid::from_u128(99),
        programme: "PLDP".into(),
        name: "cohort 1".into(),
        starts_on: day("2017-01-09"),
        ends_on: Some(day("2018-01-08")),
    }
}

fn open(ends_on: &str) -> CohortCommand {
    CohortCommand::Open {
        cohort_id: Uuid::from_u128(99),
        programme: "PLDP".into(),
        name: "cohort 1".into(),
        starts_on: day("2017-01-09"),
        ends_on: Some(day(ends_on)),
    }
}

fn enrolled(on: &str) -> CohortEvent {
    CohortEvent::ParticipantEnrolled {
        participant_id: alice(),
        enrolled_on: day(on),
    }
}

fn completed(on: &str) -> CohortEvent {
    CohortEvent::CompletionRecorded {
        participant_id: alice(),
        completed_on: day(on),
    }
}

fn withdrawn(on: &str) -> CohortEvent {
    CohortEvent::WithdrawalRecorded {
        participant_id: alice(),
        withdrawn_on: day(on),
        reason: "workload".into(),
    }
}

fn enrol(on: &str) -> CohortCommand {
    CohortCommand::Enrol {
        participant_id: alice(),
        enrolled_on: day(on),
    }
}

fn complete(on: &str) -> CohortCommand {
    CohortCommand::RecordCompletion {
        participant_id: alice(),
        completed_on: day(on),
    }
}

fn withdraw(on: &str) -> CohortCommand {
    CohortCommand::RecordWithdrawal {
        participant_id: alice(),
        withdrawn_on: day(on),
        reason: "workload".into(),
    }
}

fn retract(sequence: u64) -> CohortCommand {
    CohortCommand::Retract {
        sequence,
        reason: "recorded in error".into(),
    }
}

fn retracted(sequence: u64) -> CohortEvent {
    CohortEvent::EventRetracted {
        retracted_sequence: sequence,
        reason: "recorded in error".into(),
    }
}

#[tokio::test]
async fn opening_records_the_cohort() {
    Given::with(ctx())
        .given_no_previous_events()
        .when_async(open("2018-01-08"))
        .await
        .then_expect_events(vec![opened()]);
}

#[tokio::test]
async fn opening_twice_is_refused() {
    Given::with(ctx())
        .given(vec![opened()])
        .when_async(open("2018-01-08"))
        .await
        .then_expect_error(CohortError::AlreadyOpened);
}

#[tokio::test]
async fn a_cohort_ending_before_it_starts_is_refused() {
    Given::with(ctx())
        .given_no_previous_events()
        .when_async(open("2016-12-31"))
        .await
        .then_expect_error(CohortError::EndsBeforeStarts {
            starts_on: day("2017-01-09"),
            ends_on: day("2016-12-31"),
        });
}

#[tokio::test]
async fn a_blank_programme_is_refused() {
    Given::with(ctx())
        .given_no_previous_events()
        .when_async(CohortCommand::Open {
            cohort_id: Uuid::from_u128(99),
            programme: " ".into(),
            name: "cohort 1".into(),
            starts_on: day("2017-01-09"),
            ends_on: None,
        })
        .await
        .then_expect_error(CohortError::EmptyField {
            field: Field::Programme,
        });
}

#[tokio::test]
async fn enrolling_in_an_unopened_cohort_is_refused() {
    Given::with(ctx())
        .given_no_previous_events()
        .when_async(enrol("2017-01-09"))
        .await
        .then_expect_error(CohortError::NotOpened);
}

#[tokio::test]
async fn enrolling_is_recorded() {
    Given::with(ctx())
        .given(vec![opened()])
        .when_async(enrol("2017-01-09"))
        .await
        .then_expect_events(vec![enrolled("2017-01-09")]);
}

#[tokio::test]
async fn enrolling_twice_is_refused() {
    Given::with(ctx())
        .given(vec![opened(), enrolled("2017-01-09")])
        .when_async(enrol("2017-02-01"))
        .await
        .then_expect_error(CohortError::AlreadyEnrolled {
            participant_id: alice(),
        });
}

#[tokio::test]
async fn enrolling_again_after_the_enrolment_was_retracted_is_recorded() {
    Given::with(ctx())
        .given(vec![opened(), enrolled("2017-01-09"), retracted(2)])
        .when_async(enrol("2017-02-01"))
        .await
        .then_expect_events(vec![enrolled("2017-02-01")]);
}

#[tokio::test]
async fn an_enrolment_beyond_the_future_margin_is_refused() {
    Given::with(ctx())
        .given(vec![opened()])
        .when_async(enrol("2024-08-01"))
        .await
        .then_expect_error(CohortError::TooFarInFuture {
            field: Field::EnrolledOn,
            effective_on: day("2024-08-01"),
            latest_allowed: day("2024-07-01"),
        });
}

#[tokio::test]
async fn completing_without_enrolment_is_refused() {
    Given::with(ctx())
        .given(vec![opened()])
        .when_async(complete("2018-01-08"))
        .await
        .then_expect_error(CohortError::NotEnrolled {
            participant_id: alice(),
        });
}

#[tokio::test]
async fn completing_before_the_enrolment_date_is_refused() {
    Given::with(ctx())
        .given(vec![opened(), enrolled("2017-01-09")])
        .when_async(complete("2017-01-08"))
        .await
        .then_expect_error(CohortError::BeforeEnrolment {
            field: Field::CompletedOn,
            date: day("2017-01-08"),
            enrolled_on: day("2017-01-09"),
        });
}

#[tokio::test]
async fn withdrawing_before_the_enrolment_date_is_refused() {
    Given::with(ctx())
        .given(vec![opened(), enrolled("2017-01-09")])
        .when_async(withdraw("2017-01-01"))
        .await
        .then_expect_error(CohortError::BeforeEnrolment {
            field: Field::WithdrawnOn,
            date: day("2017-01-01"),
            enrolled_on: day("2017-01-09"),
        });
}

#[tokio::test]
async fn completing_twice_is_refused() {
    Given::with(ctx())
        .given(vec![opened(), enrolled("2017-01-09"), completed("2018-01-08")])
        .when_async(complete("2018-01-09"))
        .await
        .then_expect_error(CohortError::AlreadyCompleted {
            participant_id: alice(),
        });
}

#[tokio::test]
async fn withdrawing_after_completing_is_refused() {
    Given::with(ctx())
        .given(vec![opened(), enrolled("2017-01-09"), completed("2018-01-08")])
        .when_async(withdraw("2018-02-01"))
        .await
        .then_expect_error(CohortError::AlreadyCompleted {
            participant_id: alice(),
        });
}

#[tokio::test]
async fn completing_after_withdrawing_is_refused() {
    Given::with(ctx())
        .given(vec![opened(), enrolled("2017-01-09"), withdrawn("2017-06-01")])
        .when_async(complete("2018-01-08"))
        .await
        .then_expect_error(CohortError::AlreadyWithdrawn {
            participant_id: alice(),
        });
}

#[tokio::test]
async fn withdrawing_twice_is_refused() {
    Given::with(ctx())
        .given(vec![opened(), enrolled("2017-01-09"), withdrawn("2017-06-01")])
        .when_async(withdraw("2017-07-01"))
        .await
        .then_expect_error(CohortError::AlreadyWithdrawn {
            participant_id: alice(),
        });
}

#[tokio::test]
async fn a_withdrawal_is_recorded() {
    Given::with(ctx())
        .given(vec![opened(), enrolled("2017-01-09")])
        .when_async(withdraw("2017-06-01"))
        .await
        .then_expect_events(vec![withdrawn("2017-06-01")]);
}

#[tokio::test]
async fn retracting_the_opening_is_refused() {
    Given::with(ctx())
        .given(vec![opened()])
        .when_async(retract(1))
        .await
        .then_expect_error(CohortError::RetractionNotRetractable { sequence: 1 });
}

#[tokio::test]
async fn retracting_an_enrolment_a_completion_refers_to_is_refused() {
    Given::with(ctx())
        .given(vec![opened(), enrolled("2017-01-09"), completed("2018-01-08")])
        .when_async(retract(2))
        .await
        .then_expect_error(CohortError::RetractionWouldBreakHistory {
            sequence: 2,
            because: CohortError::NotEnrolled {
                participant_id: alice(),
            }
            .to_string(),
        });
}

#[tokio::test]
async fn retracting_an_enrolment_after_its_completion_was_retracted_is_recorded() {
    Given::with(ctx())
        .given(vec![
            opened(),
            enrolled("2017-01-09"),
            completed("2018-01-08"),
            retracted(3),
        ])
        .when_async(retract(2))
        .await
        .then_expect_events(vec![retracted(2)]);
}

#[tokio::test]
async fn retracting_an_unknown_sequence_is_refused() {
    Given::with(ctx())
        .given(vec![opened()])
        .when_async(retract(5))
        .await
        .then_expect_error(CohortError::UnknownSequence { sequence: 5 });
}

#[tokio::test]
async fn retracting_an_event_twice_is_refused() {
    Given::with(ctx())
        .given(vec![opened(), enrolled("2017-01-09"), retracted(2)])
        .when_async(retract(2))
        .await
        .then_expect_error(CohortError::AlreadyRetracted { sequence: 2 });
}

#[test]
fn members_show_enrolment_and_outcome() {
    let mut cohort = Cohort::default();
    let bob = Uuid::from_u128(2);
    for e in [
        opened(),
        enrolled("2017-01-09"),
        CohortEvent::ParticipantEnrolled {
            participant_id: bob,
            enrolled_on: day("2017-01-10"),
        },
        completed("2018-01-08"),
    ] {
        cqrs_es::Aggregate::apply(&mut cohort, e);
    }
    assert_eq!(cohort.programme(), "PLDP");
    assert_eq!(cohort.name(), "cohort 1");
    let members = cohort.members();
    assert_eq!(members.len(), 2);
    assert_eq!(members[0].completed_on, Some(day("2018-01-08")));
    assert_eq!(members[1].participant_id, bob);
    assert_eq!(members[1].completed_on, None);
    let view = cohort.view().unwrap();
    assert_eq!(view.version, 4);
    assert_eq!(view.members.len(), 2);
}

#[test]
fn cohort_events_have_stable_type_names_and_errors_stable_codes() {
    use cqrs_es::DomainEvent;
    let names: Vec<String> = [
        opened(),
        enrolled("2017-01-09"),
        completed("2018-01-08"),
        withdrawn("2017-06-01"),
        retracted(2),
    ]
    .iter()
    .map(DomainEvent::event_type)
    .collect();
    assert_eq!(
        names,
        [
            "CohortOpened",
            "ParticipantEnrolled",
            "CompletionRecorded",
            "WithdrawalRecorded",
            "CohortEventRetracted"
        ]
    );
    let e = CohortError::AlreadyEnrolled {
        participant_id: alice(),
    };
    assert_eq!((e.code(), e.field()), ("already_enrolled", Some("participant_id")));
    let e = CohortError::BeforeEnrolment {
        field: Field::CompletedOn,
        date: day("2017-01-01"),
        enrolled_on: day("2017-01-09"),
    };
    assert_eq!((e.code(), e.field()), ("before_enrolment", Some("completed_on")));
}
