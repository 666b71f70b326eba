//! A participant's history as it stands: spells of employment, moves,
//! leavings and exclusions, derived from the live events ordered by
//! effective date. The aggregate validates commands by building the
//! timeline that would result; the projections build it to derive read
//! models. Both therefore agree on every derivation.
//!
//! # Rules applied (docs/metrics.md "Days" and "Career ladder")
//!
//! * Live events (retracted ones and retractions dropped) apply in order of
//!   `(effective date, sequence)`: two events on one date apply in recorded
//!   order. The registration applies first.
//! * "Employed on D" means at the end of D, so spells are half-open
//!   `[from, until)`: a joining on D starts that day, a leaving on D ends it,
//!   and a role change on D ends the old spell and starts the new one on D.
//!   A spell can be empty (`from == until`, e.g. joined and left on one day).
//! * A role change is a [`Move`] unless it keeps role code, organisation and
//!   post and gives no kind: then it is a change of terms (basis, FTE, team)
//!   and only starts a new [`Spell`]. A given kind always wins and always
//!   makes a move; otherwise the kind is derived from ladder levels, and a
//!   move to or from an off-ladder role without a given kind is refused.
//! * A move is internal when the organisation after it is the one employed
//!   by just before it. A rejoining is judged against the spell the latest
//!   leaving ended (role and organisation before the leaving); rejoining in
//!   the same role, organisation and post without a given kind is no move.
//! * Levels come from the [`Levels`] the timeline is built with, not from the
//!   events: every spell's role carries the level the ladder of its own
//!   organisation gives it (the recorded level only for a code that ladder
//!   does not know), so one ladder judges the whole history and a move
//!   between organisations takes each end from its own organisation's ladder
//!   (docs/metrics.md decision 14).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

mod builder;

use builder::Builder;

use super::{ParticipantError, ParticipantEvent};
use crate::ladder::{Basis, Levels, MoveKind, RoleRef};
use crate::retraction::live_events;

/// A period employed in one role, post, organisation and terms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spell {
    pub organisation: String,
    pub team: Option<String>,
    /// The role, with the level its organisation's ladder gives it.
    pub role: RoleRef,
    pub post_id: Option<Uuid>,
    pub basis: Basis,
    pub fte: f64,
    /// First day of the spell (inclusive).
    pub from: NaiveDate,
    /// Effective date of the event that ended it (exclusive); `None` while open.
    pub until: Option<NaiveDate>,
    /// What ended it; `None` while open.
    pub ended_by: Option<SpellEnd>,
    /// Sequence of the event that started it (registration, role change or rejoining).
    pub started_sequence: u64,
}

impl Spell {
    /// Whether the spell covers the end of `day`.
    pub fn covers(&self, day: NaiveDate) -> bool {
        crate::days::covers(self.from, self.until, day)
    }
}

/// What ended a spell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpellEnd {
    /// A leaving: employment ended.
    Leaving,
    /// A role change (a move or change of terms) started another spell.
    RoleChange,
}

/// A career move: a role change or rejoining that changed role, post or
/// organisation, or whose kind was given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Move {
    /// Sequence of the `RoleChanged` or `RejoiningRecorded` event.
    pub sequence: u64,
    pub effective_on: NaiveDate,
    pub from_role: RoleRef,
    pub from_organisation: String,
    pub from_post_id: Option<Uuid>,
    pub to_role: RoleRef,
    pub to_organisation: String,
    pub to_post_id: Option<Uuid>,
    /// The kind given when recorded, else the one derived from levels.
    pub kind: MoveKind,
    /// Whether `kind` was given rather than derived.
    pub kind_given: bool,
    /// The organisation after the move is the one employed by just before it.
    pub internal: bool,
    /// The move is a rejoining (judged against the role held before leaving).
    pub rejoining: bool,
}

/// A recorded leaving with what it ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Leaving {
    /// Sequence of the `LeavingRecorded` event.
    pub sequence: u64,
    pub effective_on: NaiveDate,
    /// Organisation, role and FTE of the spell the leaving ended.
    pub organisation: String,
    pub role: RoleRef,
    pub fte: f64,
    pub reason: String,
    pub destination: Option<String>,
}

/// A period excluded from analysis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exclusion {
    /// Sequence of the `ExcludedFromAnalysis` event.
    pub sequence: u64,
    /// First day excluded (inclusive).
    pub from: NaiveDate,
    /// The lift's effective date (exclusive); `None` while in force.
    pub until: Option<NaiveDate>,
    pub reason: String,
    /// The reason given when the exclusion was lifted.
    pub lift_reason: Option<String>,
}

impl Exclusion {
    /// Whether the exclusion is in force at the end of `day`.
    pub fn covers(&self, day: NaiveDate) -> bool {
        crate::days::covers(self.from, self.until, day)
    }
}

/// A participant's valid history, derived from its events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Timeline {
    participant_id: Uuid,
    external_ref: String,
    joined_on: NaiveDate,
    spells: Vec<Spell>,
    moves: Vec<Move>,
    leavings: Vec<Leaving>,
    exclusions: Vec<Exclusion>,
}

