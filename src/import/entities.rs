//! The facts about no person: cohorts opened and posts established, decided
//! before anyone's facts (so enrolments and fills find them), and posts
//! disestablished and retractions of these, decided after everyone's (so a
//! post's last occupant has left it first).
//!
//! Each such row stands or falls alone: a cohort whose opening is refused
//! is simply not there, and the people enrolled in it are refused with
//! `unknown_cohort` (a person's rows stand or fall together). Each phase
//! decides under the append lock and appends in that transaction, as a
//! chunk of people does.

use std::collections::BTreeSet;

use aggregates::cohort::CohortCommand;
use aggregates::decisions::DecisionError;
use aggregates::ladder::Levels;
use aggregates::post::{self, PostCommand};
use aggregates::CommandContext;
use chrono::Utc;
use uuid::Uuid;

use super::chunks::ChunkOutcome;
use super::facts::{Fact, FactKind, RowError};
use super::people::{commit, fact_key, refusal, retracted_key, Labels};
use super::person_facts::role;
use super::streams::{
    decided_before_people, held, row_error, stored_sequence, unknown_cohort, unknown_post, ChunkPosts, Entities,
};
use super::{ImportError, ImportOptions, ImportSummary};
use crate::event_store::{new_events, EventStore, StoreError, StreamWrite};
use crate::ladders::Ladders;

/// What the phases about no person run with.
pub(super) struct Run<'a> {
    pub(super) store: &'a EventStore,
    pub(super) ladders: &'a Ladders,
    pub(super) options: &'a ImportOptions,
    pub(super) labels: &'a (dyn Fn(u64) -> Labels + Sync),
}

/// Resolves the names the file uses (in `facts`, about no person, and in
/// `people`'s), then opens the file's cohorts and establishes its posts.
pub(super) async fn open(
    run: &Run<'_>,
    facts: &[Fact],
    people: &std::collections::BTreeMap<super::facts::Text, super::read::PersonRows>,
    summary: &mut ImportSummary,
    errors: &mut Vec<RowError>,
) -> Result<Entities, ImportError> {
    let people_facts = people.values().flat_map(|rows| match rows {
        super::read::PersonRows::Facts(facts) => facts.as_slice(),
        super::read::PersonRows::Observed(_) => &[],
    });
    let names = facts.iter().chain(people_facts);
    let mut entities = Entities::resolve(run.store.pool(), names).await?;
    let opening: Vec<&Fact> = facts.iter().filter(|f| decided_before_people(f.kind)).collect();
    if !opening.is_empty() {
        let outcome = phase(run, &opening, &mut entities).await?;
        add(summary, errors, outcome);
    }
    Ok(entities)
}

/// Disestablishes the file's posts and decides its retractions of facts
/// about no person.
pub(super) async fn close(
    run: &Run<'_>,
    facts: &[Fact],
    entities: &mut Entities,
    summary: &mut ImportSummary,
    errors: &mut Vec<RowError>,
) -> Result<(), ImportError> {
    let closing: Vec<&Fact> = facts.iter().filter(|f| !decided_before_people(f.kind)).collect();
    if !closing.is_empty() {
        let outcome = phase(run, &closing, entities).await?;
        add(summary, errors, outcome);
    }
    Ok(())
}

fn add(summary: &mut ImportSummary, errors: &mut Vec<RowError>, outcome: ChunkOutcome) {
    summary.facts_recorded += outcome.facts_recorded;
    summary.facts_already_recorded += outcome.already_recorded;
    summary.events_appended += outcome.events_appended;
    summary.last_global_position = outcome.last_global_position.or(summary.last_global_position);
    errors.extend(outcome.refused);
}

