//! Applying one live event after another to a participant's timeline,
//! in effective order: the rules of docs/metrics.md "Career ladder" that
//! make a role change a move or a change of terms, and what ends a spell.

use super::super::{ParticipantError, ParticipantEvent};
use super::{Exclusion, Leaving, Move, Spell, SpellEnd, Timeline};
use crate::ladder::{derive_move_kind, Levels, MoveKind};

/// Walks the facts in effective order, keeping the open spell.
pub(super) struct Builder<'l> {
    pub(super) timeline: Timeline,
    /// What every role is judged with.
    pub(super) levels: &'l Levels,
    pub(super) current: Option<Spell>,
    /// The spell the latest leaving ended (what a rejoining is judged against).
    pub(super) last_ended: Option<Spell>,
}

impl Builder<'_> {
    pub(super) fn apply(&mut self, sequence: u64, event: &ParticipantEvent) -> Result<(), ParticipantError> {
        if let Some(effective_on) = event.effective_on() {
            if effective_on < self.timeline.joined_on {
                return Err(ParticipantError::EffectiveBeforeJoining {
                    effective_on,
                    joined_on: self.timeline.joined_on,
                });
            }
        }
        match event {
            ParticipantEvent::RoleChanged {
                effective_on,
                role,
                organisation,
                team,
                post_id,
                basis,
                fte,
                kind_given,
            } => {
                let Some(mut old) = self.current.take() else {
                    return Err(ParticipantError::NotEmployed {
                        effective_on: *effective_on,
                    });
                };
                let new = Spell {
                    organisation: organisation.clone(),
                    team: team.clone(),
                    role: self.levels.judge(organisation, role),
                    post_id: *post_id,
                    basis: *basis,
                    fte: fte.unwrap_or(old.fte),
                    from: *effective_on,
                    until: None,
                    ended_by: None,
                    started_sequence: sequence,
                };
                if let Some(m) = judge_move(sequence, &old, &new, *kind_given, false)? {
                    self.timeline.moves.push(m);
                }
                old.until = Some(*effective_on);
                old.ended_by = Some(SpellEnd::RoleChange);
                self.timeline.spells.push(old);
                self.current = Some(new);
            }
            ParticipantEvent::LeavingRecorded {
                effective_on,
                reason,
                destination,
            } => {
                let Some(mut old) = self.current.take() else {
                    return Err(ParticipantError::NotEmployed {
                        effective_on: *effective_on,
                    });
                };
                old.until = Some(*effective_on);
                old.ended_by = Some(SpellEnd::Leaving);
                self.timeline.leavings.push(Leaving {
                    sequence,
                    effective_on: *effective_on,
                    organisation: old.organisation.clone(),
                    role: old.role.clone(),
                    fte: old.fte,
                    reason: reason.clone(),
                    destination: destination.clone(),
                });
                self.timeline.spells.push(old.clone());
                self.last_ended = Some(old);
            }
            ParticipantEvent::RejoiningRecorded {
                effective_on,
                organisation,
                team,
                role,
                post_id,
                basis,
                fte,
                kind_given,
            } => {
                let (None, Some(before)) = (&self.current, &self.last_ended) else {
                    return Err(ParticipantError::AlreadyEmployed {
                        effective_on: *effective_on,
                    });
                };
                let new = Spell {
                    organisation: organisation.clone(),
                    team: team.clone(),
                    role: self.levels.judge(organisation, role),
                    post_id: *post_id,
                    basis: *basis,
                    fte: *fte,
                    from: *effective_on,
                    until: None,
                    ended_by: None,
                    started_sequence: sequence,
                };
                if let Some(m) = judge_move(sequence, before, &new, *kind_given, true)? {
                    self.timeline.moves.push(m);
                }
                self.current = Some(new);
            }
            ParticipantEvent::ExcludedFromAnalysis { effective_on, reason } => {
                if self.timeline.excluded() {
                    return Err(ParticipantError::AlreadyExcluded {
                        effective_on: *effective_on,
                    });
                }
                self.timeline.exclusions.push(Exclusion {
                    sequence,
                    from: *effective_on,
                    until: None,
                    reason: reason.clone(),
                    lift_reason: None,
                });
            }
            ParticipantEvent::ExclusionLifted { effective_on, reason } => match self.timeline.exclusions.last_mut() {
                Some(open) if open.until.is_none() => {
                    open.until = Some(*effective_on);
                    open.lift_reason = Some(reason.clone());
                }
                _ => {
                    return Err(ParticipantError::NotExcluded {
                        effective_on: *effective_on,
                    })
                }
            },
            // Filtered out by `build`; a second registration would be refused there.
            ParticipantEvent::Registered { .. } => return Err(ParticipantError::AlreadyRegistered),
            ParticipantEvent::EventRetracted { .. } => {}
        }
        Ok(())
    }
}

/// Whether going from spell `from` to spell `to` is a move, and which.
fn judge_move(
    sequence: u64,
    from: &Spell,
    to: &Spell,
    kind_given: Option<MoveKind>,
    rejoining: bool,
) -> Result<Option<Move>, ParticipantError> {
    let derived = derive_move_kind(&from.role, &to.role);
    // docs/metrics.md: equal level is a sideways move only "when the post or
    // organisation differs"; otherwise (basis, FTE, team, or another role of
    // the same level) it is a change of terms, not a move.
    let same_role_or_level = from.role.code == to.role.code || derived == Some(MoveKind::Sideways);
    if kind_given.is_none() && same_role_or_level && from.organisation == to.organisation && from.post_id == to.post_id
    {
        return Ok(None);
    }
    let kind = match kind_given.or(derived) {
        Some(kind) => kind,
        None => {
            return Err(ParticipantError::MoveKindRequired {
                from: from.role.code.clone(),
                to: to.role.code.clone(),
            })
        }
    };
    Ok(Some(Move {
        sequence,
        effective_on: to.from,
        from_role: from.role.clone(),
        from_organisation: from.organisation.clone(),
        from_post_id: from.post_id,
        to_role: to.role.clone(),
        to_organisation: to.organisation.clone(),
        to_post_id: to.post_id,
        kind,
        kind_given: kind_given.is_some(),
        internal: from.organisation == to.organisation,
        rejoining,
    }))
}
