//! The projector: keeps the read-model tables up to date with the events.
//!
//! It reads the store in commit order with the gap-safe reader, and for each
//! batch rewrites the rows of every aggregate the batch touched, derived from
//! that aggregate's whole stream up to the batch's last event. Rows and
//! checkpoint are written in one transaction: a crash at any point leaves
//! either the old rows and the old checkpoint or the new ones, so no event
//! is lost or applied twice, and re-applying a batch gives the same rows
//! (the rows are a function of the stream, not of the previous rows).
//!
//! An event that cannot be applied (a date PostgreSQL's `date` cannot hold,
//! a payload that no longer decodes) is **parked**: recorded with its error
//! in `parked_events`, in the same transaction as the rest of its batch and
//! the checkpoint; its stream's rows stay as they were after the stream's
//! last event that could be applied. One bad event never stops the read
//! models for everyone; reports and the admin status say how many were
//! parked.
//!
//! The checkpoint row is locked `FOR UPDATE SKIP LOCKED`, so two processes
//! never project the same tables at once: the second simply finds nothing
//! to do. The projector wakes on the `tenure_events` notification sent by
//! the store's insert trigger, and polls slowly in case a notification is
//! missed (a dropped connection, say). Every commit sends a notification,
//! but one pass applies everything committed so far, so notifications are
//! coalesced: however many arrive while a pass runs, at most one more pass
//! follows. A burst of writes therefore costs passes in proportion to the
//! time it takes, not to the number of commits.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::postgres::PgListener;
use sqlx::{PgPool, Postgres, Transaction};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::source::{self, Position, StoredEvent};
use crate::tables;

pub use crate::rebuild::{rebuild, RebuildReport};

/// The schema of the live read models.
pub const LIVE_SCHEMA: &str = "read_models";
/// The schema a rebuild fills before it is swapped in.
pub const REBUILD_SCHEMA: &str = "read_models_next";
/// The channel the store's trigger notifies on every commit.
pub const CHANNEL: &str = "tenure_events";
/// How many pending events make the projector catch up in bulk
/// (`bulk::catch_up`: each touched stream derived once, rows written with
/// `COPY`) rather than batch by batch.
pub const BULK_FROM: i64 = 5_000;
/// The advisory lock a rebuild holds, so that two rebuilds (two admins, or
/// the CLI beside the server) never share the staging schema.
pub const REBUILD_LOCK_KEY: i64 = 0x7265_6275_696c; // "rebuil"

/// Projecting failed; the checkpoint did not move.
#[derive(Debug, thiserror::Error)]
pub enum ProjectorError {
    #[error("database error while projecting: {0}")]
    Database(#[from] sqlx::Error),
    /// A stored event does not decode or its history is inconsistent.
    #[error("cannot project {aggregate_type} {aggregate_id}: {reason}")]
    Aggregate {
        aggregate_type: String,
        aggregate_id: String,
        reason: String,
    },
    /// Another rebuild holds the rebuild lock; this one did nothing.
    #[error("another rebuild is running; try again when it has finished")]
    RebuildInProgress,
}

impl ProjectorError {
    /// Whether the error lies in the events being applied (a value the
    /// database cannot store, a payload that does not decode) rather than in
    /// the database's state (a lost connection, a deadlock), which a retry
    /// may cure. SQLSTATE classes 22 (data exception), 23 (integrity
    /// constraint) and 54 (program limit, e.g. an index row too large).
    pub(crate) fn is_the_events_fault(&self) -> bool {
        match self {
            ProjectorError::Aggregate { .. } => true,
            ProjectorError::Database(sqlx::Error::Encode(_)) => true,
            ProjectorError::Database(sqlx::Error::Database(e)) => e
                .code()
                .is_some_and(|code| matches!(code.get(..2), Some("22" | "23" | "54"))),
            ProjectorError::Database(_) | ProjectorError::RebuildInProgress => false,
        }
    }
}

/// Runs one savepoint statement (`SAVEPOINT`, `RELEASE`, `ROLLBACK TO`).
async fn savepoint(tx: &mut Transaction<'_, Postgres>, statement: &str) -> Result<(), sqlx::Error> {
    sqlx::query(statement).execute(&mut **tx).await.map(|_| ())
}

/// Where a set of read-model tables stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Checkpoint {
    /// The global position of the last event applied (0: none yet).
    pub global_position: i64,
    #[serde(skip)]
    pub transaction_id: i64,
    /// The recorded time of the last event applied.
    pub last_recorded_at: Option<DateTime<Utc>>,
    /// How many events have been applied since the tables were created.
    pub events_applied: i64,
}

