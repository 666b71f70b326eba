//! §2 leavers, worked by hand. Periods: before 2017-04-01..2017-09-30 and
//! after 2018-04-01..2018-09-30, 183 days each (30+31+30+31+31+30).

use std::collections::HashSet;

use super::fixtures::*;
use crate::reports::leavers::{compute, ExposureBasis, LeaversParams};
use crate::reports::model::{Dataset, MoveKind::*, SpellEnd::*};
use crate::reports::Period;

const TM: &str = "team_manager";
const PM: &str = "practice_manager";

fn dataset() -> Dataset {
    let people = vec![
        // A: TM leaves on the before period's first day: a leaver (inclusive);
        // person-days before: [2016-01-01, 2017-04-01) ∩ period = 0.
        with(1, |p| {
            worked_then_left(p, "la", TM, "2016-01-01", "2017-04-01");
        }),
        // B: TM leaves on the last day: a leaver; 182 person-days before.
        with(2, |p| {
            worked_then_left(p, "la", TM, "2016-01-01", "2017-09-30");
        }),
        // C: TM leaves the day after the period: not a leaver; 183 days.
        with(3, |p| {
            worked_then_left(p, "la", TM, "2016-01-01", "2017-10-01");
        }),
        // D: PM leaves 2018-05-01, rejoins 2018-06-01, leaves 2018-08-01: two
        // leavers after. Before: 183 days. After: [04-01, 05-01) = 30 and
        // [06-01, 08-01) = 61 → 91.
        with(4, |p| {
            p.spells
                .push(spell("la", PM, "2016-01-01", Some("2018-05-01"), Some(Leaving)));
            p.spells
                .push(spell("la", PM, "2018-06-01", Some("2018-08-01"), Some(Leaving)));
            p.leavings.push(leaving("2018-05-01", "la", PM));
            let mut rejoin = mv("2018-06-01", ("la", PM), ("la", PM), Sideways);
            rejoin.rejoining = true;
            p.moves.push(rejoin);
            p.leavings.push(leaving("2018-08-01", "la", PM));
        }),
        // E: PM promoted to TM inside la on 2018-06-01: not a leaver. Before:
        // PM 183. After: PM [04-01, 06-01) = 61, TM [06-01, 10-01) = 122.
        with(5, |p| {
            p.spells
                .push(spell("la", PM, "2016-01-01", Some("2018-06-01"), Some(RoleChange)));
            p.spells.push(spell("la", TM, "2018-06-01", None, None));
            p.moves.push(mv("2018-06-01", ("la", PM), ("la", TM), Promotion));
        }),
        // F: TM moves to lb on 2018-07-01: leaves la, not the workforce.
        // Before: TM 183 at la. After: la [04-01, 07-01) = 91; lb 92.
        with(6, |p| {
            p.spells
                .push(spell("la", TM, "2016-01-01", Some("2018-07-01"), Some(RoleChange)));
            p.spells.push(spell("lb", TM, "2018-07-01", None, None));
            p.moves.push(mv("2018-07-01", ("la", TM), ("lb", TM), Sideways));
        }),
        // G: TM at lb leaves 2018-05-01: not la's; a leaver over all
        // organisations. After: [04-01, 05-01) = 30 days.
        with(7, |p| {
            worked_then_left(p, "lb", TM, "2016-01-01", "2018-05-01");
        }),
    ];
    of_people(people)
}

fn params(org: Option<&str>) -> LeaversParams {
    LeaversParams {
        organisation: org.map(Into::into),
        period: Period::new(d("2018-04-01"), d("2018-09-30")).unwrap(),
        before: Some(Period::new(d("2017-04-01"), d("2017-09-30")).unwrap()),
        roles: None,
        team: None,
        population: None,
        exposure: ExposureBasis::PersonDays,
    }
}

