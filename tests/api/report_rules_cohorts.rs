//! §1 promotion outcomes and §3 cohort retention, worked by hand.

use crate::helpers::bodies::{Exclusion, Rejoining, RoleChange, Withdrawal};
use crate::helpers::reports::{cell, row};
use crate::helpers::{spawn_app, TestApp};

/// Excludes a participant from analysis (they left to work abroad).
async fn exclude(app: &TestApp, participant: &str, on: &str) {
    app.record(&Exclusion::new(participant, on, "left to work abroad"))
        .await;
}

/// A move to `role` at `organisation`, named explicitly.
fn to(participant: &str, on: &str, role: &str, organisation: &str) -> RoleChange {
    RoleChange::new(participant, on, role).at(organisation)
}

#[tokio::test]
async fn promotion_outcomes_take_the_first_that_applies_and_footnote_withdrawals_and_exclusions() {
    let app = spawn_app().await;
    let (org, other) = ("Promo County", "Other Shire");
    let cohort = app.open_cohort("Rules PLDP", "rules cohort A", "2018-01-01").await;
    let mut enrolled = Vec::new();
    let people = [
        ("pc-a", "team_manager"),
        ("pc-b", "head_of_service"),
        ("pc-c", "team_manager"),
        ("pc-d", "social_worker"),
        ("pc-e", "social_worker"),
        ("pc-f", "social_worker"),
        ("pc-g", "service_manager"),
    ];
    for (r, role) in people {
        let id = app.register(r, org, role, "2017-01-01").await;
        app.enrol(&cohort, &id, "2018-01-15").await;
        enrolled.push(id);
    }
    let [a, b, c, d, e, f, g] = &enrolled[..] else {
        unreachable!()
    };
    // A: sideways (team manager → team manager at another organisation),
    // then promoted to head of service there: a promotion, not a target.
    app.record(&to(a, "2018-06-01", "team_manager", other)).await;
    app.record(&to(a, "2019-06-01", "head_of_service", other)).await;
    // B: promoted to practice leader, later to DCS, both inside Promo County.
    app.record(&to(b, "2018-09-01", "practice_leader", org)).await;
    app.record(&to(b, "2020-03-01", "dcs", org)).await;
    // C: demoted only.
    app.record(&to(c, "2019-01-01", "practice_manager", org)).await;
    // D: left, no move, not rejoined.
    app.leave(d, "2019-03-01").await;
    // E: withdrew from the programme on 2018-06-30.
    app.record(&Withdrawal::new(&cohort, e, "2018-06-30", "caring responsibilities"))
        .await;
    // F: excluded from analysis on 2019-02-01.
    exclude(&app, f, "2019-02-01").await;
    // G: promoted to practice leader at another organisation (external).
    app.record(&to(g, "2019-09-01", "practice_leader", other)).await;

    let rows = app
        .report_csv("promotions", "programme=Rules%20PLDP&as_at=2020-12-31")
        .await;
    for name in ["rules cohort A", "total"] {
        let r = row(&rows, "cohort", name);
        // Footnotes: E withdrew, F excluded; neither counted.
        assert_eq!(cell(r, "withdrawn"), "1", "{name}");
        assert_eq!(cell(r, "excluded"), "1", "{name}");
        // Cohort size: 7 enrolled − 1 withdrawn − 1 excluded = 5.
        assert_eq!(cell(r, "cohort_size"), "5", "{name}");
        // B: practice leader then DCS → once, under DCS.
        assert_eq!(cell(r, "promoted_to_dcs"), "1", "{name}");
        // G → practice leader.
        assert_eq!(cell(r, "promoted_to_practice_leader"), "1", "{name}");
        // A: sideways then promotion → promoted to other post.
        assert_eq!(cell(r, "promoted_other"), "1", "{name}");
        assert_eq!(cell(r, "sideways"), "0", "{name}");
        // D left with no move.
        assert_eq!(cell(r, "left"), "1", "{name}");
        // C (demotion alone) → remained. Check: 1 + 1 + 1 + 0 + 1 + 1 = 5.
        assert_eq!(cell(r, "remained"), "1", "{name}");
        // Percent promoted to targets: (1 + 1) / 5 = 40.0.
        assert_eq!(cell(r, "promoted_to_targets_numerator"), "2", "{name}");
        assert_eq!(cell(r, "promoted_to_targets_denominator"), "5", "{name}");
        assert_eq!(cell(r, "promoted_to_targets_percent"), "40.0", "{name}");
        // Internal: B's move to DCS (Promo County → Promo County) yes, G's
        // (Promo County → Other Shire) no → 1 / 2 = 50.0.
        assert_eq!(cell(r, "internal_numerator"), "1", "{name}");
        assert_eq!(cell(r, "internal_denominator"), "2", "{name}");
        assert_eq!(cell(r, "internal_percent"), "50.0", "{name}");
        // Months from enrolment (2018-01-15) to the target move:
        // B 2020-03-01: 730 + 17 + 29 = 776 days / 30.4375 = 25.4949;
        // G 2019-09-01: 365 + 17+28+31+30+31+30+31+31 = 594 days / 30.4375 = 19.5154;
        // median of two = (25.4949 + 19.5154) / 2 = 22.505 → 22.5.
        assert_eq!(cell(r, "median_months_to_target"), "22.5", "{name}");
    }
}

