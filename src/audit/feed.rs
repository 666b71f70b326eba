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

use crate::event_store::StoredEvent;
use chrono::{DateTime, Utc};
use serde::Serialize;
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

/// One event as the feed lists it: the event as stored, and its seal.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct FeedEvent {
    /// The event; pass its `global_position` as `after` for the next page.
    #[serde(flatten)]
    #[sqlx(flatten)]
    pub event: StoredEvent,
    /// Its seal (64 hex digits), or null while the sealer has not reached it.
    #[sqlx(skip)]
    pub seal: Option<String>,
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
    let Some((first, last)) = recorded_range(pool, filter, until).await? else {
        return Ok(FeedPage {
            events: Vec::new(),
            next_after: None,
        });
    };
    let metadata = filter.metadata();
    let keys: Vec<&str> = metadata.iter().map(|(key, _)| *key).collect();
    let sql = page_sql(&keys);
    // The event just before `first` in the order is (its transaction, its
    // position - 1): one exclusive bound for both, which the index seeks to.
    let after = after.max((first.0, first.1 - 1));
    let mut query = sqlx::query_as::<_, FeedEvent>(&sql)
        .bind(after.0.to_string())
        .bind(after.1)
        .bind(limit)
        .bind(last.0.to_string())
        .bind(last.1)
        .bind(filter.recorded_from)
        .bind(filter.recorded_to);
    if !metadata.is_empty() {
        for (_, value) in &metadata {
            query = query.bind(*value);
        }
        // Past `after`, so that the part after the head starts at the
        // later of the two with one bound the index can seek to.
        let head = super::verify::head_position(pool).await?.max(after);
        query = query.bind(head.0.to_string()).bind(head.1);
    }
    let mut events = query.fetch_all(pool).await?;
    for e in &mut events {
        e.seal = e.seal_bytes.take().map(|bytes| seal::to_hex(&bytes));
    }
    let next_after = (events.len() as i64 == limit)
        .then(|| events.last().map(|e| e.event.global_position))
        .flatten();
    Ok(FeedPage { events, next_after })
}

/// The first and last events in the chain's order that `filter`'s
/// recorded-time range can hold (and no later than `until`), so that a page
/// walks only that stretch of the order rather than filtering from the
/// start of the history; `None` when no event was recorded in the range.
/// Recorded times increase in commit order (every commit takes the append
/// lock, `event_store`), so the stretch is found through the recorded-time
/// index.
async fn recorded_range(
    pool: &PgPool,
    filter: &FeedFilter,
    until: Option<ChainPosition>,
) -> Result<Option<(ChainPosition, ChainPosition)>, sqlx::Error> {
    let mut first = (0, 1);
    let mut last = until.unwrap_or((i64::MAX, i64::MAX));
    if let Some(from) = filter.recorded_from {
        let found: Option<ChainPosition> = sqlx::query_as(
            "SELECT transaction_id::text::bigint, global_position FROM events \
              WHERE recorded_at >= $1 ORDER BY recorded_at, global_position LIMIT 1",
        )
        .bind(from)
        .fetch_optional(pool)
        .await?;
        match found {
            Some(position) => first = position,
            None => return Ok(None),
        }
    }
    if let Some(to) = filter.recorded_to {
        let found: Option<ChainPosition> = sqlx::query_as(
            "SELECT transaction_id::text::bigint, global_position FROM events \
              WHERE recorded_at < $1 ORDER BY recorded_at DESC, global_position DESC LIMIT 1",
        )
        .bind(to)
        .fetch_optional(pool)
        .await?;
        match found {
            Some(position) => last = last.min(position),
            None => return Ok(None),
        }
    }
    Ok(Some((first, last)))
}

/// The statement [`page`] runs when filtering on the metadata `keys`
/// (`recorded_by`, `source`, `correlation_id`; none: no metadata filter),
/// public so that a test can check its plan. Parameters: $1/$2 the
/// position after which to start (transaction id as text, global
/// position), $3 the limit, $4/$5 the last position to list, $6/$7 the
/// recorded time range (nulls: open), then one value per key, then the head's position (transaction id as
/// text, global position).
pub fn page_sql(keys: &[&str]) -> String {
    // Only the columns the seal table has are ever named in the statement.
    let keys: Vec<&str> = keys
        .iter()
        .copied()
        .filter(|k| ["recorded_by", "source", "correlation_id"].contains(k))
        .collect();
    let mut conditions = vec![
        "(e.transaction_id, e.global_position) > ($1::text::xid8, $2)".to_string(),
        "e.transaction_id < pg_snapshot_xmin(pg_current_snapshot())".to_string(),
        // Never null, so that each is an index condition the planner can use.
        "(e.transaction_id, e.global_position) <= ($4::text::xid8, $5)".to_string(),
        "e.recorded_at >= COALESCE($6::timestamptz, '-infinity')".to_string(),
        "e.recorded_at < COALESCE($7::timestamptz, 'infinity')".to_string(),
    ];
    if keys.is_empty() {
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
        let on_seals: Vec<String> = keys
            .iter()
            .enumerate()
            .map(|(i, key)| format!("s.{key} = ${}", n + i))
            .collect();
        let on_events: Vec<String> = keys
            .iter()
            .enumerate()
            .map(|(i, key)| format!("e.metadata ->> '{key}' = ${}", n + i))
            .collect();
        let head = n + keys.len();
        let mut sealed = conditions.clone();
        sealed.push(format!(
            "(s.transaction_id, s.global_position) <= (${head}::text::xid8, ${})",
            head + 1
        ));
        sealed.push("(s.transaction_id, s.global_position) > ($1::text::xid8, $2)".to_string());
        sealed.push("(s.transaction_id, s.global_position) <= ($4::text::xid8, $5)".to_string());
        sealed.extend(on_seals);
        // The head bound is already past `after` ($1/$2).
        conditions.remove(0);
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
    }
}

/// The feed's select list over `events e` and `event_seals s`.
const FEED_COLUMNS: &str = "e.global_position, e.transaction_id::text::bigint AS transaction_id, e.aggregate_type, \
     e.aggregate_id, e.sequence, e.event_type, e.event_version, e.payload, e.metadata, e.recorded_at, \
     s.hash AS seal";