/// Where the live read models stand, and the events they could not apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ProjectionStatus {
    #[serde(flatten)]
    pub checkpoint: Checkpoint,
    /// The events parked because they could not be applied.
    pub parked: tables::ParkedEvents,
}

/// Where the tables of `schema` stand, with their parked events.
pub async fn status(pool: &PgPool, schema: &str) -> Result<ProjectionStatus, sqlx::Error> {
    Ok(ProjectionStatus {
        checkpoint: checkpoint(pool, schema).await?,
        parked: tables::parked_events(pool, schema).await?,
    })
}

impl Checkpoint {
    /// The reader position to continue after.
    pub fn position(&self) -> Position {
        Position {
            transaction_id: self.transaction_id,
            global_position: self.global_position,
        }
    }
}

/// Keeps one schema's read models up to date.
#[derive(Clone)]
pub struct Projector {
    pool: PgPool,
    schema: &'static str,
    batch_size: i64,
    /// Pending events from which to catch up in bulk.
    bulk_from: i64,
    /// Passes of `run` so far, shared by the clones of this projector.
    passes: Arc<AtomicU64>,
}

impl Projector {
    /// The projector of the live read models.
    pub fn live(pool: PgPool) -> Self {
        Self::for_schema(pool, LIVE_SCHEMA)
    }

    /// A projector of the tables in `schema`.
    pub fn for_schema(pool: PgPool, schema: &'static str) -> Self {
        Self {
            pool,
            schema,
            // Small batches keep each projector transaction short: an open
            // transaction holds back every gap-free reader in the cluster.
            batch_size: 100,
            bulk_from: BULK_FROM,
            passes: Arc::default(),
        }
    }

    /// The same projector reading `batch_size` events per transaction.
    pub fn with_batch_size(self, batch_size: i64) -> Self {
        Self { batch_size, ..self }
    }

    /// The same projector catching up in bulk from `bulk_from` pending
    /// events (default [`BULK_FROM`]; `i64::MAX`: never).
    pub fn with_bulk_from(self, bulk_from: i64) -> Self {
        Self { bulk_from, ..self }
    }

    /// Applies every event available now; returns how many were applied.
    /// Far behind, in bulk, up to `bulk::EVENTS_PER_CATCH_UP` events per
    /// transaction; the last few batch by batch.
    pub async fn catch_up(&self) -> Result<u64, ProjectorError> {
        let mut applied = 0;
        while self.pending_at_least(self.bulk_from).await? {
            match self.catch_up_in_bulk().await? {
                Some(n) => applied += n,
                None => break,
            }
        }
        while let Some(n) = self.apply_batch().await? {
            applied += n;
        }
        Ok(applied)
    }

    /// Applies up to 250,000 pending events in one transaction, each stream
    /// they touch derived once from its whole history and its rows replaced
    /// with `COPY` (what `catch_up` does when far behind); returns how many
    /// were applied, `None` when there was nothing to do (or another
    /// process holds the checkpoint).
    pub async fn catch_up_in_bulk(&self) -> Result<Option<u64>, ProjectorError> {
        crate::bulk::catch_up(&self.pool, self.schema).await
    }