impl Timeline {
    /// Derives the timeline from `events`, given as `(sequence, event)` in
    /// stream order and including retractions (the retracted events are
    /// dropped), judging roles with `levels`. Fails with the first rule the
    /// history breaks, in effective order.
    pub fn build(events: &[(u64, ParticipantEvent)], levels: &Levels) -> Result<Timeline, ParticipantError> {
        let Some((_, ParticipantEvent::Registered { .. })) = events.first() else {
            return Err(ParticipantError::NotRegistered);
        };
        let live = live_events(events)?;
        let mut facts = Vec::with_capacity(live.len());
        let mut registration = None;
        for (sequence, event) in live {
            if let ParticipantEvent::Registered { .. } = event {
                if registration.is_some() {
                    return Err(ParticipantError::AlreadyRegistered);
                }
                registration = Some((sequence, event));
            } else {
                facts.push((sequence, event));
            }
        }
        let Some((
            reg_sequence,
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
            },
        )) = registration
        else {
            return Err(ParticipantError::NotRegistered);
        };
        // Stable by construction: sequences are unique.
        facts.sort_by_key(|(sequence, event)| (event.effective_on(), *sequence));

        let mut builder = Builder {
            timeline: Timeline {
                participant_id: *participant_id,
                external_ref: external_ref.clone(),
                joined_on: *joined_on,
                spells: Vec::new(),
                moves: Vec::new(),
                leavings: Vec::new(),
                exclusions: Vec::new(),
            },
            current: Some(Spell {
                organisation: organisation.clone(),
                team: team.clone(),
                role: levels.judge(organisation, role),
                post_id: *post_id,
                basis: *basis,
                fte: *fte,
                from: *joined_on,
                until: None,
                ended_by: None,
                started_sequence: reg_sequence,
            }),
            last_ended: None,
            levels,
        };
        for (sequence, event) in facts {
            builder.apply(sequence, event)?;
        }
        let mut timeline = builder.timeline;
        timeline.spells.extend(builder.current);
        Ok(timeline)
    }

    /// The timeline with `event` (recorded as `sequence`) applied after
    /// everything in it: what [`Timeline::build`] gives when `event` is
    /// live and ordered after every live event. The open spell, if any, is
    /// the last one; without one, the last spell is the one the latest
    /// leaving ended.
    pub(crate) fn extended(
        self,
        sequence: u64,
        event: &ParticipantEvent,
        levels: &Levels,
    ) -> Result<Timeline, ParticipantError> {
        let mut timeline = self;
        let current = match timeline.spells.last() {
            Some(spell) if spell.until.is_none() => timeline.spells.pop(),
            _ => None,
        };
        let last_ended = match current {
            Some(_) => None,
            None => timeline.spells.last().cloned(),
        };
        let mut builder = Builder {
            timeline,
            current,
            last_ended,
            levels,
        };
        builder.apply(sequence, event)?;
        let mut timeline = builder.timeline;
        timeline.spells.extend(builder.current);
        Ok(timeline)
    }

    /// Whether [`Timeline::extended`] would accept `event`, judged on a
    /// copy of only what applying an event reads: the joining date, the
    /// last spell and the last exclusion (not the whole history).
    pub(crate) fn check_next(
        &self,
        sequence: u64,
        event: &ParticipantEvent,
        levels: &Levels,
    ) -> Result<(), ParticipantError> {
        let last = Timeline {
            participant_id: self.participant_id,
            external_ref: String::new(),
            joined_on: self.joined_on,
            spells: self.spells.last().cloned().into_iter().collect(),
            moves: Vec::new(),
            leavings: Vec::new(),
            exclusions: self.exclusions.last().cloned().into_iter().collect(),
        };
        last.extended(sequence, event, levels).map(drop)
    }

    /// The participant's id.
    pub fn participant_id(&self) -> Uuid {
        self.participant_id
    }

    /// The participant's external reference.
    pub fn external_ref(&self) -> &str {
        &self.external_ref
    }

    /// The registration's joining date.
    pub fn joined_on(&self) -> NaiveDate {
        self.joined_on
    }

    /// Employment-in-one-role periods, in date order (the open one last).
    pub fn spells(&self) -> &[Spell] {
        &self.spells
    }

    /// Role changes and rejoinings that are moves, in effective order.
    pub fn moves(&self) -> &[Move] {
        &self.moves
    }

    /// Leavings with the spell they ended, in effective order.
    pub fn leavings(&self) -> &[Leaving] {
        &self.leavings
    }

    /// Exclusions from analysis, in effective order.
    pub fn exclusions(&self) -> &[Exclusion] {
        &self.exclusions
    }

    /// The spell held at the end of `day`, if employed then.
    pub fn employment_on(&self, day: NaiveDate) -> Option<&Spell> {
        self.spells.iter().rev().find(|s| s.covers(day))
    }

    /// The open spell at the end of the history (employed from then on).
    pub fn current(&self) -> Option<&Spell> {
        self.spells.last().filter(|s| s.until.is_none())
    }

    /// Whether an exclusion is in force at the end of `day`.
    pub fn excluded_on(&self, day: NaiveDate) -> bool {
        self.exclusions.iter().any(|e| e.covers(day))
    }

    /// Whether an exclusion is in force at the end of the history.
    pub fn excluded(&self) -> bool {
        self.exclusions.last().is_some_and(|e| e.until.is_none())
    }
}
