//! Tamper evidence and the audit feed (docs/design.md "Tamper evidence").
//!
//! The event table is append-only by trigger, but a database superuser can
//! disable a trigger and edit an event, and nothing in the table itself
//! would show it. So every event is **sealed**: a SHA-256 hash chained to
//! the previous event's in commit order, over every column that defines it
//! ([`seal`]). The [`sealer`] writes the chain into `event_seals` after the
//! events commit, in batches, the way the projector follows the store; the
//! append path is untouched. [`verify`] recomputes the chain from the
//! events and names the first event that no longer matches its seal, and
//! checks that a head printed on a board paper is still on the chain.
//!
//! [`feed`] pages through every event in commit order for auditors, with
//! its seal, filtered by recorded time, author, source or correlation id.

pub mod feed;
pub mod seal;
pub mod sealer;
pub mod verify;

pub use feed::{FeedEvent, FeedFilter, FeedPage};
pub use seal::{Hash, GENESIS};
pub use sealer::Sealer;
pub use verify::{Finding, Head, Problem, Verification};

/// A point in the chain's order: the gap-safe reader's
/// `(transaction_id, global_position)`.
pub type ChainPosition = (i64, i64);

/// Waits (at most `wait`) until no committed event is held back behind a
/// transaction still running (`pg_snapshot_xmin`, the gap-safe reader's
/// horizon); whether none is. Any transaction with a transaction id holds
/// the horizon back while it runs, the projector's own batches included,
/// so an event committed a moment ago can be invisible to the gap-safe
/// order for a few milliseconds: a reader that must see every commit made
/// before it started (the feed, `tenure verify`) waits here first.
pub async fn settle(pool: &sqlx::PgPool, wait: std::time::Duration) -> Result<bool, sqlx::Error> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let held_back: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM events WHERE transaction_id >= pg_snapshot_xmin(pg_current_snapshot()))",
        )
        .fetch_one(pool)
        .await?;
        if !held_back {
            return Ok(true);
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(false);
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}
