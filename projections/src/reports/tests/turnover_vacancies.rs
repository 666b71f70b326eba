//! §4 turnover and §5 vacancies, worked by hand.

use super::fixtures::*;
use crate::reports::csv::ToCsvRows;
use crate::reports::model::{Basis, Dataset, MoveKind::*, Occupancy, Post, SpellEnd::*};
use crate::reports::turnover::{self, TurnoverParams};
use crate::reports::vacancies::{self, VacancyParams};
use crate::reports::Period;

const SW: &str = "social_worker";
const TM: &str = "team_manager";

fn fte(mut s: crate::reports::model::Spell, fte: f64) -> crate::reports::model::Spell {
    s.fte = fte;
    s
}

/// Period 2017-10-01..2018-09-30 for organisation la.
fn workforce() -> Dataset {
    let people = vec![
        // P1: in post throughout: start, end, stable.
        with(1, |p| p.spells.push(spell("la", TM, "2015-01-01", None, None))),
        // P2: 0.5 FTE, leaves 2018-03-01: leaver 0.5; in post at start.
        with(2, |p| {
            p.spells.push(fte(
                spell("la", SW, "2015-01-01", Some("2018-03-01"), Some(Leaving)),
                0.5,
            ));
            let mut l = leaving("2018-03-01", "la", SW);
            l.fte = 0.5;
            p.leavings.push(l);
        }),
        // P3: 0.8 FTE, moves to lb 2018-06-01: a leaver of la, FTE 0.8 from
        // the spell held before.
        with(3, |p| {
            p.spells.push(fte(
                spell("la", SW, "2015-01-01", Some("2018-06-01"), Some(RoleChange)),
                0.8,
            ));
            p.spells.push(spell("lb", SW, "2018-06-01", None, None));
            p.moves.push(mv("2018-06-01", ("la", SW), ("lb", SW), Sideways));
        }),
        // P4: joins 2018-01-15: starter 1.0.
        with(4, |p| p.spells.push(spell("la", SW, "2018-01-15", None, None))),
        // P5: moves in from lb 2018-02-01 at 0.6: starter 0.6.
        with(5, |p| {
            p.spells
                .push(spell("lb", SW, "2015-01-01", Some("2018-02-01"), Some(RoleChange)));
            p.spells.push(fte(spell("la", SW, "2018-02-01", None, None), 0.6));
            p.moves.push(mv("2018-02-01", ("lb", SW), ("la", SW), Sideways));
        }),
        // P6: promoted inside la 2018-04-01: neither starter nor leaver; stable.
        with(6, |p| {
            p.spells
                .push(spell("la", SW, "2015-01-01", Some("2018-04-01"), Some(RoleChange)));
            p.spells.push(spell("la", TM, "2018-04-01", None, None));
            p.moves.push(mv("2018-04-01", ("la", SW), ("la", TM), Promotion));
        }),
        // P7: leaves 2018-01-01, rejoins 2018-05-01: leaver 1.0 and starter
        // 1.0; in post at start and end, not stable.
        with(7, |p| {
            p.spells
                .push(spell("la", SW, "2015-01-01", Some("2018-01-01"), Some(Leaving)));
            p.spells.push(spell("la", SW, "2018-05-01", None, None));
            p.leavings.push(leaving("2018-01-01", "la", SW));
            let mut r = mv("2018-05-01", ("la", SW), ("la", SW), Sideways);
            r.rejoining = true;
            p.moves.push(r);
        }),
        // P8: leaves on the first day: a leaver, not in post at its end.
        with(8, |p| {
            worked_then_left(p, "la", SW, "2015-01-01", "2017-10-01");
        }),
        // P9: joins on the last day: starter, in post at the end.
        with(9, |p| p.spells.push(spell("la", SW, "2018-09-30", None, None))),
    ];
    of_people(people)
}

