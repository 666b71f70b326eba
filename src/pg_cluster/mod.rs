//! A PostgreSQL cluster that tenure starts and manages itself.
//!
//! The `tenure` binary uses one under `.tenure/pg` when `DATABASE_URL` is
//! unset, and the integration tests use a throwaway one per test process under
//! `target/tenure-test-pg/`. The cluster is made with the server binaries
//! installed on the machine ([`find_server_binaries`]): `initdb` on first use,
//! then `pg_ctl start` on every start, reusing the data directory.
//!
//! # Security
//!
//! Every connection proves a password with SCRAM-SHA-256, over TCP (which
//! listens on `127.0.0.1` only) and over the unix socket (inside the data
//! directory, mode `0700`), for databases and for replication alike: the
//! cluster's `pg_hba.conf` is `SCRAM_HBA` (`passwords.rs`), never `trust`. So
//! another local user, who can see the port, cannot connect: the passwords
//! are generated (64 hex digits), one file of mode `0600` per role in a
//! directory of mode `0700` beside the data directory
//! ([`ManagedCluster::password_dir`], `.tenure/pg.passwords/` for
//! `.tenure/pg`), readable by the user tenure runs as (root, when it runs as
//! root) and nobody else. `initdb` gets the superuser's password through
//! `--pwfile` (a private file, removed at once), never a command line.
//!
//! A cluster made by an earlier tenure with `initdb --auth=trust` is
//! upgraded when it starts: its superuser's password is generated and set
//! while trust still lets tenure in, `pg_hba.conf` is replaced, the
//! configuration reloaded, and the start returns once a connection without
//! a password is refused. A cluster that asks for passwords but whose
//! superuser password file is gone is refused with
//! [`ClusterError::PasswordMissing`].
//!
//! This module knows the superuser only; the roles tenure's server and
//! analysts connect as, and what they may do, are
//! [`crate::db::roles`]'s (their passwords are kept in the same directory,
//! [`ManagedCluster::role_password`]).
//!
//! # Running as root
//!
//! PostgreSQL refuses to run as root. When the process's effective uid is 0,
//! `initdb` and `pg_ctl` run as an unprivileged user: the Debian `postgres`
//! user when it exists, else a system user `tenure-pg` that is created with
//! `useradd --system --no-create-home`. The data directory is handed to that
//! user (`chown -R`) and every parent directory it lacks search permission on
//! gets the `o+x` bit (search only, never read), so the server can reach it.
//! Commands are run through `runuser -u USER --`, or `su -s /bin/sh USER -c`
//! where `runuser` is missing.
//!
//! # Lifetime
//!
//! [`ManagedCluster::stop`] is the normal way to stop a cluster
//! (`pg_ctl stop -m fast`, then the data directory is removed if
//! [`ClusterOptions::remove_on_stop`]). So that a cluster never outlives the
//! process that started it, even when that process panics, returns without
//! calling `stop`, or is killed with `kill -9`, every start also spawns a tiny
//! detached watchdog: a `sh` loop that polls once a second whether the owning
//! process is alive and, once it is gone, stops the server that process
//! started (fast shutdown, then immediate; removing the data directory if
//! asked). Its stdin, stdout and stderr are
//! `/dev/null` and it runs in a session of its own (`setsid`) so it never
//! holds a test runner's or CI's output pipe open and is not hit by a
//! terminal's Ctrl-C. `stop` kills it once the cluster is stopped. Dropping a
//! [`ManagedCluster`] does nothing by itself: the watchdog stops the cluster
//! about a second after the process exits.
//!
//! The watchdog stops only the server its own process started: tenure
//! records in `tenure-owner.pid` its own pid and the server's pid and start
//! time (from `postmaster.pid`), and the watchdog signals that pid only while
//! both files still say so. A tenure restarted right after a `kill -9` may
//! already have replaced the server; the dead process's watchdog leaves the
//! new one alone. [`ManagedCluster::ensure_running`] starts a server that
//! stopped or died again, on the same port.
//!
//! Running as root, a data directory that is a symbolic link is refused, and
//! a non-empty directory that is not a cluster is refused before any `chown`.
//!
//! # A server already running from the data directory
//!
//! tenure writes the id of the process that started the server to
//! `tenure-owner.pid` in the data directory (its first line). When [`ManagedCluster::start`]
//! finds a live server there (a live pid in `postmaster.pid`):
//! - if the owner recorded in `tenure-owner.pid` is still alive (for example a
//!   second `tenure` command while `tenure serve` runs), the running server is
//!   reused as is: the returned cluster is *attached*, on the port the server
//!   listens on, and its `stop` leaves the server running for its owner;
//! - otherwise the server is an orphan (its owner crashed and its watchdog did
//!   not get to stop it): it is stopped (`-m fast`, else `-m immediate`) and
//!   started afresh with this call's options.

