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
//! The cluster is initialised with `--auth=trust`: anyone who can reach it may
//! connect as any role without a password. That is acceptable because the
//! server listens only on `127.0.0.1` (TCP) and on a unix socket inside the
//! data directory, which is mode `0700`. It is a local store for one user's
//! tool and its tests, not a shared server; point `DATABASE_URL` at a real
//! server for anything else.
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
//! process is alive and, once it is gone, stops the cluster the same way
//! (removing the data directory if asked). Its stdin, stdout and stderr are
//! `/dev/null` and it runs in a session of its own (`setsid`) so it never
//! holds a test runner's or CI's output pipe open and is not hit by a
//! terminal's Ctrl-C. `stop` kills it once the cluster is stopped. Dropping a
//! [`ManagedCluster`] does nothing by itself: the watchdog stops the cluster
//! about a second after the process exits.
//!
//! # A server already running from the data directory
//!
//! tenure writes the id of the process that started the server to
//! `tenure-owner.pid` in the data directory. When [`ManagedCluster::start`]
//! finds a live server there (a live pid in `postmaster.pid`):
//! - if the owner recorded in `tenure-owner.pid` is still alive (for example a
//!   second `tenure` command while `tenure serve` runs), the running server is
//!   reused as is: the returned cluster is *attached*, on the port the server
//!   listens on, and its `stop` leaves the server running for its owner;
//! - otherwise the server is an orphan (its owner crashed and its watchdog did
//!   not get to stop it): it is stopped (`-m fast`, else `-m immediate`) and
//!   started afresh with this call's options.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::io;
use std::net::{Ipv4Addr, TcpListener};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

/// The unprivileged user created to run PostgreSQL when tenure runs as root
/// and there is no Debian `postgres` user.
pub const FALLBACK_SYSTEM_USER: &str = "tenure-pg";

/// File in the data directory naming the process that started the server.
const OWNER_FILE: &str = "tenure-owner.pid";
/// How many fresh ports to try when an automatically picked one is taken.
const PORT_ATTEMPTS: usize = 5;
/// Lines of `server.log` quoted when the server fails to start.
const LOG_TAIL_LINES: usize = 30;
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
    /// No TCP port could be bound on 127.0.0.1.
    #[error("cannot find a free TCP port on 127.0.0.1: {0}")]
    NoFreePort(io::Error),
    /// Running as root, and no unprivileged user could run PostgreSQL.
    #[error("running as root, but no unprivileged user could be set up to run PostgreSQL: {0}")]
    NoUnprivilegedUser(String),
}

/// A running PostgreSQL cluster that this process started (or attached to;
/// see the module documentation). Stop it with [`ManagedCluster::stop`];
/// if it is dropped instead, its watchdog stops it when the process exits.
#[derive(Debug)]
pub struct ManagedCluster {
    ctx: Context,
    port: u16,
    superuser: String,
    remove_on_stop: bool,
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

/// An unprivileged user to run the server binaries as, when we are root.
#[derive(Debug, Clone)]
struct RunAs {
    user: String,
    uid: u32,
    /// `runuser`'s path, or `None` to go through `su`.
    runuser: Option<PathBuf>,
    su: PathBuf,
}

impl ManagedCluster {
    /// Starts the cluster in `opts.data_dir`, initialising it on first use,
    /// and returns once it accepts connections (at most about a minute).
    ///
    /// Also spawns the watchdog that stops the cluster when this process
    /// exits. See the module documentation for a server that is already
    /// running from the same directory and for running as root.
    pub async fn start(opts: ClusterOptions) -> Result<ManagedCluster, ClusterError> {
        let bin_dir = find_server_binaries()?;
        let data_dir = prepare_data_dir(&opts.data_dir)?;
        let run_as = if effective_uid_is_root() {
            Some(unprivileged_user().await?)
        } else {
            None
        };
        let ctx = Context {
            bin_dir,
            data_dir,
            run_as,
        };
        if let Some(run_as) = &ctx.run_as {
            hand_over_data_dir(&ctx.data_dir, run_as).await?;
        }

        if !ctx.data_dir.join("PG_VERSION").exists() {
            if dir_has_entries(&ctx.data_dir)? {
                return Err(ClusterError::NotADataDir(ctx.data_dir.clone()));
            }
            initdb(&ctx, &opts).await?;
        }

        if let Some(attached) = ctx.handle_running_server(&opts).await? {
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
                    if let Some(attached) = ctx.attach_if_owner_alive(&opts)? {
                        return Ok(attached);
                    }
                    return Err(err);
                }
            }
        };

