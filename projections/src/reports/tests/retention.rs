//! §3 retention, worked by hand. Cohort starts 2015-09-01, everyone
//! enrolled that day, as_at 2018-09-07 (the curve runs to month 36, since
//! 2018-09-01 ≤ 2018-09-07 < 2018-10-01). The Kaplan–Meier estimate is on
//! days; month m reads it at 2015-09-01 + m months.

use super::fixtures::*;
use crate::reports::model::{Dataset, MoveKind::*, Person, SpellEnd::*};
use crate::reports::retention::{compute, floor_months, RetentionParams};
use crate::reports::ReportError;

const SW: &str = "social_worker";

fn dataset() -> Dataset {
    let people = vec![
        // 1: still employed: retained; censored at as_at.
        with(1, |p| p.spells.push(spell("la", SW, "2015-09-01", None, None))),
        // 2: leaves 2016-03-01 = start + 6 months exactly: in month 6.
        with(2, |p| {
            worked_then_left(p, "la", SW, "2015-09-01", "2016-03-01");
        }),
        // 3: leaves 2016-03-02, one day past month 6: in month 7.
        with(3, |p| {
            worked_then_left(p, "la", SW, "2015-09-01", "2016-03-02");
        }),
        // 4: leaves 2016-03-15, rejoins 2016-06-01: retained, but the curve
        // counts the first leaving: in month 7.
        with(4, |p| {
            p.spells
                .push(spell("la", SW, "2015-09-01", Some("2016-03-15"), Some(Leaving)));
            p.spells.push(spell("la", SW, "2016-06-01", None, None));
            p.leavings.push(leaving("2016-03-15", "la", SW));
            let mut rejoin = mv("2016-06-01", ("la", SW), ("la", SW), Sideways);
            rejoin.rejoining = true;
            p.moves.push(rejoin);
        }),
        // 5: moves to lb on 2017-01-10: leaves la. 2017-01-01 is month 16,
        // so the event is in month 17.
        with(5, |p| {
            p.spells
                .push(spell("la", SW, "2015-09-01", Some("2017-01-10"), Some(RoleChange)));
            p.spells.push(spell("lb", SW, "2017-01-10", None, None));
            p.moves.push(mv("2017-01-10", ("la", SW), ("lb", SW), Sideways));
        }),
        // 6: excluded from 2017-05-20: out of the rate; censored then, in
        // month 21 (2017-05-01 < 2017-05-20 ≤ 2017-06-01).
        with(6, |p| {
            p.spells.push(spell("la", SW, "2015-09-01", None, None));
            p.exclusions.push(exclusion("2017-05-20"));
        }),
        // 7: withdrew from the programme but still employed: retained.
        with(7, |p| p.spells.push(spell("la", SW, "2015-09-01", None, None))),
        // 8: joined la only on 2015-10-01: no employer at enrolment, so not
        // retained (default organisation) and not on the curve.
        with(8, |p| p.spells.push(spell("la", SW, "2015-10-01", None, None))),
    ];
    let mut members: Vec<_> = (1..=8).map(|n| member(n, "2015-09-01")).collect();
    members[6].withdrawn_on = Some(d("2016-01-01"));
    with_cohort(people, cohort(1, "2015 intake", "2015-09-01", members))
}

fn params(org: Option<&str>) -> RetentionParams {
    RetentionParams {
        cohort_id: id(1001),
        organisation: org.map(Into::into),
        as_at: d("2018-09-07"),
    }
}

#[test]
fn month_boundaries_are_calendar_months_clamped_to_the_month_end() {
    let s = d("2015-09-01");
    assert_eq!(floor_months(s, d("2016-03-01")), 6);
    assert_eq!(floor_months(s, d("2016-02-29")), 5);
    // 2016-01-31 + 1 month = 2016-02-29.
    assert_eq!(floor_months(d("2016-01-31"), d("2016-02-29")), 1);
    assert_eq!(floor_months(d("2016-01-31"), d("2016-02-28")), 0);
}

#[test]
fn retention_rate_excludes_the_excluded_and_keeps_the_withdrawn() {
    let r = compute(&dataset(), &params(None)).unwrap();
    // 8 members, 1 excluded → denominator 7; retained: 1, 4 (rejoined), 7
    // (withdrawn) = 3 → 3/7 = 42.86% → 42.9.
    assert_eq!(
        (r.members, r.excluded, r.withdrawn, r.not_employed_at_enrolment),
        (8, 1, 1, 1)
    );
    assert_eq!((r.retention.numerator, r.retention.denominator), (3, 7));
    assert_eq!(r.retention.percent, Some(42.9));
}

