//! Taking up and leaving posts through the participant's own record:
//! registering, changing role, leaving and rejoining.
//!
//! A registration or rejoining into a post fills it; a role change into
//! another post vacates the one held on that day and fills the new one; a
//! leaving vacates the post held. The post taken up must exist, belong to
//! the organisation the participant works for from then on, and be for the
//! role they hold.

use chrono::NaiveDate;
use uuid::Uuid;

use super::{DecisionError, Outcome, Posts};
use crate::context::CommandContext;
use crate::ladder::{Basis, RoleRef};
use crate::participant::{Participant, ParticipantCommand};
use crate::post::{Post, PostCommand};

/// An external reference is free unless someone else already has it.
/// `owner` is whoever holds `external_ref` now, as the store says.
pub fn check_external_ref_free(external_ref: &str, owner: Option<Uuid>) -> Result<(), DecisionError> {
    match owner {
        Some(owner) => Err(DecisionError::ExternalRefTaken {
            external_ref: external_ref.to_string(),
            owner,
        }),
        None => Ok(()),
    }
}

/// The organisation a participant works for on `day` (effective-date
/// clock): that of the last spell begun on or before it, or of the first
/// spell when `day` precedes them all. A late record must not take the
/// organisation of moves that happen after it. `None` before registration.
pub fn organisation_on(participant: &Participant, day: NaiveDate) -> Option<&str> {
    let spells = participant.timeline()?.spells();
    spells
        .iter()
        .rev()
        .find(|spell| spell.from <= day)
        .or(spells.first())
        .map(|spell| spell.organisation.as_str())
}

/// The post a participant takes up: where and on what terms.
pub(super) struct TakenUp<'a> {
    post_id: Uuid,
    organisation: &'a str,
    role: &'a RoleRef,
    basis: Basis,
}

/// The post changes a participant command implies, on its effective date.
pub(super) struct PostChanges<'a> {
    effective_on: NaiveDate,
    /// The post held that day and given up.
    left: Option<Uuid>,
    /// The post taken up.
    taken_up: Option<TakenUp<'a>>,
}

impl PostChanges<'_> {
    /// The posts involved: the one left, then the one taken up.
    pub(super) fn posts(&self) -> Vec<Uuid> {
        self.left
            .into_iter()
            .chain(self.taken_up.as_ref().map(|t| t.post_id))
            .collect()
    }
}

/// The post a participant holds at the end of `day`, as history stands.
pub(super) fn post_held(participant: &Participant, day: NaiveDate) -> Option<Uuid> {
    participant
        .timeline()
        .and_then(|t| t.employment_on(day))
        .and_then(|spell| spell.post_id)
}

/// What `command` does to the posts `participant` holds; `None` for
/// commands that never change posts (exclusions, and retractions, which
/// withdraw post changes instead: see `linked_retraction`).
pub(super) fn post_changes<'a>(participant: &Participant, command: &'a ParticipantCommand) -> Option<PostChanges<'a>> {
    let taken_up = |post_id: &Option<Uuid>, organisation: &'a str, role: &'a RoleRef, basis: &Basis| {
        post_id.map(|post_id| TakenUp {
            post_id,
            organisation,
            role,
            basis: *basis,
        })
    };
    let changes = match command {
        ParticipantCommand::Register {
            post_id,
            organisation,
            role,
            basis,
            joined_on,
            ..
        } => PostChanges {
            effective_on: *joined_on,
            left: None,
            taken_up: taken_up(post_id, organisation, role, basis),
        },
        ParticipantCommand::ChangeRole {
            effective_on,
            post_id,
            organisation,
            role,
            basis,
            ..
        } => {
            let before = post_held(participant, *effective_on);
            PostChanges {
                effective_on: *effective_on,
                left: before.filter(|old| Some(*old) != *post_id),
                taken_up: taken_up(post_id, organisation, role, basis).filter(|t| Some(t.post_id) != before),
            }
        }
        ParticipantCommand::RecordLeaving { effective_on, .. } => PostChanges {
            effective_on: *effective_on,
            left: post_held(participant, *effective_on),
            taken_up: None,
        },
        ParticipantCommand::RecordRejoining {
            effective_on,
            post_id,
            organisation,
            role,
            basis,
            ..
        } => PostChanges {
            effective_on: *effective_on,
            left: None,
            taken_up: taken_up(post_id, organisation, role, basis),
        },
        ParticipantCommand::ExcludeFromAnalysis { .. }
        | ParticipantCommand::LiftExclusion { .. }
        | ParticipantCommand::Retract { .. } => return None,
    };
    Some(changes)
}

