//! `tenure verify`: checks the events' hash chain from a terminal or a
//! script, and prints the head to keep (on a board paper, say).
//!
//! Like `tenure report` it reads an existing store and never creates one.
//! Unless `--check-only`, it first seals the events the server's sealer has
//! not reached (as the server would), so the head printed covers every
//! event committed. Exit status: 0 when every sealed event matches (and a
//! given head is on the chain), 3 when not, 1 when it could not check.

use tenure::audit::{seal, verify, Sealer, Verification};
use tenure::cli::{Cli, VerifyArgs};

/// The events no longer match their seals (or a given head is not on the
/// chain): exit status 3.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct ChainBroken(String);

/// Verifies the store `cli` names; prints the outcome on standard output.
pub(crate) async fn run(cli: &Cli, args: &VerifyArgs) -> Result<(), Box<dyn std::error::Error>> {
    let supplied = match (&args.head, args.position) {
        (Some(hex), Some(position)) => Some((
            position,
            seal::from_hex(hex).ok_or("--head must be 64 hex digits, as `tenure verify` printed it")?,
        )),
        _ => None,
    };
    let (opened, _) = crate::report_cli::open_existing(cli, "verify").await?;
    let result = check(&opened.pool, args.check_only, supplied).await;
    crate::report_cli::close(opened).await?;
    let verification = result?;
    println!("{}", describe(&verification));
    if verification.ok {
        Ok(())
    } else {
        Err(Box::new(ChainBroken(
            "the event log does not verify (see above)".to_string(),
        )))
    }
}

async fn check(
    pool: &sqlx::PgPool,
    check_only: bool,
    supplied: Option<(i64, seal::Hash)>,
) -> Result<Verification, sqlx::Error> {
    if !check_only {
        let sealed = Sealer::new(pool.clone()).seal_all_committed().await?;
        if sealed > 0 {
            eprintln!("tenure verify: sealed {sealed} events not sealed yet");
        }
    }
    verify::verify(pool, supplied).await
}

/// The outcome as lines for people.
fn describe(v: &Verification) -> String {
    let mut lines = Vec::new();
    match &v.first_problem {
        None => lines.push(format!("ok: {} events match their seals", v.events_checked)),
        Some(p) => lines.push(format!(
            "FAILED at global position {} ({}): {}",
            p.global_position,
            serde_json::to_value(p.finding)
                .ok()
                .and_then(|f| f.as_str().map(str::to_string))
                .unwrap_or_default(),
            p.message
        )),
    }
    lines.push(format!(
        "head: position {} hash {}",
        v.head.global_position, v.head.hash
    ));
    if v.head.unsealed_events > 0 {
        lines.push(format!(
            "{} events committed after the head are not sealed yet",
            v.head.unsealed_events
        ));
    }
    if let Some(s) = &v.supplied_head {
        lines.push(if s.on_chain {
            format!("the head {} at position {} is on the chain", s.hash, s.global_position)
        } else {
            format!(
                "the head {} at position {} is NOT on the chain: the history up to it has changed (or it \
                 was never printed by this store)",
                s.hash, s.global_position
            )
        });
    }
    lines.join("\n")
}
