//! Why a report could not be computed from the parameters asked: each
//! variant names the rule of docs/metrics.md the parameters break. The
//! caller (the HTTP API or the command line) turns it into its own answer;
//! nothing here knows about either.

use chrono::NaiveDate;

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
    /// A cohort named (by id or name) that no cohort of the selected
    /// programme has.
    #[error("no cohort with id or name {wanted:?}")]
    NoSuchCohort {
        /// The id or name as asked.
        wanted: String,
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
}

impl ReportError {
    /// Stable snake_case code, as the API answers it.
    pub fn code(&self) -> &'static str {
        match self {
            ReportError::NoSuchCohort { .. } => "unknown_cohort",
            _ => "invalid_report_parameters",
        }
    }

    /// The report parameter at fault. A period's fault is put on its start
    /// (`from`); a caller that reads a second period names its own field.
    pub fn field(&self) -> &'static str {
        match self {
            ReportError::InvalidPeriod { .. } => "from",
            ReportError::UnknownCohort(_) | ReportError::NoSuchCohort { .. } => "cohort",
            ReportError::NoCohorts => "programme",
            ReportError::AsAtBeforeStart { .. } => "as_at",
            ReportError::NoTargets => "targets",
        }
    }
}
