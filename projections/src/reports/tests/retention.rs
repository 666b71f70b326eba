//! §3 retention, worked by hand. Cohort starts 2015-09-01, everyone
//! enrolled that day, as_at 2018-09-07 (floor months = 36, since
//! 2018-09-01 ≤ 2018-09-07 < 2018-10-01).

use super::fixtures::*;
use crate::reports::model::{Dataset, MoveKind::*, Person, SpellEnd::*};
use crate::reports::retention::{ceil_months, compute, floor_months, RetentionParams};
use crate::reports::ReportError;

fn with(n: u128, f: impl FnOnce(&mut Person)) -> Person {
    let mut p = person(n);
    f(&mut p);
    p
}

const SW: &str = "social_worker";

fn dataset() -> Dataset {
    let people = vec![
        // 1: still employed: retained; censored at month 36.
        with(1, |p| p.spells.push(spell("la", SW, "2015-09-01", None, None))),
        // 2: leaves 2016-03-01 = start + 6 months exactly: event at month 6.
        with(2, |p| {
            p.spells
                .push(spell("la", SW, "2015-09-01", Some("2016-03-01"), Some(Leaving)));
            p.leavings.push(leaving("2016-03-01", "la", SW));
        }),
        // 3: leaves 2016-03-02, one day past month 6: event at month 7.
        with(3, |p| {
            p.spells
                .push(spell("la", SW, "2015-09-01", Some("2016-03-02"), Some(Leaving)));
            p.leavings.push(leaving("2016-03-02", "la", SW));
        }),
        // 4: leaves 2016-03-15, rejoins 2016-06-01: retained, but the curve
        // counts the first leaving: event at month 7.
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
        // so the event is at month 17.
        with(5, |p| {
            p.spells
                .push(spell("la", SW, "2015-09-01", Some("2017-01-10"), Some(RoleChange)));
            p.spells.push(spell("lb", SW, "2017-01-10", None, None));
            p.moves.push(mv("2017-01-10", ("la", SW), ("lb", SW), Sideways));
        }),
        // 6: excluded from 2017-05-20: out of the rate; censored at month 20
        // (2017-05-01 ≤ 2017-05-20 < 2017-06-01).
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
    Dataset {
        people,
        cohorts: vec![cohort(1, "2015 intake", "2015-09-01", members)],
        posts: vec![],
    }
}

fn params(org: Option<&str>) -> RetentionParams {
    RetentionParams {
        cohort_id: id(1001),
        organisation: org.map(Into::into),
        as_at: d("2018-09-07"),
    }
}

#[test]
fn month_boundaries_round_events_up_and_censorings_down() {
    let s = d("2015-09-01");
    assert_eq!(
        (floor_months(s, d("2016-03-01")), ceil_months(s, d("2016-03-01"))),
        (6, 6)
    );
    assert_eq!(
        (floor_months(s, d("2016-03-02")), ceil_months(s, d("2016-03-02"))),
        (6, 7)
    );
    // Month-end clamping: 2016-01-31 + 1 month = 2016-02-29.
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
    // On the curve: members 1–7 with times 36C, 6E, 7E, 7E, 17E, 20C, 36C.
    // Month 6: n=7, d=1 → S = 6/7. Month 7: n=6, d=2 → S = 6/7 × 4/6 = 4/7.
    // Month 17: n=4, d=1 → S = 4/7 × 3/4 = 3/7 = 0.4286: the median.
    assert_eq!(r.curve.len(), 37);
    let at = |m: usize| &r.curve[m];
    assert_eq!((at(0).at_risk, at(0).survival), (7, 1.0));
    assert_eq!((at(5).survival, at(5).lower), (1.0, 1.0));
    assert!((at(6).survival - 6.0 / 7.0).abs() < 1e-12);
    assert_eq!((at(7).at_risk, at(7).events), (6, 2));
    assert!((at(16).survival - 4.0 / 7.0).abs() < 1e-12);
    assert!((at(17).survival - 3.0 / 7.0).abs() < 1e-12);
    // At risk at month 10: times ≥ 10 are 36, 17, 20, 36 → 4.
    assert_eq!(at(10).at_risk, 4);
    assert_eq!((at(20).at_risk, at(20).censored), (3, 1));
    assert_eq!((at(36).at_risk, at(36).censored), (2, 2));
    assert_eq!(at(36).date, d("2018-09-01"));
    assert_eq!(r.median_months, Some(17));
    // Month 7: Σ = 1/(7·6) + 2/(6·4) = 0.107143; se = sqrt(0.107143) /
    // |ln(4/7)| = 0.327327 / 0.559616 = 0.584913; lower = (4/7)^exp(1.146430)
    // = (4/7)^3.14688 = 0.17186; upper = (4/7)^exp(−1.146430) = 0.83709.
    assert!((at(7).lower - 0.17186).abs() < 1e-4);
    assert!((at(7).upper - 0.83709).abs() < 1e-4);
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
            p.spells.push(spell("la", SW, "2013-09-01", Some(&left), Some(Leaving)));
            p.leavings.push(leaving(&left, "la", SW));
        }));
    }
    let members = (0..23).map(|n| member(n, "2013-09-01")).collect();
    let ds = Dataset {
        people,
        cohorts: vec![cohort(1, "2013 intake", "2013-09-01", members)],
        posts: vec![],
    };
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
