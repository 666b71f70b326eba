//! Unit tests of the managed cluster: real PostgreSQL clusters started,
//! reused, attached to, orphaned and stopped (by `stop` and by the watchdog),
//! plus the binary search, version ordering and shell quoting helpers.

use std::net::{Ipv4Addr, TcpListener};
use std::os::unix::fs::PermissionsExt;

use sqlx::postgres::PgPoolOptions;

use super::binaries::{find_server_binaries_in, version_key, SearchPath};
use super::process::{pid_alive, shell_quote};
use super::*;

fn test_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/tenure-test-pg")
        .join(format!(
            "unit-{name}-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ))
}

fn options(data_dir: PathBuf, remove_on_stop: bool) -> ClusterOptions {
    ClusterOptions {
        data_dir,
        port: None,
        superuser: "tenure".to_string(),
        remove_on_stop,
        durable: false,
    }
}

/// A pool of one connection to `url`.
async fn one_connection(url: &str) -> sqlx::PgPool {
    PgPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await
        .expect("connect")
}

async fn select_one(url: &str) -> i32 {
    let pool = one_connection(url).await;
    let (one,): (i32,) = sqlx::query_as("SELECT 1").fetch_one(&pool).await.expect("select");
    pool.close().await;
    one
}

#[tokio::test]
async fn starts_serves_stops_and_cleans_up() {
    let dir = test_dir("basic");
    let cluster = ManagedCluster::start(options(dir.clone(), true)).await.expect("start");
    let port = cluster.port();
    let password = std::fs::read_to_string(cluster.password_dir().join("tenure")).expect("password file");
    assert_eq!(
        cluster.database_url("postgres"),
        format!("postgres://tenure:{}@127.0.0.1:{port}/postgres", password.trim())
    );
    assert_eq!(select_one(&cluster.database_url("postgres")).await, 1);
    cluster.stop().await.expect("stop");
    assert!(!dir.exists(), "data dir removed");
    TcpListener::bind((Ipv4Addr::LOCALHOST, port)).expect("port free again");
}

#[tokio::test]
async fn reuses_its_data_dir_and_attaches_to_a_live_owners_server() {
    let dir = test_dir("reuse");
    let first = ManagedCluster::start(options(dir.clone(), false)).await.expect("start");
    let pool = one_connection(&first.database_url("postgres")).await;
    sqlx::query("CREATE TABLE kept (n int)")
        .execute(&pool)
        .await
        .expect("create");
    pool.close().await;

    // Its owner (this process) is alive: a second start attaches, and
    // stopping the attached one leaves the server running.
    let attached = ManagedCluster::start(options(dir.clone(), true)).await.expect("attach");
    assert_eq!(attached.port(), first.port());
    attached.stop().await.expect("stop attached");
    assert!(dir.exists());
    assert_eq!(select_one(&first.database_url("postgres")).await, 1);
    first.stop().await.expect("stop");
    assert!(dir.join("PG_VERSION").exists(), "kept without remove_on_stop");

    let again = ManagedCluster::start(options(dir.clone(), true))
        .await
        .expect("restart");
    let pool = one_connection(&again.database_url("postgres")).await;
    sqlx::query("SELECT n FROM kept")
        .fetch_all(&pool)
        .await
        .expect("table survived the restart");
    pool.close().await;
    again.stop().await.expect("stop");
    assert!(!dir.exists());
}

#[tokio::test]
async fn watchdog_stops_and_removes_the_cluster_when_its_owner_dies() {
    let dir = test_dir("watchdog");
    let cluster = ManagedCluster::start(options(dir.clone(), true)).await.expect("start");
    let port = cluster.port();
    // A stand-in owner that dies after a second.
    let mut owner = std::process::Command::new("sleep")
        .arg("1")
        .spawn()
        .expect("spawn sleep");
    cluster.ctx.write_owner_file(owner.id()).expect("record the owner");
    let mut watchdog = spawn_watchdog(&cluster.ctx, owner.id(), true).expect("watchdog");
    owner.wait().expect("owner exits");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while dir.exists() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(!dir.exists(), "the watchdog removed the data dir");
    watchdog.wait().expect("watchdog exits by itself");
    TcpListener::bind((Ipv4Addr::LOCALHOST, port)).expect("port free again");
    // Stopping a cluster its watchdog already stopped is fine.
    cluster.stop().await.expect("stop after the watchdog");
}

#[tokio::test]
async fn a_watchdog_leaves_alone_a_server_its_owner_did_not_start() {
    let dir = test_dir("successor");
    let cluster = ManagedCluster::start(options(dir.clone(), true)).await.expect("start");
    // A stand-in owner that dies after two seconds, with its watchdog.
    let mut owner = std::process::Command::new("sleep")
        .arg("2")
        .spawn()
        .expect("spawn sleep");
    cluster.ctx.write_owner_file(owner.id()).expect("record the owner");
    let mut watchdog = spawn_watchdog(&cluster.ctx, owner.id(), false).expect("watchdog");
    // Before it dies, a successor (this process) replaces its server with one
    // of its own on the same port, as a tenure restarted at once would.
    let first = cluster.ctx.running_postmaster_pid().expect("running");
    cluster.ctx.pg_ctl_stop("fast").await.expect("stop");
    cluster
        .ctx
        .pg_ctl_start(cluster.port(), false)
        .await
        .expect("start again");
    cluster
        .ctx
        .write_owner_file(std::process::id())
        .expect("record the successor");
    let second = cluster.ctx.running_postmaster_pid().expect("running again");
    assert_ne!(first, second);

    owner.wait().expect("owner exits");
    watchdog.wait().expect("the watchdog exits once its owner is gone");
    assert!(pid_alive(second), "the successor's server still runs");
    assert_eq!(select_one(&cluster.database_url("postgres")).await, 1);
    cluster.stop().await.expect("stop");
}

#[tokio::test]
async fn a_stopped_server_is_started_again_on_the_same_port() {
    let dir = test_dir("heal");
    let cluster = ManagedCluster::start(options(dir.clone(), true)).await.expect("start");
    assert!(
        !cluster.ensure_running().await.expect("check"),
        "nothing to do while it runs"
    );
    cluster.ctx.pg_ctl_stop("immediate").await.expect("stop");
    assert!(cluster.ensure_running().await.expect("heal"), "started again");
    assert_eq!(select_one(&cluster.database_url("postgres")).await, 1);
    cluster.stop().await.expect("stop");
}

#[tokio::test]
async fn an_orphaned_server_is_stopped_and_started_afresh() {
    let dir = test_dir("orphan");
    let mut orphan = ManagedCluster::start(options(dir.clone(), true)).await.expect("start");
    // Make it an orphan: its owner is a process that has exited, and
    // nothing else will stop it.
    let mut dead = std::process::Command::new("true").spawn().expect("true");
    let dead_pid = dead.id();
    dead.wait().expect("exits");
    std::fs::write(dir.join(OWNER_FILE), format!("{dead_pid}\n")).unwrap();
    if let Some(mut watchdog) = orphan.watchdog.take() {
        watchdog.kill().unwrap();
        watchdog.wait().unwrap();
    }
    orphan.owned = false;
    let old_pid = orphan.ctx.running_postmaster_pid().expect("running");

    let fresh = ManagedCluster::start(ClusterOptions {
        port: None,
        ..options(dir.clone(), true)
    })
    .await
    .expect("restart");
    assert_ne!(fresh.ctx.running_postmaster_pid(), Some(old_pid));
    assert!(!pid_alive(old_pid), "the orphan was stopped");
    assert_eq!(select_one(&fresh.database_url("postgres")).await, 1);
    fresh.stop().await.expect("stop");
    orphan.stop().await.expect("nothing to do");
    assert!(!dir.exists());
}

#[test]
fn a_cluster_can_live_in_a_static() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<ManagedCluster>();
    send_sync::<ClusterError>();
}

