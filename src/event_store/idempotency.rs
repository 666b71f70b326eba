//! The first answer given under each `Idempotency-Key`.
//!
//! A key keeps whatever the first request that carried it was answered:
//! the receipt of its commit, or the refusal (404 or 422) a rule gave it.
//! Keeping refusals matters as much as keeping receipts: without them a
//! refused request retried after the data changed could succeed and append,
//! and a client that saw "refused" would never learn it was recorded.
//! Conflicts (409) and faults (5xx) are not kept: they say "try again".

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{AppendError, CommitReceipt, EventStore, StoreError};

/// A refusal kept under an idempotency key, exactly as it was answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    /// The HTTP status it was answered with (404 or 422).
    pub status: u16,
    /// The stable error code.
    pub error: String,
    pub message: String,
    pub field: Option<String>,
}

/// What a key's first request was answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyedAnswer {
    Accepted(CommitReceipt),
    Refused(Refusal),
}

/// A stored row of `idempotency_keys`, read back into an answer.
pub(super) fn answer_from_row(
    key: &str,
    fingerprint: &str,
    (stored_fingerprint, status, body): (String, i16, Value),
) -> Result<KeyedAnswer, AppendError> {
    if stored_fingerprint != fingerprint {
        return Err(AppendError::KeyReused(key.to_string()));
    }
    let corrupt = |e: serde_json::Error| AppendError::Store(StoreError::Repository(e.to_string()));
    if status == 201 {
        serde_json::from_value(body).map(KeyedAnswer::Accepted).map_err(corrupt)
    } else {
        serde_json::from_value(body).map(KeyedAnswer::Refused).map_err(corrupt)
    }
}

pub(super) const SELECT_ANSWER: &str =
    "SELECT request_fingerprint, response_status, response_body FROM idempotency_keys WHERE idempotency_key = $1";

impl EventStore {
    /// The first answer given under `key`, if any; [`AppendError::KeyReused`]
    /// when it was given to a different request.
    pub async fn idempotent_answer(&self, key: &str, fingerprint: &str) -> Result<Option<KeyedAnswer>, AppendError> {
        let row: Option<(String, i16, Value)> = sqlx::query_as(SELECT_ANSWER)
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| answer_from_row(key, fingerprint, row)).transpose()
    }

    /// Keeps `refusal` as the answer under `key` unless the key already has
    /// one (a concurrent request with the same key may have committed first),
    /// and returns whichever answer the key holds now.
    pub async fn record_refusal(
        &self,
        key: &str,
        fingerprint: &str,
        refusal: &Refusal,
    ) -> Result<KeyedAnswer, AppendError> {
        let body =
            serde_json::to_value(refusal).map_err(|e| AppendError::Store(StoreError::Repository(e.to_string())))?;
        sqlx::query(
            "INSERT INTO idempotency_keys (idempotency_key, request_fingerprint, response_status, response_body) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (idempotency_key) DO NOTHING",
        )
        .bind(key)
        .bind(fingerprint)
        .bind(refusal.status as i16)
        .bind(body)
        .execute(&self.pool)
        .await?;
        match self.idempotent_answer(key, fingerprint).await? {
            Some(answer) => Ok(answer),
            None => Err(AppendError::Store(StoreError::Repository(format!(
                "idempotency key {key:?} vanished after it was stored"
            )))),
        }
    }
}
