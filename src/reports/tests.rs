//! The report layer's refusals: which rule, code, field and message each
//! parameter problem gives (the API and the command line show these).

use chrono::NaiveDate;
use projections::reports::model::{Cohort, Dataset};
use projections::reports::names::KnownNames;
use uuid::Uuid;

use super::{compute, ReportKind, ReportQuery, ReportRequestError};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn dataset() -> Dataset {
    Dataset {
        cohorts: vec![Cohort {
            cohort_id: Uuid::from_u128(1),
            programme: "PLDP".into(),
            name: "cohort 1 (2017)".into(),
            starts_on: d("2017-01-09"),
            members: vec![],
        }],
        ..Dataset::default()
    }
}

/// The dataset's names, the default ladder's roles and an organisation with
/// a ladder of its own.
fn names() -> KnownNames {
    let mut names = KnownNames::of(&dataset());
    names
        .roles
        .extend(["social_worker", "team_manager", "dcs", "practice_leader"].map(String::from));
    names.organisations.insert("Riverside Council".into());
    names
}

/// A query as the query string `text` (`as_at=2018-01-01&cohort=...`)
/// gives it.
fn query(text: &str) -> ReportQuery {
    let pairs: serde_json::Map<String, serde_json::Value> = text
        .split('&')
        .filter(|p| !p.is_empty())
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.to_string(), serde_json::Value::String(v.to_string())))
        .collect();
    serde_json::from_value(serde_json::Value::Object(pairs)).expect("a report query")
}

#[test]
fn each_refusal_names_its_rule_the_parameter_and_what_to_do() {
    use ReportKind::*;
    let (missing, invalid) = ("missing_parameter", "invalid_report_parameters");
    let cases = [
        (Promotions, "", missing, "as_at", "give ?as_at= for this report"),
        (
            Vacancies,
            "",
            missing,
            "organisation",
            "give ?organisation= for vacancies",
        ),
        (
            Turnover,
            "",
            missing,
            "organisation",
            "give ?organisation= for turnover",
        ),
        (
            Retention,
            "as_at=2018-01-01",
            missing,
            "cohort",
            "give exactly one ?cohort= (id or name) for the retention report",
        ),
        (
            Promotions,
            "cohort=cohort 1 (2017),cohort 9&as_at=2018-01-01",
            "unknown_cohort",
            "cohort",
            r#"no cohort with id or name "cohort 9"; known: cohort 1 (2017)"#,
        ),
        // A second period's fault is put on its own start.
        (
            Leavers,
            "from=2018-04-01&to=2018-09-30&compare_from=2017-09-30&compare_to=2017-04-01",
            invalid,
            "compare_from",
            "period starts on 2017-09-30 but ends on 2017-04-01",
        ),
        (
            Retention,
            "cohort=cohort 1 (2017)&as_at=2016-12-31",
            invalid,
            "as_at",
            "as_at 2016-12-31 is before the cohort start 2017-01-09",
        ),
    ];
    for (kind, text, code, field, message) in cases {
        let e = compute(&dataset(), &names(), kind, &query(text)).expect_err(text);
        assert_eq!(
            (e.code(), e.field(), e.to_string()),
            (code, Some(field), message.to_string()),
            "{kind:?} {text}"
        );
    }
}

#[test]
fn a_name_no_data_holds_is_refused_with_the_nearest_known_names() {
    use ReportKind::*;
    let cases = [
        (
            Vacancies,
            "organisation=Riverside council&on=2019-06-30",
            "unknown_organisation",
            "organisation",
            r#"no organisation "Riverside council"; known: Riverside Council"#,
        ),
        (
            Leavers,
            "from=2019-04-01&to=2019-09-30&role=team_mgr",
            "unknown_role",
            "role",
            // Jaro–Winkler on "team_mgr": team_manager 0.93, then the rest.
            r#"no role "team_mgr"; known: team_manager, "#,
        ),
        (
            Leavers,
            "from=2019-04-01&to=2019-09-30&team=Duty",
            "unknown_team",
            "team",
            r#"no team "Duty"; known: none yet"#,
        ),
        (
            Promotions,
            "programme=pldp&as_at=2019-12-31",
            "unknown_programme",
            "programme",
            r#"no programme "pldp"; known: PLDP"#,
        ),
        (
            Promotions,
            "as_at=2019-12-31&targets=DCS",
            "unknown_role",
            "targets",
            r#"no role "DCS"; known: dcs, "#,
        ),
        (
            Promotions,
            "as_at=2019-12-31&targets=dcs,practice_leader,dcs",
            "duplicate_target",
            "targets",
            r#"target "dcs" is listed more than once"#,
        ),
    ];
    for (kind, text, code, field, message) in cases {
        let e = compute(&dataset(), &names(), kind, &query(text)).expect_err(text);
        assert_eq!((e.code(), e.field()), (code, Some(field)), "{kind:?} {text}");
        assert!(e.to_string().starts_with(message), "{kind:?} {text}: {e}");
    }
}