/// Decides `facts` (each alone) under the append lock and appends them.
async fn phase(run: &Run<'_>, facts: &[&Fact], entities: &mut Entities) -> Result<ChunkOutcome, ImportError> {
    let (store, options) = (run.store, run.options);
    let in_force = run.ladders.levels_in_force().await?;
    let labels = (run.labels)(in_force.replacements);
    let context = CommandContext {
        today: Utc::now().date_naive(),
        future_margin_days: options.future_margin_days,
    };
    let locked = store.holding_append_lock().await?;
    let mut streams = ChunkPosts::starting_from(entities);
    if !options.dry_run {
        // Holding the lock, read what the store has.
        streams = ChunkPosts::default();
    }
    let mut outcome = ChunkOutcome::default();
    let mut commits = Vec::new();
    let mut seen = BTreeSet::new();
    for fact in facts {
        if !seen.insert(fact_key(fact)) {
            outcome.already_recorded += 1;
            continue;
        }
        let decided = decide(&locked, fact, entities, &mut streams, &in_force.levels, &context).await?;
        match decided {
            Ok(None) => outcome.already_recorded += 1,
            Ok(Some(write)) => {
                outcome.facts_recorded += 1;
                commits.push(commit(vec![write], Vec::new(), fact, &labels));
            }
            Err(error) => outcome.refused.push(error),
        }
    }
    if options.dry_run {
        streams.keep_for_next_chunk(entities);
        return Ok(outcome);
    }
    if !commits.is_empty() {
        let receipt = locked.append_all(&commits).await?;
        outcome.events_appended = receipt.events_appended;
        outcome.last_global_position = receipt.last_global_position;
    }
    Ok(outcome)
}

