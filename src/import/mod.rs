//! Importing a facts file: many people's careers in one go, with the same
//! rules as the HTTP API, row-level errors, and nothing half-applied.
//!
//! The file is read and every row checked (`facts.rs`); rows are grouped by
//! person and each person's facts put in date order (same-day facts in file
//! order). People are then decided in chunks: the chunk takes the append
//! lock, loads its people's streams (one query), decides every fact in
//! memory (`people.rs`), and appends all of it in the same transaction, so
//! nothing another client records can slip between what was read and what
//! is written, and API clients wait at most one chunk.
//!
//! Idempotent: every event carries its fact's key (a digest of what the
//! row says, not where it is), and a person's facts already recorded under
//! those keys are skipped, so importing the same file twice appends
//! nothing the second time, and a later extract repeating earlier facts
//! appends only the new ones.

mod entities;
pub mod facts;
mod kinds;
mod people;
mod person_facts;
mod registry;
mod streams;

use std::collections::BTreeMap;
use std::path::PathBuf;

use aggregates::cohort::Cohort;
use aggregates::decisions;
use aggregates::participant::Participant;
use aggregates::CommandContext;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

pub use facts::RowError;
use facts::{Fact, Header};
use people::{ChunkPosts, Decided, Labels, Person};
pub use registry::{past_imports, PastImport};

use crate::event_store::{AppendError, EventStore, LoadedStream, StoreError};
use crate::ladders::{Ladders, LaddersError};

/// People decided and appended together while holding the append lock:
/// enough to amortise the round trips, few enough that API commands
/// waiting for the lock wait well under a second.
const PEOPLE_PER_CHUNK: usize = 500;

/// How an import runs.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Who is recorded as the author of every event.
    pub recorded_by: String,
    /// Check everything, append nothing.
    pub dry_run: bool,
    /// Effective dates may lie at most this many days after today.
    pub future_margin_days: u32,
}

/// What an import did, or (dry run) would do.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct ImportSummary {
    pub file_name: String,
    /// SHA-256 of the file's bytes.
    pub sha256: String,
    pub dry_run: bool,
    /// Rows read, the header excluded.
    pub rows_read: usize,
    /// People the file names.
    pub people: usize,
    /// Facts recorded now (or, in a dry run, that would be).
    pub facts_recorded: usize,
    /// Facts skipped because an earlier import recorded them.
    pub facts_already_recorded: usize,
    /// Rows refused, each listed in `errors`.
    pub rows_refused: usize,
    /// People with a refused row: none of their rows of this file were recorded.
    pub people_refused: usize,
    /// Rows of those people not recorded because another of their rows was refused.
    pub rows_not_recorded: usize,
    pub events_appended: usize,
    /// Global position of the last event appended: ask a report to wait
    /// for it (`min_position`) to see the import.
    pub last_global_position: Option<i64>,
    /// When an import of a file with the same content was recorded before.
    pub same_file_imported_at: Option<DateTime<Utc>>,
    /// Whether every row of the file is recorded (now or by an earlier
    /// import): no row refused.
    pub all_recorded: bool,
    /// Every refused row, in line order.
    pub errors: Vec<RowError>,
}

impl ImportSummary {
    /// Whether every row of the file is recorded (now or before).
    pub fn everything_landed(&self) -> bool {
        self.all_recorded
    }
}

/// How far an import has got, for a progress display.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub people_done: usize,
    pub people: usize,
    pub rows_done: usize,
    pub rows: usize,
}

/// Why an import could not run at all (a refused row is not an error: it
/// is in the summary).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Append(#[from] AppendError),
    #[error(transparent)]
    Ladders(#[from] LaddersError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The file could not be read (not a refused row: the file itself).
    #[error("cannot read the file: {0}")]
    File(std::io::Error),
}

/// Where a facts file is.
#[derive(Debug, Clone)]
pub enum FactsFile {
    /// In memory (a small file, a test).
    Bytes(Vec<u8>),
    /// On disk: read twice as a stream (its digest, then its rows), never
    /// held whole.
    Path(PathBuf),
}

impl FactsFile {
    /// Its SHA-256, and every row read.
    fn read(&self) -> std::io::Result<(String, Rows)> {
        match self {
            FactsFile::Bytes(bytes) => Ok((facts::hex(&Sha256::digest(bytes)), read_rows(bytes.as_slice()))),
            FactsFile::Path(path) => {
                let mut digest = Sha256::new();
                std::io::copy(&mut std::fs::File::open(path)?, &mut digest)?;
                let file = std::io::BufReader::with_capacity(1 << 16, std::fs::File::open(path)?);
                Ok((facts::hex(&digest.finalize()), read_rows(file)))
            }
        }
    }
}

