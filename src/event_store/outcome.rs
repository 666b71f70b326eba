//! What became of a commit whose acknowledgement was lost.
//!
//! When the connection fails while `COMMIT` is in flight, the transaction
//! may have committed or not, and retrying blindly would record the same
//! facts twice. Every append notes its transaction id before committing; on
//! a lost acknowledgement the store asks PostgreSQL, on a fresh connection,
//! what became of that transaction (`txid_status`), and answers the receipt
//! when it committed. Only when the database cannot tell in time is the
//! outcome reported as unknown.

use std::time::Duration;

use super::{EventStore, StoreError};

/// How many times the store asks before reporting the outcome unknown, and
/// how long it waits between asks: long enough for a commit in flight to
/// finish or a restarting database to answer, short enough for a request.
const ASKS: u32 = 5;
const BETWEEN_ASKS: Duration = Duration::from_millis(200);

/// What PostgreSQL says became of a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitOutcome {
    /// It committed: everything it wrote is recorded.
    Committed,
    /// It rolled back: nothing it wrote is recorded.
    Aborted,
    /// It is still running, or too old for the database to remember.
    Unknown,
}

impl EventStore {
    /// What became of transaction `txid` (from `txid_current()`), asked on
    /// a connection of its own.
    pub async fn commit_outcome(&self, txid: i64) -> Result<CommitOutcome, StoreError> {
        let (status,): (Option<String>,) = sqlx::query_as("SELECT txid_status($1)")
            .bind(txid)
            .fetch_one(&self.pool)
            .await?;
        Ok(match status.as_deref() {
            Some("committed") => CommitOutcome::Committed,
            Some("aborted") => CommitOutcome::Aborted,
            _ => CommitOutcome::Unknown,
        })
    }

    /// Asks what became of `txid` until the database knows, a few times:
    /// a transaction still in progress may be finishing its commit, and a
    /// failed ask may be the database restarting.
    pub(super) async fn settle_outcome(&self, txid: i64) -> CommitOutcome {
        for ask in 0..ASKS {
            if ask > 0 {
                tokio::time::sleep(BETWEEN_ASKS).await;
            }
            match self.commit_outcome(txid).await {
                Ok(CommitOutcome::Unknown) => {}
                Ok(known) => return known,
                Err(e) => tracing::warn!(txid, cause = %e, "asking a commit's outcome failed"),
            }
        }
        CommitOutcome::Unknown
    }
}

/// Whether a failed `COMMIT` may nevertheless have committed: the connection
/// broke, so the server's answer never arrived. A refusal the server did
/// send (a constraint checked at commit, say) means it rolled back.
pub(super) fn acknowledgement_lost(e: &sqlx::Error) -> bool {
    matches!(
        e,
        sqlx::Error::Io(_) | sqlx::Error::Protocol(_) | sqlx::Error::Tls(_) | sqlx::Error::WorkerCrashed
    )
}
