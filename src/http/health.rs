//! `/healthz`: is the process up and can it reach its database?

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;

use super::AppState;

/// The health answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct Health {
    /// `ok` or `degraded`.
    pub status: &'static str,
    /// `reachable` or `unreachable`.
    pub database: &'static str,
}

/// 200 when the database answers, 503 when it does not.
#[utoipa::path(get, path = "/healthz", tag = "health",
    responses((status = 200, body = Health), (status = 503, body = Health)))]
pub(super) async fn healthz(State(s): State<AppState>) -> (StatusCode, Json<Health>) {
    let probe = tokio::time::timeout(
        std::time::Duration::from_secs(3),
        sqlx::query("SELECT 1").execute(s.store().pool()),
    )
    .await;
    match probe {
        Ok(Ok(_)) => (
            StatusCode::OK,
            Json(Health {
                status: "ok",
                database: "reachable",
            }),
        ),
        _ => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(Health {
                status: "degraded",
                database: "unreachable",
            }),
        ),
    }
}
