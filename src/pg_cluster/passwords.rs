//! The passwords of tenure's own cluster: generated, kept one per role in
//! files of mode `0600` in a directory of mode `0700` beside the data
//! directory (`.tenure/pg.passwords/` for `.tenure/pg`), never inside it: a
//! standby's `pg_basebackup` copies the data directory, and running as root
//! the data directory belongs to the PostgreSQL user, who needs none of them.
//!
//! Also the `pg_hba.conf` tenure writes: SCRAM everywhere, no `trust`.

use std::io::{self, Write as _};
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use std::time::Duration;

use super::{ClusterError, ManagedCluster};

/// The `pg_hba.conf` of tenure's own cluster: every connection, over the
/// unix socket or TCP on the loopback, for a database or for replication,
/// proves its password with SCRAM-SHA-256.
pub(super) const SCRAM_HBA: &str = "\
# Written by tenure (src/pg_cluster/passwords.rs): every connection proves its
# password with SCRAM-SHA-256; the passwords are in the .passwords directory
# beside this data directory. Never `trust`.
# TYPE  DATABASE     USER  ADDRESS       METHOD
local   all          all                 scram-sha-256
host    all          all   127.0.0.1/32  scram-sha-256
host    all          all   ::1/128       scram-sha-256
local   replication  all                 scram-sha-256
host    replication  all   127.0.0.1/32  scram-sha-256
host    replication  all   ::1/128       scram-sha-256
";

/// The password directory of the cluster in `data_dir`: its sibling named
/// after it with `.passwords` appended.
pub(super) fn password_dir(data_dir: &Path) -> PathBuf {
    let mut name = data_dir.file_name().unwrap_or_default().to_os_string();
    name.push(".passwords");
    data_dir.with_file_name(name)
}

/// A fresh password: 64 hex digits from the operating system's generator
/// (two v4 UUIDs' random bits), so it never needs quoting in a URL.
pub(super) fn generate() -> String {
    format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

fn io_error(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> ClusterError {
    let path = path.to_path_buf();
    move |source| ClusterError::Io { action, path, source }
}

/// The password kept for `role` in `dir`, if there is one.
pub(super) fn read(dir: &Path, role: &str) -> Result<Option<String>, ClusterError> {
    let path = dir.join(role);
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(Some(text.trim().to_string())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error("read", &path)(e)),
    }
}

/// The password kept for `role` in `dir`, generated and written (mode
/// `0600`, the directory `0700`) when there is none yet.
pub(super) fn read_or_create(dir: &Path, role: &str) -> Result<String, ClusterError> {
    if let Some(password) = read(dir, role)? {
        return Ok(password);
    }
    std::fs::create_dir_all(dir).map_err(io_error("create", dir))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .map_err(io_error("restrict permissions of", dir))?;
    let path = dir.join(role);
    let password = generate();
    // `create_new`: two processes racing to create the same password must
    // not each keep a different one; the loser reads the winner's.
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
    {
        Ok(mut file) => {
            file.write_all(format!("{password}\n").as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(io_error("write", &path))?;
            Ok(password)
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            read(dir, role)?.ok_or_else(|| io_error("read", &path)(io::ErrorKind::NotFound.into()))
        }
        Err(e) => Err(io_error("create", &path)(e)),
    }
}

/// Copies every password in `from` to `to` (a standby's roles are its
/// primary's).
pub(super) fn copy_all(from: &Path, to: &Path) -> Result<(), ClusterError> {
    let Ok(entries) = std::fs::read_dir(from) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let role = entry.file_name().to_string_lossy().into_owned();
        if let Some(password) = read(from, &role)? {
            if read(to, &role)?.is_none() {
                let written = read_or_create_with(to, &role, &password)?;
                debug_assert_eq!(written, password);
            }
        }
    }
    Ok(())
}

fn read_or_create_with(dir: &Path, role: &str, password: &str) -> Result<String, ClusterError> {
    std::fs::create_dir_all(dir).map_err(io_error("create", dir))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .map_err(io_error("restrict permissions of", dir))?;
    let path = dir.join(role);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&path)
        .map_err(io_error("create", &path))?;
    file.write_all(format!("{password}\n").as_bytes())
        .map_err(io_error("write", &path))?;
    Ok(password.to_string())
}

