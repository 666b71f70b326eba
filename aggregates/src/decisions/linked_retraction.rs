//! Retracting a participant event retracts the post fill or vacancy it
//! caused, so participant and post keep agreeing: a registration or
//! rejoining into a post caused a fill, a move between posts a fill and a
//! vacancy, a leaving the vacancy of the post held. The other way round,
//! retracting a post's fill or vacancy is retracting the participant event
//! that caused it ([`linked_participant_event`]), with everything that
//! event caused.

use chrono::NaiveDate;
use uuid::Uuid;

use super::employment::{existing_post, post_held};
use super::{DecisionError, Outcome, Posts};
use crate::context::CommandContext;
use crate::participant::{Participant, ParticipantCommand, ParticipantEvent};
use crate::post::{Post, PostCommand, PostEvent};

/// A post fill or vacancy caused by a participant event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkedPostChange {
    pub post_id: Uuid,
    pub effective_on: NaiveDate,
    /// `true` for the post's fill, `false` for its vacancy.
    pub filled: bool,
}

/// The post changes the participant event with `sequence` caused, in the
/// order they are retracted: the fill, then the vacancy.
pub fn linked_post_changes(participant: &Participant, sequence: u64) -> Vec<LinkedPostChange> {
    let change = |post_id: Uuid, effective_on: NaiveDate, filled: bool| LinkedPostChange {
        post_id,
        effective_on,
        filled,
    };
    // The post held at the end of the day before a change.
    let held_before = |day: NaiveDate| post_held(participant, day.pred_opt().unwrap_or(day));
    match participant.event(sequence) {
        Some(ParticipantEvent::Registered {
            post_id: Some(post_id),
            joined_on,
            ..
        }) => vec![change(*post_id, *joined_on, true)],
        Some(ParticipantEvent::RoleChanged {
            post_id, effective_on, ..
        }) => {
            let before = held_before(*effective_on);
            if before == *post_id {
                return Vec::new();
            }
            let filled = post_id.map(|p| change(p, *effective_on, true));
            let vacated = before.map(|p| change(p, *effective_on, false));
            filled.into_iter().chain(vacated).collect()
        }
        Some(ParticipantEvent::RejoiningRecorded {
            post_id: Some(post_id),
            effective_on,
            ..
        }) => vec![change(*post_id, *effective_on, true)],
        Some(ParticipantEvent::LeavingRecorded { effective_on, .. }) => held_before(*effective_on)
            .map(|p| change(p, *effective_on, false))
            .into_iter()
            .collect(),
        _ => Vec::new(),
    }
}

/// The participant and the live participant event that caused the fill or
/// vacancy with `sequence` on `post` (`post_id`): the event whose
/// retraction would retract that very post event. `None` when the post
/// event is no fill or vacancy, or nothing on the participant caused it.
pub fn linked_participant_event(post_id: Uuid, post: &Post, sequence: u64, participant: &Participant) -> Option<u64> {
    let participant_id = participant.timeline()?.participant_id();
    participant
        .events()
        .iter()
        .rev()
        .map(|(s, _)| *s)
        .filter(|s| !participant.is_retracted(*s))
        .find(|s| {
            linked_post_changes(participant, *s)
                .into_iter()
                .filter(|change| change.post_id == post_id)
                .any(|change| live_post_change(post, participant_id, change) == Some(sequence))
        })
}

/// The participant whose fill or vacancy is the event with `sequence` on
/// `post`, if it is one.
pub fn post_change_participant(post: &Post, sequence: u64) -> Option<Uuid> {
    post.events()
        .iter()
        .find(|(s, _)| *s == sequence)
        .and_then(|(_, e)| match e {
            PostEvent::Filled { participant_id, .. } | PostEvent::Vacated { participant_id, .. } => {
                Some(*participant_id)
            }
            _ => None,
        })
}

/// Retracts the participant event with `sequence` and the post changes it
/// caused that are still live. `posts` holds the posts
/// [`linked_post_changes`] names.
pub(super) fn retract(
    participant: &Participant,
    sequence: u64,
    reason: String,
    posts: &Posts,
    ctx: &CommandContext,
) -> Result<Outcome, DecisionError> {
    let linked = linked_post_changes(participant, sequence);
    let event = participant.decide(
        ParticipantCommand::Retract {
            sequence,
            reason: reason.clone(),
        },
        ctx,
    )?;
    let mut outcome = Outcome {
        participant: vec![event],
        ..Outcome::default()
    };
    let Some(participant_id) = participant.timeline().map(|t| t.participant_id()) else {
        return Ok(outcome);
    };
    for change in linked {
        let post = existing_post(posts, change.post_id)?;
        if let Some(post_sequence) = live_post_change(post, participant_id, change) {
            let retract = PostCommand::Retract {
                sequence: post_sequence,
                reason: reason.clone(),
            };
            outcome.record_on_post(change.post_id, post.decide(retract, ctx)?);
        }
    }
    Ok(outcome)
}

/// The sequence of the latest live fill or vacancy (as `change` says) of
/// `participant_id` on `post`, on `change`'s date.
fn live_post_change(post: &Post, participant_id: Uuid, change: LinkedPostChange) -> Option<u64> {
    post.events()
        .iter()
        .rev()
        .find(|(s, e)| {
            !post.is_retracted(*s)
                && match e {
                    PostEvent::Filled {
                        participant_id: p,
                        effective_on: on,
                        ..
                    } => change.filled && *p == participant_id && *on == change.effective_on,
                    PostEvent::Vacated {
                        participant_id: p,
                        effective_on: on,
                    } => !change.filled && *p == participant_id && *on == change.effective_on,
                    _ => false,
                }
        })
        .map(|(s, _)| *s)
}