        let owner = ctx.data_dir.join(OWNER_FILE);
        std::fs::write(&owner, format!("{}\n", std::process::id())).map_err(|source| ClusterError::Io {
            action: "write",
            path: owner.clone(),
            source,
        })?;
        let watchdog = match spawn_watchdog(&ctx, std::process::id(), opts.remove_on_stop) {
            Ok(child) => Some(child),
            Err(err) => {
                tracing::warn!(error = %err, "cannot spawn the PostgreSQL watchdog; the cluster may outlive this process if it does not call stop()");
                None
            }
        };
        tracing::info!(data_dir = %ctx.data_dir.display(), port, "PostgreSQL cluster started");
        Ok(ManagedCluster {
            ctx,
            port,
            superuser: opts.superuser,
            remove_on_stop: opts.remove_on_stop,
            owned: true,
            watchdog,
        })
    }

    /// The TCP port the server listens on (on 127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The cluster's data directory (absolute).
    pub fn data_dir(&self) -> &Path {
        &self.ctx.data_dir
    }

    /// `postgres://SUPERUSER@127.0.0.1:PORT/DATABASE`: no password needed.
    pub fn database_url(&self, database: &str) -> String {
        format!("postgres://{}@127.0.0.1:{}/{}", self.superuser, self.port, database)
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

    /// The same command as one `sh` word list, for the watchdog.
    fn shell_command(&self, program: &Path, args: &[OsString]) -> String {
        let argv: Vec<OsString> = std::iter::once(program.as_os_str().to_owned())
            .chain(args.iter().cloned())
            .collect();
        let (exe, full) = wrap_for_user(self.run_as.as_ref(), argv);
        std::iter::once(exe)
            .chain(full)
            .map(|a| shell_quote(&a.to_string_lossy()))
            .collect::<Vec<_>>()
            .join(" ")
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

    /// `pg_ctl start` on `port`; the error quotes the log of this attempt.
    async fn pg_ctl_start(&self, port: u16, durable: bool) -> Result<(), ClusterError> {
        let log = self.data_dir.join("server.log");
        let log_offset = std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
        let mut options =
            format!("-p {port} -c listen_addresses=127.0.0.1 -c max_connections=200 -c unix_socket_permissions=0700");
        let socket = self.data_dir.join(format!(".s.PGSQL.{port}"));
        if socket.as_os_str().len() <= MAX_SOCKET_PATH {
            let _ = write!(options, " -k {}", shell_quote(&self.data_dir.to_string_lossy()));
        } else {
            // The path is too long for a unix socket: TCP only.
            options.push_str(" -k ''");
        }
        if !durable {
            options.push_str(" -c fsync=off -c synchronous_commit=off -c full_page_writes=off");
        }
        let args: Vec<OsString> = vec![
            "-D".into(),
            self.data_dir.clone().into_os_string(),
            "-l".into(),
            log.clone().into_os_string(),
            "-w".into(),
            "-t".into(),
            "60".into(),
            "-o".into(),
            options.into(),
            "start".into(),
        ];
        let pg_ctl = self.bin("pg_ctl");
        let out = run(self.command(&pg_ctl, &args), &pg_ctl, &args).await?;
        if out.status.success() {
            return Ok(());
        }
        // `-w` timed out or the server died: make sure nothing half-started
        // is left behind before reporting.
        if self.running_postmaster_pid().is_some() {
            let _ = self.pg_ctl_stop("immediate").await;
        }
        Err(ClusterError::Start {
            data_dir: self.data_dir.clone(),
            port,
            status: out.status.to_string(),
            output: output_text(&out),
            log_tail: log_tail(&log, log_offset),
            log,
        })
    }

    /// The pid in `postmaster.pid` when that process is alive.
    fn running_postmaster_pid(&self) -> Option<u32> {
        let text = std::fs::read_to_string(self.data_dir.join("postmaster.pid")).ok()?;
        let pid: u32 = text.lines().next()?.trim().parse().ok()?;
        pid_alive(pid).then_some(pid)
    }

    /// The port in `postmaster.pid` (its fourth line).
    fn running_port(&self) -> Option<u16> {
        let text = std::fs::read_to_string(self.data_dir.join("postmaster.pid")).ok()?;
        text.lines().nth(3)?.trim().parse().ok()
    }

    fn owner_alive(&self) -> bool {
        std::fs::read_to_string(self.data_dir.join(OWNER_FILE))
            .ok()
            .and_then(|t| t.trim().parse::<u32>().ok())
            .is_some_and(pid_alive)
    }

    /// An attached cluster when a live server from this directory belongs to
    /// a live tenure process.
    fn attach_if_owner_alive(&self, opts: &ClusterOptions) -> Result<Option<ManagedCluster>, ClusterError> {
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
            remove_on_stop: false,
            owned: false,
            watchdog: None,
        }))
    }

    /// Attaches to a server of a live owner, or stops an orphaned one.
    async fn handle_running_server(&self, opts: &ClusterOptions) -> Result<Option<ManagedCluster>, ClusterError> {
        if self.running_postmaster_pid().is_none() {
            return Ok(None);
        }
        if let Some(attached) = self.attach_if_owner_alive(opts)? {
            return Ok(Some(attached));
        }
        tracing::warn!(data_dir = %self.data_dir.display(), "stopping an orphaned PostgreSQL server left running from this data directory");
        if self.pg_ctl_stop("fast").await.is_err() {
            self.pg_ctl_stop("immediate").await?;
        }
        Ok(None)
    }
}

