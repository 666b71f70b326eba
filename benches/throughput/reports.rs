//! Each report kind with a typical filter, as an analyst asks it, p50 and
//! p99 of `REPORT_REQUESTS` requests through `tenure::reports::produce`
//! (JSON included), from a warm server:
//!
//! - leavers of one organisation over four years (the broad request), and
//!   of its team managers in April–September of two years (the published
//!   figure's shape), each beside one hand-written SQL query per period over
//!   the read models for the same figure, checked equal;
//! - turnover of one organisation over a year, vacancies of its posts on a
//!   day, promotions and retention of one cohort.
//!
//! Every kind is also set beside issue 10's goal, 20 ms at p99 (a ratio of
//! 1 or more meets it).

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use sqlx::PgPool;
use tenure::reports::{produce, ReportKind, ReportQuery};

use crate::anchors;
use crate::history::{cohort_name, organisation_name, PROGRAMME};
use crate::workload::{date, ms, percentile, BoxError, REPORT_REQUESTS};

/// Issue 10's goal for every report at 1M events, p99.
pub(crate) const GOAL_MS: f64 = 20.0;

/// One report kind measured: its p50 and p99, and its anchor's when it has one.
pub(crate) struct Measured {
    pub(crate) name: String,
    pub(crate) p50: f64,
    pub(crate) p99: f64,
    /// The SQL anchor's p50 and p99, and whether its figures were the same.
    pub(crate) anchor: Option<(f64, f64, bool)>,
}

/// The leavers figure the SQL anchor computes: one organisation, one role
/// or all, one period.
struct LeaversFigure {
    role: Option<&'static str>,
    periods: Vec<(NaiveDate, NaiveDate)>,
}

fn query(organisation: &str) -> ReportQuery {
    ReportQuery {
        organisation: Some(organisation.to_string()),
        ..ReportQuery::default()
    }
}

/// Every case: name, kind, query and, for leavers, what the anchor computes.
fn cases() -> Vec<(String, ReportKind, ReportQuery, Option<LeaversFigure>)> {
    let org = organisation_name(0);
    let cohort = cohort_name(0, 2016);
    let broad = ReportQuery {
        from: Some(date(2018, 1, 1)),
        to: Some(date(2021, 12, 31)),
        ..query(&org)
    };
    let typical = ReportQuery {
        from: Some(date(2018, 4, 1)),
        to: Some(date(2018, 9, 30)),
        compare_from: Some(date(2017, 4, 1)),
        compare_to: Some(date(2017, 9, 30)),
        role: Some("team_manager".to_string()),
        ..query(&org)
    };
    let turnover = ReportQuery {
        from: Some(date(2019, 10, 1)),
        to: Some(date(2020, 9, 30)),
        ..query(&org)
    };
    let vacancies = ReportQuery {
        on: Some(date(2020, 3, 31)),
        ..query(&org)
    };
    let of_cohort = ReportQuery {
        programme: Some(PROGRAMME.to_string()),
        cohort: Some(cohort.clone()),
        as_at: Some(date(2021, 3, 31)),
        ..ReportQuery::default()
    };
    vec![
        (
            "leavers, 1 organisation, 4 years".to_string(),
            ReportKind::Leavers,
            broad,
            Some(LeaversFigure {
                role: None,
                periods: vec![(date(2018, 1, 1), date(2021, 12, 31))],
            }),
        ),
        (
            "leavers, 1 organisation, team managers, Apr-Sep 2017 vs 2018".to_string(),
            ReportKind::Leavers,
            typical,
            Some(LeaversFigure {
                role: Some("team_manager"),
                periods: vec![
                    (date(2018, 4, 1), date(2018, 9, 30)),
                    (date(2017, 4, 1), date(2017, 9, 30)),
                ],
            }),
        ),
        (
            "turnover, 1 organisation, 1 year".to_string(),
            ReportKind::Turnover,
            turnover,
            None,
        ),
        (
            "vacancies, 1 organisation, 1 day".to_string(),
            ReportKind::Vacancies,
            vacancies,
            None,
        ),
        (
            format!("promotions, 1 cohort ({cohort})"),
            ReportKind::Promotions,
            of_cohort.clone(),
            None,
        ),
        (
            format!("retention, 1 cohort ({cohort})"),
            ReportKind::Retention,
            of_cohort,
            None,
        ),
    ]
}

/// The report's leavers and person-days per period (after, then before).
fn leavers_figures(report: &serde_json::Value) -> Vec<(i64, i64)> {
    let total = &report["total"];
    ["period", "before"]
        .iter()
        .filter(|p| !total[**p].is_null())
        .map(|p| {
            (
                total[*p]["leavers"].as_i64().unwrap_or(-1),
                total[*p]["person_days"].as_i64().unwrap_or(-1),
            )
        })
        .collect()
}

/// Measures every case; returns them, and how much each answer held (for
/// the JSON line: a report that answers nothing measures nothing).
pub(crate) async fn measure(pool: &PgPool) -> Result<(Vec<Measured>, serde_json::Value), BoxError> {
    let mut measured = Vec::new();
    let mut answers = serde_json::Map::new();
    for (name, kind, q, anchor) in cases() {
        eprintln!("report: {name}, {REPORT_REQUESTS} requests ...");
        let mut times: Vec<Duration> = Vec::with_capacity(REPORT_REQUESTS);
        let mut sql_times: Vec<Duration> = Vec::with_capacity(REPORT_REQUESTS);
        let mut report = serde_json::Value::Null;
        let mut sql = Vec::new();
        // One request first, not timed: the server is warm when measured.
        produce(pool, kind, &q).await.map_err(|e| format!("{name}: {e}"))?;
        for _ in 0..REPORT_REQUESTS {
            let t = Instant::now();
            let answer = produce(pool, kind, &q).await.map_err(|e| format!("{name}: {e}"))?;
            std::hint::black_box(serde_json::to_vec(&answer.report)?);
            times.push(t.elapsed());
            report = answer.report;
            if let Some(figure) = &anchor {
                let t = Instant::now();
                sql.clear();
                for (from, to) in &figure.periods {
                    sql.push(anchors::leavers_sql(pool, &organisation_name(0), *from, *to, figure.role).await?);
                }
                sql_times.push(t.elapsed());
            }
        }
        let same = leavers_figures(&report) == sql;
        answers.insert(
            name.clone(),
            match &anchor {
                Some(_) => serde_json::json!({ "report": leavers_figures(&report), "sql": sql, "same_figures": same }),
                None => serde_json::json!({ "total": report.get("total"), "cohorts": report.get("cohorts").map(|c| c.as_array().map_or(0, Vec::len)) }),
            },
        );
        if anchor.is_some() && !same {
            eprintln!(
                "{name}: the report and the SQL query DIFFER: {:?} vs {sql:?}",
                leavers_figures(&report)
            );
        }
        measured.push(Measured {
            name,
            p50: ms(percentile(&times, 50.0)),
            p99: ms(percentile(&times, 99.0)),
            anchor: anchor.map(|_| (ms(percentile(&sql_times, 50.0)), ms(percentile(&sql_times, 99.0)), same)),
        });
    }
    Ok((measured, serde_json::Value::Object(answers)))
}
