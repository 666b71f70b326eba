//! Why a report could not be computed from the parameters asked: each
//! variant names the rule of docs/metrics.md the parameters break. The
//! caller (the HTTP API or the command line) turns it into its own answer;
//! nothing here knows about either.

use chrono::NaiveDate;

use super::names::{known_suffix, NameKind};

/// Why a report could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    /// A period whose start is after its end.
    #[error("period starts on {from} but ends on {to}")]
    InvalidPeriod {
        /// Start.
        from: NaiveDate,
        /// End.
        to: NaiveDate,
    },
    /// A cohort id that is not in the dataset.
    #[error("unknown cohort {0}")]
    UnknownCohort(uuid::Uuid),
    /// A name no data holds: an organisation, role, team or programme, or
    /// a cohort (by id or name) that no cohort of the selected programme has.
    #[error("no {kind} {wanted:?}{}", known_suffix(.nearest))]
    UnknownName {
        /// What the name names.
        kind: NameKind,
        /// The parameter that gave it.
        field: &'static str,
        /// The name as asked.
        wanted: String,
        /// Up to three nearest known names (docs/metrics.md "Naming what a
        /// report counts").
        nearest: Vec<String>,
    },
    /// No cohort matched the programme/cohort selection.
    #[error("no cohort matches the selection")]
    NoCohorts,
    /// The `as_at` date is before the cohort started.
    #[error("as_at {as_at} is before the cohort start {starts_on}")]
    AsAtBeforeStart {
        /// Requested date.
        as_at: NaiveDate,
        /// Cohort start.
        starts_on: NaiveDate,
    },
    /// The list of target roles is empty.
    #[error("at least one target role is needed")]
    NoTargets,
    /// A target role listed twice: its second column could never count anyone.
    #[error("target {0:?} is listed more than once; list each target role once, most senior first")]
    DuplicateTarget(String),
}

impl ReportError {
    /// Stable snake_case code, as the API answers it.
    pub fn code(&self) -> &'static str {
        match self {
            ReportError::UnknownName { kind, .. } => kind.unknown_code(),
            ReportError::DuplicateTarget(_) => "duplicate_target",
            _ => "invalid_report_parameters",
        }
    }

    /// The report parameter at fault. A period's fault is put on its start
    /// (`from`); a caller that reads a second period names its own field.
    pub fn field(&self) -> &'static str {
        match self {
            ReportError::InvalidPeriod { .. } => "from",
            ReportError::UnknownName { field, .. } => field,
            ReportError::UnknownCohort(_) => "cohort",
            ReportError::NoCohorts => "programme",
            ReportError::AsAtBeforeStart { .. } => "as_at",
            ReportError::NoTargets | ReportError::DuplicateTarget(_) => "targets",
        }
    }
}
