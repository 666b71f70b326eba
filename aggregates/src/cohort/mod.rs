//! The `Cohort` aggregate: one intake of a development programme, who was
//! enrolled in it, and who completed or withdrew.
//!
//! Whether a participant exists and is employed on the enrolment date is a
//! cross-aggregate question ([`crate::decisions::enrol`]); this aggregate
//! keeps the cohort's own rules. Every command is checked by
//! building the [`Roster`] that would result, so retractions are accepted
//! exactly when the remaining history is consistent.
//!
//! The future margin applies to enrolment, completion and withdrawal dates
//! (facts that have happened), not to a cohort's start and end dates, which
//! are planned ahead.

mod commands;
mod error;
mod events;
mod roster;

#[cfg(test)]
mod tests;

pub use commands::CohortCommand;
pub use error::CohortError;
pub use events::CohortEvent;
pub use roster::{Member, Roster};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::context::{check_in_range, CommandContext};
use crate::field::{require_text, Field};
use crate::retraction::retracted_set;
use crate::stream::{impl_aggregate, EventStream, Lazy};

/// One cohort's event stream and the roster it yields.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Cohort {
    /// Every event applied, with its sequence (1-based, stream order).
    events: Vec<(u64, CohortEvent)>,
    /// The roster as it stands; `None` before opening.
    #[serde(skip)]
    roster: Lazy<Roster, CohortEvent>,
}

/// A cohort's current state for `GET /cohorts/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CohortView {
    pub cohort_id: Uuid,
    pub programme: String,
    pub name: String,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    pub members: Vec<Member>,
    /// The stream's version (for `If-Match`).
    pub version: u64,
}

impl Cohort {
    /// Whether the cohort has been opened.
    pub fn opened(&self) -> bool {
        self.derived_history().is_some()
    }

    /// The number of events applied (the sequence of the latest).
    pub fn version(&self) -> u64 {
        self.events.len() as u64
    }

    /// The current roster; `None` before opening.
    pub fn roster(&self) -> Option<&Roster> {
        self.derived_history()
    }

    /// The programme the cohort belongs to (empty before opening).
    pub fn programme(&self) -> &str {
        self.derived_history().map_or("", |r| &r.programme)
    }

    /// The cohort's name (empty before opening).
    pub fn name(&self) -> &str {
        self.derived_history().map_or("", |r| &r.name)
    }

    /// The enrolled participants (live enrolments), in enrolment order.
    pub fn members(&self) -> &[Member] {
        self.derived_history().map_or(&[], |r| &r.members)
    }

    /// Every event applied, as `(sequence, event)` in stream order.
    pub fn events(&self) -> &[(u64, CohortEvent)] {
        &self.events
    }

    /// Whether the event with `sequence` has been retracted.
    pub fn is_retracted(&self, sequence: u64) -> bool {
        retracted_set(&self.events).contains(&sequence)
    }

    /// The state view; `None` before opening.
    pub fn view(&self) -> Option<CohortView> {
        let r = self.derived_history()?;
        Some(CohortView {
            cohort_id: r.cohort_id,
            programme: r.programme.clone(),
            name: r.name.clone(),
            starts_on: r.starts_on,
            ends_on: r.ends_on,
            members: r.members.clone(),
            version: self.version(),
        })
    }

    /// Decides `command`: the event to record, or the rule that refuses it.
    pub fn decide(&self, command: CohortCommand, ctx: &CommandContext) -> Result<CohortEvent, CohortError> {
        let opened = || self.derived_history().ok_or(CohortError::NotOpened);
        let event = match command {
            CohortCommand::Open {
                cohort_id,
                programme,
                name,
                starts_on,
                ends_on,
            } => {
                if !self.events.is_empty() {
                    return Err(CohortError::AlreadyOpened);
                }
                require_text(Field::Programme, &programme)?;
                require_text(Field::Name, &name)?;
                check_in_range(Field::StartsOn, starts_on)?;
                if let Some(ends_on) = ends_on {
                    check_in_range(Field::EndsOn, ends_on)?;
                }
                if let Some(ends_on) = ends_on.filter(|e| *e < starts_on) {
                    return Err(CohortError::EndsBeforeStarts { starts_on, ends_on });
                }
                CohortEvent::Opened {
                    cohort_id,
                    programme,
                    name,
                    starts_on,
                    ends_on,
                }
            }
            CohortCommand::Enrol {
                participant_id,
                enrolled_on,
            } => {
                opened()?;
                ctx.check_date(Field::EnrolledOn, enrolled_on)?;
                CohortEvent::ParticipantEnrolled {
                    participant_id,
                    enrolled_on,
                }
            }
            CohortCommand::RecordCompletion {
                participant_id,
                completed_on,
            } => {
                opened()?;
                ctx.check_date(Field::CompletedOn, completed_on)?;
                CohortEvent::CompletionRecorded {
                    participant_id,
                    completed_on,
                }
            }
            CohortCommand::RecordWithdrawal {
                participant_id,
                withdrawn_on,
                reason,
            } => {
                opened()?;
                require_text(Field::Reason, &reason)?;
                ctx.check_date(Field::WithdrawnOn, withdrawn_on)?;
                CohortEvent::WithdrawalRecorded {
                    participant_id,
                    withdrawn_on,
                    reason,
                }
            }
            CohortCommand::Retract { sequence, reason } => {
                opened()?;
                require_text(Field::Reason, &reason)?;
                return self.retract(sequence, reason);
            }
        };
        self.checked(event)
    }
}

impl EventStream for Cohort {
    type Event = CohortEvent;
    type History = Roster;
    type Error = CohortError;

    fn recorded(&self) -> &[(u64, CohortEvent)] {
        &self.events
    }

    fn derive(&self, events: &[(u64, CohortEvent)]) -> Result<Roster, CohortError> {
        Roster::build(events)
    }

    fn retraction(sequence: u64, reason: String) -> CohortEvent {
        CohortEvent::EventRetracted {
            retracted_sequence: sequence,
            reason,
        }
    }

    fn retraction_would_break(sequence: u64, because: String) -> CohortError {
        CohortError::RetractionWouldBreakHistory { sequence, because }
    }

    fn keep_ahead(&self, recorded: usize, event: &CohortEvent, history: Roster) {
        self.roster.keep_ahead(recorded, event.clone(), history);
    }
}

impl_aggregate!(Cohort, "cohort", CohortCommand, CohortEvent, CohortError, roster);
