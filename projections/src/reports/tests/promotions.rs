//! §1 promotion outcomes, worked by hand.

use super::fixtures::*;
use crate::reports::model::{Dataset, MoveKind::*};
use crate::reports::promotions::{compute, Outcome, PromotionParams};
use crate::reports::ReportError;

const LA1: &str = "la1";
const LA2: &str = "la2";
const HOS: (&str, &str) = (LA1, "head_of_service");

/// Cohort 1 (enrolled 2017-01-01, 13 members) and cohort 2 (one member).
fn dataset() -> Dataset {
    let people = vec![
        // 1: PL (internal) then DCS (external): counts once, under DCS, judged
        // on the DCS move: external; 2017-01-01 → 2019-06-01 is 365 + 365 +
        // 151 (Jan–May 2019) = 881 days = 881 / 30.4375 = 28.945 months.
        with(1, |p| {
            p.moves.push(mv("2018-01-01", HOS, (LA1, "practice_leader"), Promotion));
            p.moves
                .push(mv("2019-06-01", (LA1, "practice_leader"), (LA2, "dcs"), Promotion));
        }),
        // 2: sideways then promotion to PL (internal at la2) = promotion;
        // 2017-01-01 → 2018-03-01 = 365 + 31 + 28 = 424 days = 13.930 months.
        with(2, |p| {
            p.moves.push(mv("2017-06-01", HOS, (LA2, "head_of_service"), Sideways));
            p.moves.push(mv(
                "2018-03-01",
                (LA2, "head_of_service"),
                (LA2, "practice_leader"),
                Promotion,
            ));
        }),
        // 3: sideways only.
        with(3, |p| {
            p.moves.push(mv("2018-01-01", HOS, (LA2, "head_of_service"), Sideways))
        }),
        // 4: demotion alone = remained.
        with(4, |p| {
            p.moves.push(mv("2018-01-01", HOS, (LA1, "service_manager"), Demotion))
        }),
        // 5: promoted to a non-target post.
        with(5, |p| {
            p.moves.push(mv("2018-01-01", HOS, ("ofsted", "inspector"), Promotion))
        }),
        // 6: left, never rejoined.
        with(6, |p| p.leavings.push(leaving("2019-01-01", LA1, "head_of_service"))),
        // 7: left then rejoined elsewhere at the same level: the rejoining is a
        // sideways move, so sideways outranks left.
        with(7, |p| {
            p.leavings.push(leaving("2018-05-01", LA1, "head_of_service"));
            let mut rejoin = mv("2018-09-01", HOS, (LA2, "head_of_service"), Sideways);
            rejoin.rejoining = true;
            p.moves.push(rejoin);
        }),
        // 8: withdrew 2018-01-01 (footnote), promotion ignored.
        with(8, |p| {
            p.moves.push(mv("2019-01-01", HOS, (LA1, "practice_leader"), Promotion))
        }),
        // 9: excluded from 2019-01-01 (footnote).
        with(9, |p| p.exclusions.push(exclusion("2019-01-01"))),
        // 10: promotion on the enrolment date itself is not after enrolment.
        with(10, |p| {
            p.moves.push(mv("2017-01-01", HOS, (LA1, "practice_leader"), Promotion))
        }),
        // 11: promotion after as_at is not counted.
        with(11, |p| {
            p.moves.push(mv("2021-02-01", HOS, (LA1, "practice_leader"), Promotion))
        }),
        // 12: withdrew after as_at, so still counted; PL internal 2020-01-01:
        // 3 × 365 = 1095 days = 35.975 months.
        with(12, |p| {
            p.moves.push(mv("2020-01-01", HOS, (LA1, "practice_leader"), Promotion))
        }),
        // 13: demotion then leaving = left (demotions are not a qualifying move).
        with(13, |p| {
            p.moves.push(mv("2018-01-01", HOS, (LA1, "service_manager"), Demotion));
            p.leavings.push(leaving("2019-01-01", LA1, "service_manager"));
        }),
        // 20 (cohort 2, enrolled 2018-01-01): PL internal 2019-01-01 = 365
        // days = 11.992 months.
        with(20, |p| {
            p.moves.push(mv("2019-01-01", HOS, (LA1, "practice_leader"), Promotion))
        }),
    ];
    let mut members: Vec<_> = (1..=13).map(|n| member(n, "2017-01-01")).collect();
    members[7].withdrawn_on = Some(d("2018-01-01"));
    members[11].withdrawn_on = Some(d("2021-03-01"));
    Dataset {
        people,
        cohorts: vec![
            cohort(2, "cohort 2 (2018)", "2018-01-01", vec![member(20, "2018-01-01")]),
            cohort(1, "cohort 1 (2017)", "2017-01-01", members),
        ],
        posts: vec![],
    }
}

