//! Participant use cases, including the post changes they imply.
//!
//! A participant's role and the post they fill never disagree: every
//! participant event that takes up a post appends `PostFilled` to that post,
//! and every event that ends a spell in a post appends `PostVacated`, in the
//! same commit. Both streams' versions are checked under the store's append
//! lock, so a concurrent change to either aggregate makes the whole commit
//! conflict (and be decided again) rather than leave them disagreeing.

use aggregates::ladder::{Basis, MoveKind, RoleRef};
use aggregates::participant::{Participant, ParticipantCommand, ParticipantEvent};
use aggregates::post::{Post, PostCommand, PostEvent};
use chrono::NaiveDate;
use uuid::Uuid;

use super::{CommandError, Decision};
use crate::event_store::LoadedStream;

/// Registers a participant, optionally into a post.
#[derive(Debug, Clone)]
pub struct Register {
    pub participant_id: Uuid,
    pub external_ref: String,
    pub organisation: String,
    pub team: Option<String>,
    pub role: RoleRef,
    pub post_id: Option<Uuid>,
    pub basis: Basis,
    pub fte: f64,
    pub joined_on: NaiveDate,
}

/// A role change (promotion, demotion, sideways move or change of terms).
#[derive(Debug, Clone)]
pub struct ChangeRole {
    pub effective_on: NaiveDate,
    pub role: RoleRef,
    pub organisation: String,
    pub team: Option<String>,
    pub post_id: Option<Uuid>,
    pub basis: Basis,
    pub fte: Option<f64>,
    pub kind: Option<MoveKind>,
}

/// A rejoining after a leaving.
#[derive(Debug, Clone)]
pub struct Rejoin {
    pub effective_on: NaiveDate,
    pub organisation: String,
    pub team: Option<String>,
    pub role: RoleRef,
    pub post_id: Option<Uuid>,
    pub basis: Basis,
    pub fte: f64,
    pub kind: Option<MoveKind>,
}

/// The post a participant holds at the end of `day`, as history stands.
/// Whether any spell of the participant starts or ends after `day`.
fn has_later_changes(participant: &LoadedStream<Participant>, day: NaiveDate) -> bool {
    participant.aggregate.timeline().is_some_and(|t| {
        t.spells()
            .iter()
            .any(|s| s.from > day || s.until.is_some_and(|until| until > day))
    })
}

fn post_held(participant: &LoadedStream<Participant>, day: NaiveDate) -> Option<Uuid> {
    participant
        .aggregate
        .timeline()
        .and_then(|t| t.employment_on(day))
        .and_then(|spell| spell.post_id)
}

/// Appends `PostFilled` for `participant_id` to `post_id`, after checking the
/// post exists, is in `organisation` and is for `role`.
async fn fill_post(
    d: &mut Decision,
    post_id: Uuid,
    participant_id: Uuid,
    organisation: &str,
    role: &RoleRef,
    basis: Basis,
    effective_on: NaiveDate,
) -> Result<(), CommandError> {
    let mut post: LoadedStream<Post> = d.load_new(&post_id.to_string()).await?;
    if post.version == 0 {
        return Err(CommandError::rule(
            "unknown_post",
            Some("post_id"),
            format!("no post with id {post_id}"),
        ));
    }
    if post.aggregate.organisation() != organisation {
        return Err(CommandError::rule(
            "post_in_other_organisation",
            Some("post_id"),
            format!(
                "post {post_id} belongs to {}, not {organisation}",
                post.aggregate.organisation()
            ),
        ));
    }
    if post.aggregate.role().code != role.code {
        return Err(CommandError::rule(
            "role_does_not_match_post",
            Some("role"),
            format!(
                "post {post_id} is a {} post; a participant filling it must hold that role, not {}",
                post.aggregate.role().code,
                role.code
            ),
        ));
    }
    d.decide(
        &post_id.to_string(),
        &mut post,
        PostCommand::Fill {
            participant_id,
            basis,
            effective_on,
        },
    )
    .await?;
    Ok(())
}

