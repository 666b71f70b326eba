//! Board views of whole reports computed from hand-made workforces: every
//! expected cell is worked out by hand beside it, and each report's table
//! is attacked as a reader would ([`assert_nothing_recoverable`]).

use serde_json::{json, Value};

use super::attack::assert_nothing_recoverable;
use super::{suppress, tables, tables_more, BoardView};
use crate::reports::csv::ToCsvRows;
use crate::reports::leavers::{self, ExposureBasis, LeaversParams};
use crate::reports::model::{Basis, Dataset, MoveKind, Occupancy, Person, Post};
use crate::reports::promotions::{self, PromotionParams};
use crate::reports::tests::fixtures::*;
use crate::reports::turnover::{self, TurnoverParams};
use crate::reports::Period;

fn period(from: &str, to: &str) -> Period {
    Period::new(d(from), d(to)).unwrap()
}

fn answer<R: serde::Serialize + ToCsvRows>(report: &R) -> (Value, Vec<Vec<String>>) {
    (serde_json::to_value(report).unwrap(), report.to_csv_rows())
}

/// The CSV cell of `row` (header is row 0) under `column`.
fn cell<'a>(rows: &'a [Vec<String>], row: usize, column: &str) -> &'a str {
    let c = rows[0].iter().position(|h| h == column).unwrap();
    &rows[row][c]
}

fn attack(table: &super::Table, threshold: u64) {
    let counts: Vec<u64> = table.counts.iter().map(|c| c.value).collect();
    let printed: Vec<bool> = table.counts.iter().map(|c| !c.shown_at.json.is_empty()).collect();
    let marks = suppress(&counts, &table.sums, threshold, &printed);
    assert_nothing_recoverable(&counts, &table.sums, &marks, threshold, &printed);
}

/// `n` people from id `first` who left `role` at la on `on`.
fn leavers_of(first: u128, n: u128, role: &str, on: &str) -> Vec<Person> {
    (first..first + n)
        .map(|i| with(i, |p| worked_then_left(p, "la", role, "2015-01-01", on)))
        .collect()
}

#[test]
fn leavers_by_role_hide_three_team_managers_and_what_would_give_them_away() {
    // After (Apr–Sep 2018): team managers 3, social workers 9, total 12.
    // Before (Apr–Sep 2017): team managers 6, social workers 7, total 13.
    // 3 is below 5; 12 − 9 would give it, so the 9 is withheld too. Both
    // rows' after rates and comparisons are built on a withheld count; the
    // total's are not. The before figures are all 5 or more.
    let mut people = leavers_of(1, 3, "team_manager", "2018-05-01");
    people.extend(leavers_of(10, 9, "social_worker", "2018-06-01"));
    people.extend(leavers_of(30, 6, "team_manager", "2017-05-01"));
    people.extend(leavers_of(40, 7, "social_worker", "2017-06-01"));
    let report = leavers::compute(
        &of_people(people),
        &LeaversParams {
            organisation: Some("la".into()),
            period: period("2018-04-01", "2018-09-30"),
            before: Some(period("2017-04-01", "2017-09-30")),
            roles: None,
            team: None,
            population: None,
            exposure: ExposureBasis::PersonDays,
        },
    )
    .unwrap();
    let (mut json, mut rows) = answer(&report);
    BoardView::default().leavers(&report, &mut json, &mut rows);
    // Rows are sorted by role: social_worker, team_manager.
    assert_eq!(json["rows"][0]["period"]["leavers"], "*");
    assert_eq!(json["rows"][1]["period"]["leavers"], "<5");
    assert_eq!(json["total"]["period"]["leavers"], 12);
    assert_eq!(json["rows"][1]["before"]["leavers"], 6);
    assert_eq!(json["rows"][0]["before"]["leavers"], 7);
    for row in 0..2 {
        assert_eq!(json["rows"][row]["period"]["leaver_rate_percent"], Value::Null);
        assert_eq!(json["rows"][row]["comparison"]["rate_ratio"], Value::Null);
        assert_eq!(json["rows"][row]["comparison"]["reading"], Value::Null);
        assert!(json["rows"][row]["before"]["leaver_rate_percent"].is_number());
    }
    assert!(json["total"]["comparison"]["rate_ratio"].is_number());
    assert_eq!(json["view"], "board");
    assert_eq!(json["suppression"]["threshold"], 5);
    let withheld = json["withheld"].as_array().unwrap();
    assert!(withheld.contains(&json!({
        "figure": "/rows/1/comparison/rate_ratio",
        "reason": "built on a count below 5"
    })));
    assert_eq!(cell(&rows, 1, "after_leavers"), "*");
    assert_eq!(cell(&rows, 2, "after_leavers"), "<5");
    assert_eq!(cell(&rows, 3, "after_leavers"), "12");
    assert_eq!(cell(&rows, 2, "before_leavers"), "6");
    assert_eq!(cell(&rows, 2, "rate_ratio"), "withheld");
    assert_eq!(cell(&rows, 2, "after_leaver_rate_percent"), "withheld");
    assert_ne!(cell(&rows, 3, "rate_ratio"), "withheld");
    attack(&tables::leavers(&report), 5);
}