mod binaries;
mod error;
mod passwords;
mod privileges;
mod process;
mod replica;
#[cfg(test)]
mod tests;

use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

pub use binaries::find_server_binaries;
pub use error::ClusterError;
use privileges::{effective_uid_is_root, hand_over_data_dir, unprivileged_user, wrap_for_user, RunAs};
use process::{
    dir_has_entries, display_command, free_port, initdb, is_symlink, output_text, prepare_data_dir, run, spawn_watchdog,
};

/// The unprivileged user created to run PostgreSQL when tenure runs as root
/// and there is no Debian `postgres` user.
pub const FALLBACK_SYSTEM_USER: &str = "tenure-pg";

/// File in the data directory naming the process that started the server.
const OWNER_FILE: &str = "tenure-owner.pid";
/// How many fresh ports to try when an automatically picked one is taken.
const PORT_ATTEMPTS: usize = 5;
/// Unix socket paths longer than this (bytes, `sun_path` less its NUL) fail.
const MAX_SOCKET_PATH: usize = 103;

/// How to start a [`ManagedCluster`].
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// The cluster's data directory: created and initialised on first use,
    /// reused afterwards. Relative paths are taken from the current directory.
    pub data_dir: PathBuf,
    /// TCP port on 127.0.0.1; `None` picks a free one (retrying a few times
    /// should another process take it before the server binds it).
    pub port: Option<u16>,
    /// The superuser role that `initdb` creates and URLs connect as
    /// (tenure uses `"tenure"`). Only used on first initialisation.
    pub superuser: String,
    /// Remove the data directory once the cluster is stopped (tests).
    pub remove_on_stop: bool,
    /// Keep PostgreSQL's crash safety. `false` (tests only) runs with
    /// `fsync=off`, `synchronous_commit=off` and `full_page_writes=off` and
    /// skips `initdb`'s final sync: much faster, but the data may be lost if
    /// the machine crashes. tenure's own cluster keeps this `true`.
    pub durable: bool,
}

/// A running PostgreSQL cluster that this process started (or attached to;
/// see the module documentation). Stop it with [`ManagedCluster::stop`];
/// if it is dropped instead, its watchdog stops it when the process exits.
#[derive(Debug)]
pub struct ManagedCluster {
    ctx: Context,
    port: u16,
    superuser: String,
    /// The superuser's password (from the password directory).
    password: String,
    remove_on_stop: bool,
    durable: bool,
    /// `false` when attached to a server another live process started.
    owned: bool,
    watchdog: Option<std::process::Child>,
}

/// What every command on the cluster needs.
#[derive(Debug, Clone)]
struct Context {
    bin_dir: PathBuf,
    data_dir: PathBuf,
    run_as: Option<RunAs>,
}
impl ManagedCluster {
    /// Starts the cluster in `opts.data_dir`, initialising it on first use,
    /// and returns once it accepts connections (at most about a minute).
    ///
    /// Also spawns the watchdog that stops the cluster when this process
    /// exits. See the module documentation for a server that is already
    /// running from the same directory and for running as root.
    pub async fn start(opts: ClusterOptions) -> Result<ManagedCluster, ClusterError> {
        Self::start_from(opts, None).await
    }

    /// Starts a hot standby of `primary` in `opts.data_dir`: on first use
    /// the directory is filled with `pg_basebackup` from the primary and set
    /// to stream its changes (see `replica.rs`); afterwards it starts like
    /// any cluster. It serves reads only and follows the primary within
    /// moments; `pg_last_wal_replay_lsn()` says how far.
    pub async fn start_replica(opts: ClusterOptions, primary: &ManagedCluster) -> Result<ManagedCluster, ClusterError> {
        Self::start_from(opts, Some(primary)).await
    }