/// Imports `file`, named `file_name`.
pub async fn import_facts(
    store: &EventStore,
    ladders: &Ladders,
    file_name: &str,
    file: FactsFile,
    options: &ImportOptions,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<ImportSummary, ImportError> {
    let started_at = Utc::now();
    // Parsing is CPU work: off the async threads, so a large file does not
    // hold up other requests.
    let (sha256, (mut by_person, mut errors, rows_read)) = tokio::task::spawn_blocking(move || file.read())
        .await
        .map_err(|e| ImportError::File(std::io::Error::other(e.to_string())))?
        .map_err(ImportError::File)?;
    let mut summary = ImportSummary {
        file_name: file_name.to_string(),
        sha256: sha256.clone(),
        dry_run: options.dry_run,
        rows_read,
        people: 0,
        facts_recorded: 0,
        facts_already_recorded: 0,
        rows_refused: 0,
        people_refused: 0,
        rows_not_recorded: 0,
        events_appended: 0,
        last_global_position: None,
        same_file_imported_at: registry::imported_at(store.pool(), &sha256).await?,
        all_recorded: false,
        errors: Vec::new(),
    };
    // Rows about no person (cohorts, posts) are read under the empty reference.
    let entity_facts = by_person.remove("").unwrap_or_default();
    // People with a row refused already: none of their rows is decided.
    let refused_people: std::collections::BTreeSet<&str> = errors.iter().filter_map(|e| e.person.as_deref()).collect();
    summary.people = by_person.len() + refused_people.iter().filter(|p| !by_person.contains_key(**p)).count();
    let mut to_decide = Vec::new();
    for (person, facts) in &by_person {
        if refused_people.contains(&**person) {
            summary.rows_not_recorded += facts.len();
        } else {
            to_decide.push((&**person, facts.as_slice()));
        }
    }
    summary.people_refused = refused_people.len();

    let labels = |replacements| Labels {
        recorded_by: options.recorded_by.clone(),
        file_name: file_name.to_string(),
        correlation_id: format!("import:{sha256}"),
        ladder_replacements: replacements,
    };
    let mut done = Progress {
        people_done: 0,
        people: to_decide.len(),
        rows_done: 0,
        rows: to_decide.iter().map(|(_, f)| f.len()).sum(),
    };
    progress(done);
    let run = entities::Run {
        store,
        ladders,
        options,
        labels: &labels,
    };
    let mut entities = entities::open(&run, &entity_facts, &by_person, &mut summary, &mut errors).await?;
    for chunk in to_decide.chunks(PEOPLE_PER_CHUNK) {
        let outcome = import_chunk(store, ladders, chunk, options, &labels, &mut entities).await?;
        summary.facts_recorded += outcome.facts_recorded;
        summary.facts_already_recorded += outcome.already_recorded;
        summary.events_appended += outcome.events_appended;
        summary.rows_not_recorded += outcome.not_recorded;
        summary.people_refused += outcome.refused.len();
        summary.last_global_position = outcome.last_global_position.or(summary.last_global_position);
        errors.extend(outcome.refused);
        done.people_done += chunk.len();
        done.rows_done += chunk.iter().map(|(_, f)| f.len()).sum::<usize>();
        progress(done);
    }
    entities::close(&run, &entity_facts, &mut entities, &mut summary, &mut errors).await?;
    errors.sort_by_key(|e| e.line);
    summary.rows_refused = errors.len();
    summary.all_recorded = errors.is_empty();
    summary.errors = errors;
    if !options.dry_run {
        registry::record(store.pool(), &summary, &options.recorded_by, started_at).await?;
    }
    Ok(summary)
}

/// Facts by person, the refused rows, and how many rows there were.
type Rows = (BTreeMap<facts::Text, Vec<Fact>>, Vec<RowError>, usize);

/// Every row of the file: facts by person, in date order (same-day facts
/// in file order), the refused rows, and how many rows there were.
fn read_rows(file: impl std::io::Read) -> Rows {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(file);
    let mut by_person: BTreeMap<facts::Text, Vec<Fact>> = BTreeMap::new();
    let mut texts = facts::Interner::default();
    let mut errors = Vec::new();
    let header = match reader.headers() {
        Ok(names) => Header::read(names),
        Err(e) => Err(vec![unreadable(1, &e)]),
    };
    let header = match header {
        Ok(header) => header,
        Err(header_errors) => return (by_person, header_errors, 0),
    };
    let columns = reader.headers().map(csv::StringRecord::len).unwrap_or(0);
    let mut rows = 0;
    for record in reader.records() {
        rows += 1;
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                let line = e.position().map_or(rows as u64 + 1, csv::Position::line);
                errors.push(unreadable(line, &e));
                continue;
            }
        };
        let line = record.position().map_or(rows as u64 + 1, csv::Position::line);
        if record.len() != columns {
            errors.push(RowError {
                line,
                column: None,
                person: None,
                error: "wrong_number_of_fields".to_string(),
                message: format!("the row has {} fields and the header {columns}", record.len()),
            });
            continue;
        }
        match header.fact(line, &record, &mut texts) {
            Ok(fact) => by_person.entry(fact.person.clone()).or_default().push(fact),
            Err(row_errors) => errors.extend(row_errors),
        }
    }
    for facts in by_person.values_mut() {
        facts.sort_by_key(|f| (f.effective_on, f.line));
    }
    (by_person, errors, rows)
}

