//! The `COPY` anchor, shared by both benches (`throughput` and `import`):
//! PostgreSQL's own bulk load of tenure's event rows, the same bytes.

use std::time::{Duration, Instant};

use futures::TryStreamExt;
use sqlx::PgPool;

/// `COPY` of tenure's own event rows (the same bytes) into a scratch table
/// with the same columns and indexes; returns rows copied and the time of
/// the `COPY` alone (the rows are read out beforehand).
pub(crate) async fn copy_events(pool: &PgPool) -> Result<(u64, Duration), Box<dyn std::error::Error + Send + Sync>> {
    let mut conn = pool.acquire().await?;
    sqlx::query("DROP TABLE IF EXISTS bench_events_copy")
        .execute(&mut *conn)
        .await?;
    sqlx::query("CREATE TABLE bench_events_copy (LIKE events INCLUDING ALL)")
        .execute(&mut *conn)
        .await?;
    const COLUMNS: &str = "aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata, \
                           transaction_id, recorded_at";
    let data: Vec<u8> = conn
        .copy_out_raw(&format!("COPY (SELECT {COLUMNS} FROM events) TO STDOUT"))
        .await?
        .try_fold(Vec::new(), |mut all, chunk| async move {
            all.extend_from_slice(&chunk);
            Ok(all)
        })
        .await?;
    let started = Instant::now();
    let mut copy = conn
        .copy_in_raw(&format!("COPY bench_events_copy ({COLUMNS}) FROM STDIN"))
        .await?;
    for chunk in data.chunks(1 << 20) {
        copy.send(chunk).await?;
    }
    let rows = copy.finish().await?;
    let took = started.elapsed();
    sqlx::query("DROP TABLE bench_events_copy").execute(&mut *conn).await?;
    Ok((rows, took))
}
