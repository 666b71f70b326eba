//! Connecting to PostgreSQL: the configured one, or a cluster of our own.

use std::path::Path;
use std::time::Duration;

use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;

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

/// Opens a pool with bounded waits, so a dead database fails requests
/// quickly instead of hanging them.
pub async fn connect(url: &str, max_connections: u32) -> Result<PgPool, DatabaseError> {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(10))
        .connect(url)
        .await
        .map_err(|source| DatabaseError::Connect {
            url: redact(url),
            source,
        })
}

/// Uses `database_url` when given; otherwise starts (or reuses) tenure's own
/// cluster under `data_dir` and its `tenure` database. Applies migrations.
pub async fn open(database_url: Option<&str>, data_dir: &Path) -> Result<Database, DatabaseError> {
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
    let pool = connect(&url, 20).await?;
    MIGRATOR.run(&pool).await?;
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
