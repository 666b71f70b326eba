//! A projector far behind, in bulk: the events after the live checkpoint,
//! up to [`EVENTS_PER_CATCH_UP`], applied in one transaction with the
//! checkpoint; every stream they touch derived once and its rows replaced.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::write::write_chunk;
use super::{no_jit, Stages, Target, EVENTS_PER_CATCH_UP, RAW_COLUMNS};
use crate::projector::{lock_checkpoint, ProjectorError};

/// Applies up to [`EVENTS_PER_CATCH_UP`] events after `schema`'s checkpoint
/// in one transaction: every stream they touch derived from its whole
/// history up to the last of them and its rows replaced, then the
/// checkpoint moved. `None` when there was nothing to do (or another
/// process holds the checkpoint).
pub(crate) async fn catch_up(pool: &PgPool, schema: &str) -> Result<Option<u64>, ProjectorError> {
    let mut tx = pool.begin().await?;
    let Some(after) = lock_checkpoint(&mut tx, schema).await? else {
        return Ok(None);
    };
    let realigned = crate::ladder_edits::realign(&mut tx, schema).await?;
    // The last of the next events in commit order, as the gap-free reader
    // takes them; every event up to it has committed.
    let next: Option<(i64, i64, DateTime<Utc>, i64)> = sqlx::query_as(
        "WITH pending AS ( \
            SELECT events.transaction_id AS xid, global_position, recorded_at FROM events \
             WHERE (transaction_id, global_position) > ($1::text::xid8, $2) \
               AND transaction_id < pg_snapshot_xmin(pg_current_snapshot()) \
             ORDER BY events.transaction_id, events.global_position LIMIT $3) \
         SELECT xid::text::bigint, global_position, recorded_at, (SELECT count(*) FROM pending) \
           FROM pending ORDER BY xid DESC, global_position DESC LIMIT 1",
    )
    .bind(after.transaction_id.to_string())
    .bind(after.global_position)
    .bind(EVENTS_PER_CATCH_UP)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((until_xid, until_position, recorded_at, count)) = next else {
        if realigned.changed {
            tx.commit().await?;
        }
        return Ok(None);
    };
    // Every event of the streams touched, up to the last one taken, read on
    // another connection while this one writes.
    let (a, b, c, d) = (after.transaction_id, after.global_position, until_xid, until_position);
    let sql = format!(
        "SELECT {RAW_COLUMNS} FROM events \
          WHERE (aggregate_type, aggregate_id) IN ( \
                SELECT aggregate_type, aggregate_id FROM events \
                 WHERE (transaction_id, global_position) > ('{a}'::xid8, {b}) \
                   AND (transaction_id, global_position) <= ('{c}'::xid8, {d})) \
            AND (transaction_id, global_position) <= ('{c}'::xid8, {d}) \
          ORDER BY aggregate_type, aggregate_id, sequence"
    );
    let mut reader = pool.begin().await?;
    no_jit(&mut reader).await?;
    let target = Target {
        schema,
        levels: &realigned.levels,
        after,
    };
    let mut stages = Stages::start(reader, sql, &realigned.levels);
    let mut written = Ok(());
    while let Some(chunk) = stages.next().await {
        written = write_chunk(&mut tx, &target, chunk).await;
        if written.is_err() {
            break;
        }
    }
    stages.finish(written).await?;
    sqlx::query(&format!(
        "UPDATE {schema}.checkpoint SET transaction_id = $1, global_position = $2, last_recorded_at = $3, \
                events_applied = events_applied + $4, updated_at = clock_timestamp()"
    ))
    .bind(until_xid)
    .bind(until_position)
    .bind(recorded_at)
    .bind(count)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Some(u64::try_from(count).unwrap_or_default()))
}
