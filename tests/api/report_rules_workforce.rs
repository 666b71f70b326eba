//! §4 turnover, §5 vacancy and cover, and how reports answer bad parameters
//! and agree between JSON and CSV.

use crate::helpers::bodies::{Disestablishment, Filling, Registration, Rejoining, Retraction, RoleChange, Vacation};
use crate::helpers::reports::{cell, csv_rows, row};
use crate::helpers::{spawn_app, TestApp};

/// Registers someone who joined on 2017-01-01 at `fte`; returns the id.
async fn register_fte(app: &TestApp, external_ref: &str, organisation: &str, role: &str, fte: f64) -> String {
    let registration = Registration::new(external_ref, organisation, role, "2017-01-01").fte(fte);
    app.record(&registration).await.id()
}

#[tokio::test]
async fn turnover_counts_rejoinings_and_moves_in_as_starters_and_works_out_stability() {
    let app = spawn_app().await;
    let (org, elsewhere) = ("Turnover Town", "Elsewhere County");
    // In post throughout.
    register_fte(&app, "tt-1", org, "social_worker", 1.0).await;
    // Half-time, leaves 2019-02-28.
    let t2 = register_fte(&app, "tt-2", org, "social_worker", 0.5).await;
    app.leave(&t2, "2019-02-28").await;
    // Moves to another organisation on 2019-05-01: leaves Turnover Town.
    let t3 = register_fte(&app, "tt-3", org, "team_manager", 1.0).await;
    app.record(&RoleChange::new(&t3, "2019-05-01", "team_manager").at(elsewhere))
        .await;
    // Promoted inside Turnover Town on 2019-01-01: neither leaver nor starter.
    let t4 = register_fte(&app, "tt-4", org, "senior_practitioner", 1.0).await;
    app.change_role(&t4, "2019-01-01", "practice_manager").await;
    // Left before the period, rejoins at 0.6 FTE on 2019-04-01: a starter.
    let t5 = register_fte(&app, "tt-5", org, "social_worker", 1.0).await;
    app.leave(&t5, "2018-03-31").await;
    app.record(&Rejoining::new(&t5, "2019-04-01", org, "social_worker").fte(0.6))
        .await;
    // At another organisation at 0.8 FTE, moves in on 2019-06-01: a starter.
    let t6 = register_fte(&app, "tt-6", elsewhere, "social_worker", 0.8).await;
    app.record(&RoleChange::new(&t6, "2019-06-01", "social_worker").at(org))
        .await;
    // Joins on 2019-03-01: a starter.
    app.register("tt-7", org, "social_worker", "2019-03-01").await;

    let rows = app
        .report_csv("turnover", "organisation=Turnover%20Town&from=2018-10-01&to=2019-09-30")
        .await;
    let r = &rows[0];
    // Leavers: T2 (0.5) and T3's move out (1.0) → 2, FTE 1.5.
    assert_eq!(cell(r, "leavers"), "2");
    assert_eq!(cell(r, "leavers_fte"), "1.5000");
    // Starters: T5 rejoining (0.6), T6 moving in (0.8), T7 joining (1.0) → 3, FTE 2.4.
    assert_eq!(cell(r, "starters"), "3");
    assert_eq!(cell(r, "starters_fte"), "2.4000");
    // In post at the end of 2018-10-01: T1, T2, T3, T4 → 4, FTE 3.5.
    assert_eq!(cell(r, "in_post_start"), "4");
    assert_eq!(cell(r, "in_post_start_fte"), "3.5000");
    // In post at the end of 2019-09-30: T1 1.0, T4 1.0, T5 0.6, T6 0.8, T7 1.0 → 5, FTE 4.4.
    assert_eq!(cell(r, "in_post_end"), "5");
    assert_eq!(cell(r, "in_post_end_fte"), "4.4000");
    // Turnover = 1.5 / 4.4 = 34.09% → 34.1.
    assert_eq!(cell(r, "turnover_percent"), "34.1");
    // Stability: of T1–T4 in post on the first day, T1 and T4 did not end
    // their employment with Turnover Town → 2 / 4 = 50.0%.
    assert_eq!(cell(r, "stable"), "2");
    assert_eq!(cell(r, "stability_percent"), "50.0");
}

