//! Report parameters, named as in docs/metrics.md, shared by the query string
//! and the command line.

use chrono::{DateTime, NaiveDate, Utc};
use projections::reports::board::{BoardView, DEFAULT_THRESHOLD};
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

impl ReportKind {
    /// The report's name, as in its path.
    pub fn name(self) -> &'static str {
        match self {
            ReportKind::Promotions => "promotions",
            ReportKind::Leavers => "leavers",
            ReportKind::Retention => "retention",
            ReportKind::Turnover => "turnover",
            ReportKind::Vacancies => "vacancies",
        }
    }

    /// The parameters this report reads (besides [`EVERY_REPORT`]'s); any
    /// other is refused rather than ignored (docs/metrics.md "Naming what a
    /// report counts").
    pub fn parameters(self) -> &'static [&'static str] {
        match self {
            ReportKind::Promotions => &[
                "programme",
                "cohort",
                "as_at",
                "targets",
                "participants_offset",
                "participants_limit",
            ],
            ReportKind::Leavers => &[
                "organisation",
                "from",
                "to",
                "compare_from",
                "compare_to",
                "role",
                "team",
                "programme",
                "cohort",
                "exposure",
            ],
            ReportKind::Retention => &["programme", "cohort", "organisation", "as_at"],
            ReportKind::Turnover => &["organisation", "from", "to"],
            ReportKind::Vacancies => &["organisation", "on"],
        }
    }
}

/// The parameters every report takes: when the answer is from, and its format.
pub const EVERY_REPORT: [&str; 6] = ["known_at", "min_position", "wait_ms", "format", "view", "threshold"];

/// Every report parameter; each report reads the ones it needs.
#[derive(Debug, Clone, Default, Deserialize, clap::Args, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// Programme, e.g. `PLDP`.
    #[arg(long)]
    pub programme: Option<String>,
    /// Cohort ids or names, comma-separated; a whole value naming a cohort is
    /// that cohort, and a name in double quotes may hold commas.
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
    /// Promotions: how many of the per-participant outcomes to skip (default 0).
    #[arg(long)]
    pub participants_offset: Option<String>,
    /// Promotions: at most this many per-participant outcomes in one answer
    /// (default 1000, at most 10000); the answer says where the next page starts.
    #[arg(long)]
    pub participants_limit: Option<String>,
    /// `json` (default) or `csv`.
    #[arg(skip)]
    pub format: Option<String>,
    /// `exact` (default): every figure as counted; `board`: small numbers
    /// suppressed for a board (docs/metrics.md "Small numbers").
    #[arg(long)]
    pub view: Option<String>,
    /// With `view=board`: counts below this are suppressed (default 5; a
    /// request may raise it, never lower it).
    #[arg(long)]
    pub threshold: Option<String>,
}

/// Per-participant outcomes in one promotions answer unless asked.
const DEFAULT_PARTICIPANTS_PAGE: u64 = 1_000;
/// The most per-participant outcomes one answer holds.
const LONGEST_PARTICIPANTS_PAGE: u64 = 10_000;

fn parse_exposure(s: &str) -> Result<ExposureBasis, String> {
    serde_json::from_value(serde_json::Value::String(s.to_string())).map_err(|_| "person_days or equal".to_string())
}

