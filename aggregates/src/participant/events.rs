//! What has been recorded about a participant. Events carry what was said
//! (the kind *given*, the role's level at recording time) and nothing that
//! can be derived, so corrections re-derive everything after them.

use chrono::NaiveDate;
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::ladder::{Basis, MoveKind, RoleRef};
use crate::retraction::Retractable;

/// A fact about one participant. Serialized externally tagged by variant
/// name (`{"RoleChanged": {...}}`), the cqrs-es convention.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ParticipantEvent {
    /// "ParticipantRegistered": tracking started; employed from `joined_on`.
    Registered {
        participant_id: Uuid,
        external_ref: String,
        organisation: String,
        team: Option<String>,
        role: RoleRef,
        post_id: Option<Uuid>,
        basis: Basis,
        fte: f64,
        joined_on: NaiveDate,
    },
    /// "RoleChanged": a new spell from `effective_on` (a move or a change of terms).
    RoleChanged {
        effective_on: NaiveDate,
        role: RoleRef,
        organisation: String,
        team: Option<String>,
        post_id: Option<Uuid>,
        basis: Basis,
        /// `None`: keeps the FTE of the spell this change ends, as history
        /// stands when it is read, so a retraction or a late record before it
        /// flows through (event version 1.1; 1.0 always stored a number).
        fte: Option<f64>,
        kind_given: Option<MoveKind>,
    },
    /// "LeavingRecorded": employment ended on `effective_on`.
    LeavingRecorded {
        effective_on: NaiveDate,
        reason: String,
        destination: Option<String>,
    },
    /// "RejoiningRecorded": employed again from `effective_on`.
    RejoiningRecorded {
        effective_on: NaiveDate,
        organisation: String,
        team: Option<String>,
        role: RoleRef,
        post_id: Option<Uuid>,
        basis: Basis,
        fte: f64,
        kind_given: Option<MoveKind>,
    },
    /// "ExcludedFromAnalysis": left out of outcome analysis from `effective_on`.
    ExcludedFromAnalysis { effective_on: NaiveDate, reason: String },
    /// "ExclusionLifted": the exclusion ends on `effective_on` (exclusive).
    ExclusionLifted { effective_on: NaiveDate, reason: String },
    /// "ParticipantEventRetracted": the event with `retracted_sequence` no longer counts.
    EventRetracted { retracted_sequence: u64, reason: String },
}

impl ParticipantEvent {
    /// The effective date of a fact; `None` for a retraction (which has
    /// only a recorded time).
    pub fn effective_on(&self) -> Option<NaiveDate> {
        match self {
            ParticipantEvent::Registered { joined_on, .. } => Some(*joined_on),
            ParticipantEvent::RoleChanged { effective_on, .. }
            | ParticipantEvent::LeavingRecorded { effective_on, .. }
            | ParticipantEvent::RejoiningRecorded { effective_on, .. }
            | ParticipantEvent::ExcludedFromAnalysis { effective_on, .. }
            | ParticipantEvent::ExclusionLifted { effective_on, .. } => Some(*effective_on),
            ParticipantEvent::EventRetracted { .. } => None,
        }
    }
}

impl DomainEvent for ParticipantEvent {
    fn event_type(&self) -> String {
        match self {
            ParticipantEvent::Registered { .. } => "ParticipantRegistered",
            ParticipantEvent::RoleChanged { .. } => "RoleChanged",
            ParticipantEvent::LeavingRecorded { .. } => "LeavingRecorded",
            ParticipantEvent::RejoiningRecorded { .. } => "RejoiningRecorded",
            ParticipantEvent::ExcludedFromAnalysis { .. } => "ExcludedFromAnalysis",
            ParticipantEvent::ExclusionLifted { .. } => "ExclusionLifted",
            ParticipantEvent::EventRetracted { .. } => "ParticipantEventRetracted",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        match self {
            ParticipantEvent::RoleChanged { .. } => "1.1".to_string(),
            _ => "1.0".to_string(),
        }
    }
}

impl Retractable for ParticipantEvent {
    fn retracts(&self) -> Option<u64> {
        match self {
            ParticipantEvent::EventRetracted { retracted_sequence, .. } => Some(*retracted_sequence),
            _ => None,
        }
    }

    fn creates_stream(&self) -> bool {
        matches!(self, ParticipantEvent::Registered { .. })
    }
}
