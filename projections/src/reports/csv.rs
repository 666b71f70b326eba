//! Flat CSV rows (header first) for every report, in a deterministic order
//! with fixed decimals: percentages 1 dp, rate ratios and bounds 2 dp,
//! p-values 3 dp, FTE and survival 4 dp, average headcount 2 dp. Empty
//! cells mean "not defined" (zero denominator, unbounded, no test). The
//! caller quotes and writes them.

use super::leavers::{LeaverRow, LeaversReport, PeriodFigures};
use super::promotions::{CohortColumn, PromotionsReport};
use super::retention::RetentionReport;
use super::turnover::TurnoverReport;
use super::vacancies::{VacancyReport, VacancyRow};
use super::Rate;

/// A report rendered as flat rows, the header first.
pub trait ToCsvRows {
    /// Header plus rows.
    fn to_csv_rows(&self) -> Vec<Vec<String>>;
}

fn fixed(x: Option<f64>, dp: usize) -> String {
    x.map_or(String::new(), |v| format!("{v:.dp$}"))
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

impl ToCsvRows for PromotionsReport {
    /// One row per cohort and a total row; one column per outcome.
    fn to_csv_rows(&self) -> Vec<Vec<String>> {
        let mut header = strings(&["cohort_id", "cohort", "cohort_size"]);
        header.extend(self.targets.iter().map(|t| format!("promoted_to_{t}")));
        header.extend(strings(&[
            "promoted_other",
            "sideways",
            "left",
            "remained",
            "promoted_to_targets_numerator",
            "promoted_to_targets_denominator",
            "promoted_to_targets_percent",
            "internal_numerator",
            "internal_denominator",
            "internal_percent",
            "median_months_to_target",
            "withdrawn",
            "excluded",
            "not_yet_enrolled",
            "grand_total",
        ]));
        header.extend(
            self.targets
                .iter()
                .map(|t| format!("promoted_to_{t}_share_of_total_percent")),
        );
        header
            .extend(["promoted_other", "sideways", "left", "remained"].map(|o| format!("{o}_share_of_total_percent")));
        let grand = self.total.cohort_size;
        let line = |c: &CohortColumn| {
            let mut r = vec![
                c.cohort_id.map_or(String::new(), |id| id.to_string()),
                c.name.clone(),
                c.cohort_size.to_string(),
            ];
            r.extend(c.promoted_to.iter().map(u64::to_string));
            r.extend([c.promoted_other, c.sideways, c.left, c.remained].map(|n| n.to_string()));
            for rate in [&c.promoted_to_targets, &c.internal_target_promotions] {
                r.extend([
                    rate.numerator.to_string(),
                    rate.denominator.to_string(),
                    fixed(rate.percent, 1),
                ]);
            }
            r.push(fixed(c.median_months_to_target, 1));
            r.extend([c.withdrawn, c.excluded, c.not_yet_enrolled, grand].map(|n| n.to_string()));
            let counts = c
                .promoted_to
                .iter()
                .copied()
                .chain([c.promoted_other, c.sideways, c.left, c.remained]);
            r.extend(counts.map(|n| fixed(Rate::new(n, grand).percent, 1)));
            r
        };
        let mut rows = vec![header];
        rows.extend(self.cohorts.iter().map(line));
        rows.push(line(&self.total));
        rows
    }
}

fn period_cells(p: Option<&PeriodFigures>) -> Vec<String> {
    match p {
        None => vec![String::new(); 8],
        Some(p) => vec![
            p.period.from.to_string(),
            p.period.to.to_string(),
            p.leavers.to_string(),
            p.person_days.to_string(),
            p.days_in_period.to_string(),
            format!("{:.2}", p.average_headcount),
            fixed(p.leaver_rate_percent, 1),
            p.small_numbers.to_string(),
        ],
    }
}

impl ToCsvRows for LeaversReport {
    /// One row per role then the total; before-period and comparison
    /// columns are empty without a before period.
    fn to_csv_rows(&self) -> Vec<Vec<String>> {
        let mut header = strings(&["organisation", "role_code"]);
        for prefix in ["before", "after"] {
            header.extend(
                [
                    "from",
                    "to",
                    "leavers",
                    "person_days",
                    "days",
                    "average_headcount",
                    "leaver_rate_percent",
                    "small_numbers",
                ]
                .map(|c| format!("{prefix}_{c}")),
            );
        }
        header.extend(strings(&[
            "change",
            "percent_change",
            "exposure",
            "rate_ratio",
            "ci_lower",
            "ci_upper",
            "p_value",
            "small_numbers",
        ]));
        let org = self.organisation.clone().unwrap_or_else(|| "all".into());
        let line = |r: &LeaverRow| {
            let mut cells = vec![org.clone(), r.role_code.clone()];
            cells.extend(period_cells(r.before.as_ref()));
            cells.extend(period_cells(Some(&r.period)));
            match &r.comparison {
                None => cells.extend(vec![String::new(); 8]),
                Some(c) => cells.extend([
                    c.change.to_string(),
                    fixed(c.percent_change, 1),
                    serde_name(&c.exposure_basis),
                    fixed(c.rate_ratio, 2),
                    fixed(c.ci_lower, 2),
                    fixed(c.ci_upper, 2),
                    fixed(c.p_value, 3),
                    c.small_numbers.to_string(),
                ]),
            }
            cells
        };
        let mut rows = vec![header];
        rows.extend(self.rows.iter().map(line));
        rows.push(line(&self.total));
        rows
    }
}

impl ToCsvRows for RetentionReport {
    /// One row per month of the curve; the summary repeats on every row.
    fn to_csv_rows(&self) -> Vec<Vec<String>> {
        let header = strings(&[
            "cohort_id",
            "members",
            "withdrawn",
            "excluded",
            "retained",
            "denominator",
            "retention_percent",
            "median_months",
            "month",
            "date",
            "at_risk",
            "events",
            "censored",
            "survival",
            "lower",
            "upper",
        ]);
        let summary = vec![
            self.cohort_id.to_string(),
            self.members.to_string(),
            self.withdrawn.to_string(),
            self.excluded.to_string(),
            self.retention.numerator.to_string(),
            self.retention.denominator.to_string(),
            fixed(self.retention.percent, 1),
            self.median_months.map_or(String::new(), |m| m.to_string()),
        ];
        let mut rows = vec![header];
        rows.extend(self.curve.iter().map(|p| {
            let mut r = summary.clone();
            r.extend([
                p.month.to_string(),
                p.date.to_string(),
                p.at_risk.to_string(),
                p.events.to_string(),
                p.censored.to_string(),
                format!("{:.4}", p.survival),
                format!("{:.4}", p.lower),
                format!("{:.4}", p.upper),
            ]);
            r
        }));
        rows
    }
}

impl ToCsvRows for TurnoverReport {
    /// One row of figures.
    fn to_csv_rows(&self) -> Vec<Vec<String>> {
        let header = strings(&[
            "organisation",
            "from",
            "to",
            "leavers",
            "leavers_fte",
            "starters",
            "starters_fte",
            "in_post_start",
            "in_post_start_fte",
            "in_post_end",
            "in_post_end_fte",
            "turnover_percent",
            "stable",
            "stability_percent",
        ]);
        let row = vec![
            self.organisation.clone(),
            self.period.from.to_string(),
            self.period.to.to_string(),
            self.leavers.headcount.to_string(),
            format!("{:.4}", self.leavers.fte),
            self.starters.headcount.to_string(),
            format!("{:.4}", self.starters.fte),
            self.in_post_at_start.headcount.to_string(),
            format!("{:.4}", self.in_post_at_start.fte),
            self.in_post_at_end.headcount.to_string(),
            format!("{:.4}", self.in_post_at_end.fte),
            fixed(self.turnover.percent, 1),
            self.stability_index.numerator.to_string(),
            fixed(self.stability_index.percent, 1),
        ];
        vec![header, row]
    }
}

impl ToCsvRows for VacancyReport {
    /// One row per role then the total.
    fn to_csv_rows(&self) -> Vec<Vec<String>> {
        let header = strings(&[
            "organisation",
            "on",
            "role_code",
            "established",
            "filled",
            "vacant",
            "covered",
            "acting_only",
            "vacancy_percent",
            "cover_percent",
        ]);
        let line = |r: &VacancyRow| {
            vec![
                self.organisation.clone(),
                self.on.to_string(),
                r.role_code.clone(),
                r.established.to_string(),
                r.filled.to_string(),
                r.vacant.to_string(),
                r.covered.to_string(),
                r.acting_only.to_string(),
                fixed(r.vacancy_rate.percent, 1),
                fixed(r.cover_rate.percent, 1),
            ]
        };
        let mut rows = vec![header];
        rows.extend(self.rows.iter().map(line));
        rows.push(line(&self.total));
        rows
    }
}

/// A unit enum variant as its serde form says it (`person_days`), so that CSV
/// and JSON name it alike.
fn serde_name(value: &impl serde::Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        _ => String::new(),
    }
}
