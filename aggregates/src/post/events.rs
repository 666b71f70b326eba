//! What has been recorded about a post.

use chrono::NaiveDate;
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::ladder::{Basis, RoleRef};
use crate::retraction::Retractable;

/// A fact about one post, externally tagged by variant name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PostEvent {
    /// "PostEstablished".
    Established {
        post_id: Uuid,
        organisation: String,
        title: String,
        role: RoleRef,
        established_on: NaiveDate,
        /// The authority's reference for the post, when it was given.
        /// Events recorded before posts had references have none, and an
        /// event without one is stored exactly as before.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reference: Option<String>,
    },
    /// "PostFilled".
    Filled {
        participant_id: Uuid,
        basis: Basis,
        effective_on: NaiveDate,
    },
    /// "PostVacated".
    Vacated {
        participant_id: Uuid,
        effective_on: NaiveDate,
    },
    /// "PostDisestablished".
    Disestablished { effective_on: NaiveDate },
    /// "PostEventRetracted": the event with `retracted_sequence` no longer counts.
    EventRetracted { retracted_sequence: u64, reason: String },
}

impl PostEvent {
    /// The effective date of a fact; `None` for a retraction.
    pub fn effective_on(&self) -> Option<NaiveDate> {
        match self {
            PostEvent::Established { established_on, .. } => Some(*established_on),
            PostEvent::Filled { effective_on, .. }
            | PostEvent::Vacated { effective_on, .. }
            | PostEvent::Disestablished { effective_on } => Some(*effective_on),
            PostEvent::EventRetracted { .. } => None,
        }
    }
}

impl DomainEvent for PostEvent {
    fn event_type(&self) -> String {
        match self {
            PostEvent::Established { .. } => "PostEstablished",
            PostEvent::Filled { .. } => "PostFilled",
            PostEvent::Vacated { .. } => "PostVacated",
            PostEvent::Disestablished { .. } => "PostDisestablished",
            PostEvent::EventRetracted { .. } => "PostEventRetracted",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}

impl Retractable for PostEvent {
    fn retracts(&self) -> Option<u64> {
        match self {
            PostEvent::EventRetracted { retracted_sequence, .. } => Some(*retracted_sequence),
            _ => None,
        }
    }

    fn creates_stream(&self) -> bool {
        matches!(self, PostEvent::Established { .. })
    }
}
