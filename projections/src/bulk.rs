//! A rebuild's first pass: every stream derived once, its rows written in
//! bulk.
//!
//! The projector applies events in commit order, 100 at a time, and each
//! batch re-derives the streams it touches from their whole history and
//! rewrites their rows: right for keeping up with new events, but a rebuild
//! from zero that way derives each stream once per batch that touches it.
//! Here every event committed so far is read once, in stream order, from
//! one snapshot; each stream is derived as soon as it ends, and the rows of
//! a few thousand streams go in per statement. The checkpoint is then set
//! to the last of those events in commit order, and the ordinary projector
//! carries on from there for anything committed since: the result is the
//! rows the projector would have written, parked events included (tested
//! by "rebuild equals incremental").
//!
//! Only events of transactions older than every transaction still running
//! when the snapshot was taken are read (`transaction_id < xmin`): a later
//! one may still commit with a smaller position, and must be left to the
//! gap-free reader, which takes it after the checkpoint.

use std::collections::BTreeMap;

use aggregates::Levels;
use futures::TryStreamExt;
use sqlx::types::Json;
use sqlx::{PgPool, Postgres, Transaction};

use crate::ladder_edits::ladders_now;
use crate::projector::ProjectorError;
use crate::source::{StoredEvent, WholeStreams, COLUMNS};
use crate::tables;

/// Streams whose rows are written per transaction.
const STREAMS_PER_CHUNK: usize = 2_000;

/// Streams keyed by (aggregate type, id), each with its events in order.
type Streams = BTreeMap<(String, String), Vec<StoredEvent>>;

/// Fills the empty read models of `schema` from every event committed so
/// far; returns how many events were applied (parked ones included).
pub(crate) async fn load_from_zero(pool: &PgPool, schema: &str) -> Result<u64, ProjectorError> {
    let mut read = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .execute(&mut *read)
        .await?;
    // Read in the same snapshot as the events, so that a ladder replaced
    // after it is found by the projector's next realignment.
    let (levels, versions) = ladders_now(&mut *read).await?;
    let sql = format!(
        "SELECT {COLUMNS} FROM events \
          WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot()) \
          ORDER BY aggregate_type, aggregate_id, sequence"
    );
    let mut events = sqlx::query_as::<_, StoredEvent>(&sql).fetch(&mut *read);
    let mut chunk = Streams::new();
    // One chunk is written while the next is read: PostgreSQL inserts on
    // one core while this process reads and groups on another.
    let mut writing: Option<tokio::task::JoinHandle<Result<(), ProjectorError>>> = None;
    let mut streams = WholeStreams::default();
    while let Some(event) = events.try_next().await? {
        if let Some(stream) = streams.push(event) {
            add(&mut chunk, stream);
            if chunk.len() >= STREAMS_PER_CHUNK {
                finish(writing.take()).await?;
                let (pool, schema, levels) = (pool.clone(), schema.to_string(), levels.clone());
                let full = std::mem::take(&mut chunk);
                writing = Some(tokio::spawn(async move {
                    write_chunk(&pool, &schema, &full, &levels).await
                }));
            }
        }
    }
    drop(events);
    read.commit().await?;
    finish(writing).await?;
    if let Some(stream) = streams.finish() {
        add(&mut chunk, stream);
    }
    write_chunk(pool, schema, &chunk, &levels).await?;

    let applied = streams.events;
    let mut tx = pool.begin().await?;
    if let Some((until, recorded_at)) = streams.last {
        sqlx::query(&format!(
            "UPDATE {schema}.checkpoint SET transaction_id = $1, global_position = $2, last_recorded_at = $3, \
                    events_applied = $4, updated_at = clock_timestamp()"
        ))
        .bind(until.transaction_id)
        .bind(until.global_position)
        .bind(recorded_at)
        .bind(applied as i64)
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query(&format!("UPDATE {schema}.checkpoint SET ladder_versions = $1"))
        .bind(Json(&versions))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(applied)
}

/// Waits for the chunk being written, if any; its panic is this one's.
async fn finish(writing: Option<tokio::task::JoinHandle<Result<(), ProjectorError>>>) -> Result<(), ProjectorError> {
    match writing {
        None => Ok(()),
        Some(handle) => match handle.await {
            Ok(written) => written,
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        },
    }
}

fn add(chunk: &mut Streams, stream: Vec<StoredEvent>) {
    if let Some(first) = stream.first() {
        chunk.insert((first.aggregate_type.clone(), first.aggregate_id.clone()), stream);
    }
}

/// Writes the rows of `chunk` in one transaction. When an event cannot be
/// applied, each stream is written alone, and a stream that fails is
/// written event by event as the projector does it: each event's prefix of
/// the stream, or the event parked.
async fn write_chunk(pool: &PgPool, schema: &str, chunk: &Streams, levels: &Levels) -> Result<(), ProjectorError> {
    if chunk.is_empty() {
        return Ok(());
    }
    let mut tx = pool.begin().await?;
    if try_write(&mut tx, schema, chunk, levels).await?.is_err() {
        for (key, events) in chunk {
            let one = BTreeMap::from([(key.clone(), events.clone())]);
            if try_write(&mut tx, schema, &one, levels).await?.is_ok() {
                continue;
            }
            for event in events {
                let prefix: Vec<StoredEvent> = events
                    .iter()
                    .take_while(|e| e.sequence <= event.sequence)
                    .cloned()
                    .collect();
                let upto = BTreeMap::from([(key.clone(), prefix)]);
                if let Err(why) = try_write(&mut tx, schema, &upto, levels).await? {
                    tracing::error!(global_position = event.global_position, error = %why, "event parked: it cannot be projected");
                    tables::park(&mut tx, schema, event, &why).await?;
                }
            }
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Writes `streams` under a savepoint: `Err` with the reason (and nothing
/// written) when an event in them cannot be applied.
async fn try_write(
    tx: &mut Transaction<'_, Postgres>,
    schema: &str,
    streams: &Streams,
    levels: &Levels,
) -> Result<Result<(), String>, ProjectorError> {
    sqlx::query("SAVEPOINT bulk").execute(&mut **tx).await?;
    match tables::write_batch(tx, schema, streams, levels).await {
        Ok(()) => {
            sqlx::query("RELEASE SAVEPOINT bulk").execute(&mut **tx).await?;
            Ok(Ok(()))
        }
        Err(e) if e.is_the_events_fault() => {
            sqlx::query("ROLLBACK TO SAVEPOINT bulk").execute(&mut **tx).await?;
            Ok(Err(e.to_string()))
        }
        Err(e) => Err(e),
    }
}
