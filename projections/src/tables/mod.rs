//! The read-model tables: writing the rows of the aggregates a batch touched
//! ([`write`]), and reading back the part a report needs as its input ([`read`],
//! [`scope`]).
//! `docs/read-models.md` describes every table for people querying them.

mod copy;
mod names;
mod parked;
mod read;
mod scope;
mod write;

pub(crate) use copy::CopyRows;
pub use names::{name_in_read_models, names_in_read_models};
pub(crate) use parked::park;
pub use parked::{parked_events, ParkedEvent, ParkedEvents};
pub use read::{load_dataset, load_scoped_dataset};
pub use scope::{Cohorts, People, Posts, Scope};
pub(crate) use write::delete_rows;
pub use write::write_batch;

use chrono::{DateTime, Utc};

/// What a report's figures reflect: the last event they include.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Provenance {
    /// `read_models` (the projector's tables) or `replay` (events recorded
    /// up to `known_at`).
    pub source: &'static str,
    /// The `known_at` asked for, if any.
    pub known_at: Option<DateTime<Utc>>,
    /// Global position of the last event reflected (0: none).
    pub last_global_position: i64,
    /// The last recorded time the figures reflect: that event's, or the
    /// last ladder replacement's when later (a ladder edit re-judges history,
    /// docs/metrics.md decision 14). Ask again with `known_at` set to it to
    /// reproduce these figures exactly.
    pub last_recorded_at: Option<DateTime<Utc>>,
    /// How many events the projector could not apply and parked (see
    /// `GET /api/v1/admin/projection`): when above 0, the figures are
    /// computed without those events. Always 0 for a replay, which holds
    /// every event in memory.
    pub parked_events: i64,
}

/// When the last ladder replacement recorded (at or before `known_at`, if
/// given) was recorded.
pub(crate) async fn last_ladder_edit(
    db: &mut sqlx::PgConnection,
    known_at: Option<DateTime<Utc>>,
) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT max(recorded_at) FROM ladder_versions WHERE $1::timestamptz IS NULL OR recorded_at <= $1",
    )
    .bind(known_at)
    .fetch_one(db)
    .await
}
