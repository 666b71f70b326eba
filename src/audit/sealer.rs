//! The sealer: follows the event store in commit order and writes each
//! event's chained hash into `event_seals`.
//!
//! It reads like the projector (`projections::source`): in
//! `(transaction_id, global_position)` order, and only events of
//! transactions older than every transaction still running, so nothing can
//! later appear before an event already sealed. Each batch reads the head
//! (the last seal), hashes the next events onto it and inserts their seals
//! in one transaction, so a crash leaves the chain whole. A transaction-
//! scoped advisory lock keeps two sealers (two servers on one database)
//! from extending the chain at once; the second finds nothing to do.
//!
//! Why after commit and not in a trigger: sealing in the append's
//! transaction would put a read of the previous hash and a hash of every
//! payload on the path every command and import waits for, and a trigger
//! is exactly what a superuser can disable before an edit. The price is a
//! lag: events committed but not yet sealed are not covered by the head
//! (`verify::head` says how many).

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgListener;
use sqlx::PgPool;
use tokio::sync::Notify;

use super::seal::{self, EventColumns, Hash, EVENT_COLUMNS, GENESIS};

/// The advisory lock a sealing transaction holds ("sealer").
pub const SEALER_LOCK_KEY: i64 = 0x7365_616c_6572;

/// How long the sealer lets commits gather after it is woken: the head
/// lags by about this much, and a burst of commits costs one pass.
const GATHER: Duration = Duration::from_millis(200);

/// The channel the store's insert trigger notifies (migration 0001).
const CHANNEL: &str = "tenure_events";

/// An event with the metadata the seal table keeps for the feed's filters.
#[derive(sqlx::FromRow)]
struct Unsealed {
    #[sqlx(flatten)]
    event: EventColumns,
    recorded_by: Option<String>,
    source: Option<String>,
    correlation_id: Option<String>,
}

/// Seals the events of one database.
#[derive(Clone)]
pub struct Sealer {
    pool: PgPool,
    batch_size: i64,
}

