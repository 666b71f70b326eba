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
//!
//! An annual census return (`census.rs`) goes the same way, except that
//! its rows say what each worker looked like, not what happened: the facts
//! are derived in the chunk, once the worker's history is loaded
//! (`census_derive.rs`), and then decided like any others.

pub mod census;
mod census_codes;
pub mod census_derive;
mod chunks;
mod columns;
mod entities;
pub mod facts;
mod kinds;
mod labels;
mod people;
mod person_facts;
mod read;
mod registry;
mod rows;
mod streams;
mod unsettled;

use std::collections::BTreeSet;
use std::path::PathBuf;

use chrono::{DateTime, Utc};

pub use facts::RowError;
use people::Labels;
pub use registry::{past_imports, PastImport};

use crate::event_store::{AppendError, EventStore, StoreError};
use crate::ladders::{Ladders, LaddersError};

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

/// What kind of file an import reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum FileFormat {
    /// A census return when the header names `SWENo`, else a facts file.
    #[default]
    Auto,
    /// A facts file (README.md "Importing an HR extract").
    Facts,
    /// An annual census return (README.md "Importing census returns").
    Census,
}

/// Where a facts file is.
#[derive(Debug, Clone)]
pub enum FactsFile {
    /// In memory (a small file, a test).
    Bytes(Vec<u8>),
    /// On disk: read as a stream (its digest, then its rows), never held
    /// whole; a large one is split into parts by person first (`read.rs`).
    Path(PathBuf),
}