    async fn start_from(
        opts: ClusterOptions,
        primary: Option<&ManagedCluster>,
    ) -> Result<ManagedCluster, ClusterError> {
        let bin_dir = find_server_binaries()?;
        let root = effective_uid_is_root();
        if root && is_symlink(&opts.data_dir) {
            // `chown -R` as root through a link would hand its target (any
            // directory on the machine) to the PostgreSQL user.
            return Err(ClusterError::SymlinkDataDir(opts.data_dir.clone()));
        }
        let data_dir = prepare_data_dir(&opts.data_dir)?;
        let run_as = if root { Some(unprivileged_user().await?) } else { None };
        let ctx = Context {
            bin_dir,
            data_dir,
            run_as,
        };
        // Checked before any `chown`, so that a directory that is not ours
        // to take (someone's home, /etc) is refused untouched.
        let fresh = !ctx.data_dir.join("PG_VERSION").exists();
        if fresh && dir_has_entries(&ctx.data_dir)? {
            return Err(ClusterError::NotADataDir(ctx.data_dir.clone()));
        }
        if let Some(run_as) = &ctx.run_as {
            hand_over_data_dir(&ctx.data_dir, run_as).await?;
        }
        let password_dir = passwords::password_dir(&ctx.data_dir);
        match (fresh, primary) {
            (false, _) => {}
            (true, None) => {
                let password = passwords::read_or_create(&password_dir, &opts.superuser)?;
                initdb(&ctx, &opts, &password).await?;
            }
            (true, Some(primary)) => {
                // A standby's roles and passwords are its primary's.
                passwords::copy_all(&primary.password_dir(), &password_dir)?;
                replica::base_backup(&ctx, primary.port, &primary.superuser, &primary.password, opts.durable).await?;
            }
        }
        let trusts = ctx.hba_trusts()?;
        let password = if trusts {
            // Made by an earlier tenure with `--auth=trust`: the password is
            // set (while trust still lets us in) once the server is up.
            passwords::read_or_create(&password_dir, &opts.superuser)?
        } else {
            passwords::read(&password_dir, &opts.superuser)?.ok_or_else(|| ClusterError::PasswordMissing {
                data_dir: ctx.data_dir.clone(),
                password_dir: password_dir.clone(),
            })?
        };

        if let Some(attached) = ctx.handle_running_server(&opts, &password).await? {
            if trusts {
                attached.require_passwords().await?;
            }
            return Ok(attached);
        }

        let mut attempt = 0;
        let port = loop {
            attempt += 1;
            let port = match opts.port {
                Some(port) => port,
                None => free_port()?,
            };
            match ctx.pg_ctl_start(port, opts.durable).await {
                Ok(()) => break port,
                Err(err) => {
                    let port_clash = matches!(&err, ClusterError::Start { log_tail, .. }
                        if log_tail.contains("could not bind")
                            || log_tail.contains("Address already in use")
                            || log_tail.contains("could not create any TCP/IP sockets"));
                    if port_clash && opts.port.is_none() && attempt < PORT_ATTEMPTS {
                        tracing::warn!(port, "port taken before PostgreSQL bound it; retrying");
                        continue;
                    }
                    // Another process may have started the same cluster at
                    // the same moment: use its server if so.
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    if let Some(attached) = ctx.attach_if_owner_alive(&opts, &password)? {
                        return Ok(attached);
                    }
                    return Err(err);
                }
            }
        };

        ctx.write_owner_file(std::process::id())?;
        let watchdog = match spawn_watchdog(&ctx, std::process::id(), opts.remove_on_stop) {
            Ok(child) => Some(child),
            Err(err) => {
                tracing::warn!(error = %err, "cannot spawn the PostgreSQL watchdog; the cluster may outlive this process if it does not call stop()");
                None
            }
        };
        tracing::info!(data_dir = %ctx.data_dir.display(), port, "PostgreSQL cluster started");
        let cluster = ManagedCluster {
            ctx,
            port,
            superuser: opts.superuser,
            password,
            remove_on_stop: opts.remove_on_stop,
            durable: opts.durable,
            owned: true,
            watchdog,
        };
        if trusts {
            cluster.require_passwords().await?;
        }
        Ok(cluster)
    }

    /// Starts the server again, on the same port, when it is no longer
    /// running (stopped with `pg_ctl stop`, killed, crashed); returns whether
    /// it did. Does nothing for an attached cluster: its owner looks after it.
    /// Called periodically by `tenure serve` so that it heals its own cluster.
    pub async fn ensure_running(&self) -> Result<bool, ClusterError> {
        if !self.owned || self.ctx.running_postmaster_pid().is_some() {
            return Ok(false);
        }
        tracing::warn!(data_dir = %self.ctx.data_dir.display(), port = self.port, "PostgreSQL is not running; starting it again");
        self.ctx.pg_ctl_start(self.port, self.durable).await?;
        // The watchdog must know the new server is the one to stop.
        self.ctx.write_owner_file(std::process::id())?;
        tracing::info!(port = self.port, "PostgreSQL started again");
        Ok(true)
    }

    /// The TCP port the server listens on (on 127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The cluster's data directory (absolute).
    pub fn data_dir(&self) -> &Path {
        &self.ctx.data_dir
    }

    /// `postgres://SUPERUSER:PASSWORD@127.0.0.1:PORT/DATABASE`: the
    /// superuser, with its password.
    pub fn database_url(&self, database: &str) -> String {
        format!(
            "postgres://{}:{}@127.0.0.1:{}/{}",
            self.superuser, self.password, self.port, database
        )
    }

    /// The superuser role's name.
    pub fn superuser(&self) -> &str {
        &self.superuser
    }

