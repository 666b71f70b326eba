//! Hot standbys of a managed cluster, for serving reports from replicas.
//!
//! A standby's data directory is a `pg_basebackup` of the primary taken with
//! `--write-recovery-conf`: PostgreSQL then starts it as a hot standby that
//! streams the primary's changes and serves read-only queries. The primary
//! needs nothing special: its `pg_hba.conf` lets `127.0.0.1` make
//! replication connections with the superuser's password (SCRAM), and the
//! default `wal_level` (`replica`) and `max_wal_senders` (10) allow a few
//! standbys. The password is handed to `pg_basebackup` in `PGPASSWORD` (never
//! on its command line, which other local users can see) and
//! `--write-recovery-conf` keeps it in the standby's `primary_conninfo`
//! (`postgresql.auto.conf`, in the standby's data directory of mode `0700`).

use std::ffi::OsString;

use super::process::{display_command, output_text, run};
use super::{ClusterError, Context};

/// Fills the (empty) data directory of `ctx` with a base backup of the
/// primary listening on 127.0.0.1:`port`, set up to stream from it.
pub(super) async fn base_backup(
    ctx: &Context,
    port: u16,
    superuser: &str,
    password: &str,
    durable: bool,
) -> Result<(), ClusterError> {
    let program = ctx.bin("pg_basebackup");
    let mut args: Vec<OsString> = vec![
        "-D".into(),
        ctx.data_dir.clone().into_os_string(),
        "-h".into(),
        "127.0.0.1".into(),
        "-p".into(),
        port.to_string().into(),
        "-U".into(),
        superuser.into(),
        // Stream the WAL written meanwhile, so the copy is consistent.
        "--wal-method=stream".into(),
        "--write-recovery-conf".into(),
        // Start the copy now rather than at the primary's next checkpoint.
        "--checkpoint=fast".into(),
    ];
    if !durable {
        args.push("--no-sync".into());
    }
    let mut command = ctx.command(&program, &args);
    command.env("PGPASSWORD", password);
    let out = run(command, &program, &args).await?;
    if !out.status.success() {
        return Err(ClusterError::Command {
            what: "copying the primary for a standby",
            command: display_command(&program, &args),
            status: out.status.to_string(),
            output: output_text(&out),
        });
    }
    tracing::info!(data_dir = %ctx.data_dir.display(), port, "copied the primary for a standby");
    Ok(())
}
