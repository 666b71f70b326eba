//! The projector: a crash at any point neither loses nor doubles an event,
//! two projectors never apply one batch twice, and the tables equal a replay.

use std::time::Duration;

use projections::projector::{checkpoint, Projector, LIVE_SCHEMA};

use crate::helpers::{fresh_database, load_demo};

#[tokio::test]
async fn a_projector_killed_mid_batch_resumes_without_losing_or_doubling_events() {
    let (pool, _) = fresh_database().await;
    load_demo(&pool).await;
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&pool)
        .await
        .unwrap();

    // Kill projector tasks at varying points: an aborted task drops its
    // transaction, as a crashed process would.
    for i in 0..25u64 {
        let projector = Projector::live(pool.clone()).with_batch_size(9);
        let task = tokio::spawn(async move { projector.catch_up().await });
        tokio::time::sleep(Duration::from_millis(3 + i % 7)).await;
        task.abort();
        let _ = task.await;
    }
    let partial = checkpoint(&pool, LIVE_SCHEMA).await.unwrap();
    assert!(partial.events_applied < total, "the crashes stopped it part way");

    // Two projectors resume at once; the checkpoint lock keeps them apart.
    let a = Projector::live(pool.clone()).with_batch_size(9);
    let b = Projector::live(pool.clone()).with_batch_size(9);
    let (ra, rb) = tokio::join!(a.catch_up(), b.catch_up());
    ra.unwrap();
    rb.unwrap();
    Projector::live(pool.clone()).catch_up().await.unwrap();

    let done = checkpoint(&pool, LIVE_SCHEMA).await.unwrap();
    assert_eq!(done.events_applied, total, "every event applied exactly once");
    let (tables, _) = projections::tables::load_dataset(&pool, LIVE_SCHEMA).await.unwrap();
    let (replayed, _) = projections::replay::dataset_known_at(&pool, None).await.unwrap();
    assert_eq!(tables, replayed);
}
