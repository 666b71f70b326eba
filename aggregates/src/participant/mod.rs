//! The `Participant` aggregate: one person's employment history across
//! organisations (registration, role changes, leavings, rejoinings,
//! exclusions from analysis) and corrections to it.
//!
//! Every command is checked by building the [`Timeline`] that would result
//! (all live events plus the new one, in effective order), so late records
//! are accepted exactly when the whole history stays consistent, and a
//! retraction is accepted exactly when the history without the retracted
//! event is. [`Participant::decide`] is the synchronous core of `handle`.
//!
//! Levels are judged with the ladders the participant carries
//! ([`Participant::judged_with`]): the application sets the ladders in force
//! now before deciding, the projections the ladders a report answers for, so
//! commands and reports judge every move alike (docs/metrics.md decision 14).
//! A participant made with `default()` judges with the default ladder.

mod commands;
mod error;
mod events;
mod timeline;

#[cfg(test)]
mod correction_tests;
#[cfg(test)]
mod extended_tests;
#[cfg(test)]
mod ladder_tests;
#[cfg(test)]
mod state_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod timeline_tests;

pub use commands::ParticipantCommand;
pub use error::ParticipantError;
pub use events::ParticipantEvent;
pub use timeline::{Exclusion, Leaving, Move, Spell, SpellEnd, Timeline};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::context::CommandContext;
use crate::field::{optional_text, require_text, Field};
use crate::ladder::{Basis, Levels, RoleRef};
use crate::stream::{impl_aggregate, EventStream, Lazy};

/// One participant's event stream and the timeline it yields.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Participant {
    /// Every event applied, with its sequence (1-based, stream order).
    events: Vec<(u64, ParticipantEvent)>,
    /// The ladders roles are judged with (not part of the stream: the
    /// caller sets them, so they are not serialized).
    #[serde(skip)]
    levels: Levels,
    /// The history as it stands, judged with `levels`; `None` before
    /// registration.
    #[serde(skip)]
    timeline: Lazy<Timeline, ParticipantEvent>,
}

/// A participant's current state for `GET /participants/{id}`: the end of
/// their recorded history (which may include changes effective up to the
/// future margin).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParticipantView {
    pub participant_id: Uuid,
    pub external_ref: String,
    pub joined_on: NaiveDate,
    /// The open spell, or `None` after a leaving.
    pub employment: Option<Employment>,
    pub employed: bool,
    /// An exclusion from analysis is in force.
    pub excluded: bool,
    /// The stream's version (for `If-Match`).
    pub version: u64,
}

/// Where and on what terms a participant is employed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Employment {
    pub organisation: String,
    pub team: Option<String>,
    pub role: RoleRef,
    pub post_id: Option<Uuid>,
    pub basis: Basis,
    pub fte: f64,
    /// First day of the current spell.
    pub since: NaiveDate,
}

impl Participant {
    /// The same participant with its history judged with `levels` (the
    /// ladders in force where it is decided, or as known when a report
    /// answers): every command decided and every history derived from now on
    /// uses them.
    pub fn judged_with(mut self, levels: Levels) -> Participant {
        self.levels = levels;
        self.timeline = Lazy::default();
        self
    }

    /// The ladders this participant's history is judged with.
    pub fn levels(&self) -> &Levels {
        &self.levels
    }

    /// Whether `event`, recorded next, applies after every live event:
    /// events apply in effective order, so one dated no earlier than any
    /// recorded (retracted ones included, which can only make this more
    /// cautious) and neither a registration nor a retraction does.
    fn applies_last(&self, event: &ParticipantEvent) -> bool {
        if matches!(
            event,
            ParticipantEvent::Registered { .. } | ParticipantEvent::EventRetracted { .. }
        ) {
            return false;
        }
        let latest = self.events.iter().filter_map(|(_, e)| e.effective_on()).max();
        matches!((latest, event.effective_on()), (Some(latest), Some(on)) if on >= latest)
    }

