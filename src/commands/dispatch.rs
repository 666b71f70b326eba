//! One [`Command`] into a [`Decision`]: load what it reads, decide, record
//! the events per stream.
//!
//! The rules live in the `aggregates` crate; this module only knows which
//! streams each command reads, which of them the client's `If-Match` is
//! about, and which must already exist.

use std::collections::btree_map::Entry;
use std::collections::BTreeMap;

use aggregates::cohort::{Cohort, CohortCommand};
use aggregates::decisions::{self, DecisionError, Enrolment, Posts};
use aggregates::participant::{Participant, ParticipantCommand};
use aggregates::post::{Post, PostCommand};
use aggregates::CommandContext;
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use uuid::Uuid;

use super::{Command, CommandError, Decision};
use crate::event_store::LoadedStream;

impl Command {
    /// Decides this command into `d`.
    pub async fn decide(&self, d: &mut Decision) -> Result<(), CommandError> {
        match self.clone() {
            Command::Participant(id, command) => participant(d, id, command).await,
            Command::Post(
                post_id,
                PostCommand::Fill {
                    participant_id,
                    basis,
                    fte,
                    effective_on,
                },
            ) => {
                let post = d.load_addressed::<Post>(post_id).await?;
                let occupant = d.judged(d.load_existing::<Participant>(participant_id).await?);
                let command = decisions::fill_as_role_change(
                    post_id,
                    &post.aggregate,
                    &occupant.aggregate,
                    basis,
                    fte,
                    effective_on,
                );
                with_posts(d, participant_id, occupant, command, BTreeMap::from([(post_id, post)])).await
            }
            Command::Post(
                post_id,
                PostCommand::Vacate {
                    participant_id,
                    effective_on,
                },
            ) => {
                let post = d.load_addressed::<Post>(post_id).await?;
                let occupant = d.judged(d.load_existing::<Participant>(participant_id).await?);
                let command =
                    decisions::vacate_as_role_change(post_id, &occupant.aggregate, participant_id, effective_on)?;
                with_posts(d, participant_id, occupant, command, BTreeMap::from([(post_id, post)])).await
            }
            Command::Post(post_id, PostCommand::Retract { sequence, reason }) => {
                // Retracting a fill or vacancy is retracting the participant
                // event that caused it, with all it caused, so participant and
                // post keep agreeing.
                let post = d.load_addressed::<Post>(post_id).await?;
                let linked = match decisions::post_change_participant(&post.aggregate, sequence) {
                    Some(participant_id) => {
                        let occupant = d.judged(d.load_new::<Participant>(participant_id).await?);
                        decisions::linked_participant_event(post_id, &post.aggregate, sequence, &occupant.aggregate)
                            .map(|caused_by| (participant_id, occupant, caused_by))
                    }
                    None => None,
                };
                match linked {
                    Some((participant_id, occupant, caused_by)) => {
                        let command = ParticipantCommand::Retract {
                            sequence: caused_by,
                            reason,
                        };
                        with_posts(d, participant_id, occupant, command, BTreeMap::from([(post_id, post)])).await
                    }
                    None => alone(d, post_id, post, PostCommand::Retract { sequence, reason }).await,
                }
            }
            Command::Post(id, command @ PostCommand::Establish { .. }) => {
                if let PostCommand::Establish {
                    organisation,
                    reference: Some(reference),
                    ..
                } = &command
                {
                    // A reference names one post of an organisation (the
                    // unique index settles a race).
                    let owner = d.store().post_by_reference(organisation, reference).await?;
                    aggregates::post::check_reference_free(organisation, reference, owner)
                        .map_err(aggregates::decisions::DecisionError::from)?;
                }
                let post = d.load_to_create::<Post>(id).await?;
                alone(d, id, post, command).await
            }
            Command::Post(id, command) => {
                let post = d.load_addressed::<Post>(id).await?;
                alone(d, id, post, command).await
            }
            Command::Cohort(id, command @ CohortCommand::Enrol { participant_id, .. }) => {
                let cohort = d.load_addressed::<Cohort>(id).await?;
                let participant = d.judged(d.load_new::<Participant>(participant_id).await?);
                let outcome = decisions::enrol(&cohort.aggregate, &participant.aggregate, command, d.context())?;
                d.guard::<Participant>(participant_id, participant.version);
                d.write::<Cohort>(id, cohort.version, &outcome.cohort)
            }
            Command::Cohort(id, command @ CohortCommand::Open { .. }) => {
                let cohort = d.load_to_create::<Cohort>(id).await?;
                alone(d, id, cohort, command).await
            }
            Command::Cohort(id, command) => {
                let cohort = d.load_addressed::<Cohort>(id).await?;
                alone(d, id, cohort, command).await
            }
        }
    }
}