fn params() -> PromotionParams {
    PromotionParams {
        programme: Some("PLDP".into()),
        cohort_ids: None,
        as_at: d("2021-01-31"),
        targets: PromotionParams::default_targets(),
    }
}

#[test]
fn each_participant_gets_the_first_outcome_that_applies() {
    let r = compute(&dataset(), &params()).unwrap();
    let outcome = |n| {
        r.participants
            .iter()
            .find(|p| p.participant_id == id(n))
            .map(|p| p.outcome.clone())
    };
    assert_eq!(outcome(1), Some(Outcome::PromotedTo("dcs".into())));
    assert_eq!(outcome(2), Some(Outcome::PromotedTo("practice_leader".into())));
    assert_eq!(outcome(3), Some(Outcome::Sideways));
    assert_eq!(outcome(4), Some(Outcome::Remained));
    assert_eq!(outcome(5), Some(Outcome::PromotedOther));
    assert_eq!(outcome(6), Some(Outcome::Left));
    assert_eq!(outcome(7), Some(Outcome::Sideways));
    assert_eq!(outcome(8), None, "withdrawn before as_at");
    assert_eq!(outcome(9), None, "excluded");
    assert_eq!(outcome(10), Some(Outcome::Remained));
    assert_eq!(outcome(11), Some(Outcome::Remained));
    assert_eq!(outcome(12), Some(Outcome::PromotedTo("practice_leader".into())));
    assert_eq!(outcome(13), Some(Outcome::Left));
}

#[test]
fn cohort_columns_count_outcomes_and_footnotes() {
    let r = compute(&dataset(), &params()).unwrap();
    // Cohorts come by start date: cohort 1 (2017) first.
    let c1 = &r.cohorts[0];
    assert_eq!(c1.name, "cohort 1 (2017)");
    // 13 enrolled − 1 withdrawn − 1 excluded = 11: dcs 1 (#1), PL 2 (#2,
    // #12), other 1 (#5), sideways 2 (#3, #7), left 2 (#6, #13), remained 3
    // (#4, #10, #11): 1+2+1+2+2+3 = 11.
    assert_eq!(c1.cohort_size, 11);
    assert_eq!(c1.promoted_to, vec![1, 2]);
    assert_eq!((c1.promoted_other, c1.sideways, c1.left, c1.remained), (1, 2, 2, 3));
    assert_eq!((c1.withdrawn, c1.excluded), (1, 1));
    // 3 / 11 = 27.27% → 27.3.
    assert_eq!(
        (c1.promoted_to_targets.numerator, c1.promoted_to_targets.denominator),
        (3, 11)
    );
    assert_eq!(c1.promoted_to_targets.percent, Some(27.3));
    // Internal: #1's DCS move is external, #2 and #12 internal: 2/3 = 66.7%.
    assert_eq!(
        (
            c1.internal_target_promotions.numerator,
            c1.internal_target_promotions.denominator
        ),
        (2, 3)
    );
    assert_eq!(c1.internal_target_promotions.percent, Some(66.7));
    // Median of 13.930, 28.945, 35.975 = 28.945 → 28.9.
    assert_eq!(c1.median_months_to_target, Some(28.9));
}

#[test]
fn total_column_and_shares_of_the_grand_total() {
    let r = compute(&dataset(), &params()).unwrap();
    // Grand total 11 + 1 = 12; PL 2 + 1 = 3 → 3/12 = 25.0%; DCS 1/12 = 8.3%.
    assert_eq!(r.total.cohort_size, 12);
    assert_eq!(r.outcomes[0].outcome, "promoted to dcs");
    assert_eq!(r.outcomes[0].share_of_total.percent, Some(8.3));
    assert_eq!(r.outcomes[1].by_cohort, vec![2, 1]);
    assert_eq!(
        (r.outcomes[1].total, r.outcomes[1].share_of_total.percent),
        (3, Some(25.0))
    );
    // Internal 3 of 4 = 75.0%; median of 11.992, 13.930, 28.945, 35.975 =
    // (13.930 + 28.945) / 2 = 21.4375 → 21.4.
    assert_eq!(r.total.internal_target_promotions.percent, Some(75.0));
    assert_eq!(r.total.median_months_to_target, Some(21.4));
    // 4 target promotions of 12 = 33.3%.
    assert_eq!(r.total.promoted_to_targets.percent, Some(33.3));
    assert_eq!(r.total.withdrawn, 1);
}

