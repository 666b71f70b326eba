//! The event store: postgres-es's `events` table, written by commits that may
//! span several aggregates, and read three ways: one stream (to decide a
//! command), one stream with both clocks and metadata (for auditors), and all
//! streams in commit order without gaps (for projectors).
//!
//! Why tenure appends through its own transaction instead of
//! `CqrsFramework::execute`: some decisions change two aggregates at once (a
//! participant filling a post changes the participant and the post) and must
//! commit together, and an idempotency key must be stored in the same
//! transaction as the events it produced. postgres-es 0.5 opens its own
//! transaction per aggregate and labels every event with one aggregate type,
//! so it can do neither. Streams are still loaded with postgres-es's
//! repository and decided by cqrs-es aggregates.
//!
//! Every commit takes one transaction-scoped advisory lock before it reads
//! versions or inserts. Commits are therefore serialised: global positions,
//! transaction ids and recorded times all increase in commit order, which
//! makes "as known at T" reproducible (nothing can later appear with a
//! recorded time at or before an answer's last event). So that concurrent
//! commits still share a disk flush, one writer groups them into one
//! transaction (`group.rs`). The cost is measured in `benches/` and
//! documented in docs/performance.md.

mod append;
mod batch;
mod bulk;
mod group;
mod idempotency;
mod links;
mod outcome;
mod read;

pub use append::{AppendError, Commit, CommitReceipt, Duplicate, NewEvent, StreamReceipt, StreamWrite};
pub use bulk::{BulkReceipt, PreparedRows};
pub use idempotency::{KeyedAnswer, Refusal};
pub use outcome::CommitOutcome;
pub use read::{Position, StoredEvent, COHORTS_ENROLLING, COHORTS_ENROLLING_ANY};

use std::sync::{Arc, OnceLock};

use group::GroupWriter;

use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};
use sqlx::pool::PoolConnection;
use sqlx::{PgConnection, PgPool, Postgres, Transaction};
use tokio::sync::{Mutex, MutexGuard};

/// The stream a commit guards to depend on the ladders its decision was
/// judged with (docs/metrics.md decision 14). Its version is the count of
/// ladder replacements recorded, so a replacement landing between the
/// decision and its commit makes the commit conflict and decide again.
pub const LADDERS_GUARD: &str = "ladders";

/// SQL for the version now of stream `s.t`/`s.i` (or of the ladders, for
/// [`LADDERS_GUARD`]), for the statements that check a commit's versions.
macro_rules! stream_version_now {
    () => {
        "CASE WHEN s.t = 'ladders' THEN (SELECT count(*) FROM ladder_versions) \
              ELSE (SELECT COALESCE(MAX(sequence), 0) FROM events \
                     WHERE aggregate_type = s.t AND aggregate_id = s.i) END"
    };
}
pub(crate) use stream_version_now;

/// Who recorded a commit, from where, and under which request. Copied onto
/// every event of the commit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    /// The caller's identity (`X-Recorded-By`, or the configured default).
    pub recorded_by: String,
    /// Where the fact came from: `api`, `demo`, `import:<file>#<row>`, ...
    pub source: String,
    /// The request or correlation id (`X-Request-Id`, or a new one).
    pub correlation_id: String,
    /// The client's `Idempotency-Key`, when it sent one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub idempotency_key: Option<String>,
    /// How an imported fact was derived, when no row stated it (a census
    /// return's rule, e.g. `census:left_on_leaving_date`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub derivation: Option<String>,
}

/// A stream loaded from the store, folded into its aggregate.
pub struct LoadedStream<A: Aggregate> {
    /// The aggregate as its events leave it.
    pub aggregate: A,
    /// The sequence of the last event (0 for a stream with no events).
    pub version: u64,
    /// Every event with its sequence, in stream order.
    pub events: Vec<(u64, A::Event)>,
}

/// Reading or writing the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused or failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// postgres-es failed while loading a stream.
    #[error("event repository error: {0}")]
    Repository(String),
    /// A stored payload does not decode into the current event types.
    #[error("event {aggregate_type}/{aggregate_id}#{sequence} does not decode: {reason}")]
    Undecodable {
        aggregate_type: String,
        aggregate_id: String,
        sequence: u64,
        reason: String,
    },
    /// The connection failed while a commit was being made and the database
    /// could not say whether transaction `txid` committed.
    #[error("the outcome of transaction {txid} is unknown: {cause}")]
    OutcomeUnknown { txid: i64, cause: String },
    /// The database failed the transaction of a group of commits, this one
    /// among them, in a way that would fail each alone too (it is down, or
    /// a lock or statement timed out): nothing of the group was recorded.
    #[error("database error in a group commit: {0}")]
    GroupFailed(Arc<sqlx::Error>),
    /// The append lock this store held was already spent on a commit.
    #[error("the append lock was already released by a commit")]
    LockReleased,
}