/// `argv` as it must be run for `run_as`: (program, arguments).
fn wrap_for_user(run_as: Option<&RunAs>, argv: Vec<OsString>) -> (OsString, Vec<OsString>) {
    match run_as {
        None => {
            let mut it = argv.into_iter();
            let exe = it.next().expect("argv has a program");
            (exe, it.collect())
        }
        Some(RunAs {
            user,
            runuser: Some(runuser),
            ..
        }) => {
            let mut full: Vec<OsString> = vec!["-u".into(), user.into(), "--".into()];
            full.extend(argv);
            (runuser.clone().into_os_string(), full)
        }
        Some(RunAs {
            user,
            runuser: None,
            su,
            ..
        }) => {
            let line = argv
                .iter()
                .map(|a| shell_quote(&a.to_string_lossy()))
                .collect::<Vec<_>>()
                .join(" ");
            (
                su.clone().into_os_string(),
                vec!["-s".into(), "/bin/sh".into(), user.into(), "-c".into(), line.into()],
            )
        }
    }
}

/// Where [`find_server_binaries`] looks.
struct SearchPath {
    /// Directories of `PATH`, in order.
    path_dirs: Vec<PathBuf>,
    /// Holds `<version>/bin` directories (Debian: `/usr/lib/postgresql`).
    debian_root: PathBuf,
    /// Holds `pgsql-<version>/bin` directories (RPM packages: `/usr`).
    pgsql_parent: PathBuf,
}

/// The directory holding `initdb`, `pg_ctl` and `postgres`: found through
/// `PATH` first, else the highest version under `/usr/lib/postgresql/*/bin`
/// (Debian, Ubuntu), else under `/usr/pgsql-*/bin` (RHEL, Fedora).
pub fn find_server_binaries() -> Result<PathBuf, ClusterError> {
    find_server_binaries_in(&SearchPath {
        path_dirs: std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).collect())
            .unwrap_or_default(),
        debian_root: PathBuf::from("/usr/lib/postgresql"),
        pgsql_parent: PathBuf::from("/usr"),
    })
}

