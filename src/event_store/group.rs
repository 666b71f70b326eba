//! Group commit: the commits of many requests share one transaction, so
//! one disk flush serves them all.
//!
//! Commits are serialised under the append lock so that global positions,
//! transaction ids and recorded times all increase in commit order. With
//! one transaction per commit, each commit's flush happened inside the lock
//! and concurrent commits waited for each other's flushes: eight clients
//! were no faster than one. One writer task now takes every commit waiting
//! when it is free (up to [`MOST_PER_GROUP`]) and writes them, in arrival
//! order, in one transaction: each is checked on its own (versions, guards,
//! idempotency key), a refused one leaves the others untouched, and the
//! accepted ones are inserted together with a fixed number of statements
//! whatever the group's size (`batch.rs`); the group commits once.
//!
//! If the group's transaction fails as a whole (the database went away, a
//! lock or statement timed out), nothing of it was recorded, and each of its
//! commits is written again alone, so that each gets its own true answer.
//! If the acknowledgement of the group's `COMMIT` is lost, the outcome is
//! found out once for the group (see `outcome.rs`): committed, every commit
//! gets its receipt; aborted, each is written again alone; unknown, each
//! gets `OutcomeUnknown`, to retry with its idempotency key.

use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot};

use super::append::{begin_locked, write_commit, AppendError, Commit, CommitReceipt, Written};
use super::batch::write_all;
use super::outcome::acknowledgement_lost;
use super::{CommitOutcome, EventStore, StoreError};

/// The most commits written in one transaction: enough to share a flush
/// among many clients, few enough that one group's statements, and the
/// latency of its first commit, stay small.
const MOST_PER_GROUP: usize = 48;

/// One commit waiting for the writer, and where its answer goes.
type Waiting = (Commit, oneshot::Sender<Result<CommitReceipt, AppendError>>);

/// Sends commits to the group writer of one store.
#[derive(Debug)]
pub(super) struct GroupWriter {
    queue: mpsc::UnboundedSender<Waiting>,
}

impl GroupWriter {
    /// Starts the writer task for `store`'s pool. It ends when every
    /// sender (every clone of the store) is gone.
    pub(super) fn start(store: EventStore) -> Self {
        let (queue, waiting) = mpsc::unbounded_channel();
        tokio::spawn(write_groups(store, waiting));
        Self { queue }
    }

    /// Hands `commit` to the writer and waits for its answer.
    pub(super) async fn append(&self, commit: Commit) -> Result<CommitReceipt, AppendError> {
        let (answer, answered) = oneshot::channel();
        // The writer only stops when every store is dropped, and this one
        // is not; still, a stopped writer is an error, never a panic.
        self.queue
            .send((commit, answer))
            .map_err(|_| AppendError::Store(StoreError::Repository("the group writer has stopped".into())))?;
        answered
            .await
            .map_err(|_| AppendError::Store(StoreError::Repository("the group writer dropped a commit".into())))?
    }
}

/// The writer task: takes every commit waiting, writes them as one group.
async fn write_groups(store: EventStore, mut waiting: mpsc::UnboundedReceiver<Waiting>) {
    let mut group = Vec::with_capacity(MOST_PER_GROUP);
    while waiting.recv_many(&mut group, MOST_PER_GROUP).await > 0 {
        write_group(&store, std::mem::take(&mut group)).await;
    }
}

/// Writes one commit in a transaction of its own.
async fn write_alone(store: &EventStore, commit: &Commit) -> Result<CommitReceipt, AppendError> {
    let mut tx = begin_locked(store.pool()).await.map_err(AppendError::from)?;
    let Written { receipt, txid } = write_commit(&mut tx, commit).await?;
    store.finish(tx, txid).await.map(|()| receipt)
}

