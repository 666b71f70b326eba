//! Why a decision was refused: a rule spanning aggregates, or one of an
//! aggregate's own rules (wrapped, so callers see one error type). Each rule
//! has a stable `code()` and the request `field()` it is about.

use chrono::NaiveDate;
use uuid::Uuid;

use crate::cohort::CohortError;
use crate::participant::ParticipantError;
use crate::post::PostError;

/// A rule refused the decision.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecisionError {
    /// One of the participant's own rules.
    #[error(transparent)]
    Participant(#[from] ParticipantError),
    /// One of a post's own rules.
    #[error(transparent)]
    Post(#[from] PostError),
    /// One of the cohort's own rules.
    #[error(transparent)]
    Cohort(#[from] CohortError),
    /// An external reference names one person.
    #[error("external reference {external_ref:?} already belongs to participant {owner}")]
    ExternalRefTaken { external_ref: String, owner: Uuid },
    /// A participant can only take up a post that exists.
    #[error("no post with id {post_id}")]
    UnknownPost { post_id: Uuid },
    /// A post is filled by someone working for its organisation.
    #[error("post {post_id} belongs to {post_organisation}, not {organisation}")]
    PostInOtherOrganisation {
        post_id: Uuid,
        post_organisation: String,
        organisation: String,
    },
    /// A post is filled by someone holding its role.
    #[error("post {post_id} is a {post_role} post; a participant filling it must hold that role, not {role}")]
    RoleDoesNotMatchPost {
        post_id: Uuid,
        post_role: String,
        role: String,
    },
    /// A move into a post before later changes would leave the post filled
    /// past them, with no vacancy recorded.
    #[error(
        "a move into a post must be recorded in date order: this person has role changes or a leaving \
         effective after this date; retract those first, then record them again after this move"
    )]
    PostChangeOutOfOrder,
    /// Only the occupant can be taken out of a post.
    #[error("participant {participant_id} does not hold post {post_id} on {effective_on}")]
    NotInPost {
        participant_id: Uuid,
        post_id: Uuid,
        effective_on: NaiveDate,
    },
    /// A cohort enrols a participant who exists.
    #[error("no participant with id {participant_id}")]
    UnknownParticipant { participant_id: Uuid },
    /// A cohort enrols a participant employed on the enrolment date.
    #[error("participant {participant_id} is not employed on {enrolled_on}, so cannot be enrolled then")]
    ParticipantNotEmployed {
        participant_id: Uuid,
        enrolled_on: NaiveDate,
    },
    /// The same rule from the participant's side: a leaving or retraction
    /// may not leave an enrolment on a day the person is not employed.
    #[error(
        "participant {participant_id} was enrolled in cohort {cohort_id} on {enrolled_on} and would not be \
         employed then; retract or correct that enrolment first"
    )]
    EnrolmentWithoutEmployment {
        participant_id: Uuid,
        cohort_id: Uuid,
        enrolled_on: NaiveDate,
        /// The request field that ends the employment (`effective_on` of
        /// a leaving, `sequence` of a retraction).
        field: &'static str,
    },
}

impl DecisionError {
    /// A stable snake_case code for the rule, e.g. `unknown_post`.
    pub fn code(&self) -> &'static str {
        match self {
            DecisionError::Participant(e) => e.code(),
            DecisionError::Post(e) => e.code(),
            DecisionError::Cohort(e) => e.code(),
            DecisionError::ExternalRefTaken { .. } => "external_ref_taken",
            DecisionError::UnknownPost { .. } => "unknown_post",
            DecisionError::PostInOtherOrganisation { .. } => "post_in_other_organisation",
            DecisionError::RoleDoesNotMatchPost { .. } => "role_does_not_match_post",
            DecisionError::PostChangeOutOfOrder => "post_change_out_of_order",
            DecisionError::NotInPost { .. } => "not_in_post",
            DecisionError::UnknownParticipant { .. } => "unknown_participant",
            DecisionError::ParticipantNotEmployed { .. } | DecisionError::EnrolmentWithoutEmployment { .. } => {
                "participant_not_employed"
            }
        }
    }

    /// The request field the rule is about, if any.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            DecisionError::Participant(e) => e.field(),
            DecisionError::Post(e) => e.field(),
            DecisionError::Cohort(e) => e.field(),
            DecisionError::ExternalRefTaken { .. } => Some("external_ref"),
            DecisionError::UnknownPost { .. } | DecisionError::PostInOtherOrganisation { .. } => Some("post_id"),
            DecisionError::RoleDoesNotMatchPost { .. } => Some("role"),
            DecisionError::PostChangeOutOfOrder => Some("effective_on"),
            DecisionError::NotInPost { .. } | DecisionError::UnknownParticipant { .. } => Some("participant_id"),
            DecisionError::ParticipantNotEmployed { .. } => Some("enrolled_on"),
            DecisionError::EnrolmentWithoutEmployment { field, .. } => Some(field),
        }
    }
}
