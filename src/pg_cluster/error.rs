//! Why tenure's own cluster could not be found, started, secured or
//! stopped: one error type, each variant saying what to do about it.

use std::io;
use std::path::PathBuf;

/// Why a cluster could not be found, started or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// No `initdb` and `pg_ctl` on `PATH` nor in the usual install places.
    #[error(
        "PostgreSQL server binaries (initdb, pg_ctl) were not found: install them with \
         `sudo apt-get install postgresql` (Debian/Ubuntu) or `brew install postgresql` (macOS), \
         or set DATABASE_URL to use an existing database."
    )]
    BinariesNotFound,
    /// A file-system operation on the data directory (or a parent) failed.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    /// A program could not be run at all.
    #[error("cannot run `{command}`: {source}")]
    Spawn { command: String, source: io::Error },
    /// A program ran and failed (`initdb`, `pg_ctl stop`, `chown`, ...).
    #[error("{what} failed: `{command}` {status}: {output}")]
    Command {
        what: &'static str,
        command: String,
        status: String,
        output: String,
    },
    /// `pg_ctl start` failed; `log_tail` is the end of `server.log`.
    #[error(
        "PostgreSQL did not start from {} on port {port}: `pg_ctl start` {status}: {output}\n\
         last lines of {}:\n{log_tail}",
        data_dir.display(),
        log.display()
    )]
    Start {
        data_dir: PathBuf,
        port: u16,
        status: String,
        output: String,
        log: PathBuf,
        log_tail: String,
    },
    /// The data directory holds files but no cluster; it is left alone.
    #[error(
        "{} is not empty and is not a PostgreSQL data directory (it has no PG_VERSION): \
         refusing to initialise a cluster there",
        .0.display()
    )]
    NotADataDir(PathBuf),
    /// Running as root, the data directory is a symbolic link: refused
    /// before anything is changed, since its target could be anything.
    #[error(
        "{} is a symbolic link: running as root, tenure refuses it rather than hand its target \
         to the PostgreSQL user; give the real directory instead",
        .0.display()
    )]
    SymlinkDataDir(PathBuf),
    /// No TCP port could be bound on 127.0.0.1.
    #[error("cannot find a free TCP port on 127.0.0.1: {0}")]
    NoFreePort(io::Error),
    /// A statement run to secure the cluster failed (setting the
    /// superuser's password on a cluster made with `trust`).
    #[error("cannot {what}: {source}")]
    Sql { what: &'static str, source: sqlx::Error },
    /// The cluster asks for passwords but the superuser's is not in its
    /// password directory (deleted?).
    #[error(
        "the superuser's password of the PostgreSQL cluster in {} is missing from {}: \
         restore the file, or move the cluster away and let tenure make a new one",
        data_dir.display(),
        password_dir.display()
    )]
    PasswordMissing { data_dir: PathBuf, password_dir: PathBuf },
    /// Running as root, and no unprivileged user could run PostgreSQL.
    #[error("running as root, but no unprivileged user could be set up to run PostgreSQL: {0}")]
    NoUnprivilegedUser(String),
}
