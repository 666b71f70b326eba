//! The board's page: the board view (`view=board`) of every report a
//! workforce board reads, on one printable HTML page (`GET /board`, `tenure
//! board --html/--pdf`).
//!
//! [`gather`] asks each report the page's parameters select, through the same
//! code as `GET /api/v1/reports/…?view=board`, so the page can never show a
//! figure the board view would suppress; [`page::render`] writes the HTML.
//! A section whose parameters are missing says which to give instead of
//! failing the page: a board paper on leavers alone is a fair request.

mod charts;
mod page;

pub use page::render;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::PgPool;

use crate::audit::verify::Head;
use crate::reports::{self, ReportAnswer, ReportKind, ReportQuery, ReportRequestError, ReportSource};

/// What the page is about: the organisation, the programme and cohort, the
/// periods and dates, as the reports name them (docs/metrics.md).
#[derive(Debug, Clone, Default, Deserialize, Serialize, clap::Args, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Leavers, turnover and vacancies: the organisation.
    #[arg(long)]
    pub organisation: Option<String>,
    /// Leavers: roles to show (comma-separated; default every role).
    #[arg(long)]
    pub role: Option<String>,
    /// Leavers: the period after (first and last day).
    #[arg(long)]
    pub from: Option<NaiveDate>,
    #[arg(long)]
    pub to: Option<NaiveDate>,
    /// Leavers: the period before, to compare with.
    #[arg(long)]
    pub compare_from: Option<NaiveDate>,
    #[arg(long)]
    pub compare_to: Option<NaiveDate>,
    /// Promotions and retention: the programme.
    #[arg(long)]
    pub programme: Option<String>,
    /// Retention: the cohort (id or name).
    #[arg(long)]
    pub cohort: Option<String>,
    /// Promotions and retention: the status date.
    #[arg(long)]
    pub as_at: Option<NaiveDate>,
    /// Turnover: the census year's first and last day (e.g. 2017-10-01 and 2018-09-30).
    #[arg(long)]
    pub census_from: Option<NaiveDate>,
    #[arg(long)]
    pub census_to: Option<NaiveDate>,
    /// Vacancies: the day posts are counted on.
    #[arg(long)]
    pub on: Option<NaiveDate>,
    /// The page as known at this moment (RFC 3339).
    #[arg(long)]
    pub known_at: Option<String>,
    /// Wait until the figures reflect this global position (a command's answer).
    #[arg(long)]
    pub min_position: Option<String>,
    /// How long to wait for `min_position`, in milliseconds.
    #[arg(long)]
    pub wait_ms: Option<String>,
    /// Counts below this are suppressed (default 5; only raised).
    #[arg(long)]
    pub threshold: Option<String>,
}

/// One section of the page.
#[derive(Debug, Clone, Serialize)]
pub struct Section {
    /// Its anchor and path: `leavers`, `promotions`, …
    pub id: &'static str,
    pub title: &'static str,
    /// The report's board view, when the page's parameters ask for it.
    pub report: Option<Value>,
    /// What to give to see this section, when they do not.
    pub missing: Option<String>,
}

/// Everything the page shows.
#[derive(Debug, Clone, Serialize)]
pub struct Page {
    pub query: PageQuery,
    pub sections: Vec<Section>,
    /// The last event any section reflects, and when it was recorded.
    pub last_global_position: i64,
    pub last_recorded_at: Option<DateTime<Utc>>,
    /// The sealed chain's head when the page was made, so a printed copy can
    /// be checked against the log later.
    pub head: Option<Head>,
    pub threshold: u64,
}

/// Every section in page order, with the report it shows and the
/// parameters it cannot do without.
const SECTIONS: [(&str, &str, ReportKind, &[&str]); 5] = [
    (
        "leavers",
        "Leavers before and after",
        ReportKind::Leavers,
        &["organisation", "from", "to"],
    ),
    (
        "promotions",
        "Promotion outcomes by cohort",
        ReportKind::Promotions,
        &["programme", "as_at"],
    ),
    (
        "retention",
        "Cohort retention",
        ReportKind::Retention,
        &["cohort", "as_at"],
    ),
    (
        "turnover",
        "Turnover and stability",
        ReportKind::Turnover,
        &["organisation", "census_from", "census_to"],
    ),
    (
        "vacancies",
        "Vacancy and cover",
        ReportKind::Vacancies,
        &["organisation", "on"],
    ),
];

