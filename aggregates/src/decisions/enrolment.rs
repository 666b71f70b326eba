//! Enrolment in a cohort needs the participant: they must exist and be
//! employed on the enrolment date. The caller guards the participant's
//! stream, so a concurrent change to it (a backdated leaving, say) makes the
//! enrolment conflict and be decided again on the new history.
//!
//! The rule holds whichever is recorded first: a leaving, or a retraction
//! that ends or removes employment, is refused when it would leave one of
//! the person's enrolments on a day they are not employed. The caller loads
//! the cohorts enrolling the person ([`reads_enrolments`] says when) and
//! guards them.

use chrono::NaiveDate;
use cqrs_es::Aggregate;
use uuid::Uuid;

use super::{DecisionError, Outcome};
use crate::cohort::{Cohort, CohortCommand};
use crate::context::CommandContext;
use crate::participant::{Participant, ParticipantCommand, ParticipantEvent};

/// One live enrolment of the participant a decision is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Enrolment {
    /// The cohort enrolling them.
    pub cohort_id: Uuid,
    /// The day they were enrolled (employed at its end).
    pub enrolled_on: NaiveDate,
}

/// The live enrolments of `participant_id` in `cohort`.
pub fn enrolments_of(cohort: &Cohort, participant_id: Uuid) -> Vec<Enrolment> {
    let Some(cohort_id) = cohort.roster().map(|r| r.cohort_id) else {
        return Vec::new();
    };
    cohort
        .members()
        .iter()
        .filter(|m| m.participant_id == participant_id)
        .map(|m| Enrolment {
            cohort_id,
            enrolled_on: m.enrolled_on,
        })
        .collect()
}

/// Whether deciding `command` needs the participant's enrolments: only a
/// leaving or a retraction can take employment away from a day.
pub fn reads_enrolments(command: &ParticipantCommand) -> bool {
    matches!(
        command,
        ParticipantCommand::RecordLeaving { .. } | ParticipantCommand::Retract { .. }
    )
}

/// Refuses `recorded` (the participant's events a decision appends) when it
/// would leave an enrolment on a day the participant was employed before
/// and is not after; `field` names the request field that did it.
pub(super) fn keep_enrolments_employed(
    participant: &Participant,
    recorded: &[ParticipantEvent],
    enrolments: &[Enrolment],
    field: &'static str,
) -> Result<(), DecisionError> {
    if enrolments.is_empty() {
        return Ok(());
    }
    let mut after = participant.clone();
    for event in recorded {
        after.apply(event.clone());
    }
    let employed = |p: &Participant, day: NaiveDate| p.timeline().is_some_and(|t| t.employment_on(day).is_some());
    match enrolments
        .iter()
        .find(|e| employed(participant, e.enrolled_on) && !employed(&after, e.enrolled_on))
    {
        Some(e) => Err(DecisionError::EnrolmentWithoutEmployment {
            participant_id: participant.timeline().map(|t| t.participant_id()).unwrap_or_default(),
            cohort_id: e.cohort_id,
            enrolled_on: e.enrolled_on,
            field,
        }),
        None => Ok(()),
    }
}

/// Decides `command` on `cohort`; an enrolment also checks `participant`
/// (the stream of the participant it names; empty if there is none). Other
/// cohort commands read no participant and only the cohort's rules apply.
pub fn enrol(
    cohort: &Cohort,
    participant: &Participant,
    command: CohortCommand,
    ctx: &CommandContext,
) -> Result<Outcome, DecisionError> {
    if let CohortCommand::Enrol {
        participant_id,
        enrolled_on,
    } = &command
    {
        if participant.version() == 0 {
            return Err(DecisionError::UnknownParticipant {
                participant_id: *participant_id,
            });
        }
        let employed = participant
            .timeline()
            .is_some_and(|t| t.employment_on(*enrolled_on).is_some());
        if !employed {
            return Err(DecisionError::ParticipantNotEmployed {
                participant_id: *participant_id,
                enrolled_on: *enrolled_on,
            });
        }
    }
    Ok(Outcome {
        cohort: vec![cohort.decide(command, ctx)?],
        ..Outcome::default()
    })
}