fn find_server_binaries_in(search: &SearchPath) -> Result<PathBuf, ClusterError> {
    let has = |dir: &Path, name: &str| is_executable(&dir.join(name));
    for dir in &search.path_dirs {
        if has(dir, "pg_ctl") && has(dir, "initdb") {
            // Prefer the real install directory behind symlinks: it surely
            // holds `postgres` too.
            if let Some(real) = std::fs::canonicalize(dir.join("pg_ctl"))
                .ok()
                .and_then(|p| p.parent().map(Path::to_path_buf))
            {
                if has(&real, "initdb") && has(&real, "postgres") {
                    return Ok(real);
                }
            }
            return Ok(dir.clone());
        }
    }
    let versioned = |parent: &Path, prefix: &str| -> Option<PathBuf> {
        let mut found: Vec<(Vec<u32>, PathBuf)> = std::fs::read_dir(parent)
            .ok()?
            .filter_map(Result::ok)
            .filter_map(|entry| {
                let name = entry.file_name().to_string_lossy().into_owned();
                let version = name.strip_prefix(prefix)?;
                let bin = entry.path().join("bin");
                (has(&bin, "pg_ctl") && has(&bin, "initdb")).then(|| (version_key(version), bin))
            })
            .collect();
        found.sort();
        found.pop().map(|(_, bin)| bin)
    };
    versioned(&search.debian_root, "")
        .or_else(|| versioned(&search.pgsql_parent, "pgsql-"))
        .ok_or(ClusterError::BinariesNotFound)
}

/// "15" → [15], "9.6" → [9, 6], "17beta1" → [17]: for ordering versions.
fn version_key(version: &str) -> Vec<u32> {
    version
        .split('.')
        .map_while(|part| {
            let digits: String = part.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        })
        .collect()
}

fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// A program from `PATH` or the usual system directories (`runuser` and
/// `useradd` live in `sbin`, which a non-login `PATH` may lack).
fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(
            [
                "/usr/local/sbin",
                "/usr/local/bin",
                "/usr/sbin",
                "/usr/bin",
                "/sbin",
                "/bin",
            ]
            .into_iter()
            .map(PathBuf::from),
        )
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
}

/// Creates the data directory (mode 0700) and returns its absolute path.
fn prepare_data_dir(dir: &Path) -> Result<PathBuf, ClusterError> {
    let io_err = |action, path: &Path| {
        let path = path.to_path_buf();
        move |source| ClusterError::Io { action, path, source }
    };
    std::fs::create_dir_all(dir).map_err(io_err("create", dir))?;
    let dir = std::fs::canonicalize(dir).map_err(io_err("resolve", dir))?;
    let meta = std::fs::metadata(&dir).map_err(io_err("inspect", &dir))?;
    if meta.permissions().mode() & 0o077 != 0 {
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
            .map_err(io_err("restrict permissions of", &dir))?;
    }
    Ok(dir)
}

fn dir_has_entries(dir: &Path) -> Result<bool, ClusterError> {
    let mut entries = std::fs::read_dir(dir).map_err(|source| ClusterError::Io {
        action: "read",
        path: dir.to_path_buf(),
        source,
    })?;
    Ok(entries.next().is_some())
}

async fn initdb(ctx: &Context, opts: &ClusterOptions) -> Result<(), ClusterError> {
    let initdb = ctx.bin("initdb");
    let mut args: Vec<OsString> = vec![
        "-D".into(),
        ctx.data_dir.clone().into_os_string(),
        "-U".into(),
        opts.superuser.clone().into(),
        "--auth=trust".into(),
        "-E".into(),
        "UTF8".into(),
        "--locale=C".into(),
    ];
    if !opts.durable {
        args.push("--no-sync".into());
    }
    let out = run(ctx.command(&initdb, &args), &initdb, &args).await?;
    if !out.status.success() {
        return Err(ClusterError::Command {
            what: "initialising the PostgreSQL data directory",
            command: display_command(&initdb, &args),
            status: out.status.to_string(),
            output: output_text(&out),
        });
    }
    tracing::info!(data_dir = %ctx.data_dir.display(), "initialised a PostgreSQL data directory");
    Ok(())
}

