//! Naming what a report counts (docs/metrics.md "Naming what a report
//! counts"): a name no data holds, a parameter a report does not take, or a
//! duplicated target is refused with the parameter and the nearest known
//! names, never answered with zeros or the whole organisation.

use crate::helpers::bodies::{Registration, RoleChange};
use crate::helpers::reports::{cell, row};
use crate::helpers::{spawn_app, Reply, TestApp};

const ORG: &str = "Riverside Council";
const COMMA_COHORT: &str = "North, East (2018)";

/// Two social workers at Riverside Council's duty team, in two cohorts of
/// Riverside PLDP; A (first cohort, whose name has a comma) is promoted to
/// team manager on 2018-06-01 and leaves on 2019-05-01.
async fn riverside(app: &TestApp) {
    let north_east = app.open_cohort("Riverside PLDP", COMMA_COHORT, "2018-01-01").await;
    let second = app.open_cohort("Riverside PLDP", "cohort 2", "2018-02-01").await;
    for (reference, cohort) in [("rn-a", &north_east), ("rn-b", &second)] {
        let registration = Registration::new(reference, ORG, "social_worker", "2017-01-01").team("Duty team");
        let id = app.record(&registration).await.id();
        app.enrol(cohort, &id, "2018-02-15").await;
        if reference == "rn-a" {
            app.record(&RoleChange::new(&id, "2018-06-01", "team_manager").team("Duty team"))
                .await;
            app.leave(&id, "2019-05-01").await;
        }
    }
}

/// Asserts the answer is `status` with `code` on `field` and a message
/// naming `wanted`; returns the message.
fn refusal(reply: &Reply, status: u16, code: &str, field: &str, wanted: &str) -> String {
    let (got, message) = (
        (reply.status, reply.str("error"), reply.str("field")),
        reply.str("message"),
    );
    assert_eq!(got, (status, code.into(), field.into()), "{}", reply.body);
    assert!(message.contains(wanted), "{message}");
    message
}

/// Asserts a 422 with `code` on `field` whose message names `wanted` and
/// suggests `nearest`.
fn refused(reply: &Reply, code: &str, field: &str, wanted: &str, nearest: &str) {
    let message = refusal(reply, 422, code, field, wanted);
    let known = message.split("; known").nth(1).unwrap_or_else(|| panic!("{message}"));
    assert!(known.contains(nearest), "{message}");
}

/// The projector has caught up, so a refusal is about names, not lag.
async fn caught_up(app: &TestApp) {
    app.report_csv("vacancies", "organisation=Riverside%20Council&on=2019-06-30")
        .await;
}

#[tokio::test]
async fn an_unknown_name_is_422_naming_the_parameter_and_the_nearest_known_names() {
    let app = spawn_app().await;
    riverside(&app).await;
    caught_up(&app).await;
    let period = "from=2019-04-01&to=2019-09-30";
    let cases = [
        // Wrong case: an organisation is named exactly; the suggestion is the right spelling.
        (
            "vacancies",
            "organisation=Riverside%20council&on=2019-06-30".to_string(),
            "unknown_organisation",
            "organisation",
            "Riverside council",
            "Riverside Council",
        ),
        (
            "leavers",
            format!("{period}&role=social_worker,team_mgr"),
            "unknown_role",
            "role",
            "team_mgr",
            "team_manager",
        ),
        (
            "leavers",
            format!("{period}&team=Duty%20Team"),
            "unknown_team",
            "team",
            "Duty Team",
            "Duty team",
        ),
        (
            "promotions",
            "programme=Riverside%20PDLP&as_at=2019-12-31".to_string(),
            "unknown_programme",
            "programme",
            "Riverside PDLP",
            "Riverside PLDP",
        ),
        (
            "retention",
            "cohort=cohort%203&as_at=2019-12-31".to_string(),
            "unknown_cohort",
            "cohort",
            "cohort 3",
            "cohort 2",
        ),
        (
            "promotions",
            "as_at=2019-12-31&targets=DCS".to_string(),
            "unknown_role",
            "targets",
            "DCS",
            "dcs",
        ),
    ];
    for (kind, query, code, field, wanted, nearest) in cases {
        let reply = app.report(kind, &query).await;
        refused(&reply, code, field, wanted, nearest);
    }
}

#[tokio::test]
async fn a_parameter_the_report_does_not_take_is_422_never_ignored() {
    let app = spawn_app().await;
    riverside(&app).await;
    caught_up(&app).await;
    let cases = [
        // Turnover is for the whole organisation: role would have been ignored.
        (
            "turnover",
            "organisation=Riverside%20Council&from=2019-04-01&to=2019-09-30&role=team_manager",
            "role",
        ),
        (
            "vacancies",
            "organisation=Riverside%20Council&on=2019-06-30&cohort=cohort%202",
            "cohort",
        ),
        (
            "promotions",
            "as_at=2019-12-31&organisation=Riverside%20Council",
            "organisation",
        ),
        (
            "retention",
            "cohort=cohort%202&as_at=2019-12-31&team=Duty%20team",
            "team",
        ),
    ];
    for (kind, query, field) in cases {
        let reply = app.report(kind, query).await;
        let message = refusal(&reply, 422, "unsupported_parameter", field, kind);
        assert!(message.contains(&format!("does not take {field}")), "{message}");
    }
    // A name that is no report parameter at all is malformed: 400.
    let unknown = app
        .report("vacancies", "organisation=Riverside%20Council&on=2019-06-30&colour=red")
        .await;
    assert_eq!(
        (unknown.status, unknown.str("error")),
        (400, "invalid_field".into()),
        "{}",
        unknown.body
    );
}

