//! A post's occupancy history, derived from its live events in effective
//! order and checked as it is built.
//!
//! Occupancies are half-open `[from, until)` like participants' spells: an
//! occupant who vacates on D does not hold the post at the end of D. Events
//! of one date apply in recorded order, and the day-level rules ("never two
//! permanent occupants on the same day", "not occupied when disestablished")
//! are checked at the end of each date, so a predecessor vacating on D and
//! a successor filling on D never count as two occupants that day. A fill
//! dated inside another permanent occupancy is refused even when recorded
//! after that occupancy ended (a late record is checked against the whole
//! history).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{PostError, PostEvent};
use crate::ladder::{Basis, RoleRef};
use crate::retraction::live_events;

/// One participant's time in the post.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Occupancy {
    pub participant_id: Uuid,
    pub basis: Basis,
    /// First day held (inclusive).
    pub from: NaiveDate,
    /// Vacated on (exclusive); `None` while held.
    pub until: Option<NaiveDate>,
    /// Sequence of the `PostFilled` event.
    pub filled_sequence: u64,
}

impl Occupancy {
    /// Whether the occupancy covers the end of `day` (the shared day rule).
    pub fn covers(&self, day: NaiveDate) -> bool {
        crate::days::covers(self.from, self.until, day)
    }
}

/// A post's details and occupancies, derived from its events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostHistory {
    pub post_id: Uuid,
    pub organisation: String,
    pub title: String,
    pub role: RoleRef,
    pub established_on: NaiveDate,
    /// The authority's reference for the post, when it has one.
    #[serde(default)]
    pub reference: Option<String>,
    pub disestablished_on: Option<NaiveDate>,
    /// In effective order of filling.
    pub occupancies: Vec<Occupancy>,
}

impl PostHistory {
    /// Derives the history from `(sequence, event)` in stream order,
    /// including retractions; fails with the first rule it breaks.
    pub fn build(events: &[(u64, PostEvent)]) -> Result<PostHistory, PostError> {
        let Some((_, PostEvent::Established { .. })) = events.first() else {
            return Err(PostError::NotEstablished);
        };
        let mut facts = Vec::new();
        let mut established = None;
        for (sequence, event) in live_events(events)? {
            match event {
                PostEvent::Established { .. } if established.is_some() => return Err(PostError::AlreadyEstablished),
                PostEvent::Established { .. } => established = Some(event),
                _ => facts.push((sequence, event)),
            }
        }
        let Some(PostEvent::Established {
            post_id,
            organisation,
            title,
            role,
            established_on,
            reference,
        }) = established
        else {
            return Err(PostError::NotEstablished);
        };
        facts.sort_by_key(|(sequence, event)| (event.effective_on(), *sequence));
        let mut history = PostHistory {
            post_id: *post_id,
            organisation: organisation.clone(),
            title: title.clone(),
            role: role.clone(),
            established_on: *established_on,
            reference: reference.clone(),
            disestablished_on: None,
            occupancies: Vec::new(),
        };
        for (i, (sequence, event)) in facts.iter().enumerate() {
            history.apply(*sequence, event)?;
            let day = event.effective_on();
            let day_ends = facts.get(i + 1).is_none_or(|(_, next)| next.effective_on() != day);
            if let (true, Some(day)) = (day_ends, day) {
                history.check_day_end(day)?;
            }
        }
        Ok(history)
    }

    /// Who holds the post at the end of `day`, and on what basis.
    pub fn occupants_on(&self, day: NaiveDate) -> Vec<(Uuid, Basis)> {
        self.occupancies
            .iter()
            .filter(|o| o.covers(day))
            .map(|o| (o.participant_id, o.basis))
            .collect()
    }

    /// The occupancies still open at the end of the history.
    pub fn current_occupants(&self) -> Vec<&Occupancy> {
        self.occupancies.iter().filter(|o| o.until.is_none()).collect()
    }

    fn open_mut(&mut self, participant_id: Uuid) -> Option<&mut Occupancy> {
        self.occupancies
            .iter_mut()
            .find(|o| o.participant_id == participant_id && o.until.is_none())
    }

    fn apply(&mut self, sequence: u64, event: &PostEvent) -> Result<(), PostError> {
        if let Some(effective_on) = event.effective_on().filter(|d| *d < self.established_on) {
            return Err(PostError::BeforeEstablishment {
                effective_on,
                established_on: self.established_on,
            });
        }
        match event {
            PostEvent::Filled {
                participant_id,
                basis,
                effective_on,
            } => {
                if let Some(disestablished_on) = self.disestablished_on {
                    return Err(PostError::Disestablished {
                        effective_on: *effective_on,
                        disestablished_on,
                    });
                }
                if self.open_mut(*participant_id).is_some() {
                    return Err(PostError::AlreadyInPost {
                        participant_id: *participant_id,
                        effective_on: *effective_on,
                    });
                }
                self.occupancies.push(Occupancy {
                    participant_id: *participant_id,
                    basis: *basis,
                    from: *effective_on,
                    until: None,
                    filled_sequence: sequence,
                });
            }
            PostEvent::Vacated {
                participant_id,
                effective_on,
            } => {
                let Some(open) = self.open_mut(*participant_id) else {
                    return Err(PostError::NotInPost {
                        participant_id: *participant_id,
                        effective_on: *effective_on,
                    });
                };
                open.until = Some(*effective_on);
            }
            PostEvent::Disestablished { effective_on } => {
                if self.disestablished_on.is_some() {
                    return Err(PostError::AlreadyDisestablished);
                }
                self.disestablished_on = Some(*effective_on);
            }
            PostEvent::Established { .. } => return Err(PostError::AlreadyEstablished),
            PostEvent::EventRetracted { .. } => {}
        }
        Ok(())
    }

    /// The rules about a whole day, checked once its events are applied.
    fn check_day_end(&self, day: NaiveDate) -> Result<(), PostError> {
        let open = self.current_occupants();
        let permanent: Vec<_> = open.iter().filter(|o| o.basis == Basis::Permanent).collect();
        if permanent.len() > 1 {
            return Err(PostError::TwoPermanentOccupants {
                effective_on: day,
                occupant: permanent[0].participant_id,
            });
        }
        if self.disestablished_on == Some(day) && !open.is_empty() {
            return Err(PostError::StillOccupied {
                effective_on: day,
                occupants: open.len(),
            });
        }
        Ok(())
    }
}