/// Imports `file`, named `file_name`: a census return when its header
/// says so, else a facts file.
pub async fn import_facts(
    store: &EventStore,
    ladders: &Ladders,
    file_name: &str,
    file: FactsFile,
    options: &ImportOptions,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<ImportSummary, ImportError> {
    import_file(store, ladders, file_name, file, FileFormat::Auto, options, progress).await
}

/// Imports `file`, named `file_name`, read as `format`.
pub async fn import_file(
    store: &EventStore,
    ladders: &Ladders,
    file_name: &str,
    file: FactsFile,
    format: FileFormat,
    options: &ImportOptions,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<ImportSummary, ImportError> {
    let started_at = Utc::now();
    // Reading is CPU and disk work: off the async threads, so a large file
    // does not hold up other requests.
    let read = blocking(move || read::read_file(file, format)).await?;
    let read = std::sync::Arc::new(read);
    let mut summary = ImportSummary {
        file_name: file_name.to_string(),
        sha256: read.sha256.clone(),
        dry_run: options.dry_run,
        rows_read: read.rows,
        people: 0,
        facts_recorded: 0,
        facts_already_recorded: 0,
        rows_refused: 0,
        people_refused: 0,
        rows_not_recorded: 0,
        events_appended: 0,
        last_global_position: None,
        same_file_imported_at: registry::imported_at(store.pool(), &read.sha256).await?,
        all_recorded: false,
        errors: Vec::new(),
    };
    let mut errors = read.errors.clone();
    let labels = |replacements| Labels {
        recorded_by: options.recorded_by.clone(),
        file_name: file_name.to_string(),
        correlation_id: format!("import:{}", read.sha256),
        ladder_replacements: replacements,
    };
    let deciding = chunks::Deciding {
        store,
        ladders,
        options,
        labels: &labels,
    };
    let mut done = Progress {
        people_done: 0,
        people: 0,
        rows_done: 0,
        rows: read.rows,
    };
    let run = entities::Run {
        store,
        ladders,
        options,
        labels: &labels,
    };
    // Rows about no person (cohorts, posts) are read under the empty
    // reference: a whole file's with everyone's, a split file's as its
    // first part. Their cohorts and posts come first, their closings last.
    let mut entity_facts = Vec::new();
    let mut entities = None;
    // People with a row refused while the file was split (a row not UTF-8,
    // or with the wrong number of fields): refused in whichever part holds
    // their other rows, and counted once.
    let refused_splitting: BTreeSet<String> = read.errors.iter().filter_map(|e| e.person.clone()).collect();
    summary.people_refused += refused_splitting.len();
    let mut seen_refused_splitting: BTreeSet<String> = BTreeSet::new();
    // Each part is read on a blocking thread while the one before is
    // imported (at most two parts' facts are held at once).
    let read_part = |part: usize| {
        let file = read.clone();
        tokio::task::spawn_blocking(move || file.parts.read(part))
    };
    let mut next_part = (read.parts.len() > 0).then(|| read_part(0));
    for part in 0..read.parts.len() {
        let reading = next_part.take().expect("each part is read before it is imported");
        let read::Part {
            mut by_person,
            errors: part_errors,
            rows: part_rows,
            returns,
        } = reading
            .await
            .map_err(|e| ImportError::File(std::io::Error::other(e.to_string())))?
            .map_err(ImportError::File)?;
        next_part = (part + 1 < read.parts.len()).then(|| read_part(part + 1));
        if matches!(read.parts, read::Parts::Whole(..)) {
            summary.rows_read = part_rows;
            done.rows = part_rows;
        }
        if let Some(read::PersonRows::Facts(about_no_person)) = by_person.remove("") {
            done.rows_done += about_no_person.len();
            entity_facts.extend(about_no_person);
        }
        let entities = match &mut entities {
            Some(entities) => entities,
            None => entities.insert(entities::open(&run, &entity_facts, &by_person, &mut summary, &mut errors).await?),
        };
        // People with a row refused already (in this part, or while the
        // file was split): none of their rows is decided.
        let refused: BTreeSet<String> = part_errors
            .iter()
            .filter_map(|e| e.person.clone())
            .chain(
                by_person
                    .keys()
                    .filter(|p| refused_splitting.contains(&***p))
                    .map(|p| p.to_string()),
            )
            .collect();
        let part_people = by_person.len() + refused.iter().filter(|p| !by_person.contains_key(p.as_str())).count();
        summary.people += part_people;
        summary.people_refused += refused.iter().filter(|p| !refused_splitting.contains(*p)).count();
        seen_refused_splitting.extend(refused.iter().filter(|p| refused_splitting.contains(*p)).cloned());
        if let Some(returns) = &returns {
            // Workers an earlier return had and this one does not name.
            for (person, absent) in census_derive::absent_workers(store.pool(), returns).await? {
                by_person.entry(person).or_insert(read::PersonRows::Observed(absent));
            }
        }
        done.people += by_person.len() + refused.iter().filter(|p| !by_person.contains_key(p.as_str())).count();
        let mut to_decide = Vec::new();
        for (person, rows) in &by_person {
            if refused.contains(&**person) {
                summary.rows_not_recorded += rows.rows();
                done.rows_done += rows.rows();
            } else {
                to_decide.push((&**person, rows));
            }
        }
        done.rows_done += part_errors.len();
        done.people_done += refused.len();
        errors.extend(part_errors);
        progress(done);
        chunks::import_people(&deciding, &to_decide, entities, &mut |chunk, outcome| {
            summary.facts_recorded += outcome.facts_recorded;
            summary.facts_already_recorded += outcome.already_recorded;
            summary.events_appended += outcome.events_appended;
            summary.rows_not_recorded += outcome.not_recorded;
            summary.people_refused += outcome.refused.len();
            summary.last_global_position = outcome.last_global_position.or(summary.last_global_position);
            errors.extend(outcome.refused);
            done.people_done += chunk.len();
            done.rows_done += chunk.iter().map(|(_, rows)| rows.rows()).sum::<usize>();
            progress(done);
        })
        .await?;
    }
    if let Some(entities) = &mut entities {
        entities::close(&run, &entity_facts, entities, &mut summary, &mut errors).await?;
    }
    summary.people += refused_splitting.len() - seen_refused_splitting.len();
    errors.sort_by_key(|e| e.line);
    summary.rows_refused = errors.len();
    summary.all_recorded = errors.is_empty();
    summary.errors = errors;
    if !options.dry_run {
        registry::record(store.pool(), &summary, &options.recorded_by, started_at).await?;
    }
    Ok(summary)
}

/// Runs `work` on a blocking thread.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> Result<T, ImportError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ImportError::File(std::io::Error::other(e.to_string())))?
        .map_err(ImportError::File)
}