    /// Applies one batch in one transaction. `None` when there was nothing
    /// to do (or another process holds the checkpoint).
    async fn apply_batch(&self) -> Result<Option<u64>, ProjectorError> {
        let schema = self.schema;
        let mut tx = self.pool.begin().await?;
        let Some(after) = lock_checkpoint(&mut tx, schema).await? else {
            return Ok(None);
        };
        // Judge with the ladders in force now, first re-deriving whoever an
        // edited ladder concerns (docs/metrics.md decision 14).
        let realigned = crate::ladder_edits::realign(&mut tx, schema).await?;
        let levels = &realigned.levels;
        let batch = source::read_after(&mut *tx, after, self.batch_size).await?;
        let Some(last) = batch.last() else {
            if realigned.changed {
                tx.commit().await?;
            }
            return Ok(None);
        };
        let until = last.position();
        let touched: BTreeSet<(&str, &str)> = batch
            .iter()
            .map(|e| (e.aggregate_type.as_str(), e.aggregate_id.as_str()))
            .collect();
        let streams = source::histories_until(&mut *tx, &touched, until).await?;
        // The whole batch in one go; only when an event in it cannot be
        // applied, event by event, to find and park it.
        savepoint(&mut tx, "SAVEPOINT batch").await?;
        match tables::write_batch(&mut tx, schema, &streams, levels).await {
            Ok(()) => savepoint(&mut tx, "RELEASE SAVEPOINT batch").await?,
            Err(e) if e.is_the_events_fault() => {
                savepoint(&mut tx, "ROLLBACK TO SAVEPOINT batch").await?;
                for event in &batch {
                    self.apply_or_park(&mut tx, event, &streams, levels).await?;
                }
            }
            Err(e) => return Err(e),
        }
        sqlx::query(&format!(
            "UPDATE {schema}.checkpoint SET transaction_id = $1, global_position = $2, last_recorded_at = $3, \
                    events_applied = events_applied + $4, updated_at = clock_timestamp()"
        ))
        .bind(until.transaction_id)
        .bind(until.global_position)
        .bind(last.recorded_at)
        .bind(batch.len() as i64)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(batch.len() as u64))
    }

    /// Writes the rows of `event`'s stream as they stand after it; when that
    /// fails because of the event, parks it instead, with the error, so the
    /// batch and the checkpoint move on and the stream's rows stay as they
    /// were after its last event that could be applied. Parked events stay
    /// in the stream (sequence numbers and retractions refer to them), so a
    /// later retraction of one removes its effect and projects.
    async fn apply_or_park(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        event: &StoredEvent,
        streams: &BTreeMap<(String, String), Vec<StoredEvent>>,
        levels: &aggregates::Levels,
    ) -> Result<(), ProjectorError> {
        let key = (event.aggregate_type.clone(), event.aggregate_id.clone());
        let prefix: Vec<StoredEvent> = streams
            .get(&key)
            .into_iter()
            .flatten()
            .filter(|e| e.sequence <= event.sequence)
            .cloned()
            .collect();
        savepoint(tx, "SAVEPOINT event").await?;
        match tables::write_batch(tx, self.schema, &BTreeMap::from([(key, prefix)]), levels).await {
            Ok(()) => savepoint(tx, "RELEASE SAVEPOINT event").await?,
            Err(e) if e.is_the_events_fault() => {
                savepoint(tx, "ROLLBACK TO SAVEPOINT event").await?;
                tracing::error!(global_position = event.global_position, error = %e, "event parked: it cannot be projected");
                tables::park(tx, self.schema, event, &e.to_string()).await?;
            }
            Err(e) => return Err(e),
        }
        Ok(())
    }

    /// Whether at least `n` events the gap-free reader could take now are
    /// pending: at most `n` steps of `events_transaction_position_idx` from
    /// the checkpoint.
    async fn pending_at_least(&self, n: i64) -> Result<bool, sqlx::Error> {
        if n == i64::MAX {
            return Ok(false);
        }
        let schema = self.schema;
        let pending: i64 = sqlx::query_scalar(&format!(
            "SELECT count(*) FROM {schema}.checkpoint c CROSS JOIN LATERAL ( \
                SELECT 1 FROM events e \
                 WHERE (e.transaction_id, e.global_position) > (c.transaction_id::text::xid8, c.global_position) \
                   AND e.transaction_id < pg_snapshot_xmin(pg_current_snapshot()) \
                 ORDER BY e.transaction_id, e.global_position LIMIT $1) pending"
        ))
        .bind(n.max(1))
        .fetch_one(&self.pool)
        .await?;
        Ok(pending >= n.max(1))
    }

    /// Whether the store holds events this projector has not applied yet:
    /// one step of `events_transaction_position_idx` from the checkpoint.
    async fn has_pending(&self) -> Result<bool, sqlx::Error> {
        let schema = self.schema;
        sqlx::query_scalar(&format!("SELECT EXISTS ({})", first_pending(schema, "")))
            .fetch_one(&self.pool)
            .await
    }

    /// How many passes `run` has made (by this projector or any clone of
    /// it): each pass catches up, then looks for held-back events. Once
    /// caught up, a projector makes a pass only when new events are
    /// committed (at most one for any number of commits during a pass) or
    /// at the fallback poll.
    pub fn passes(&self) -> u64 {
        self.passes.load(Ordering::Relaxed)
    }

    /// Runs until `shutdown` resolves: catch up, then wait for a
    /// notification (or the fallback poll) and catch up again.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        let wake_up = Arc::new(Notify::new());
        let listening = listen(&self.pool, wake_up.clone()).await;
        loop {
            self.passes.fetch_add(1, Ordering::Relaxed);
            match self.catch_up().await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(events = n, "projected"),
                Err(e) => tracing::error!(error = %e, "projector failed; will retry"),
            }
            // Events committed but held back by an older open transaction
            // elsewhere in the cluster send no second notification: look
            // again soon rather than at the fallback poll.
            let held_back = self.has_pending().await.unwrap_or(false);
            let wake = async {
                if held_back {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    return;
                }
                if listening.is_some() {
                    let _ = tokio::time::timeout(Duration::from_secs(5), wake_up.notified()).await;
                } else {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            };
            tokio::select! {
                () = &mut shutdown => return,
                () = wake => {}
            }
        }
    }
}

