//! After an import: every report kind answers from the read models the
//! projector built, with the kind of filter an analyst uses (one
//! organisation of the generated file; one cohort).

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use sqlx::PgPool;
use tenure::reports::{produce, ReportKind, ReportQuery};

use crate::{generated, BoxError};

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a date")
}

/// Each report kind asked once: its name, how long it took and how many
/// rows it answered with (its header excluded).
pub(crate) async fn every_report(pool: &PgPool) -> Result<Vec<(String, Duration, usize)>, BoxError> {
    let organisation = ReportQuery {
        organisation: Some(generated::organisation_name(0)),
        ..ReportQuery::default()
    };
    let of_cohort = ReportQuery {
        programme: Some(generated::programme().to_string()),
        cohort: Some(generated::cohort_name(&generated::organisation_name(0), 2016, 0)),
        as_at: Some(date(2021, 3, 31)),
        ..ReportQuery::default()
    };
    let cases = [
        (
            "leavers of one organisation, 2018-2021",
            ReportKind::Leavers,
            ReportQuery {
                from: Some(date(2018, 1, 1)),
                to: Some(date(2021, 12, 31)),
                ..organisation.clone()
            },
        ),
        (
            "turnover of one organisation, 2019-20",
            ReportKind::Turnover,
            ReportQuery {
                from: Some(date(2019, 10, 1)),
                to: Some(date(2020, 9, 30)),
                ..organisation.clone()
            },
        ),
        (
            "vacancies of one organisation on 2020-03-31",
            ReportKind::Vacancies,
            ReportQuery {
                on: Some(date(2020, 3, 31)),
                ..organisation.clone()
            },
        ),
        (
            "promotions of one cohort, as at 2021-03-31",
            ReportKind::Promotions,
            of_cohort.clone(),
        ),
        (
            "retention of one cohort, as at 2021-03-31",
            ReportKind::Retention,
            of_cohort,
        ),
    ];
    let mut answered = Vec::new();
    for (name, kind, query) in cases {
        let started = Instant::now();
        let answer = produce(pool, kind, &query).await.map_err(|e| format!("{name}: {e}"))?;
        answered.push((name.to_string(), started.elapsed(), answer.rows.len().saturating_sub(1)));
    }
    Ok(answered)
}
