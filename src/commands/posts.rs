//! Post use cases. Filling and vacating change the occupant's role record
//! too (see [`super::participants`]), so both go through participant use
//! cases; establishing, disestablishing and retracting touch the post only.

use aggregates::participant::Participant;
use aggregates::post::{Post, PostCommand};
use chrono::NaiveDate;
use uuid::Uuid;

use super::participants::{change_role, ChangeRole};
use super::{CommandError, Decision};
use crate::event_store::LoadedStream;

/// Loads the addressed post, checking `If-Match`.
pub async fn load_post(d: &Decision, post_id: Uuid) -> Result<LoadedStream<Post>, CommandError> {
    let loaded = d.load::<Post>("post", &post_id.to_string()).await?;
    d.check_expected(&loaded)?;
    Ok(loaded)
}

/// Establishes a post.
pub async fn establish(d: &mut Decision, post_id: Uuid, command: PostCommand) -> Result<(), CommandError> {
    let mut post: LoadedStream<Post> = d.load_new(&post_id.to_string()).await?;
    if post.version > 0 {
        return Err(CommandError::Conflict(format!("post {post_id} already exists")));
    }
    d.decide(&post_id.to_string(), &mut post, command).await?;
    Ok(())
}

/// Any post command that involves no participant.
pub async fn post_command(d: &mut Decision, post_id: Uuid, command: PostCommand) -> Result<(), CommandError> {
    let mut post = load_post(d, post_id).await?;
    d.decide(&post_id.to_string(), &mut post, command).await?;
    Ok(())
}

/// A participant takes up the post: a role change into the post's role.
pub async fn fill(
    d: &mut Decision,
    post_id: Uuid,
    participant_id: Uuid,
    basis: aggregates::ladder::Basis,
    fte: Option<f64>,
    effective_on: NaiveDate,
) -> Result<(), CommandError> {
    let post = load_post(d, post_id).await?;
    let participant: LoadedStream<Participant> = d.load("participant", &participant_id.to_string()).await?;
    let team = participant
        .aggregate
        .timeline()
        .and_then(|t| t.employment_on(effective_on))
        .and_then(|s| s.team.clone());
    let input = ChangeRole {
        effective_on,
        role: post.aggregate.role().clone(),
        organisation: post.aggregate.organisation().to_string(),
        team,
        post_id: Some(post_id),
        basis,
        fte,
        kind: None,
    };
    // `change_role` checks If-Match against the participant; the post was
    // checked above, so clear it for the participant.
    d.expected_version = None;
    change_role(d, participant_id, &input).await
}

/// The occupant leaves the post but keeps their role (no post from then on).
pub async fn vacate(
    d: &mut Decision,
    post_id: Uuid,
    participant_id: Uuid,
    effective_on: NaiveDate,
) -> Result<(), CommandError> {
    load_post(d, post_id).await?;
    let participant: LoadedStream<Participant> = d.load("participant", &participant_id.to_string()).await?;
    let spell = participant
        .aggregate
        .timeline()
        .and_then(|t| t.employment_on(effective_on))
        .filter(|s| s.post_id == Some(post_id))
        .cloned()
        .ok_or_else(|| {
            CommandError::rule(
                "not_in_post",
                Some("participant_id"),
                format!("participant {participant_id} does not hold post {post_id} on {effective_on}"),
            )
        })?;
    let input = ChangeRole {
        effective_on,
        role: spell.role.clone(),
        organisation: spell.organisation.clone(),
        team: spell.team.clone(),
        post_id: None,
        basis: spell.basis,
        fte: Some(spell.fte),
        kind: None,
    };
    d.expected_version = None;
    change_role(d, participant_id, &input).await
}
