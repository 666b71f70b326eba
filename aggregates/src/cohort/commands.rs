//! What can be asked of a cohort.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A request to record something about one cohort of a programme.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum CohortCommand {
    /// Create the cohort.
    Open {
        cohort_id: Uuid,
        programme: String,
        name: String,
        starts_on: NaiveDate,
        ends_on: Option<NaiveDate>,
    },
    /// Enrol a participant ([`crate::decisions::enrol`] checks they exist and
    /// are employed then).
    Enrol {
        participant_id: Uuid,
        enrolled_on: NaiveDate,
    },
    /// An enrolled participant completed the programme.
    RecordCompletion {
        participant_id: Uuid,
        completed_on: NaiveDate,
    },
    /// An enrolled participant withdrew from the programme.
    RecordWithdrawal {
        participant_id: Uuid,
        withdrawn_on: NaiveDate,
        reason: String,
    },
    /// Withdraw the event with `sequence` (a correction).
    Retract { sequence: u64, reason: String },
}
