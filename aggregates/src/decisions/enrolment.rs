//! Enrolment in a cohort needs the participant: they must exist and be
//! employed on the enrolment date. The caller guards the participant's
//! stream, so a concurrent change to it (a backdated leaving, say) makes the
//! enrolment conflict and be decided again on the new history.

use super::{DecisionError, Outcome};
use crate::cohort::{Cohort, CohortCommand};
use crate::context::CommandContext;
use crate::participant::Participant;

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
