//! Appending a commit: one transaction, one lock, versions checked, events and
//! idempotency key inserted together, and a lost acknowledgement resolved.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;

use super::outcome::acknowledgement_lost;
use super::{stream_version_now, CommitOutcome, EventStore, KeyedAnswer, Metadata, Refusal, StoreError};

/// One event to append, already serialised.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub event_type: String,
    pub event_version: String,
    /// The payload as JSON text: written as it is, never walked again (an
    /// import appends millions of them).
    pub payload: Box<RawValue>,
}

/// Events for one aggregate, appended after `expected_version`.
#[derive(Debug, Clone)]
pub struct StreamWrite {
    pub aggregate_type: &'static str,
    pub aggregate_id: String,
    /// The version the decision was made on; the commit fails if the stream
    /// has moved on since.
    pub expected_version: u64,
    pub events: Vec<NewEvent>,
}

/// What one commit writes and on what it depends.
#[derive(Debug, Clone)]
pub struct Commit {
    pub writes: Vec<StreamWrite>,
    /// Streams read but not written by the decision (for example the
    /// participant a cohort enrols): the commit fails if any has moved on.
    pub guards: Vec<(&'static str, String, u64)>,
    /// A participant and the cohorts found enrolling them when the decision
    /// was made (a leaving reads them): the commit fails if another cohort
    /// has enrolled them since. Enrolments live in cohort streams the
    /// decision did not know of, so no stream version can guard them.
    pub enrolling_cohorts: Option<(String, Vec<String>)>,
    pub metadata: Metadata,
    /// The key and a fingerprint of the request that carried it.
    pub idempotency: Option<(String, String)>,
}

/// Where one stream stands after a commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StreamReceipt {
    pub aggregate_type: String,
    pub aggregate_id: String,
    /// The stream's version (sequence of its last event) after the commit.
    pub version: u64,
}

/// What a successful commit returns, and what an idempotent retry returns again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CommitReceipt {
    /// The streams written, in the order given.
    pub streams: Vec<StreamReceipt>,
    /// The global position of the commit's last event: ask a report to wait
    /// for it to read your own write.
    pub global_position: i64,
    /// The recorded clock of every event of this commit.
    pub recorded_at: DateTime<Utc>,
    /// How many events the commit appended.
    pub events_appended: usize,
}

/// Why a commit was not appended. Nothing was written in every case.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    /// A stream moved on after the decision was made.
    #[error("{aggregate_type} {aggregate_id} is at version {actual}, not {expected}")]
    Conflict {
        aggregate_type: String,
        aggregate_id: String,
        expected: u64,
        actual: u64,
    },
    /// A value that must be unique in the store is taken.
    #[error("{}", .0.message())]
    Duplicate(Duplicate),
    /// The idempotency key was first used with a different request.
    #[error("idempotency key {0:?} was already used for a different request")]
    KeyReused(String),
    /// The idempotency key was already used for this request: here is its first answer.
    #[error("idempotency key already used")]
    Replayed(Box<CommitReceipt>),
    /// The idempotency key was already used for this request, which was refused.
    #[error("{}", .0.message)]
    Refused(Refusal),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Values the store keeps unique across aggregates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Duplicate {
    /// A participant's external reference.
    ExternalRef,
}

impl Duplicate {
    /// The request field holding the duplicated value.
    pub fn field(&self) -> &'static str {
        match self {
            Duplicate::ExternalRef => "external_ref",
        }
    }

    /// A sentence for the client.
    pub fn message(&self) -> String {
        match self {
            Duplicate::ExternalRef => "another participant already has this external reference".to_string(),
        }
    }
}

impl From<sqlx::Error> for AppendError {
    fn from(e: sqlx::Error) -> Self {
        // The primary key on (aggregate_type, aggregate_id, sequence) is the
        // last line of defence; the version check under the lock comes first.
        if let sqlx::Error::Database(db) = &e {
            if db.is_unique_violation() {
                if db.constraint() == Some("events_participant_external_ref_idx") {
                    return AppendError::Duplicate(Duplicate::ExternalRef);
                }
                return AppendError::Conflict {
                    aggregate_type: "stream".to_string(),
                    aggregate_id: db.constraint().unwrap_or_default().to_string(),
                    expected: 0,
                    actual: 0,
                };
            }
        }
        AppendError::Store(StoreError::Database(e))
    }
}

