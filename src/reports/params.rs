//! Report parameters, named as in docs/metrics.md, shared by the query string
//! and the command line.

use chrono::{DateTime, NaiveDate, Utc};
use projections::reports::leavers::ExposureBasis;
use serde::Deserialize;

use super::ReportRequestError;

/// Which report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum ReportKind {
    /// Promotion outcomes by cohort (docs/metrics.md §1).
    Promotions,
    /// Leavers by role and period, before and after (§2).
    Leavers,
    /// Cohort retention and Kaplan–Meier curve (§3).
    Retention,
    /// Turnover by period (§4).
    Turnover,
    /// Vacancy and cover on a date (§5).
    Vacancies,
}

/// Every report parameter; each report reads the ones it needs.
#[derive(Debug, Clone, Default, Deserialize, clap::Args, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// Programme, e.g. `PLDP`.
    #[arg(long)]
    pub programme: Option<String>,
    /// Cohort ids or names, comma-separated.
    #[arg(long)]
    pub cohort: Option<String>,
    /// Organisation (leavers: omit for all organisations).
    #[arg(long)]
    pub organisation: Option<String>,
    /// Role codes, comma-separated (leavers).
    #[arg(long)]
    pub role: Option<String>,
    /// Team (leavers).
    #[arg(long)]
    pub team: Option<String>,
    /// Period start (inclusive).
    #[arg(long)]
    pub from: Option<NaiveDate>,
    /// Period end (inclusive).
    #[arg(long)]
    pub to: Option<NaiveDate>,
    /// Comparison ("before") period start (leavers).
    #[arg(long)]
    pub compare_from: Option<NaiveDate>,
    /// Comparison ("before") period end (leavers).
    #[arg(long)]
    pub compare_to: Option<NaiveDate>,
    /// Status date (promotions, retention).
    #[arg(long)]
    pub as_at: Option<NaiveDate>,
    /// The date D (vacancies).
    #[arg(long)]
    pub on: Option<NaiveDate>,
    /// Target roles in order, comma-separated (default `dcs,practice_leader`).
    #[arg(long)]
    pub targets: Option<String>,
    /// `person_days` (default) or `equal` exposure for the before/after test.
    #[arg(long, value_parser = parse_exposure)]
    #[param(value_type = Option<String>)]
    pub exposure: Option<ExposureBasis>,
    /// RFC 3339 timestamp: answer from the events recorded up to then.
    #[arg(long)]
    pub known_at: Option<String>,
    /// Wait until the read models reflect this global position (read your writes).
    #[arg(long)]
    pub min_position: Option<String>,
    /// How long to wait for `min_position`, in milliseconds (default 10000, at most 30000).
    #[arg(long)]
    pub wait_ms: Option<String>,
    /// `json` (default) or `csv`.
    #[arg(skip)]
    pub format: Option<String>,
}

fn parse_exposure(s: &str) -> Result<ExposureBasis, String> {
    serde_json::from_value(serde_json::Value::String(s.to_string())).map_err(|_| "person_days or equal".to_string())
}

impl ReportQuery {
    /// `known_at` parsed as RFC 3339.
    pub fn known_at(&self) -> Result<Option<DateTime<Utc>>, ReportRequestError> {
        self.known_at
            .as_deref()
            .map(|s| {
                DateTime::parse_from_rfc3339(s)
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(|_| ReportRequestError::KnownAtNotTimestamp { given: s.to_string() })
            })
            .transpose()
    }

    /// Every date parameter lies in 1900–2199: outside it is a typo, and
    /// period arithmetic and month-by-month curves stay bounded.
    pub fn check_date_range(&self) -> Result<(), ReportRequestError> {
        let (earliest, latest) = (
            NaiveDate::from_ymd_opt(1900, 1, 1),
            NaiveDate::from_ymd_opt(2199, 12, 31),
        );
        let dates = [
            ("from", self.from),
            ("to", self.to),
            ("compare_from", self.compare_from),
            ("compare_to", self.compare_to),
            ("as_at", self.as_at),
            ("on", self.on),
        ];
        for (field, date) in dates {
            if let Some(d) = date.filter(|d| Some(*d) < earliest || Some(*d) > latest) {
                return Err(ReportRequestError::DateOutOfRange { field, date: d });
            }
        }
        Ok(())
    }

    /// `min_position` parsed as a non-negative integer.
    pub fn min_position(&self) -> Result<Option<i64>, ReportRequestError> {
        self.min_position
            .as_deref()
            .map(|s| {
                s.parse::<i64>()
                    .ok()
                    .filter(|n| *n >= 0)
                    .ok_or(ReportRequestError::MinPositionNotPosition)
            })
            .transpose()
    }

    /// `wait_ms` as a duration.
    pub fn wait(&self) -> Result<Option<std::time::Duration>, ReportRequestError> {
        self.wait_ms
            .as_deref()
            .map(|s| {
                s.parse::<u64>()
                    .map(std::time::Duration::from_millis)
                    .map_err(|_| ReportRequestError::WaitNotMilliseconds)
            })
            .transpose()
    }

    /// A comma-separated list, or `None` when absent or empty.
    pub fn list(&self, value: &Option<String>) -> Option<Vec<String>> {
        let items: Vec<String> = value
            .as_deref()?
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        (!items.is_empty()).then_some(items)
    }
}
