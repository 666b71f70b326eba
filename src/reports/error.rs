//! Why a report request was not answered, in the report layer's own words.
//!
//! Each variant names the rule the request broke; [`code`] and [`field`]
//! are the stable code and the parameter at fault that every caller shows.
//! The HTTP API turns this into its status codes (`src/http/reports.rs`,
//! the only place that knows them); the command line prints the message.
//!
//! [`code`]: ReportRequestError::code
//! [`field`]: ReportRequestError::field

use chrono::{DateTime, NaiveDate, Utc};
use projections::reports::ReportError;

use super::ReportKind;

/// A report request that could not be answered.
#[derive(Debug, thiserror::Error)]
pub enum ReportRequestError {
    /// A parameter the report needs was not given.
    #[error("{message}")]
    MissingParameter {
        /// The parameter.
        field: &'static str,
        /// What to give.
        message: String,
    },
    /// A parameter's value is not what it must be.
    #[error("{message}")]
    InvalidParameter {
        /// The parameter.
        field: &'static str,
        /// What it must be.
        message: String,
    },
    /// `known_at` is not an RFC 3339 timestamp.
    #[error("known_at {given:?} is not an RFC 3339 timestamp such as 2021-02-01T09:00:00Z")]
    KnownAtNotTimestamp {
        /// As given.
        given: String,
    },
    /// A date outside 1900–2199: a typo, and it would make period
    /// arithmetic and month-by-month curves unbounded.
    #[error("{field} = {date} is outside 1900-01-01..2199-12-31")]
    DateOutOfRange {
        /// The date parameter.
        field: &'static str,
        /// As given.
        date: NaiveDate,
    },
    /// `min_position` is not a non-negative integer.
    #[error("min_position must be a global position from a command's answer")]
    MinPositionNotPosition,
    /// `wait_ms` is not a number of milliseconds.
    #[error("wait_ms must be a number of milliseconds")]
    WaitNotMilliseconds,
    /// A parameter the report does not read (a filter it does not apply).
    #[error(
        "the {} report does not take {parameter}; it takes {}, and {}",
        kind.name(),
        kind.parameters().join(", "),
        super::params::EVERY_REPORT.join(", ")
    )]
    UnsupportedParameter {
        /// The report asked for.
        kind: ReportKind,
        /// The parameter it does not take.
        parameter: &'static str,
    },
    /// The report's rules refuse the parameters (a period ending before it
    /// starts, a cohort no one has, ...).
    #[error("{rule}")]
    Refused {
        /// The rule broken.
        rule: ReportError,
        /// The parameter at fault (a second period names its own start).
        field: &'static str,
    },
    /// `known_at` names a moment whose events are not all recorded yet.
    #[error("known_at {known_at} is after the store's clock ({now}); ask about a moment that has passed")]
    KnownAtInFuture {
        /// As asked.
        known_at: DateTime<Utc>,
        /// The database's clock.
        now: DateTime<Utc>,
    },
    /// `min_position` was never handed out.
    #[error("no event has global position {position}: the store ends at {last}")]
    UnknownPosition {
        /// As asked.
        position: i64,
        /// The last committed event's position.
        last: i64,
    },
    /// The read models did not reach `min_position` within the wait: the
    /// request may succeed if retried.
    #[error(
        "the read models have not reached position {position} within {waited_ms} ms; retry shortly, or ask with \
         known_at for an answer replayed from the events"
    )]
    ProjectionBehind {
        /// As asked.
        position: i64,
        /// How long the request waited.
        waited_ms: u128,
    },
    /// The replica a report reads from had not replayed, within the wait,
    /// everything the primary had committed when a `known_at` report came:
    /// the request may succeed if retried.
    #[error("the replica serving reports has not caught up with the primary within {waited_ms} ms; retry shortly")]
    ReplicaBehind {
        /// How long the request waited.
        waited_ms: u128,
    },
    /// The database failed: down, busy (a lock or statement timeout) or a
    /// fault of ours; the HTTP API tells these apart.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A fault of ours (encoding, say); the cause is for the log.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ReportRequestError {
    /// The same error naming `to` where it named `from`: for a caller that
    /// gives the parameter under another name (the board page's
    /// `census_from` is the turnover report's `from`).
    pub fn renamed(mut self, from: &str, to: &'static str) -> Self {
        match &mut self {
            ReportRequestError::MissingParameter { field, .. }
            | ReportRequestError::InvalidParameter { field, .. }
            | ReportRequestError::DateOutOfRange { field, .. }
            | ReportRequestError::Refused { field, .. }
                if *field == from =>
            {
                *field = to;
            }
            _ => {}
        }
        self
    }

    /// A fault of ours, keeping its cause for the log.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        ReportRequestError::Internal(cause.to_string())
    }

    /// Stable snake_case code, the one the API answers.
    pub fn code(&self) -> &'static str {
        match self {
            ReportRequestError::MissingParameter { .. } => "missing_parameter",
            ReportRequestError::InvalidParameter { .. }
            | ReportRequestError::KnownAtNotTimestamp { .. }
            | ReportRequestError::DateOutOfRange { .. }
            | ReportRequestError::MinPositionNotPosition
            | ReportRequestError::WaitNotMilliseconds => "invalid_parameter",
            ReportRequestError::UnsupportedParameter { .. } => "unsupported_parameter",
            ReportRequestError::Refused { rule, .. } => rule.code(),
            ReportRequestError::KnownAtInFuture { .. } => "known_at_in_future",
            ReportRequestError::UnknownPosition { .. } => "unknown_position",
            ReportRequestError::ProjectionBehind { .. } => "projection_behind",
            ReportRequestError::ReplicaBehind { .. } => "replica_behind",
            ReportRequestError::Database(_) | ReportRequestError::Internal(_) => "internal_error",
        }
    }

    /// The parameter at fault, when one is.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            ReportRequestError::UnsupportedParameter { parameter, .. } => Some(*parameter),
            ReportRequestError::MissingParameter { field, .. }
            | ReportRequestError::InvalidParameter { field, .. }
            | ReportRequestError::DateOutOfRange { field, .. }
            | ReportRequestError::Refused { field, .. } => Some(*field),
            ReportRequestError::KnownAtNotTimestamp { .. } | ReportRequestError::KnownAtInFuture { .. } => {
                Some("known_at")
            }
            ReportRequestError::MinPositionNotPosition | ReportRequestError::UnknownPosition { .. } => {
                Some("min_position")
            }
            ReportRequestError::WaitNotMilliseconds => Some("wait_ms"),
            ReportRequestError::ProjectionBehind { .. }
            | ReportRequestError::ReplicaBehind { .. }
            | ReportRequestError::Database(_)
            | ReportRequestError::Internal(_) => None,
        }
    }
}

impl From<projections::projector::ProjectorError> for ReportRequestError {
    /// A database failure stays one (a 503 when the database is down or
    /// busy); anything else is a fault of ours.
    fn from(e: projections::projector::ProjectorError) -> Self {
        match e {
            projections::projector::ProjectorError::Database(db) => ReportRequestError::Database(db),
            other => ReportRequestError::internal(other),
        }
    }
}

impl From<ReportError> for ReportRequestError {
    fn from(rule: ReportError) -> Self {
        let field = rule.field();
        ReportRequestError::Refused { rule, field }
    }
}