impl EventStore {
    /// Appends a commit atomically: all of its events or none. Commits from
    /// many requests are grouped into one transaction by the store's group
    /// writer (see [`super::group`]); a store holding the append lock
    /// appends in its own transaction.
    pub async fn append(&self, commit: Commit) -> Result<CommitReceipt, AppendError> {
        match &self.held {
            Some(held) => {
                let mut tx = held.lock().await.take().ok_or(StoreError::LockReleased)?;
                let written = write_commit(&mut tx, &commit).await?;
                let txid = written.txid;
                self.finish(tx, txid).await.map(|()| written.receipt)
            }
            None => self.group_writer().append(commit).await,
        }
    }

    /// Commits `tx`, which holds the append lock, finding out what became of
    /// it when the acknowledgement is lost.
    pub(super) async fn finish(
        &self,
        tx: sqlx::Transaction<'static, sqlx::Postgres>,
        txid: i64,
    ) -> Result<(), AppendError> {
        match tx.commit().await {
            Ok(()) => Ok(()),
            Err(e) if acknowledgement_lost(&e) => match self.settle_outcome(txid).await {
                CommitOutcome::Committed => {
                    tracing::warn!(txid, cause = %e, "commit acknowledgement lost; the commit landed");
                    Ok(())
                }
                // Nothing was recorded: the lost connection is the answer.
                CommitOutcome::Aborted => Err(e.into()),
                CommitOutcome::Unknown => Err(AppendError::Store(StoreError::OutcomeUnknown {
                    txid,
                    cause: e.to_string(),
                })),
            },
            Err(e) => Err(e.into()),
        }
    }
}

/// A transaction holding the append lock (it waits for commits in flight;
/// the pool's `lock_timeout` bounds the wait). `BEGIN` and the lock go in
/// one round trip: every commit starts this way.
pub(super) async fn begin_locked(
    pool: &sqlx::PgPool,
) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
    pool.begin_with(LOCKED_BEGIN).await
}

/// `BEGIN` and the append lock, as one simple query. The lock's key is
/// "tenure" in ASCII (0x7465_6e75_7265); any constant works as long as only
/// the event store uses it.
const LOCKED_BEGIN: &str = "BEGIN; SELECT pg_advisory_xact_lock(127978993709669)";

/// A commit written, not yet committed.
pub(super) struct Written {
    pub(super) receipt: CommitReceipt,
    /// The transaction's id, to ask about if the acknowledgement is lost.
    pub(super) txid: i64,
}

