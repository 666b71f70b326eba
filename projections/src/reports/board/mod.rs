//! The board view of a report (`view=board`): the same figures with small
//! numbers suppressed, for workforce boards and published papers.
//!
//! Each report says which of its figures are counts of people or posts,
//! where each count appears in the JSON answer and the CSV rows (a count
//! can appear in several places: a cohort's size is also the denominator of
//! its rates), which sums hold between them, and which figures are built
//! on each count ([`Table`]). [`suppress`] decides what to withhold; this
//! module writes it into the exact answer: a count below the threshold
//! becomes `"<5"`, a count withheld to protect another becomes `"*"`, and
//! a figure built on a withheld count (a rate, a ratio, an interval, FTE,
//! a median, a sentence quoting them) becomes `null` in JSON and `withheld`
//! in CSV, listed with its reason under `withheld`. Per-person rows are
//! dropped. docs/metrics.md "Small numbers" gives the rules.

#[cfg(test)]
mod attack;
mod suppress;
mod tables;
mod tables_more;
#[cfg(test)]
mod tests;

pub use suppress::{suppress, Mark, Sum};

use serde_json::{json, Value};

use super::leavers::LeaversReport;
use super::promotions::PromotionsReport;
use super::retention::RetentionReport;
use super::turnover::TurnoverReport;
use super::vacancies::VacancyReport;

/// The default threshold: counts from 1 to 4 are suppressed.
pub const DEFAULT_THRESHOLD: u64 = 5;

/// What a withheld figure reads in CSV.
const WITHHELD: &str = "withheld";

/// A place a figure appears: a JSON pointer into the answer, and CSV cells
/// (row index counting the header as 0, column name).
#[derive(Debug, Clone, Default)]
pub(crate) struct Place {
    pub json: Vec<String>,
    pub csv: Vec<(usize, String)>,
}

impl Place {
    pub(crate) fn new(json: impl Into<String>, csv_row: usize, csv_column: &str) -> Self {
        Place {
            json: vec![json.into()],
            csv: vec![(csv_row, csv_column.to_string())],
        }
    }

    pub(crate) fn json(json: impl Into<String>) -> Self {
        Place {
            json: vec![json.into()],
            csv: Vec::new(),
        }
    }

    pub(crate) fn also(mut self, other: Place) -> Self {
        self.json.extend(other.json);
        self.csv.extend(other.csv);
        self
    }
}

/// One count of a report.
#[derive(Debug, Clone)]
pub(crate) struct Count {
    pub value: u64,
    /// Where it is shown; empty for a count the reader can work out but
    /// that is not printed (a cohort's members who left, say), which takes
    /// part in the sums so that it is protected like any other.
    pub shown_at: Place,
    /// Figures built on it, withheld with it.
    pub built_on_it: Vec<Place>,
}

/// A report's counts and the sums between them.
#[derive(Debug, Default)]
pub(crate) struct Table {
    pub counts: Vec<Count>,
    pub sums: Vec<Sum>,
    /// Figures never shown on a board, whatever the counts, with why.
    pub withheld: Vec<(Place, String)>,
}

impl Table {
    /// Adds a count; returns its index for [`Table::sum`].
    pub(crate) fn count(&mut self, value: u64, shown_at: Place, built_on_it: Vec<Place>) -> usize {
        self.counts.push(Count {
            value,
            shown_at,
            built_on_it,
        });
        self.counts.len() - 1
    }

    pub(crate) fn sum(&mut self, total: usize, parts: Vec<usize>) {
        self.sums.push(Sum { total, parts });
    }
}

/// A report's rows then its total row, each with its JSON pointer
/// (`/rows/{i}`, `/total`) and CSV row (the header is row 0).
pub(crate) fn rows_then_total<'a, T>(rows: &'a [T], total: &'a T) -> Vec<(String, usize, &'a T)> {
    rows.iter()
        .enumerate()
        .map(|(i, row)| (format!("/rows/{i}"), i + 1, row))
        .chain(std::iter::once(("/total".to_string(), rows.len() + 1, total)))
        .collect()
}

/// The board view: which threshold to apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BoardView {
    pub threshold: u64,
}

impl Default for BoardView {
    fn default() -> Self {
        BoardView {
            threshold: DEFAULT_THRESHOLD,
        }
    }
}