#[test]
fn turnover_hides_three_leavers_and_the_stable_count_that_gives_them_away() {
    // Ten in post at la on 2017-10-01; three leave in the year. Leavers 3
    // (below 5); in post at the start 10 = stable 7 + ended 3, so the 7 is
    // withheld too, and with them the FTE, turnover and stability rates.
    let mut people = leavers_of(1, 3, "social_worker", "2018-03-01");
    people.extend((10..17).map(|i| {
        with(i, |p| {
            p.spells.push(spell("la", "social_worker", "2015-01-01", None, None))
        })
    }));
    let report = turnover::compute(
        &of_people(people),
        &TurnoverParams {
            organisation: "la".into(),
            period: period("2017-10-01", "2018-09-30"),
        },
    )
    .unwrap();
    let (mut json, mut rows) = answer(&report);
    BoardView::default().turnover(&report, &mut json, &mut rows);
    assert_eq!(json["leavers"]["headcount"], "<5");
    assert_eq!(json["leavers"]["fte"], Value::Null);
    assert_eq!(json["stability_index"]["numerator"], "*");
    assert_eq!(json["stability_index"]["percent"], Value::Null);
    assert_eq!(json["turnover"]["percent"], Value::Null);
    assert_eq!(json["in_post_at_start"]["headcount"], 10);
    assert_eq!(json["in_post_at_end"]["headcount"], 7);
    assert_eq!(json["starters"]["headcount"], 0);
    assert_eq!(cell(&rows, 1, "leavers"), "<5");
    assert_eq!(cell(&rows, 1, "stable"), "*");
    assert_eq!(cell(&rows, 1, "turnover_percent"), "withheld");
    attack(&tables_more::turnover(&report), 5);
}

/// Cohort members with outcomes: `(promoted to practice leader, promoted
/// elsewhere, sideways, left, remained)`, ids from `first`.
fn members(first: u128, outcomes: [u128; 5]) -> Vec<Person> {
    let hos = ("la", "head_of_service");
    let mut people = Vec::new();
    let mut next = first;
    for (kind, n) in outcomes.iter().enumerate() {
        for _ in 0..*n {
            people.push(with(next, |p| {
                p.spells.push(spell("la", "head_of_service", "2015-01-01", None, None));
                match kind {
                    0 => p
                        .moves
                        .push(mv("2018-01-01", hos, ("la", "practice_leader"), MoveKind::Promotion)),
                    1 => p
                        .moves
                        .push(mv("2018-01-01", hos, ("ofsted", "inspector"), MoveKind::Promotion)),
                    2 => p
                        .moves
                        .push(mv("2018-01-01", hos, ("lb", "head_of_service"), MoveKind::Sideways)),
                    3 => p.leavings.push(leaving("2018-01-01", "la", "head_of_service")),
                    _ => {}
                }
            }));
            next += 1;
        }
    }
    people
}