/// Whether this process runs with effective uid 0.
fn effective_uid_is_root() -> bool {
    if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
        if let Some(line) = status.lines().find(|l| l.starts_with("Uid:")) {
            // Uid: real effective saved fs
            return line.split_whitespace().nth(2) == Some("0");
        }
    }
    std::process::Command::new("id")
        .arg("-u")
        .stdin(Stdio::null())
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// The uid of `user`, if that user exists.
async fn user_uid(user: &str) -> Option<u32> {
    let out = tokio::process::Command::new("id")
        .args(["-u", user])
        .stdin(Stdio::null())
        .output()
        .await
        .ok()?;
    if !out.status.success() {
        return None;
    }
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

/// `postgres` if it exists, else `tenure-pg` (created if need be).
async fn unprivileged_user() -> Result<RunAs, ClusterError> {
    let runuser = find_program("runuser");
    let su = find_program("su").unwrap_or_else(|| PathBuf::from("su"));
    for user in ["postgres", FALLBACK_SYSTEM_USER] {
        if let Some(uid) = user_uid(user).await {
            if uid != 0 {
                return Ok(RunAs {
                    user: user.to_string(),
                    uid,
                    runuser,
                    su,
                });
            }
        }
    }
    let useradd = find_program("useradd").ok_or_else(|| {
        ClusterError::NoUnprivilegedUser(format!(
            "there is no `postgres` user and `useradd` was not found to create `{FALLBACK_SYSTEM_USER}`"
        ))
    })?;
    let args: Vec<OsString> = vec![
        "--system".into(),
        "--no-create-home".into(),
        "--shell".into(),
        "/bin/false".into(),
        FALLBACK_SYSTEM_USER.into(),
    ];
    let mut last = String::new();
    // Several test processes may race to create the user: one wins, the
    // others see it exists; a locked /etc/passwd is retried.
    for _ in 0..5 {
        let mut cmd = tokio::process::Command::new(&useradd);
        cmd.args(&args).stdin(Stdio::null());
        let out = run(cmd, &useradd, &args).await?;
        if let Some(uid) = user_uid(FALLBACK_SYSTEM_USER).await {
            tracing::info!(user = FALLBACK_SYSTEM_USER, "created a system user to run PostgreSQL");
            return Ok(RunAs {
                user: FALLBACK_SYSTEM_USER.to_string(),
                uid,
                runuser,
                su,
            });
        }
        last = format!(
            "`{}` {}: {}",
            display_command(&useradd, &args),
            out.status,
            output_text(&out)
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    Err(ClusterError::NoUnprivilegedUser(last))
}

/// Makes the data directory the user's and lets it reach it.
async fn hand_over_data_dir(data_dir: &Path, run_as: &RunAs) -> Result<(), ClusterError> {
    let meta = std::fs::metadata(data_dir).map_err(|source| ClusterError::Io {
        action: "inspect",
        path: data_dir.to_path_buf(),
        source,
    })?;
    if meta.uid() != run_as.uid {
        let chown = find_program("chown").unwrap_or_else(|| PathBuf::from("chown"));
        let args: Vec<OsString> = vec!["-R".into(), run_as.user.clone().into(), data_dir.as_os_str().to_owned()];
        let mut cmd = tokio::process::Command::new(&chown);
        cmd.args(&args).stdin(Stdio::null());
        let out = run(cmd, &chown, &args).await?;
        if !out.status.success() {
            return Err(ClusterError::Command {
                what: "handing the data directory to the PostgreSQL user",
                command: display_command(&chown, &args),
                status: out.status.to_string(),
                output: output_text(&out),
            });
        }
    }
    for dir in data_dir.ancestors().skip(1) {
        let Ok(meta) = std::fs::metadata(dir) else {
            continue;
        };
        let mode = meta.permissions().mode();
        if mode & 0o001 == 0 && meta.uid() != run_as.uid {
            tracing::warn!(dir = %dir.display(), user = %run_as.user, "adding search permission (o+x) so PostgreSQL can reach its data directory");
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode | 0o001)).map_err(|source| {
                ClusterError::Io {
                    action: "add search permission (o+x) to",
                    path: dir.to_path_buf(),
                    source,
                }
            })?;
        }
    }
    Ok(())
}

/// Spawns the detached `sh` loop that stops the cluster once `parent` dies.
fn spawn_watchdog(ctx: &Context, parent: u32, remove_dir: bool) -> io::Result<std::process::Child> {
    let stop = ctx.shell_command(&ctx.bin("pg_ctl"), &ctx.stop_args("fast"));
    let dir = shell_quote(&ctx.data_dir.to_string_lossy());
    // `kill -0` also succeeds on a zombie (a container's pid 1 may never reap
    // it), so /proc's state is checked too where there is one.
    let mut script = format!(
        "trap '' HUP INT\n\
         alive() {{\n\
           kill -0 {parent} 2>/dev/null || return 1\n\
           if [ -r /proc/{parent}/stat ]; then\n\
             s=$(cat /proc/{parent}/stat 2>/dev/null) || return 1\n\
             s=${{s##*) }}\n\
             case \"$s\" in Z*|X*) return 1;; esac\n\
           fi\n\
           return 0\n\
         }}\n\
         while alive; do sleep 1; done\n\
         if [ -f {dir}/postmaster.pid ]; then {stop} || {stop_immediate}; fi\n",
        stop_immediate = ctx.shell_command(&ctx.bin("pg_ctl"), &ctx.stop_args("immediate")),
    );
    if remove_dir {
        let _ = writeln!(script, "rm -rf {dir}");
    }
    let mut cmd = match find_program("setsid") {
        Some(setsid) => {
            let mut cmd = std::process::Command::new(setsid);
            cmd.arg("sh");
            cmd
        }
        None => {
            use std::os::unix::process::CommandExt as _;
            let mut cmd = std::process::Command::new("sh");
            cmd.process_group(0);
            cmd
        }
    };
    cmd.arg("-c")
        .arg(script)
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
}

/// Whether `pid` is a live (not zombie) process.
fn pid_alive(pid: u32) -> bool {
    let proc_dir = Path::new("/proc");
    if proc_dir.join("self").exists() {
        return match std::fs::read_to_string(proc_dir.join(pid.to_string()).join("stat")) {
            Ok(stat) => {
                let state = stat.rsplit_once(") ").map(|(_, rest)| rest.trim_start());
                !matches!(state.and_then(|s| s.chars().next()), Some('Z' | 'X'))
            }
            Err(_) => false,
        };
    }
    std::process::Command::new("kill")
        .args(["-0", &pid.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
fn free_port() -> Result<u16, ClusterError> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(ClusterError::NoFreePort)?;
    let port = listener.local_addr().map_err(ClusterError::NoFreePort)?.port();
    drop(listener);
    Ok(port)
}

async fn run(mut cmd: tokio::process::Command, program: &Path, args: &[OsString]) -> Result<Output, ClusterError> {
    tracing::debug!(command = %display_command(program, args), "running");
    cmd.output().await.map_err(|source| ClusterError::Spawn {
        command: display_command(program, args),
        source,
    })
}

fn display_command(program: &Path, args: &[OsString]) -> String {
    std::iter::once(program.as_os_str())
        .chain(args.iter().map(OsString::as_os_str))
        .map(|a| {
            let s = a.to_string_lossy();
            if s.is_empty() || s.contains(char::is_whitespace) {
                shell_quote(&s)
            } else {
                s.into_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// stdout and stderr, trimmed to their last couple of thousand characters.
fn output_text(out: &Output) -> String {
    let mut text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let err = String::from_utf8_lossy(&out.stderr);
    if !err.trim().is_empty() {
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(err.trim());
    }
    if text.is_empty() {
        return "(no output)".to_string();
    }
    let chars: Vec<char> = text.chars().collect();
    if chars.len() > 2000 {
        format!("...{}", chars[chars.len() - 2000..].iter().collect::<String>())
    } else {
        text
    }
}

/// The last lines `log` gained after byte `offset`.
fn log_tail(log: &Path, offset: u64) -> String {
    let Ok(bytes) = std::fs::read(log) else {
        return "(no log)".to_string();
    };
    let start = usize::try_from(offset).unwrap_or(0).min(bytes.len());
    let text = String::from_utf8_lossy(&bytes[start..]);
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join("\n");
    if tail.trim().is_empty() {
        "(empty)".to_string()
    } else {
        tail
    }
}

/// `s` quoted for `sh`.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::postgres::PgPoolOptions;

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

    async fn select_one(url: &str) -> i32 {
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .connect(url)
            .await
            .expect("connect");
        let (one,): (i32,) = sqlx::query_as("SELECT 1").fetch_one(&pool).await.expect("select");
        pool.close().await;
        one
    }

    #[tokio::test]
    async fn starts_serves_stops_and_cleans_up() {
        let dir = test_dir("basic");
        let cluster = ManagedCluster::start(options(dir.clone(), true)).await.expect("start");
        let port = cluster.port();
        assert_eq!(
            cluster.database_url("postgres"),
            format!("postgres://tenure@127.0.0.1:{port}/postgres")
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
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .connect(&first.database_url("postgres"))
            .await
            .expect("connect");
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
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .connect(&again.database_url("postgres"))
            .await
            .expect("connect");
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
}