/// Checks `commit` against the store and inserts its events and its
/// idempotency key, in a transaction that holds the append lock. Every
/// refusal is found before anything is written, except a duplicate unique
/// value, which the insert itself reports.
pub(super) async fn write_commit(tx: &mut sqlx::PgConnection, commit: &Commit) -> Result<Written, AppendError> {
    if let Some((key, fingerprint)) = &commit.idempotency {
        let row: Option<(String, i16, Value)> = sqlx::query_as(super::idempotency::SELECT_ANSWER)
            .bind(key)
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(row) = row {
            return Err(match super::idempotency::answer_from_row(key, fingerprint, row)? {
                KeyedAnswer::Accepted(receipt) => AppendError::Replayed(Box::new(receipt)),
                KeyedAnswer::Refused(refusal) => AppendError::Refused(refusal),
            });
        }
    }

    check_versions(tx, commit).await?;

    if let Some((participant_id, seen)) = &commit.enrolling_cohorts {
        let now: Vec<String> = sqlx::query_scalar(super::read::COHORTS_ENROLLING)
            .bind(participant_id)
            .fetch_all(&mut *tx)
            .await?;
        if let Some(new) = now.into_iter().find(|cohort| !seen.contains(cohort)) {
            // The decision saw none of that cohort's events.
            let (actual,): (i64,) = sqlx::query_as(
                "SELECT COALESCE(MAX(sequence), 0) FROM events WHERE aggregate_type = 'cohort' AND aggregate_id = $1",
            )
            .bind(&new)
            .fetch_one(&mut *tx)
            .await?;
            return Err(AppendError::Conflict {
                aggregate_type: "cohort".to_string(),
                aggregate_id: new,
                expected: 0,
                actual: actual as u64,
            });
        }
    }

    let metadata = serde_json::to_value(&commit.metadata)
        .map_err(|e| AppendError::Store(StoreError::Repository(e.to_string())))?;
    let mut types = Vec::new();
    let mut ids = Vec::new();
    let mut sequences = Vec::new();
    let mut event_types = Vec::new();
    let mut versions = Vec::new();
    let mut payloads = Vec::new();
    let mut streams = Vec::new();
    for write in &commit.writes {
        for (i, event) in write.events.iter().enumerate() {
            types.push(write.aggregate_type.to_string());
            ids.push(write.aggregate_id.clone());
            sequences.push((write.expected_version + 1 + i as u64) as i64);
            event_types.push(event.event_type.clone());
            versions.push(event.event_version.clone());
            payloads.push(event.payload.get());
        }
        streams.push(StreamReceipt {
            aggregate_type: write.aggregate_type.to_string(),
            aggregate_id: write.aggregate_id.clone(),
            version: write.expected_version + write.events.len() as u64,
        });
    }
    // Stamped strictly later than anything already recorded, so the
    // recorded clock orders commits exactly as global positions do. The
    // transaction id is what to ask about if the acknowledgement is lost.
    let inserted: Vec<(i64, DateTime<Utc>, i64)> = sqlx::query_as(
        "WITH stamp AS (SELECT GREATEST(clock_timestamp(), \
                            (SELECT MAX(recorded_at) FROM events) + interval '1 microsecond') AS at) \
         INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, \
                             payload, metadata, recorded_at) \
         SELECT t, i, s, et, ev, p::json, $7, (SELECT at FROM stamp) \
           FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[]) \
                WITH ORDINALITY AS e(t, i, s, et, ev, p, n) \
          ORDER BY n \
         RETURNING global_position, recorded_at, txid_current()",
    )
    .bind(&types)
    .bind(&ids)
    .bind(&sequences)
    .bind(&event_types)
    .bind(&versions)
    .bind(&payloads)
    .bind(&metadata)
    .fetch_all(&mut *tx)
    .await?;
    let global_position = inserted.iter().map(|p| p.0).max().unwrap_or(0);
    let (recorded_at, txid) = match inserted.first() {
        Some(&(_, recorded_at, txid)) => (recorded_at, txid),
        // A commit always has events (the runner refuses one without).
        None => {
            return Err(AppendError::Store(StoreError::Repository(
                "a commit without events".into(),
            )))
        }
    };

    let receipt = CommitReceipt {
        streams,
        global_position,
        recorded_at,
        events_appended: inserted.len(),
    };
    if let Some((key, fingerprint)) = &commit.idempotency {
        sqlx::query(
            "INSERT INTO idempotency_keys (idempotency_key, request_fingerprint, response_status, response_body) \
                 VALUES ($1, $2, 201, $3)",
        )
        .bind(key)
        .bind(fingerprint)
        .bind(serde_json::to_value(&receipt).map_err(|e| AppendError::Store(StoreError::Repository(e.to_string())))?)
        .execute(&mut *tx)
        .await?;
    }
    Ok(Written { receipt, txid })
}

/// Fails with the first conflict when a stream `commit` writes or guards is
/// no longer at the version its decision read (one statement for all).
async fn check_versions(tx: &mut sqlx::PgConnection, commit: &Commit) -> Result<(), AppendError> {
    let checks: Vec<(&str, &String, u64)> = commit
        .writes
        .iter()
        .map(|w| (w.aggregate_type, &w.aggregate_id, w.expected_version))
        .chain(commit.guards.iter().map(|(t, id, v)| (*t, id, *v)))
        .collect();
    let types: Vec<&str> = checks.iter().map(|c| c.0).collect();
    let ids: Vec<&str> = checks.iter().map(|c| c.1.as_str()).collect();
    let actual: Vec<i64> = sqlx::query_scalar(concat!(
        "SELECT ",
        stream_version_now!(),
        " FROM UNNEST($1::text[], $2::text[]) WITH ORDINALITY AS s(t, i, n) ORDER BY n"
    ))
    .bind(&types)
    .bind(&ids)
    .fetch_all(&mut *tx)
    .await?;
    for ((aggregate_type, aggregate_id, expected), actual) in checks.into_iter().zip(actual) {
        if actual as u64 != expected {
            return Err(AppendError::Conflict {
                aggregate_type: aggregate_type.to_string(),
                aggregate_id: aggregate_id.clone(),
                expected,
                actual: actual as u64,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_locked_begin_takes_the_append_lock() {
        let key: i64 = 0x7465_6e75_7265;
        assert!(super::LOCKED_BEGIN.ends_with(&format!("({key})")));
    }
}