#[test]
fn one_organisation_counts_boundaries_rejoiners_and_external_moves() {
    let r = compute(&dataset(), &params(Some("la"))).unwrap();
    let row = |role: &str| r.rows.iter().find(|x| x.role_code == role).unwrap();
    let (pm, tm) = (row(PM), row(TM));
    // Before: TM = A + B = 2 (C left after); PM = 0.
    assert_eq!(tm.before.as_ref().unwrap().leavers, 2);
    assert_eq!(pm.before.as_ref().unwrap().leavers, 0);
    // After: TM = F (external move) = 1; PM = D twice = 2; E is internal.
    assert_eq!((tm.period.leavers, pm.period.leavers), (1, 2));
    assert_eq!(r.total.period.leavers, 3);
    // Person-days: TM before 0 + 182 + 183 + 183 (F) = 548; after 122 (E)
    // + 91 (F) = 213. PM before 183 + 183 = 366; after 91 + 61 = 152.
    assert_eq!(tm.before.as_ref().unwrap().person_days, 548);
    assert_eq!((tm.period.person_days, pm.period.person_days), (213, 152));
    assert_eq!(pm.before.as_ref().unwrap().person_days, 366);
    // TM after: average headcount 213/183 = 1.1639 → 1.16; rate 1 / 1.1639
    // = 183/213 = 85.92% → 85.9.
    assert_eq!(tm.period.days_in_period, 183);
    assert_eq!(tm.period.average_headcount, 1.16);
    assert_eq!(tm.period.leaver_rate_percent, Some(85.9));
}

#[test]
fn comparison_uses_person_days_as_exposure() {
    let r = compute(&dataset(), &params(Some("la"))).unwrap();
    let tm = r.rows.iter().find(|x| x.role_code == TM).unwrap();
    let c = tm.comparison.as_ref().unwrap();
    // 2 → 1: change −1, −50.0%.
    assert_eq!((c.change, c.percent_change), (-1, Some(-50.0)));
    assert_eq!(c.exposure_basis, ExposureBasis::PersonDays);
    // π0 = 213 / 761 = 0.279895; n = 3. P(0) = 0.720105³ = 0.373418,
    // P(1) = 3·0.279895·0.720105² = 0.435421, P(2) = 0.169242, P(3) =
    // 0.021928. Observed 1 is the most likely outcome: p = 1.
    assert_eq!(c.p_value, Some(1.0));
    // RR = (1/3)/(2/3) × 548/213 = 0.5 × 2.572770 = 1.286385 → 1.29.
    assert_eq!(c.rate_ratio, Some(1.29));
    assert!(c.small_numbers);
    // PM: 0 before → no percentage change, infinite ratio (no upper bound).
    let pm = r
        .rows
        .iter()
        .find(|x| x.role_code == PM)
        .unwrap()
        .comparison
        .clone()
        .unwrap();
    assert_eq!((pm.percent_change, pm.rate_ratio, pm.ci_upper), (None, None, None));
}

#[test]
fn over_all_organisations_only_leaving_events_count() {
    let r = compute(&dataset(), &params(None)).unwrap();
    let tm = r.rows.iter().find(|x| x.role_code == TM).unwrap();
    // After: F's move to lb is not a leaver; G's leaving at lb is: TM = 1.
    assert_eq!(tm.period.leavers, 1);
    // TM person-days after: E 122 + F 91 (la) + 92 (lb) + G 30 = 335.
    assert_eq!(tm.period.person_days, 335);
}

#[test]
fn filters_by_role_and_population() {
    let mut p = params(Some("la"));
    p.roles = Some(vec![TM.into()]);
    let r = compute(&dataset(), &p).unwrap();
    assert_eq!(r.rows.len(), 1);
    assert_eq!(r.total.period.leavers, 1);
    // Population without D (4): PM leavers after drop from 2 to 0.
    let mut p = params(Some("la"));
    p.population = Some(HashSet::from([id(1), id(2), id(3), id(5), id(6), id(7)]));
    let r = compute(&dataset(), &p).unwrap();
    assert_eq!(r.rows.iter().find(|x| x.role_code == PM).unwrap().period.leavers, 0);
}

