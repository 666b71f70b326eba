//! The one error type of the HTTP API.
//!
//! Every failure answers a JSON body `{ "error", "message", "field" }`:
//! `error` is a stable snake_case code clients can match on, `message` a
//! sentence for people, `field` the JSON path or header at fault (or null).
//! Internal failures are logged with their cause and answered with a generic
//! 500 that reveals nothing.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

/// The body of every error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `not_employed`, `invalid_json`.
    pub error: String,
    /// A sentence saying what was wrong.
    pub message: String,
    /// The JSON path, query parameter or header at fault, if one is.
    pub field: Option<String>,
}

/// A failed request.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request is malformed (bad JSON, wrong types, bad header).
    #[error("{message}")]
    BadRequest {
        code: &'static str,
        message: String,
        field: Option<String>,
    },
    /// 401: no bearer token, or one unknown or revoked (src/http/auth.rs
    /// adds `WWW-Authenticate: Bearer`).
    #[error("{message}")]
    Unauthorized { code: &'static str, message: String },
    /// 403: the token's role may not do this.
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
    /// 404: the aggregate or resource does not exist.
    #[error("{message}")]
    NotFound { code: &'static str, message: String },
    /// 405: the path exists but not with this method.
    #[error("{message}")]
    MethodNotAllowed { message: String },
    /// 409: the aggregate moved on (optimistic concurrency) or is taken.
    #[error("{message}")]
    Conflict {
        code: &'static str,
        message: String,
        field: Option<String>,
    },
    /// 413: the body is larger than the server accepts.
    #[error("{message}")]
    PayloadTooLarge { message: String },
    /// 415: the body is not of the media type the endpoint takes.
    #[error("{message}")]
    UnsupportedMediaType { message: String },
    /// 422: well-formed but refused by a domain rule; names the rule.
    #[error("{message}")]
    Unprocessable {
        code: String,
        message: String,
        field: Option<String>,
    },
    /// 503: a dependency is not ready (database down, projector behind).
    #[error("{message}")]
    Unavailable { code: &'static str, message: String },
    /// 503 with `Retry-After`: the database is down or did not answer in
    /// time (`database_unavailable`), a lock or statement ran past its
    /// timeout (`database_busy`), the request ran past its own
    /// (`request_timeout`), every report slot is taken (`overloaded`), or
    /// the connection failed while a command was being committed and the
    /// database could not say in time whether it was (`outcome_unknown`:
    /// retry with the same `Idempotency-Key`).
    /// Worth retrying after `retry_after_secs`.
    #[error("{message}")]
    ServiceUnavailable {
        code: &'static str,
        message: String,
        retry_after_secs: u32,
    },
    /// 500: a fault of ours; the cause is logged, never sent.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Seconds a client is told to wait when the database is unreachable.
pub const RETRY_AFTER_OUTAGE_SECS: u32 = 5;
/// Seconds a client is told to wait after a lock or statement timeout.
pub const RETRY_AFTER_BUSY_SECS: u32 = 2;
/// Seconds a client is told to wait when every report slot is taken: a
/// report takes well under a second, so a slot is soon free.
pub const RETRY_AFTER_OVERLOAD_SECS: u32 = 1;

impl ApiError {
    /// A 400 naming the field at fault.
    pub fn bad_request(code: &'static str, field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::BadRequest {
            code,
            message: message.into(),
            field: Some(field.into()),
        }
    }

    /// A 422 naming the field at fault.
    pub fn rule(code: impl Into<String>, field: Option<&str>, message: impl Into<String>) -> Self {
        ApiError::Unprocessable {
            code: code.into(),
            message: message.into(),
            field: field.map(str::to_string),
        }
    }

    /// A 404 for an unknown aggregate.
    pub fn not_found(what: &str, id: impl std::fmt::Display) -> Self {
        ApiError::NotFound {
            code: "not_found",
            message: format!("no {what} with id {id}"),
        }
    }

    /// The 503 for a database that cannot be reached.
    pub fn database_unavailable() -> Self {
        ApiError::ServiceUnavailable {
            code: "database_unavailable",
            message: "the database is unavailable; retry later".to_string(),
            retry_after_secs: RETRY_AFTER_OUTAGE_SECS,
        }
    }

    /// The 503 for a commit whose acknowledgement was lost and whose
    /// outcome the database could not tell.
    pub fn outcome_unknown() -> Self {
        ApiError::ServiceUnavailable {
            code: "outcome_unknown",
            message: "the connection to the database failed while this command was being committed, and \
                      whether it was recorded is unknown; retry with the same Idempotency-Key (a retry \
                      without one may record it twice), or read the history first"
                .to_string(),
            retry_after_secs: RETRY_AFTER_OUTAGE_SECS,
        }
    }

    /// The 503 for a report refused because as many as the server computes
    /// at once are running already.
    pub fn overloaded() -> Self {
        ApiError::ServiceUnavailable {
            code: "overloaded",
            message: "the server is computing as many reports as it can at once; retry shortly".to_string(),
            retry_after_secs: RETRY_AFTER_OVERLOAD_SECS,
        }
    }

    /// The 503 for a failure that is the database being down or too busy
    /// (pool timeout, lost connection, lock or statement timeout), if `e` is
    /// one; `None` for a fault of ours.
    pub fn from_database_outage(e: &sqlx::Error) -> Option<Self> {
        match e {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                Some(ApiError::database_unavailable())
            }
            sqlx::Error::Database(db) => {
                let code = db.code()?;
                let busy = |message: &str| ApiError::ServiceUnavailable {
                    code: "database_busy",
                    message: message.to_string(),
                    retry_after_secs: RETRY_AFTER_BUSY_SECS,
                };
                match code.as_ref() {
                    // lock_not_available: lock_timeout expired.
                    "55P03" => Some(busy("a lock the request needed was held too long; retry later")),
                    // query_canceled: statement_timeout expired.
                    "57014" => Some(busy("the database took too long to answer; retry later")),
                    // deadlock_detected: PostgreSQL broke a lock cycle by
                    // cancelling this statement; the other side went on.
                    "40P01" => Some(busy("the request met a deadlock in the database; retry later")),
                    // Connection exceptions, and the server shutting down or
                    // starting up.
                    c if c.starts_with("08") || matches!(c, "57P01" | "57P02" | "57P03") => {
                        Some(ApiError::database_unavailable())
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// A 500 whose cause is logged.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        ApiError::Internal(cause.to_string())
    }

    fn parts(&self) -> (StatusCode, ErrorBody) {
        let body = |error: &str, message: &str, field: &Option<String>| ErrorBody {
            error: error.to_string(),
            message: message.to_string(),
            field: field.clone(),
        };
        match self {
            ApiError::BadRequest { code, message, field } => (StatusCode::BAD_REQUEST, body(code, message, field)),
            ApiError::Unauthorized { code, message } => (
                StatusCode::UNAUTHORIZED,
                body(code, message, &Some("Authorization".to_string())),
            ),
            ApiError::Forbidden { code, message } => (StatusCode::FORBIDDEN, body(code, message, &None)),
            ApiError::NotFound { code, message } => (StatusCode::NOT_FOUND, body(code, message, &None)),
            ApiError::MethodNotAllowed { message } => (
                StatusCode::METHOD_NOT_ALLOWED,
                body("method_not_allowed", message, &None),
            ),
            ApiError::Conflict { code, message, field } => (StatusCode::CONFLICT, body(code, message, field)),
            ApiError::PayloadTooLarge { message } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                body("body_too_large", message, &Some("body".to_string())),
            ),
            ApiError::UnsupportedMediaType { message } => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                body("unsupported_media_type", message, &Some("Content-Type".to_string())),
            ),
            ApiError::Unprocessable { code, message, field } => {
                (StatusCode::UNPROCESSABLE_ENTITY, body(code, message, field))
            }
            ApiError::Unavailable { code, message } => (StatusCode::SERVICE_UNAVAILABLE, body(code, message, &None)),
            ApiError::ServiceUnavailable { code, message, .. } => {
                (StatusCode::SERVICE_UNAVAILABLE, body(code, message, &None))
            }
            ApiError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                body(
                    "internal_error",
                    "the server failed to answer; the cause is in its log",
                    &None,
                ),
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(cause) = &self {
            tracing::error!(%cause, "request failed");
        }
        let (status, body) = self.parts();
        let mut response = (status, Json(body)).into_response();
        if let ApiError::ServiceUnavailable { retry_after_secs, .. } = &self {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, (*retry_after_secs).into());
        }
        response
    }
}

impl From<crate::event_store::StoreError> for ApiError {
    fn from(e: crate::event_store::StoreError) -> Self {
        if let crate::event_store::StoreError::OutcomeUnknown { txid, cause } = &e {
            tracing::error!(txid, %cause, "a commit's outcome is unknown");
            return ApiError::outcome_unknown();
        }
        if let Some(db) = e.database_error() {
            if let Some(unavailable) = ApiError::from_database_outage(db) {
                tracing::warn!(cause = %e, "database unavailable or busy");
                return unavailable;
            }
        }
        ApiError::internal(e)
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        if let Some(unavailable) = ApiError::from_database_outage(&e) {
            tracing::warn!(cause = %e, "database unavailable or busy");
            return unavailable;
        }
        ApiError::internal(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event_store::StoreError;

    #[test]
    fn an_unknown_commit_outcome_is_a_503_outcome_unknown_to_retry_with_the_same_key() {
        let e = StoreError::OutcomeUnknown {
            txid: 42,
            cause: "connection reset".to_string(),
        };
        let (status, body) = ApiError::from(e).parts();
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body.error, "outcome_unknown");
        assert!(body.message.contains("same Idempotency-Key"));
        assert!(
            !body.message.contains("connection reset"),
            "the cause is logged, not sent"
        );
    }
}
