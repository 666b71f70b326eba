//! What can be asked of a participant.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::ladder::{Basis, MoveKind, RoleRef};

/// A request to record something about one participant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ParticipantCommand {
    /// Start tracking a person, employed from `joined_on`.
    Register {
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
    /// A new role, post, organisation or terms from `effective_on`.
    ChangeRole {
        effective_on: NaiveDate,
        role: RoleRef,
        organisation: String,
        team: Option<String>,
        post_id: Option<Uuid>,
        basis: Basis,
        /// `None` keeps the FTE of the spell the change ends.
        fte: Option<f64>,
        /// The move's kind as recorded; always wins over the derived one.
        kind: Option<MoveKind>,
    },
    /// The person left employment (any organisation) on `effective_on`.
    RecordLeaving {
        effective_on: NaiveDate,
        reason: String,
        destination: Option<String>,
    },
    /// The person, having left, is employed again from `effective_on`.
    RecordRejoining {
        effective_on: NaiveDate,
        organisation: String,
        team: Option<String>,
        role: RoleRef,
        post_id: Option<Uuid>,
        basis: Basis,
        fte: f64,
        /// The move's kind as recorded; always wins over the derived one.
        kind: Option<MoveKind>,
    },
    /// Leave the person out of outcome analysis from `effective_on`.
    ExcludeFromAnalysis { effective_on: NaiveDate, reason: String },
    /// End the current exclusion on `effective_on`.
    LiftExclusion { effective_on: NaiveDate, reason: String },
    /// Withdraw the event with `sequence` (a correction).
    Retract { sequence: u64, reason: String },
}