    /// Whether the participant has been registered.
    pub fn registered(&self) -> bool {
        matches!(self.events.first(), Some((_, ParticipantEvent::Registered { .. })))
    }

    /// The number of events applied (the sequence of the latest).
    pub fn version(&self) -> u64 {
        self.events.len() as u64
    }

    /// The current, valid history; `None` before registration.
    pub fn timeline(&self) -> Option<&Timeline> {
        self.derived_history()
    }

    /// Every event applied, as `(sequence, event)` in stream order.
    pub fn events(&self) -> &[(u64, ParticipantEvent)] {
        &self.events
    }

    /// The event with `sequence`, if any.
    pub fn event(&self, sequence: u64) -> Option<&ParticipantEvent> {
        self.events.iter().find(|(s, _)| *s == sequence).map(|(_, e)| e)
    }

    /// Whether the event with `sequence` has been retracted.
    pub fn is_retracted(&self, sequence: u64) -> bool {
        self.events.iter().any(|(_, e)| {
            matches!(e, ParticipantEvent::EventRetracted { retracted_sequence, .. } if *retracted_sequence == sequence)
        })
    }

    /// The state view; `None` before registration.
    pub fn view(&self) -> Option<ParticipantView> {
        let timeline = self.derived_history()?;
        let employment = timeline.current().map(|s| Employment {
            organisation: s.organisation.clone(),
            team: s.team.clone(),
            role: s.role.clone(),
            post_id: s.post_id,
            basis: s.basis,
            fte: s.fte,
            since: s.from,
        });
        Some(ParticipantView {
            participant_id: timeline.participant_id(),
            external_ref: timeline.external_ref().to_string(),
            joined_on: timeline.joined_on(),
            employed: employment.is_some(),
            employment,
            excluded: timeline.excluded(),
            version: self.version(),
        })
    }

    /// Decides `command` against the history: the event to record, or the
    /// rule that refuses it. Pure; `handle` writes the event.
    pub fn decide(
        &self,
        command: ParticipantCommand,
        ctx: &CommandContext,
    ) -> Result<ParticipantEvent, ParticipantError> {
        // Every command but registration needs the registered history.
        let registered = || {
            self.derived_history()
                .filter(|_| self.registered())
                .ok_or(ParticipantError::NotRegistered)
        };
        let event = match command {
            ParticipantCommand::Register {
                participant_id,
                external_ref,
                organisation,
                team,
                role,
                post_id,
                basis,
                fte,
                joined_on,
            } => {
                if self.registered() {
                    return Err(ParticipantError::AlreadyRegistered);
                }
                require_text(Field::ExternalRef, &external_ref)?;
                check_place(&organisation, team.as_deref(), &role)?;
                check_fte(fte)?;
                ctx.check_date(Field::JoinedOn, joined_on)?;
                ParticipantEvent::Registered {
                    participant_id,
                    external_ref,
                    organisation,
                    team,
                    role,
                    post_id,
                    basis,
                    fte,
                    joined_on,
                }
            }
            ParticipantCommand::ChangeRole {
                effective_on,
                role,
                organisation,
                team,
                post_id,
                basis,
                fte,
                kind,
            } => {
                check_place(&organisation, team.as_deref(), &role)?;
                if let Some(fte) = fte {
                    check_fte(fte)?;
                }
                check_date(ctx, registered()?, effective_on)?;
                // No FTE given: the timeline keeps the FTE of the spell this
                // change ends; it must end one.
                if fte.is_none() {
                    registered()?
                        .employment_on(effective_on)
                        .ok_or(ParticipantError::NotEmployed { effective_on })?;
                }
                ParticipantEvent::RoleChanged {
                    effective_on,
                    role,
                    organisation,
                    team,
                    post_id,
                    basis,
                    fte,
                    kind_given: kind,
                }
            }
            ParticipantCommand::RecordLeaving {
                effective_on,
                reason,
                destination,
            } => {
                require_text(Field::Reason, &reason)?;
                optional_text(Field::Destination, destination.as_deref())?;
                check_date(ctx, registered()?, effective_on)?;
                ParticipantEvent::LeavingRecorded {
                    effective_on,
                    reason,
                    destination,
                }
            }
            ParticipantCommand::RecordRejoining {
                effective_on,
                organisation,
                team,
                role,
                post_id,
                basis,
                fte,
                kind,
            } => {
                check_place(&organisation, team.as_deref(), &role)?;
                check_fte(fte)?;
                check_date(ctx, registered()?, effective_on)?;
                ParticipantEvent::RejoiningRecorded {
                    effective_on,
                    organisation,
                    team,
                    role,
                    post_id,
                    basis,
                    fte,
                    kind_given: kind,
                }
            }
            ParticipantCommand::ExcludeFromAnalysis { effective_on, reason } => {
                require_text(Field::Reason, &reason)?;
                check_date(ctx, registered()?, effective_on)?;
                ParticipantEvent::ExcludedFromAnalysis { effective_on, reason }
            }
            ParticipantCommand::LiftExclusion { effective_on, reason } => {
                require_text(Field::Reason, &reason)?;
                check_date(ctx, registered()?, effective_on)?;
                ParticipantEvent::ExclusionLifted { effective_on, reason }
            }
            ParticipantCommand::Retract { sequence, reason } => {
                require_text(Field::Reason, &reason)?;
                registered()?;
                return self.retract(sequence, reason);
            }
        };
        self.checked(event)
    }
}

