//! Health and availability.
//!
//! - `/healthz/live`: 200 whenever the process serves HTTP (liveness).
//! - `/healthz/ready` and `/healthz` (kept for compatibility, same answer):
//!   200 when the database answers, 503 when it does not (readiness).
//!
//! [`Guard`] is the middleware `tenure serve` puts around the whole API: it
//! probes the database every second and, while it does not answer, answers
//! every request at once with 503 `database_unavailable` and `Retry-After`
//! rather than letting each one wait for a pool timeout; it also bounds each
//! request's total time.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use sqlx::{Connection as _, PgConnection, PgPool};

use super::error::{ApiError, RETRY_AFTER_BUSY_SECS};
use super::AppState;

/// Longest a readiness probe waits for the database.
/// How long `POST /api/v1/imports` may take (other requests get the
/// configured request timeout).
pub const IMPORT_TIMEOUT: Duration = Duration::from_secs(3600);

const PROBE_TIMEOUT: Duration = Duration::from_secs(3);
/// How often [`Guard::watch`] probes the database.
const PROBE_INTERVAL: Duration = Duration::from_secs(1);

/// The health answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok` or `degraded`.
    pub status: &'static str,
    /// `reachable` or `unreachable`.
    pub database: &'static str,
}

/// The liveness answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Liveness {
    /// Always `ok`.
    pub status: &'static str,
}

/// The health endpoints.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/healthz/ready", get(healthz))
        .route("/healthz/live", get(live))
}

/// Readiness: 200 when the database answers, 503 when it does not.
#[utoipa::path(get, path = "/healthz", tag = "health",
    responses((status = 200, body = Health), (status = 503, body = Health)))]
pub async fn healthz(State(s): State<AppState>) -> (StatusCode, Json<Health>) {
    if database_answers(s.store().pool()).await {
        (
            StatusCode::OK,
            Json(Health {
                status: "ok",
                database: "reachable",
            }),
        )
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(Health {
                status: "degraded",
                database: "unreachable",
            }),
        )
    }
}

/// Liveness: 200 while the process serves, whatever its database does.
pub async fn live() -> Json<Liveness> {
    Json(Liveness { status: "ok" })
}

/// Whether the database answers `SELECT 1` within a few seconds. It tries an
/// idle pooled connection first, then a fresh connection, so that an outage
/// is seen at once (connection refused) instead of after the pool's acquire
/// timeout, and a pool full of slow requests does not read as an outage.
pub async fn database_answers(pool: &PgPool) -> bool {
    let probe = async {
        if let Some(mut conn) = pool.try_acquire() {
            if sqlx::query("SELECT 1").execute(&mut *conn).await.is_ok() {
                return true;
            }
            conn.close_on_drop();
        }
        let Ok(mut conn) = PgConnection::connect_with(&pool.connect_options()).await else {
            return false;
        };
        let answered = sqlx::query("SELECT 1").execute(&mut conn).await.is_ok();
        let _ = conn.close().await;
        answered
    };
    tokio::time::timeout(PROBE_TIMEOUT, probe).await.unwrap_or(false)
}

/// Answers fast during a database outage and bounds each request's time.
#[derive(Clone)]
pub struct Guard {
    pool: PgPool,
    database_down: Arc<AtomicBool>,
    request_timeout: Duration,
}

impl Guard {
    /// A guard over `pool`'s database; requests get `request_timeout` each.
    pub fn new(pool: PgPool, request_timeout: Duration) -> Self {
        Self {
            pool,
            database_down: Arc::new(AtomicBool::new(false)),
            request_timeout,
        }
    }

    /// Probes the database every second and records whether it answers.
    /// Never returns: run it alongside the server.
    pub async fn watch(&self) {
        loop {
            let up = database_answers(&self.pool).await;
            self.record(up);
            tokio::time::sleep(PROBE_INTERVAL).await;
        }
    }

    fn record(&self, up: bool) {
        let was_down = self.database_down.swap(!up, Ordering::Relaxed);
        match (was_down, up) {
            (false, false) => tracing::warn!("the database does not answer: requests get 503 until it does"),
            (true, true) => tracing::info!("the database answers again"),
            _ => {}
        }
    }

    /// The middleware: health checks pass straight through; while the
    /// database is known to be down every other request gets 503 at once; a
    /// request that runs past the timeout gets 503 `request_timeout`; a 500
    /// that happened because the database went away becomes a 503.
    pub async fn layer(State(guard): State<Guard>, request: Request, next: Next) -> Response {
        if request.uri().path().starts_with("/healthz") {
            return next.run(request).await;
        }
        let request_id = request.headers().get("x-request-id").cloned();
        let answer = if guard.database_down.load(Ordering::Relaxed) {
            ApiError::database_unavailable().into_response()
        } else {
            // An import's time grows with its file: it gets longer than a
            // command, and what it appended before a timeout stays recorded.
            let timeout = if request.method() == axum::http::Method::POST && request.uri().path() == "/api/v1/imports" {
                IMPORT_TIMEOUT.max(guard.request_timeout)
            } else {
                guard.request_timeout
            };
            match tokio::time::timeout(timeout, next.run(request)).await {
                Ok(response) if response.status() == StatusCode::INTERNAL_SERVER_ERROR => {
                    let up = database_answers(&guard.pool).await;
                    guard.record(up);
                    if up {
                        response
                    } else {
                        ApiError::database_unavailable().into_response()
                    }
                }
                Ok(response) => return response,
                Err(_) => {
                    tracing::warn!(?timeout, "request timed out");
                    ApiError::ServiceUnavailable {
                        code: "request_timeout",
                        message: format!("the request took longer than {} s; retry later", timeout.as_secs()),
                        retry_after_secs: RETRY_AFTER_BUSY_SECS,
                    }
                    .into_response()
                }
            }
        };
        with_request_id(answer, request_id)
    }
}

/// The answers made here never reached the request-id layer inside.
fn with_request_id(mut response: Response, request_id: Option<axum::http::HeaderValue>) -> Response {
    if let Some(id) = request_id {
        response.headers_mut().entry("x-request-id").or_insert(id);
    }
    response
}
