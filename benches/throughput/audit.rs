//! Tamper evidence's costs: sealing the history and verifying it, beside
//! the typed replay, and commands while the sealer follows them.

use std::time::Instant;

use sqlx::PgPool;
use tenure::commands::CommandRunner;

use super::workload::*;
use super::{rate, timed, BoxError, Figure, LOADED_TASKS};

/// Sealing the whole history from zero (what the sealer does after an
/// import) and verifying it (`tenure verify`), beside the typed replay:
/// both read every event once, so both should stay within a small factor
/// of it, at any size.
pub(crate) async fn audit_figures(pool: &PgPool, replay_rate: f64, figures: &mut Vec<Figure>) -> Result<(), BoxError> {
    eprintln!("sealing ...");
    let started = Instant::now();
    let sealed = tenure::audit::Sealer::new(pool.clone()).catch_up().await?;
    let seal_wall = started.elapsed();
    figures.push(Figure {
        name: "sealing the history from zero".into(),
        tenure: rate(sealed as f64, seal_wall),
        anchor_name: "typed replay".into(),
        anchor: replay_rate,
        unit: "events/s",
        higher_is_better: true,
    });
    eprintln!("verify ...");
    let (verify_wall, verified) = timed(|| async {
        let v = tenure::audit::verify::verify(pool, None).await?;
        if !v.ok {
            return Err(format!("the bench's store does not verify: {:?}", v.first_problem).into());
        }
        Ok(v.events_checked)
    })
    .await?;
    figures.push(Figure {
        name: "verify".into(),
        tenure: rate(verified as f64, verify_wall),
        anchor_name: "typed replay".into(),
        anchor: replay_rate,
        unit: "events/s",
        higher_is_better: true,
    });
    Ok(())
}

/// Commands at [`LOADED_TASKS`] tasks while the sealer follows them, as in
/// `tenure serve`, beside the same commands without it, measured just
/// before and just after (their mean is the anchor: command rates on a
/// shared machine drift): sealing is not on the append path, so this is its
/// whole cost to commands.
pub(crate) async fn sealed_commands(
    pool: &PgPool,
    runner: &CommandRunner,
    per_task: usize,
    figures: &mut Vec<Figure>,
) -> Result<(), BoxError> {
    eprintln!("commands, {LOADED_TASKS} tasks, without, with and without the sealer running ...");
    let sealer = tenure::audit::Sealer::new(pool.clone());
    let before = run_commands(runner, "unsealed-a", LOADED_TASKS, per_task, None).await?;
    sealer.catch_up().await?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let sealing = tokio::spawn(sealer.clone().run(async move {
        let _ = stopped.await;
    }));
    let sealed = run_commands(runner, "sealed", LOADED_TASKS, per_task, None).await?;
    let _ = stop.send(());
    sealing.await?;
    let after = run_commands(runner, "unsealed-b", LOADED_TASKS, per_task, None).await?;
    sealer.catch_up().await?;
    figures.push(Figure {
        name: format!("commands, {LOADED_TASKS} tasks, sealer running"),
        tenure: sealed.per_second(),
        anchor_name: "the same without it (mean of before and after)".into(),
        anchor: (before.per_second() + after.per_second()) / 2.0,
        unit: "commands/s",
        higher_is_better: true,
    });
    Ok(())
}