#[test]
fn kaplan_meier_curve_by_whole_month() {
    let r = compute(&dataset(), &params(None)).unwrap();
    // On the curve: members 1–7. Leavings on 2016-03-01 (n=7), 2016-03-02
    // (n=6), 2016-03-15 (n=5), 2017-01-10 (n=4); censored 2017-05-20 and
    // twice at as_at. S: 6/7, then 6/7 × 5/6 = 5/7, then 4/7, then 3/7.
    assert_eq!(r.curve.len(), 37);
    let at = |m: usize| &r.curve[m];
    assert_eq!((at(0).at_risk, at(0).survival), (7, 1.0));
    assert_eq!((at(5).survival, at(5).lower), (1.0, 1.0));
    // Month 6 reads 2016-03-01: the leaving that day counts.
    assert_eq!((at(6).at_risk, at(6).events), (7, 1));
    assert!((at(6).survival - 6.0 / 7.0).abs() < 1e-12);
    // Month 7 (2016-03-02 to 2016-04-01): followed after 2016-03-01: 6;
    // two leavings.
    assert_eq!((at(7).at_risk, at(7).events), (6, 2));
    assert!((at(7).survival - 4.0 / 7.0).abs() < 1e-12);
    assert!((at(16).survival - 4.0 / 7.0).abs() < 1e-12);
    assert!((at(17).survival - 3.0 / 7.0).abs() < 1e-12);
    // Followed after month 9 (2016-06-01): members 1, 5, 6, 7.
    assert_eq!(at(10).at_risk, 4);
    assert_eq!((at(21).at_risk, at(21).censored), (3, 1));
    // The two censorings on as_at fall after the last boundary, 2018-09-01.
    assert_eq!((at(36).at_risk, at(36).censored), (2, 0));
    assert_eq!(at(36).date, d("2018-09-01"));
    assert_eq!(r.median_months, Some(17));
    // Month 7: Σ = 1/(7·6) + 1/(6·5) + 1/(5·4) = 0.107143; se =
    // sqrt(0.107143) / |ln(4/7)| = 0.327327 / 0.559616 = 0.584913;
    // lower = (4/7)^exp(1.146430) = (4/7)^3.14688 = 0.17186;
    // upper = (4/7)^exp(−1.146430) = 0.83709.
    assert!((at(7).lower - 0.17186).abs() < 1e-4);
    assert!((at(7).upper - 0.83709).abs() < 1e-4);
}

/// `n` people employed by la from `start`, numbered from 0.
fn staff_from(start: &str, n: u128) -> Vec<Person> {
    (0..n)
        .map(|i| with(i, |p| p.spells.push(spell("la", SW, start, None, None))))
        .collect()
}

/// Ends `p`'s only spell with a leaving on `on`.
fn leaves(p: &mut Person, on: &str) {
    p.spells[0].until = Some(d(on));
    p.spells[0].ended_by = Some(Leaving);
    p.leavings.push(leaving(on, "la", SW));
}

/// A cohort starting on `start` with every person enrolled that day.
fn intake_of(start: &str, people: Vec<Person>) -> Dataset {
    let members = people
        .iter()
        .map(|p| member(p.participant_id.as_u128(), start))
        .collect();
    with_cohort(people, cohort(1, "intake", start, members))
}

#[test]
fn a_leaving_after_the_last_month_boundary_stays_off_the_curve_and_the_median() {
    // Start 2017-01-01, as_at 2017-02-15: months 0 and 1. One of ten
    // leaves on 2017-02-10, after the last boundary (2017-02-01).
    let mut people = staff_from("2017-01-01", 10);
    leaves(&mut people[0], "2017-02-10");
    let ds = intake_of("2017-01-01", people);
    let mut p = params(None);
    p.as_at = d("2017-02-15");
    let r = compute(&ds, &p).unwrap();
    assert_eq!(r.curve.len(), 2);
    assert_eq!(r.curve[1].survival, 1.0);
    assert_eq!(r.median_months, None);
    assert_eq!((r.retention.numerator, r.retention.denominator), (9, 10));
}

