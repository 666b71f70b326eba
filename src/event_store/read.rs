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

impl EventStore {
    /// Loads and folds one aggregate's stream as known at `known_at`: only
    /// the events recorded at or before it (every event when `None`).
    pub async fn load_known_at<A: cqrs_es::Aggregate>(
        &self,
        aggregate_id: &str,
        known_at: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<super::LoadedStream<A>, StoreError> {
        let Some(at) = known_at else {
            return self.load::<A>(aggregate_id).await;
        };
        let rows: Vec<(i64, serde_json::Value)> = sqlx::query_as(
            "SELECT sequence, payload FROM events \
              WHERE aggregate_type = $1 AND aggregate_id = $2 AND recorded_at <= $3 ORDER BY sequence",
        )
        .bind(A::TYPE)
        .bind(aggregate_id)
        .bind(at)
        .fetch_all(self.reader().await?.connection()?)
        .await?;
        let mut loaded = super::LoadedStream {
            aggregate: A::default(),
            version: 0,
            events: Vec::with_capacity(rows.len()),
        };
        for (sequence, payload) in rows {
            let sequence = sequence as u64;
            let event: A::Event = serde_json::from_value(payload).map_err(|e| StoreError::Undecodable {
                aggregate_type: A::TYPE.to_string(),
                aggregate_id: aggregate_id.to_string(),
                sequence,
                reason: e.to_string(),
            })?;
            cqrs_es::Aggregate::apply(&mut loaded.aggregate, event.clone());
            loaded.events.push((sequence, event));
            loaded.version = sequence;
        }
        Ok(loaded)
    }
}
