//! Hand-worked docs/metrics.md rules through the HTTP API, each a small case over
//! a fresh database with the live projector. Every expected figure is worked
//! out by hand in the comment above its assertion.
//!
//! This file holds §2 leavers (period bounds, leaving twice, external and
//! internal moves, same-day order);
//! `report_rules_known_at.rs` holds retractions and late records,
//! `report_rules_cohorts.rs` promotions and retention,
//! `report_rules_workforce.rs` turnover, vacancies and report parameters.

use crate::helpers::bodies::{Registration, Rejoining, RoleChange};
use crate::helpers::reports::{cell, row};
use crate::helpers::spawn_app;

/// Period April–September 2019: 30 + 31 + 30 + 31 + 31 + 30 = 183 days.
const APR_SEP_2019: &str = "from=2019-04-01&to=2019-09-30";

#[tokio::test]
async fn leavings_on_the_first_and_last_day_of_the_period_count_and_the_days_either_side_do_not() {
    let app = spawn_app().await;
    let org = "Boundary Borough";
    let mut ids = Vec::new();
    for r in ["bb-a", "bb-b", "bb-c", "bb-d"] {
        ids.push(app.register(r, org, "social_worker", "2018-01-01").await);
    }
    // A leaves the day before the period, B on its first day, C on its last
    // day, D the day after.
    for (id, on) in ids.iter().zip(["2019-03-31", "2019-04-01", "2019-09-30", "2019-10-01"]) {
        app.leave(id, on).await;
    }
    let rows = app
        .report_csv("leavers", &format!("organisation=Boundary%20Borough&{APR_SEP_2019}"))
        .await;
    for role in ["social_worker", "total"] {
        let r = row(&rows, "role_code", role);
        // Leavers: B (2019-04-01) and C (2019-09-30) → 2; A and D fall outside.
        assert_eq!(cell(r, "after_leavers"), "2", "{role}");
        // Person-days (employed at the end of each day, leaving day excluded):
        // A 0, B 0 (left on the first day), C 04-01..09-29 = 182, D 183 → 365.
        assert_eq!(cell(r, "after_person_days"), "365", "{role}");
        assert_eq!(cell(r, "after_days"), "183", "{role}");
        // Average headcount 365 / 183 = 1.9945… → 1.99.
        assert_eq!(cell(r, "after_average_headcount"), "1.99", "{role}");
        // Leaver rate 100 × 2 / (365 / 183) = 36 600 / 365 = 100.27… → 100.3.
        assert_eq!(cell(r, "after_leaver_rate_percent"), "100.3", "{role}");
        // 2 < 10: fragile evidence.
        assert_eq!(cell(r, "after_small_numbers"), "true", "{role}");
    }
}

#[tokio::test]
async fn a_person_who_leaves_rejoins_and_leaves_again_in_one_period_counts_twice() {
    let app = spawn_app().await;
    let org = "Twice Trust";
    let id = app.register("tt-1", org, "social_worker", "2017-06-01").await;
    app.leave(&id, "2019-05-10").await;
    app.record(&Rejoining::new(&id, "2019-06-01", org, "social_worker"))
        .await;
    app.leave(&id, "2019-08-20").await;
    for scope in ["organisation=Twice%20Trust&", ""] {
        let rows = app.report_csv("leavers", &format!("{scope}{APR_SEP_2019}")).await;
        let r = row(&rows, "role_code", "social_worker");
        // Two leavings (2019-05-10 and 2019-08-20), both inside the period.
        assert_eq!(cell(r, "after_leavers"), "2", "{scope}");
        // Person-days: 04-01..05-09 = 30 + 9 = 39, then 06-01..08-19 =
        // 30 + 31 + 19 = 80 → 119; average headcount 119 / 183 = 0.650… → 0.65.
        assert_eq!(cell(r, "after_person_days"), "119", "{scope}");
        assert_eq!(cell(r, "after_average_headcount"), "0.65", "{scope}");
        // Rate 100 × 2 × 183 / 119 = 307.56… → 307.6.
        assert_eq!(cell(r, "after_leaver_rate_percent"), "307.6", "{scope}");
        assert_eq!(cell(row(&rows, "role_code", "total"), "after_leavers"), "2", "{scope}");
    }
}

