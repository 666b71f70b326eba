//! Where a report reads: the primary database, or a streaming replica of it.
//!
//! Reports may be served from replicas (`--read-database-url`) so that read
//! load grows past one machine. Commands, the projector and every clock
//! stay on the primary; a replica receives the events and the read models
//! (with their checkpoint) by streaming replication, moments later. So a
//! request that must see something the primary has is waited for:
//! `min_position` waits until the replica's copy of the checkpoint has
//! reached the position, and `known_at` until the replica has replayed
//! everything the primary had committed when the request came (its WAL
//! position), both bounded by the request's wait, then 503.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::ReportRequestError;

/// The databases one report uses.
#[derive(Clone, Debug)]
pub struct ReportSource {
    /// The primary: positions handed out, the clock, commits in flight.
    pub primary: PgPool,
    /// Where the report input is read: the primary itself or a replica.
    pub reader: PgPool,
    /// Whether `reader` is a replica that may lag behind the primary.
    pub replica: bool,
}

impl ReportSource {
    /// Reads from the primary itself.
    pub fn primary(pool: PgPool) -> Self {
        Self {
            primary: pool.clone(),
            reader: pool,
            replica: false,
        }
    }

    /// Reads from `replica`, a streaming standby of `primary`.
    pub fn replica(primary: PgPool, replica: PgPool) -> Self {
        Self {
            primary,
            reader: replica,
            replica: true,
        }
    }

    /// Makes `known_at` safe to answer on the reader: refused when it lies
    /// after the primary's clock, then every commit stamped before it is
    /// waited for, on the primary and (within `wait`) on a replica.
    pub(super) async fn settle_known_at(
        &self,
        known_at: DateTime<Utc>,
        wait: Duration,
    ) -> Result<(), ReportRequestError> {
        refuse_future(&self.primary, known_at).await?;
        if self.replica {
            let lsn: String = sqlx::query_scalar("SELECT pg_current_wal_lsn()::text")
                .fetch_one(&self.primary)
                .await?;
            self.wait_for_replay(&lsn, wait).await?;
        }
        Ok(())
    }

    /// Waits (bounded) until the reader's read models reflect every event
    /// up to `position`. A position past the last committed event was never
    /// handed out: 422 at once rather than a wait that cannot end well.
    pub(super) async fn wait_for_position(&self, position: i64, wait: Duration) -> Result<(), ReportRequestError> {
        let last: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(global_position), 0) FROM events")
            .fetch_one(&self.primary)
            .await?;
        if position > last {
            return Err(ReportRequestError::UnknownPosition { position, last });
        }
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match projections::projector::has_reached(&self.reader, position).await {
                Ok(true) => return Ok(()),
                Ok(false) => {}
                // A replica that has not replayed the migrations yet is behind.
                Err(e) if self.replica && is_missing_table(&e) => {}
                Err(e) => return Err(e.into()),
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(ReportRequestError::ProjectionBehind {
                    position,
                    waited_ms: wait.as_millis(),
                });
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// A failed read of the report input: on a replica that has not yet
    /// replayed the tables (a new database, a migration just applied) it is
    /// behind, worth retrying, not a fault.
    pub(super) fn read_failed(&self, e: sqlx::Error) -> ReportRequestError {
        if self.replica && is_missing_table(&e) {
            return ReportRequestError::ReplicaBehind { waited_ms: 0 };
        }
        e.into()
    }

    /// Waits (bounded) until the replica has replayed the primary's WAL up
    /// to `lsn`.
    async fn wait_for_replay(&self, lsn: &str, wait: Duration) -> Result<(), ReportRequestError> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let replayed: Option<bool> = sqlx::query_scalar("SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn")
                .bind(lsn)
                .fetch_one(&self.reader)
                .await?;
            if replayed == Some(true) {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(ReportRequestError::ReplicaBehind {
                    waited_ms: wait.as_millis(),
                });
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// Whether `e` is PostgreSQL's "undefined table" (SQLSTATE 42P01).
fn is_missing_table(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.code().as_deref() == Some("42P01"))
}

/// Runs `work` to the end on the blocking pool. Reading a report's input
/// decodes every row (and a `known_at` replay folds every event): CPU that,
/// on the async workers, would hold up the commands and health checks they
/// serve meanwhile. The I/O still runs on the runtime's driver.
pub(super) async fn on_a_blocking_thread<T: Send + 'static>(
    work: impl std::future::Future<Output = T> + Send + 'static,
) -> Result<T, ReportRequestError> {
    let runtime = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || runtime.block_on(work))
        .await
        .map_err(ReportRequestError::internal)
}

/// A `known_at` after the database's clock names a moment whose events are
/// not all recorded yet (one may still commit stamped before it), so its
/// answer could change: 422 rather than a figure that cannot be reproduced.
/// A `known_at` before it may still have commits in flight stamped before
/// it (a group of commits takes a few milliseconds): those are waited for,
/// so that the answer can never change afterwards.
pub(super) async fn refuse_future(pool: &PgPool, known_at: DateTime<Utc>) -> Result<(), ReportRequestError> {
    let now: DateTime<Utc> = sqlx::query_scalar("SELECT clock_timestamp()").fetch_one(pool).await?;
    if known_at > now {
        return Err(ReportRequestError::KnownAtInFuture { known_at, now });
    }
    crate::event_store::wait_for_commits_in_flight(pool).await?;
    Ok(())
}
