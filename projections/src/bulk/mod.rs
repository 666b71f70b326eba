//! Projecting many events at once: every stream they touch derived once
//! from its whole history, its rows written with `COPY`.
//!
//! The projector applies events in commit order, 100 at a time, and each
//! batch re-derives the streams it touches from their whole history and
//! rewrites their rows: right for keeping up with new events, but far
//! behind (a rebuild from zero, a projector that was stopped) it derives a
//! stream once per batch that touches it. Here the events are read once, in
//! stream order, and go through three stages that overlap: one task reads
//! and groups them into streams, a blocking thread decodes each payload
//! straight into its typed event, derives the stream and encodes its rows
//! in `COPY`'s binary format ([`tables::CopyRows`]), and the caller's task
//! sends a few thousand streams' rows per `COPY` while the next are read and
//! derived. The result is the rows the projector would have written,
//! parked events included (tested by "rebuild equals incremental" and
//! "bulk catch-up equals batch by batch"): a chunk whose `COPY` fails
//! because of an event is written again stream by stream, and a failing
//! stream event by event, parking the event the projector would park.
//!
//! Two users: a rebuild's first pass ([`load_from_zero`], into fresh tables,
//! one transaction per chunk, secondary indexes built after the load), and
//! a projector more than [`crate::projector::BULK_FROM`] events behind
//! ([`catch_up`], into live tables, in one transaction with the
//! checkpoint).

use aggregates::Levels;
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use serde::de::DeserializeOwned;
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool, Postgres, Transaction};
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::derive::{derive, EventRecord};
use crate::ladder_edits::ladders_now;
use crate::projector::ProjectorError;
use crate::source::{Position, StoredEvent};
use crate::tables::CopyRows;

mod live;
mod write;

pub(crate) use live::catch_up;
use write::write_chunk;

/// Streams whose rows go in one `COPY` per table.
const STREAMS_PER_CHUNK: usize = 2_000;

/// At most this many events are taken by one bulk catch-up transaction:
/// it holds the checkpoint (and a transaction id, which holds back every
/// gap-free reader) while it runs.
pub(crate) const EVENTS_PER_CATCH_UP: i64 = 250_000;

/// An event as a bulk pass reads it: no metadata, the payload as text,
/// decoded once, straight into the typed event.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct RawEvent {
    global_position: i64,
    transaction_id: i64,
    aggregate_type: String,
    aggregate_id: String,
    sequence: i64,
    event_type: String,
    payload: String,
    recorded_at: DateTime<Utc>,
}

/// The columns of a [`RawEvent`].
const RAW_COLUMNS: &str = "global_position, transaction_id::text::bigint AS transaction_id, aggregate_type, \
     aggregate_id, sequence, event_type, payload::text AS payload, recorded_at";

impl RawEvent {
    fn position(&self) -> Position {
        Position {
            transaction_id: self.transaction_id,
            global_position: self.global_position,
        }
    }

    fn same_stream(&self, other: &RawEvent) -> bool {
        self.aggregate_type == other.aggregate_type && self.aggregate_id == other.aggregate_id
    }

    /// The event as the parked-events table records it (its metadata is
    /// not read by a bulk pass, nor needed there).
    fn stored(&self) -> StoredEvent {
        StoredEvent {
            global_position: self.global_position,
            transaction_id: self.transaction_id,
            aggregate_type: self.aggregate_type.clone(),
            aggregate_id: self.aggregate_id.clone(),
            sequence: self.sequence,
            event_type: self.event_type.clone(),
            event_version: String::new(),
            payload: serde_json::from_str(&self.payload).unwrap_or(serde_json::Value::Null),
            metadata: serde_json::Value::Null,
            recorded_at: self.recorded_at,
        }
    }
}

impl EventRecord for RawEvent {
    fn aggregate_type(&self) -> &str {
        &self.aggregate_type
    }

    fn aggregate_id(&self) -> &str {
        &self.aggregate_id
    }

    fn sequence(&self) -> i64 {
        self.sequence
    }

    fn decode<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(&self.payload)
    }
}

/// One stream's events, in stream order.
type Stream = Vec<RawEvent>;

/// A chunk of streams with their rows, or `None` when a stream in it could
/// not be derived (the writer then goes stream by stream).
struct Derived {
    streams: Vec<Stream>,
    rows: Option<CopyRows>,
}

/// What the reader saw.
#[derive(Debug, Default)]
struct Read {
    events: u64,
    /// The position and recorded time of the last event in commit order.
    last: Option<(Position, DateTime<Utc>)>,
}