#[tokio::test]
async fn vacancy_and_cover_rates_count_established_posts_on_the_date() {
    let app = spawn_app().await;
    let org = "Vacancy Vale";
    let establish = |title: &'static str, on: &'static str| app.establish_post(org, title, "team_manager", on);
    let fill = |post: String, person: String, basis: &'static str, on: &'static str| {
        let app = &app;
        async move { app.record(&Filling::new(&post, &person, on).basis(basis)).await }
    };
    let mut people = Vec::new();
    for r in ["vv-1", "vv-2", "vv-3", "vv-5"] {
        people.push(app.register(r, org, "social_worker", "2018-01-01").await);
    }
    let p1 = establish("Team manager north", "2019-01-01").await;
    let p2 = establish("Team manager south", "2019-01-01").await;
    let p3 = establish("Team manager east", "2019-01-01").await;
    let _p4 = establish("Team manager west", "2019-01-01").await;
    let p5 = establish("Team manager central", "2019-01-01").await;
    let _p6 = establish("Team manager new", "2020-07-01").await;
    let p7 = establish("Team manager old", "2019-01-01").await;
    // P1 permanent, P2 interim, P3 agency: filled on 2020-06-30.
    fill(p1, people[0].clone(), "permanent", "2019-02-01").await;
    fill(p2, people[1].clone(), "interim", "2020-01-01").await;
    fill(p3, people[2].clone(), "agency", "2019-03-01").await;
    // P5 held on an agency basis until it was vacated on 2020-06-30 itself:
    // not held at the end of that day, so vacant.
    fill(p5.clone(), people[3].clone(), "agency", "2019-03-01").await;
    app.record(&Vacation::new(&p5, &people[3], "2020-06-30")).await;
    // P7 was disestablished on 2020-03-01; P6 is established after the date.
    app.record(&Disestablishment::new(&p7, "2020-03-01")).await;

    let rows = app
        .report_csv("vacancies", "organisation=Vacancy%20Vale&on=2020-06-30")
        .await;
    for role in ["team_manager", "total"] {
        let r = row(&rows, "role_code", role);
        // Established on 2020-06-30: P1–P5 = 5 (P6 not yet, P7 no longer).
        assert_eq!(cell(r, "established"), "5", "{role}");
        // Filled: P1, P2, P3 = 3; vacant: P4, P5 = 2.
        assert_eq!(cell(r, "filled"), "3", "{role}");
        assert_eq!(cell(r, "vacant"), "2", "{role}");
        // Vacancy rate = 2 / (2 + 3) = 40.0%.
        assert_eq!(cell(r, "vacancy_percent"), "40.0", "{role}");
        // Cover: interim P2 and agency P3 of 3 filled → 2 / 3 = 66.7%.
        assert_eq!(cell(r, "covered"), "2", "{role}");
        assert_eq!(cell(r, "cover_percent"), "66.7", "{role}");
    }
}

