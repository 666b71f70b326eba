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
//! recorded time at or before an answer's last event). The cost is measured
//! in `benches/` and documented in docs/performance.md.

mod append;
mod idempotency;
mod read;

pub use append::{AppendError, Commit, CommitReceipt, Duplicate, NewEvent, StreamReceipt, StreamWrite};
pub use idempotency::{KeyedAnswer, Refusal};
pub use read::{Position, StoredEvent};

use cqrs_es::persist::PersistedEventRepository;
use cqrs_es::{Aggregate, DomainEvent};
use postgres_es::PostgresEventRepository;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;

/// One key for the append lock; any constant works as long as only the event
/// store uses it.
const APPEND_LOCK_KEY: i64 = 0x7465_6e75_7265; // "tenure"

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
}

/// The event store over one PostgreSQL pool.
#[derive(Clone)]
pub struct EventStore {
    pool: PgPool,
}

impl EventStore {
    /// An event store over `pool`, whose database has tenure's migrations.
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// The pool, for read models that live in the same database.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Loads and folds one aggregate's stream (empty when it has no events).
    pub async fn load<A: Aggregate>(&self, aggregate_id: &str) -> Result<LoadedStream<A>, StoreError> {
        let repo = PostgresEventRepository::new(self.pool.clone());
        let serialized = repo
            .get_events::<A>(aggregate_id)
            .await
            .map_err(|e| StoreError::Repository(e.to_string()))?;
        let mut aggregate = A::default();
        let mut events = Vec::with_capacity(serialized.len());
        let mut version = 0;
        for stored in serialized {
            let sequence = stored.sequence as u64;
            let event: A::Event = serde_json::from_value(stored.payload).map_err(|e| StoreError::Undecodable {
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

/// Serialises domain events for a [`StreamWrite`].
pub fn new_events<E: DomainEvent>(events: &[E]) -> Result<Vec<NewEvent>, serde_json::Error> {
    events
        .iter()
        .map(|e| {
            Ok(NewEvent {
                event_type: e.event_type(),
                event_version: e.event_version(),
                payload: serde_json::to_value(e)?,
            })
        })
        .collect()
}