#[tokio::test]
async fn an_external_move_is_a_leaver_for_the_old_organisation_only_and_an_internal_move_is_no_leaver() {
    let app = spawn_app().await;
    let (north, south) = ("Northgate Council", "Southgate Council");
    // E: team manager at Northgate, moves to a service manager post at
    // Southgate on 2020-06-15 (external).
    let e = app.register("ng-e", north, "team_manager", "2019-01-01").await;
    app.record(&RoleChange::new(&e, "2020-06-15", "service_manager").at(south))
        .await;
    // I: social worker in team East, promoted inside Northgate on 2020-07-01,
    // then moved to team West on 2020-09-01: internal moves only.
    let i = app
        .record(&Registration::new("ng-i", north, "social_worker", "2019-01-01").team("East"))
        .await
        .id();
    app.record(&RoleChange::new(&i, "2020-07-01", "senior_practitioner").team("East"))
        .await;
    app.record(&RoleChange::new(&i, "2020-09-01", "senior_practitioner").team("West"))
        .await;
    // L: practice manager at Northgate, leaves on 2020-10-31.
    let l = app.register("ng-l", north, "practice_manager", "2019-01-01").await;
    app.leave(&l, "2020-10-31").await;

    let period = "from=2020-04-01&to=2021-03-31";
    let northgate = app
        .report_csv("leavers", &format!("organisation=Northgate%20Council&{period}"))
        .await;
    // For Northgate: E's move out (as team manager) and L's leaving → 2.
    assert_eq!(cell(row(&northgate, "role_code", "total"), "after_leavers"), "2");
    assert_eq!(cell(row(&northgate, "role_code", "team_manager"), "after_leavers"), "1");
    assert_eq!(
        cell(row(&northgate, "role_code", "practice_manager"), "after_leavers"),
        "1"
    );
    // I's promotion and change of team stay inside Northgate: no leaver in
    // either role.
    assert_eq!(
        cell(row(&northgate, "role_code", "social_worker"), "after_leavers"),
        "0"
    );
    assert_eq!(
        cell(row(&northgate, "role_code", "senior_practitioner"), "after_leavers"),
        "0"
    );

    let all = app.report_csv("leavers", period).await;
    // Over all organisations only L's leaving event counts: E stays in the
    // tracked workforce (now at Southgate) → 1.
    assert_eq!(cell(row(&all, "role_code", "total"), "after_leavers"), "1");
    assert_eq!(cell(row(&all, "role_code", "team_manager"), "after_leavers"), "0");
    assert_eq!(cell(row(&all, "role_code", "practice_manager"), "after_leavers"), "1");

    let southgate = app
        .report_csv("leavers", &format!("organisation=Southgate%20Council&{period}"))
        .await;
    // Southgate gained E and lost nobody → 0.
    assert_eq!(cell(row(&southgate, "role_code", "total"), "after_leavers"), "0");
}

#[tokio::test]
async fn a_leaver_is_grouped_by_the_role_held_immediately_before_leaving_with_same_day_events_in_recorded_order() {
    let app = spawn_app().await;
    let org = "Sameday Services";
    // S: on 2019-05-01 promoted to senior practitioner (recorded first) and
    // leaves (recorded second): the leaving follows the role change.
    let s = app.register("ss-s", org, "social_worker", "2018-01-01").await;
    app.change_role(&s, "2019-05-01", "senior_practitioner").await;
    app.leave(&s, "2019-05-01").await;
    // T: the leaving on 2019-06-02 is recorded before a promotion to practice
    // manager effective 2019-06-01; the effective dates decide the role held
    // before leaving, so T leaves as a practice manager.
    let t = app.register("ss-t", org, "senior_practitioner", "2018-01-01").await;
    app.leave(&t, "2019-06-02").await;
    app.change_role(&t, "2019-06-01", "practice_manager").await;

    let rows = app
        .report_csv("leavers", &format!("organisation=Sameday%20Services&{APR_SEP_2019}"))
        .await;
    // S leaves as a senior practitioner (the role held immediately before).
    // T held senior practitioner until 2019-06-01, not when leaving.
    let sp = row(&rows, "role_code", "senior_practitioner");
    assert_eq!(cell(sp, "after_leavers"), "1");
    // SP person-days: S's spell [05-01, 05-01) is empty → 0; T 04-01..05-31
    // = 30 + 31 = 61 → 61.
    assert_eq!(cell(sp, "after_person_days"), "61");
    // T leaves as a practice manager: PM person-days [06-01, 06-02) = 1.
    let pm = row(&rows, "role_code", "practice_manager");
    assert_eq!(cell(pm, "after_leavers"), "1");
    assert_eq!(cell(pm, "after_person_days"), "1");
    // S was a social worker 04-01..04-30 = 30 person-days, but did not leave as one.
    let sw = row(&rows, "role_code", "social_worker");
    assert_eq!(cell(sw, "after_leavers"), "0");
    assert_eq!(cell(sw, "after_person_days"), "30");
    assert_eq!(cell(row(&rows, "role_code", "total"), "after_leavers"), "2");
}
