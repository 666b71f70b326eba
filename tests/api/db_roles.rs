//! The database roles (src/db/roles.rs) and the cluster's authentication
//! (src/pg_cluster/passwords.rs): the server role tenure runs as can append
//! and read the event store but not change it, disable its triggers or
//! step around them; tenure's own cluster lets nobody in without a
//! password; its password files are private; and a cluster made with
//! `trust` by an earlier tenure is upgraded on start.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use sqlx::Connection as _;
use tenure::db::roles::{OWNER_ONLY_TABLES, SERVER_TABLES};
use tenure::pg_cluster::{ClusterOptions, ManagedCluster};
use uuid::Uuid;

use crate::helpers::{fresh_database, load_demo};

/// The error of running `sql` as the server role (the pool tests get).
async fn refused(pool: &sqlx::PgPool, sql: &str) -> String {
    match sqlx::query(sql).execute(pool).await {
        Ok(_) => panic!("the server role was allowed: {sql}"),
        Err(e) => e.to_string(),
    }
}

#[tokio::test]
async fn the_server_role_may_append_and_read_events_but_never_change_them() {
    let (pool, _) = fresh_database().await;
    load_demo(&pool).await;
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(events > 0);

    for sql in [
        "UPDATE events SET event_type = 'Forged'",
        "DELETE FROM events",
        "TRUNCATE events",
        "UPDATE event_seals SET hash = hash",
        "DELETE FROM event_seals",
        "TRUNCATE event_seals",
        "UPDATE idempotency_keys SET response_status = 200",
        "DELETE FROM imports",
    ] {
        let error = refused(&pool, sql).await;
        assert!(error.contains("permission denied"), "{sql}: {error}");
    }
    for sql in [
        "ALTER TABLE events DISABLE TRIGGER events_no_update_or_delete",
        "ALTER TABLE events DISABLE TRIGGER ALL",
        "ALTER TABLE event_seals DISABLE TRIGGER ALL",
        "DROP TRIGGER events_no_update_or_delete ON events",
    ] {
        let error = refused(&pool, sql).await;
        assert!(error.contains("must be owner"), "{sql}: {error}");
    }
    let error = refused(&pool, "SET session_replication_role = replica").await;
    assert!(error.contains("permission denied"), "{error}");
    // Nor can it become a role that could, or read the passwords' verifiers.
    for sql in ["SET ROLE tenure", "SELECT rolpassword FROM pg_authid"] {
        let error = refused(&pool, sql).await;
        assert!(error.contains("permission denied"), "{sql}: {error}");
    }
    let (superuser, createrole, createdb, replication): (bool, bool, bool, bool) = sqlx::query_as(
        "SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication FROM pg_roles WHERE rolname = current_user",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(!superuser && !createrole && !createdb && !replication);

    let after: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(after, events);
}

#[tokio::test]
async fn every_table_of_the_store_is_granted_to_the_server_role_on_purpose() {
    let (pool, _) = fresh_database().await;
    let tables: Vec<String> = sqlx::query_scalar("SELECT tablename::text FROM pg_tables WHERE schemaname = 'public'")
        .fetch_all(&pool)
        .await
        .unwrap();
    for table in &tables {
        assert!(
            SERVER_TABLES.iter().any(|(t, _)| t == table) || OWNER_ONLY_TABLES.contains(&table.as_str()),
            "table {table} has no line in SERVER_TABLES (src/db/roles.rs): say what the server may do to it \
             (CONTRIBUTING.md \"Database privileges\")"
        );
    }
    // What the list says is what the role has, and nothing more.
    for (table, privileges) in SERVER_TABLES {
        for privilege in [
            "SELECT",
            "INSERT",
            "UPDATE",
            "DELETE",
            "TRUNCATE",
            "REFERENCES",
            "TRIGGER",
        ] {
            let has: bool = sqlx::query_scalar("SELECT has_table_privilege(current_user, $1, $2)")
                .bind(format!("public.{table}"))
                .bind(privilege)
                .fetch_one(&pool)
                .await
                .unwrap();
            assert_eq!(has, privileges.contains(privilege), "{privilege} on {table}");
        }
    }
    let migrations: bool = sqlx::query_scalar("SELECT has_table_privilege(current_user, '_sqlx_migrations', 'SELECT')")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(!migrations);
}

fn test_dir(name: &str) -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/tenure-test-pg")
        .join(format!("{name}-{}-{}", std::process::id(), Uuid::new_v4().simple()))
}

