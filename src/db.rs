//! Connecting to PostgreSQL: the configured one, or a cluster of our own.

use std::path::Path;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection as _, PgPool};

use crate::pg_cluster::{ClusterOptions, ManagedCluster};

/// Migrations under `migrations/`, compiled into the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// A database to work in, and the cluster behind it when tenure manages one.
pub struct Database {
    pub pool: PgPool,
    pub url: String,
    /// Present when tenure started its own cluster; stop it on exit.
    pub cluster: Option<ManagedCluster>,
}

/// Why the database could not be made ready.
#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    #[error(transparent)]
    Cluster(#[from] crate::pg_cluster::ClusterError),
    #[error("cannot connect to PostgreSQL at {url}: {source}")]
    Connect { url: String, source: sqlx::Error },
    #[error("cannot apply migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Sql(#[from] sqlx::Error),
}

/// How long the database may keep a request waiting. A zero duration turns
/// the PostgreSQL setting off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest wait for a pooled connection (the pool is full, or the
    /// database does not answer).
    pub acquire_timeout: Duration,
    /// PostgreSQL `statement_timeout` on every pooled connection.
    pub statement_timeout: Duration,
    /// PostgreSQL `lock_timeout` on every pooled connection: a statement
    /// that waits longer for a lock fails (and the API answers 503) rather
    /// than hanging every command behind the holder.
    pub lock_timeout: Duration,
}

impl Limits {
    /// The PostgreSQL settings every pooled connection starts with.
    fn settings(&self) -> [(&'static str, String); 2] {
        let ms = |d: Duration| d.as_millis().to_string();
        [
            ("statement_timeout", ms(self.statement_timeout)),
            ("lock_timeout", ms(self.lock_timeout)),
        ]
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            acquire_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(30),
            lock_timeout: Duration::from_secs(5),
        }
    }
}

/// Connections in the main pool: commands, history, health, the projector
/// and rebuilds. Reports read through a pool of their own
/// ([`connect_reports`]), so they can never take these.
pub const COMMAND_POOL_SIZE: u32 = 20;

/// The pool reports read through: `size` connections (one per report slot)
/// to the same database as `commands`, with the same settings (statement
/// and lock timeouts) and acquire timeout. Opened lazily, so a server that
/// is never asked for a report holds no extra connections.
pub fn connect_reports(commands: &PgPool, size: u32) -> PgPool {
    PgPoolOptions::new()
        .max_connections(size.max(1))
        .acquire_timeout(commands.options().get_acquire_timeout())
        .connect_lazy_with((*commands.connect_options()).clone())
}

/// The pool reports read through on a streaming replica at `url`: `size`
/// connections with `limits` (statement and lock timeouts, acquire
/// timeout), opened lazily so that tenure starts while a replica is down.
pub fn connect_replica(url: &str, size: u32, limits: &Limits) -> Result<PgPool, sqlx::Error> {
    let options = <PgConnectOptions as std::str::FromStr>::from_str(url)?.options(limits.settings());
    Ok(PgPoolOptions::new()
        .max_connections(size.max(1))
        .acquire_timeout(limits.acquire_timeout)
        .connect_lazy_with(options))
}

/// Opens a pool with bounded waits, so a dead database fails requests
/// quickly instead of hanging them. Sets no statement or lock timeout (the
/// test harness and tools use it); `tenure` itself uses [`connect_with`].
pub async fn connect(url: &str, max_connections: u32) -> Result<PgPool, DatabaseError> {
    open_pool(url, max_connections, Duration::from_secs(10), |options| options).await
}

/// Like [`connect`], with `limits` on every connection.
pub async fn connect_with(url: &str, max_connections: u32, limits: &Limits) -> Result<PgPool, DatabaseError> {
    open_pool(url, max_connections, limits.acquire_timeout, |options| {
        options.options(limits.settings())
    })
    .await
}

async fn open_pool(
    url: &str,
    max_connections: u32,
    acquire_timeout: Duration,
    configure: impl FnOnce(PgConnectOptions) -> PgConnectOptions,
) -> Result<PgPool, DatabaseError> {
    let pool = match url.parse::<PgConnectOptions>() {
        Ok(options) => {
            PgPoolOptions::new()
                .max_connections(max_connections)
                .acquire_timeout(acquire_timeout)
                .connect_with(configure(options))
                .await
        }
        Err(e) => Err(e),
    };
    pool.map_err(|source| DatabaseError::Connect {
        url: redact(url),
        source,
    })
}

/// Applies the migrations on a connection of their own without the pool's
/// statement and lock timeouts: a long migration is not a stuck request.
async fn migrate(pool: &PgPool) -> Result<(), DatabaseError> {
    let mut conn = pool.acquire().await?.detach();
    sqlx::query("SET statement_timeout = 0").execute(&mut conn).await?;
    sqlx::query("SET lock_timeout = 0").execute(&mut conn).await?;
    MIGRATOR.run(&mut conn).await?;
    conn.close().await?;
    Ok(())
}

/// Uses `database_url` when given; otherwise starts (or reuses) tenure's own
/// cluster under `data_dir` and its `tenure` database. Applies migrations.
/// Every pooled connection gets `limits`.
pub async fn open(database_url: Option<&str>, data_dir: &Path, limits: &Limits) -> Result<Database, DatabaseError> {
    let (url, cluster) = match database_url {
        Some(url) => (url.to_string(), None),
        None => {
            let cluster = ManagedCluster::start(ClusterOptions {
                data_dir: data_dir.join("pg"),
                port: None,
                superuser: "tenure".to_string(),
                remove_on_stop: false,
                durable: true,
            })
            .await?;
            create_database_if_missing(&cluster.database_url("postgres"), "tenure").await?;
            (cluster.database_url("tenure"), Some(cluster))
        }
    };
    let pool = connect_with(&url, COMMAND_POOL_SIZE, limits).await?;
    migrate(&pool).await?;
    Ok(Database { pool, url, cluster })
}

/// Creates `name` through the maintenance database unless it exists.
pub async fn create_database_if_missing(maintenance_url: &str, name: &str) -> Result<(), DatabaseError> {
    let admin = connect(maintenance_url, 1).await?;
    let exists: Option<(i32,)> = sqlx::query_as("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(name)
        .fetch_optional(&admin)
        .await?;
    if exists.is_none() {
        sqlx::query(&format!("CREATE DATABASE \"{}\"", name.replace('"', "")))
            .execute(&admin)
            .await?;
    }
    admin.close().await;
    Ok(())
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_are_hidden_from_messages() {
        assert_eq!(redact("postgres://u:secret@h:5432/d"), "postgres://u:***@h:5432/d");
        assert_eq!(redact("postgres://u@h/d"), "postgres://u@h/d");
    }
}
