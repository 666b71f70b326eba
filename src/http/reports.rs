//! `/reports/*`: the five reports as JSON or CSV, and the projector's admin
//! endpoints (status, rebuild).
//!
//! The one place a report request's error becomes an HTTP answer: a
//! malformed or missing parameter is 400, a parameter the rules refuse 422,
//! read models that have not caught up 503.
//!
//! Reports are the expensive requests: each reads every read model and
//! computes over all of it. [`ReportGate`] bounds how many run at once and
//! gives them a database pool of their own, so a flood of reports is shed
//! with 503 `overloaded` instead of exhausting the pool that commands and
//! health checks need (docs/operations.md "Overload").

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use projections::projector::{self, ProjectionStatus, RebuildReport};

use super::error::ApiError;
use super::extract::decode;
use super::AppState;
use crate::reports::{self, ReportKind, ReportQuery, ReportRequestError, ReportSource};

/// How long a report waits for a slot before it is shed: long enough to
/// smooth a dashboard's burst, short enough that a client is not left
/// hanging behind a flood.
pub const REPORT_QUEUE_WAIT: Duration = Duration::from_secs(1);

/// Reports computed at once when not configured: two per core (a report
/// spends part of its time waiting for the database), at most 16 so that
/// the report pool stays well inside PostgreSQL's default 100 connections.
pub fn default_concurrent_reports() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    (2 * cores).clamp(2, 16)
}

/// Admits reports: at most `slots` at once, each reading through `pool`.
///
/// A report holds at most one connection at a time, so a pool of `slots`
/// connections never makes a report wait for a connection; give it a pool
/// of its own so that reports can never take the connections commands and
/// health checks use.
#[derive(Clone)]
pub struct ReportGate {
    pool: sqlx::PgPool,
    /// Streaming replicas to read report input from, in turn; none: the
    /// primary (`pool`) serves reports itself.
    replicas: Arc<[sqlx::PgPool]>,
    next_replica: Arc<std::sync::atomic::AtomicUsize>,
    slots: Arc<tokio::sync::Semaphore>,
    queue_wait: Duration,
}

impl ReportGate {
    /// At most `slots` reports at once (at least one) over `pool`; a report
    /// that finds none free within `queue_wait` gets 503 `overloaded`.
    pub fn new(pool: sqlx::PgPool, slots: usize, queue_wait: Duration) -> Self {
        Self {
            pool,
            replicas: Arc::new([]),
            next_replica: Arc::default(),
            slots: Arc::new(tokio::sync::Semaphore::new(slots.max(1))),
            queue_wait,
        }
    }

    /// Reads report input from `replicas` in turn instead of the primary.
    pub fn with_replicas(mut self, replicas: Vec<sqlx::PgPool>) -> Self {
        self.replicas = replicas.into();
        self
    }

    /// Where the next report reads: the next replica in turn, or the primary.
    pub(super) fn source(&self) -> ReportSource {
        if self.replicas.is_empty() {
            return ReportSource::primary(self.pool.clone());
        }
        let turn = self.next_replica.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        ReportSource::replica(self.pool.clone(), self.replicas[turn % self.replicas.len()].clone())
    }

    /// A slot, or 503 `overloaded` when none frees within the queue wait.
    pub(super) async fn admit(&self) -> Result<tokio::sync::OwnedSemaphorePermit, ApiError> {
        let slots = self.slots.clone();
        let permit = if self.queue_wait.is_zero() {
            slots.try_acquire_owned().ok()
        } else {
            tokio::time::timeout(self.queue_wait, slots.acquire_owned())
                .await
                .ok()
                .and_then(Result::ok)
        };
        permit.ok_or_else(|| {
            tracing::warn!("report shed: every report slot is taken");
            ApiError::overloaded()
        })
    }
}

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/reports/{kind}", get(report))
        .route("/admin/projection", get(status))
        .route("/admin/rebuild", post(rebuild))
}