#[test]
fn promotions_by_cohort_hide_small_cells_with_row_and_column_totals_and_drop_the_people() {
    // Cohort 1 (2017): practice leader 3, other 5, sideways 6, left 8,
    // remained 12: 34. Cohort 2 (2018): 7, 2, 9, 10, 15: 43. Nobody reached
    // dcs (a row of zeros, shown). Below 5: cohort 1's 3 and cohort 2's 2.
    let one = members(1, [3, 5, 6, 8, 12]);
    let two = members(100, [7, 2, 9, 10, 15]);
    let roster = |people: &[Person]| {
        people
            .iter()
            .map(|p| member(p.participant_id.as_u128(), "2017-01-01"))
            .collect()
    };
    let dataset = Dataset {
        cohorts: vec![
            cohort(1, "cohort 1 (2017)", "2017-01-01", roster(&one)),
            cohort(2, "cohort 2 (2018)", "2017-01-02", roster(&two)),
        ],
        people: one.into_iter().chain(two).collect(),
        posts: vec![],
    };
    let report = promotions::compute(
        &dataset,
        &PromotionParams {
            programme: None,
            cohort_ids: None,
            as_at: d("2020-01-01"),
            targets: PromotionParams::default_targets(),
        },
    )
    .unwrap();
    assert_eq!(report.total.cohort_size, 77);
    let (mut json, mut rows) = answer(&report);
    BoardView::default().promotions(&report, &mut json, &mut rows);
    // Targets are dcs then practice_leader: promoted_to[1] is practice leader.
    assert_eq!(json["cohorts"][0]["promoted_to"][1], "<5");
    assert_eq!(json["cohorts"][1]["promoted_other"], "<5");
    assert_eq!(json["cohorts"][0]["promoted_to"][0], 0);
    assert_eq!(json["outcomes"][1]["by_cohort"][0], "<5");
    assert_eq!(cell(&rows, 1, "promoted_to_practice_leader"), "<5");
    assert_eq!(cell(&rows, 2, "promoted_other"), "<5");
    // Cohort 1's rate of promotion to a target is 3 / 34: withheld.
    assert_eq!(json["cohorts"][0]["promoted_to_targets"]["percent"], Value::Null);
    assert_eq!(cell(&rows, 1, "promoted_to_targets_percent"), "withheld");
    // The grand total is shown: 77.
    assert_eq!(json["total"]["cohort_size"], 77);
    assert!(json.get("participants").is_none());
    attack(&tables::promotions(&report), 5);
}

