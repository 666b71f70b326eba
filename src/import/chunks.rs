//! Deciding and appending people in chunks, two chunks at a time.
//!
//! Deciding a chunk is tenure's work (reading the chunk's streams and
//! applying every fact with the aggregates' rules); appending it is
//! PostgreSQL's (`COPY`, indexes, the commit's flush). They overlap: while
//! one chunk is appended under the append lock, the next is read and
//! decided without it. That is safe because every commit carries what its
//! decision read (stream versions, the cohorts enrolling the person, the
//! posts read, the ladders) and the append re-checks all of it under the
//! lock, as the group writer does for commands: a chunk decided on
//! something that moved in the meantime is refused whole, and is then
//! decided again while holding the lock, where nothing can move.
//!
//! Cohorts and posts are shared by many people in many chunks (everyone
//! enrolling in one cohort), so the next chunk starts from them as this
//! one will leave them once appended, not as the store has them yet:
//! otherwise every chunk would find a version the chunk before moved and
//! be decided twice. If the chunk before is refused after all, the one
//! decided on its expectations is decided again (versions only grow, so a
//! version that matches at the append means nothing else was written).

use std::collections::BTreeMap;

use aggregates::cohort::Cohort;
use aggregates::decisions;
use aggregates::participant::Participant;
use aggregates::CommandContext;
use chrono::Utc;
use uuid::Uuid;

use super::census_derive;
use super::facts::{Fact, RowError};
use super::people::{self, ChunkPosts, Decided, Labels, Person};
use super::read::PersonRows;
use super::streams::Entities;
use super::{ImportError, ImportOptions};
use crate::event_store::{AppendError, BulkReceipt, Commit, EventStore, LoadedStream, PreparedRows, StoreError};
use crate::ladders::Ladders;

/// People decided and appended together: enough to amortise the round
/// trips, few enough that API commands waiting for the append lock wait
/// well under a second.
pub(super) const PEOPLE_PER_CHUNK: usize = 500;

/// How many times a chunk is decided under the lock when a ladder
/// replacement lands between reading the ladders and appending.
const LADDER_ATTEMPTS: usize = 3;

/// One person's rows, named by their reference.
pub(super) type PersonFacts<'a> = (&'a str, &'a PersonRows);

/// What one chunk of people gave.
#[derive(Default)]
pub(super) struct ChunkOutcome {
    pub(super) facts_recorded: usize,
    pub(super) already_recorded: usize,
    pub(super) events_appended: usize,
    pub(super) not_recorded: usize,
    pub(super) refused: Vec<RowError>,
    pub(super) last_global_position: Option<i64>,
}

/// A chunk decided, not yet appended.
pub(super) struct DecidedChunk {
    commits: Vec<Commit>,
    outcome: ChunkOutcome,
}

/// A chunk decided without the lock, with its rows written (by the
/// decider, so that appending it is PostgreSQL's work only).
struct Prepared {
    decided: DecidedChunk,
    rows: PreparedRows,
}

/// What an import needs to decide a chunk.
pub(super) struct Deciding<'a> {
    pub(super) store: &'a EventStore,
    pub(super) ladders: &'a Ladders,
    pub(super) options: &'a ImportOptions,
    pub(super) labels: &'a (dyn Fn(u64) -> Labels + Sync),
}

