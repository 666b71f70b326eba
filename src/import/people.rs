//! Deciding one person's facts, in date order, with the aggregates' own
//! rules, in memory: the same decisions the HTTP API makes
//! (`aggregates::decisions::decide_for_participant` for their career and
//! the posts they take up or leave, `aggregates::decisions::enrol` for
//! their cohorts), without a round trip per fact.
//!
//! A person's facts stand or fall together: the first one refused stops
//! the person, and none of their facts from this file is recorded, so that
//! a career is never half-imported. Posts and cohorts the person's facts
//! change are shared by the people of one chunk, so a person's changes to
//! them become visible to the next person only once the whole person has
//! been decided.
//!
//! A retraction is decided where it makes sense for a correction: one of a
//! fact recorded before this file comes first (so the corrected fact that
//! follows in the file finds the history without it), one of a fact of
//! this file right after that fact.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use aggregates::cohort::{Cohort, CohortCommand};
use aggregates::decisions::{self, Enrolment, Outcome, Posts};
use aggregates::ladder::{Basis, Levels};
use aggregates::participant::{Participant, ParticipantCommand};
use aggregates::post::Post;
use aggregates::CommandContext;
use cqrs_es::Aggregate;
use uuid::Uuid;

use super::entities::{not_recorded, write};
use super::facts::{Fact, FactKind, RowError};
pub(super) use super::labels::{commit, fact_key, retracted_key, Guard, Labels};
pub(super) use super::person_facts::refusal;
use super::person_facts::{command, error, in_deciding_order, is_cohort_fact, organisation};
pub(super) use super::streams::ChunkPosts;
use super::streams::{held, stored_sequence, unknown_post, Entities, Held};
use crate::event_store::{Commit, EventStore, LoadedStream, StoreError, StreamWrite};

/// A person as the import finds them: their stream (empty when new) and
/// the facts already recorded for them by earlier imports.
pub(super) struct Person {
    pub(super) id: Uuid,
    pub(super) stream: LoadedStream<Participant>,
    pub(super) facts_recorded: BTreeSet<String>,
    pub(super) enrolments: Vec<Enrolment>,
    /// The cohorts enrolling them, at the versions read.
    pub(super) enrolling: BTreeMap<Uuid, u64>,
}

/// What deciding one person's facts gave.
pub(super) enum Decided {
    /// One commit per fact that records something new.
    Recorded {
        commits: Vec<Commit>,
        already_recorded: usize,
    },
    /// The fact refused, and the facts of theirs not recorded because of it.
    Refused { error: RowError, not_recorded: usize },
}

/// The cohort and post streams one person's facts have read and changed,
/// merged into the chunk's when every fact of theirs stands.
#[derive(Default)]
struct Own {
    posts: BTreeMap<Uuid, Held<Post>>,
    cohorts: BTreeMap<Uuid, Held<Cohort>>,
}

/// Where deciding one person stands.
struct Deciding<'a> {
    id: Uuid,
    participant: Participant,
    version: u64,
    /// Fact keys on the person's stream: stored, and decided now (with the
    /// sequence of the event each recorded).
    stored_keys: BTreeSet<String>,
    new_keys: BTreeMap<String, u64>,
    enrolments: Vec<Enrolment>,
    /// The cohorts enrolling them as read, and those this file enrols them in.
    enrolling: BTreeMap<Uuid, u64>,
    enrolled_now: BTreeSet<Uuid>,
    /// Set by a decision that read the enrolments: the cohorts enrolling
    /// the person, which its commit guards.
    enrolments_read: Option<Vec<String>>,
    /// Posts this person's facts filled while another occupant's later
    /// spell made them look doubly held, with the refusal to give if the
    /// person's later facts do not end the spell in time (`unsettled.rs`).
    unsettled: BTreeMap<Uuid, RowError>,
    own: Own,
    chunk: &'a ChunkPosts,
    entities: &'a mut Entities,
    store: &'a EventStore,
    levels: &'a Levels,
    context: &'a CommandContext,
}

/// A row refused, or the store failed.
enum Stop {
    Refused(RowError),
    Store(StoreError),
}

impl From<StoreError> for Stop {
    fn from(e: StoreError) -> Self {
        Stop::Store(e)
    }
}

impl From<RowError> for Stop {
    fn from(e: RowError) -> Self {
        Stop::Refused(e)
    }
}