fn unreadable(line: u64, e: &csv::Error) -> RowError {
    RowError {
        line,
        column: None,
        person: None,
        error: "unreadable_row".to_string(),
        message: format!("the row cannot be read as CSV in UTF-8: {e}"),
    }
}

/// What one chunk of people gave.
#[derive(Default)]
struct ChunkOutcome {
    facts_recorded: usize,
    already_recorded: usize,
    events_appended: usize,
    not_recorded: usize,
    refused: Vec<RowError>,
    last_global_position: Option<i64>,
}

/// How many times a chunk is decided when a ladder replacement lands
/// between reading the ladders and appending.
const LADDER_ATTEMPTS: usize = 3;

async fn import_chunk(
    store: &EventStore,
    ladders: &Ladders,
    chunk: &[(&str, &[Fact])],
    options: &ImportOptions,
    labels: &(dyn Fn(u64) -> Labels + Sync),
    entities: &mut streams::Entities,
) -> Result<ChunkOutcome, ImportError> {
    let mut attempt = 1;
    loop {
        match try_chunk(store, ladders, chunk, options, labels, entities).await {
            Err(ImportError::Append(AppendError::Conflict { aggregate_type, .. }))
                if aggregate_type == crate::event_store::LADDERS_GUARD && attempt < LADDER_ATTEMPTS =>
            {
                ladders.forget();
                attempt += 1;
            }
            outcome => return outcome,
        }
    }
}

async fn try_chunk(
    store: &EventStore,
    ladders: &Ladders,
    chunk: &[(&str, &[Fact])],
    options: &ImportOptions,
    labels: &(dyn Fn(u64) -> Labels + Sync),
    entities: &mut streams::Entities,
) -> Result<ChunkOutcome, ImportError> {
    // Read before the lock, as commands do.
    let in_force = ladders.levels_in_force().await?;
    let labels = labels(in_force.replacements);
    let context = CommandContext {
        today: Utc::now().date_naive(),
        future_margin_days: options.future_margin_days,
    };
    let locked = store.holding_append_lock().await?;
    let refs: Vec<&str> = chunk.iter().map(|(person, _)| *person).collect();
    let ids = locked.participants_by_external_ref(&refs).await?;
    let known: Vec<String> = ids.values().map(Uuid::to_string).collect();
    let mut streams = locked.load_many::<Participant>(&known).await?;
    let mut enrolments = enrolments(&locked, &known).await?;

    let mut outcome = ChunkOutcome::default();
    let mut posts = ChunkPosts::starting_from(entities);
    let mut commits = Vec::new();
    for (person, facts) in chunk {
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
        let person = Person {
            id,
            stream,
            facts_recorded,
            enrolments: enrolments.remove(&id.to_string()).unwrap_or_default(),
        };
        match people::decide(
            person,
            facts,
            &in_force.levels,
            &context,
            &mut posts,
            entities,
            &locked,
            &labels,
        )
        .await?
        {
            Decided::Recorded {
                commits: decided,
                already_recorded,
            } => {
                outcome.facts_recorded += decided.len();
                outcome.already_recorded += already_recorded;
                commits.extend(decided);
            }
            Decided::Refused { error, not_recorded } => {
                outcome.not_recorded += not_recorded;
                outcome.refused.push(error);
            }
        }
    }
    if options.dry_run {
        posts.keep_for_dry_run(entities);
    }
    if options.dry_run || commits.is_empty() {
        // Dropping the store rolls back and lets the lock go.
        return Ok(outcome);
    }
    let receipt = locked.append_all(&commits).await?;
    outcome.events_appended = receipt.events_appended;
    outcome.last_global_position = receipt.last_global_position;
    Ok(outcome)
}

/// The live enrolments of each of `participants` (a leaving may not end
/// employment before one).
async fn enrolments(
    store: &EventStore,
    participants: &[String],
) -> Result<BTreeMap<String, Vec<decisions::Enrolment>>, StoreError> {
    let enrolling = store.cohorts_enrolling_any(participants).await?;
    let cohort_ids: std::collections::BTreeSet<String> = enrolling.values().flatten().map(Uuid::to_string).collect();
    let cohorts = store
        .load_many::<Cohort>(&cohort_ids.into_iter().collect::<Vec<_>>())
        .await?;
    let mut live = BTreeMap::new();
    for (participant, cohort_ids) in enrolling {
        let Ok(participant_id) = participant.parse::<Uuid>() else {
            continue;
        };
        let mut theirs = Vec::new();
        for cohort_id in cohort_ids {
            if let Some((cohort, _)) = cohorts.get(&cohort_id.to_string()) {
                theirs.extend(decisions::enrolments_of(&cohort.aggregate, participant_id));
            }
        }
        live.insert(participant, theirs);
    }
    Ok(live)
}
