//! Figures that used to depend on which of several same-day records came
//! last, on a post's events alone, or on an exclusion older than the
//! enrolment (issue #9, "Figure bugs"), worked by hand.

use super::fixtures::*;
use crate::reports::leavers::{self, ExposureBasis, LeaversParams};
use crate::reports::model::{Basis, Dataset, MoveKind::*, Occupancy, Person, Post, Spell, SpellEnd::*};
use crate::reports::retention::{self, RetentionParams};
use crate::reports::turnover::{self, TurnoverParams};
use crate::reports::vacancies::{self, VacancyParams};
use crate::reports::Period;

const SW: &str = "social_worker";
const TM: &str = "team_manager";

fn in_team(mut s: Spell, team: &str, fte: f64) -> Spell {
    s.team = Some(team.into());
    s.fte = fte;
    s
}

/// Leaves la from the East team (0.5 FTE) on 2018-03-01, rejoins la in the
/// West team that same day, and is promoted into the North team that same
/// day again: three spells end or start on 2018-03-01.
fn left_rejoined_and_promoted_the_same_day() -> Person {
    with(1, |p| {
        p.spells.push(in_team(
            spell("la", SW, "2015-01-01", Some("2018-03-01"), Some(Leaving)),
            "East",
            0.5,
        ));
        p.spells.push(in_team(
            spell("la", SW, "2018-03-01", Some("2018-03-01"), Some(RoleChange)),
            "West",
            1.0,
        ));
        p.spells
            .push(in_team(spell("la", TM, "2018-03-01", None, None), "North", 1.0));
        let mut l = leaving("2018-03-01", "la", SW);
        l.fte = 0.5;
        p.leavings.push(l);
        let mut rejoin = mv("2018-03-01", ("la", SW), ("la", SW), Sideways);
        rejoin.rejoining = true;
        p.moves.push(rejoin);
        p.moves.push(mv("2018-03-01", ("la", SW), ("la", TM), Promotion));
    })
}

/// Leavers of la in 2018 from `team`, among `people`.
fn leavers_in_team(people: Vec<Person>, team: &str) -> u64 {
    let params = LeaversParams {
        organisation: Some("la".into()),
        period: Period::new(d("2018-01-01"), d("2018-12-31")).unwrap(),
        before: None,
        roles: None,
        team: Some(team.into()),
        population: None,
        exposure: ExposureBasis::PersonDays,
    };
    leavers::compute(&of_people(people), &params)
        .unwrap()
        .total
        .period
        .leavers
}

#[test]
fn a_leaver_is_in_the_team_of_the_spell_the_leaving_ended_not_the_last_to_end_that_day() {
    // The leaving ended the East spell; the West spell ended the same day
    // but by the promotion. One leaver, in East, as a social worker.
    let person = left_rejoined_and_promoted_the_same_day;
    assert_eq!(leavers_in_team(vec![person()], "East"), 1);
    assert_eq!(leavers_in_team(vec![person()], "West"), 0);
}

#[test]
fn a_move_out_takes_the_fte_of_the_spell_it_ended_not_of_a_later_spell_that_day() {
    // 2018-06-01, in this order: moves from la (0.5 FTE, East) to lb; moves
    // back to la at 1.0 FTE (West); changes terms in la to 0.6 FTE. Two la
    // spells end that day; the move out ended the first, at 0.5 FTE.
    let p = with(1, |p| {
        p.spells.push(in_team(
            spell("la", SW, "2015-01-01", Some("2018-06-01"), Some(RoleChange)),
            "East",
            0.5,
        ));
        p.spells
            .push(spell("lb", SW, "2018-06-01", Some("2018-06-01"), Some(RoleChange)));
        p.spells.push(in_team(
            spell("la", SW, "2018-06-01", Some("2018-06-01"), Some(RoleChange)),
            "West",
            1.0,
        ));
        p.spells
            .push(in_team(spell("la", SW, "2018-06-01", None, None), "West", 0.6));
        p.moves.push(mv("2018-06-01", ("la", SW), ("lb", SW), Sideways));
        p.moves.push(mv("2018-06-01", ("lb", SW), ("la", SW), Sideways));
    });
    let params = TurnoverParams {
        organisation: "la".into(),
        period: Period::new(d("2018-01-01"), d("2018-12-31")).unwrap(),
    };
    let r = turnover::compute(&of_people(vec![p.clone()]), &params).unwrap();
    // One leaver of la, at the 0.5 FTE of the spell the move ended.
    assert_eq!((r.leavers.headcount, r.leavers.fte), (1, 0.5));
    // And in the East team, where that spell was.
    let team = |team: &str| leavers_in_team(vec![p.clone()], team);
    assert_eq!((team("East"), team("West")), (1, 0));
}