#[tokio::test]
async fn duplicated_targets_are_422() {
    let app = spawn_app().await;
    riverside(&app).await;
    caught_up(&app).await;
    let reply = app
        .report("promotions", "as_at=2019-12-31&targets=dcs,practice_leader,dcs")
        .await;
    refusal(&reply, 422, "duplicate_target", "targets", r#"target "dcs""#);
}

#[tokio::test]
async fn a_repeated_parameter_is_400_rather_than_the_last_one_winning() {
    let app = spawn_app().await;
    let reply = app
        .report(
            "turnover",
            "organisation=A&organisation=B&from=2019-04-01&to=2019-09-30",
        )
        .await;
    refusal(&reply, 400, "invalid_parameter", "organisation", "given 2 times");
}

#[tokio::test]
async fn a_cohort_whose_name_has_a_comma_can_be_selected_alone_or_quoted_in_a_list() {
    let app = spawn_app().await;
    riverside(&app).await;
    // The whole value names the cohort: one cohort, A alone → 1 member, 0
    // retained (A left on 2019-05-01).
    let retention = app
        .report_csv("retention", "cohort=North,%20East%20(2018)&as_at=2019-12-31")
        .await;
    assert_eq!(
        (cell(&retention[0], "members"), cell(&retention[0], "retained")),
        ("1", "0")
    );
    // In a list, double quotes keep the comma inside the name: two columns,
    // A promoted to team manager (another post), B remained.
    let promotions = app
        .report_csv(
            "promotions",
            "cohort=%22North,%20East%20(2018)%22,cohort%202&as_at=2019-12-31",
        )
        .await;
    let north_east = row(&promotions, "cohort", COMMA_COHORT);
    assert_eq!(
        (cell(north_east, "cohort_size"), cell(north_east, "promoted_other")),
        ("1", "1")
    );
    let second = row(&promotions, "cohort", "cohort 2");
    assert_eq!((cell(second, "cohort_size"), cell(second, "remained")), ("1", "1"));
    // Unquoted, the list splits at every comma: "North" names nothing.
    let split = app
        .report(
            "promotions",
            "cohort=North,%20East%20(2018),cohort%202&as_at=2019-12-31",
        )
        .await;
    refused(&split, "unknown_cohort", "cohort", "North", COMMA_COHORT);
}

#[tokio::test]
async fn known_names_still_answer_with_their_figures() {
    let app = spawn_app().await;
    riverside(&app).await;
    // Leavers Apr–Sep 2019 in the duty team's team managers: A (2019-05-01) → 1.
    let leavers = app
        .report_csv(
            "leavers",
            "organisation=Riverside%20Council&role=team_manager&team=Duty%20team\
             &programme=Riverside%20PLDP&from=2019-04-01&to=2019-09-30",
        )
        .await;
    assert_eq!(cell(row(&leavers, "role_code", "total"), "after_leavers"), "1");
    // A known organisation with no events in the period is a true zero:
    // in 2010 neither had joined.
    let turnover = app
        .report_csv(
            "turnover",
            "organisation=Riverside%20Council&from=2010-01-01&to=2010-12-31",
        )
        .await;
    assert_eq!(cell(&turnover[0], "leavers"), "0");
    // Default targets and the programme's two cohorts: 2 counted, A
    // promoted to another post, B remained.
    let promotions = app
        .report_csv(
            "promotions",
            "programme=Riverside%20PLDP&targets=dcs,practice_leader&as_at=2019-12-31",
        )
        .await;
    let total = row(&promotions, "cohort", "total");
    assert_eq!(
        (
            cell(total, "cohort_size"),
            cell(total, "promoted_other"),
            cell(total, "remained")
        ),
        ("2", "1", "1")
    );
}

#[tokio::test]
async fn an_empty_store_knows_no_organisation_but_a_ladder_names_one() {
    let app = spawn_app().await;
    let unknown = app.report("vacancies", "organisation=Nowhere&on=2019-06-30").await;
    refused(&unknown, "unknown_organisation", "organisation", "Nowhere", "none yet");
    // The default ladder's roles are known even with no events.
    let role = app
        .report("leavers", "from=2019-04-01&to=2019-09-30&role=social_worker")
        .await;
    assert_eq!(role.status, 200, "{}", role.body);
    // An organisation with a ladder of its own is known: no posts is a true zero.
    let ladder = serde_json::json!({"roles": [
        {"code": "worker", "name": "worker", "level": 1},
        {"code": "lead", "name": "lead", "level": 2}
    ]});
    let put = app.replace_ladder("Marsh", &ladder, &[]).await;
    assert_eq!(put.status, 200, "{}", put.body);
    let marsh = app.report_csv("vacancies", "organisation=Marsh&on=2019-06-30").await;
    assert_eq!(cell(row(&marsh, "role_code", "total"), "established"), "0");
}
