//! A cohort's membership as its live events say, checked as it is built.
//!
//! Cohort facts do not interact across dates the way employment facts do,
//! so they are checked in stream order: each completion or withdrawal
//! refers to the participant's one live enrolment.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{CohortError, CohortEvent};
use crate::field::Field;
use crate::retraction::live_events;

/// One enrolled participant and what became of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Member {
    pub participant_id: Uuid,
    pub enrolled_on: NaiveDate,
    pub completed_on: Option<NaiveDate>,
    pub withdrawn_on: Option<NaiveDate>,
    pub withdrawal_reason: Option<String>,
    /// Sequence of the `ParticipantEnrolled` event.
    pub enrolled_sequence: u64,
}

/// A cohort's details and members, derived from its events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Roster {
    pub cohort_id: Uuid,
    pub programme: String,
    pub name: String,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    /// In enrolment (recorded) order.
    pub members: Vec<Member>,
}

impl Roster {
    /// Derives the roster from `(sequence, event)` in stream order, including
    /// retractions; fails with the first rule the history breaks.
    pub fn build(events: &[(u64, CohortEvent)]) -> Result<Roster, CohortError> {
        let Some((_, CohortEvent::Opened { .. })) = events.first() else {
            return Err(CohortError::NotOpened);
        };
        let mut roster: Option<Roster> = None;
        for (sequence, event) in live_events(events)? {
            match (event, roster.as_mut()) {
                (
                    CohortEvent::Opened {
                        cohort_id,
                        programme,
                        name,
                        starts_on,
                        ends_on,
                    },
                    None,
                ) => {
                    roster = Some(Roster {
                        cohort_id: *cohort_id,
                        programme: programme.clone(),
                        name: name.clone(),
                        starts_on: *starts_on,
                        ends_on: *ends_on,
                        members: Vec::new(),
                    })
                }
                (CohortEvent::Opened { .. }, Some(_)) => return Err(CohortError::AlreadyOpened),
                (_, None) => return Err(CohortError::NotOpened),
                (
                    CohortEvent::ParticipantEnrolled {
                        participant_id,
                        enrolled_on,
                    },
                    Some(r),
                ) => {
                    if r.member(*participant_id).is_some() {
                        return Err(CohortError::AlreadyEnrolled {
                            participant_id: *participant_id,
                        });
                    }
                    r.members.push(Member {
                        participant_id: *participant_id,
                        enrolled_on: *enrolled_on,
                        completed_on: None,
                        withdrawn_on: None,
                        withdrawal_reason: None,
                        enrolled_sequence: sequence,
                    });
                }
                (
                    CohortEvent::CompletionRecorded {
                        participant_id,
                        completed_on,
                    },
                    Some(r),
                ) => {
                    let m = r.outcome_open(*participant_id, Field::CompletedOn, *completed_on)?;
                    m.completed_on = Some(*completed_on);
                }
                (
                    CohortEvent::WithdrawalRecorded {
                        participant_id,
                        withdrawn_on,
                        reason,
                    },
                    Some(r),
                ) => {
                    let m = r.outcome_open(*participant_id, Field::WithdrawnOn, *withdrawn_on)?;
                    m.withdrawn_on = Some(*withdrawn_on);
                    m.withdrawal_reason = Some(reason.clone());
                }
                (CohortEvent::EventRetracted { .. }, Some(_)) => {}
            }
        }
        roster.ok_or(CohortError::NotOpened)
    }

    /// The member record of `participant_id`, if enrolled.
    pub fn member(&self, participant_id: Uuid) -> Option<&Member> {
        self.members.iter().find(|m| m.participant_id == participant_id)
    }

    /// The member that an outcome (completion or withdrawal on `date`) can
    /// be recorded for: enrolled, on or before `date`, with no outcome yet.
    fn outcome_open(
        &mut self,
        participant_id: Uuid,
        field: Field,
        date: NaiveDate,
    ) -> Result<&mut Member, CohortError> {
        let m = self
            .members
            .iter_mut()
            .find(|m| m.participant_id == participant_id)
            .ok_or(CohortError::NotEnrolled { participant_id })?;
        if m.completed_on.is_some() {
            return Err(CohortError::AlreadyCompleted { participant_id });
        }
        if m.withdrawn_on.is_some() {
            return Err(CohortError::AlreadyWithdrawn { participant_id });
        }
        if date < m.enrolled_on {
            return Err(CohortError::BeforeEnrolment {
                field,
                date,
                enrolled_on: m.enrolled_on,
            });
        }
        Ok(m)
    }
}
