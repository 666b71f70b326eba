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
    drop(events);
    canonical_order(&mut dataset);
    let provenance = provenance(&mut db, known_at, ladders_recorded_at).await?;
    Ok((dataset, provenance))
}

/// What a replay up to `known_at` reflects: the last event recorded by then
/// in the whole store (by recorded time, then position, which the store
/// keeps in commit order), or the last ladder edit if later. One indexed
/// lookup, so a replay of part of the store names the same event as a
/// replay of all of it; and asking again with `known_at` set to its
/// `last_recorded_at` sees every event this answer saw.
pub(crate) async fn provenance(
    db: &mut sqlx::PgConnection,
    known_at: Option<DateTime<Utc>>,
    ladders_recorded_at: Option<DateTime<Utc>>,
) -> Result<Provenance, sqlx::Error> {
    // Two statements rather than `$1 IS NULL OR ...`, so that each walks
    // `events_recorded_at_idx` backwards from its bound.
    let until = if known_at.is_some() {
        "WHERE recorded_at <= $1"
    } else {
        "WHERE $1::timestamptz IS NULL"
    };
    let last: Option<(i64, DateTime<Utc>)> = sqlx::query_as(&format!(
        "SELECT global_position, recorded_at FROM events {until} \
          ORDER BY recorded_at DESC, global_position DESC LIMIT 1"
    ))
    .bind(known_at)
    .fetch_optional(&mut *db)
    .await?;
    Ok(Provenance {
        source: "replay",
        known_at,
        last_global_position: last.map_or(0, |(position, _)| position),
        last_recorded_at: last.map(|(_, at)| at).max(ladders_recorded_at),
        parked_events: 0,
    })
}

/// Derives one whole stream (its events in sequence order) into `dataset`.
pub(crate) fn add_stream(dataset: &mut Dataset, stream: &[StoredEvent], levels: &Levels) -> Result<(), ProjectorError> {
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