/// Whether any spell of the participant starts or ends after `day`.
fn has_later_changes(participant: &Participant, day: NaiveDate) -> bool {
    participant.timeline().is_some_and(|t| {
        t.spells()
            .iter()
            .any(|s| s.from > day || s.until.is_some_and(|until| until > day))
    })
}

/// Decides a participant command that is not a retraction, with the posts
/// it fills and vacates. The participant's own rules come first, then the
/// post left, then the post taken up.
pub(super) fn decide(
    participant: &Participant,
    command: ParticipantCommand,
    posts: &Posts,
    ctx: &CommandContext,
) -> Result<Outcome, DecisionError> {
    let changes = post_changes(participant, &command);
    if let (ParticipantCommand::ChangeRole { effective_on, .. }, Some(changes)) = (&command, &changes) {
        // A move into a post before later changes or a leaving would stay
        // filled past them, which append no vacancy for it: participant and
        // post would disagree.
        if changes.taken_up.is_some() && has_later_changes(participant, *effective_on) {
            return Err(DecisionError::PostChangeOutOfOrder);
        }
    }
    let participant_id = match &command {
        ParticipantCommand::Register { participant_id, .. } => Some(*participant_id),
        _ => participant.timeline().map(|t| t.participant_id()),
    };
    let event = participant.decide(command.clone(), ctx)?;
    let mut outcome = Outcome {
        participant: vec![event],
        ..Outcome::default()
    };
    // The participant's own rules passed, so it is registered (or being so).
    let (Some(participant_id), Some(changes)) = (participant_id, changes) else {
        return Ok(outcome);
    };
    if let Some(post_id) = changes.left {
        let post = existing_post(posts, post_id)?;
        let vacate = PostCommand::Vacate {
            participant_id,
            effective_on: changes.effective_on,
        };
        outcome.record_on_post(post_id, post.decide(vacate, ctx)?);
    }
    if let Some(taken_up) = &changes.taken_up {
        let post = post_to_take_up(posts, taken_up)?;
        let fill = PostCommand::Fill {
            participant_id,
            basis: taken_up.basis,
            fte: None,
            effective_on: changes.effective_on,
        };
        outcome.record_on_post(taken_up.post_id, post.decide(fill, ctx)?);
    }
    Ok(outcome)
}

/// The post with `post_id`, which must exist.
pub(super) fn existing_post(posts: &Posts, post_id: Uuid) -> Result<&Post, DecisionError> {
    posts
        .get(&post_id)
        .filter(|post| post.version() > 0)
        .ok_or(DecisionError::UnknownPost { post_id })
}

/// The post taken up, after checking it suits the participant's new place.
fn post_to_take_up<'p>(posts: &'p Posts, taken_up: &TakenUp<'_>) -> Result<&'p Post, DecisionError> {
    let post_id = taken_up.post_id;
    let post = existing_post(posts, post_id)?;
    if post.organisation() != taken_up.organisation {
        return Err(DecisionError::PostInOtherOrganisation {
            post_id,
            post_organisation: post.organisation().to_string(),
            organisation: taken_up.organisation.to_string(),
        });
    }
    if post.role().code != taken_up.role.code {
        return Err(DecisionError::RoleDoesNotMatchPost {
            post_id,
            post_role: post.role().code.clone(),
            role: taken_up.role.code.clone(),
        });
    }
    Ok(post)
}
