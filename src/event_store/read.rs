//! Reading events back: the write side's view of the shared reader in
//! `projections::source`.

use projections::source;
pub use projections::source::{Position, StoredEvent};

use super::{EventStore, StoreError};

impl EventStore {
    /// Every event of one aggregate, in stream order, for auditors.
    pub async fn history(&self, aggregate_type: &str, aggregate_id: &str) -> Result<Vec<StoredEvent>, StoreError> {
        Ok(source::history(&self.pool, aggregate_type, aggregate_id).await?)
    }

    /// Up to `limit` events after `after`, in commit order, never skipping one.
    pub async fn read_after(&self, after: Position, limit: i64) -> Result<Vec<StoredEvent>, StoreError> {
        Ok(source::read_after(&self.pool, after, limit).await?)
    }

    /// The participant registered under `external_ref`, if any.
    pub async fn participant_by_external_ref(&self, external_ref: &str) -> Result<Option<uuid::Uuid>, StoreError> {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT aggregate_id FROM events \
              WHERE aggregate_type = 'participant' AND event_type = 'ParticipantRegistered' \
                AND payload -> 'Registered' ->> 'external_ref' = $1",
        )
        .bind(external_ref)
        .fetch_optional(self.reader().await?.connection()?)
        .await?;
        Ok(row.and_then(|(id,)| id.parse().ok()))
    }

    /// The post established in `organisation` under `reference`, if any
    /// (through `events_post_reference_idx`, migration 0012).
    pub async fn post_by_reference(
        &self,
        organisation: &str,
        reference: &str,
    ) -> Result<Option<uuid::Uuid>, StoreError> {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT aggregate_id FROM events \
              WHERE aggregate_type = 'post' AND event_type = 'PostEstablished' \
                AND payload -> 'Established' ->> 'reference' IS NOT NULL \
                AND payload -> 'Established' ->> 'organisation' = $1 \
                AND payload -> 'Established' ->> 'reference' = $2",
        )
        .bind(organisation)
        .bind(reference)
        .fetch_optional(self.reader().await?.connection()?)
        .await?;
        Ok(row.and_then(|(id,)| id.parse().ok()))
    }

    /// The cohorts with an enrolment of `participant_id` recorded (live or
    /// since retracted: the caller loads each cohort to see which stand).
    pub async fn cohorts_enrolling(&self, participant_id: uuid::Uuid) -> Result<Vec<uuid::Uuid>, StoreError> {
        let rows: Vec<String> = sqlx::query_scalar(COHORTS_ENROLLING)
            .bind(participant_id.to_string())
            .fetch_all(self.reader().await?.connection()?)
            .await?;
        Ok(rows.into_iter().filter_map(|id| id.parse().ok()).collect())
    }
}

/// The ids of the cohorts with an enrolment of participant `$1` recorded, in order.
pub const COHORTS_ENROLLING: &str = "SELECT DISTINCT aggregate_id FROM events \
      WHERE aggregate_type = 'cohort' AND event_type = 'ParticipantEnrolled' \
        AND payload -> 'ParticipantEnrolled' ->> 'participant_id' = $1 \
      ORDER BY aggregate_id";

/// (participant, cohort) for every cohort with an enrolment recorded of any
/// participant in `$1`.
pub const COHORTS_ENROLLING_ANY: &str =
    "SELECT DISTINCT payload -> 'ParticipantEnrolled' ->> 'participant_id', aggregate_id FROM events \
      WHERE aggregate_type = 'cohort' AND event_type = 'ParticipantEnrolled' \
        AND payload -> 'ParticipantEnrolled' ->> 'participant_id' = ANY($1)";
