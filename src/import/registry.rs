//! The `imports` table: what each import of a file did, for listing past
//! imports and for telling a user the same file was imported before.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use super::ImportSummary;

/// One past import, as `GET /api/v1/imports` and `tenure import --list` show it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct PastImport {
    pub import_id: Uuid,
    pub file_name: String,
    pub sha256: String,
    pub recorded_by: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub rows_read: i64,
    pub people: i64,
    pub facts_recorded: i64,
    pub facts_already_recorded: i64,
    pub rows_refused: i64,
    pub people_refused: i64,
    pub events_appended: i64,
}

/// When a file with this content was first imported, if ever.
pub(super) async fn imported_at(pool: &PgPool, sha256: &str) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    sqlx::query_scalar("SELECT min(finished_at) FROM imports WHERE sha256 = $1")
        .bind(sha256)
        .fetch_one(pool)
        .await
}

/// Keeps what an import did.
pub(super) async fn record(
    pool: &PgPool,
    summary: &ImportSummary,
    recorded_by: &str,
    started_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
    sqlx::query(
        "INSERT INTO imports (import_id, file_name, sha256, recorded_by, started_at, rows_read, people, \
                              facts_recorded, facts_already_recorded, rows_refused, people_refused, events_appended) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(Uuid::new_v4())
    .bind(&summary.file_name)
    .bind(&summary.sha256)
    .bind(recorded_by)
    .bind(started_at)
    .bind(count(summary.rows_read))
    .bind(count(summary.people))
    .bind(count(summary.facts_recorded))
    .bind(count(summary.facts_already_recorded))
    .bind(count(summary.rows_refused))
    .bind(count(summary.people_refused))
    .bind(count(summary.events_appended))
    .execute(pool)
    .await
    .map(drop)
}

/// Every import recorded, the latest first.
pub async fn past_imports(pool: &PgPool) -> Result<Vec<PastImport>, sqlx::Error> {
    sqlx::query_as("SELECT * FROM imports ORDER BY finished_at DESC, import_id")
        .fetch_all(pool)
        .await
}
