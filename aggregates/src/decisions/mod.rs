//! Decisions that span aggregates: a participant and the posts they take up
//! or leave, and a cohort enrolling a participant.
//!
//! A participant's role record and the posts' occupancy never disagree: a
//! participant event that takes up a post comes with `PostFilled` on that
//! post, one that ends a spell in a post with `PostVacated`, and retracting
//! either retracts its partner. Each decision is a pure function over the
//! aggregates involved and one aggregate's own command; it returns the events
//! for every stream in an [`Outcome`] or the first rule refusing it as a
//! [`DecisionError`]. Each aggregate's own rules run through its `decide`,
//! so a decision adds only the rules no single aggregate can check.
//!
//! The caller loads what a decision reads ([`posts_read`] names the posts),
//! decides, and appends the outcome as one commit with every stream's
//! expected version, so a concurrent change to any of them makes the commit
//! conflict rather than leave the streams disagreeing.

mod employment;
mod enrolment;
mod error;
mod linked_retraction;
mod occupancy;

#[cfg(test)]
mod employment_tests;
#[cfg(test)]
mod enrolment_tests;
#[cfg(test)]
mod linked_retraction_tests;
#[cfg(test)]
mod occupancy_tests;
#[cfg(test)]
mod test_support;

pub use employment::{check_external_ref_free, organisation_on};
pub use enrolment::{enrol, enrolments_of, reads_enrolments, Enrolment};
pub use error::DecisionError;
pub use linked_retraction::{linked_participant_event, linked_post_changes, post_change_participant, LinkedPostChange};
pub use occupancy::{fill_as_role_change, vacate_as_role_change};

use std::collections::BTreeMap;

use uuid::Uuid;

use crate::cohort::CohortEvent;
use crate::context::CommandContext;
use crate::participant::{Participant, ParticipantCommand, ParticipantEvent};
use crate::post::{Post, PostEvent};

/// The posts a decision reads, by id. A post missing here, or with no
/// events, does not exist.
pub type Posts = BTreeMap<Uuid, Post>;

/// The events a decision records, per stream, in the order they are to be
/// appended: the participant's first, then each post's.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Outcome {
    /// Events for the participant the decision is about.
    pub participant: Vec<ParticipantEvent>,
    /// Events for each post the decision changes, in order.
    pub posts: Vec<(Uuid, Vec<PostEvent>)>,
    /// Events for the cohort the decision is about.
    pub cohort: Vec<CohortEvent>,
}

impl Outcome {
    /// Adds `event` to `post_id`'s events.
    fn record_on_post(&mut self, post_id: Uuid, event: PostEvent) {
        match self.posts.iter_mut().find(|(id, _)| *id == post_id) {
            Some((_, events)) => events.push(event),
            None => self.posts.push((post_id, vec![event])),
        }
    }
}

/// The posts [`decide_for_participant`] reads to decide `command`: those it
/// takes the participant into or out of, or whose fill or vacancy a
/// retraction withdraws with the participant's event.
pub fn posts_read(participant: &Participant, command: &ParticipantCommand) -> Vec<Uuid> {
    match command {
        ParticipantCommand::Retract { sequence, .. } => linked_post_changes(participant, *sequence)
            .into_iter()
            .map(|change| change.post_id)
            .collect(),
        _ => employment::post_changes(participant, command).map_or_else(Vec::new, |changes| changes.posts()),
    }
}

/// Decides a participant command with the post changes it implies: taking
/// up or leaving posts (registration, role change, leaving, rejoining), or
/// retracting the fills and vacancies a retracted event caused. `posts`
/// holds at least the posts [`posts_read`] names; `enrolments` the
/// participant's live enrolments when [`reads_enrolments`] says the command
/// needs them (none may end up on a day the person is not employed).
pub fn decide_for_participant(
    participant: &Participant,
    command: ParticipantCommand,
    posts: &Posts,
    enrolments: &[Enrolment],
    ctx: &CommandContext,
) -> Result<Outcome, DecisionError> {
    let field = match &command {
        ParticipantCommand::Retract { .. } => "sequence",
        _ => "effective_on",
    };
    let outcome = match command {
        ParticipantCommand::Retract { sequence, reason } => {
            linked_retraction::retract(participant, sequence, reason, posts, ctx)
        }
        command => employment::decide(participant, command, posts, ctx),
    }?;
    enrolment::keep_enrolments_employed(participant, &outcome.participant, enrolments, field)?;
    Ok(outcome)
}
