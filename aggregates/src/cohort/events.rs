//! What has been recorded about a cohort.

use chrono::NaiveDate;
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::retraction::Retractable;

/// A fact about one cohort, externally tagged by variant name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum CohortEvent {
    /// "CohortOpened".
    Opened {
        cohort_id: Uuid,
        programme: String,
        name: String,
        starts_on: NaiveDate,
        ends_on: Option<NaiveDate>,
    },
    /// "ParticipantEnrolled".
    ParticipantEnrolled {
        participant_id: Uuid,
        enrolled_on: NaiveDate,
    },
    /// "CompletionRecorded".
    CompletionRecorded {
        participant_id: Uuid,
        completed_on: NaiveDate,
    },
    /// "WithdrawalRecorded".
    WithdrawalRecorded {
        participant_id: Uuid,
        withdrawn_on: NaiveDate,
        reason: String,
    },
    /// "CohortEventRetracted": the event with `retracted_sequence` no longer counts.
    EventRetracted { retracted_sequence: u64, reason: String },
}

impl DomainEvent for CohortEvent {
    fn event_type(&self) -> String {
        match self {
            CohortEvent::Opened { .. } => "CohortOpened",
            CohortEvent::ParticipantEnrolled { .. } => "ParticipantEnrolled",
            CohortEvent::CompletionRecorded { .. } => "CompletionRecorded",
            CohortEvent::WithdrawalRecorded { .. } => "WithdrawalRecorded",
            CohortEvent::EventRetracted { .. } => "CohortEventRetracted",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}

impl Retractable for CohortEvent {
    fn retracts(&self) -> Option<u64> {
        match self {
            CohortEvent::EventRetracted { retracted_sequence, .. } => Some(*retracted_sequence),
            _ => None,
        }
    }

    fn creates_stream(&self) -> bool {
        matches!(self, CohortEvent::Opened { .. })
    }
}
