//! Why a command was not carried out. Nothing was appended in every case.

use aggregates::decisions::DecisionError;

use crate::event_store::{AppendError, Refusal, StoreError};
use crate::ladders::LaddersError;

/// Why a command was not carried out.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// A domain rule refused the command (HTTP 422).
    #[error("{message}")]
    Rule {
        code: String,
        message: String,
        field: Option<String>,
    },
    /// The aggregate the command addresses does not exist (HTTP 404).
    #[error("no {what} with id {id}")]
    NotFound { what: &'static str, id: String },
    /// The aggregate moved on (HTTP 409).
    #[error("{0}")]
    Conflict(String),
    /// The idempotency key was used before for another request (HTTP 422).
    #[error("idempotency key {0:?} was already used for a different request")]
    KeyReused(String),
    /// The request was refused before, under the same idempotency key: this
    /// is that first answer again (404 or 422, as it was).
    #[error("{}", .0.message)]
    Repeated(Refusal),
    /// A fault of ours (HTTP 500).
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl CommandError {
    /// A refusal by a rule of the server's own (input or reference data).
    pub fn rule(code: &str, field: Option<&str>, message: impl Into<String>) -> Self {
        CommandError::Rule {
            code: code.to_string(),
            message: message.into(),
            field: field.map(str::to_string),
        }
    }

    /// The refusal an idempotency key keeps for this error: rules and unknown
    /// aggregates are final answers; conflicts and faults invite a retry.
    pub(super) fn refusal(&self) -> Option<Refusal> {
        match self {
            CommandError::Rule { code, message, field } => Some(Refusal {
                status: 422,
                error: code.clone(),
                message: message.clone(),
                field: field.clone(),
            }),
            CommandError::NotFound { .. } => Some(Refusal {
                status: 404,
                error: "not_found".to_string(),
                message: self.to_string(),
                field: None,
            }),
            CommandError::Repeated(refusal) => Some(refusal.clone()),
            CommandError::Conflict(_) | CommandError::KeyReused(_) | CommandError::Store(_) => None,
        }
    }
}

impl From<DecisionError> for CommandError {
    fn from(e: DecisionError) -> Self {
        CommandError::rule(e.code(), e.field(), e.to_string())
    }
}

impl From<LaddersError> for CommandError {
    fn from(e: LaddersError) -> Self {
        match e {
            LaddersError::NotAtVersion { .. } => CommandError::Conflict(e.to_string()),
            LaddersError::Database(e) => CommandError::Store(e.into()),
            LaddersError::Projection(e) => CommandError::Store(StoreError::Repository(e.to_string())),
            rule => CommandError::rule(rule.code(), rule.field(), rule.to_string()),
        }
    }
}

impl From<serde_json::Error> for CommandError {
    fn from(e: serde_json::Error) -> Self {
        CommandError::Store(StoreError::Repository(e.to_string()))
    }
}

impl From<AppendError> for CommandError {
    /// An append that did not land, for the cases that are not a conflict
    /// the runner retries.
    fn from(e: AppendError) -> Self {
        match e {
            AppendError::Refused(refusal) => CommandError::Repeated(refusal),
            AppendError::KeyReused(key) => CommandError::KeyReused(key),
            AppendError::Duplicate(what) => CommandError::rule("duplicate", Some(what.field()), what.message()),
            AppendError::Store(e) => CommandError::Store(e),
            other => CommandError::Store(StoreError::Repository(other.to_string())),
        }
    }
}