#[test]
fn retention_shows_the_curve_only_where_five_or_more_left_since_the_last_point_shown() {
    // Twelve members from 2015-09-07; one leaves at month 5 (2016-02-07),
    // one at month 6 (2016-03-07), three at month 14 (2016-11-07); seven
    // stay to 2018-09-07. Month 0 is shown (12 followed, nobody left yet);
    // months 1–4 too (no leaver since); months 5–13 are withheld (1, then 2
    // leavers since month 4); month 14 is shown (5 since month 4) and every
    // month after it (none since, 7 followed). Retained 7 of 12 and the 5
    // who left are all 5 or more: shown.
    let mut people = Vec::new();
    for (i, on) in [
        (1, "2016-02-07"),
        (2, "2016-03-07"),
        (3, "2016-11-07"),
        (4, "2016-11-07"),
        (5, "2016-11-07"),
    ] {
        people.push(with(i, |p| {
            worked_then_left(p, "la", "social_worker", "2014-01-01", on)
        }));
    }
    people.extend((6..=12).map(|i| {
        with(i, |p| {
            p.spells.push(spell("la", "social_worker", "2014-01-01", None, None))
        })
    }));
    let roster = (1..=12).map(|i| member(i, "2015-09-07")).collect();
    let dataset = with_cohort(people, cohort(1, "2015 intake", "2015-09-07", roster));
    let report = crate::reports::retention::compute(
        &dataset,
        &crate::reports::retention::RetentionParams {
            cohort_id: id(1001),
            organisation: None,
            as_at: d("2018-09-07"),
        },
    )
    .unwrap();
    assert_eq!((report.retention.numerator, report.retention.denominator), (7, 12));
    let (mut json, mut rows) = answer(&report);
    BoardView::default().retention(&report, &mut json, &mut rows);
    let curve = json["curve"].as_array().unwrap();
    let shown: Vec<u64> = curve
        .iter()
        .filter(|p| p["survival"].is_number())
        .map(|p| p["month"].as_u64().unwrap())
        .collect();
    let expected: Vec<u64> = (0..=4).chain(14..=36).collect();
    assert_eq!(shown, expected);
    assert!(curve.iter().all(|p| p["events"].is_null() && p["censored"].is_null()));
    assert_eq!(curve[5]["at_risk"], Value::Null);
    assert_eq!(curve[14]["at_risk"], 10);
    assert_eq!(json["retention"]["numerator"], 7);
    assert_eq!(cell(&rows, 6, "survival"), "withheld");
    assert_eq!(cell(&rows, 6, "events"), "withheld");
    assert_eq!(cell(&rows, 15, "at_risk"), "10");
    attack(&tables_more::retention(&report, 5), 5);
}

#[test]
fn vacancies_hide_two_vacant_and_two_covered_team_manager_posts() {
    // On 2019-06-30 at la: 12 team manager posts, 8 held permanently, 2 by
    // interim cover, 2 vacant; 7 practice manager posts all held
    // permanently. Below 5: the team managers' 2 vacant and 2 covered and
    // the same in the total row.
    let post = |n: u128, role: &str, basis: Option<Basis>| Post {
        post_id: id(5000 + n),
        organisation: "la".into(),
        title: format!("{role} {n}"),
        role_code: role.into(),
        established_on: d("2015-01-01"),
        disestablished_on: None,
        occupancies: basis
            .map(|basis| Occupancy {
                participant_id: id(n),
                basis,
                from: d("2016-01-01"),
                until: None,
            })
            .into_iter()
            .collect(),
    };
    let mut posts: Vec<Post> = (1..=8)
        .map(|n| post(n, "team_manager", Some(Basis::Permanent)))
        .collect();
    posts.extend((9..=10).map(|n| post(n, "team_manager", Some(Basis::Interim))));
    posts.extend((11..=12).map(|n| post(n, "team_manager", None)));
    posts.extend((13..=19).map(|n| post(n, "practice_manager", Some(Basis::Permanent))));
    let dataset = Dataset {
        posts,
        ..Dataset::default()
    };
    let report = crate::reports::vacancies::compute(
        &dataset,
        &crate::reports::vacancies::VacancyParams {
            organisation: "la".into(),
            on: d("2019-06-30"),
        },
    )
    .unwrap();
    let (mut json, mut rows) = answer(&report);
    BoardView::default().vacancies(&report, &mut json, &mut rows);
    // Rows by role: practice_manager, team_manager; then the total.
    assert_eq!(json["rows"][1]["vacant"], "<5");
    assert_eq!(json["rows"][1]["covered"], "<5");
    assert_eq!(json["total"]["vacant"], "<5");
    assert_eq!(json["rows"][1]["vacancy_rate"]["percent"], Value::Null);
    assert_eq!(json["rows"][0]["vacant"], 0);
    assert_eq!(cell(&rows, 2, "vacant"), "<5");
    assert_eq!(cell(&rows, 2, "cover_percent"), "withheld");
    attack(&tables_more::vacancies(&report), 5);
}
