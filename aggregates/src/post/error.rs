//! Why a post command was refused; each variant names its rule.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::field::Field;

/// A post rule refused the command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum PostError {
    /// A post is established once.
    #[error("the post is already established; a post is established once")]
    AlreadyEstablished,
    /// A reference names one post of an organisation.
    #[error("{organisation} already has a post with reference {reference:?} (post {owner})")]
    ReferenceTaken {
        organisation: String,
        reference: String,
        owner: Uuid,
    },
    /// Everything but establishing needs an established post.
    #[error("the post has not been established")]
    NotEstablished,
    /// Text that reports group by or show must not be blank.
    #[error("{field} must not be empty")]
    EmptyField { field: Field },
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
    /// Nothing happens to a post before it exists.
    #[error("effective date {effective_on} is before the post was established on {established_on}")]
    BeforeEstablishment {
        effective_on: NaiveDate,
        established_on: NaiveDate,
    },
    /// A disestablished post cannot be filled (on or after that date).
    #[error("the post was disestablished on {disestablished_on}, so cannot be filled on {effective_on}")]
    Disestablished {
        effective_on: NaiveDate,
        disestablished_on: NaiveDate,
    },
    /// A post is disestablished once.
    #[error("the post is already disestablished")]
    AlreadyDisestablished,
    /// A post never holds two permanent occupants on the same day
    /// (interim, acting and agency occupants may sit alongside one).
    #[error("the post would have two permanent occupants on {effective_on} ({occupant} holds it permanently)")]
    TwoPermanentOccupants { effective_on: NaiveDate, occupant: Uuid },
    /// One participant holds a post at most once at a time.
    #[error("participant {participant_id} already occupies this post on {effective_on}")]
    AlreadyInPost {
        participant_id: Uuid,
        effective_on: NaiveDate,
    },
    /// Only an occupant can vacate the post.
    #[error("participant {participant_id} does not occupy this post on {effective_on}")]
    NotInPost {
        participant_id: Uuid,
        effective_on: NaiveDate,
    },
    /// A post is disestablished only once nobody occupies it.
    #[error("the post cannot be disestablished on {effective_on}: {occupants} occupant(s) still hold it then")]
    StillOccupied { effective_on: NaiveDate, occupants: usize },
    /// A retraction must name an event of this post.
    #[error("this post has no event with sequence {sequence}")]
    UnknownSequence { sequence: u64 },
    /// An event is retracted at most once.
    #[error("event {sequence} is already retracted")]
    AlreadyRetracted { sequence: u64 },
    /// The establishment and retractions cannot be retracted.
    #[error("event {sequence} cannot be retracted: establishments and retractions are permanent")]
    RetractionNotRetractable { sequence: u64 },
    /// The history without the retracted event must still be valid.
    #[error("retracting event {sequence} would leave an impossible history: {because}")]
    RetractionWouldBreakHistory { sequence: u64, because: String },
}

impl PostError {
    /// A stable snake_case code for the rule.
    pub fn code(&self) -> &'static str {
        match self {
            PostError::AlreadyEstablished => "already_established",
            PostError::ReferenceTaken { .. } => "post_reference_taken",
            PostError::NotEstablished => "not_established",
            PostError::EmptyField { .. } => "empty_field",
            PostError::TooFarInFuture { .. } => "too_far_in_future",
            PostError::DateOutOfRange { .. } => "date_out_of_range",
            PostError::BeforeEstablishment { .. } => "before_establishment",
            PostError::Disestablished { .. } => "post_disestablished",
            PostError::AlreadyDisestablished => "already_disestablished",
            PostError::TwoPermanentOccupants { .. } => "two_permanent_occupants",
            PostError::AlreadyInPost { .. } => "already_in_post",
            PostError::NotInPost { .. } => "not_in_post",
            PostError::StillOccupied { .. } => "still_occupied",
            PostError::UnknownSequence { .. } => "unknown_sequence",
            PostError::AlreadyRetracted { .. } => "already_retracted",
            PostError::RetractionNotRetractable { .. } => "retraction_not_retractable",
            PostError::RetractionWouldBreakHistory { .. } => "retraction_would_break_history",
        }
    }

    /// The command field the rule is about, if any.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            PostError::AlreadyEstablished => Some("post_id"),
            PostError::ReferenceTaken { .. } => Some("reference"),
            PostError::NotEstablished | PostError::AlreadyDisestablished => None,
            PostError::EmptyField { field }
            | PostError::TooFarInFuture { field, .. }
            | PostError::DateOutOfRange { field, .. } => Some(field.as_str()),
            PostError::BeforeEstablishment { .. }
            | PostError::Disestablished { .. }
            | PostError::StillOccupied { .. } => Some("effective_on"),
            PostError::TwoPermanentOccupants { .. } => Some("basis"),
            PostError::AlreadyInPost { .. } | PostError::NotInPost { .. } => Some("participant_id"),
            PostError::UnknownSequence { .. }
            | PostError::AlreadyRetracted { .. }
            | PostError::RetractionNotRetractable { .. }
            | PostError::RetractionWouldBreakHistory { .. } => Some("sequence"),
        }
    }
}

crate::stream::impl_shared_refusals!(PostError);
