//! Filling and vacating a post from the post's side. The occupant's role
//! record changes with the post, so each is decided as the occupant's role
//! change (see [`super::decide_for_participant`]): filling moves them into
//! the post's role and organisation, keeping their team; vacating keeps
//! their role and terms with no post from then on.

use uuid::Uuid;

use super::DecisionError;
use crate::ladder::Basis;
use crate::participant::{Participant, ParticipantCommand};
use crate::post::Post;

/// The occupant's role change when `post` is filled by `occupant`
/// (`PostCommand::Fill`'s fields).
pub fn fill_as_role_change(
    post_id: Uuid,
    post: &Post,
    occupant: &Participant,
    basis: Basis,
    fte: Option<f64>,
    effective_on: chrono::NaiveDate,
) -> ParticipantCommand {
    let team = occupant
        .timeline()
        .and_then(|t| t.employment_on(effective_on))
        .and_then(|spell| spell.team.clone());
    ParticipantCommand::ChangeRole {
        effective_on,
        role: post.role().clone(),
        organisation: post.organisation().to_string(),
        team,
        post_id: Some(post_id),
        basis,
        fte,
        kind: None,
    }
}

/// The occupant's role change when they leave `post_id` on `effective_on`
/// (`PostCommand::Vacate`'s fields): the post held that day must be this one.
pub fn vacate_as_role_change(
    post_id: Uuid,
    occupant: &Participant,
    participant_id: Uuid,
    effective_on: chrono::NaiveDate,
) -> Result<ParticipantCommand, DecisionError> {
    let spell = occupant
        .timeline()
        .and_then(|t| t.employment_on(effective_on))
        .filter(|spell| spell.post_id == Some(post_id))
        .ok_or(DecisionError::NotInPost {
            participant_id,
            post_id,
            effective_on,
        })?;
    Ok(ParticipantCommand::ChangeRole {
        effective_on,
        role: spell.role.clone(),
        organisation: spell.organisation.clone(),
        team: spell.team.clone(),
        post_id: None,
        basis: spell.basis,
        fte: Some(spell.fte),
        kind: None,
    })
}
