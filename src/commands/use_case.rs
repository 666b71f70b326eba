//! Every use case a client can ask for, as data.
//!
//! Requests are turned into a [`UseCase`] and handed to
//! [`super::CommandRunner::run`], which may decide it several times (after a
//! conflict). Keeping use cases as plain values, rather than closures, lets
//! the runner's future be `Send` for any caller.

use aggregates::cohort::CohortCommand;
use aggregates::ladder::Basis;
use aggregates::participant::ParticipantCommand;
use aggregates::post::PostCommand;
use chrono::NaiveDate;
use uuid::Uuid;

use super::{cohorts, participants, posts, ChangeRole, CommandError, Decision, Register, Rejoin};

/// One request to record something.
#[derive(Debug, Clone)]
pub enum UseCase {
    Register(Register),
    ChangeRole(Uuid, ChangeRole),
    RecordLeaving {
        participant_id: Uuid,
        effective_on: NaiveDate,
        reason: String,
        destination: Option<String>,
    },
    RecordRejoining(Uuid, Rejoin),
    /// A participant command touching no other aggregate (exclusions).
    Participant(Uuid, ParticipantCommand),
    RetractParticipantEvent {
        participant_id: Uuid,
        sequence: u64,
        reason: String,
    },
    OpenCohort(Uuid, CohortCommand),
    Enrol {
        cohort_id: Uuid,
        participant_id: Uuid,
        enrolled_on: NaiveDate,
    },
    /// Completion, withdrawal or retraction on a cohort.
    Cohort(Uuid, CohortCommand),
    EstablishPost(Uuid, PostCommand),
    /// Disestablishment or retraction on a post.
    Post(Uuid, PostCommand),
    FillPost {
        post_id: Uuid,
        participant_id: Uuid,
        basis: Basis,
        fte: Option<f64>,
        effective_on: NaiveDate,
    },
    VacatePost {
        post_id: Uuid,
        participant_id: Uuid,
        effective_on: NaiveDate,
    },
}

impl UseCase {
    /// Decides this use case into `d`.
    pub async fn decide(&self, d: &mut Decision) -> Result<(), CommandError> {
        match self {
            UseCase::Register(input) => participants::register(d, input).await,
            UseCase::ChangeRole(id, input) => participants::change_role(d, *id, input).await,
            UseCase::RecordLeaving {
                participant_id,
                effective_on,
                reason,
                destination,
            } => {
                participants::record_leaving(d, *participant_id, *effective_on, reason.clone(), destination.clone())
                    .await
            }
            UseCase::RecordRejoining(id, input) => participants::record_rejoining(d, *id, input).await,
            UseCase::Participant(id, command) => participants::simple(d, *id, command.clone()).await,
            UseCase::RetractParticipantEvent {
                participant_id,
                sequence,
                reason,
            } => participants::retract(d, *participant_id, *sequence, reason.clone()).await,
            UseCase::OpenCohort(id, command) => cohorts::open_cohort(d, *id, command.clone()).await,
            UseCase::Enrol {
                cohort_id,
                participant_id,
                enrolled_on,
            } => cohorts::enrol(d, *cohort_id, *participant_id, *enrolled_on).await,
            UseCase::Cohort(id, command) => cohorts::cohort_command(d, *id, command.clone()).await,
            UseCase::EstablishPost(id, command) => posts::establish(d, *id, command.clone()).await,
            UseCase::Post(id, command) => posts::post_command(d, *id, command.clone()).await,
            UseCase::FillPost {
                post_id,
                participant_id,
                basis,
                fte,
                effective_on,
            } => posts::fill(d, *post_id, *participant_id, *basis, *fte, *effective_on).await,
            UseCase::VacatePost {
                post_id,
                participant_id,
                effective_on,
            } => posts::vacate(d, *post_id, *participant_id, *effective_on).await,
        }
    }
}
