//! Cohort use cases. Enrolment depends on the participant: they must exist
//! and be employed on the enrolment date. The participant's stream is read
//! and guarded, so a concurrent change to it (say, a backdated leaving) makes
//! the enrolment conflict and be decided again on the new history.

use aggregates::cohort::{Cohort, CohortCommand};
use aggregates::participant::Participant;
use chrono::NaiveDate;
use uuid::Uuid;

use super::{CommandError, Decision};
use crate::event_store::LoadedStream;

/// Loads the addressed cohort, checking `If-Match`.
async fn load_cohort(d: &Decision, cohort_id: Uuid) -> Result<LoadedStream<Cohort>, CommandError> {
    let loaded = d.load::<Cohort>("cohort", &cohort_id.to_string()).await?;
    d.check_expected(&loaded)?;
    Ok(loaded)
}

/// Opens a cohort.
pub async fn open_cohort(d: &mut Decision, cohort_id: Uuid, command: CohortCommand) -> Result<(), CommandError> {
    let mut cohort: LoadedStream<Cohort> = d.load_new(&cohort_id.to_string()).await?;
    if cohort.version > 0 {
        return Err(CommandError::Conflict(format!("cohort {cohort_id} already exists")));
    }
    d.decide(&cohort_id.to_string(), &mut cohort, command).await?;
    Ok(())
}

/// Enrols a participant who exists and is employed on `enrolled_on`.
pub async fn enrol(
    d: &mut Decision,
    cohort_id: Uuid,
    participant_id: Uuid,
    enrolled_on: NaiveDate,
) -> Result<(), CommandError> {
    let mut cohort = load_cohort(d, cohort_id).await?;
    let participant: LoadedStream<Participant> = d.load_new(&participant_id.to_string()).await?;
    if participant.version == 0 {
        return Err(CommandError::rule(
            "unknown_participant",
            Some("participant_id"),
            format!("no participant with id {participant_id}"),
        ));
    }
    let employed = participant
        .aggregate
        .timeline()
        .is_some_and(|t| t.employment_on(enrolled_on).is_some());
    if !employed {
        return Err(CommandError::rule(
            "participant_not_employed",
            Some("enrolled_on"),
            format!("participant {participant_id} is not employed on {enrolled_on}, so cannot be enrolled then"),
        ));
    }
    d.guard(&participant_id.to_string(), &participant);
    d.decide(
        &cohort_id.to_string(),
        &mut cohort,
        CohortCommand::Enrol {
            participant_id,
            enrolled_on,
        },
    )
    .await?;
    Ok(())
}

/// Any other cohort command (completion, withdrawal, retraction).
pub async fn cohort_command(d: &mut Decision, cohort_id: Uuid, command: CohortCommand) -> Result<(), CommandError> {
    let mut cohort = load_cohort(d, cohort_id).await?;
    d.decide(&cohort_id.to_string(), &mut cohort, command).await?;
    Ok(())
}
