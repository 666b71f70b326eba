//! The report layer's refusals: which rule, code, field and message each
//! parameter problem gives (the API and the command line show these).

use chrono::NaiveDate;
use projections::reports::model::{Cohort, Dataset};
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

/// Asserts that `kind` with `query` is refused with `code` on `field`
/// saying `message`.
fn assert_refused(kind: ReportKind, query: ReportQuery, code: &str, field: &str, message: &str) {
    let e = compute(&dataset(), kind, &query).expect_err("refused");
    assert_eq!(
        (e.code(), e.field(), e.to_string()),
        (code, Some(field), message.to_string())
    );
}

#[test]
fn a_missing_date_names_the_parameter_to_give() {
    let (missing, none) = ("missing_parameter", ReportQuery::default);
    assert_refused(
        ReportKind::Promotions,
        none(),
        missing,
        "as_at",
        "give ?as_at= for this report",
    );
    let message = "give ?organisation= for vacancies";
    assert_refused(ReportKind::Vacancies, none(), missing, "organisation", message);
}

#[test]
fn retention_needs_exactly_one_cohort() {
    let query = ReportQuery {
        as_at: Some(d("2018-01-01")),
        ..ReportQuery::default()
    };
    assert_refused(
        ReportKind::Retention,
        query,
        "missing_parameter",
        "cohort",
        "give exactly one ?cohort= (id or name) for the retention report",
    );
}

#[test]
fn a_cohort_nobody_has_is_an_unknown_cohort() {
    let query = ReportQuery {
        cohort: Some("cohort 1 (2017),cohort 9".into()),
        as_at: Some(d("2018-01-01")),
        ..ReportQuery::default()
    };
    assert_refused(
        ReportKind::Promotions,
        query,
        "unknown_cohort",
        "cohort",
        r#"no cohort with id or name "cohort 9""#,
    );
}

#[test]
fn an_inverted_comparison_period_is_put_on_its_own_start() {
    let query = ReportQuery {
        from: Some(d("2018-04-01")),
        to: Some(d("2018-09-30")),
        compare_from: Some(d("2017-09-30")),
        compare_to: Some(d("2017-04-01")),
        ..ReportQuery::default()
    };
    assert_refused(
        ReportKind::Leavers,
        query,
        "invalid_report_parameters",
        "compare_from",
        "period starts on 2017-09-30 but ends on 2017-04-01",
    );
}

#[test]
fn as_at_before_the_cohort_start_is_refused_on_as_at() {
    let query = ReportQuery {
        cohort: Some("cohort 1 (2017)".into()),
        as_at: Some(d("2016-12-31")),
        ..ReportQuery::default()
    };
    assert_refused(
        ReportKind::Retention,
        query,
        "invalid_report_parameters",
        "as_at",
        "as_at 2016-12-31 is before the cohort start 2017-01-09",
    );
}

#[test]
fn malformed_parameters_say_what_was_expected() {
    let query = ReportQuery {
        known_at: Some("yesterday".into()),
        min_position: Some("-1".into()),
        wait_ms: Some("soon".into()),
        on: Some(d("2200-01-01")),
        ..ReportQuery::default()
    };
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