/// Organisation and role code must be given; a team, when given, not blank.
fn check_place(organisation: &str, team: Option<&str>, role: &RoleRef) -> Result<(), ParticipantError> {
    require_text(Field::Organisation, organisation)?;
    optional_text(Field::Team, team)?;
    require_text(Field::Role, &role.code)?;
    Ok(())
}

/// FTE is above 0 and at most 1 (NaN is refused too).
fn check_fte(fte: f64) -> Result<(), ParticipantError> {
    if fte > 0.0 && fte <= 1.0 {
        Ok(())
    } else {
        Err(ParticipantError::InvalidFte { fte })
    }
}

/// An effective date within the future margin and not before joining.
fn check_date(ctx: &CommandContext, timeline: &Timeline, effective_on: NaiveDate) -> Result<(), ParticipantError> {
    ctx.check_date(Field::EffectiveOn, effective_on)?;
    if effective_on < timeline.joined_on() {
        return Err(ParticipantError::EffectiveBeforeJoining {
            effective_on,
            joined_on: timeline.joined_on(),
        });
    }
    Ok(())
}

impl EventStream for Participant {
    type Event = ParticipantEvent;
    type History = Timeline;
    type Error = ParticipantError;

    fn recorded(&self) -> &[(u64, ParticipantEvent)] {
        &self.events
    }

    fn derive(&self, events: &[(u64, ParticipantEvent)]) -> Result<Timeline, ParticipantError> {
        Timeline::build(events, &self.levels)
    }

    fn retraction(sequence: u64, reason: String) -> ParticipantEvent {
        ParticipantEvent::EventRetracted {
            retracted_sequence: sequence,
            reason,
        }
    }

    fn retraction_would_break(sequence: u64, because: String) -> ParticipantError {
        ParticipantError::RetractionWouldBreakHistory { sequence, because }
    }

    fn check_next(&self, event: &ParticipantEvent) -> Option<Result<(), ParticipantError>> {
        if !self.applies_last(event) {
            return None;
        }
        let now = self.timeline()?;
        Some(now.check_next(self.version() + 1, event, &self.levels))
    }

    fn history_with(&self, now: Timeline, event: &ParticipantEvent) -> Option<Timeline> {
        if !self.applies_last(event) {
            return None;
        }
        now.extended(self.version() + 1, event, &self.levels).ok()
    }

    fn keep_ahead(&self, recorded: usize, event: &ParticipantEvent, history: Timeline) {
        self.timeline.keep_ahead(recorded, event.clone(), history);
    }
}

impl_aggregate!(
    Participant,
    "participant",
    ParticipantCommand,
    ParticipantEvent,
    ParticipantError,
    timeline
);