impl From<ReportRequestError> for ApiError {
    fn from(e: ReportRequestError) -> Self {
        let (code, field) = (e.code(), e.field());
        match e {
            ReportRequestError::MissingParameter { .. }
            | ReportRequestError::InvalidParameter { .. }
            | ReportRequestError::KnownAtNotTimestamp { .. }
            | ReportRequestError::DateOutOfRange { .. }
            | ReportRequestError::MinPositionNotPosition
            | ReportRequestError::WaitNotMilliseconds => ApiError::BadRequest {
                code,
                message: e.to_string(),
                field: field.map(str::to_string),
            },
            ReportRequestError::Refused { .. }
            | ReportRequestError::UnsupportedParameter { .. }
            | ReportRequestError::KnownAtInFuture { .. }
            | ReportRequestError::UnknownPosition { .. } => ApiError::rule(code, field, e.to_string()),
            ReportRequestError::ProjectionBehind { .. } | ReportRequestError::ReplicaBehind { .. } => {
                ApiError::Unavailable {
                    code,
                    message: e.to_string(),
                }
            }
            ReportRequestError::Database(e) => ApiError::from(e),
            ReportRequestError::Internal(cause) => ApiError::Internal(cause),
        }
    }
}

/// The query string as one value per parameter. A parameter given twice is
/// 400: taking the last (or first) would answer a question not asked; a
/// list is one comma-separated value (docs/metrics.md "Naming what a report
/// counts").
pub(super) fn once_each(pairs: Vec<(String, String)>) -> Result<serde_json::Map<String, serde_json::Value>, ApiError> {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for (name, _) in &pairs {
        *counts.entry(name).or_default() += 1;
    }
    if let Some((name, times)) = counts.into_iter().filter(|(_, n)| *n > 1).min() {
        return Err(ApiError::bad_request(
            "invalid_parameter",
            name,
            format!("{name} is given {times} times; give it once (a list is one comma-separated value)"),
        ));
    }
    Ok(pairs
        .into_iter()
        .map(|(name, value)| (name, serde_json::Value::String(value)))
        .collect())
}

fn wants_csv(query: &ReportQuery, headers: &HeaderMap) -> Result<bool, ApiError> {
    match query.format.as_deref() {
        Some("csv") => Ok(true),
        Some("json") => Ok(false),
        Some(other) => Err(ApiError::bad_request(
            "invalid_parameter",
            "format",
            format!("format {other:?} is not json or csv"),
        )),
        None => Ok(headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/csv"))),
    }
}

/// A report: `promotions`, `leavers`, `retention`, `turnover` or `vacancies`.
#[utoipa::path(get, path = "/api/v1/reports/{kind}", tag = "reports",
    params(("kind" = String, Path, description = "promotions, leavers, retention, turnover or vacancies"), ReportQuery),
    responses((status = 200, description = "JSON {report, provenance}, or CSV rows, header first (Accept: text/csv or format=csv)",
                  content((Object = "application/json"), (String = "text/csv")),
                  headers(("X-Tenure-Last-Position" = i64, description = "The last event's global position the figures reflect"),
                          ("X-Tenure-Last-Recorded-At" = String, description = "When that event was recorded (RFC 3339); absent for an empty store"))),
              (status = 400, description = "A parameter missing or malformed", body = super::error::ErrorBody),
              (status = 404, description = "No such report", body = super::error::ErrorBody),
              (status = 422, description = "The report's rules refuse the parameters", body = super::error::ErrorBody),
              (status = 503, description = "The read models did not reach min_position in time (`projection_behind`), the replica serving reports has not caught up (`replica_behind`), or every report slot is taken (`overloaded`, with Retry-After)", body = super::error::ErrorBody)))]
pub(super) async fn report(
    State(s): State<AppState>,
    Path(kind): Path<String>,
    Query(raw): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let kind: ReportKind =
        serde_json::from_value(serde_json::Value::String(kind.clone())).map_err(|_| ApiError::NotFound {
            code: "no_such_report",
            message: format!("no report {kind:?}; there are promotions, leavers, retention, turnover and vacancies"),
        })?;
    let query: ReportQuery = decode(&serde_json::Value::Object(once_each(raw)?))?;
    let csv = wants_csv(&query, &headers)?;
    // Held until the answer is rendered: CSV writing is part of the work.
    let _slot = s.reports.admit().await?;
    let answer = reports::produce_from(&s.reports.source(), kind, &query).await?;
    let mut response = if csv {
        let body = reports::to_csv(&answer.rows)?;
        ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], body).into_response()
    } else {
        Json(&answer).into_response()
    };
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&answer.provenance.last_global_position.to_string()) {
        h.insert("x-tenure-last-position", v);
    }
    if let Some(at) = answer.provenance.last_recorded_at {
        if let Ok(v) = HeaderValue::from_str(&at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)) {
            h.insert("x-tenure-last-recorded-at", v);
        }
    }
    Ok(response)
}