/// Appends `PostVacated` for `participant_id` to `post_id`.
async fn vacate_post(
    d: &mut Decision,
    post_id: Uuid,
    participant_id: Uuid,
    effective_on: NaiveDate,
) -> Result<(), CommandError> {
    let mut post: LoadedStream<Post> = d.load("post", &post_id.to_string()).await?;
    d.decide(
        &post_id.to_string(),
        &mut post,
        PostCommand::Vacate {
            participant_id,
            effective_on,
        },
    )
    .await?;
    Ok(())
}

/// Registers a new participant.
pub async fn register(d: &mut Decision, input: &Register) -> Result<(), CommandError> {
    if let Some(owner) = d.store.participant_by_external_ref(&input.external_ref).await? {
        return Err(CommandError::rule(
            "external_ref_taken",
            Some("external_ref"),
            format!(
                "external reference {:?} already belongs to participant {owner}",
                input.external_ref
            ),
        ));
    }
    let id = input.participant_id.to_string();
    let mut participant: LoadedStream<Participant> = d.load_new(&id).await?;
    d.decide(
        &id,
        &mut participant,
        ParticipantCommand::Register {
            participant_id: input.participant_id,
            external_ref: input.external_ref.clone(),
            organisation: input.organisation.clone(),
            team: input.team.clone(),
            role: input.role.clone(),
            post_id: input.post_id,
            basis: input.basis,
            fte: input.fte,
            joined_on: input.joined_on,
        },
    )
    .await?;
    if let Some(post_id) = input.post_id {
        fill_post(
            d,
            post_id,
            input.participant_id,
            &input.organisation,
            &input.role,
            input.basis,
            input.joined_on,
        )
        .await?;
    }
    Ok(())
}

/// Loads the addressed participant, checking `If-Match`.
pub async fn load_participant(d: &Decision, participant_id: Uuid) -> Result<LoadedStream<Participant>, CommandError> {
    let loaded = d
        .load::<Participant>("participant", &participant_id.to_string())
        .await?;
    d.check_expected(&loaded)?;
    Ok(loaded)
}

/// Changes a participant's role, moving posts as needed.
pub async fn change_role(d: &mut Decision, participant_id: Uuid, input: &ChangeRole) -> Result<(), CommandError> {
    let mut participant = load_participant(d, participant_id).await?;
    let before = post_held(&participant, input.effective_on);
    if input.post_id.is_some() && input.post_id != before && has_later_changes(&participant, input.effective_on) {
        // The post would stay filled past the later change or leaving, which
        // appends no vacancy for it: participant and post would disagree.
        return Err(CommandError::rule(
            "post_change_out_of_order",
            Some("effective_on"),
            "a move into a post must be recorded in date order: this person has role changes or a leaving              effective after this date; retract those first, then record them again after this move",
        ));
    }
    let id = participant_id.to_string();
    d.decide(
        &id,
        &mut participant,
        ParticipantCommand::ChangeRole {
            effective_on: input.effective_on,
            role: input.role.clone(),
            organisation: input.organisation.clone(),
            team: input.team.clone(),
            post_id: input.post_id,
            basis: input.basis,
            fte: input.fte,
            kind: input.kind,
        },
    )
    .await?;
    if let Some(old) = before {
        if Some(old) != input.post_id {
            vacate_post(d, old, participant_id, input.effective_on).await?;
        }
    }
    if let Some(new) = input.post_id {
        if Some(new) != before {
            fill_post(
                d,
                new,
                participant_id,
                &input.organisation,
                &input.role,
                input.basis,
                input.effective_on,
            )
            .await?;
        }
    }
    Ok(())
}

/// Records a leaving; the post held, if any, is vacated the same day.
pub async fn record_leaving(
    d: &mut Decision,
    participant_id: Uuid,
    effective_on: NaiveDate,
    reason: String,
    destination: Option<String>,
) -> Result<(), CommandError> {
    let mut participant = load_participant(d, participant_id).await?;
    let before = post_held(&participant, effective_on);
    d.decide(
        &participant_id.to_string(),
        &mut participant,
        ParticipantCommand::RecordLeaving {
            effective_on,
            reason,
            destination,
        },
    )
    .await?;
    if let Some(old) = before {
        vacate_post(d, old, participant_id, effective_on).await?;
    }
    Ok(())
}