#[test]
fn a_parameter_the_report_does_not_read_is_refused_by_name() {
    let e = query("organisation=O&from=2019-04-01&to=2019-09-30&role=team_manager")
        .check_accepted(ReportKind::Turnover)
        .unwrap_err();
    assert_eq!((e.code(), e.field()), ("unsupported_parameter", Some("role")));
    assert_eq!(
        e.to_string(),
        "the turnover report does not take role; it takes organisation, from, to, and known_at, min_position, \
         wait_ms, format, view, threshold"
    );
    // Every report takes its own parameters and the common ones.
    let every = "programme=P&cohort=C&organisation=O&role=R&team=T&from=2019-01-01&to=2019-12-31\
        &compare_from=2018-01-01&compare_to=2018-12-31&as_at=2019-12-31&on=2019-12-31&targets=dcs\
        &exposure=equal&known_at=K&min_position=1&wait_ms=1&format=csv&view=board&threshold=10";
    let all = query(every);
    assert_eq!(all.given().len(), 19);
    for kind in [
        ReportKind::Promotions,
        ReportKind::Leavers,
        ReportKind::Retention,
        ReportKind::Turnover,
        ReportKind::Vacancies,
    ] {
        let own: Vec<String> = kind
            .parameters()
            .iter()
            .chain(&super::EVERY_REPORT)
            .map(|p| {
                let value = if p.ends_with("from") || *p == "to" || p.ends_with("_to") || *p == "as_at" || *p == "on" {
                    "2019-01-01"
                } else if *p == "exposure" {
                    "equal"
                } else {
                    "x"
                };
                format!("{p}={value}")
            })
            .collect();
        assert!(query(&own.join("&")).check_accepted(kind).is_ok(), "{kind:?}");
        assert!(all.check_accepted(kind).is_err(), "{kind:?}");
    }
}

#[test]
fn malformed_parameters_say_what_was_expected() {
    let query = query("known_at=yesterday&min_position=-1&wait_ms=soon&on=2200-01-01");
    let e = query.known_at().unwrap_err();
    assert_eq!((e.code(), e.field()), ("invalid_parameter", Some("known_at")));
    assert_eq!(
        e.to_string(),
        r#"known_at "yesterday" is not an RFC 3339 timestamp such as 2021-02-01T09:00:00Z"#
    );
    let e = query.min_position().unwrap_err();
    assert_eq!((e.code(), e.field()), ("invalid_parameter", Some("min_position")));
    let e = query.wait().unwrap_err();
    assert_eq!((e.code(), e.field()), ("invalid_parameter", Some("wait_ms")));
    let e = query.check_date_range().unwrap_err();
    assert_eq!((e.code(), e.field()), ("invalid_parameter", Some("on")));
    assert_eq!(e.to_string(), "on = 2200-01-01 is outside 1900-01-01..2199-12-31");
}

#[test]
fn an_empty_list_filter_is_refused_not_read_as_every_role_or_the_default_targets() {
    for (text, field) in [
        ("role=", "role"),
        ("targets=,", "targets"),
        ("role=a&targets= ", "targets"),
    ] {
        let e = query(text).check_lists().expect_err(text);
        assert_eq!((e.code(), e.field()), ("missing_parameter", Some(field)), "{text}");
    }
    assert!(query("role=a,b&targets=dcs").check_lists().is_ok());
    assert!(query("as_at=2020-01-01").check_lists().is_ok());
}

#[test]
fn waiting_refusals_name_the_position() {
    let behind = ReportRequestError::ProjectionBehind {
        position: 42,
        waited_ms: 10_000,
    };
    assert_eq!((behind.code(), behind.field()), ("projection_behind", None));
    assert_eq!(
        behind.to_string(),
        "the read models have not reached position 42 within 10000 ms; retry shortly, or ask with known_at for an \
         answer replayed from the events"
    );
    let unknown = ReportRequestError::UnknownPosition { position: 9, last: 7 };
    assert_eq!(
        (unknown.code(), unknown.field()),
        ("unknown_position", Some("min_position"))
    );
    assert_eq!(
        unknown.to_string(),
        "no event has global position 9: the store ends at 7"
    );
}

#[test]
fn the_board_view_is_asked_with_view_board_and_may_only_raise_the_threshold() {
    use projections::reports::board::BoardView;
    assert_eq!(query("").board().unwrap(), None);
    assert_eq!(query("view=exact").board().unwrap(), None);
    assert_eq!(query("view=board").board().unwrap(), Some(BoardView { threshold: 5 }));
    assert_eq!(
        query("view=board&threshold=10").board().unwrap(),
        Some(BoardView { threshold: 10 })
    );
    for (text, field, starts) in [
        ("view=pretty", "view", "view \"pretty\" is not exact or board"),
        (
            "view=board&threshold=3",
            "threshold",
            "a board view suppresses counts below 5 at least",
        ),
        (
            "view=board&threshold=many",
            "threshold",
            "threshold must be a whole number",
        ),
        ("threshold=10", "threshold", "threshold applies to view=board only"),
    ] {
        let e = query(text).board().unwrap_err();
        assert_eq!((e.code(), e.field()), ("invalid_parameter", Some(field)), "{text}");
        assert!(e.to_string().starts_with(starts), "{text}: {e}");
    }
}