#[test]
fn turnover_counts_leavers_starters_and_stability() {
    let params = TurnoverParams {
        organisation: "la".into(),
        period: Period::new(d("2017-10-01"), d("2018-09-30")).unwrap(),
    };
    let r = turnover::compute(&workforce(), &params).unwrap();
    // Leavers: P2 0.5 + P3 0.8 + P7 1.0 + P8 1.0 = 4 people, 3.3 FTE.
    assert_eq!((r.leavers.headcount, r.leavers.fte), (4, 3.3));
    // Starters: P4 1.0 + P5 0.6 + P7 1.0 + P9 1.0 = 4, 3.6 FTE.
    assert_eq!((r.starters.headcount, r.starters.fte), (4, 3.6));
    // Start (end of 2017-10-01): P1, P2 0.5, P3 0.8, P6, P7 = 5, 4.3 FTE.
    assert_eq!((r.in_post_at_start.headcount, r.in_post_at_start.fte), (5, 4.3));
    // End: P1, P4, P5 0.6, P6, P7, P9 = 6, 5.6 FTE.
    assert_eq!((r.in_post_at_end.headcount, r.in_post_at_end.fte), (6, 5.6));
    // Turnover 3.3 / 5.6 = 58.93% → 58.9. Stability: P1, P6 of 5 = 40.0%.
    assert_eq!(r.turnover.percent, Some(58.9));
    assert_eq!((r.stability_index.numerator, r.stability_index.denominator), (2, 5));
    assert_eq!(r.stability_index.percent, Some(40.0));
    assert!(r.data_warnings.is_empty());
    let rows = r.to_csv_rows();
    assert_eq!(rows[0].len(), rows[1].len());
    assert_eq!(rows[1][4], "3.3000");
}

fn post(n: u128, org: &str, role: &str, est: &str, dis: Option<&str>, occ: Vec<(Basis, &str, Option<&str>)>) -> Post {
    Post {
        post_id: id(n),
        organisation: org.into(),
        title: format!("post {n}"),
        role_code: role.into(),
        established_on: d(est),
        disestablished_on: dis.map(d),
        occupancies: occ
            .into_iter()
            .enumerate()
            .map(|(i, (basis, from, until))| Occupancy {
                participant_id: id(100 * n + i as u128),
                basis,
                from: d(from),
                until: until.map(d),
            })
            .collect(),
    }
}

#[test]
fn vacancy_and_cover_count_established_posts_only() {
    use Basis::*;
    let posts = vec![
        post(1, "la", SW, "2018-01-01", None, vec![]), // vacant
        post(2, "la", SW, "2018-01-01", None, vec![(Permanent, "2018-01-01", None)]), // filled
        post(3, "la", TM, "2018-01-01", None, vec![(Interim, "2019-01-01", None)]), // cover
        post(4, "la", TM, "2018-01-01", None, vec![(Acting, "2019-01-01", None)]), // acting only
        post(
            5,
            "la",
            SW,
            "2018-01-01",
            None,
            vec![(Permanent, "2018-01-01", Some("2019-03-31"))],
        ), // vacant on D
        post(6, "la", SW, "2019-04-01", None, vec![]), // not yet established
        post(7, "la", SW, "2018-01-01", Some("2019-03-31"), vec![]), // disestablished on D
        post(
            8,
            "la",
            TM,
            "2018-01-01",
            None,
            vec![(Permanent, "2018-01-01", None), (Interim, "2019-03-01", None)],
        ),
        post(9, "lb", SW, "2018-01-01", None, vec![]), // another organisation
        post(10, "la", SW, "2018-01-01", None, vec![(Agency, "2019-03-31", None)]), // starts on D: cover
    ];
    let ds = Dataset {
        people: vec![],
        cohorts: vec![],
        posts,
    };
    let r = vacancies::compute(
        &ds,
        &VacancyParams {
            organisation: "la".into(),
            on: d("2019-03-31"),
        },
    )
    .unwrap();
    // Established: 1, 2, 3, 4, 5, 8, 10 = 7; filled: 2, 3, 4, 8, 10 = 5;
    // vacant: 1, 5 = 2 → 2/7 = 28.57% → 28.6. Cover: 3, 10 of 5 = 40.0%.
    let t = &r.total;
    assert_eq!(
        (t.established, t.filled, t.vacant, t.covered, t.acting_only),
        (7, 5, 2, 2, 1)
    );
    assert_eq!(t.vacancy_rate.percent, Some(28.6));
    assert_eq!(t.cover_rate.percent, Some(40.0));
    // By role: SW posts 1, 2, 5, 10 (vacant 1, 5); TM posts 3, 4, 8.
    assert_eq!(r.rows.len(), 2);
    assert_eq!(
        (r.rows[0].role_code.as_str(), r.rows[0].established, r.rows[0].vacant),
        (SW, 4, 2)
    );
    assert_eq!((r.rows[1].role_code.as_str(), r.rows[1].covered), (TM, 1));
    let rows = r.to_csv_rows();
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[3][8], "28.6");
}