/// Imports `people` chunk by chunk, deciding each next chunk while the one
/// before it is appended; `done` is told of every chunk finished.
pub(super) async fn import_people(
    deciding: &Deciding<'_>,
    people: &[PersonFacts<'_>],
    entities: &mut Entities,
    done: &mut (dyn FnMut(&[PersonFacts<'_>], ChunkOutcome) + Send),
) -> Result<(), ImportError> {
    let mut appending: Option<Appending> = None;
    let chunks = in_chunks(people);
    let mut next = 0;
    while next < chunks.len() || appending.is_some() {
        let decided = match chunks.get(next) {
            Some(chunk) => Some(decide_unlocked(deciding, chunk, entities).await?),
            None => None,
        };
        let mut decided_on_stale = false;
        if let Some(Appending { n, append, outcome }) = appending.take() {
            let appended = append
                .await
                .map_err(|e| ImportError::File(std::io::Error::other(e.to_string())))?;
            match appended {
                Ok(receipt) => done(chunks[n], appended_outcome(outcome, receipt)),
                // Something a decision read moved: decide again holding the lock.
                Err(e) if is_stale(&e) => {
                    done(chunks[n], import_locked(deciding, chunks[n], entities).await?);
                    decided_on_stale = true;
                }
                Err(e) => return Err(e.into()),
            }
        }
        let Some(mut decided) = decided else { break };
        if decided_on_stale {
            // The chunk before was redone meanwhile: this one may have read
            // what it replaced, so it is decided again rather than refused
            // later.
            decided = decide_unlocked(deciding, chunks[next], entities).await?;
        }
        let Prepared { decided, rows } = decided;
        if deciding.options.dry_run || decided.commits.is_empty() {
            done(chunks[next], decided.outcome);
        } else {
            let store = deciding.store.clone();
            let commits = decided.commits;
            let append = tokio::spawn(async move {
                store
                    .holding_append_lock()
                    .await?
                    .append_prepared(&commits, &rows)
                    .await
            });
            appending = Some(Appending {
                n: next,
                append,
                outcome: decided.outcome,
            });
        }
        next += 1;
    }
    Ok(())
}

/// `people` in chunks of at most [`PEOPLE_PER_CHUNK`], the first and the
/// last ones small: nothing is appended while the first is decided, and
/// nothing decided while the last is appended, so those two are the
/// import's idle time.
fn in_chunks<'p, 'a>(people: &'p [PersonFacts<'a>]) -> Vec<&'p [PersonFacts<'a>]> {
    const EDGE: usize = PEOPLE_PER_CHUNK / 5;
    let mut chunks = Vec::new();
    let mut rest = people;
    let mut size = EDGE;
    while !rest.is_empty() {
        // What is left after this chunk must not end in a large chunk.
        let take = if rest.len() <= size + EDGE && rest.len() > EDGE {
            rest.len() - EDGE
        } else {
            size.min(rest.len())
        };
        let (chunk, after) = rest.split_at(take);
        chunks.push(chunk);
        rest = after;
        size = (size * 2).min(PEOPLE_PER_CHUNK);
    }
    chunks
}

/// Chunk `n`, decided, being appended by its own task.
struct Appending {
    n: usize,
    append: tokio::task::JoinHandle<Result<BulkReceipt, AppendError>>,
    outcome: ChunkOutcome,
}

fn appended_outcome(mut outcome: ChunkOutcome, receipt: BulkReceipt) -> ChunkOutcome {
    outcome.events_appended = receipt.events_appended;
    outcome.last_global_position = receipt.last_global_position;
    outcome
}

/// Whether an append was refused because what the chunk was decided on
/// has moved (rather than because the database failed).
fn is_stale(e: &AppendError) -> bool {
    !matches!(e, AppendError::Store(_))
}

/// Decides `chunk` on the store as it is now, without the lock, and
/// writes its rows.
async fn decide_unlocked(
    deciding: &Deciding<'_>,
    chunk: &[PersonFacts<'_>],
    entities: &mut Entities,
) -> Result<Prepared, ImportError> {
    let in_force = deciding.ladders.levels_in_force().await?;
    let labels = (deciding.labels)(in_force.replacements);
    let decided = decide_chunk(
        deciding.store,
        &in_force.levels,
        &labels,
        chunk,
        deciding.options,
        entities,
    )
    .await?;
    let rows = PreparedRows::of(if deciding.options.dry_run {
        &[]
    } else {
        &decided.commits
    })?;
    Ok(Prepared { decided, rows })
}

/// Decides and appends `chunk` holding the append lock throughout, so
/// nothing the decisions read can move before they are appended.
async fn import_locked(
    deciding: &Deciding<'_>,
    chunk: &[PersonFacts<'_>],
    entities: &mut Entities,
) -> Result<ChunkOutcome, ImportError> {
    let mut attempt = 1;
    loop {
        // The ladders are read before the lock, as commands read them; a
        // replacement landing meanwhile is caught by the ladders guard.
        let in_force = deciding.ladders.levels_in_force().await?;
        let labels = (deciding.labels)(in_force.replacements);
        let locked = deciding.store.holding_append_lock().await?;
        // Holding the lock, read what the store has, not what the chunks
        // before were expected to leave.
        ChunkPosts::forget(entities);
        let decided = decide_chunk(&locked, &in_force.levels, &labels, chunk, deciding.options, entities).await?;
        if deciding.options.dry_run || decided.commits.is_empty() {
            // Dropping the store rolls back and lets the lock go.
            return Ok(decided.outcome);
        }
        match locked.append_all(&decided.commits).await {
            Ok(receipt) => return Ok(appended_outcome(decided.outcome, receipt)),
            Err(AppendError::Conflict { aggregate_type, .. })
                if aggregate_type == crate::event_store::LADDERS_GUARD && attempt < LADDER_ATTEMPTS =>
            {
                deciding.ladders.forget();
                attempt += 1;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// Decides every person of `chunk` on what `reader` reads.
async fn decide_chunk(
    reader: &EventStore,
    levels: &aggregates::ladder::Levels,
    labels: &Labels,
    chunk: &[PersonFacts<'_>],
    options: &ImportOptions,
    entities: &mut Entities,
) -> Result<DecidedChunk, ImportError> {
    let context = CommandContext {
        today: Utc::now().date_naive(),
        future_margin_days: options.future_margin_days,
    };
    let refs: Vec<&str> = chunk.iter().map(|(person, _)| *person).collect();
    let ids = reader.participants_by_external_ref(&refs).await?;
    let known: Vec<String> = ids.values().map(Uuid::to_string).collect();
    let mut streams = reader.load_many::<Participant>(&known).await?;
    let mut enrolments = enrolments(reader, &known).await?;

    let mut outcome = ChunkOutcome::default();
    let mut posts = ChunkPosts::starting_from(entities);
    let facts = || {
        chunk.iter().flat_map(|(_, rows)| match rows {
            PersonRows::Facts(facts) => facts.as_slice(),
            PersonRows::Observed(_) => &[],
        })
    };
    entities.resolve_more(reader.pool(), facts()).await?;
    let (cohort_ids, post_ids) = entities.named(facts());
    posts.preload(reader, &cohort_ids, &post_ids).await?;
    let start = posts.versions();
    let mut commits = Vec::new();
    for (person, rows) in chunk {
        let id = ids.get(*person).copied().unwrap_or_else(Uuid::new_v4);
        let (stream, facts_recorded) = streams.remove(&id.to_string()).unwrap_or_else(|| {
            (
                LoadedStream {
                    aggregate: Participant::default(),
                    version: 0,
                    events: Vec::new(),
                },
                Default::default(),
            )
        });
        let derived;
        let facts: &[Fact] = match rows {
            PersonRows::Facts(facts) => facts,
            PersonRows::Observed(observed) => {
                derived = census_derive::facts_for(person, &stream.aggregate, observed, levels);
                &derived
            }
        };
        let enrolling = enrolments.remove(&id.to_string()).unwrap_or_default();
        let person = Person {
            id,
            stream,
            facts_recorded,
            enrolments: enrolling.enrolments,
            enrolling: enrolling.cohorts,
        };
        match people::decide(person, facts, levels, &context, &mut posts, entities, reader, labels).await? {
            Decided::Recorded {
                commits: decided,
                already_recorded,
            } => {
                outcome.facts_recorded += decided.len();
                outcome.already_recorded += already_recorded;
                commits.extend(decided);
            }
            Decided::Refused { error, not_recorded } => {
                // A worker's derived facts are not rows: their other rows are.
                outcome.not_recorded += match rows {
                    PersonRows::Facts(_) => not_recorded,
                    PersonRows::Observed(_) => rows.rows().saturating_sub(1),
                };
                outcome.refused.push(error);
            }
        }
    }
    if !options.dry_run {
        // A dry run appends nothing: everything it decided is carried.
        posts.keep_within_bounds(&start);
    }
    posts.keep_for_next_chunk(entities);
    Ok(DecidedChunk { commits, outcome })
}

/// A person's live enrolments, and the cohorts enrolling them at the
/// versions read (what a decision on them depends on).
#[derive(Default)]
struct Enrolling {
    enrolments: Vec<decisions::Enrolment>,
    cohorts: BTreeMap<Uuid, u64>,
}

/// The live enrolments of each of `participants` (a leaving may not end
/// employment before one).
async fn enrolments(reader: &EventStore, participants: &[String]) -> Result<BTreeMap<String, Enrolling>, StoreError> {
    let enrolling = reader.cohorts_enrolling_any(participants).await?;
    let cohort_ids: std::collections::BTreeSet<String> = enrolling.values().flatten().map(Uuid::to_string).collect();
    let cohorts = reader
        .load_many::<Cohort>(&cohort_ids.into_iter().collect::<Vec<_>>())
        .await?;
    let mut live = BTreeMap::new();
    for (participant, cohort_ids) in enrolling {
        let Ok(participant_id) = participant.parse::<Uuid>() else {
            continue;
        };
        let mut theirs = Enrolling::default();
        for cohort_id in cohort_ids {
            if let Some((cohort, _)) = cohorts.get(&cohort_id.to_string()) {
                theirs
                    .enrolments
                    .extend(decisions::enrolments_of(&cohort.aggregate, participant_id));
                theirs.cohorts.insert(cohort_id, cohort.version);
            }
        }
        live.insert(participant, theirs);
    }
    Ok(live)
}

#[cfg(test)]
mod tests {
    use super::{in_chunks, PersonFacts, PEOPLE_PER_CHUNK};
    use crate::import::read::PersonRows;

    fn sizes(people: usize) -> Vec<usize> {
        let rows = PersonRows::Facts(Vec::new());
        let people: Vec<PersonFacts<'_>> = (0..people).map(|_| ("P", &rows)).collect();
        in_chunks(&people).iter().map(|chunk| chunk.len()).collect()
    }

    #[test]
    fn chunks_start_and_end_small_and_are_never_larger_than_the_limit() {
        assert_eq!(PEOPLE_PER_CHUNK, 500, "the sizes below are worked for 500");
        assert_eq!(sizes(0), Vec::<usize>::new());
        assert_eq!(sizes(60), [60]);
        assert_eq!(sizes(150), [50, 100]);
        // 100, 200, 400, then 500s; what is left after them ends in 100.
        assert_eq!(sizes(2_000), [100, 200, 400, 500, 500, 200, 100]);
        assert_eq!(sizes(1_800), [100, 200, 400, 500, 500, 100]);
        assert_eq!(sizes(1_750), [100, 200, 400, 500, 450, 100]);
    }
}