/// The section ids, for `/board/{section}`.
pub fn section_ids() -> impl Iterator<Item = &'static str> {
    SECTIONS.iter().map(|(id, ..)| *id)
}

/// Asks every section's report (only `only`, when given).
pub async fn gather(source: &ReportSource, query: &PageQuery, only: Option<&str>) -> Result<Page, ReportRequestError> {
    let mut sections = Vec::new();
    let (mut position, mut recorded) = (0, None);
    let mut threshold = projections::reports::board::DEFAULT_THRESHOLD;
    let given = given(query);
    for (id, title, kind, needs) in SECTIONS {
        if only.is_some_and(|o| o != id) {
            continue;
        }
        let lacking: Vec<&str> = needs.iter().copied().filter(|n| !given.contains(n)).collect();
        if !lacking.is_empty() {
            let missing = format!("give {} to see this section", lacking.join(", "));
            sections.push(Section {
                id,
                title,
                report: None,
                missing: Some(missing),
            });
            continue;
        }
        let report_query = report_query(kind, query);
        if let Some(board) = report_query.board()? {
            threshold = board.threshold;
        }
        let answer = reports::produce_from(source, kind, &report_query).await;
        // Turnover's period is the page's census year.
        let answer = match kind {
            ReportKind::Turnover => answer.map_err(|e| e.renamed("from", "census_from").renamed("to", "census_to")),
            _ => answer,
        };
        let ReportAnswer { report, provenance, .. } = answer?;
        if provenance.last_global_position >= position {
            position = provenance.last_global_position;
            recorded = provenance.last_recorded_at;
        }
        sections.push(Section {
            id,
            title,
            report: Some(report),
            missing: None,
        });
    }
    Ok(Page {
        query: query.clone(),
        sections,
        last_global_position: position,
        last_recorded_at: recorded,
        head: None,
        threshold,
    })
}

/// `text` safe inside HTML or SVG text and attribute values.
pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The sealed chain's head, for the page's header.
pub async fn with_head(mut page: Page, primary: &PgPool) -> Page {
    page.head = crate::audit::verify::head(primary).await.ok();
    page
}

fn given(q: &PageQuery) -> Vec<&'static str> {
    [
        ("organisation", q.organisation.is_some()),
        ("from", q.from.is_some()),
        ("to", q.to.is_some()),
        ("programme", q.programme.is_some()),
        ("cohort", q.cohort.is_some()),
        ("as_at", q.as_at.is_some()),
        ("census_from", q.census_from.is_some()),
        ("census_to", q.census_to.is_some()),
        ("on", q.on.is_some()),
    ]
    .into_iter()
    .filter(|(_, is)| *is)
    .map(|(name, _)| name)
    .collect()
}

/// The board-view query of one section's report.
fn report_query(kind: ReportKind, q: &PageQuery) -> ReportQuery {
    let mut r = ReportQuery {
        known_at: q.known_at.clone(),
        min_position: q.min_position.clone(),
        wait_ms: q.wait_ms.clone(),
        view: Some("board".into()),
        threshold: q.threshold.clone(),
        ..ReportQuery::default()
    };
    match kind {
        ReportKind::Leavers => {
            r.organisation = q.organisation.clone();
            r.role = q.role.clone();
            (r.from, r.to) = (q.from, q.to);
            (r.compare_from, r.compare_to) = (q.compare_from, q.compare_to);
        }
        ReportKind::Promotions => {
            r.programme = q.programme.clone();
            r.as_at = q.as_at;
        }
        ReportKind::Retention => {
            r.programme = q.programme.clone();
            r.cohort = q.cohort.clone();
            r.as_at = q.as_at;
        }
        ReportKind::Turnover => {
            r.organisation = q.organisation.clone();
            (r.from, r.to) = (q.census_from, q.census_to);
        }
        ReportKind::Vacancies => {
            r.organisation = q.organisation.clone();
            r.on = q.on;
        }
    }
    r
}
