//! Connecting to PostgreSQL: the configured one, or a cluster of our own,
//! migrating it as the owner and serving as the server role ([`roles`]).

pub mod roles;

use std::path::Path;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection as _, PgPool};

use crate::pg_cluster::{ClusterOptions, ManagedCluster};

/// Migrations under `migrations/`, compiled into the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// A database to work in, and the cluster behind it when tenure manages one.
pub struct Database {
    /// Connections as the server role: everything the application does.
    pub pool: PgPool,
    /// The server role's URL (with its password).
    pub url: String,
    /// The owner's URL, which migrations ran with: for administration
    /// (`tenure sql-role`), never for serving. In tenure's own cluster the
    /// superuser's; with only `DATABASE_URL`, the same as `url`.
    pub owner_url: String,
    /// The role names grants were made to.
    pub roles: roles::Roles,
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

impl Database {
    /// A small pool as the owner, for administration the server role may
    /// not do (creating and revoking tokens); close it when done.
    pub async fn owner_pool(&self) -> Result<PgPool, DatabaseError> {
        connect(&self.owner_url, 2).await
    }
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

/// Connects to `owner_url` alone, without the pool's statement and lock
/// timeouts: a long migration is not a stuck request.
async fn owner_connection(owner_url: &str) -> Result<sqlx::PgConnection, DatabaseError> {
    let mut conn = sqlx::PgConnection::connect(owner_url)
        .await
        .map_err(|source| DatabaseError::Connect {
            url: redact(owner_url),
            source,
        })?;
    sqlx::query("SET statement_timeout = 0").execute(&mut conn).await?;
    sqlx::query("SET lock_timeout = 0").execute(&mut conn).await?;
    Ok(conn)
}

/// Uses `database_url` when given; otherwise starts (or reuses) tenure's own
/// cluster under `data_dir` and its `tenure` database. Applies migrations.
/// Every pooled connection gets `limits`. The same as [`open_with_owner`]
/// without an owner URL.
pub async fn open(database_url: Option<&str>, data_dir: &Path, limits: &Limits) -> Result<Database, DatabaseError> {
    open_with_owner(database_url, None, data_dir, limits).await
}

/// Opens the database with the owner and server roles split
/// ([`roles`]): migrates as the owner, grants the server role what it
/// needs, and returns a pool connected as the server role.
///
/// - `database_url` unset: tenure's own cluster under `data_dir`; the
///   owner is its superuser, the server role [`roles::MANAGED_SERVER_ROLE`]
///   (created on first use, its password kept beside the cluster).
/// - `database_url` and `owner_url`: migrations and grants as the owner,
///   serving as the role of `database_url` (created by whoever runs that
///   server: docs/operations.md "Database roles on your own server").
/// - `database_url` alone: as before the split, migrating and serving as
///   that one role, with a warning that the server runs with owner rights.
pub async fn open_with_owner(
    database_url: Option<&str>,
    owner_url: Option<&str>,
    data_dir: &Path,
    limits: &Limits,
) -> Result<Database, DatabaseError> {
    let (url, owner_url, roles, cluster) = match (database_url, owner_url) {
        (None, _) => {
            let cluster = ManagedCluster::start(ClusterOptions {
                data_dir: data_dir.join("pg"),
                port: None,
                superuser: "tenure".to_string(),
                remove_on_stop: false,
                durable: true,
            })
            .await?;
            create_database_if_missing(&cluster.database_url("postgres"), "tenure").await?;
            let owner_url = cluster.database_url("tenure");
            let roles = roles::Roles::managed();
            let mut conn = owner_connection(&owner_url).await?;
            roles::ensure_login_role(&mut conn, &roles.server, &cluster.role_password(&roles.server)?).await?;
            conn.close().await?;
            (
                cluster.role_url(&roles.server, "tenure")?,
                owner_url,
                roles,
                Some(cluster),
            )
        }
        (Some(url), Some(owner_url)) => {
            let (server, _) = role_of(url).await?;
            (
                url.to_string(),
                owner_url.to_string(),
                roles::Roles::for_server(&server),
                None,
            )
        }
        (Some(url), None) => {
            let (server, may_create_tables) = role_of(url).await?;
            if !may_create_tables {
                // The server role of a split set-up, given without the
                // owner's URL: someone else migrates.
                tracing::info!(
                    role = %server,
                    "DATABASE_URL's role may not create tables: not applying migrations (run `tenure migrate` \
                     with TENURE_OWNER_DATABASE_URL after upgrading tenure)"
                );
                let pool = connect_with(url, COMMAND_POOL_SIZE, limits).await?;
                return Ok(Database {
                    pool,
                    url: url.to_string(),
                    owner_url: url.to_string(),
                    roles: roles::Roles::for_server(&server),
                    cluster: None,
                });
            }
            tracing::warn!(
                role = %server,
                "only DATABASE_URL is set: tenure migrates and serves as one role, so the server runs with \
                 the owner's rights over the event store; set TENURE_OWNER_DATABASE_URL to split them \
                 (docs/operations.md \"Database roles on your own server\")"
            );
            (
                url.to_string(),
                url.to_string(),
                roles::Roles::for_server(&server),
                None,
            )
        }
    };
    let mut owner = owner_connection(&owner_url).await?;
    MIGRATOR.run(&mut owner).await?;
    roles::apply_grants(&mut owner, &roles).await?;
    owner.close().await?;
    let pool = connect_with(&url, COMMAND_POOL_SIZE, limits).await?;
    Ok(Database {
        pool,
        url,
        owner_url,
        roles,
        cluster,
    })
}

/// The role a connection to `url` runs as, and whether it may create
/// tables in `public` (the owner may; a server role split from it may not).
async fn role_of(url: &str) -> Result<(String, bool), DatabaseError> {
    let mut conn = sqlx::PgConnection::connect(url)
        .await
        .map_err(|source| DatabaseError::Connect {
            url: redact(url),
            source,
        })?;
    let role = sqlx::query_as("SELECT current_user::text, has_schema_privilege('public', 'CREATE')")
        .fetch_one(&mut conn)
        .await?;
    conn.close().await?;
    Ok(role)
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
