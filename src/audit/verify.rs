//! Verifying the chain: recompute every seal from the events, in bounded
//! batches, and name the first event that no longer matches.
//!
//! Two ordered walks run side by side, both in the chain's order
//! `(transaction_id, global_position)` and both stopping at the head taken
//! when verification starts: the events, and the seals. Each event is
//! hashed onto the hash *recomputed* for the one before it (never onto a
//! stored seal), so the answer depends only on the events and the head:
//!
//! - an event whose recomputed hash differs from its seal: `hash_mismatch`
//!   (an edited column, or an edit earlier that was re-sealed);
//! - a seal whose event is gone (or has moved in the order): `event_missing`;
//! - an event inside the sealed history that has no seal (slipped in with
//!   an old transaction id or position): `seal_missing`;
//! - an event recorded earlier than the one before it (tenure stamps every
//!   commit later than the last, so it was slipped in backdated, perhaps
//!   before the sealer reached it): `recorded_out_of_order`.
//!
//! Memory is one batch of each walk; time is linear in the history.

use serde::Serialize;
use sqlx::PgPool;

use super::seal::{self, EventColumns, Hash, EVENT_COLUMNS, GENESIS};
use super::ChainPosition;

/// Events (and seals) read per query.
const BATCH: i64 = 1_000;

/// The end of the sealed chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Head {
    /// The global position of the last sealed event.
    pub global_position: i64,
    /// Its seal: SHA-256 over it and every event before it, 64 hex digits.
    pub hash: String,
    /// Events committed after the head and not sealed yet (the sealer's
    /// lag): the head says nothing about them.
    pub unsealed_events: i64,
    #[serde(skip)]
    pub(crate) transaction_id: i64,
}

/// What is wrong at the first event that does not match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Finding {
    /// The event no longer hashes to its seal.
    HashMismatch,
    /// A sealed event is no longer in the store (or no longer in its place).
    EventMissing,
    /// An event inside the sealed history has no seal.
    SealMissing,
    /// An event's recorded time is earlier than the one before it in commit
    /// order, which tenure never writes (every commit is stamped later than
    /// the last): it was slipped in backdated, e.g. to change what a
    /// `known_at` answer shows, and then sealed like any other.
    RecordedOutOfOrder,
}

/// The first event that does not match the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// The global position of the event (or of the seal whose event is gone).
    pub global_position: i64,
    pub finding: Finding,
    /// A sentence for people.
    pub message: String,
}

/// Whether a head someone kept (a board paper's) is on the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SuppliedHead {
    pub global_position: i64,
    pub hash: String,
    /// True when the chain recomputed from the events has exactly this
    /// hash at this position: the history up to it is unchanged.
    pub on_chain: bool,
}

/// The outcome of verifying the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Verification {
    /// True when every sealed event matches (and a supplied head is on the chain).
    pub ok: bool,
    /// Events recomputed before stopping.
    pub events_checked: u64,
    /// The head verified up to.
    pub head: Head,
    /// The first event that does not match, if any.
    pub first_problem: Option<Problem>,
    /// The supplied head, when one was given.
    pub supplied_head: Option<SuppliedHead>,
}

/// The head now, with the sealer's lag. Before anything is sealed it is
/// position 0 with [`GENESIS`] (64 zeros), the chain's starting hash.
pub async fn head(pool: &PgPool) -> Result<Head, sqlx::Error> {
    let row: Option<(i64, i64, Vec<u8>)> = sqlx::query_as(
        "SELECT transaction_id::text::bigint, global_position, hash FROM event_seals \
          ORDER BY transaction_id DESC, global_position DESC LIMIT 1",
    )
    .fetch_optional(pool)
    .await?;
    let (transaction_id, global_position, hash) = row.unwrap_or((0, 0, GENESIS.to_vec()));
    let unsealed_events: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE (transaction_id, global_position) > ($1::text::xid8, $2)",
    )
    .bind(transaction_id.to_string())
    .bind(global_position)
    .fetch_one(pool)
    .await?;
    Ok(Head {
        global_position,
        hash: seal::to_hex(&hash),
        unsealed_events,
        transaction_id,
    })
}

/// The head's place in the chain's order, (0, 0) when nothing is sealed.
pub(crate) async fn head_position(pool: &PgPool) -> Result<ChainPosition, sqlx::Error> {
    let row: Option<(i64, i64)> = sqlx::query_as(
        "SELECT transaction_id::text::bigint, global_position FROM event_seals \
          ORDER BY transaction_id DESC, global_position DESC LIMIT 1",
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.unwrap_or((0, 0)))
}

