//! Reading the event store: the all-events order without gaps, one
//! aggregate's events up to a point, and everything recorded by a moment.
//!
//! The write side (`tenure::event_store`) appends; everything that reads
//! events in bulk uses these functions, so there is one gap-safe reader.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::{FromRow, PgExecutor};

/// A point in the all-events order. Events are read in
/// `(transaction_id, global_position)` order; a reader remembers the pair of
/// the last event it applied.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, FromRow)]
pub struct Position {
    pub transaction_id: i64,
    pub global_position: i64,
}

/// An event as stored, with both clocks and who recorded it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromRow, utoipa::ToSchema)]
pub struct StoredEvent {
    pub global_position: i64,
    #[serde(skip)]
    pub transaction_id: i64,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    pub payload: Value,
    /// `recorded_by`, `source`, `correlation_id` and, when given, `idempotency_key`.
    pub metadata: Value,
    /// The recorded clock: when tenure learned of the event.
    pub recorded_at: DateTime<Utc>,
}

impl StoredEvent {
    /// Where this event stands in the all-events order.
    pub fn position(&self) -> Position {
        Position {
            transaction_id: self.transaction_id,
            global_position: self.global_position,
        }
    }
}

/// The columns of a [`StoredEvent`]. `transaction_id` is an `xid8`, which
/// sqlx cannot decode, so it is selected as a `bigint` under its own name.
/// That alias shadows the column in `ORDER BY`: a query that sorts by
/// `transaction_id` must name the stored column (`events.transaction_id`),
/// or PostgreSQL sorts the whole table by the cast instead of walking
/// `events_transaction_position_idx`.
pub(crate) const COLUMNS: &str = "global_position, transaction_id::text::bigint AS transaction_id, aggregate_type, \
     aggregate_id, sequence, event_type, event_version, payload, metadata, recorded_at";

/// Every event of one aggregate, in stream order.
pub async fn history<'e>(
    db: impl PgExecutor<'e>,
    aggregate_type: &str,
    aggregate_id: &str,
) -> Result<Vec<StoredEvent>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM events WHERE aggregate_type = $1 AND aggregate_id = $2 ORDER BY sequence");
    sqlx::query_as(&sql)
        .bind(aggregate_type)
        .bind(aggregate_id)
        .fetch_all(db)
        .await
}

/// The events of several aggregates up to and including `until`, each
/// aggregate's in stream order, in one query.
pub async fn histories_until<'e>(
    db: impl PgExecutor<'e>,
    aggregates: &std::collections::BTreeSet<(&str, &str)>,
    until: Position,
) -> Result<std::collections::BTreeMap<(String, String), Vec<StoredEvent>>, sqlx::Error> {
    let types: Vec<&str> = aggregates.iter().map(|(t, _)| *t).collect();
    let ids: Vec<&str> = aggregates.iter().map(|(_, i)| *i).collect();
    let sql = format!(
        "SELECT {COLUMNS} FROM events \
          WHERE (aggregate_type, aggregate_id) IN (SELECT * FROM UNNEST($1::text[], $2::text[])) \
            AND (transaction_id, global_position) <= ($3::text::xid8, $4) \
          ORDER BY aggregate_type, aggregate_id, sequence"
    );
    let rows: Vec<StoredEvent> = sqlx::query_as(&sql)
        .bind(&types)
        .bind(&ids)
        .bind(until.transaction_id.to_string())
        .bind(until.global_position)
        .fetch_all(db)
        .await?;
    let mut streams: std::collections::BTreeMap<(String, String), Vec<StoredEvent>> = Default::default();
    for e in rows {
        streams
            .entry((e.aggregate_type.clone(), e.aggregate_id.clone()))
            .or_default()
            .push(e);
    }
    Ok(streams)
}

/// Up to `limit` events after `after`, in commit order, never skipping one.
///
/// Identity values are handed out before commit, so a plain
/// `global_position > n` could pass over an event whose transaction commits
/// later. Only events of transactions older than the oldest one still
/// running (`pg_snapshot_xmin`) are returned: nothing can later appear
/// before them in the order. One long transaction anywhere holds readers
/// back; the projector's lag shows it.
pub async fn read_after<'e>(
    db: impl PgExecutor<'e>,
    after: Position,
    limit: i64,
) -> Result<Vec<StoredEvent>, sqlx::Error> {
    sqlx::query_as(&read_after_sql())
        .bind(after.transaction_id.to_string())
        .bind(after.global_position)
        .bind(limit)
        .fetch_all(db)
        .await
}

/// Every event recorded at or before `known_at` (all when `None`), in
/// commit order: the input of an "as known at" replay.
pub async fn recorded_until<'e>(
    db: impl PgExecutor<'e>,
    known_at: Option<DateTime<Utc>>,
) -> Result<Vec<StoredEvent>, sqlx::Error> {
    sqlx::query_as(&recorded_until_sql()).bind(known_at).fetch_all(db).await
}

/// The statement [`read_after`] runs (parameters: transaction id as text,
/// global position, limit), public so that a test can check its plan.
pub fn read_after_sql() -> String {
    format!(
        "SELECT {COLUMNS} FROM events \
          WHERE (transaction_id, global_position) > ($1::text::xid8, $2) \
            AND transaction_id < pg_snapshot_xmin(pg_current_snapshot()) \
          ORDER BY events.transaction_id, events.global_position \
          LIMIT $3"
    )
}

/// The statement [`recorded_until`] runs (parameter: the known-at time or
/// null), public so that a test can check its plan.
pub fn recorded_until_sql() -> String {
    format!(
        "SELECT {COLUMNS} FROM events \
          WHERE $1::timestamptz IS NULL OR recorded_at <= $1 \
          ORDER BY events.transaction_id, events.global_position"
    )
}

/// Events read in stream order (type, id, sequence), handed back a whole
/// stream at a time, with the last of them in commit order remembered: how
/// a replay and a rebuild fold each stream as soon as it ends.
#[derive(Debug, Default)]
pub(crate) struct WholeStreams {
    current: Vec<StoredEvent>,
    /// The position and recorded time of the last event in commit order.
    pub(crate) last: Option<(Position, DateTime<Utc>)>,
    /// How many events were read.
    pub(crate) events: u64,
}

impl WholeStreams {
    /// Takes the next event; returns the stream it ends, if it starts another.
    pub(crate) fn push(&mut self, event: StoredEvent) -> Option<Vec<StoredEvent>> {
        self.events += 1;
        if self.last.is_none_or(|(position, _)| event.position() > position) {
            self.last = Some((event.position(), event.recorded_at));
        }
        let same_stream = self
            .current
            .last()
            .is_none_or(|e| e.aggregate_type == event.aggregate_type && e.aggregate_id == event.aggregate_id);
        let ended = (!same_stream).then(|| std::mem::take(&mut self.current));
        self.current.push(event);
        ended
    }

    /// The last stream, once every event has been read.
    pub(crate) fn finish(&mut self) -> Option<Vec<StoredEvent>> {
        (!self.current.is_empty()).then(|| std::mem::take(&mut self.current))
    }
}
