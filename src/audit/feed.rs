//! The audit feed: every event in commit order, a page at a time, with its
//! seal, filtered by recorded time, author, source or correlation id.
//!
//! Pages follow the gap-safe reader (`projections::source::read_after`):
//! commit order `(transaction_id, global_position)`, and only events of
//! transactions older than every one still running, so a client paging
//! with `after` never skips or repeats an event however writes interleave.
//! Because every commit takes the append lock, commit order is also
//! global-position order, and `after` is simply the last global position a
//! client has seen.
//!
//! Filters on the metadata use `event_seals`' copies of it (indexed there,
//! so that the event table's inserts pay for no extra index) for sealed
//! events, and the events themselves for the few committed since the head.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::PgPool;

use super::seal;
use super::ChainPosition;

/// Events per page when the client does not say.
pub const DEFAULT_LIMIT: i64 = 100;
/// The most events one page holds.
pub const MAX_LIMIT: i64 = 1_000;

/// Which events the feed lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedFilter {
    /// Recorded at or after this moment.
    pub recorded_from: Option<DateTime<Utc>>,
    /// Recorded strictly before this moment.
    pub recorded_to: Option<DateTime<Utc>>,
    /// `metadata.recorded_by` equals this.
    pub recorded_by: Option<String>,
    /// `metadata.source` equals this.
    pub source: Option<String>,
    /// `metadata.correlation_id` equals this.
    pub correlation_id: Option<String>,
}

impl FeedFilter {
    fn metadata(&self) -> Vec<(&'static str, &str)> {
        [
            ("recorded_by", &self.recorded_by),
            ("source", &self.source),
            ("correlation_id", &self.correlation_id),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_deref().map(|v| (k, v)))
        .collect()
    }
}

/// One event as the feed lists it.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct FeedEvent {
    /// Its place in the all-events order; pass the last one seen as `after`.
    pub global_position: i64,
    pub aggregate_type: String,
    pub aggregate_id: String,
    /// Its place in its own stream (1, 2, ...).
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    pub payload: Value,
    /// `recorded_by`, `source`, `correlation_id` and, when given,
    /// `idempotency_key` and `derivation`.
    pub metadata: Value,
    /// The recorded clock: when tenure learned of the event.
    pub recorded_at: DateTime<Utc>,
    /// Its seal (64 hex digits), or null while the sealer has not reached it.
    #[sqlx(skip)]
    pub seal: Option<String>,
    #[serde(skip)]
    pub transaction_id: i64,
    #[serde(skip)]
    #[sqlx(rename = "seal")]
    seal_bytes: Option<Vec<u8>>,
}

/// One page of the feed.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct FeedPage {
    pub events: Vec<FeedEvent>,
    /// Pass as `after` for the next page; null when this page is the last
    /// one for now (fewer events than `limit`): poll again later with the
    /// last position seen.
    pub next_after: Option<i64>,
}

/// Where a page starts: the event at global position `after` is the last
/// one seen. `None` when no event has that position (0 is the start).
pub async fn resume_after(pool: &PgPool, after: i64) -> Result<Option<ChainPosition>, sqlx::Error> {
    if after == 0 {
        return Ok(Some((0, 0)));
    }
    let txid: Option<i64> =
        sqlx::query_scalar("SELECT transaction_id::text::bigint FROM events WHERE global_position = $1")
            .bind(after)
            .fetch_optional(pool)
            .await?;
    Ok(txid.map(|t| (t, after)))
}

/// The last event committed for good now: where an export of "the whole
/// trail" stops, however many events are appended while it runs.
pub async fn committed_end(pool: &PgPool) -> Result<ChainPosition, sqlx::Error> {
    let end: Option<(i64, i64)> = sqlx::query_as(
        "SELECT transaction_id::text::bigint, global_position FROM events \
          WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot()) \
          ORDER BY transaction_id DESC, global_position DESC LIMIT 1",
    )
    .fetch_optional(pool)
    .await?;
    Ok(end.unwrap_or((0, 0)))
}

