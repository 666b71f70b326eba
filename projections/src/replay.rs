//! "As known at": the report input rebuilt from the events recorded up to a
//! moment, retractions included only from their own recorded time, and every
//! role judged with each organisation's ladder as it stood then (the last
//! replacement recorded at or before `known_at`; docs/metrics.md decision 14).
//!
//! Cost: one indexed scan of the events recorded up to `known_at`, decoded
//! straight into typed events and folded per aggregate in memory — linear in
//! the history (the benchmark in `benches/` measures it).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::derive::{canonical_order, derive, Part};
use crate::ladder_edits;
use crate::projector::ProjectorError;
use crate::reports::model::Dataset;
use crate::source::{self, StoredEvent};
use crate::tables::Provenance;

/// The report input as known at `known_at` (everything recorded when `None`).
pub async fn dataset_known_at(
    pool: &PgPool,
    known_at: Option<DateTime<Utc>>,
) -> Result<(Dataset, Provenance), ProjectorError> {
    let events = source::recorded_until(pool, known_at).await?;
    let levels = ladder_edits::ladders_known_at(pool, known_at).await?;
    let last = events.iter().max_by_key(|e| e.global_position);
    let ladders_recorded_at = crate::tables::last_ladder_edit(&mut *pool.acquire().await?, known_at).await?;
    let provenance = Provenance {
        source: "replay",
        known_at,
        last_global_position: last.map_or(0, |e| e.global_position),
        last_recorded_at: last.map(|e| e.recorded_at).max(ladders_recorded_at),
        parked_events: 0,
    };
    let mut streams: BTreeMap<(&str, &str), Vec<StoredEvent>> = BTreeMap::new();
    for e in &events {
        streams
            .entry((e.aggregate_type.as_str(), e.aggregate_id.as_str()))
            .or_default()
            .push(e.clone());
    }
    let mut dataset = Dataset::default();
    for ((aggregate_type, aggregate_id), mut stream) in streams {
        stream.sort_by_key(|e| e.sequence);
        let part = derive(aggregate_type, &stream, &levels).map_err(|e| ProjectorError::Aggregate {
            aggregate_type: aggregate_type.to_string(),
            aggregate_id: aggregate_id.to_string(),
            reason: e.to_string(),
        })?;
        match part {
            Part::Person(p) => dataset.people.push(p),
            Part::Cohort(c) => dataset.cohorts.push(c),
            Part::Post(p) => dataset.posts.push(p),
            Part::Nothing => {}
        }
    }
    canonical_order(&mut dataset);
    Ok((dataset, provenance))
}
