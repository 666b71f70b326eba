//! Running PostgreSQL when tenure itself runs as root: detecting root,
//! picking (or creating) an unprivileged user to run the server binaries as,
//! handing the data directory over to that user, and wrapping each command in
//! `runuser -u USER --` or `su -s /bin/sh USER -c` (see the module
//! documentation of [`super`] for the policy).

use std::ffi::OsString;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use super::binaries::find_program;
use super::process::{display_command, output_text, run, shell_quote};
use super::{ClusterError, FALLBACK_SYSTEM_USER};

/// An unprivileged user to run the server binaries as, when we are root.
#[derive(Debug, Clone)]
pub(super) struct RunAs {
    user: String,
    uid: u32,
    /// `runuser`'s path, or `None` to go through `su`.
    runuser: Option<PathBuf>,
    su: PathBuf,
}
impl RunAs {
    /// The user's uid.
    pub(super) fn uid(&self) -> u32 {
        self.uid
    }
}

/// Whether this process runs with effective uid 0.
pub(super) fn effective_uid_is_root() -> bool {
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
pub(super) async fn unprivileged_user() -> Result<RunAs, ClusterError> {
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
pub(super) async fn hand_over_data_dir(data_dir: &Path, run_as: &RunAs) -> Result<(), ClusterError> {
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
/// `argv` as it must be run for `run_as`: (program, arguments).
pub(super) fn wrap_for_user(run_as: Option<&RunAs>, argv: Vec<OsString>) -> (OsString, Vec<OsString>) {
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