#[tokio::test]
async fn someone_who_left_and_rejoined_by_as_at_has_not_left() {
    let app = spawn_app().await;
    let org = "Rejoin Borough";
    let cohort = app.open_cohort("Rules Rejoiners", "rejoiners", "2018-01-01").await;
    let mut enrolled = Vec::new();
    for r in ["rb-1", "rb-2", "rb-3"] {
        let id = app.register(r, org, "social_worker", "2017-01-01").await;
        app.enrol(&cohort, &id, "2018-01-15").await;
        app.leave(&id, "2019-01-01").await;
        enrolled.push(id);
    }
    // R1 rejoins the same role at the same organisation: no career move.
    app.record(&Rejoining::new(&enrolled[0], "2019-04-01", org, "social_worker"))
        .await;
    // R2 rejoins as a social worker elsewhere: judged against the role held
    // before leaving (social worker, level 2 → 2, another organisation) → sideways.
    app.record(&Rejoining::new(
        &enrolled[1],
        "2019-04-01",
        "Other Borough",
        "social_worker",
    ))
    .await;
    // R3 does not rejoin.

    let rows = app
        .report_csv("promotions", "programme=Rules%20Rejoiners&as_at=2020-12-31")
        .await;
    let r = row(&rows, "cohort", "total");
    assert_eq!(cell(r, "cohort_size"), "3");
    // R2's rejoining is a sideways move → 1.
    assert_eq!(cell(r, "sideways"), "1");
    // "left — left employment with no move and has not rejoined by as_at":
    // only R3 → 1. R1 rejoined on 2019-04-01, before as_at.
    assert_eq!(cell(r, "left"), "1", "R1 rejoined by as_at, so has not left");
    // R1: none of the above → remained, 1.
    assert_eq!(cell(r, "remained"), "1");
}

#[tokio::test]
async fn retention_is_retained_over_members_less_excluded_and_a_rejoiner_is_retained() {
    let app = spawn_app().await;
    let org = "Retain Council";
    let cohort = app.open_cohort("Rules Academy", "2016 intake", "2016-09-01").await;
    let mut members = Vec::new();
    for r in ["rt-1", "rt-2", "rt-3", "rt-4", "rt-5", "rt-6"] {
        let id = app.register(r, org, "social_worker", "2016-09-01").await;
        app.enrol(&cohort, &id, "2016-09-01").await;
        members.push(id);
    }
    let [_m1, m2, m3, m4, m5, m6] = &members[..] else {
        unreachable!()
    };
    // M1 stays throughout.
    // M2 leaves 2017-03-01.
    app.leave(m2, "2017-03-01").await;
    // M3 leaves 2017-05-01 and rejoins Retain Council 2017-11-01.
    app.leave(m3, "2017-05-01").await;
    app.record(&Rejoining::new(m3, "2017-11-01", org, "social_worker"))
        .await;
    // M4 is excluded from analysis from 2017-06-01.
    exclude(&app, m4, "2017-06-01").await;
    // M5 moves to another organisation on 2018-01-01.
    app.record(&to(m5, "2018-01-01", "social_worker", "Elsewhere Trust"))
        .await;
    // M6 leaves on the as_at date itself: not employed at the end of it.
    app.leave(m6, "2018-08-31").await;

    let rows = app
        .report_csv(
            "retention",
            "programme=Rules%20Academy&cohort=2016%20intake&as_at=2018-08-31",
        )
        .await;
    let r = &rows[0];
    // Members 6; excluded 1 (M4).
    assert_eq!(cell(r, "members"), "6");
    assert_eq!(cell(r, "excluded"), "1");
    // Retained by Retain Council at the end of 2018-08-31: M1 and M3 (rejoined) = 2.
    // M2 left, M5 works elsewhere, M6 left that day.
    assert_eq!(cell(r, "retained"), "2");
    // Rate = 2 / (6 − 1) = 40.0%.
    assert_eq!(cell(r, "denominator"), "5");
    assert_eq!(cell(r, "retention_percent"), "40.0");
}