#[test]
fn worked_example_nineteen_to_nine_with_no_headcount_uses_equal_exposure() {
    // 19 leavings in 2017's period, 9 in 2018's, no spells at all: both
    // exposures are 0 person-days, so the test falls back to equal exposure
    // and gives the docs/metrics.md example: RR 0.47, CI 0.19–1.10, p 0.087.
    let mut people = Vec::new();
    for n in 0..28u128 {
        let on = if n < 19 { "2017-06-01" } else { "2018-06-01" };
        people.push(with(n, |p| p.leavings.push(leaving(on, "la", PM))));
    }
    let ds = of_people(people);
    let r = compute(&ds, &params(Some("la"))).unwrap();
    let c = r.total.comparison.unwrap();
    assert_eq!(c.exposure_basis, ExposureBasis::Equal);
    assert_eq!(
        (c.rate_ratio, c.ci_lower, c.ci_upper, c.p_value),
        (Some(0.47), Some(0.19), Some(1.1), Some(0.087))
    );
    // 9 < 10 → small numbers; the rate is undefined without headcount.
    assert!(c.small_numbers);
    assert_eq!(r.total.period.leaver_rate_percent, None);
}

#[test]
fn one_period_without_person_days_gives_no_test_rather_than_equal_exposure() {
    // Before: a TM employed all through 2017 leaves 2017-06-01 (61 person-
    // days in the period). After: nobody in the role, but a leaving event
    // with no spell on 2018-06-01. Exposure after is 0: no test.
    let people = vec![
        with(1, |p| {
            worked_then_left(p, "la", TM, "2016-01-01", "2017-06-01");
        }),
        with(2, |p| p.leavings.push(leaving("2018-06-01", "la", TM))),
    ];
    let ds = of_people(people);
    let r = compute(&ds, &params(Some("la"))).unwrap();
    let c = r.total.comparison.unwrap();
    assert_eq!(
        (r.total.before.as_ref().unwrap().person_days, r.total.period.person_days),
        (61, 0)
    );
    assert_eq!(c.exposure_basis, ExposureBasis::PersonDays);
    assert_eq!((c.rate_ratio, c.p_value), (None, None));
    assert!(c.no_test_reason.is_some());
}

#[test]
fn an_inverted_period_is_an_error() {
    assert!(Period::new(d("2018-09-30"), d("2018-04-01")).is_err());
    let mut p = params(None);
    p.period = Period {
        from: d("2018-09-30"),
        to: d("2018-04-01"),
    };
    assert!(compute(&dataset(), &p).is_err());
}

#[test]
fn csv_rows_are_flat_and_fixed_decimal() {
    let r = compute(&dataset(), &params(Some("la"))).unwrap();
    let rows = crate::reports::csv::ToCsvRows::to_csv_rows(&r);
    // Header, PM, TM, total.
    assert_eq!(rows.len(), 4);
    assert!(rows.iter().all(|row| row.len() == rows[0].len()));
    assert_eq!(rows[2][1], TM);
    // After-period average headcount of TM: 1.16; rate ratio 1.29; p 1.000.
    let col = |name: &str| rows[0].iter().position(|h| h == name).unwrap();
    assert_eq!(rows[2][col("after_average_headcount")], "1.16");
    assert_eq!(rows[2][col("rate_ratio")], "1.29");
    assert_eq!(rows[2][col("p_value")], "1.000");
    // The exposure basis is named as in JSON and in the `exposure` parameter.
    assert_eq!(rows[2][col("exposure")], "person_days");
    // PM had 0 before: infinite ratio shows as an empty cell; JSON works.
    assert_eq!(rows[1][col("rate_ratio")], "");
    assert!(serde_json::to_string(&r).is_ok());
}
