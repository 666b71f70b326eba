//! Why a cohort command was refused; each variant names its rule.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::field::Field;

/// A cohort rule refused the command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum CohortError {
    /// A cohort is opened once.
    #[error("the cohort is already open; a cohort is opened once")]
    AlreadyOpened,
    /// Everything but opening needs an opened cohort.
    #[error("the cohort has not been opened")]
    NotOpened,
    /// Text that reports show must not be blank.
    #[error("{field} must not be empty")]
    EmptyField { field: Field },
    /// A cohort cannot end before it starts.
    #[error("the cohort cannot end on {ends_on}, before it starts on {starts_on}")]
    EndsBeforeStarts { starts_on: NaiveDate, ends_on: NaiveDate },
    /// Effective dates lie in 1900–2199 (the range reports ask about too).
    #[error("{field} = {date} is outside 1900-01-01..2199-12-31")]
    DateOutOfRange { field: Field, date: NaiveDate },
    /// Dates may not lie beyond today plus the configured margin.
    #[error("{field} {effective_on} is too far in the future: the latest date accepted today is {latest_allowed}")]
    TooFarInFuture {
        field: Field,
        effective_on: NaiveDate,
        latest_allowed: NaiveDate,
    },
    /// A participant is enrolled in a cohort at most once.
    #[error("participant {participant_id} is already enrolled in this cohort")]
    AlreadyEnrolled { participant_id: Uuid },
    /// Completion and withdrawal need an enrolment.
    #[error("participant {participant_id} is not enrolled in this cohort")]
    NotEnrolled { participant_id: Uuid },
    /// Completion and withdrawal cannot precede the enrolment.
    #[error("{field} {date} is before participant's enrolment on {enrolled_on}")]
    BeforeEnrolment {
        field: Field,
        date: NaiveDate,
        enrolled_on: NaiveDate,
    },
    /// A member completes at most once, and not after withdrawing.
    #[error("participant {participant_id} has already completed this cohort")]
    AlreadyCompleted { participant_id: Uuid },
    /// A member withdraws at most once, and not after completing.
    #[error("participant {participant_id} has already withdrawn from this cohort")]
    AlreadyWithdrawn { participant_id: Uuid },
    /// A retraction must name an event of this cohort.
    #[error("this cohort has no event with sequence {sequence}")]
    UnknownSequence { sequence: u64 },
    /// An event is retracted at most once.
    #[error("event {sequence} is already retracted")]
    AlreadyRetracted { sequence: u64 },
    /// The opening and retractions cannot be retracted.
    #[error("event {sequence} cannot be retracted: openings and retractions are permanent")]
    RetractionNotRetractable { sequence: u64 },
    /// The history without the retracted event must still be valid (an
    /// enrolment that a completion or withdrawal refers to stays).
    #[error("retracting event {sequence} would leave an impossible history: {because}")]
    RetractionWouldBreakHistory { sequence: u64, because: String },
}

impl CohortError {
    /// A stable snake_case code for the rule.
    pub fn code(&self) -> &'static str {
        match self {
            CohortError::AlreadyOpened => "already_opened",
            CohortError::NotOpened => "not_opened",
            CohortError::EmptyField { .. } => "empty_field",
            CohortError::EndsBeforeStarts { .. } => "ends_before_starts",
            CohortError::TooFarInFuture { .. } => "too_far_in_future",
            CohortError::DateOutOfRange { .. } => "date_out_of_range",
            CohortError::AlreadyEnrolled { .. } => "already_enrolled",
            CohortError::NotEnrolled { .. } => "not_enrolled",
            CohortError::BeforeEnrolment { .. } => "before_enrolment",
            CohortError::AlreadyCompleted { .. } => "already_completed",
            CohortError::AlreadyWithdrawn { .. } => "already_withdrawn",
            CohortError::UnknownSequence { .. } => "unknown_sequence",
            CohortError::AlreadyRetracted { .. } => "already_retracted",
            CohortError::RetractionNotRetractable { .. } => "retraction_not_retractable",
            CohortError::RetractionWouldBreakHistory { .. } => "retraction_would_break_history",
        }
    }

    /// The command field the rule is about, if any.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            CohortError::AlreadyOpened => Some("cohort_id"),
            CohortError::NotOpened => None,
            CohortError::EmptyField { field }
            | CohortError::TooFarInFuture { field, .. }
            | CohortError::DateOutOfRange { field, .. }
            | CohortError::BeforeEnrolment { field, .. } => Some(field.as_str()),
            CohortError::EndsBeforeStarts { .. } => Some("ends_on"),
            CohortError::AlreadyEnrolled { .. }
            | CohortError::NotEnrolled { .. }
            | CohortError::AlreadyCompleted { .. }
            | CohortError::AlreadyWithdrawn { .. } => Some("participant_id"),
            CohortError::UnknownSequence { .. }
            | CohortError::AlreadyRetracted { .. }
            | CohortError::RetractionNotRetractable { .. }
            | CohortError::RetractionWouldBreakHistory { .. } => Some("sequence"),
        }
    }
}

crate::stream::impl_shared_refusals!(CohortError);
