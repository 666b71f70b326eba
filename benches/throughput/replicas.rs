//! Report throughput from streaming replicas: the same leavers report read
//! by four tasks for a fixed time from the primary, then from one and from
//! two hot standbys (`ManagedCluster::start_replica`), taken in turn as
//! `--read-database-url` takes them. On one machine the standbys share its
//! cores with the primary, so this shows the cost of the replica path
//! (waits, a second server), not the scale-out a second machine gives.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::PgPool;
use tenure::pg_cluster::{ClusterOptions, ManagedCluster};
use tenure::reports::{produce_from, ReportKind, ReportSource};

use crate::workload::{leavers_query, BoxError};

/// Tasks reading reports at once.
const READERS: usize = 4;
/// How long each configuration is measured.
const WINDOW: Duration = Duration::from_secs(5);

/// Reports per second from the primary, from one replica and from two.
pub(crate) async fn report_rates(primary: &ManagedCluster, pool: &PgPool, dir: &Path) -> Result<[f64; 3], BoxError> {
    let mut standbys = Vec::new();
    let mut pools = Vec::new();
    for k in 1..=2 {
        let standby = ManagedCluster::start_replica(
            ClusterOptions {
                data_dir: dir.join(format!("replica-{k}")),
                port: None,
                superuser: "tenure".to_string(),
                remove_on_stop: true,
                durable: false,
            },
            primary,
        )
        .await?;
        pools.push(tenure::db::connect(&standby.database_url("tenure_bench"), READERS as u32 + 2).await?);
        standbys.push(standby);
    }
    let rates = async {
        for replica in &pools {
            caught_up(pool, replica).await?;
        }
        let primary_only = vec![ReportSource::primary(pool.clone())];
        let one = vec![ReportSource::replica(pool.clone(), pools[0].clone())];
        let two = pools
            .iter()
            .map(|r| ReportSource::replica(pool.clone(), r.clone()))
            .collect();
        let mut rates = [0.0; 3];
        for (rate, sources) in rates.iter_mut().zip([primary_only, one, two]) {
            *rate = reports_per_second(sources).await?;
        }
        Ok::<_, BoxError>(rates)
    }
    .await;
    for replica in pools {
        replica.close().await;
    }
    for standby in standbys {
        standby.stop().await?;
    }
    rates
}

/// Waits until `replica` has replayed everything the primary has written.
async fn caught_up(primary: &PgPool, replica: &PgPool) -> Result<(), BoxError> {
    let lsn: String = sqlx::query_scalar("SELECT pg_current_wal_lsn()::text")
        .fetch_one(primary)
        .await?;
    for _ in 0..6000 {
        let done: Option<bool> = sqlx::query_scalar("SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn")
            .bind(&lsn)
            .fetch_one(replica)
            .await?;
        if done == Some(true) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Err("a replica did not catch up with the primary within a minute".into())
}

/// Leavers reports per second read by [`READERS`] tasks from `sources` in
/// turn for [`WINDOW`].
async fn reports_per_second(sources: Vec<ReportSource>) -> Result<f64, BoxError> {
    let sources: Arc<[ReportSource]> = sources.into();
    let next = Arc::new(AtomicUsize::new(0));
    let read = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let readers: Vec<_> = (0..READERS)
        .map(|_| {
            let (sources, next, read) = (sources.clone(), next.clone(), read.clone());
            tokio::spawn(async move {
                while started.elapsed() < WINDOW {
                    let source = &sources[next.fetch_add(1, Ordering::Relaxed) % sources.len()];
                    produce_from(source, ReportKind::Leavers, &leavers_query(None))
                        .await
                        .map_err(|e| e.to_string())?;
                    read.fetch_add(1, Ordering::Relaxed);
                }
                Ok::<_, String>(())
            })
        })
        .collect();
    for reader in readers {
        reader.await??;
    }
    Ok(read.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64())
}