#[test]
fn an_occupant_whose_own_record_has_moved_out_of_the_post_no_longer_fills_it() {
    // Post 1 (la, team manager) has an open occupancy by person 1 from
    // 2018-01-01 (a late filling), but person 1's own record moved them out
    // of the post on 2018-06-01. Filled on 2018-03-01; vacant on 2018-09-01.
    let post_id = id(1);
    let person = with(1, |p| {
        p.spells
            .push(spell("la", SW, "2015-01-01", Some("2018-01-01"), Some(RoleChange)));
        let mut in_post = spell("la", TM, "2018-01-01", Some("2018-06-01"), Some(RoleChange));
        in_post.post_id = Some(post_id);
        p.spells.push(in_post);
        p.spells.push(spell("la", TM, "2018-06-01", None, None));
    });
    let ds = Dataset {
        people: vec![person],
        cohorts: vec![],
        posts: vec![Post {
            post_id,
            organisation: "la".into(),
            title: "Team manager".into(),
            role_code: TM.into(),
            established_on: d("2015-01-01"),
            disestablished_on: None,
            occupancies: vec![Occupancy {
                participant_id: id(1),
                basis: Basis::Permanent,
                from: d("2018-01-01"),
                until: None,
            }],
        }],
    };
    let on = |day: &str| {
        let params = VacancyParams {
            organisation: "la".into(),
            on: d(day),
        };
        let t = vacancies::compute(&ds, &params).unwrap().total;
        (t.filled, t.vacant)
    };
    assert_eq!(on("2018-03-01"), (1, 0));
    assert_eq!(on("2018-09-01"), (0, 1));
}

#[test]
fn a_member_excluded_before_enrolment_is_not_on_the_curve() {
    // Cohort starts 2017-01-01; members 0, 1, 2 enrolled that day, member 3
    // on 2017-03-01; all employed by la since 2016. Member 0 leaves on
    // 2017-02-20 (day 50). Member 3 has been excluded since 2017-02-01,
    // before enrolling, and still is on as_at 2017-06-30.
    //
    // Member 3 is out of the rate (2 retained of 3) and, never followed
    // outside the exclusion, off the curve: at member 0's leaving 3 are at
    // risk, S = 1 − 1/3 = 2/3 from month 2 (2017-03-01). (Censoring member 3
    // at their enrolment, day 59, kept them at risk: S = 3/4.)
    let mut people: Vec<Person> = (0..4)
        .map(|i| with(i, |p| p.spells.push(spell("la", SW, "2016-01-01", None, None))))
        .collect();
    people[0].spells[0].until = Some(d("2017-02-20"));
    people[0].spells[0].ended_by = Some(Leaving);
    people[0].leavings.push(leaving("2017-02-20", "la", SW));
    people[3].exclusions.push(exclusion("2017-02-01"));
    let members = vec![
        member(0, "2017-01-01"),
        member(1, "2017-01-01"),
        member(2, "2017-01-01"),
        member(3, "2017-03-01"),
    ];
    let ds = with_cohort(people, cohort(1, "2017", "2017-01-01", members));
    let params = RetentionParams {
        cohort_id: id(1001),
        organisation: None,
        as_at: d("2017-06-30"),
    };
    let r = retention::compute(&ds, &params).unwrap();
    assert_eq!((r.members, r.excluded), (4, 1));
    assert_eq!((r.retention.numerator, r.retention.denominator), (2, 3));
    assert_eq!(r.curve[0].at_risk, 3);
    assert_eq!((r.curve[2].at_risk, r.curve[2].events, r.curve[2].censored), (3, 1, 0));
    assert!((r.curve[2].survival - 2.0 / 3.0).abs() < 1e-12);
}