/// A transaction holding the append lock, until a commit takes it.
type HeldLock = Arc<Mutex<Option<Transaction<'static, Postgres>>>>;

/// The event store over one PostgreSQL pool.
#[derive(Clone)]
pub struct EventStore {
    pool: PgPool,
    /// When set, the transaction holding the append lock, which this store's
    /// reads and its next append go through.
    held: Option<HeldLock>,
    /// The writer that groups this store's commits, started by the first
    /// append (shared by every clone).
    writer: Arc<OnceLock<GroupWriter>>,
}

/// A connection to read with: one from the pool, or the held lock's.
enum Reader<'a> {
    Pooled(PoolConnection<Postgres>),
    Held(MutexGuard<'a, Option<Transaction<'static, Postgres>>>),
}

impl Reader<'_> {
    fn connection(&mut self) -> Result<&mut PgConnection, StoreError> {
        match self {
            Reader::Pooled(conn) => Ok(&mut **conn),
            Reader::Held(tx) => {
                let tx = tx.as_mut().ok_or(StoreError::LockReleased)?;
                Ok(&mut **tx)
            }
        }
    }
}

impl StoreError {
    /// The database's own error, when the database failed.
    pub fn database_error(&self) -> Option<&sqlx::Error> {
        match self {
            StoreError::Database(e) => Some(e),
            StoreError::GroupFailed(e) => Some(e),
            _ => None,
        }
    }
}

impl EventStore {
    /// An event store over `pool`, whose database has tenure's migrations.
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            held: None,
            writer: Arc::default(),
        }
    }

    /// The group writer, started on first use. Its task gets a store of its
    /// own (same pool, no writer), so it ends once every clone of this
    /// store is dropped.
    fn group_writer(&self) -> &GroupWriter {
        self.writer
            .get_or_init(|| GroupWriter::start(EventStore::new(self.pool.clone())))
    }

    /// This store, holding the append lock from now until its next append
    /// commits or it is dropped (which rolls back and releases it). Waits
    /// for commits in flight; the pool's `lock_timeout` bounds the wait.
    pub async fn holding_append_lock(&self) -> Result<EventStore, StoreError> {
        let tx = append::begin_locked(&self.pool).await?;
        Ok(EventStore {
            pool: self.pool.clone(),
            held: Some(Arc::new(Mutex::new(Some(tx)))),
            writer: self.writer.clone(),
        })
    }

    /// Whether this store holds the append lock (see [`Self::holding_append_lock`]).
    pub fn holds_append_lock(&self) -> bool {
        self.held.is_some()
    }

    /// A connection for this store's reads.
    async fn reader(&self) -> Result<Reader<'_>, StoreError> {
        Ok(match &self.held {
            Some(held) => Reader::Held(held.lock().await),
            None => Reader::Pooled(self.pool.acquire().await?),
        })
    }

    /// The pool, for read models that live in the same database.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Loads and folds one aggregate's stream (empty when it has no events).
    pub async fn load<A: Aggregate>(&self, aggregate_id: &str) -> Result<LoadedStream<A>, StoreError> {
        let mut reader = self.reader().await?;
        // The payload as text, read straight into the typed event (not
        // through a generic JSON value first).
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT sequence, payload::text FROM events WHERE aggregate_type = $1 AND aggregate_id = $2 ORDER BY sequence",
        )
        .bind(A::TYPE)
        .bind(aggregate_id)
        .fetch_all(reader.connection()?)
        .await?;
        drop(reader);
        let mut aggregate = A::default();
        let mut events = Vec::with_capacity(rows.len());
        let mut version = 0;
        for (sequence, payload) in rows {
            let sequence = sequence as u64;
            let event: A::Event = serde_json::from_str(&payload).map_err(|e| StoreError::Undecodable {
                aggregate_type: A::TYPE.to_string(),
                aggregate_id: aggregate_id.to_string(),
                sequence,
                reason: e.to_string(),
            })?;
            aggregate.apply(event.clone());
            events.push((sequence, event));
            version = sequence;
        }
        Ok(LoadedStream {
            aggregate,
            version,
            events,
        })
    }
}

/// Waits until the commits in flight now have committed or rolled back (by
/// taking the append lock and letting it go). Every commit that starts
/// afterwards is recorded later than this call's start, so a reader of
/// "everything recorded up to a moment already past" that waits here first
/// sees all of it, for good.
pub async fn wait_for_commits_in_flight(pool: &PgPool) -> Result<(), sqlx::Error> {
    let tx = append::begin_locked(pool).await?;
    tx.commit().await
}

/// Serialises domain events for a [`StreamWrite`].
pub fn new_events<E: DomainEvent>(events: &[E]) -> Result<Vec<NewEvent>, serde_json::Error> {
    events
        .iter()
        .map(|e| {
            Ok(NewEvent {
                event_type: e.event_type(),
                event_version: e.event_version(),
                payload: serde_json::value::to_raw_value(e)?,
            })
        })
        .collect()
}
