//! Rebuilding every read model from zero into fresh tables, and swapping
//! them in atomically (`tenure rebuild`, `POST /api/v1/admin/rebuild`).

use serde::Serialize;
use sqlx::PgPool;

use crate::projector::{
    checkpoint, Checkpoint, Projector, ProjectorError, LIVE_SCHEMA, REBUILD_LOCK_KEY, REBUILD_SCHEMA,
};

/// How a rebuild went.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RebuildReport {
    /// Events applied to the fresh tables before the swap.
    pub events_applied: u64,
    /// Where the swapped-in tables stood at the swap.
    pub checkpoint: Checkpoint,
}

/// Rebuilds every read model from the whole history into fresh tables and
/// swaps them in atomically. The live tables keep serving until the swap;
/// events arriving meanwhile are applied to the new tables by the live
/// projector after it. A reader of several live tables must read the
/// checkpoint first in its transaction (as `tables::load_dataset` does):
/// the swap then waits for it, or it for the swap, never both.
pub async fn rebuild(pool: &PgPool) -> Result<RebuildReport, ProjectorError> {
    // A transaction-scoped lock, so that a rebuild abandoned half way (its
    // caller gone) releases it with the rollback. The transaction takes no
    // transaction id, so it holds no gap-free reader back.
    let mut lock = pool.begin().await?;
    let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
        .bind(REBUILD_LOCK_KEY)
        .fetch_one(&mut *lock)
        .await?;
    if !locked {
        return Err(ProjectorError::RebuildInProgress);
    }
    let report = rebuild_locked(pool).await;
    lock.rollback().await?;
    report
}

async fn rebuild_locked(pool: &PgPool) -> Result<RebuildReport, ProjectorError> {
    sqlx::query(&format!("DROP SCHEMA IF EXISTS {REBUILD_SCHEMA} CASCADE"))
        .execute(pool)
        .await?;
    sqlx::query("SELECT tenure_create_read_models($1)")
        .bind(REBUILD_SCHEMA)
        .execute(pool)
        .await?;
    let fresh = Projector::for_schema(pool.clone(), REBUILD_SCHEMA);
    // Most of the work happens before the swap transaction starts: that
    // transaction holds a transaction id, and while it runs every gap-free
    // reader in the cluster waits (see `source::read_after`). Every stream
    // is derived once and written in bulk, then the projector takes what
    // was committed meanwhile.
    let mut events_applied = crate::bulk::load_from_zero(pool, REBUILD_SCHEMA).await?;
    events_applied += fresh.catch_up().await?;
    let mut tx = pool.begin().await?;
    // Waits for the live projector to finish its batch, and keeps it out
    // until the swap commits.
    sqlx::query(&format!("SELECT 1 FROM {LIVE_SCHEMA}.checkpoint FOR UPDATE"))
        .execute(&mut *tx)
        .await?;
    // With the live tables held still, bring the fresh ones at least as far,
    // so the swap never makes the answers older.
    events_applied += fresh.catch_up().await?;
    // Dropping the old tables below locks each of them exclusively, one
    // after another. A report reads the live tables one after another in
    // one transaction, checkpoint first; were the drop to lock a table the
    // report has not reached yet while the report holds one the drop has
    // not reached, each would wait for the other and PostgreSQL would
    // cancel one with `deadlock detected`. So take the checkpoint first,
    // exclusively: this waits for the reports already reading (they hold
    // it), and reports that start now wait on it while holding nothing
    // else, then read the new tables once the swap commits. Taken after
    // the last write to the fresh tables, so such a report's snapshot sees
    // them whole.
    sqlx::query(&format!("LOCK TABLE {LIVE_SCHEMA}.checkpoint IN ACCESS EXCLUSIVE MODE"))
        .execute(&mut *tx)
        .await?;
    sqlx::query(&format!("ALTER SCHEMA {LIVE_SCHEMA} RENAME TO read_models_old"))
        .execute(&mut *tx)
        .await?;
    sqlx::query(&format!("ALTER SCHEMA {REBUILD_SCHEMA} RENAME TO {LIVE_SCHEMA}"))
        .execute(&mut *tx)
        .await?;
    sqlx::query("DROP SCHEMA read_models_old CASCADE")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(RebuildReport {
        events_applied,
        checkpoint: checkpoint(pool, LIVE_SCHEMA).await?,
    })
}