/// Decides `facts` (one person's, in date order) for `person`.
#[allow(clippy::too_many_arguments)]
pub(super) async fn decide(
    person: Person,
    facts: &[Fact],
    levels: &Levels,
    context: &CommandContext,
    chunk_posts: &mut ChunkPosts,
    entities: &mut Entities,
    store: &EventStore,
    labels: &Labels,
) -> Result<Decided, StoreError> {
    let mut d = Deciding {
        id: person.id,
        participant: person.stream.aggregate.judged_with(levels.clone()),
        version: person.stream.version,
        stored_keys: person.facts_recorded,
        new_keys: BTreeMap::new(),
        enrolments: person.enrolments,
        enrolling: person.enrolling,
        enrolled_now: BTreeSet::new(),
        enrolments_read: None,
        unsettled: BTreeMap::new(),
        own: Own::default(),
        chunk: &*chunk_posts,
        entities,
        store,
        levels,
        context,
    };
    let mut commits = Vec::new();
    let mut already_recorded = 0;
    // On an earlier line of this file (an extract may repeat a row).
    let mut seen = HashSet::new();
    for fact in in_deciding_order(facts) {
        let key = fact_key(fact);
        let decided = match d.recorded(fact, &key).await {
            Ok(recorded) if recorded || !seen.insert(key.clone()) => Ok(None),
            Ok(_) => d.decide(fact, &key).await,
            Err(stop) => Err(stop),
        };
        match decided {
            Ok(None) => already_recorded += 1,
            Ok(Some((writes, guards))) => {
                let mut commit = commit(writes, guards, fact, labels);
                commit.enrolling_cohorts = d.enrolments_read.take().map(|cohorts| (d.id.to_string(), cohorts));
                commits.push(commit);
            }
            Err(Stop::Store(e)) => return Err(e),
            Err(Stop::Refused(error)) => {
                return Ok(Decided::Refused {
                    error: super::census_derive::in_return_terms(fact, error),
                    not_recorded: facts.len() - already_recorded - 1,
                })
            }
        }
    }
    if let Some(error) = super::unsettled::still_unsettled(&d.unsettled, &d.own.posts) {
        return Ok(Decided::Refused {
            error,
            not_recorded: facts.len() - already_recorded - 1,
        });
    }
    let Own { posts, cohorts } = d.own;
    chunk_posts.posts.extend(posts);
    chunk_posts.cohorts.extend(cohorts);
    Ok(Decided::Recorded {
        commits,
        already_recorded,
    })
}