/// Up to `limit` events after `after` matching `filter`, in commit order,
/// none after `until` when given.
pub async fn page(
    pool: &PgPool,
    after: ChainPosition,
    limit: i64,
    filter: &FeedFilter,
    until: Option<ChainPosition>,
) -> Result<FeedPage, sqlx::Error> {
    let metadata = filter.metadata();
    // $1/$2 after, $3 limit, $4/$5 until, $6/$7 recorded range, $8.. metadata,
    // then the head.
    let mut conditions = vec![
        "(e.transaction_id, e.global_position) > ($1::text::xid8, $2)".to_string(),
        "e.transaction_id < pg_snapshot_xmin(pg_current_snapshot())".to_string(),
        // Never null, so that each is an index condition the planner can use.
        "(e.transaction_id, e.global_position) <= ($4::text::xid8, $5)".to_string(),
        "e.recorded_at >= COALESCE($6::timestamptz, '-infinity')".to_string(),
        "e.recorded_at < COALESCE($7::timestamptz, 'infinity')".to_string(),
    ];
    let sql = if metadata.is_empty() {
        format!(
            "SELECT {FEED_COLUMNS} FROM events e LEFT JOIN event_seals s ON s.global_position = e.global_position \
              WHERE {} ORDER BY e.transaction_id, e.global_position LIMIT $3",
            conditions.join(" AND ")
        )
    } else {
        // Sealed events are found through the seal table's indexes (up to
        // the head); the few after the head through their own
        // metadata. The two parts never overlap.
        let n = 8;
        let on_seals: Vec<String> = metadata
            .iter()
            .enumerate()
            .map(|(i, (key, _))| format!("s.{key} = ${}", n + i))
            .collect();
        let on_events: Vec<String> = metadata
            .iter()
            .enumerate()
            .map(|(i, (key, _))| format!("e.metadata ->> '{key}' = ${}", n + i))
            .collect();
        let head = n + metadata.len();
        let mut sealed = conditions.clone();
        sealed.push(format!(
            "(s.transaction_id, s.global_position) <= (${head}::text::xid8, ${})",
            head + 1
        ));
        sealed.push("(s.transaction_id, s.global_position) > ($1::text::xid8, $2)".to_string());
        sealed.extend(on_seals);
        conditions.push(format!(
            "(e.transaction_id, e.global_position) > (${head}::text::xid8, ${})",
            head + 1
        ));
        conditions.extend(on_events);
        format!(
            "(SELECT {FEED_COLUMNS} FROM event_seals s JOIN events e ON e.global_position = s.global_position \
               WHERE {} ORDER BY s.transaction_id, s.global_position LIMIT $3) \
             UNION ALL \
             (SELECT {FEED_COLUMNS} FROM events e LEFT JOIN event_seals s ON s.global_position = e.global_position \
               WHERE {} ORDER BY e.transaction_id, e.global_position LIMIT $3) \
             ORDER BY transaction_id, global_position LIMIT $3",
            sealed.join(" AND "),
            conditions.join(" AND ")
        )
    };
    let mut query = sqlx::query_as::<_, FeedEvent>(&sql)
        .bind(after.0.to_string())
        .bind(after.1)
        .bind(limit)
        .bind(until.map_or(i64::MAX, |u| u.0).to_string())
        .bind(until.map_or(i64::MAX, |u| u.1))
        .bind(filter.recorded_from)
        .bind(filter.recorded_to);
    if !metadata.is_empty() {
        for (_, value) in &metadata {
            query = query.bind(*value);
        }
        let head = super::verify::head_position(pool).await?;
        query = query.bind(head.0.to_string()).bind(head.1);
    }
    let mut events = query.fetch_all(pool).await?;
    for e in &mut events {
        e.seal = e.seal_bytes.take().map(|bytes| seal::to_hex(&bytes));
    }
    let next_after = (events.len() as i64 == limit)
        .then(|| events.last().map(|e| e.global_position))
        .flatten();
    Ok(FeedPage { events, next_after })
}

/// The feed's select list over `events e` and `event_seals s`.
const FEED_COLUMNS: &str = "e.global_position, e.transaction_id::text::bigint AS transaction_id, e.aggregate_type, \
     e.aggregate_id, e.sequence, e.event_type, e.event_version, e.payload, e.metadata, e.recorded_at, \
     s.hash AS seal";