#[test]
fn target_order_decides_where_a_double_promotion_counts() {
    let mut p = params();
    p.targets = vec!["practice_leader".into(), "dcs".into()];
    let r = compute(&dataset(), &p).unwrap();
    let one = r.participants.iter().find(|o| o.participant_id == id(1)).unwrap();
    // #1 reached PL first in the list order: the PL move (2018-01-01, internal).
    assert_eq!(one.outcome, Outcome::PromotedTo("practice_leader".into()));
    assert_eq!(one.target_move_internal, Some(true));
}

#[test]
fn published_cohort_one_share_rounds_to_78_percent() {
    // Published table A, cohort 1: 14 PL + 3 sideways + 1 remained = 18;
    // 14/18 = 77.78% → 77.8 (78% when shown whole).
    let mut people = Vec::new();
    for n in 1..=18u128 {
        people.push(with(n, |p| match n {
            1..=14 => p.moves.push(mv("2018-01-01", HOS, (LA1, "practice_leader"), Promotion)),
            15..=17 => p.moves.push(mv("2018-01-01", HOS, (LA2, "head_of_service"), Sideways)),
            _ => {}
        }));
    }
    let members = (1..=18).map(|n| member(n, "2017-01-01")).collect();
    let ds = with_cohort(people, cohort(1, "c1", "2017-01-01", members));
    let r = compute(&ds, &params()).unwrap();
    assert_eq!(r.total.promoted_to_targets.percent, Some(77.8));
}

#[test]
fn unknown_cohort_and_empty_targets_are_errors() {
    let mut p = params();
    p.cohort_ids = Some(vec![id(999)]);
    assert_eq!(
        compute(&dataset(), &p).unwrap_err(),
        ReportError::UnknownCohort(id(999))
    );
    let mut p = params();
    p.targets.clear();
    assert_eq!(compute(&dataset(), &p).unwrap_err(), ReportError::NoTargets);
    let mut p = params();
    p.programme = Some("nope".into());
    assert_eq!(compute(&dataset(), &p).unwrap_err(), ReportError::NoCohorts);
}

#[test]
fn csv_has_one_row_per_cohort_plus_total_and_json_serialises() {
    let r = compute(&dataset(), &params()).unwrap();
    let rows = crate::reports::csv::ToCsvRows::to_csv_rows(&r);
    // Header + 2 cohorts + total; every row as wide as the header.
    assert_eq!(rows.len(), 4);
    assert!(rows.iter().all(|row| row.len() == rows[0].len()));
    assert_eq!(rows[0][3], "promoted_to_dcs");
    // Cohort 1: promoted-to-targets 3 / 11 = 27.3.
    assert_eq!(&rows[1][9..12], &["3", "11", "27.3"]);
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["participants"][0]["outcome"], "promoted_to");
}

#[test]
fn left_means_a_leaving_and_no_employment_at_as_at() {
    use crate::reports::model::SpellEnd::*;
    let hos = "head_of_service";
    let people = vec![
        // 1: an FTE change on 2019-03-01 (a spell starting that day), then a
        // leaving the same day: left, not "rejoined".
        with(1, |p| {
            p.spells
                .push(spell(LA1, hos, "2016-01-01", Some("2019-03-01"), Some(RoleChange)));
            worked_then_left(p, LA1, hos, "2019-03-01", "2019-03-01");
        }),
        // 2: leaves 2019-03-01 and rejoins in the same role (not a move)
        // 2019-09-01: remained.
        with(2, |p| {
            p.spells
                .push(spell(LA1, hos, "2016-01-01", Some("2019-03-01"), Some(Leaving)));
            p.spells.push(spell(LA1, hos, "2019-09-01", None, None));
            p.leavings.push(leaving("2019-03-01", LA1, hos));
        }),
        // 3: enrolled 2017-01-01 and left that same day (recorded after the
        // enrolment): left.
        with(3, |p| {
            worked_then_left(p, LA1, hos, "2016-01-01", "2017-01-01");
        }),
    ];
    let ds = Dataset {
        people,
        cohorts: vec![cohort(
            1,
            "cohort 1 (2017)",
            "2017-01-01",
            (1..=3).map(|n| member(n, "2017-01-01")).collect(),
        )],
        posts: vec![],
    };
    let r = compute(&ds, &params()).unwrap();
    let outcome = |n| {
        r.participants
            .iter()
            .find(|p| p.participant_id == id(n))
            .map(|p| p.outcome.clone())
    };
    assert_eq!(outcome(1), Some(Outcome::Left));
    assert_eq!(outcome(2), Some(Outcome::Remained));
    assert_eq!(outcome(3), Some(Outcome::Left));
}
