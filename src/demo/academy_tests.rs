//! The academy plan: leavers per window, before and after the corrections.

use super::super::check;
use super::*;

fn windows() -> [(NaiveDate, NaiveDate); 2] {
    [
        (date(2017, 4, 1), date(2017, 9, 30)),
        (date(2018, 4, 1), date(2018, 9, 30)),
    ]
}

/// (team managers, practice managers) leaving in each window.
fn leavers(world: &check::World) -> [(usize, usize); 2] {
    windows().map(|(from, to)| {
        let roles: Vec<&str> = world.leavings(from, to).into_iter().map(|(_, role)| role).collect();
        let count = |r: &str| roles.iter().filter(|x| **x == r).count();
        (count("team_manager"), count("practice_manager"))
    })
}

#[test]
fn final_leavers_are_6_and_13_then_3_and_6() {
    let mut steps = phase1();
    steps.extend(phase2());
    assert_eq!(leavers(&check::simulate(&steps)), [(6, 13), (3, 6)]);
}

#[test]
fn before_the_corrections_2017_shows_5_and_13_and_2018_shows_4_and_5() {
    assert_eq!(leavers(&check::simulate(&phase1())), [(5, 13), (4, 5)]);
}

#[test]
fn headcount_is_30_and_60_every_day_of_both_windows() {
    let mut steps = phase1();
    steps.extend(phase2());
    let world = check::simulate(&steps);
    for (from, to) in windows() {
        for day in from.iter_days().take_while(|d| *d <= to) {
            let mut tm = 0;
            let mut pm = 0;
            for who in world.people.keys() {
                match world.role_on(*who, day) {
                    Some("team_manager") => tm += 1,
                    Some("practice_manager") => pm += 1,
                    _ => {}
                }
            }
            assert_eq!((tm, pm), (30, 60), "{day}");
        }
    }
}

#[test]
fn the_retraction_names_the_erroneous_leaving_as_sequence_2() {
    let (participant, step, sequence) = retraction();
    assert_eq!(sequence, 2);
    assert_eq!(step, "academy:TM-20-a:leave");
    assert!(phase1()
        .iter()
        .any(|s| s.name == step && s.action.participant_stream() == Some(participant)));
    assert!(phase2()
        .iter()
        .any(|s| matches!(&s.action, Action::Retract { step: st, .. } if *st == step)));
}

#[test]
fn fifty_five_managers_in_three_mldp_cohorts() {
    let world = check::simulate(&phase1());
    let sizes: Vec<usize> = (1..=3).map(|n| check::members(&world, cohort_id(n)).len()).collect();
    assert_eq!(sizes, vec![20, 18, 17]);
}
