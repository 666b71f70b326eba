//! Reports served from a streaming replica (`--read-database-url`): a real
//! hot standby made with `pg_basebackup` from a real primary. Commands go to
//! the primary; a report that must see a write waits for the replica
//! (`min_position`, `known_at`), bounded, then 503; and a replica that has
//! stopped replaying is visibly behind, never silently stale.

use std::time::Duration;

use tenure::pg_cluster::{ClusterOptions, ManagedCluster};

use crate::helpers::reports::{cell, csv_rows, encode, row};
use crate::helpers::TestApp;
use crate::server_process::{test_dir, TenureProcess};

fn options(dir: std::path::PathBuf) -> ClusterOptions {
    ClusterOptions {
        data_dir: dir,
        port: None,
        superuser: "tenure".to_string(),
        remove_on_stop: true,
        durable: false,
    }
}

/// Leavers of Riverside in April–September 2019, as the CSV total.
async fn leavers(app: &TestApp, wait: &str) -> (u16, String) {
    let reply = app
        .report(
            "leavers",
            &format!("organisation=Riverside&from=2019-04-01&to=2019-09-30&format=csv&{wait}"),
        )
        .await;
    if reply.status != 200 {
        return (reply.status, reply.str("error"));
    }
    let rows = csv_rows(&reply.text);
    (200, cell(row(&rows, "role_code", "total"), "after_leavers").to_string())
}

#[tokio::test]
async fn reports_read_from_a_replica_wait_for_it_and_say_when_it_is_behind() {
    let dir = test_dir("replica");
    let primary = ManagedCluster::start(options(dir.join("primary")))
        .await
        .expect("start the primary");
    tenure::db::create_database_if_missing(&primary.database_url("postgres"), "tenure")
        .await
        .expect("create database");
    let replica = ManagedCluster::start_replica(options(dir.join("replica")), &primary)
        .await
        .expect("start a standby of the primary");
    let (url, replica_url) = (primary.database_url("tenure"), replica.database_url("tenure"));
    let standby = tenure::db::connect(&replica_url, 1)
        .await
        .expect("connect to the standby");
    let in_recovery: bool = sqlx::query_scalar("SELECT pg_is_in_recovery()")
        .fetch_one(&standby)
        .await
        .unwrap();
    assert!(in_recovery, "the replica is a hot standby");

    let tenure = TenureProcess::start(
        &[("DATABASE_URL", &url)],
        &["--read-database-url", &replica_url],
        &dir.with_extension("log"),
    )
    .await;
    let app = TestApp {
        address: tenure.address.clone(),
        pool: tenure::db::connect(&url, 2).await.expect("connect to the primary"),
        client: reqwest::Client::builder()
            .default_headers(tenure.auth_headers())
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap(),
    };

    // A leaver recorded on the primary is read on the replica once it has
    // caught up with the position the command answered.
    let ann = app.register("R-1", "Riverside", "social_worker", "2018-01-01").await;
    let left = app.leave(&ann, "2019-05-01").await;
    let position = left.body["global_position"].as_i64().unwrap();
    assert_eq!(
        leavers(&app, &format!("min_position={position}&wait_ms=20000")).await,
        (200, "1".to_string())
    );

    // The replica stops replaying: the next leaver is on the primary only.
    sqlx::query("SELECT pg_wal_replay_pause()")
        .execute(&standby)
        .await
        .unwrap();
    let bob = app.register("R-2", "Riverside", "social_worker", "2018-01-01").await;
    let left = app.leave(&bob, "2019-06-01").await;
    let (position, recorded_at) = (left.body["global_position"].as_i64().unwrap(), left.str("recorded_at"));
    // Without a position the replica answers what it has: one leaver, and
    // its provenance says how far that is.
    let stale = app
        .report("leavers", "organisation=Riverside&from=2019-04-01&to=2019-09-30")
        .await;
    assert_eq!(stale.status, 200, "{}", stale.body);
    assert!(stale.body["provenance"]["last_global_position"].as_i64().unwrap() < position);
    // Asked to see the write, it waits, then says it is behind.
    assert_eq!(
        leavers(&app, &format!("min_position={position}&wait_ms=300")).await,
        (503, "projection_behind".to_string())
    );
    let known_at = format!("known_at={}&wait_ms=300", encode(&recorded_at));
    assert_eq!(leavers(&app, &known_at).await, (503, "replica_behind".to_string()));

    // Replaying again, it catches up and both answers include the write.
    sqlx::query("SELECT pg_wal_replay_resume()")
        .execute(&standby)
        .await
        .unwrap();
    assert_eq!(
        leavers(&app, &format!("min_position={position}&wait_ms=20000")).await,
        (200, "2".to_string())
    );
    let known_at = format!("known_at={}&wait_ms=20000", encode(&recorded_at));
    assert_eq!(leavers(&app, &known_at).await, (200, "2".to_string()));

    tenure.terminate().await;
    standby.close().await;
    app.pool.close().await;
    replica.stop().await.expect("stop the standby");
    primary.stop().await.expect("stop the primary");
    let _ = std::fs::remove_dir_all(&dir);
}