#[test]
fn missing_binaries_say_how_to_install_them() {
    let nowhere = test_dir("nowhere");
    let err = find_server_binaries_in(&SearchPath {
        path_dirs: vec![],
        debian_root: nowhere.join("lib/postgresql"),
        pgsql_parent: nowhere.clone(),
    })
    .expect_err("nothing to find");
    assert!(matches!(err, ClusterError::BinariesNotFound));
    let message = err.to_string();
    assert!(message.contains("initdb, pg_ctl"), "{message}");
    assert!(message.contains("apt-get install postgresql"), "{message}");
    assert!(message.contains("DATABASE_URL"), "{message}");
    assert!(!message.contains('\n'), "one line: {message}");
    assert_eq!(message.matches(". ").count(), 0, "one sentence: {message}");
    assert!(message.ends_with('.'), "{message}");
}

#[test]
fn picks_the_highest_installed_version() {
    let root = test_dir("versions");
    for version in ["9.6", "15", "12"] {
        let bin = root.join("lib/postgresql").join(version).join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        for exe in ["initdb", "pg_ctl", "postgres"] {
            std::fs::write(bin.join(exe), "#!/bin/sh\n").unwrap();
            std::fs::set_permissions(bin.join(exe), std::fs::Permissions::from_mode(0o755)).unwrap();
        }
    }
    // Not executable: ignored.
    let broken = root.join("lib/postgresql/99/bin");
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::write(broken.join("pg_ctl"), "").unwrap();
    std::fs::write(broken.join("initdb"), "").unwrap();
    let found = find_server_binaries_in(&SearchPath {
        path_dirs: vec![root.join("empty")],
        debian_root: root.join("lib/postgresql"),
        pgsql_parent: root.clone(),
    })
    .expect("found");
    assert_eq!(found, root.join("lib/postgresql/15/bin"));
    std::fs::remove_dir_all(&root).unwrap();
    assert_eq!(version_key("9.6"), vec![9, 6]);
    assert_eq!(version_key("17beta1"), vec![17]);
}

#[test]
fn shell_quoting_survives_quotes() {
    assert_eq!(shell_quote("a b"), "'a b'");
    assert_eq!(shell_quote("it's"), r"'it'\''s'");
}

#[tokio::test]
async fn as_root_a_symlinked_or_foreign_data_dir_is_refused_untouched() {
    use std::os::unix::fs::MetadataExt as _;
    if !effective_uid_is_root() {
        return; // Nothing is handed over when not root.
    }
    let base = test_dir("symlink");
    let target = base.join("someone-elses");
    std::fs::create_dir_all(&target).unwrap();
    std::fs::write(target.join("precious"), "x").unwrap();
    let link = base.join("pg");
    std::os::unix::fs::symlink(&target, &link).unwrap();

    let err = ManagedCluster::start(options(link, false)).await.unwrap_err();
    assert!(matches!(err, ClusterError::SymlinkDataDir(_)), "{err}");
    // Given directly, the non-empty directory is refused before any chown.
    let err = ManagedCluster::start(options(target.clone(), false)).await.unwrap_err();
    assert!(matches!(err, ClusterError::NotADataDir(_)), "{err}");
    assert_eq!(
        std::fs::metadata(&target).unwrap().uid(),
        0,
        "the directory stayed root's"
    );
    assert_eq!(std::fs::metadata(target.join("precious")).unwrap().uid(), 0);
    std::fs::remove_dir_all(&base).unwrap();
}