/// Where the live read models stand, and the events the projector parked
/// because it could not apply them.
#[utoipa::path(get, operation_id = "projection_status", path = "/api/v1/admin/projection", tag = "admin",
    responses((status = 200, body = ProjectionStatus)))]
pub(super) async fn status(State(s): State<AppState>) -> Result<Json<ProjectionStatus>, ApiError> {
    Ok(Json(projector::status(s.store().pool(), projector::LIVE_SCHEMA).await?))
}

/// Rebuild every read model from zero into fresh tables and swap them in.
#[utoipa::path(post, operation_id = "rebuild_read_models", path = "/api/v1/admin/rebuild", tag = "admin",
    responses((status = 200, body = RebuildReport), (status = 409, body = super::error::ErrorBody)))]
pub(super) async fn rebuild(State(s): State<AppState>) -> Result<Json<RebuildReport>, ApiError> {
    match projector::rebuild(s.store().pool()).await {
        Ok(report) => Ok(Json(report)),
        Err(e @ projector::ProjectorError::RebuildInProgress) => Err(ApiError::Conflict {
            code: "rebuild_in_progress",
            message: e.to_string(),
            field: None,
        }),
        // A lock timeout or an outage is 503 with Retry-After, as for commands.
        Err(projector::ProjectorError::Database(e)) => Err(ApiError::from(e)),
        Err(e) => Err(ApiError::internal(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The API's answer is the one it gave before reports had their own error.
    fn same(new: ReportRequestError, old: ApiError) {
        assert_eq!(format!("{:?}", ApiError::from(new)), format!("{old:?}"));
    }

    #[test]
    fn malformed_parameters_are_400_refused_ones_422_and_a_lagging_projection_503() {
        same(
            ReportRequestError::MissingParameter {
                field: "as_at",
                message: "give ?as_at= for this report".into(),
            },
            ApiError::bad_request("missing_parameter", "as_at", "give ?as_at= for this report"),
        );
        same(
            ReportRequestError::InvalidParameter {
                field: "participants_limit",
                message: "participants_limit must be 1 to 10000, not 0".into(),
            },
            ApiError::bad_request(
                "invalid_parameter",
                "participants_limit",
                "participants_limit must be 1 to 10000, not 0",
            ),
        );
        same(
            ReportRequestError::ReplicaBehind { waited_ms: 20 },
            ApiError::Unavailable {
                code: "replica_behind",
                message: "the replica serving reports has not caught up with the primary within 20 ms; retry shortly"
                    .into(),
            },
        );
        same(
            ReportRequestError::WaitNotMilliseconds,
            ApiError::bad_request(
                "invalid_parameter",
                "wait_ms",
                "wait_ms must be a number of milliseconds",
            ),
        );
        same(
            projections::reports::ReportError::NoTargets.into(),
            ApiError::rule(
                "invalid_report_parameters",
                Some("targets"),
                "at least one target role is needed",
            ),
        );
        same(
            ReportRequestError::UnknownPosition { position: 9, last: 7 },
            ApiError::rule(
                "unknown_position",
                Some("min_position"),
                "no event has global position 9: the store ends at 7",
            ),
        );
        same(
            ReportRequestError::ProjectionBehind {
                position: 9,
                waited_ms: 20,
            },
            ApiError::Unavailable {
                code: "projection_behind",
                message: "the read models have not reached position 9 within 20 ms; retry shortly, or ask with \
                          known_at for an answer replayed from the events"
                    .into(),
            },
        );
        same(
            ReportRequestError::UnsupportedParameter {
                kind: ReportKind::Vacancies,
                parameter: "role",
            },
            ApiError::rule(
                "unsupported_parameter",
                Some("role"),
                "the vacancies report does not take role; it takes organisation, on, and known_at, min_position, \
                 wait_ms, format, view, threshold",
            ),
        );
        same(ReportRequestError::internal("boom"), ApiError::internal("boom"));
    }

    #[test]
    fn a_database_outage_or_timeout_during_a_report_is_503_not_500() {
        same(
            ReportRequestError::Database(sqlx::Error::PoolTimedOut),
            ApiError::database_unavailable(),
        );
        same(
            ReportRequestError::Database(sqlx::Error::RowNotFound),
            ApiError::internal(sqlx::Error::RowNotFound),
        );
    }
}