/// One fact about no person: the write it makes, none when it is recorded
/// already, or why it is refused.
async fn decide(
    store: &EventStore,
    fact: &Fact,
    entities: &mut Entities,
    streams: &mut ChunkPosts,
    levels: &Levels,
    context: &CommandContext,
) -> Result<Result<Option<StreamWrite>, RowError>, StoreError> {
    let key = fact_key(fact);
    let organisation = fact.organisation.as_deref().unwrap_or_default();
    let reference = fact.post.as_deref().unwrap_or_default();
    let on_cohort = fact.subject() == FactKind::CohortOpened;
    // The stream the fact is about, when it exists.
    let id = if on_cohort {
        match entities.cohort(store.pool(), fact).await? {
            Ok(id) => id,
            Err(e) => return Ok(Err(e)),
        }
    } else {
        entities.post(store.pool(), fact, organisation).await?
    };
    if let Some(id) = id {
        let recorded = if on_cohort {
            let cohort = held(&streams.cohorts, id, store).await?;
            let recorded = cohort.records(&key);
            streams.cohorts.insert(id, cohort);
            recorded
        } else {
            let post = held(&streams.posts, id, store).await?;
            let recorded = post.records(&key);
            streams.posts.insert(id, post);
            recorded
        };
        if recorded {
            return Ok(Ok(None));
        }
    }
    let command = match (fact.kind, id) {
        (FactKind::CohortOpened, Some(_)) => {
            return Ok(Err(row_error(
                fact,
                "cohort",
                "already_opened",
                "this programme already has a cohort of this name (opened through the API, or by a row \
                 with other dates): a cohort is opened once; retract nothing, correct it through the API",
            )))
        }
        (FactKind::PostEstablished, Some(owner)) => {
            let e = post::check_reference_free(organisation, reference, Some(owner)).err();
            return Ok(Err(refusal(
                fact,
                &DecisionError::from(e.unwrap_or(post::PostError::AlreadyEstablished)),
            )));
        }
        (FactKind::CohortOpened, None) => {
            let id = Uuid::new_v4();
            Command::Cohort(
                id,
                CohortCommand::Open {
                    cohort_id: id,
                    programme: fact.programme.as_deref().unwrap_or_default().to_string(),
                    name: fact.cohort.as_deref().unwrap_or_default().to_string(),
                    starts_on: fact.effective_on,
                    ends_on: fact.ends_on,
                },
            )
        }
        (FactKind::PostEstablished, None) => {
            let role = match role(fact, organisation, levels) {
                Ok(role) => role,
                Err(e) => return Ok(Err(e)),
            };
            let id = Uuid::new_v4();
            Command::Post(
                id,
                PostCommand::Establish {
                    post_id: id,
                    organisation: organisation.to_string(),
                    title: fact.title.as_deref().unwrap_or_default().to_string(),
                    role,
                    established_on: fact.effective_on,
                    reference: Some(reference.to_string()),
                },
            )
        }
        (_, None) if on_cohort => return Ok(Err(unknown_cohort(fact))),
        (_, None) => return Ok(Err(unknown_post(fact, organisation))),
        (FactKind::PostDisestablished, Some(id)) => Command::Post(
            id,
            PostCommand::Disestablish {
                effective_on: fact.effective_on,
            },
        ),
        (_, Some(id)) => {
            // A retraction: the event carrying the retracted fact's key.
            let target = retracted_key(fact);
            let (aggregate_type, in_run) = if on_cohort {
                (
                    "cohort",
                    streams.cohorts.get(&id).and_then(|c| c.new_keys.get(&target).copied()),
                )
            } else {
                (
                    "post",
                    streams.posts.get(&id).and_then(|p| p.new_keys.get(&target).copied()),
                )
            };
            let sequence = match in_run {
                Some(sequence) => Some(sequence),
                None => stored_sequence(store.pool(), aggregate_type, id, &target).await?,
            };
            let Some(sequence) = sequence else {
                return Ok(Err(not_recorded(fact)));
            };
            let reason = fact.retraction_reason.as_deref().unwrap_or_default().to_string();
            if on_cohort {
                Command::Cohort(id, CohortCommand::Retract { sequence, reason })
            } else {
                Command::Post(id, PostCommand::Retract { sequence, reason })
            }
        }
    };
    Ok(match command {
        Command::Cohort(id, command) => {
            let mut cohort = held(&streams.cohorts, id, store).await?;
            match cohort.aggregate.decide(command, context) {
                Err(e) => Err(refusal(fact, &DecisionError::from(e))),
                Ok(event) => {
                    let write = write("cohort", id, cohort.version, std::slice::from_ref(&event))?;
                    cohort.record(&key, &[event]);
                    streams.cohorts.insert(id, cohort);
                    if fact.kind == FactKind::CohortOpened {
                        entities.opened(fact, id);
                    }
                    Ok(Some(write))
                }
            }
        }
        Command::Post(id, command) => {
            let mut post = held(&streams.posts, id, store).await?;
            match post.aggregate.decide(command, context) {
                Err(e) => Err(refusal(fact, &DecisionError::from(e))),
                Ok(event) => {
                    let write = write("post", id, post.version, std::slice::from_ref(&event))?;
                    post.record(&key, &[event]);
                    streams.posts.insert(id, post);
                    if fact.kind == FactKind::PostEstablished {
                        entities.established(organisation, reference, id);
                    }
                    Ok(Some(write))
                }
            }
        }
    })
}

enum Command {
    Cohort(Uuid, CohortCommand),
    Post(Uuid, PostCommand),
}

/// The write of `events` to stream `aggregate_type`/`id` at `version`.
pub(super) fn write<E: cqrs_es::DomainEvent>(
    aggregate_type: &'static str,
    id: Uuid,
    version: u64,
    events: &[E],
) -> Result<StreamWrite, StoreError> {
    Ok(StreamWrite {
        aggregate_type,
        aggregate_id: id.to_string(),
        expected_version: version,
        events: new_events(events).map_err(|e| StoreError::Repository(e.to_string()))?,
    })
}

/// A retraction whose fact no import recorded.
pub(super) fn not_recorded(fact: &Fact) -> RowError {
    let retracted = fact.retracts.map_or("fact", FactKind::name);
    row_error(
        fact,
        "retracts",
        "fact_not_recorded",
        format!(
            "no {retracted} fact with exactly these values is recorded by an import (a retraction repeats the \
             retracted row's values; a fact recorded through the API is retracted through the API)"
        ),
    )
}