/// Waits (bounded) until the event at `position` is sealed; whether it is.
pub async fn wait_until_sealed(pool: &PgPool, position: i64, wait: std::time::Duration) -> Result<bool, sqlx::Error> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let sealed: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM event_seals WHERE global_position >= $1)")
            .bind(position)
            .fetch_one(pool)
            .await?;
        if sealed || tokio::time::Instant::now() >= deadline {
            return Ok(sealed);
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Recomputes the chain up to the head now; with `supplied`, also checks
/// that the chain has that hash at that global position.
pub async fn verify(pool: &PgPool, supplied: Option<(i64, Hash)>) -> Result<Verification, sqlx::Error> {
    let head = head(pool).await?;
    let end = (head.transaction_id, head.global_position);
    let mut events = Walk::new(end);
    let mut seals = Walk::new(end);
    let mut previous = GENESIS;
    let mut checked = 0;
    let mut last_recorded = None;
    // Every chain starts from the genesis hash at position 0.
    let mut supplied_found = supplied.filter(|(at, _)| *at == 0).map(|_| GENESIS);
    let problem = loop {
        let event = events.peek(pool, read_events).await?;
        let sealed = seals.peek(pool, read_seals).await?;
        match (event, sealed) {
            (None, None) => break None,
            (Some(e), Some(s)) if e.global_position == s.0 => {
                previous = seal::seal(&previous, e);
                checked += 1;
                if supplied.is_some_and(|(at, _)| at == e.global_position) {
                    supplied_found = Some(previous);
                }
                if previous != s.2 {
                    break Some(problem(e.global_position, Finding::HashMismatch));
                }
                if last_recorded.is_some_and(|t| e.recorded_at < t) {
                    break Some(problem(e.global_position, Finding::RecordedOutOfOrder));
                }
                last_recorded = Some(e.recorded_at);
                events.advance();
                seals.advance();
            }
            (Some(e), Some(s)) if (e.transaction_id, e.global_position) < (s.1, s.0) => {
                break Some(problem(e.global_position, Finding::SealMissing));
            }
            (Some(e), None) => break Some(problem(e.global_position, Finding::SealMissing)),
            (_, Some(s)) => break Some(problem(s.0, Finding::EventMissing)),
        }
    };
    let supplied_head = supplied.map(|(global_position, hash)| SuppliedHead {
        global_position,
        hash: seal::to_hex(&hash),
        on_chain: supplied_found == Some(hash),
    });
    Ok(Verification {
        ok: problem.is_none() && supplied_head.as_ref().is_none_or(|s| s.on_chain),
        events_checked: checked,
        head,
        first_problem: problem,
        supplied_head,
    })
}

fn problem(global_position: i64, finding: Finding) -> Problem {
    let message = match finding {
        Finding::HashMismatch => format!(
            "the event at global position {global_position} no longer matches its seal: it, or the chain \
             before it, was changed after it was sealed"
        ),
        Finding::EventMissing => format!(
            "the event sealed at global position {global_position} is no longer in the store (deleted, or \
             moved in the order)"
        ),
        Finding::RecordedOutOfOrder => format!(
            "the event at global position {global_position} is recorded earlier than the event before it, \
             which tenure never writes: it was added backdated"
        ),
        Finding::SealMissing => format!(
            "the event at global position {global_position} lies inside the sealed history but was never \
             sealed: it was added out of order"
        ),
    };
    Problem {
        global_position,
        finding,
        message,
    }
}

/// A seal as the walk reads it: (global position, transaction id, hash).
type SealRow = (i64, i64, Hash);

/// One ordered walk up to `end`, a batch at a time.
struct Walk<T> {
    end: ChainPosition,
    after: ChainPosition,
    batch: std::collections::VecDeque<T>,
    exhausted: bool,
}

trait Ordered {
    fn chain_position(&self) -> ChainPosition;
}

impl Ordered for EventColumns {
    fn chain_position(&self) -> ChainPosition {
        (self.transaction_id, self.global_position)
    }
}

impl Ordered for SealRow {
    fn chain_position(&self) -> ChainPosition {
        (self.1, self.0)
    }
}

impl<T: Ordered> Walk<T> {
    fn new(end: ChainPosition) -> Self {
        Self {
            end,
            after: (0, 0),
            batch: Default::default(),
            exhausted: false,
        }
    }

    /// The next item, reading the next batch when this one is used up.
    async fn peek<F, Fut>(&mut self, pool: &PgPool, read: F) -> Result<Option<&T>, sqlx::Error>
    where
        F: FnOnce(PgPool, ChainPosition, ChainPosition) -> Fut,
        Fut: std::future::Future<Output = Result<Vec<T>, sqlx::Error>>,
    {
        if self.batch.is_empty() && !self.exhausted {
            let rows = read(pool.clone(), self.after, self.end).await?;
            self.exhausted = (rows.len() as i64) < BATCH;
            if let Some(last) = rows.last() {
                self.after = last.chain_position();
            }
            self.batch.extend(rows);
        }
        Ok(self.batch.front())
    }

    fn advance(&mut self) {
        self.batch.pop_front();
    }
}

async fn read_events(pool: PgPool, after: ChainPosition, end: ChainPosition) -> Result<Vec<EventColumns>, sqlx::Error> {
    let sql = format!(
        "SELECT {EVENT_COLUMNS} FROM events e \
          WHERE (e.transaction_id, e.global_position) > ($1::text::xid8, $2) \
            AND (e.transaction_id, e.global_position) <= ($3::text::xid8, $4) \
          ORDER BY e.transaction_id, e.global_position LIMIT $5"
    );
    sqlx::query_as(&sql)
        .bind(after.0.to_string())
        .bind(after.1)
        .bind(end.0.to_string())
        .bind(end.1)
        .bind(BATCH)
        .fetch_all(&pool)
        .await
}

async fn read_seals(pool: PgPool, after: ChainPosition, end: ChainPosition) -> Result<Vec<SealRow>, sqlx::Error> {
    let rows: Vec<(i64, i64, Vec<u8>)> = sqlx::query_as(
        "SELECT global_position, transaction_id::text::bigint, hash FROM event_seals s \
          WHERE (s.transaction_id, s.global_position) > ($1::text::xid8, $2) \
            AND (s.transaction_id, s.global_position) <= ($3::text::xid8, $4) \
          ORDER BY s.transaction_id, s.global_position LIMIT $5",
    )
    .bind(after.0.to_string())
    .bind(after.1)
    .bind(end.0.to_string())
    .bind(end.1)
    .bind(BATCH)
    .fetch_all(&pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(g, t, h)| (g, t, seal::from_stored(&h)))
        .collect())
}