#[tokio::test]
async fn bad_report_parameters_are_refused_naming_the_problem_and_json_and_csv_agree() {
    let app = spawn_app().await;
    let id = app
        .register("bp-1", "Parameter Parish", "social_worker", "2018-01-01")
        .await;
    app.leave(&id, "2019-05-01").await;

    // An unknown report: 404 with a JSON body.
    let unknown = app.report("headcount", "from=2019-04-01").await;
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.str("error"), "no_such_report");
    assert!(unknown.str("message").contains("leavers"), "{}", unknown.body);

    // A malformed date: 400 naming the field.
    let bad_date = app.report("leavers", "from=2019-02-30&to=2019-09-30").await;
    assert_eq!(bad_date.status, 400, "{}", bad_date.body);
    assert_eq!(bad_date.str("field"), "from");
    let bad_as_at = app.report("promotions", "as_at=31/12/2020").await;
    assert_eq!(bad_as_at.status, 400, "{}", bad_as_at.body);
    assert_eq!(bad_as_at.str("field"), "as_at");

    // known_at that is not RFC 3339: 400 naming known_at.
    for known_at in ["yesterday", "2021-02-01", "2021-02-01T09:00:00"] {
        let reply = app
            .report("leavers", &format!("from=2019-04-01&to=2019-09-30&known_at={known_at}"))
            .await;
        assert_eq!(reply.status, 400, "{known_at}: {}", reply.body);
        assert_eq!(reply.str("field"), "known_at", "{known_at}");
        assert_eq!(reply.str("error"), "invalid_parameter", "{known_at}");
    }

    // JSON and CSV agree: one leaver (2019-05-01), a social worker.
    let base = "organisation=Parameter%20Parish&from=2019-04-01&to=2019-09-30";
    app.report_csv("leavers", base).await; // the projector has caught up
    let query = format!("{base}&min_position={}", app.max_position().await);
    let json_answer = app.report("leavers", &query).await;
    assert_eq!(json_answer.status, 200, "{}", json_answer.body);
    let total = &json_answer.body["report"]["total"]["period"];
    assert_eq!(total["leavers"], 1);
    // Person-days 04-01..04-30 = 30; rate 100 × 1 × 183 / 30 = 610.0.
    assert_eq!(total["person_days"], 30);
    assert_eq!(total["leaver_rate_percent"], 610.0);
    let by_format = app.report("leavers", &format!("{query}&format=csv")).await;
    assert_eq!(by_format.status, 200, "{}", by_format.text);
    let path = format!("/api/v1/reports/leavers?{query}");
    let by_accept = app.get_with(&path, &[("accept", "text/csv")]).await;
    assert_eq!(by_accept.status, 200);
    assert!(by_accept
        .header("content-type")
        .expect("content-type")
        .starts_with("text/csv"));
    assert_eq!(by_accept.text, by_format.text);
    let rows = csv_rows(&by_format.text);
    let csv_total = row(&rows, "role_code", "total");
    assert_eq!(cell(csv_total, "after_leavers"), "1");
    assert_eq!(cell(csv_total, "after_person_days"), "30");
    assert_eq!(cell(csv_total, "after_leaver_rate_percent"), "610.0");
}

#[tokio::test]
async fn a_change_of_basis_in_the_same_post_and_a_retracted_post_move_keep_posts_right() {
    let app = spawn_app().await;
    let org = "Basis Borough";
    let establish = |title: &'static str| app.establish_post(org, title, "team_manager", "2019-01-01");
    let (north, south, east) = (
        establish("North").await,
        establish("South").await,
        establish("East").await,
    );
    // A is interim in North from 2019-02-01 and made permanent there on
    // 2019-06-01: on 2019-12-31 North is filled, not covered.
    let a = app.register("bb-a", org, "social_worker", "2018-01-01").await;
    let into_north = |on: &str, basis: &str| RoleChange::new(&a, on, "team_manager").post(&north).basis(basis);
    app.record(&into_north("2019-02-01", "interim")).await;
    app.record(&into_north("2019-06-01", "permanent")).await;
    // B holds South permanently, moves to East on 2019-09-01, and that move
    // is retracted: B is back in South, East is vacant again.
    let b = app.register("bb-b", org, "social_worker", "2018-01-01").await;
    app.record(
        &RoleChange::new(&b, "2019-02-01", "team_manager")
            .post(&south)
            .basis("permanent"),
    )
    .await;
    let moved = app
        .record(&RoleChange::new(&b, "2019-09-01", "team_manager").post(&east))
        .await;
    let sequence = moved.body["version"].as_u64().expect("version");
    app.record(&Retraction::new(&b, sequence)).await;

    let rows = app
        .report_csv("vacancies", "organisation=Basis%20Borough&on=2019-12-31")
        .await;
    let total = row(&rows, "role_code", "total");
    // North (A) and South (B) filled, East vacant: 1/3; no cover: 0/2.
    assert_eq!(
        (cell(total, "established"), cell(total, "filled"), cell(total, "vacant")),
        ("3", "2", "1")
    );
    assert_eq!((cell(total, "covered"), cell(total, "cover_percent")), ("0", "0.0"));
}