impl Deciding<'_> {
    /// Whether `fact` (with `key`) is recorded already: on the person's
    /// stream, or for a cohort fact on the cohort's.
    async fn recorded(&mut self, fact: &Fact, key: &str) -> Result<bool, Stop> {
        if is_cohort_fact(fact.subject()) {
            let id = self.entities.existing_cohort(self.store.pool(), fact).await??;
            return Ok(self.cohort(id).await?.records(key));
        }
        Ok(self.stored_keys.contains(key) || self.new_keys.contains_key(key))
    }

    async fn cohort(&mut self, id: Uuid) -> Result<&mut Held<Cohort>, StoreError> {
        if !self.own.cohorts.contains_key(&id) {
            let cohort = held(&self.chunk.cohorts, id, self.store).await?;
            self.own.cohorts.insert(id, cohort);
        }
        Ok(self.own.cohorts.get_mut(&id).expect("inserted above"))
    }

    async fn post(&mut self, id: Uuid) -> Result<&mut Held<Post>, StoreError> {
        if !self.own.posts.contains_key(&id) {
            let post = held(&self.chunk.posts, id, self.store).await?;
            self.own.posts.insert(id, post);
        }
        Ok(self.own.posts.get_mut(&id).expect("inserted above"))
    }

    /// The post a row names in `organisation`.
    async fn post_named(&mut self, fact: &Fact, organisation: &str) -> Result<Uuid, Stop> {
        match self.entities.post(self.store.pool(), fact, organisation).await? {
            Some(id) => Ok(id),
            None => Err(unknown_post(fact, organisation).into()),
        }
    }

    /// The sequence of the event recorded under the key of the fact a
    /// retraction names, on stream `aggregate_type`/`id`: decided by this
    /// import (`in_run`), else stored.
    async fn retracted_sequence(
        &self,
        fact: &Fact,
        aggregate_type: &str,
        id: Uuid,
        in_run: Option<u64>,
    ) -> Result<u64, Stop> {
        let sequence = match in_run {
            Some(sequence) => Some(sequence),
            None => stored_sequence(self.store.pool(), aggregate_type, id, &retracted_key(fact)).await?,
        };
        sequence.ok_or_else(|| Stop::Refused(not_recorded(fact)))
    }

    /// The writes (and streams guarded) that record `fact`.
    async fn decide(&mut self, fact: &Fact, key: &str) -> Result<Option<(Vec<StreamWrite>, Vec<Guard>)>, Stop> {
        if is_cohort_fact(fact.subject()) {
            return self.decide_on_cohort(fact, key).await.map(Some);
        }
        let command = self.participant_command(fact).await?;
        let mut posts: Posts = Posts::new();
        for post_id in decisions::posts_read(&self.participant, &command) {
            let (unsettled, person) = (self.unsettled.contains_key(&post_id), self.id);
            let post = &self.post(post_id).await?.aggregate;
            let view = match unsettled {
                true => super::unsettled::without_later_spells(post, person, fact.effective_on),
                false => post.clone(),
            };
            posts.insert(post_id, view);
        }
        let reads_enrolments = decisions::reads_enrolments(&command);
        let enrolments: &[Enrolment] = if reads_enrolments { &self.enrolments } else { &[] };
        let outcome = match decisions::decide_for_participant(
            &self.participant,
            command.clone(),
            &posts,
            enrolments,
            self.context,
        ) {
            Ok(outcome) => outcome,
            Err(e) if super::unsettled::may_settle(&e) => {
                // Another occupant's later spell: this person's own later
                // facts may end theirs before it. Decided without the
                // later spells, and the posts checked whole at the end.
                let views: Posts = posts
                    .iter()
                    .map(|(id, post)| {
                        (
                            *id,
                            super::unsettled::without_later_spells(post, self.id, fact.effective_on),
                        )
                    })
                    .collect();
                match decisions::decide_for_participant(&self.participant, command, &views, enrolments, self.context) {
                    Ok(outcome) => {
                        for (post_id, _) in &outcome.posts {
                            self.unsettled.entry(*post_id).or_insert_with(|| refusal(fact, &e));
                        }
                        outcome
                    }
                    Err(_) => {
                        return Err(self
                            .unsettled_refusal(&posts)
                            .unwrap_or_else(|| refusal(fact, &e))
                            .into())
                    }
                }
            }
            // A post this person's earlier fact left doubly held may be why:
            // that fact's refusal is the one to give.
            Err(e) => {
                return Err(self
                    .unsettled_refusal(&posts)
                    .unwrap_or_else(|| refusal(fact, &e))
                    .into())
            }
        };
        // What the decision read and does not write must not move before
        // it is appended (a chunk is decided before it takes the append
        // lock): the posts read, and the person's enrolments.
        let mut guards = Vec::new();
        for post_id in posts
            .keys()
            .filter(|id| !outcome.posts.iter().any(|(written, _)| written == *id))
        {
            guards.push(("post", post_id.to_string(), self.post(*post_id).await?.version));
        }
        if reads_enrolments {
            let (cohorts, read) = self.enrolment_dependencies();
            guards.extend(cohorts);
            self.enrolments_read = Some(read);
        }
        Ok(Some((self.record(key, outcome).await?, guards)))
    }

    /// The refusal of an earlier fact of this person that left one of
    /// `posts` doubly held, if any.
    fn unsettled_refusal(&self, posts: &Posts) -> Option<RowError> {
        posts.keys().find_map(|id| self.unsettled.get(id)).cloned()
    }

    /// The cohorts enrolling the person at the versions this decision
    /// sees (earlier commits of the chunk included), and their ids.
    fn enrolment_dependencies(&self) -> (Vec<Guard>, Vec<String>) {
        let cohorts: BTreeSet<&Uuid> = self.enrolling.keys().chain(&self.enrolled_now).collect();
        let version = |id: &Uuid| {
            let held = self.own.cohorts.get(id).or_else(|| self.chunk.cohorts.get(id));
            held.map(|h| h.version)
                .or_else(|| self.enrolling.get(id).copied())
                .unwrap_or_default()
        };
        let guards = cohorts
            .iter()
            .map(|id| ("cohort", id.to_string(), version(id)))
            .collect();
        (guards, cohorts.iter().map(|id| id.to_string()).collect())
    }

    /// Applies a participant decision's `outcome` (for the fact with `key`).
    async fn record(&mut self, key: &str, outcome: Outcome) -> Result<Vec<StreamWrite>, StoreError> {
        let mut writes = Vec::new();
        if !outcome.participant.is_empty() {
            writes.push(write("participant", self.id, self.version, &outcome.participant)?);
            self.new_keys.entry(key.to_string()).or_insert(self.version + 1);
            self.version += outcome.participant.len() as u64;
            for event in outcome.participant {
                self.participant.apply(event);
            }
        }
        for (post_id, events) in outcome.posts {
            let post = self.post(post_id).await?;
            writes.push(write("post", post_id, post.version, &events)?);
            post.record(key, &events);
        }
        Ok(writes)
    }

    /// The participant command a row of the person's career, their posts,
    /// or a retraction of one of those asks for.
    async fn participant_command(&mut self, fact: &Fact) -> Result<ParticipantCommand, Stop> {
        Ok(match fact.kind {
            FactKind::Retraction => {
                let in_run = self.new_keys.get(&retracted_key(fact)).copied();
                let sequence = self.retracted_sequence(fact, "participant", self.id, in_run).await?;
                ParticipantCommand::Retract {
                    sequence,
                    reason: fact.retraction_reason.as_deref().unwrap_or_default().to_string(),
                }
            }
            FactKind::PostFilled => {
                let organisation = fact.organisation.as_deref().unwrap_or_default();
                let post_id = self.post_named(fact, organisation).await?;
                let post = &self.post(post_id).await?.aggregate.clone();
                decisions::fill_as_role_change(
                    post_id,
                    post,
                    &self.participant,
                    fact.basis.unwrap_or(Basis::Permanent),
                    fact.fte,
                    fact.effective_on,
                )
            }
            FactKind::PostVacated => {
                let organisation = fact.organisation.as_deref().unwrap_or_default();
                let post_id = self.post_named(fact, organisation).await?;
                decisions::vacate_as_role_change(post_id, &self.participant, self.id, fact.effective_on)
                    .map_err(|e| refusal(fact, &e))?
            }
            FactKind::Joined | FactKind::ChangedRole | FactKind::Rejoined => {
                let organisation = organisation(fact, &self.participant)?;
                let post_id = match fact.post {
                    Some(_) => Some(self.post_named(fact, &organisation).await?),
                    None => None,
                };
                command(self.id, fact, organisation, post_id, self.levels)?
            }
            _ => command(self.id, fact, String::new(), None, self.levels)?,
        })
    }

    /// An enrolment, completion or withdrawal, or a retraction of one.
    async fn decide_on_cohort(&mut self, fact: &Fact, key: &str) -> Result<(Vec<StreamWrite>, Vec<Guard>), Stop> {
        let cohort_id = self.entities.existing_cohort(self.store.pool(), fact).await??;
        let participant_id = self.id;
        let command = match fact.kind {
            FactKind::Enrolled => CohortCommand::Enrol {
                participant_id,
                enrolled_on: fact.effective_on,
            },
            FactKind::Completed => CohortCommand::RecordCompletion {
                participant_id,
                completed_on: fact.effective_on,
            },
            FactKind::Withdrawn => CohortCommand::RecordWithdrawal {
                participant_id,
                withdrawn_on: fact.effective_on,
                reason: fact.reason.as_deref().unwrap_or_default().to_string(),
            },
            _ => {
                let in_run = self
                    .cohort(cohort_id)
                    .await?
                    .new_keys
                    .get(&retracted_key(fact))
                    .copied();
                let sequence = self.retracted_sequence(fact, "cohort", cohort_id, in_run).await?;
                CohortCommand::Retract {
                    sequence,
                    reason: fact.retraction_reason.as_deref().unwrap_or_default().to_string(),
                }
            }
        };
        if self.participant.version() == 0 {
            // Not joined by then, in this file or before: the API's rule
            // for someone not employed on the day (no id to name: the
            // person is new).
            return Err(error(
                fact,
                "effective_on",
                "participant_not_employed",
                &format!(
                    "{} has not joined by {} (no joined row dated on or before it, nor an earlier record), \
                     so cannot be in a cohort then",
                    fact.person, fact.effective_on
                ),
            )
            .into());
        }
        let participant = self.participant.clone();
        let context = self.context;
        if fact.kind == FactKind::Enrolled {
            // Refused or not, the person's rows stand or fall together.
            self.enrolled_now.insert(cohort_id);
        }
        let cohort = self.cohort(cohort_id).await?;
        let outcome =
            decisions::enrol(&cohort.aggregate, &participant, command, context).map_err(|e| refusal(fact, &e))?;
        let writes = vec![write("cohort", cohort_id, cohort.version, &outcome.cohort)?];
        cohort.record(key, &outcome.cohort);
        let enrolments = decisions::enrolments_of(&cohort.aggregate, participant_id);
        // This cohort's enrolments of the person as they now stand (a
        // leaving later in the file must keep them employed).
        self.enrolments.retain(|e| e.cohort_id != cohort_id);
        self.enrolments.extend(enrolments);
        Ok((writes, vec![("participant", participant_id.to_string(), self.version)]))
    }
}