#[test]
fn same_day_leaving_and_rejoining_is_a_leaver_and_a_starter_but_stays_in_post() {
    // Leaves la and rejoins la on 2018-03-01 (recorded in that order): the
    // employment ended (leaver 1) and a new one began (starter 1); employed
    // at the end of every day, so in post at start and end, yet not stable.
    let p = with(1, |p| {
        p.spells
            .push(spell("la", SW, "2015-01-01", Some("2018-03-01"), Some(Leaving)));
        p.spells.push(spell("la", SW, "2018-03-01", None, None));
        p.leavings.push(leaving("2018-03-01", "la", SW));
        let mut r = mv("2018-03-01", ("la", SW), ("la", SW), Sideways);
        r.rejoining = true;
        p.moves.push(r);
    });
    let ds = Dataset {
        people: vec![p],
        cohorts: vec![],
        posts: vec![],
    };
    let params = TurnoverParams {
        organisation: "la".into(),
        period: Period::new(d("2017-10-01"), d("2018-09-30")).unwrap(),
    };
    let r = turnover::compute(&ds, &params).unwrap();
    assert_eq!((r.leavers.headcount, r.starters.headcount), (1, 1));
    assert_eq!((r.in_post_at_start.headcount, r.in_post_at_end.headcount), (1, 1));
    assert_eq!(r.stability_index.numerator, 0);
}

#[test]
fn same_day_changes_keep_starters_and_leaver_fte_to_the_spell_held_last() {
    let period = Period::new(d("2017-10-01"), d("2018-09-30")).unwrap();
    // P1 joins la 2018-01-10 and is regraded the same day: one starter.
    let p1 = with(1, |p| {
        p.spells
            .push(spell("la", SW, "2018-01-10", Some("2018-01-10"), Some(RoleChange)));
        p.spells.push(spell("la", TM, "2018-01-10", None, None));
    });
    // P2 at la 1.0 FTE: on 2018-05-01 an FTE change to 0.5, then a move to
    // lb the same day: one leaver of la at 0.5 FTE (the spell held last).
    let p2 = with(2, |p| {
        p.spells
            .push(spell("la", SW, "2015-01-01", Some("2018-05-01"), Some(RoleChange)));
        p.spells.push(fte(
            spell("la", SW, "2018-05-01", Some("2018-05-01"), Some(RoleChange)),
            0.5,
        ));
        p.spells.push(spell("lb", SW, "2018-05-01", None, None));
        p.moves.push(mv("2018-05-01", ("la", SW), ("lb", SW), Sideways));
    });
    // P3 at la leaves on the first day of the period and rejoins that day:
    // in post at the end of the first day in an employment that lasts, so
    // stable.
    let p3 = with(3, |p| {
        p.spells
            .push(spell("la", SW, "2015-01-01", Some("2017-10-01"), Some(Leaving)));
        p.spells.push(spell("la", SW, "2017-10-01", None, None));
        p.leavings.push(leaving("2017-10-01", "la", SW));
        let mut r = mv("2017-10-01", ("la", SW), ("la", SW), Sideways);
        r.rejoining = true;
        p.moves.push(r);
    });
    let ds = Dataset {
        people: vec![p1, p2, p3],
        cohorts: vec![],
        posts: vec![],
    };
    let r = turnover::compute(
        &ds,
        &TurnoverParams {
            organisation: "la".into(),
            period,
        },
    )
    .unwrap();
    // Starters: P1 once, P3's rejoining; leavers: P2 (0.5) and P3 (1.0).
    assert_eq!((r.starters.headcount, r.starters.fte), (2, 2.0));
    assert_eq!((r.leavers.headcount, r.leavers.fte), (2, 1.5));
    // In post on the first day: P2 and P3; stable: P3 only.
    assert_eq!((r.stability_index.numerator, r.stability_index.denominator), (1, 2));
}
