//! The PLDP plan, counted by docs/metrics.md §1's rule written out again here.

use std::collections::HashMap;

use super::super::check::{self, Fact, Kind, World};
use super::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Outcome {
    Dcs,
    Pl,
    Other,
    Sideways,
    Left,
    Remained,
}

/// A member's outcome and, for a target outcome, whether the move that
/// reached it was internal.
fn outcome(world: &World, who: uuid::Uuid, enrolled_on: NaiveDate) -> Option<(Outcome, bool)> {
    let as_at = date(AS_AT.0, AS_AT.1, AS_AT.2);
    let entries = world.entries(who, enrolled_on.succ_opt().expect("date"), as_at);
    if entries.iter().any(|e| matches!(e.fact, Fact::Excluded)) {
        return None;
    }
    let reached = |target: &str| {
        entries.iter().find_map(|e| match &e.fact {
            Fact::Moved {
                role,
                org,
                from_org,
                kind: Kind::Promotion,
                ..
            } if *role == target => Some(org == from_org),
            _ => None,
        })
    };
    if let Some(internal) = reached("dcs") {
        return Some((Outcome::Dcs, internal));
    }
    if let Some(internal) = reached("practice_leader") {
        return Some((Outcome::Pl, internal));
    }
    let kinds: Vec<Kind> = entries
        .iter()
        .filter_map(|e| match &e.fact {
            Fact::Moved { kind, .. } => Some(*kind),
            _ => None,
        })
        .collect();
    let out = if kinds.contains(&Kind::Promotion) {
        Outcome::Other
    } else if kinds.contains(&Kind::Sideways) {
        Outcome::Sideways
    } else if world.employer_on(who, as_at).is_none() {
        Outcome::Left
    } else {
        Outcome::Remained
    };
    Some((out, false))
}

/// The plan, its outcome counts per (cohort, outcome), and internal target promotions per cohort.
type Tally = (World, HashMap<(u32, Outcome), usize>, HashMap<u32, usize>);

fn tally() -> Tally {
    let world = check::simulate(&steps());
    let mut counts = HashMap::new();
    let mut internal = HashMap::new();
    for (n, _, _) in cohorts() {
        for (who, on) in check::members(&world, cohort_id(n)) {
            if let Some((o, int)) = outcome(&world, who, on) {
                *counts.entry((n, o)).or_insert(0) += 1;
                if int {
                    *internal.entry(n).or_insert(0) += 1;
                }
            }
        }
    }
    (world, counts, internal)
}

#[test]
fn outcomes_match_the_published_table() {
    let (_, counts, _) = tally();
    let get = |n, o| counts.get(&(n, o)).copied().unwrap_or(0);
    let expected = [
        (Outcome::Dcs, [0, 1, 1]),
        (Outcome::Pl, [14, 11, 7]),
        (Outcome::Other, [0, 1, 2]),
        (Outcome::Sideways, [3, 6, 2]),
        (Outcome::Left, [0, 0, 0]),
        (Outcome::Remained, [1, 5, 13]),
    ];
    for (o, by_cohort) in expected {
        assert_eq!([get(1, o), get(2, o), get(3, o)], by_cohort, "{o:?}");
    }
    let counted: Vec<usize> = (1..=3)
        .map(|n| counts.iter().filter(|((c, _), _)| *c == n).map(|(_, k)| k).sum())
        .collect();
    assert_eq!(counted, vec![18, 24, 25]);
}

#[test]
fn twenty_of_the_thirty_four_target_promotions_are_internal() {
    let (_, _, internal) = tally();
    assert_eq!([internal[&1], internal[&2], internal[&3]], [9, 7, 4]);
}

#[test]
fn sixty_eight_enrolled_one_excluded_for_working_abroad() {
    let steps = steps();
    let world = check::simulate(&steps);
    let enrolled: usize = (1..=3).map(|n| check::members(&world, cohort_id(n)).len()).sum();
    assert_eq!(enrolled, 68);
    let excluded: Vec<_> = steps
        .iter()
        .filter(|s| matches!(&s.action, Action::Exclude { .. }))
        .collect();
    assert_eq!(excluded.len(), 1);
    assert!(excluded[0].name.starts_with("pldp:c1:"));
    assert!(steps.iter().any(|s| matches!(&s.action,
        Action::Leave { destination: Some(d), effective_on, .. } if d == "abroad" && *effective_on < date(2021, 1, 31))));
}

#[test]
fn regions_spread_27_6_12_23() {
    let steps = steps();
    let mut spread = HashMap::new();
    for s in &steps {
        if let Action::Register { organisation, .. } = &s.action {
            let region = organisation.split(" LA ").next().expect("named by region").to_string();
            *spread.entry(region).or_insert(0) += 1;
        }
    }
    assert_eq!(spread["London and South East"], 27);
    assert_eq!(spread["South West"], 6);
    assert_eq!(spread["Midlands and East"], 12);
    assert_eq!(spread["North"], 23);
}

#[test]
fn a_quarter_of_practice_leaders_moved_sideways_or_acted_up_first() {
    let world = check::simulate(&steps());
    let as_at = date(AS_AT.0, AS_AT.1, AS_AT.2);
    let (mut promotees, mut after_sideways, mut interim) = (0, 0, 0);
    for (n, _, _) in cohorts() {
        for (who, on) in check::members(&world, cohort_id(n)) {
            if outcome(&world, who, on).map(|o| o.0) != Some(Outcome::Pl) {
                continue;
            }
            promotees += 1;
            let entries = world.entries(who, on.succ_opt().expect("date"), as_at);
            let first_pl = entries
                .iter()
                .position(|e| {
                    matches!(
                        &e.fact,
                        Fact::Moved {
                            role: "practice_leader",
                            ..
                        }
                    )
                })
                .expect("a PL promotee has a PL move");
            let sideways_before = entries[..first_pl].iter().find_map(|e| match &e.fact {
                Fact::Moved {
                    kind: Kind::Sideways,
                    org,
                    from_org,
                    ..
                } => Some(org != from_org),
                _ => None,
            });
            if let Some(changed_la) = sideways_before {
                assert!(changed_la, "a PL after a sideways move had changed LA");
                after_sideways += 1;
            }
            if entries.iter().any(|e| {
                matches!(
                    &e.fact,
                    Fact::Moved {
                        role: "practice_leader",
                        kind: Kind::Terms,
                        ..
                    }
                )
            }) {
                interim += 1;
            }
        }
    }
    assert_eq!((promotees, after_sideways, interim), (32, 6, 2));
}

#[test]
fn inspectors_are_explicit_promotions_to_ofsted() {
    let inspectors: Vec<_> = steps()
        .into_iter()
        .filter_map(|s| match s.action {
            Action::ChangeRole {
                role: "inspector",
                organisation,
                explicit_promotion,
                ..
            } => Some((organisation, explicit_promotion)),
            _ => None,
        })
        .collect();
    assert_eq!(inspectors.len(), 3);
    assert!(inspectors.iter().all(|(org, explicit)| org == "Ofsted" && *explicit));
}
