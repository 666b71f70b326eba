//! "As known at": the report input rebuilt from the events recorded up to a
//! moment, retractions included only from their own recorded time, and every
//! role judged with each organisation's ladder as it stood then (the last
//! replacement recorded at or before `known_at`; docs/metrics.md decision 14).
//!
//! Cost: one scan of the events recorded up to `known_at`, in stream order,
//! each stream folded as soon as it is complete: time linear in the history,
//! memory bounded by the longest stream plus the report input itself (the
//! size of the read models), never the whole history (the benchmark in
//! `benches/` measures it).

use aggregates::Levels;
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use sqlx::PgPool;

use crate::derive::{canonical_order, derive, Part};
use crate::ladder_edits;
use crate::projector::ProjectorError;
use crate::reports::model::Dataset;
use crate::source::{StoredEvent, WholeStreams, COLUMNS};
use crate::tables::Provenance;

/// The report input as known at `known_at` (everything recorded when `None`).
pub async fn dataset_known_at(
    pool: &PgPool,
    known_at: Option<DateTime<Utc>>,
) -> Result<(Dataset, Provenance), ProjectorError> {
    let levels = ladder_edits::ladders_known_at(pool, known_at).await?;
    let mut db = pool.acquire().await?;
    let ladders_recorded_at = crate::tables::last_ladder_edit(&mut db, known_at).await?;
    let sql = format!(
        "SELECT {COLUMNS} FROM events \
          WHERE $1::timestamptz IS NULL OR recorded_at <= $1 \
          ORDER BY aggregate_type, aggregate_id, sequence"
    );
    let mut events = sqlx::query_as::<_, StoredEvent>(&sql).bind(known_at).fetch(&mut *db);
    let mut dataset = Dataset::default();
    let mut streams = WholeStreams::default();
    while let Some(event) = events.try_next().await? {
        if let Some(stream) = streams.push(event) {
            add_stream(&mut dataset, &stream, &levels)?;
        }
    }
    if let Some(stream) = streams.finish() {
        add_stream(&mut dataset, &stream, &levels)?;
    }
    let last = streams.last;
    canonical_order(&mut dataset);
    let provenance = Provenance {
        source: "replay",
        known_at,
        last_global_position: last.map_or(0, |(position, _)| position.global_position),
        last_recorded_at: last.map(|(_, at)| at).max(ladders_recorded_at),
        parked_events: 0,
    };
    Ok((dataset, provenance))
}

/// Derives one whole stream (its events in sequence order) into `dataset`.
fn add_stream(dataset: &mut Dataset, stream: &[StoredEvent], levels: &Levels) -> Result<(), ProjectorError> {
    let Some(first) = stream.first() else {
        return Ok(());
    };
    let part = derive(&first.aggregate_type, stream, levels).map_err(|e| ProjectorError::Aggregate {
        aggregate_type: first.aggregate_type.clone(),
        aggregate_id: first.aggregate_id.clone(),
        reason: e.to_string(),
    })?;
    match part {
        Part::Person(p) => dataset.people.push(p),
        Part::Cohort(c) => dataset.cohorts.push(c),
        Part::Post(p) => dataset.posts.push(p),
        Part::Nothing => {}
    }
    Ok(())
}
