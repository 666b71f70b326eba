//! Board views of whole reports computed from hand-made workforces: every
//! expected cell is worked out by hand beside it, and each report's table
//! is attacked as a reader would ([`assert_nothing_recoverable`]).

use serde_json::{json, Value};

use super::attack::assert_nothing_recoverable;
use super::{suppress, tables, tables_more, BoardView};
use crate::reports::csv::ToCsvRows;
use crate::reports::leavers::{self, ExposureBasis, LeaversParams};
use crate::reports::model::{Dataset, MoveKind, Person};
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
