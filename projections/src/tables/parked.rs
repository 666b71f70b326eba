//! Parked events: the events the projector could not apply, each with the
//! error it met (`parked_events` in the read-model schema, from
//! `migrations/0004_parked_events.sql`). Every other stream carries on, and
//! reports say how many events were parked.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, Postgres, Transaction};

use crate::source::StoredEvent;

/// How many of the first parked events the admin status lists.
pub(super) const LISTED: i64 = 10;

/// One event the projector could not apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ParkedEvent {
    /// The event's global position in the store.
    pub global_position: i64,
    /// Its stream: aggregate type and id, and its sequence there.
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    /// Why it could not be applied.
    pub error: String,
    /// When the projector parked it.
    pub parked_at: DateTime<Utc>,
}

/// The parked events of a schema: how many, and the first [`LISTED`] in
/// store order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ParkedEvents {
    /// How many events are parked (0 when every event was applied).
    pub count: i64,
    /// The first of them, earliest global position first.
    pub first: Vec<ParkedEvent>,
}

/// Records `event` as parked with `error`.
pub(crate) async fn park(
    tx: &mut Transaction<'_, Postgres>,
    schema: &str,
    event: &StoredEvent,
    error: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "INSERT INTO {schema}.parked_events (global_position, aggregate_type, aggregate_id, sequence, event_type, error) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (global_position) DO NOTHING"
    ))
    .bind(event.global_position)
    .bind(&event.aggregate_type)
    .bind(&event.aggregate_id)
    .bind(event.sequence)
    .bind(&event.event_type)
    .bind(error)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// How many events of `schema` are parked.
pub(crate) async fn count(db: &mut PgConnection, schema: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(&format!("SELECT count(*) FROM {schema}.parked_events"))
        .fetch_one(db)
        .await
}

/// The parked events of `schema`: the count and the first [`LISTED`].
pub async fn parked_events(pool: &sqlx::PgPool, schema: &str) -> Result<ParkedEvents, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .execute(&mut *tx)
        .await?;
    let count = count(&mut tx, schema).await?;
    let first = sqlx::query_as(&format!(
        "SELECT global_position, aggregate_type, aggregate_id, sequence, event_type, error, parked_at \
           FROM {schema}.parked_events ORDER BY global_position LIMIT $1"
    ))
    .bind(LISTED)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(ParkedEvents { count, first })
}