/// Where and how a chunk is written.
struct Target<'a> {
    schema: &'a str,
    levels: &'a Levels,
    /// Events after this may be parked; streams with an event at or before
    /// it already have rows, which are replaced.
    after: Position,
}

/// Reads the events `sql` selects (stream order) on `conn`, in chunks of
/// whole streams sent to `out`.
async fn read_streams<C>(mut conn: C, sql: String, out: mpsc::Sender<Vec<Stream>>) -> Result<Read, ProjectorError>
where
    C: std::ops::DerefMut<Target = PgConnection>,
{
    let mut read = Read::default();
    let mut chunk: Vec<Stream> = Vec::with_capacity(STREAMS_PER_CHUNK);
    let mut current: Stream = Vec::new();
    {
        let mut events = sqlx::query_as::<_, RawEvent>(&sql).fetch(&mut *conn);
        while let Some(event) = events.try_next().await? {
            read.events += 1;
            if read.last.is_none_or(|(p, _)| event.position() > p) {
                read.last = Some((event.position(), event.recorded_at));
            }
            if current.last().is_some_and(|e| !e.same_stream(&event)) {
                chunk.push(std::mem::take(&mut current));
                if chunk.len() >= STREAMS_PER_CHUNK {
                    let full = std::mem::replace(&mut chunk, Vec::with_capacity(STREAMS_PER_CHUNK));
                    if out.send(full).await.is_err() {
                        // The writer stopped (an error): it reports why.
                        return Ok(read);
                    }
                }
            }
            current.push(event);
        }
    }
    if !current.is_empty() {
        chunk.push(current);
    }
    if !chunk.is_empty() {
        let _ = out.send(chunk).await;
    }
    Ok(read)
}

/// Derives every stream of each chunk from `chunks` and encodes its rows,
/// on a blocking thread of its own.
fn spawn_deriver(
    levels: Levels,
    mut chunks: mpsc::Receiver<Vec<Stream>>,
    out: mpsc::Sender<Derived>,
) -> tokio::task::JoinHandle<()> {
    tokio::task::spawn_blocking(move || {
        while let Some(streams) = chunks.blocking_recv() {
            let rows = encode(&streams, &levels);
            if out.blocking_send(Derived { streams, rows }).is_err() {
                return;
            }
        }
    })
}

/// The rows of `streams`, or `None` when one of them does not derive.
fn encode(streams: &[Stream], levels: &Levels) -> Option<CopyRows> {
    let mut rows = CopyRows::default();
    for events in streams {
        let (Some(first), Some(last)) = (events.first(), events.last()) else {
            continue;
        };
        // As `tables::write_batch`: a stream whose id is not a UUID has no rows.
        if first.aggregate_id.parse::<Uuid>().is_err() {
            continue;
        }
        let part = derive(&first.aggregate_type, events, levels).ok()?;
        rows.add(&part, last.sequence);
    }
    Some(rows)
}

/// The reading and deriving stages, running; the caller writes what
/// [`Stages::next`] gives, then [`Stages::finish`]es.
struct Stages {
    derived: mpsc::Receiver<Derived>,
    reading: tokio::task::JoinHandle<Result<Read, ProjectorError>>,
    deriving: tokio::task::JoinHandle<()>,
}

impl Stages {
    /// Starts reading the events `sql` selects (stream order) on `reader`
    /// and deriving them with `levels`.
    fn start<C>(reader: C, sql: String, levels: &Levels) -> Stages
    where
        C: std::ops::DerefMut<Target = PgConnection> + Send + 'static,
    {
        // Two chunks in flight between stages: enough to keep each busy.
        let (to_derive, chunks) = mpsc::channel(2);
        let (to_write, derived) = mpsc::channel(2);
        Stages {
            derived,
            reading: tokio::spawn(read_streams(reader, sql, to_derive)),
            deriving: spawn_deriver(levels.clone(), chunks, to_write),
        }
    }

    /// The next chunk to write, `None` once every event is read.
    async fn next(&mut self) -> Option<Derived> {
        self.derived.recv().await
    }

    /// Waits for the stages to end (at once when the writer failed:
    /// dropping the receiver stops the deriver, and with it the reader);
    /// `written` is the writer's outcome.
    async fn finish(self, written: Result<(), ProjectorError>) -> Result<Read, ProjectorError> {
        drop(self.derived);
        let read = match self.reading.await {
            Ok(read) => read,
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        };
        if let Err(e) = self.deriving.await {
            std::panic::resume_unwind(e.into_panic());
        }
        written?;
        read
    }
}