impl BoardView {
    /// A board view at `threshold`, if it is at least the default: no
    /// request may see more than the default shows.
    pub fn new(threshold: u64) -> Option<Self> {
        (threshold >= DEFAULT_THRESHOLD).then_some(BoardView { threshold })
    }

    pub fn leavers(&self, r: &LeaversReport, json: &mut Value, csv: &mut [Vec<String>]) {
        self.apply(tables::leavers(r), json, csv);
    }

    pub fn promotions(&self, r: &PromotionsReport, json: &mut Value, csv: &mut [Vec<String>]) {
        // Who had which outcome is personal data, not a board figure.
        if let Some(o) = json.as_object_mut() {
            o.retain(|k, _| !k.starts_with("participants"));
        }
        self.apply(tables::promotions(r), json, csv);
    }

    pub fn retention(&self, r: &RetentionReport, json: &mut Value, csv: &mut [Vec<String>]) {
        self.apply(tables_more::retention(r, self.threshold), json, csv);
    }

    pub fn turnover(&self, r: &TurnoverReport, json: &mut Value, csv: &mut [Vec<String>]) {
        // The warnings name participants; a board gets how many there are.
        if !r.data_warnings.is_empty() {
            json["data_warnings"] = json!([format!(
                "{} data warnings name participants; the exact view lists them",
                r.data_warnings.len()
            )]);
        }
        self.apply(tables_more::turnover(r), json, csv);
    }

    pub fn vacancies(&self, r: &VacancyReport, json: &mut Value, csv: &mut [Vec<String>]) {
        self.apply(tables_more::vacancies(r), json, csv);
    }

    /// Writes the suppression of `table` into the answer.
    fn apply(&self, table: Table, json: &mut Value, csv: &mut [Vec<String>]) {
        let values: Vec<u64> = table.counts.iter().map(|c| c.value).collect();
        let printed: Vec<bool> = table.counts.iter().map(|c| !c.shown_at.json.is_empty()).collect();
        let marks = suppress(&values, &table.sums, self.threshold, &printed);
        let below = format!("<{}", self.threshold);
        let mut withheld = Vec::new();
        for (count, mark) in table.counts.iter().zip(&marks) {
            let (text, reason) = match mark {
                Mark::Shown => continue,
                Mark::BelowThreshold => (below.as_str(), format!("built on a count below {}", self.threshold)),
                Mark::Protecting => ("*", "built on a count withheld to protect a small one".to_string()),
            };
            write(&count.shown_at, json, csv, Value::String(text.into()), text);
            for place in &count.built_on_it {
                write(place, json, csv, Value::Null, WITHHELD);
                withheld.extend(place.json.iter().map(|at| json!({"figure": at, "reason": reason})));
            }
        }
        for (place, reason) in &table.withheld {
            write(place, json, csv, Value::Null, WITHHELD);
            withheld.extend(place.json.iter().map(|at| json!({"figure": at, "reason": reason})));
        }
        withheld.sort_by(|a, b| a["figure"].as_str().cmp(&b["figure"].as_str()));
        withheld.dedup_by(|a, b| a["figure"] == b["figure"]);
        if let Some(o) = json.as_object_mut() {
            o.insert("view".into(), "board".into());
            o.insert(
                "suppression".into(),
                json!({
                    "threshold": self.threshold,
                    "below_threshold": below,
                    "protecting": "*",
                    "rule": format!(
                        "counts from 1 to {} are shown as {below}; a count shown as * is withheld so that no \
                         suppressed count can be worked out from totals or other cells; 0 is shown; figures \
                         built on a withheld count are withheld (null; `withheld` in CSV)",
                        self.threshold - 1
                    ),
                }),
            );
            o.insert("withheld".into(), Value::Array(withheld));
        }
    }
}

fn write(place: &Place, json: &mut Value, csv: &mut [Vec<String>], value: Value, text: &str) {
    for pointer in &place.json {
        if let Some(slot) = json.pointer_mut(pointer) {
            *slot = value.clone();
        }
    }
    let Some((header, rows)) = csv.split_first_mut() else {
        return;
    };
    for (row, column) in &place.csv {
        let Some(c) = header.iter().position(|h| h == column) else {
            continue;
        };
        if let Some(cell) = rows.get_mut(row.wrapping_sub(1)).and_then(|r| r.get_mut(c)) {
            *cell = text.to_string();
        }
    }
}