/// Writes `group` in one transaction; answers every commit.
async fn write_group(store: &EventStore, group: Vec<Waiting>) {
    match try_group(store.pool(), &group).await {
        Ok((tx, written)) => {
            let txid = written.iter().find_map(|w| w.as_ref().ok().map(|w| w.txid));
            let committed = match txid {
                Some(txid) => commit_group(store, tx, txid).await,
                // Every commit was refused: nothing to keep.
                None => GroupOutcome::Committed,
            };
            answer_group(store, group, written, committed).await;
        }
        // Nothing of the group was recorded, and each commit alone would
        // meet the same: every one gets the same answer now rather than
        // each waiting out the same timeout in turn.
        Err(e) if fails_every_commit(&e) => {
            tracing::warn!(error = %e, commits = group.len(), "a group commit failed");
            let shared = std::sync::Arc::new(e);
            for (_, answer) in group {
                let _ = answer.send(Err(AppendError::Store(StoreError::GroupFailed(shared.clone()))));
            }
        }
        // Nothing of the group was recorded, maybe because of one commit's
        // data (a duplicate external reference fails the group's insert):
        // each commit alone, to get its own answer.
        Err(e) => {
            tracing::warn!(error = %e, commits = group.len(), "a group commit failed; writing its commits one by one");
            for (commit, answer) in group {
                let _ = answer.send(write_alone(store, &commit).await);
            }
        }
    }
}

/// Writes every commit of `group` into one transaction (see `batch.rs`);
/// the transaction is returned uncommitted with each commit's result.
async fn try_group(
    pool: &PgPool,
    group: &[Waiting],
) -> Result<
    (
        sqlx::Transaction<'static, sqlx::Postgres>,
        Vec<Result<Written, AppendError>>,
    ),
    sqlx::Error,
> {
    let mut tx = begin_locked(pool).await?;
    let commits: Vec<&Commit> = group.iter().map(|(commit, _)| commit).collect();
    let written = write_all(&mut tx, &commits).await?;
    Ok((tx, written))
}

/// Whether `e` says the database is down, gone, or timed out (which any
/// commit would meet), rather than something about one commit's data.
fn fails_every_commit(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            matches!(code.as_ref(), "55P03" | "57014" | "40P01" | "57P01" | "57P02" | "57P03") || code.starts_with("08")
        }),
        _ => false,
    }
}

/// What became of a group's `COMMIT`.
enum GroupOutcome {
    Committed,
    /// Nothing was recorded; every commit is written again alone.
    NotRecorded(String),
    /// The database could not say.
    Unknown {
        txid: i64,
        cause: String,
    },
}

async fn commit_group(store: &EventStore, tx: sqlx::Transaction<'static, sqlx::Postgres>, txid: i64) -> GroupOutcome {
    match tx.commit().await {
        Ok(()) => GroupOutcome::Committed,
        Err(e) if acknowledgement_lost(&e) => match store.settle_outcome(txid).await {
            CommitOutcome::Committed => {
                tracing::warn!(txid, cause = %e, "group commit acknowledgement lost; the group landed");
                GroupOutcome::Committed
            }
            CommitOutcome::Aborted => GroupOutcome::NotRecorded(e.to_string()),
            CommitOutcome::Unknown => GroupOutcome::Unknown {
                txid,
                cause: e.to_string(),
            },
        },
        Err(e) => GroupOutcome::NotRecorded(e.to_string()),
    }
}

/// Sends every commit of the group its answer.
async fn answer_group(
    store: &EventStore,
    group: Vec<Waiting>,
    written: Vec<Result<Written, AppendError>>,
    outcome: GroupOutcome,
) {
    for ((commit, answer), result) in group.into_iter().zip(written) {
        let reply = match (&outcome, result) {
            // A refused commit wrote nothing, whatever became of the group.
            (_, Err(refused)) => Err(refused),
            (GroupOutcome::Committed, Ok(one)) => Ok(one.receipt),
            (GroupOutcome::NotRecorded(cause), Ok(_)) => {
                tracing::warn!(%cause, "a group commit was not recorded; writing its commit alone");
                write_alone(store, &commit).await
            }
            (GroupOutcome::Unknown { txid, cause }, Ok(_)) => Err(AppendError::Store(StoreError::OutcomeUnknown {
                txid: *txid,
                cause: cause.clone(),
            })),
        };
        let _ = answer.send(reply);
    }
}
