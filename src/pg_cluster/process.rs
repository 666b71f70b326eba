//! Running programs and managing processes for the cluster: preparing the
//! data directory and running `initdb`, spawning the watchdog that stops the
//! cluster once its owner dies, reading and writing the pid files (which
//! server runs, which process owns it), checking whether a pid is alive,
//! picking a free port, and running commands while turning their output and
//! the server log into readable error text.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::io;
use std::net::{Ipv4Addr, TcpListener};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use super::binaries::find_program;
use super::{ClusterError, ClusterOptions, Context, MAX_SOCKET_PATH, OWNER_FILE};

/// Lines of `server.log` quoted when the server fails to start.
const LOG_TAIL_LINES: usize = 30;

/// Creates the data directory (mode 0700) and returns its absolute path.
pub(super) fn prepare_data_dir(dir: &Path) -> Result<PathBuf, ClusterError> {
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

/// Whether `path` itself is a symbolic link (not whether it leads to one).
pub(super) fn is_symlink(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

pub(super) fn dir_has_entries(dir: &Path) -> Result<bool, ClusterError> {
    let mut entries = std::fs::read_dir(dir).map_err(|source| ClusterError::Io {
        action: "read",
        path: dir.to_path_buf(),
        source,
    })?;
    Ok(entries.next().is_some())
}

/// `initdb` with SCRAM authentication for every connection. The superuser's
/// password goes through `--pwfile`: a file of mode `0600` in a directory of
/// mode `0700` beside the data directory, both the PostgreSQL user's (it
/// cannot read our password directory, nor reopen a pipe of root's as
/// `/dev/stdin`), removed as soon as `initdb` has read it; never a command
/// line, which any local user can see.
pub(super) async fn initdb(ctx: &Context, opts: &ClusterOptions, password: &str) -> Result<(), ClusterError> {
    let initdb = ctx.bin("initdb");
    let mut args: Vec<OsString> = vec![
        "-D".into(),
        ctx.data_dir.clone().into_os_string(),
        "-U".into(),
        opts.superuser.clone().into(),
        "--auth=scram-sha-256".into(),
        "-E".into(),
        "UTF8".into(),
        "--locale=C".into(),
    ];
    if !opts.durable {
        args.push("--no-sync".into());
    }
    let pwfile_dir = ctx.data_dir.with_file_name(format!(
        "{}.initdb-{}",
        ctx.data_dir.file_name().unwrap_or_default().to_string_lossy(),
        uuid::Uuid::new_v4().simple()
    ));
    let pwfile = write_pwfile(ctx, &pwfile_dir, password)?;
    let mut pwfile_arg = OsString::from("--pwfile=");
    pwfile_arg.push(&pwfile);
    args.push(pwfile_arg);
    let out = run(ctx.command(&initdb, &args), &initdb, &args).await;
    let _ = std::fs::remove_dir_all(&pwfile_dir);
    let out = out?;
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
/// Writes `password` to `dir/pwfile` for `initdb`, both only the
/// PostgreSQL user's; returns the file's path.
fn write_pwfile(ctx: &Context, dir: &Path, password: &str) -> Result<PathBuf, ClusterError> {
    use std::io::Write as _;
    use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
    let io_err = |action, path: &Path| {
        let path = path.to_path_buf();
        move |source| ClusterError::Io { action, path, source }
    };
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(dir)
        .map_err(io_err("create", dir))?;
    let file = dir.join("pwfile");
    let mut handle = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&file)
        .map_err(io_err("create", &file))?;
    handle
        .write_all(format!("{password}\n").as_bytes())
        .map_err(io_err("write", &file))?;
    if let Some(run_as) = &ctx.run_as {
        for path in [dir, file.as_path()] {
            std::os::unix::fs::chown(path, Some(run_as.uid()), None).map_err(io_err("hand over", path))?;
        }
    }
    Ok(file)
}

/// Spawns the detached `sh` loop that stops the cluster once `parent` dies.
///
/// It stops only the postmaster that `parent` started: the one named in the
/// owner file, and only while that file still names `parent` as the owner
/// and `postmaster.pid` still holds the same pid and start time. A new tenure
/// started right after `parent` was killed may already have replaced the
/// server with one of its own, which must not be touched. It signals that pid
/// directly (SIGINT: fast shutdown, then SIGQUIT: immediate) rather than
/// running `pg_ctl stop`, which would stop whatever server the data
/// directory holds by then.
pub(super) fn spawn_watchdog(ctx: &Context, parent: u32, remove_dir: bool) -> io::Result<std::process::Child> {
    let dir = shell_quote(&ctx.data_dir.to_string_lossy());
    let owner_file = shell_quote(&ctx.data_dir.join(OWNER_FILE).to_string_lossy());
    let passwords = shell_quote(&super::passwords::password_dir(&ctx.data_dir).to_string_lossy());
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
         pidfile={dir}/postmaster.pid\n\
         owner=$(sed -n 1p {owner_file} 2>/dev/null)\n\
         pm=$(sed -n 2p {owner_file} 2>/dev/null)\n\
         started=$(sed -n 3p {owner_file} 2>/dev/null)\n\
         ours=\n\
         if [ \"$owner\" = {parent} ] && [ -n \"$pm\" ] \\\n\
            && [ \"$(sed -n 1p \"$pidfile\" 2>/dev/null)\" = \"$pm\" ] \\\n\
            && [ \"$(sed -n 3p \"$pidfile\" 2>/dev/null)\" = \"$started\" ]; then\n\
           ours=1\n\
           kill -INT \"$pm\" 2>/dev/null\n\
           i=0\n\
           while kill -0 \"$pm\" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.2; i=$((i+1)); done\n\
           kill -QUIT \"$pm\" 2>/dev/null\n\
         fi\n",
    );
    if remove_dir {
        // Never remove a directory another process's server now runs from.
        let _ = writeln!(
            script,
            "if [ -n \"$ours\" ] || [ ! -f \"$pidfile\" ]; then rm -rf {dir} {passwords}; fi"
        );
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

/// What the data directory's pid files say about the running server.
impl Context {
    /// `pg_ctl start` on `port`; the error quotes the log of this attempt.
    pub(super) async fn pg_ctl_start(&self, port: u16, durable: bool) -> Result<(), ClusterError> {
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
    pub(super) fn running_postmaster_pid(&self) -> Option<u32> {
        let text = std::fs::read_to_string(self.data_dir.join("postmaster.pid")).ok()?;
        let pid: u32 = text.lines().next()?.trim().parse().ok()?;
        pid_alive(pid).then_some(pid)
    }

    /// The port in `postmaster.pid` (its fourth line).
    pub(super) fn running_port(&self) -> Option<u16> {
        let text = std::fs::read_to_string(self.data_dir.join("postmaster.pid")).ok()?;
        text.lines().nth(3)?.trim().parse().ok()
    }

    /// Records `owner` as the process that owns the running server, with the
    /// server's pid and start time from `postmaster.pid` (its first and third
    /// lines): the watchdog stops only that very server.
    pub(super) fn write_owner_file(&self, owner: u32) -> Result<(), ClusterError> {
        let pid_file = self.data_dir.join("postmaster.pid");
        let text = std::fs::read_to_string(&pid_file).map_err(|source| ClusterError::Io {
            action: "read",
            path: pid_file,
            source,
        })?;
        let mut lines = text.lines().map(str::trim);
        let postmaster = lines.next().unwrap_or_default();
        let started = lines.nth(1).unwrap_or_default();
        let path = self.data_dir.join(OWNER_FILE);
        std::fs::write(&path, format!("{owner}\n{postmaster}\n{started}\n")).map_err(|source| ClusterError::Io {
            action: "write",
            path,
            source,
        })
    }

    pub(super) fn owner_alive(&self) -> bool {
        std::fs::read_to_string(self.data_dir.join(OWNER_FILE))
            .ok()
            .and_then(|t| t.lines().next()?.trim().parse::<u32>().ok())
            .is_some_and(pid_alive)
    }
}

/// Whether `pid` is a live (not zombie) process.
pub(super) fn pid_alive(pid: u32) -> bool {
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
pub(super) fn free_port() -> Result<u16, ClusterError> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(ClusterError::NoFreePort)?;
    let port = listener.local_addr().map_err(ClusterError::NoFreePort)?.port();
    drop(listener);
    Ok(port)
}

pub(super) async fn run(
    mut cmd: tokio::process::Command,
    program: &Path,
    args: &[OsString],
) -> Result<Output, ClusterError> {
    tracing::debug!(command = %display_command(program, args), "running");
    cmd.output().await.map_err(|source| ClusterError::Spawn {
        command: display_command(program, args),
        source,
    })
}

pub(super) fn display_command(program: &Path, args: &[OsString]) -> String {
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
pub(super) fn output_text(out: &Output) -> String {
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
pub(super) fn log_tail(log: &Path, offset: u64) -> String {
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
pub(super) fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}
