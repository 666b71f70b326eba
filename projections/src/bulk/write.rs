//! Writing a chunk of derived streams: their rows replaced with one `COPY`,
//! or, when an event in them cannot be applied, stream by stream and then
//! event by event, parking the event the projector would park.

use std::collections::BTreeMap;

use sqlx::{Postgres, Transaction};
use uuid::Uuid;

use super::{Derived, Stream, Target};
use crate::projector::ProjectorError;
use crate::tables::{self, CopyRows};

/// Writes one chunk in `tx`: replaces the rows of its streams that have
/// some, then `COPY`s its rows. When an event cannot be applied, each
/// stream is written alone, and a stream that fails is written event by
/// event as the projector does it (each event's prefix of the stream, or
/// the event parked), for the events after `target.after`.
pub(super) async fn write_chunk(
    tx: &mut Transaction<'_, Postgres>,
    target: &Target<'_>,
    chunk: Derived,
) -> Result<(), ProjectorError> {
    sqlx::query("SAVEPOINT bulk").execute(&mut **tx).await?;
    let written = match chunk.rows {
        Some(rows) => copy_chunk(tx, target, &chunk.streams, rows).await,
        None => Err(ProjectorError::Aggregate {
            aggregate_type: String::new(),
            aggregate_id: String::new(),
            reason: "a stream does not derive".to_string(),
        }),
    };
    match written {
        Ok(()) => {
            sqlx::query("RELEASE SAVEPOINT bulk").execute(&mut **tx).await?;
            return Ok(());
        }
        Err(e) if e.is_the_events_fault() => {
            sqlx::query("ROLLBACK TO SAVEPOINT bulk").execute(&mut **tx).await?;
        }
        Err(e) => return Err(e),
    }
    for events in &chunk.streams {
        let Some(first) = events.first() else { continue };
        let key = (first.aggregate_type.clone(), first.aggregate_id.clone());
        let whole = BTreeMap::from([(key.clone(), events.clone())]);
        if try_write(tx, target, &whole).await?.is_ok() {
            continue;
        }
        for event in events.iter().filter(|e| e.position() > target.after) {
            let prefix: Stream = events
                .iter()
                .take_while(|e| e.sequence <= event.sequence)
                .cloned()
                .collect();
            let upto = BTreeMap::from([(key.clone(), prefix)]);
            if let Err(why) = try_write(tx, target, &upto).await? {
                tracing::error!(global_position = event.global_position, error = %why, "event parked: it cannot be projected");
                tables::park(tx, target.schema, &event.stored(), &why).await?;
            }
        }
    }
    Ok(())
}

/// Deletes the rows of the chunk's streams that have some, then `COPY`s.
async fn copy_chunk(
    tx: &mut Transaction<'_, Postgres>,
    target: &Target<'_>,
    streams: &[Stream],
    rows: CopyRows,
) -> Result<(), ProjectorError> {
    let mut existing: BTreeMap<&str, Vec<Uuid>> = BTreeMap::new();
    for events in streams {
        let Some(first) = events.first() else { continue };
        if events.iter().any(|e| e.position() <= target.after) {
            if let Ok(id) = first.aggregate_id.parse::<Uuid>() {
                existing.entry(first.aggregate_type.as_str()).or_default().push(id);
            }
        }
    }
    tables::delete_rows(tx, target.schema, &existing).await?;
    rows.copy_into(tx, target.schema).await?;
    Ok(())
}

/// Writes `streams` the projector's way under a savepoint: `Err` with the
/// reason (and nothing written) when an event in them cannot be applied.
async fn try_write(
    tx: &mut Transaction<'_, Postgres>,
    target: &Target<'_>,
    streams: &BTreeMap<(String, String), Stream>,
) -> Result<Result<(), String>, ProjectorError> {
    sqlx::query("SAVEPOINT bulk_stream").execute(&mut **tx).await?;
    match tables::write_batch(tx, target.schema, streams, target.levels).await {
        Ok(()) => {
            sqlx::query("RELEASE SAVEPOINT bulk_stream").execute(&mut **tx).await?;
            Ok(Ok(()))
        }
        Err(e) if e.is_the_events_fault() => {
            sqlx::query("ROLLBACK TO SAVEPOINT bulk_stream")
                .execute(&mut **tx)
                .await?;
            Ok(Err(e.to_string()))
        }
        Err(e) => Err(e),
    }
}