/// Records a rejoining, filling a post when one is named.
pub async fn record_rejoining(d: &mut Decision, participant_id: Uuid, input: &Rejoin) -> Result<(), CommandError> {
    let mut participant = load_participant(d, participant_id).await?;
    d.decide(
        &participant_id.to_string(),
        &mut participant,
        ParticipantCommand::RecordRejoining {
            effective_on: input.effective_on,
            organisation: input.organisation.clone(),
            team: input.team.clone(),
            role: input.role.clone(),
            post_id: input.post_id,
            basis: input.basis,
            fte: input.fte,
            kind: input.kind,
        },
    )
    .await?;
    if let Some(post_id) = input.post_id {
        fill_post(
            d,
            post_id,
            participant_id,
            &input.organisation,
            &input.role,
            input.basis,
            input.effective_on,
        )
        .await?;
    }
    Ok(())
}

/// Runs a participant command that touches no other aggregate
/// (exclusions and their lifting).
pub async fn simple(d: &mut Decision, participant_id: Uuid, command: ParticipantCommand) -> Result<(), CommandError> {
    let mut participant = load_participant(d, participant_id).await?;
    d.decide(&participant_id.to_string(), &mut participant, command).await?;
    Ok(())
}

/// Retracts a participant event; a post fill or vacancy it caused is
/// retracted with it, so participant and post keep agreeing.
pub async fn retract(
    d: &mut Decision,
    participant_id: Uuid,
    sequence: u64,
    reason: String,
) -> Result<(), CommandError> {
    let mut participant = load_participant(d, participant_id).await?;
    let target = participant
        .events
        .iter()
        .find(|(s, _)| *s == sequence)
        .map(|(_, e)| e.clone());
    let before_post = |day: NaiveDate| post_held(&participant, day.pred_opt().unwrap_or(day));
    // (post, date, true = its fill / false = its vacancy) caused by the event.
    let mut linked: Vec<(Uuid, NaiveDate, bool)> = Vec::new();
    match &target {
        Some(ParticipantEvent::Registered {
            post_id: Some(p),
            joined_on,
            ..
        }) => linked.push((*p, *joined_on, true)),
        Some(ParticipantEvent::RoleChanged {
            post_id, effective_on, ..
        }) => {
            let before = before_post(*effective_on);
            if before != *post_id {
                linked.extend(post_id.map(|p| (p, *effective_on, true)));
                linked.extend(before.map(|p| (p, *effective_on, false)));
            }
        }
        Some(ParticipantEvent::RejoiningRecorded {
            post_id: Some(p),
            effective_on,
            ..
        }) => linked.push((*p, *effective_on, true)),
        Some(ParticipantEvent::LeavingRecorded { effective_on, .. }) => {
            linked.extend(before_post(*effective_on).map(|p| (p, *effective_on, false)))
        }
        _ => {}
    }
    d.decide(
        &participant_id.to_string(),
        &mut participant,
        ParticipantCommand::Retract {
            sequence,
            reason: reason.clone(),
        },
    )
    .await?;
    for (post_id, effective_on, filled) in linked {
        retract_post_change(d, post_id, participant_id, effective_on, filled, &reason).await?;
    }
    Ok(())
}

/// Retracts the latest live fill (`filled`) or vacancy of `participant_id`
/// on `post_id` effective on `effective_on`, if there is one.
async fn retract_post_change(
    d: &mut Decision,
    post_id: Uuid,
    participant_id: Uuid,
    effective_on: NaiveDate,
    filled: bool,
    reason: &str,
) -> Result<(), CommandError> {
    let mut post: LoadedStream<Post> = d.load("post", &post_id.to_string()).await?;
    let found = post.events.iter().rev().find(|(s, e)| {
        !post.aggregate.is_retracted(*s)
            && match e {
                PostEvent::Filled {
                    participant_id: p,
                    effective_on: on,
                    ..
                } => filled && *p == participant_id && *on == effective_on,
                PostEvent::Vacated {
                    participant_id: p,
                    effective_on: on,
                } => !filled && *p == participant_id && *on == effective_on,
                _ => false,
            }
    });
    if let Some((post_sequence, _)) = found {
        let sequence = *post_sequence;
        d.decide(
            &post_id.to_string(),
            &mut post,
            PostCommand::Retract {
                sequence,
                reason: reason.to_string(),
            },
        )
        .await?;
    }
    Ok(())
}