impl Sealer {
    /// A sealer over `pool`, sealing up to 2,000 events per transaction.
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            batch_size: 2_000,
        }
    }

    /// The same sealer with `batch_size` events per transaction.
    pub fn with_batch_size(self, batch_size: i64) -> Self {
        Self {
            batch_size: batch_size.max(1),
            ..self
        }
    }

    /// Seals every event committed before the call (waiting up to a few
    /// seconds for transactions that hold the gap-safe horizon back, see
    /// [`super::settle`]); returns how many it sealed.
    pub async fn seal_all_committed(&self) -> Result<u64, sqlx::Error> {
        super::settle(&self.pool, Duration::from_secs(5)).await?;
        self.catch_up().await
    }

    /// Seals every event that can be sealed now; returns how many it sealed.
    pub async fn catch_up(&self) -> Result<u64, sqlx::Error> {
        let mut sealed = 0;
        loop {
            match self.seal_batch().await? {
                0 => return Ok(sealed),
                n => sealed += n,
            }
        }
    }

    /// Seals up to one batch of events after the head, in one transaction.
    /// 0 when there is nothing to seal or another sealer holds the lock.
    pub async fn seal_batch(&self) -> Result<u64, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
            .bind(SEALER_LOCK_KEY)
            .fetch_one(&mut *tx)
            .await?;
        if !locked {
            return Ok(0);
        }
        let head: Option<(i64, i64, Vec<u8>)> = sqlx::query_as(
            "SELECT transaction_id::text::bigint, global_position, hash FROM event_seals \
              ORDER BY transaction_id DESC, global_position DESC LIMIT 1",
        )
        .fetch_optional(&mut *tx)
        .await?;
        let (after, mut previous): ((i64, i64), Hash) = match head {
            Some((t, g, hash)) => ((t, g), seal::from_stored(&hash)),
            None => ((0, 0), GENESIS),
        };
        let sql = format!(
            "SELECT {EVENT_COLUMNS}, e.metadata ->> 'recorded_by' AS recorded_by, \
                    e.metadata ->> 'source' AS source, e.metadata ->> 'correlation_id' AS correlation_id \
               FROM events e \
              WHERE (e.transaction_id, e.global_position) > ($1::text::xid8, $2) \
                AND e.transaction_id < pg_snapshot_xmin(pg_current_snapshot()) \
              ORDER BY e.transaction_id, e.global_position \
              LIMIT $3"
        );
        let events: Vec<Unsealed> = sqlx::query_as(&sql)
            .bind(after.0.to_string())
            .bind(after.1)
            .bind(self.batch_size)
            .fetch_all(&mut *tx)
            .await?;
        if events.is_empty() {
            return Ok(0);
        }
        let n = events.len();
        let (mut positions, mut transactions, mut hashes) =
            (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
        let (mut authors, mut sources, mut correlations) =
            (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
        for u in events {
            previous = seal::seal(&previous, &u.event);
            positions.push(u.event.global_position);
            transactions.push(u.event.transaction_id.to_string());
            hashes.push(previous.to_vec());
            authors.push(u.recorded_by);
            sources.push(u.source);
            correlations.push(u.correlation_id);
        }
        sqlx::query(
            "INSERT INTO event_seals (global_position, transaction_id, hash, recorded_by, source, correlation_id) \
             SELECT g, t::xid8, h, rb, s, c \
               FROM UNNEST($1::bigint[], $2::text[], $3::bytea[], $4::text[], $5::text[], $6::text[]) \
                    AS u(g, t, h, rb, s, c)",
        )
        .bind(&positions)
        .bind(&transactions)
        .bind(&hashes)
        .bind(&authors)
        .bind(&sources)
        .bind(&correlations)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(n as u64)
    }

    /// Seals until `shutdown` resolves: after every commit (woken by the
    /// store's notification), and every few seconds in case one is missed
    /// or an older transaction held events back.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        let wake_up = Arc::new(Notify::new());
        let listening = listen(&self.pool, wake_up.clone()).await;
        loop {
            let pause = match self.catch_up().await {
                // Events committed but held back by an older transaction
                // send no second notification: look again soon.
                Ok(_) if !super::settle(&self.pool, Duration::ZERO).await.unwrap_or(true) => Duration::from_millis(50),
                Ok(_) if listening.is_some() => Duration::from_secs(2),
                Ok(_) => Duration::from_millis(500),
                Err(e) => {
                    tracing::error!(error = %e, "sealer failed; will retry");
                    Duration::from_secs(1)
                }
            };
            tokio::select! {
                () = &mut shutdown => return,
                _ = tokio::time::timeout(pause, wake_up.notified()) => {}
            }
            // Let the commits of the next moment gather, so that a burst
            // costs one pass rather than one per group commit: the sealer's
            // whole cost to commands (docs/performance.md).
            tokio::select! {
                () = &mut shutdown => return,
                () = tokio::time::sleep(GATHER) => {}
            }
        }
    }
}

/// Stops the listening task when the sealer stops.
struct Listening(tokio::task::JoinHandle<()>);

impl Drop for Listening {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Turns every notification on [`CHANNEL`] into one wake-up permit (at
/// most one is kept, so a burst of commits wakes the sealer once). `None`
/// when LISTEN is impossible: the sealer then polls.
async fn listen(pool: &PgPool, wake_up: Arc<Notify>) -> Option<Listening> {
    let mut listener = match PgListener::connect_with(pool).await {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!(error = %e, "cannot LISTEN; the sealer polls");
            return None;
        }
    };
    if let Err(e) = listener.listen(CHANNEL).await {
        tracing::warn!(error = %e, "cannot LISTEN; the sealer polls");
        return None;
    }
    Some(Listening(tokio::spawn(async move {
        loop {
            match listener.recv().await {
                Ok(_) => wake_up.notify_one(),
                // PgListener reconnects on the next recv; do not spin.
                Err(_) => tokio::time::sleep(Duration::from_secs(1)).await,
            }
        }
    })))
}
