//! Test-only: replays a demo plan in memory, checking the rules the
//! aggregates will enforce (so a plan that passes here should load), and
//! answers the simple questions the datasets' tests ask of it. Written
//! independently of the aggregates and projections on purpose.

use std::collections::HashMap;

use chrono::NaiveDate;
use uuid::Uuid;

use super::{Action, Step};

/// The level of a role of the default children's-services ladder.
pub(super) fn level(code: &str) -> Option<u8> {
    let ladder = [
        "asye",
        "social_worker",
        "senior_practitioner",
        "practice_manager",
        "team_manager",
        "service_manager",
        "head_of_service",
        "practice_leader",
        "dcs",
    ];
    ladder.iter().position(|r| *r == code).map(|i| i as u8 + 1)
}

/// How a role change is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Promotion,
    Demotion,
    Sideways,
    /// Same role, post and organisation: a change of terms, not a move.
    Terms,
}

/// One participant event, as the plan records it.
#[derive(Debug, Clone)]
pub(super) enum Fact {
    Joined {
        role: &'static str,
        org: String,
    },
    Moved {
        role: &'static str,
        org: String,
        from_org: String,
        kind: Kind,
    },
    Left,
    Excluded,
    Retraction,
}

#[derive(Debug, Clone)]
pub(super) struct Entry {
    pub on: NaiveDate,
    pub fact: Fact,
    pub retracted: bool,
}

/// The plan's history, in memory.
#[derive(Default)]
pub(super) struct World {
    pub people: HashMap<Uuid, Vec<Entry>>,
    /// (cohort, participant, enrolled_on) in step order.
    pub enrolments: Vec<(Uuid, Uuid, NaiveDate)>,
    pub cohorts: HashMap<Uuid, (String, NaiveDate, NaiveDate)>,
}

impl World {
    /// The organisation `who` is employed by at the end of `day`.
    pub(super) fn employer_on(&self, who: Uuid, day: NaiveDate) -> Option<String> {
        let mut employer = None;
        for entry in self.people.get(&who).into_iter().flatten() {
            if entry.retracted || entry.on > day {
                continue;
            }
            match &entry.fact {
                Fact::Joined { org, .. } | Fact::Moved { org, .. } => employer = Some(org.clone()),
                Fact::Left => employer = None,
                Fact::Excluded | Fact::Retraction => {}
            }
        }
        employer
    }

    /// The role `who` holds at the end of `day`, if employed.
    pub(super) fn role_on(&self, who: Uuid, day: NaiveDate) -> Option<&'static str> {
        let mut role = None;
        for entry in self.people.get(&who).into_iter().flatten() {
            if entry.retracted || entry.on > day {
                continue;
            }
            match &entry.fact {
                Fact::Joined { role: r, .. } | Fact::Moved { role: r, .. } => role = Some(*r),
                Fact::Left => role = None,
                Fact::Excluded | Fact::Retraction => {}
            }
        }
        role
    }

    /// `who`'s non-retracted entries effective in `from..=to`.
    pub(super) fn entries(&self, who: Uuid, from: NaiveDate, to: NaiveDate) -> Vec<&Entry> {
        self.people
            .get(&who)
            .into_iter()
            .flatten()
            .filter(|e| !e.retracted && e.on >= from && e.on <= to)
            .collect()
    }

    /// Leavings (non-retracted) effective in `from..=to`, with the role held before.
    pub(super) fn leavings(&self, from: NaiveDate, to: NaiveDate) -> Vec<(Uuid, &'static str)> {
        let mut out = Vec::new();
        for (who, entries) in &self.people {
            for e in entries.iter().filter(|e| !e.retracted && matches!(e.fact, Fact::Left)) {
                if e.on >= from && e.on <= to {
                    let before = e.on.pred_opt().and_then(|d| self.role_on(*who, d));
                    out.push((*who, before.expect("a leaver held a role")));
                }
            }
        }
        out
    }
}

fn judge(from_role: &str, from_org: &str, role: &str, org: &str, explicit_promotion: bool) -> Kind {
    if explicit_promotion {
        return Kind::Promotion;
    }
    let (before, after) = (level(from_role), level(role));
    assert!(
        before.is_some() && after.is_some(),
        "a move to or from {role}/{from_role} needs an explicit kind"
    );
    match after.cmp(&before) {
        std::cmp::Ordering::Greater => Kind::Promotion,
        std::cmp::Ordering::Less => Kind::Demotion,
        std::cmp::Ordering::Equal if role != from_role || org != from_org => Kind::Sideways,
        std::cmp::Ordering::Equal => Kind::Terms,
    }
}