/// Stops the listening task when the projector stops.
struct Listening(JoinHandle<()>);

impl Drop for Listening {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Listens on [`CHANNEL`] in a task of its own that turns every
/// notification into one `wake_up` permit. `Notify` keeps at most one
/// permit, so a thousand commits during a pass wake the projector once,
/// and no notification waits in the connection to be consumed one pass at
/// a time. `None` when LISTEN is impossible: the projector then polls.
async fn listen(pool: &PgPool, wake_up: Arc<Notify>) -> Option<Listening> {
    let listener = async {
        let mut listener = PgListener::connect_with(pool).await?;
        listener.listen(CHANNEL).await?;
        Ok::<_, sqlx::Error>(listener)
    };
    let mut listener = match listener.await {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!(error = %e, "cannot LISTEN; projector falls back to polling");
            return None;
        }
    };
    Some(Listening(tokio::spawn(async move {
        loop {
            match listener.recv().await {
                Ok(_) => wake_up.notify_one(),
                Err(e) => {
                    // `recv` reconnects on the next call; notifications sent
                    // meanwhile are lost, so wake the projector to look.
                    tracing::warn!(error = %e, "projector lost its LISTEN connection; reconnecting");
                    wake_up.notify_one();
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        }
    })))
}

/// The first event after `schema`'s checkpoint (satisfying `condition`,
/// e.g. `AND e.global_position <= $1`), as a subquery. The lateral join and
/// the `ORDER BY` make PostgreSQL walk `events_transaction_position_idx`
/// from the checkpoint; a plain join of events and checkpoint is planned as
/// a scan of the whole store, which finds nothing when caught up.
fn first_pending(schema: &str, condition: &str) -> String {
    format!(
        "SELECT 1 FROM {schema}.checkpoint c CROSS JOIN LATERAL ( \
            SELECT 1 FROM events e \
             WHERE (e.transaction_id, e.global_position) > (c.transaction_id::text::xid8, c.global_position) \
                   {condition} \
             ORDER BY e.transaction_id, e.global_position LIMIT 1) pending"
    )
}

/// Where the tables of `schema` stand.
pub async fn checkpoint(pool: &PgPool, schema: &str) -> Result<Checkpoint, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT transaction_id, global_position, last_recorded_at, events_applied FROM {schema}.checkpoint"
    ))
    .fetch_one(pool)
    .await
}

/// Whether every event at or before `global_position` has been applied to
/// the live read models (a position not yet in the store is not reached).
pub async fn has_reached(pool: &PgPool, global_position: i64) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(&format!(
        "SELECT ($1 <= 0 OR EXISTS (SELECT 1 FROM events WHERE global_position >= $1)) \
            AND NOT EXISTS ({})",
        first_pending(LIVE_SCHEMA, "AND e.global_position <= $1")
    ))
    .bind(global_position)
    .fetch_one(pool)
    .await
}

/// Locks `schema`'s checkpoint for this transaction and reads it; `None`
/// when another process holds it (and so is projecting these tables now).
pub(crate) async fn lock_checkpoint(
    tx: &mut Transaction<'_, Postgres>,
    schema: &str,
) -> Result<Option<Position>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT transaction_id, global_position FROM {schema}.checkpoint FOR UPDATE SKIP LOCKED"
    ))
    .fetch_optional(&mut **tx)
    .await
}