fn options(data_dir: PathBuf) -> ClusterOptions {
    ClusterOptions {
        data_dir,
        port: None,
        superuser: "tenure".to_string(),
        remove_on_stop: true,
        durable: false,
    }
}

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// The authentication methods `pg_hba.conf` uses (the last word of every
/// line that is not a comment).
fn hba_methods(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("pg_hba.conf"))
        .unwrap()
        .lines()
        .filter_map(|line| line.split('#').next()?.split_whitespace().last().map(str::to_string))
        .collect()
}

/// Whether `url` lets a connection in.
async fn connects(url: &str) -> bool {
    sqlx::PgConnection::connect(url).await.is_ok()
}

#[tokio::test]
async fn tenures_own_cluster_lets_nobody_in_without_the_password() {
    let dir = test_dir("scram");
    let cluster = ManagedCluster::start(options(dir.clone())).await.expect("start");
    let port = cluster.port();
    assert!(connects(&cluster.database_url("postgres")).await);
    // Any other local user knows the port and the role names, not the password.
    assert!(!connects(&format!("postgres://tenure@127.0.0.1:{port}/postgres")).await);
    assert!(!connects(&format!("postgres://tenure:guess@127.0.0.1:{port}/postgres")).await);
    let server = cluster.role_url("tenure_server", "postgres").unwrap();
    assert!(!connects(&server).await, "no such role yet");
    // The unix socket asks for it too, in a directory only the cluster's user may enter.
    if dir.join(format!(".s.PGSQL.{port}")).exists() {
        let socket = format!("postgres:///postgres?host={}&port={port}&user=tenure", dir.display());
        assert!(!connects(&socket).await);
        let with_password = format!(
            "postgres:///postgres?host={}&port={port}&user=tenure&password={}",
            dir.display(),
            std::fs::read_to_string(cluster.password_dir().join("tenure"))
                .unwrap()
                .trim()
        );
        assert!(connects(&with_password).await);
    }
    assert_eq!(mode(&dir), 0o700);
    let methods = hba_methods(&dir);
    assert!(
        !methods.is_empty() && methods.iter().all(|m| m == "scram-sha-256"),
        "{methods:?}"
    );

    // The passwords: a private directory beside the data directory, a
    // private file per role.
    let passwords = cluster.password_dir();
    assert_eq!(passwords.parent(), dir.parent());
    assert_eq!(mode(&passwords), 0o700);
    assert_eq!(mode(&passwords.join("tenure")), 0o600);
    assert_eq!(mode(&passwords.join("tenure_server")), 0o600);
    cluster.stop().await.expect("stop");
    assert!(!dir.exists() && !passwords.exists(), "both removed");
}

/// The `pg_hba.conf` `initdb --auth=trust` wrote for clusters of earlier tenures.
const TRUST_HBA: &str = "\
local   all             all                                     trust
host    all             all             127.0.0.1/32            trust
host    all             all             ::1/128                 trust
local   replication     all                                     trust
host    replication     all             127.0.0.1/32            trust
host    replication     all             ::1/128                 trust
";

#[tokio::test]
async fn a_cluster_made_with_trust_by_an_earlier_tenure_gets_passwords_on_start() {
    let dir = test_dir("trust");
    let mut opts = options(dir.clone());
    opts.remove_on_stop = false;
    // A cluster as an earlier tenure left it: trust, a superuser with no
    // password, no password files, and a table of its data.
    let cluster = ManagedCluster::start(opts.clone()).await.expect("start");
    let superuser = sqlx::PgPool::connect(&cluster.database_url("postgres")).await.unwrap();
    sqlx::query("CREATE TABLE kept (n int)")
        .execute(&superuser)
        .await
        .unwrap();
    sqlx::query("ALTER ROLE tenure PASSWORD NULL")
        .execute(&superuser)
        .await
        .unwrap();
    superuser.close().await;
    let passwords = cluster.password_dir();
    cluster.stop().await.expect("stop");
    std::fs::write(dir.join("pg_hba.conf"), TRUST_HBA).unwrap();
    std::fs::remove_dir_all(&passwords).unwrap();

    let mut opts = options(dir.clone());
    opts.remove_on_stop = true;
    let cluster = ManagedCluster::start(opts).await.expect("start the old cluster");
    let port = cluster.port();
    assert!(!connects(&format!("postgres://tenure@127.0.0.1:{port}/postgres")).await);
    let methods = hba_methods(&dir);
    assert!(
        !methods.is_empty() && methods.iter().all(|m| m == "scram-sha-256"),
        "{methods:?}"
    );
    assert_eq!(mode(&passwords.join("tenure")), 0o600);
    let superuser = sqlx::PgPool::connect(&cluster.database_url("postgres")).await.unwrap();
    sqlx::query("SELECT n FROM kept")
        .fetch_all(&superuser)
        .await
        .expect("data kept");
    superuser.close().await;
    cluster.stop().await.expect("stop");
}