#[test]
fn a_censoring_inside_a_month_keeps_the_member_at_risk_for_earlier_leavings() {
    // Four members from 2017-01-01: A leaves 2017-02-20, B is excluded from
    // 2017-02-25. On days: A's leaving has n = 4 → S = 3/4, read at month 2
    // (2017-03-01). B is out of the rate: 3 − 1 (A) = 2 retained of 3.
    let mut people = staff_from("2017-01-01", 4);
    leaves(&mut people[0], "2017-02-20");
    people[1].exclusions.push(exclusion("2017-02-25"));
    let ds = intake_of("2017-01-01", people);
    let mut p = params(None);
    p.as_at = d("2017-06-30");
    let r = compute(&ds, &p).unwrap();
    assert_eq!((r.curve[2].at_risk, r.curve[2].events, r.curve[2].censored), (4, 1, 1));
    assert!((r.curve[2].survival - 0.75).abs() < 1e-12);
    assert_eq!((r.retention.numerator, r.retention.denominator), (2, 3));
}

#[test]
fn members_enrolled_after_as_at_are_not_members_yet_and_a_lifted_exclusion_does_not_censor() {
    // Start 2017-01-01. A: enrolled at the start, excluded 2017-03-01,
    // exclusion lifted 2017-06-01, leaves 2017-09-01. B: enrolled
    // 2018-03-01, after as_at 2018-01-01. Members = 1 (A): not retained;
    // A's leaving is an event on the curve: S = 0 from month 8.
    let mut a = with(0, |p| {
        worked_then_left(p, "la", SW, "2017-01-01", "2017-09-01");
    });
    let mut lifted = exclusion("2017-03-01");
    lifted.until = Some(d("2017-06-01"));
    a.exclusions.push(lifted);
    let b = with(1, |p| p.spells.push(spell("la", SW, "2016-01-01", None, None)));
    let ds = Dataset {
        people: vec![a, b],
        cohorts: vec![cohort(
            1,
            "2017",
            "2017-01-01",
            vec![member(0, "2017-01-01"), member(1, "2018-03-01")],
        )],
        posts: vec![],
    };
    let mut p = params(None);
    p.as_at = d("2018-01-01");
    let r = compute(&ds, &p).unwrap();
    assert_eq!((r.members, r.not_yet_enrolled, r.excluded), (1, 1, 0));
    assert_eq!((r.retention.numerator, r.retention.denominator), (0, 1));
    assert_eq!((r.curve[8].events, r.curve[8].survival), (1, 0.0));
    assert_eq!(r.median_months, Some(8));
}

#[test]
fn an_explicit_organisation_counts_employment_there() {
    // lb: only member 5 is employed there on as_at; 1 of 7. Nobody was at lb
    // at enrolment, so the curve is empty of subjects.
    let r = compute(&dataset(), &params(Some("lb"))).unwrap();
    assert_eq!((r.retention.numerator, r.retention.denominator), (1, 7));
    assert_eq!(r.not_employed_at_enrolment, 8);
    assert_eq!(r.curve[0].at_risk, 0);
}

#[test]
fn the_2013_intake_that_all_left_has_zero_retention() {
    // 23 starters on 2013-09-01, each leaving at some point in 2014–2016.
    let mut people = Vec::new();
    for n in 0..23u128 {
        let left = format!("{}-06-30", 2014 + (n % 3));
        people.push(with(n, |p| {
            worked_then_left(p, "la", SW, "2013-09-01", &left);
        }));
    }
    let members = (0..23).map(|n| member(n, "2013-09-01")).collect();
    let ds = with_cohort(people, cohort(1, "2013 intake", "2013-09-01", members));
    let mut p = params(None);
    p.as_at = d("2016-12-31");
    let r = compute(&ds, &p).unwrap();
    assert_eq!(
        (r.retention.numerator, r.retention.denominator, r.retention.percent),
        (0, 23, Some(0.0))
    );
    assert_eq!(r.curve.last().unwrap().survival, 0.0);
}

#[test]
fn as_at_before_the_cohort_start_is_an_error() {
    let mut p = params(None);
    p.as_at = d("2015-01-01");
    assert!(matches!(
        compute(&dataset(), &p),
        Err(ReportError::AsAtBeforeStart { .. })
    ));
    p.cohort_id = id(5);
    assert_eq!(compute(&dataset(), &p).unwrap_err(), ReportError::UnknownCohort(id(5)));
}

#[test]
fn csv_has_one_row_per_month() {
    let r = compute(&dataset(), &params(None)).unwrap();
    let rows = crate::reports::csv::ToCsvRows::to_csv_rows(&r);
    assert_eq!(rows.len(), 38);
    assert!(rows.iter().all(|row| row.len() == rows[0].len()));
    // Month 17: S = 3/7 = 0.4286.
    assert_eq!(rows[18][8], "17");
    assert_eq!(rows[18][13], "0.4286");
}