/// Plans the transaction's queries without JIT compilation: the bulk
/// reads are costly enough for PostgreSQL to compile them, which takes
/// longer than it saves on a read that runs once.
async fn no_jit(tx: &mut Transaction<'_, Postgres>) -> Result<(), sqlx::Error> {
    sqlx::query("SET LOCAL jit = off").execute(&mut **tx).await.map(|_| ())
}

/// Writes one chunk of a rebuild's first pass in a transaction of its own.
async fn write_alone(pool: &PgPool, target: &Target<'_>, chunk: Derived) -> Result<(), ProjectorError> {
    let mut tx = pool.begin().await?;
    // Nothing reads the fresh tables before the swap, whose commit is
    // flushed: a crash before it loses only the staging schema.
    sqlx::query("SET LOCAL synchronous_commit = off")
        .execute(&mut *tx)
        .await?;
    write_chunk(&mut tx, target, chunk).await?;
    tx.commit().await?;
    Ok(())
}

/// Fills the empty read models of `schema` from every event committed so
/// far; returns how many events were applied (parked ones included).
///
/// Only events of transactions older than every transaction still running
/// when the snapshot was taken are read (`transaction_id < xmin`): a later
/// one may still commit with a smaller position, and is left to the
/// gap-free reader, which takes it after the checkpoint.
pub(crate) async fn load_from_zero(pool: &PgPool, schema: &str) -> Result<u64, ProjectorError> {
    let mut read = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .execute(&mut *read)
        .await?;
    no_jit(&mut read).await?;
    // Read in the same snapshot as the events, so that a ladder replaced
    // after it is found by the projector's next realignment.
    let (levels, versions) = ladders_now(&mut *read).await?;
    let sql = format!(
        "SELECT {RAW_COLUMNS} FROM events \
          WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot()) \
          ORDER BY aggregate_type, aggregate_id, sequence"
    );
    // Secondary indexes are built once the rows are in: faster than
    // keeping them up to date row by row.
    let indexes = drop_secondary_indexes(pool, schema).await?;
    let target = Target {
        schema,
        levels: &levels,
        after: Position::default(),
    };
    let mut stages = Stages::start(read, sql, &levels);
    let mut written = Ok(());
    while let Some(chunk) = stages.next().await {
        written = write_alone(pool, &target, chunk).await;
        if written.is_err() {
            break;
        }
    }
    let seen = stages.finish(written).await?;
    create_indexes(pool, indexes).await?;

    let mut tx = pool.begin().await?;
    if let Some((until, recorded_at)) = seen.last {
        sqlx::query(&format!(
            "UPDATE {schema}.checkpoint SET transaction_id = $1, global_position = $2, last_recorded_at = $3, \
                    events_applied = $4, updated_at = clock_timestamp()"
        ))
        .bind(until.transaction_id)
        .bind(until.global_position)
        .bind(recorded_at)
        .bind(seen.events as i64)
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query(&format!("UPDATE {schema}.checkpoint SET ladder_versions = $1"))
        .bind(Json(&versions))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(seen.events)
}

/// Drops the indexes of `schema`'s tables that neither enforce a
/// constraint nor are unique, whichever migration made them; returns the
/// statements that make them again.
async fn drop_secondary_indexes(pool: &PgPool, schema: &str) -> Result<Vec<String>, sqlx::Error> {
    let indexes: Vec<(String, String)> = sqlx::query_as(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) \
           FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid \
           JOIN pg_namespace n ON n.oid = t.relnamespace \
          WHERE n.nspname = $1 AND NOT i.indisunique AND NOT i.indisprimary \
            AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)",
    )
    .bind(schema)
    .fetch_all(pool)
    .await?;
    for (name, _) in &indexes {
        sqlx::query(&format!("DROP INDEX {name}")).execute(pool).await?;
    }
    Ok(indexes.into_iter().map(|(_, create)| create).collect())
}

/// Runs the `CREATE INDEX` statements, two at a time.
async fn create_indexes(pool: &PgPool, statements: Vec<String>) -> Result<(), sqlx::Error> {
    let (mut left, mut right) = (Vec::new(), Vec::new());
    for (i, s) in statements.into_iter().enumerate() {
        if i % 2 == 0 { &mut left } else { &mut right }.push(s);
    }
    let (a, b) = tokio::join!(run_all(pool, left), run_all(pool, right));
    a.and(b)
}

async fn run_all(pool: &PgPool, statements: Vec<String>) -> Result<(), sqlx::Error> {
    for s in statements {
        sqlx::query(&s).execute(pool).await?;
    }
    Ok(())
}
