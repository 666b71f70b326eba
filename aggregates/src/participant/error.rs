//! Why a participant command was refused. Each variant names the rule it
//! protects; `code()` and `field()` give the HTTP layer a stable
//! `{error, message, field}`.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::field::Field;

/// A participant rule refused the command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum ParticipantError {
    /// A participant is registered once.
    #[error("the participant is already registered; registration happens once")]
    AlreadyRegistered,
    /// Everything but registration needs a registered participant.
    #[error("the participant is not registered; register them first")]
    NotRegistered,
    /// Text that reports group by or show must not be blank.
    #[error("{field} must not be empty")]
    EmptyField { field: Field },
    /// Full-time equivalent is above 0 and at most 1.
    #[error("fte {fte} is out of range: full-time equivalent must be above 0 and at most 1")]
    InvalidFte { fte: f64 },
    /// Effective dates lie in 1900–2199 (the range reports ask about too).
    #[error("{field} = {date} is outside 1900-01-01..2199-12-31")]
    DateOutOfRange { field: Field, date: NaiveDate },
    /// Effective dates may not lie beyond today plus the configured margin.
    #[error("{field} {effective_on} is too far in the future: the latest date accepted today is {latest_allowed}")]
    TooFarInFuture {
        field: Field,
        effective_on: NaiveDate,
        latest_allowed: NaiveDate,
    },
    /// Nothing can take effect before the participant joined.
    #[error("effective date {effective_on} is before the participant joined on {joined_on}")]
    EffectiveBeforeJoining {
        effective_on: NaiveDate,
        joined_on: NaiveDate,
    },
    /// A leaving or role change needs the participant employed at that point
    /// of the history (events ordered by effective date, then recording).
    #[error("the participant is not employed at {effective_on} in their history, so cannot leave or change role then")]
    NotEmployed { effective_on: NaiveDate },
    /// A rejoining needs the participant to have left before it.
    #[error("the participant is still employed at {effective_on} in their history, so cannot rejoin then")]
    AlreadyEmployed { effective_on: NaiveDate },
    /// A move to or from an off-ladder role must say whether it is a
    /// promotion, demotion or sideways move.
    #[error("the move from {from} to {to} involves a role without a ladder level, so its kind (promotion, demotion or sideways) must be given")]
    MoveKindRequired { from: String, to: String },
    /// An exclusion cannot start while one is in force.
    #[error("the participant is already excluded from analysis at {effective_on}")]
    AlreadyExcluded { effective_on: NaiveDate },
    /// Only an exclusion in force can be lifted.
    #[error("the participant is not excluded from analysis at {effective_on}, so there is nothing to lift")]
    NotExcluded { effective_on: NaiveDate },
    /// A retraction must name an event of this participant.
    #[error("this participant has no event with sequence {sequence}")]
    UnknownSequence { sequence: u64 },
    /// An event is retracted at most once.
    #[error("event {sequence} is already retracted")]
    AlreadyRetracted { sequence: u64 },
    /// The registration and retractions cannot be retracted.
    #[error("event {sequence} cannot be retracted: registrations and retractions are permanent")]
    RetractionNotRetractable { sequence: u64 },
    /// The history without the retracted event must still be valid.
    #[error("retracting event {sequence} would leave an impossible history: {because}")]
    RetractionWouldBreakHistory { sequence: u64, because: String },
}

impl ParticipantError {
    /// A stable snake_case code for the rule, e.g. `not_employed`.
    pub fn code(&self) -> &'static str {
        match self {
            ParticipantError::AlreadyRegistered => "already_registered",
            ParticipantError::NotRegistered => "not_registered",
            ParticipantError::EmptyField { .. } => "empty_field",
            ParticipantError::InvalidFte { .. } => "invalid_fte",
            ParticipantError::TooFarInFuture { .. } => "too_far_in_future",
            ParticipantError::DateOutOfRange { .. } => "date_out_of_range",
            ParticipantError::EffectiveBeforeJoining { .. } => "effective_before_joining",
            ParticipantError::NotEmployed { .. } => "not_employed",
            ParticipantError::AlreadyEmployed { .. } => "already_employed",
            ParticipantError::MoveKindRequired { .. } => "move_kind_required",
            ParticipantError::AlreadyExcluded { .. } => "already_excluded",
            ParticipantError::NotExcluded { .. } => "not_excluded",
            ParticipantError::UnknownSequence { .. } => "unknown_sequence",
            ParticipantError::AlreadyRetracted { .. } => "already_retracted",
            ParticipantError::RetractionNotRetractable { .. } => "retraction_not_retractable",
            ParticipantError::RetractionWouldBreakHistory { .. } => "retraction_would_break_history",
        }
    }

    /// The command field the rule is about, if any.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            ParticipantError::AlreadyRegistered => Some("participant_id"),
            ParticipantError::NotRegistered => None,
            ParticipantError::EmptyField { field }
            | ParticipantError::TooFarInFuture { field, .. }
            | ParticipantError::DateOutOfRange { field, .. } => Some(field.as_str()),
            ParticipantError::InvalidFte { .. } => Some("fte"),
            ParticipantError::EffectiveBeforeJoining { .. }
            | ParticipantError::NotEmployed { .. }
            | ParticipantError::AlreadyEmployed { .. }
            | ParticipantError::AlreadyExcluded { .. }
            | ParticipantError::NotExcluded { .. } => Some("effective_on"),
            ParticipantError::MoveKindRequired { .. } => Some("kind"),
            ParticipantError::UnknownSequence { .. }
            | ParticipantError::AlreadyRetracted { .. }
            | ParticipantError::RetractionNotRetractable { .. }
            | ParticipantError::RetractionWouldBreakHistory { .. } => Some("sequence"),
        }
    }
}

crate::stream::impl_shared_refusals!(ParticipantError);
