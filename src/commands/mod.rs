//! The application layer: load the streams a command needs, let the
//! aggregates decide, append the outcome as one commit.
//!
//! A [`Command`] is one aggregate's own command addressed to one stream.
//! Dispatch (`dispatch.rs`) loads what the command reads into a [`Decision`]
//! and decides it with the aggregate's rules, or with a decision spanning
//! aggregates from `aggregates::decisions`; the [`CommandRunner`] appends
//! every resulting event in one transaction. When a stream moved on between
//! load and append, the runner decides again on fresh state, holding the
//! append lock so nothing can overtake it (rules re-checked), unless the client pinned a version with `If-Match`, in which
//! case the answer is 409. A refusal appends nothing.

mod decision;
mod dispatch;
mod error;
mod runner;

pub use decision::Decision;
pub use error::CommandError;
pub use runner::{CommandOrigin, CommandRunner};

use aggregates::cohort::CohortCommand;
use aggregates::participant::ParticipantCommand;
use aggregates::post::PostCommand;
use uuid::Uuid;

/// One request to record something: an aggregate's own command and the id
/// of the stream it addresses (for a creating command, the new id).
///
/// Commands are plain values, not closures, so the runner can decide one
/// again after a conflict and its future stays `Send` for any caller.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// To a participant; posts they take up or leave change with them.
    Participant(Uuid, ParticipantCommand),
    /// To a post; filling and vacating change the occupant's record too.
    Post(Uuid, PostCommand),
    /// To a cohort; enrolment reads the participant enrolled.
    Cohort(Uuid, CohortCommand),
}
