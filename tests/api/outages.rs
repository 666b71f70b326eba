//! Database outages and restarts, with real processes: `tenure serve` killed
//! with `kill -9` and started again at once, its PostgreSQL killed, an
//! external database stopped under it, and SIGTERM while the database is gone.

use std::time::{Duration, Instant};

use tenure::pg_cluster::{ClusterOptions, ManagedCluster};

use crate::server_process::{alive, postmaster_pid, signal, test_dir, timed_get, wait_for_status, TenureProcess};

/// A read of the API that needs the database: 404 while it answers.
const UNKNOWN_PARTICIPANT: &str = "/api/v1/participants/00000000-0000-0000-0000-000000000000";

#[tokio::test]
async fn a_tenure_restarted_at_once_keeps_its_new_database() {
    let dir = test_dir("restart");
    let mut tenure = TenureProcess::start_own(&dir).await;
    for delay_ms in [0, 250, 500] {
        tenure.kill9().await;
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        tenure = TenureProcess::start_own(&dir).await;
        let postmaster = postmaster_pid(&dir).expect("a running postmaster");
        // The dead process's watchdog notices within a second and acts at
        // once: give it time to do wrong.
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(
            postmaster_pid(&dir),
            Some(postmaster),
            "after a restart {delay_ms} ms after kill -9, the new server was replaced"
        );
        assert!(
            alive(postmaster),
            "after a restart {delay_ms} ms after kill -9, the new server was stopped"
        );
        let (status, ..) = timed_get(&format!("{}/healthz/ready", tenure.address), None).await;
        assert_eq!(status, 200, "ready after a restart {delay_ms} ms after kill -9");
    }
    tenure.terminate().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn tenure_brings_its_own_database_back_and_answers_503_meanwhile() {
    let dir = test_dir("heal");
    let tenure = TenureProcess::start_own(&dir).await;
    let api = format!("{}{UNKNOWN_PARTICIPANT}", tenure.address);
    let token = tenure.token.clone();
    assert_eq!(timed_get(&api, token.as_deref()).await.0, 404);

    let killed = postmaster_pid(&dir).expect("a running postmaster");
    signal("-9", killed);
    let killed_at = Instant::now();
    // A request already waiting when it died may wait for the pool; within a
    // couple of seconds the outage is known and answered at once, and the
    // process is live but not ready. (The outage lasts until PostgreSQL has
    // been started again and has replayed its log: seconds.)
    let ready = format!("{}/healthz/ready", tenure.address);
    let live = format!("{}/healthz/live", tenure.address);
    // Probes start every 50 ms and run side by side: one that waits for the
    // pool must not hide the window (a second or two on an idle machine)
    // in which the outage is known and answered at once.
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut probes = tokio::task::JoinSet::new();
    let mut fast_503 = None;
    let mut not_ready = false;
    while fast_503.is_none() && (Instant::now() < deadline || !probes.is_empty()) {
        if Instant::now() < deadline {
            let (api, ready, live, token) = (api.clone(), ready.clone(), live.clone(), token.clone());
            probes.spawn(async move {
                let answer = timed_get(&api, token.as_deref()).await;
                let ready = timed_get(&ready, None).await.0;
                let live = timed_get(&live, None).await.0;
                (answer, ready, live)
            });
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        while let Some(done) = probes.try_join_next() {
            let ((status, retry_after, body, took), ready, live) = done.expect("a probe");
            if status == 503 && took < Duration::from_secs(1) {
                assert_eq!(body["error"], "database_unavailable", "{body}");
                assert_eq!(retry_after.as_deref(), Some("5"));
                assert_eq!(live, 200, "/healthz/live during the outage");
                fast_503.get_or_insert(took);
            } else {
                assert!(status == 503 || status == 404, "{status} {body}");
            }
            not_ready |= ready == 503;
        }
    }
    probes.abort_all();
    let took = fast_503.expect("an immediate 503 while the database was down");
    eprintln!("own cluster killed: 503 in {took:?}");
    assert!(not_ready, "/healthz/ready answered 503 during the outage");

    // tenure starts its cluster again by itself.
    wait_for_status(&api, token.as_deref(), 404, Duration::from_secs(60)).await;
    eprintln!("own cluster back after {:?}", killed_at.elapsed());
    assert_eq!(timed_get(&ready, None).await.0, 200);
    let restarted = postmaster_pid(&dir).expect("running again");
    assert_ne!(restarted, killed);
    tenure.terminate().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_lost_external_database_is_a_fast_503_and_sigterm_still_exits_promptly() {
    let dir = test_dir("external");
    let cluster = ManagedCluster::start(ClusterOptions {
        data_dir: dir.join("pg"),
        port: None,
        superuser: "tenure".to_string(),
        remove_on_stop: true,
        durable: false,
    })
    .await
    .expect("start a cluster");
    tenure::db::create_database_if_missing(&cluster.database_url("postgres"), "tenure")
        .await
        .expect("create database");
    let url = cluster.database_url("tenure");
    let tenure = TenureProcess::start(&[("DATABASE_URL", &url)], &[], &dir.with_extension("log")).await;
    let api = format!("{}{UNKNOWN_PARTICIPANT}", tenure.address);
    let token = tenure.token.clone();
    assert_eq!(timed_get(&api, token.as_deref()).await.0, 404);

    cluster.stop().await.expect("stop the database");
    wait_for_status(&api, token.as_deref(), 503, Duration::from_secs(10)).await;
    let (status, retry_after, body, took) = timed_get(&api, token.as_deref()).await;
    assert_eq!((status, body["error"].as_str()), (503, Some("database_unavailable")));
    assert!(retry_after.is_some());
    assert!(took < Duration::from_secs(1), "a 503 during an outage took {took:?}");

    eprintln!("external database gone: 503 in {took:?}");
    let exit = tenure.terminate().await;
    eprintln!("SIGTERM with the database gone: exit in {exit:?}");
    assert!(
        exit < Duration::from_secs(5),
        "SIGTERM took {exit:?} with the database gone"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