impl ReportQuery {
    /// The names of the parameters given (even if empty).
    pub fn given(&self) -> Vec<&'static str> {
        let given = [
            ("programme", self.programme.is_some()),
            ("cohort", self.cohort.is_some()),
            ("organisation", self.organisation.is_some()),
            ("role", self.role.is_some()),
            ("team", self.team.is_some()),
            ("from", self.from.is_some()),
            ("to", self.to.is_some()),
            ("compare_from", self.compare_from.is_some()),
            ("compare_to", self.compare_to.is_some()),
            ("as_at", self.as_at.is_some()),
            ("on", self.on.is_some()),
            ("targets", self.targets.is_some()),
            ("exposure", self.exposure.is_some()),
            ("known_at", self.known_at.is_some()),
            ("min_position", self.min_position.is_some()),
            ("wait_ms", self.wait_ms.is_some()),
            ("participants_offset", self.participants_offset.is_some()),
            ("participants_limit", self.participants_limit.is_some()),
            ("format", self.format.is_some()),
            ("view", self.view.is_some()),
            ("threshold", self.threshold.is_some()),
        ];
        given.into_iter().filter(|(_, is)| *is).map(|(name, _)| name).collect()
    }

    /// Refuses a parameter `kind` does not read: a filter silently ignored
    /// would answer a different question than the one asked.
    pub fn check_accepted(&self, kind: ReportKind) -> Result<(), ReportRequestError> {
        let accepted = kind.parameters();
        match self
            .given()
            .into_iter()
            .find(|p| !accepted.contains(p) && !EVERY_REPORT.contains(p))
        {
            Some(parameter) => Err(ReportRequestError::UnsupportedParameter { kind, parameter }),
            None => Ok(()),
        }
    }

    /// A list parameter given with nothing in it (`role=`, `targets=,`) is
    /// 400: ignoring it would answer for every role, or the default targets,
    /// which is not what was asked.
    pub fn check_lists(&self) -> Result<(), ReportRequestError> {
        for (field, value) in [("role", &self.role), ("targets", &self.targets)] {
            if value.is_some() && self.list(value).is_none() {
                return Err(ReportRequestError::MissingParameter {
                    field,
                    message: format!(
                        "{field} is empty: give one or more codes separated by commas, or leave {field} out"
                    ),
                });
            }
        }
        Ok(())
    }

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

    /// The page of per-participant outcomes asked for: (offset, limit).
    pub fn participants_page(&self) -> Result<(u64, u64), ReportRequestError> {
        let number = |value: &Option<String>, field: &'static str, default: u64| match value.as_deref() {
            None => Ok(default),
            Some(text) => text.parse::<u64>().map_err(|_| ReportRequestError::InvalidParameter {
                field,
                message: format!("{field} must be a whole number, not {text:?}"),
            }),
        };
        let offset = number(&self.participants_offset, "participants_offset", 0)?;
        let limit = number(
            &self.participants_limit,
            "participants_limit",
            DEFAULT_PARTICIPANTS_PAGE,
        )?;
        if limit == 0 || limit > LONGEST_PARTICIPANTS_PAGE {
            return Err(ReportRequestError::InvalidParameter {
                field: "participants_limit",
                message: format!("participants_limit must be 1 to {LONGEST_PARTICIPANTS_PAGE}, not {limit}"),
            });
        }
        Ok((offset, limit))
    }

    /// The board view asked for, if any: `view=board` with its threshold.
    pub fn board(&self) -> Result<Option<BoardView>, ReportRequestError> {
        let invalid = |field: &'static str, message: String| ReportRequestError::InvalidParameter { field, message };
        let board = match self.view.as_deref() {
            None | Some("exact") => false,
            Some("board") => true,
            Some(other) => return Err(invalid("view", format!("view {other:?} is not exact or board"))),
        };
        let threshold = match self.threshold.as_deref() {
            None => DEFAULT_THRESHOLD,
            Some(_) if !board => {
                return Err(invalid("threshold", "threshold applies to view=board only".to_string()));
            }
            Some(text) => text
                .parse::<u64>()
                .map_err(|_| invalid("threshold", format!("threshold must be a whole number, not {text:?}")))?,
        };
        if !board {
            return Ok(None);
        }
        BoardView::new(threshold).map(Some).ok_or_else(|| {
            invalid(
                "threshold",
                format!("a board view suppresses counts below {DEFAULT_THRESHOLD} at least; give {DEFAULT_THRESHOLD} or more, not {threshold}"),
            )
        })
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