/// Whether a `pg_hba.conf` lets any connection in with `trust` (a cluster
/// initialised by an earlier tenure, which used `initdb --auth=trust`).
pub(super) fn hba_trusts(text: &str) -> bool {
    text.lines()
        .map(|line| line.split('#').next().unwrap_or_default())
        .any(|line| line.split_whitespace().any(|word| word == "trust"))
}

impl ManagedCluster {
    /// Upgrades a cluster made with `trust` by an earlier tenure: sets the
    /// superuser's password while trust still lets us in, replaces
    /// `pg_hba.conf` with SCRAM for every connection, reloads the server's
    /// configuration and waits until a connection without a password is
    /// refused.
    pub(super) async fn require_passwords(&self) -> Result<(), ClusterError> {
        use sqlx::Connection as _;
        let trusted = format!("postgres://{}@127.0.0.1:{}/postgres", self.superuser, self.port);
        let sql = |what| move |source| ClusterError::Sql { what, source };
        let mut conn = sqlx::PgConnection::connect(&trusted)
            .await
            .map_err(sql("connect to the cluster made with trust"))?;
        sqlx::query("SET password_encryption = 'scram-sha-256'")
            .execute(&mut conn)
            .await
            .map_err(sql("choose SCRAM for the superuser's password"))?;
        sqlx::query(&format!(
            "ALTER ROLE \"{}\" PASSWORD '{}'",
            self.superuser.replace('"', "\"\""),
            self.password
        ))
        .execute(&mut conn)
        .await
        .map_err(sql("set the superuser's password"))?;
        let hba = self.ctx.data_dir.join("pg_hba.conf");
        // Rewritten in place so that, running as root, the file keeps its
        // owner (the PostgreSQL user).
        std::fs::write(&hba, SCRAM_HBA).map_err(|source| ClusterError::Io {
            action: "write",
            path: hba.clone(),
            source,
        })?;
        sqlx::query("SELECT pg_reload_conf()")
            .execute(&mut conn)
            .await
            .map_err(sql("reload the configuration"))?;
        let _ = conn.close().await;
        // The postmaster reloads in the background: wait until trust is gone.
        for _ in 0..100 {
            if sqlx::PgConnection::connect(&trusted).await.is_err() {
                tracing::warn!(data_dir = %self.ctx.data_dir.display(), "upgraded tenure's PostgreSQL from trust to SCRAM passwords");
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(ClusterError::Sql {
            what: "make the cluster refuse connections without a password",
            source: sqlx::Error::Protocol("connections without a password are still accepted after the reload".into()),
        })
    }

    /// The directory of the cluster's password files (see `passwords.rs`):
    /// beside the data directory, mode `0700`, one file of mode `0600` per
    /// role.
    pub fn password_dir(&self) -> PathBuf {
        password_dir(&self.ctx.data_dir)
    }

    /// The password of `role` from the password directory, generated and
    /// kept there on first use. Creating or altering the role is the
    /// caller's business ([`crate::db::roles`]).
    pub fn role_password(&self, role: &str) -> Result<String, ClusterError> {
        read_or_create(&self.password_dir(), role)
    }

    /// `postgres://ROLE:PASSWORD@127.0.0.1:PORT/DATABASE` for `role`, with
    /// its password from the password directory (generated on first use).
    pub fn role_url(&self, role: &str, database: &str) -> Result<String, ClusterError> {
        let password = self.role_password(role)?;
        Ok(format!(
            "postgres://{role}:{password}@127.0.0.1:{}/{database}",
            self.port
        ))
    }
}
