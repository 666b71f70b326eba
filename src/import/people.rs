//! Deciding one person's facts, in date order, with the aggregates' own
//! rules, in memory: the same decisions the HTTP API makes
//! (`aggregates::decisions::decide_for_participant`), without a round
//! trip per fact.
//!
//! A person's facts stand or fall together: the first one refused stops
//! the person, and none of their facts from this file is recorded, so that
//! a career is never half-imported. Posts the person takes up or leaves
//! (through facts recorded earlier with the API) change with them; they are
//! shared by the people of one chunk, so a person's changes to them become
//! visible to the next person only once the whole person has been decided.

use std::collections::{BTreeMap, BTreeSet};

use aggregates::decisions::{self, DecisionError, Enrolment, Posts};
use aggregates::ladder::{Basis, Levels, RoleRef};
use aggregates::participant::{Participant, ParticipantCommand};
use aggregates::post::Post;
use aggregates::CommandContext;
use cqrs_es::Aggregate;
use uuid::Uuid;

use super::facts::{Fact, FactKind, RowError};
use crate::event_store::{
    new_events, Commit, EventStore, LoadedStream, Metadata, StoreError, StreamWrite, LADDERS_GUARD,
};

/// A person as the import finds them: their stream (empty when new) and
/// the facts already recorded for them by earlier imports.
pub(super) struct Person {
    pub(super) id: Uuid,
    pub(super) stream: LoadedStream<Participant>,
    pub(super) facts_recorded: BTreeSet<String>,
    pub(super) enrolments: Vec<Enrolment>,
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

/// How every commit of one import is labelled.
pub(super) struct Labels {
    pub(super) recorded_by: String,
    pub(super) file_name: String,
    /// The import's correlation id (`import:<sha256 of the file>`).
    pub(super) correlation_id: String,
    /// The count of ladder replacements of the ladders decided with: every
    /// commit guards it, as a command's does.
    pub(super) ladder_replacements: u64,
}

/// The posts of one chunk as its people's decisions leave them, with the
/// version each will have once the chunk's earlier commits are appended.
#[derive(Default)]
pub(super) struct ChunkPosts {
    pub(super) posts: BTreeMap<Uuid, (u64, Post)>,
}

/// Decides `facts` (one person's, in date order) for `person`.
pub(super) async fn decide(
    person: Person,
    facts: &[Fact],
    levels: &Levels,
    context: &CommandContext,
    chunk_posts: &mut ChunkPosts,
    store: &EventStore,
    labels: &Labels,
) -> Result<Decided, StoreError> {
    let mut participant = person.stream.aggregate.judged_with(levels.clone());
    let mut version = person.stream.version;
    // This person's changes to posts, merged into the chunk's when every
    // fact of theirs stands.
    let mut own_posts: BTreeMap<Uuid, (u64, u64, Post)> = BTreeMap::new();
    let mut commits = Vec::new();
    let mut already_recorded = 0;
    // Recorded before, or on an earlier line of this file (an extract may
    // repeat a row): either way there is nothing more to record.
    let mut recorded = person.facts_recorded;
    for fact in facts {
        let key = fact_key(fact);
        if !recorded.insert(key.clone()) {
            already_recorded += 1;
            continue;
        }
        let refused = |error: RowError| Decided::Refused {
            error: super::census_derive::in_return_terms(fact, error),
            not_recorded: facts.len() - already_recorded - 1,
        };
        let command = match command(person.id, fact, &participant, levels) {
            Ok(command) => command,
            Err(error) => return Ok(refused(error)),
        };
        let mut posts: Posts = Posts::new();
        for post_id in decisions::posts_read(&participant, &command) {
            if let std::collections::btree_map::Entry::Vacant(unread) = own_posts.entry(post_id) {
                let (stored, post) = match chunk_posts.posts.get(&post_id) {
                    Some(kept) => kept.clone(),
                    None => {
                        let loaded = store.load::<Post>(&post_id.to_string()).await?;
                        (loaded.version, loaded.aggregate)
                    }
                };
                unread.insert((stored, 0, post));
            }
            if let Some((_, _, post)) = own_posts.get(&post_id) {
                posts.insert(post_id, post.clone());
            }
        }
        let enrolments: &[Enrolment] = if decisions::reads_enrolments(&command) {
            &person.enrolments
        } else {
            &[]
        };
        let outcome = match decisions::decide_for_participant(&participant, command, &posts, enrolments, context) {
            Ok(outcome) => outcome,
            Err(e) => return Ok(refused(refusal(fact, &e))),
        };
        // Posts the decision read and does not write: an import chunk is
        // decided before it takes the append lock, so these must not move.
        let mut guards = vec![(LADDERS_GUARD, String::new(), labels.ladder_replacements)];
        for post_id in posts
            .keys()
            .filter(|id| !outcome.posts.iter().any(|(written, _)| written == *id))
        {
            if let Some((stored, added, _)) = own_posts.get(post_id) {
                guards.push((Post::TYPE, post_id.to_string(), stored + added));
            }
        }
        let mut writes = Vec::new();
        if !outcome.participant.is_empty() {
            writes.push(StreamWrite {
                aggregate_type: "participant",
                aggregate_id: person.id.to_string(),
                expected_version: version,
                events: new_events(&outcome.participant).map_err(|e| StoreError::Repository(e.to_string()))?,
            });
            version += outcome.participant.len() as u64;
            for event in outcome.participant {
                participant.apply(event);
            }
        }
        for (post_id, events) in outcome.posts {
            let Some((stored, added, post)) = own_posts.get_mut(&post_id) else {
                continue;
            };
            writes.push(StreamWrite {
                aggregate_type: "post",
                aggregate_id: post_id.to_string(),
                expected_version: *stored + *added,
                events: new_events(&events).map_err(|e| StoreError::Repository(e.to_string()))?,
            });
            *added += events.len() as u64;
            for event in events {
                post.apply(event);
            }
        }
        if !writes.is_empty() {
            commits.push(Commit {
                writes,
                guards,
                enrolling_cohorts: None,
                metadata: Metadata {
                    recorded_by: labels.recorded_by.clone(),
                    // Line 0: derived from no row (a worker absent from a census return).
                    source: match fact.line {
                        0 => format!("import:{}", labels.file_name),
                        line => format!("import:{}#{line}", labels.file_name),
                    },
                    correlation_id: labels.correlation_id.clone(),
                    idempotency_key: Some(key),
                    derivation: fact.derivation.map(|d| d.rule.to_string()),
                },
                idempotency: None,
            });
        }
    }
    for (post_id, (stored, added, post)) in own_posts {
        if added > 0 {
            chunk_posts.posts.insert(post_id, (stored + added, post));
        }
    }
    Ok(Decided::Recorded {
        commits,
        already_recorded,
    })
}

/// The key a fact is recorded under: every event it appends carries it, so
/// the same fact in a later file is known as already recorded.
pub(super) fn fact_key(fact: &Fact) -> String {
    format!("fact:{}", super::facts::hex(&fact.fingerprint))
}

/// The participant command `fact` asks for.
fn command(id: Uuid, fact: &Fact, participant: &Participant, levels: &Levels) -> Result<ParticipantCommand, RowError> {
    let basis = fact.basis.unwrap_or(Basis::Permanent);
    let reason = || fact.reason.as_deref().map(str::to_string).unwrap_or_default();
    let text = |value: &Option<super::facts::Text>| value.as_deref().map(str::to_string);
    // What `facts.rs` checked: these rows have their organisation and role.
    let given = |value: &Option<super::facts::Text>| text(value).unwrap_or_default();
    Ok(match fact.kind {
        FactKind::Joined => {
            let organisation = given(&fact.organisation);
            ParticipantCommand::Register {
                participant_id: id,
                external_ref: fact.person.to_string(),
                role: role(fact, &organisation, levels)?,
                organisation,
                team: text(&fact.team),
                post_id: None,
                basis,
                fte: fact.fte.unwrap_or(1.0),
                joined_on: fact.effective_on,
            }
        }
        FactKind::ChangedRole => {
            let organisation = match &fact.organisation {
                Some(organisation) => organisation.to_string(),
                None => decisions::organisation_on(participant, fact.effective_on)
                    .map(str::to_string)
                    .ok_or_else(|| {
                        error(
                            fact,
                            "organisation",
                            "not_employed",
                            "they are not employed on this day, so the organisation must be given",
                        )
                    })?,
            };
            ParticipantCommand::ChangeRole {
                effective_on: fact.effective_on,
                role: role(fact, &organisation, levels)?,
                organisation,
                team: text(&fact.team),
                post_id: None,
                basis,
                fte: fact.fte,
                kind: fact.move_kind,
            }
        }
        FactKind::Rejoined => {
            let organisation = given(&fact.organisation);
            ParticipantCommand::RecordRejoining {
                effective_on: fact.effective_on,
                role: role(fact, &organisation, levels)?,
                organisation,
                team: text(&fact.team),
                post_id: None,
                basis,
                fte: fact.fte.unwrap_or(1.0),
                kind: fact.move_kind,
            }
        }
        FactKind::Left => ParticipantCommand::RecordLeaving {
            effective_on: fact.effective_on,
            reason: reason(),
            destination: text(&fact.destination),
        },
        FactKind::Excluded => ParticipantCommand::ExcludeFromAnalysis {
            effective_on: fact.effective_on,
            reason: reason(),
        },
        FactKind::ExclusionLifted => ParticipantCommand::LiftExclusion {
            effective_on: fact.effective_on,
            reason: reason(),
        },
    })
}

/// The fact's role on `organisation`'s ladder, as the API resolves it.
fn role(fact: &Fact, organisation: &str, levels: &Levels) -> Result<RoleRef, RowError> {
    let code = fact.role.as_deref().map(str::to_string).unwrap_or_default();
    match levels.level_of(organisation, &code) {
        Some(level) => Ok(RoleRef { code, level }),
        None => {
            let known: Vec<&str> = levels
                .ladder_of(organisation)
                .roles()
                .iter()
                .map(|r| r.code.as_str())
                .collect();
            Err(error(
                fact,
                "role",
                "unknown_role",
                &format!(
                    "{code:?} is not a role on {organisation}'s ladder; known roles: {}",
                    known.join(", ")
                ),
            ))
        }
    }
}

/// A refusal by the aggregates' rules, on the fact's line.
fn refusal(fact: &Fact, e: &DecisionError) -> RowError {
    RowError {
        line: fact.line,
        column: e.field().and_then(column_of),
        person: Some(fact.person.to_string()),
        error: e.code().to_string(),
        message: e.to_string(),
    }
}

/// The file's column for a field a rule names (the API's `joined_on` is
/// the file's `effective_on`, its `participant_id` and `external_ref` the
/// `person`); none for a field the file has no column for.
fn column_of(field: &str) -> Option<String> {
    let column = match field {
        "joined_on" => "effective_on",
        "participant_id" | "external_ref" => "person",
        other => other,
    };
    super::facts::COLUMNS.contains(&column).then(|| column.to_string())
}

fn error(fact: &Fact, column: &str, code: &str, message: &str) -> RowError {
    RowError {
        line: fact.line,
        column: Some(column.to_string()),
        person: Some(fact.person.to_string()),
        error: code.to_string(),
        message: message.to_string(),
    }
}