/// Replays `steps` in order, panicking on any step the domain would refuse.
pub(super) fn simulate(steps: &[Step]) -> World {
    let mut world = World::default();
    let mut refs = std::collections::HashSet::new();
    let mut completions = std::collections::HashSet::new();
    let mut interim: HashMap<Uuid, bool> = HashMap::new();
    for step in steps {
        let name = &step.name;
        let last_on = |world: &World, who: &Uuid| {
            world
                .people
                .get(who)
                .and_then(|es| es.iter().filter(|e| !e.retracted).map(|e| e.on).max())
        };
        match &step.action {
            Action::Register {
                participant,
                external_ref,
                organisation,
                role,
                joined_on,
                ..
            } => {
                assert!(level(role).is_some(), "{name}: registered into an on-ladder role");
                assert!(
                    refs.insert(external_ref.clone()),
                    "{name}: external ref {external_ref} reused"
                );
                let entry = Entry {
                    on: *joined_on,
                    fact: Fact::Joined {
                        role,
                        org: organisation.clone(),
                    },
                    retracted: false,
                };
                assert!(
                    world.people.insert(*participant, vec![entry]).is_none(),
                    "{name}: id reused"
                );
            }
            Action::ChangeRole {
                participant,
                effective_on,
                role,
                organisation,
                interim: is_interim,
                explicit_promotion,
                ..
            } => {
                assert!(
                    last_on(&world, participant).is_some_and(|d| d <= *effective_on),
                    "{name}: in date order"
                );
                let from_org = world.employer_on(*participant, *effective_on);
                let from_role = world.role_on(*participant, *effective_on);
                let (Some(from_org), Some(from_role)) = (from_org, from_role) else {
                    panic!("{name}: role change while not employed")
                };
                let kind = judge(from_role, &from_org, role, organisation, *explicit_promotion);
                let was_interim = interim.insert(*participant, *is_interim).unwrap_or(false);
                assert!(
                    kind != Kind::Terms || was_interim != *is_interim,
                    "{name}: changes nothing"
                );
                let fact = Fact::Moved {
                    role,
                    org: organisation.clone(),
                    from_org,
                    kind,
                };
                world.people.get_mut(participant).expect("registered").push(Entry {
                    on: *effective_on,
                    fact,
                    retracted: false,
                });
            }
            Action::Leave {
                participant,
                effective_on,
                ..
            } => {
                assert!(
                    last_on(&world, participant).is_some_and(|d| d <= *effective_on),
                    "{name}: in date order"
                );
                assert!(
                    world.employer_on(*participant, *effective_on).is_some(),
                    "{name}: leaving while not employed"
                );
                world.people.get_mut(participant).expect("registered").push(Entry {
                    on: *effective_on,
                    fact: Fact::Left,
                    retracted: false,
                });
            }
            Action::Exclude {
                participant,
                effective_on,
                ..
            } => {
                let joined = world.people.get(participant).expect("registered")[0].on;
                assert!(joined <= *effective_on, "{name}: excluded before joining");
                world.people.get_mut(participant).expect("registered").push(Entry {
                    on: *effective_on,
                    fact: Fact::Excluded,
                    retracted: false,
                });
            }
            Action::Retract {
                participant,
                sequence,
                step: target,
                ..
            } => {
                assert_eq!(
                    *sequence,
                    super::planned_sequence(steps, *participant, target),
                    "{name}: sequence"
                );
                let entries = world.people.get_mut(participant).expect("registered");
                let entry = entries.get_mut(*sequence as usize - 1).expect("sequence exists");
                assert!(!entry.retracted, "{name}: retracted twice");
                entry.retracted = true;
                let on = entry.on;
                entries.push(Entry {
                    on,
                    fact: Fact::Retraction,
                    retracted: false,
                });
            }
            Action::OpenCohort {
                cohort,
                name: cohort_name,
                starts_on,
                ends_on,
                ..
            } => {
                assert!(starts_on <= ends_on, "{name}: cohort dates");
                assert!(
                    world
                        .cohorts
                        .insert(*cohort, (cohort_name.clone(), *starts_on, *ends_on))
                        .is_none(),
                    "{name}: opened twice"
                );
            }
            Action::Enrol {
                cohort,
                participant,
                enrolled_on,
            } => {
                let (_, starts, ends) = world.cohorts.get(cohort).expect("cohort opened first");
                assert!(
                    starts <= enrolled_on && enrolled_on <= ends,
                    "{name}: enrolled within the cohort's dates"
                );
                assert!(
                    world.employer_on(*participant, *enrolled_on).is_some(),
                    "{name}: not employed when enrolled"
                );
                assert!(
                    !world.enrolments.iter().any(|(c, p, _)| c == cohort && p == participant),
                    "{name}: enrolled twice"
                );
                world.enrolments.push((*cohort, *participant, *enrolled_on));
            }
            Action::Complete {
                cohort,
                participant,
                completed_on,
            } => {
                let enrolled = world
                    .enrolments
                    .iter()
                    .find(|(c, p, _)| c == cohort && p == participant);
                assert!(
                    enrolled.is_some_and(|(_, _, on)| on <= completed_on),
                    "{name}: completes after enrolling"
                );
                assert!(completions.insert((*cohort, *participant)), "{name}: completed twice");
            }
            // Posts are checked by the post aggregate's own tests; the
            // figures this simulator counts do not involve them.
            Action::EstablishPost { .. } | Action::RegisterInPost { .. } => {}
        }
    }
    world
}

/// The members of `cohort` with their enrolment dates.
pub(super) fn members(world: &World, cohort: Uuid) -> Vec<(Uuid, NaiveDate)> {
    world
        .enrolments
        .iter()
        .filter(|(c, _, _)| *c == cohort)
        .map(|(_, p, on)| (*p, *on))
        .collect()
}