/// A participant command with the posts it takes the participant into or
/// out of. A registration is checked against the external references
/// already recorded, before anything else.
async fn participant(d: &mut Decision, id: Uuid, command: ParticipantCommand) -> Result<(), CommandError> {
    let participant = match &command {
        ParticipantCommand::Register { external_ref, .. } => {
            let owner = d.store().participant_by_external_ref(external_ref).await?;
            decisions::check_external_ref_free(external_ref, owner)?;
            d.load_new::<Participant>(id).await?
        }
        _ => d.load_addressed::<Participant>(id).await?,
    };
    let participant = d.judged(participant);
    with_posts(d, id, participant, command, BTreeMap::new()).await
}

/// Decides `command` for `participant`, loading the posts it reads that
/// are not in `posts` yet, and records the events for every stream.
async fn with_posts(
    d: &mut Decision,
    participant_id: Uuid,
    participant: LoadedStream<Participant>,
    command: ParticipantCommand,
    mut posts: BTreeMap<Uuid, LoadedStream<Post>>,
) -> Result<(), CommandError> {
    for post_id in decisions::posts_read(&participant.aggregate, &command) {
        if let Entry::Vacant(unread) = posts.entry(post_id) {
            unread.insert(d.load_new::<Post>(post_id).await?);
        }
    }
    let enrolments = if decisions::reads_enrolments(&command) {
        enrolments(d, participant_id).await?
    } else {
        Vec::new()
    };
    let versions: BTreeMap<Uuid, u64> = posts.iter().map(|(id, post)| (*id, post.version)).collect();
    let posts: Posts = posts.into_iter().map(|(id, post)| (id, post.aggregate)).collect();
    let outcome = decisions::decide_for_participant(&participant.aggregate, command, &posts, &enrolments, d.context())?;
    d.write::<Participant>(participant_id, participant.version, &outcome.participant)?;
    for (post_id, events) in &outcome.posts {
        let version = versions.get(post_id).copied().unwrap_or_default();
        d.write::<Post>(*post_id, version, events)?;
    }
    Ok(())
}

/// The live enrolments of `participant_id`, with each enrolling cohort
/// guarded at the version read, and the set of them guarded too: an
/// enrolment's retraction or withdrawal, or a new enrolment in another
/// cohort, landing meanwhile makes the commit decide again.
async fn enrolments(d: &mut Decision, participant_id: Uuid) -> Result<Vec<Enrolment>, CommandError> {
    let mut enrolments = Vec::new();
    let cohorts = d.store().cohorts_enrolling(participant_id).await?;
    for &cohort_id in &cohorts {
        let cohort = d.load_new::<Cohort>(cohort_id).await?;
        enrolments.extend(decisions::enrolments_of(&cohort.aggregate, participant_id));
        d.guard::<Cohort>(cohort_id, cohort.version);
    }
    d.guard_enrolling_cohorts(participant_id, &cohorts);
    Ok(enrolments)
}

/// A command only its own aggregate's rules judge.
async fn alone<A>(d: &mut Decision, id: Uuid, loaded: LoadedStream<A>, command: A::Command) -> Result<(), CommandError>
where
    A: Aggregate<Services = CommandContext>,
    DecisionError: From<A::Error>,
{
    let mut aggregate = loaded.aggregate;
    let sink = EventSink::default();
    aggregate
        .handle(command, d.context(), &sink)
        .await
        .map_err(DecisionError::from)?;
    d.write::<A>(id, loaded.version, &sink.collect().await)
}