    /// Stops the server (`pg_ctl stop -m fast`), then removes the data
    /// directory if [`ClusterOptions::remove_on_stop`], then ends the
    /// watchdog. An attached cluster (see the module documentation) is left
    /// running for the process that owns it. Stopping a server that is no
    /// longer running is not an error.
    pub async fn stop(mut self) -> Result<(), ClusterError> {
        if !self.owned {
            return Ok(());
        }
        if self.ctx.data_dir.join("postmaster.pid").exists() {
            // On failure the watchdog is kept: it retries at exit.
            self.ctx.pg_ctl_stop("fast").await?;
        }
        if self.remove_on_stop {
            let _ = std::fs::remove_dir_all(self.password_dir());
            match std::fs::remove_dir_all(&self.ctx.data_dir) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(source) => {
                    return Err(ClusterError::Io {
                        action: "remove",
                        path: self.ctx.data_dir.clone(),
                        source,
                    })
                }
            }
        } else {
            let _ = std::fs::remove_file(self.ctx.data_dir.join(OWNER_FILE));
        }
        if let Some(mut watchdog) = self.watchdog.take() {
            let _ = watchdog.kill();
            let _ = watchdog.wait();
        }
        tracing::info!(data_dir = %self.ctx.data_dir.display(), "PostgreSQL cluster stopped");
        Ok(())
    }
}

impl Context {
    fn bin(&self, name: &str) -> PathBuf {
        self.bin_dir.join(name)
    }

    /// Whether the cluster's `pg_hba.conf` still lets connections in with
    /// `trust` (made by an earlier tenure).
    fn hba_trusts(&self) -> Result<bool, ClusterError> {
        let hba = self.data_dir.join("pg_hba.conf");
        let text = std::fs::read_to_string(&hba).map_err(|source| ClusterError::Io {
            action: "read",
            path: hba,
            source,
        })?;
        Ok(passwords::hba_trusts(&text))
    }

    /// `program args...`, run as the unprivileged user when we are root.
    fn command(&self, program: &Path, args: &[OsString]) -> tokio::process::Command {
        let argv: Vec<OsString> = std::iter::once(program.as_os_str().to_owned())
            .chain(args.iter().cloned())
            .collect();
        let (exe, full) = wrap_for_user(self.run_as.as_ref(), argv);
        let mut cmd = tokio::process::Command::new(exe);
        cmd.args(full).stdin(Stdio::null()).kill_on_drop(false);
        if self.run_as.is_some() {
            // The user may not be able to enter our working directory.
            cmd.current_dir("/");
        }
        cmd
    }

    fn stop_args(&self, mode: &str) -> Vec<OsString> {
        vec![
            "-D".into(),
            self.data_dir.clone().into_os_string(),
            "stop".into(),
            "-m".into(),
            mode.into(),
            "-w".into(),
            "-t".into(),
            "60".into(),
        ]
    }

    async fn pg_ctl_stop(&self, mode: &str) -> Result<(), ClusterError> {
        let pg_ctl = self.bin("pg_ctl");
        let args = self.stop_args(mode);
        let out = run(self.command(&pg_ctl, &args), &pg_ctl, &args).await?;
        if out.status.success() || !self.data_dir.join("postmaster.pid").exists() {
            return Ok(());
        }
        Err(ClusterError::Command {
            what: "stopping PostgreSQL",
            command: display_command(&pg_ctl, &args),
            status: out.status.to_string(),
            output: output_text(&out),
        })
    }

    /// An attached cluster when a live server from this directory belongs to
    /// a live tenure process.
    fn attach_if_owner_alive(
        &self,
        opts: &ClusterOptions,
        password: &str,
    ) -> Result<Option<ManagedCluster>, ClusterError> {
        if self.running_postmaster_pid().is_none() || !self.owner_alive() {
            return Ok(None);
        }
        let Some(port) = self.running_port() else {
            return Ok(None);
        };
        tracing::info!(data_dir = %self.data_dir.display(), port, "reusing the PostgreSQL server another tenure process runs");
        Ok(Some(ManagedCluster {
            ctx: self.clone(),
            port,
            superuser: opts.superuser.clone(),
            password: password.to_string(),
            remove_on_stop: false,
            durable: opts.durable,
            owned: false,
            watchdog: None,
        }))
    }

    /// Attaches to a server of a live owner, or stops an orphaned one.
    async fn handle_running_server(
        &self,
        opts: &ClusterOptions,
        password: &str,
    ) -> Result<Option<ManagedCluster>, ClusterError> {
        if self.running_postmaster_pid().is_none() {
            return Ok(None);
        }
        if let Some(attached) = self.attach_if_owner_alive(opts, password)? {
            return Ok(Some(attached));
        }
        tracing::warn!(data_dir = %self.data_dir.display(), "stopping an orphaned PostgreSQL server left running from this data directory");
        if self.pg_ctl_stop("fast").await.is_err() {
            self.pg_ctl_stop("immediate").await?;
        }
        Ok(None)
    }
}
