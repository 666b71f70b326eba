//! Reading an annual census return: the children's social work workforce
//! census (CSWW) that English authorities send the Department for
//! Education, one row per worker per collection year (the year to 30
//! September), as CSV with the return's own item names as the header
//! (README.md, "Importing census returns", lists every column).
//!
//! A row says what the worker looked like in that year, not what
//! happened; what happened is derived once the worker's history is loaded
//! (`census_derive.rs`, rules in docs/design.md "Importing census
//! returns"). Here each row is checked on its own: every code is one the
//! return defines, dates are dates and lie where the return says they
//! must, and the role maps to the ladder. The worker's characteristics
//! (date of birth, gender, ethnicity, disability) are checked and then
//! dropped: tenure has no place for them and no way yet to erase personal
//! data (issue #12), so they are never held past their row.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;

pub use super::census_codes::{ReturnRole, DESTINATIONS, REASONS, ROLES};
use super::census_codes::{ETHNICITIES, GENDERS, YES_NO};
use super::columns::{self, Columns};
use super::facts::{Interner, RowError, Text};
use crate::http::extract::MAX_TEXT_CHARS;

/// The columns read from a return, the three characteristics included.
pub const COLUMNS: [&str; 13] = [
    "CollectionYear",
    "Organisation",
    "SWENo",
    "AgencyWorker",
    "OrgRole",
    "FTE",
    "RoleStartDate",
    "RoleEndDate",
    "ReasonLeave",
    "LeaverDestination",
    "PersonBirthDate",
    "GenderCurrent",
    "Ethnicity",
];

/// Further columns accepted: `Disability` (checked, never kept), and the
/// return's other worker items, which tenure does not use and skips, so an
/// authority's export can be imported as it is.
pub const SKIPPED_COLUMNS: [&str; 13] = [
    "Disability",
    "QualInst",
    "QualLevel",
    "StepUpGrad",
    "StartOrigin",
    "FTE30",
    "Cases30",
    "WorkingDaysLost",
    "ContractWeeks",
    "FrontlineGrad",
    "Absat30Sept",
    "ReasonAbsence",
    "CFKSSstatus",
];

/// The columns every return must have.
const REQUIRED: [&str; 6] = [
    "CollectionYear",
    "Organisation",
    "SWENo",
    "AgencyWorker",
    "OrgRole",
    "FTE",
];

/// Whether a header is a census return's: it names the worker by `SWENo`.
pub fn is_census_header(names: &csv::StringRecord) -> bool {
    names.iter().any(|n| n.trim().trim_start_matches('\u{feff}') == "SWENo")
}

/// The earliest and latest collection years taken (every date tenure
/// keeps lies in 1900–2199).
const YEARS: std::ops::RangeInclusive<i32> = 1901..=2199;

/// One row of a return, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct ReturnRow {
    /// The row's line in the file (the header is line 1).
    pub line: u64,
    /// `SWENo`: the worker's reference, compared exactly with the
    /// references of people recorded before.
    pub person: Text,
    /// `CollectionYear`: the year to 30 September of this year.
    pub year: i32,
    pub organisation: Text,
    pub agency: bool,
    pub role: ReturnRole,
    pub fte: f64,
    pub started_on: Option<NaiveDate>,
    pub left_on: Option<NaiveDate>,
    pub reason: Option<&'static str>,
    pub destination: Option<&'static str>,
}

impl ReturnRow {
    /// The collection date: 30 September of the collection year.
    pub fn collection_date(&self) -> NaiveDate {
        collection_date(self.year)
    }

    /// The first day of the collection year: the day after the previous
    /// collection date.
    pub fn year_start(&self) -> NaiveDate {
        year_start(self.year)
    }
}

/// 30 September of `year`.
pub fn collection_date(year: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, 9, 30).unwrap_or(NaiveDate::MAX)
}

/// 1 October of the year before `year`.
pub fn year_start(year: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year - 1, 10, 1).unwrap_or(NaiveDate::MIN)
}

/// What a return says of one worker.
#[derive(Debug, Clone, PartialEq)]
pub enum Observation {
    /// A row of the return.
    Row(ReturnRow),
    /// The worker is not in `organisation`'s return for `year`, although
    /// an earlier return had them there and nothing says they left.
    Absent { organisation: Text, year: i32 },
}

impl Observation {
    /// The row's line; 0 for an absence (no row says it).
    pub fn line(&self) -> u64 {
        match self {
            Observation::Row(row) => row.line,
            Observation::Absent { .. } => 0,
        }
    }
}

/// The returns a file holds: which organisations, which year, and every
/// worker it names (refused rows included), for finding who is absent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Returns {
    /// The collection year (a file holds one).
    pub year: Option<i32>,
    pub organisations: BTreeSet<Text>,
    pub named: BTreeSet<String>,
}

/// The columns of a return's header, by position.
#[derive(Debug, Clone)]
pub struct Header {
    columns: Columns,
}

impl Header {
    /// Reads a header row: every name a known column, none twice, and the
    /// required ones present.
    pub fn read(names: &csv::StringRecord) -> Result<Header, Vec<RowError>> {
        let known: Vec<&'static str> = COLUMNS.iter().chain(SKIPPED_COLUMNS.iter()).copied().collect();
        let listed = format!(
            "{} (and the return's {})",
            COLUMNS.join(", "),
            SKIPPED_COLUMNS.join(", ")
        );
        let columns = Columns::read(names, &known, &REQUIRED, "a census return", &listed)?;
        Ok(Header { columns })
    }

    /// The row at `line`, or every problem it has.
    pub fn row(&self, line: u64, row: &csv::StringRecord, texts: &mut Interner) -> Result<ReturnRow, Vec<RowError>> {
        let value = |column: &str| self.columns.value(row, column);
        let mut errors = Vec::new();
        for column in self.columns.names() {
            if let Some(text) = value(column) {
                if text.chars().count() > MAX_TEXT_CHARS {
                    errors.push(at(
                        line,
                        column,
                        "text_too_long",
                        format!("{column}: at most {MAX_TEXT_CHARS} characters"),
                    ));
                }
            }
        }
        let mut required = |column: &str| {
            let found = value(column);
            if found.is_none() {
                errors.push(missing(line, column));
            }
            found
        };
        let person = required("SWENo");
        let organisation = required("Organisation");
        let year_text = required("CollectionYear");
        let agency_text = required("AgencyWorker");
        let role_text = required("OrgRole");
        let fte_text = required("FTE");

        let year = year_text.and_then(|text| match text.parse::<i32>() {
            Ok(year) if YEARS.contains(&year) => Some(year),
            _ => {
                errors.push(at(
                    line,
                    "CollectionYear",
                    "invalid_field",
                    format!("{text:?} is not a collection year such as 2018 (the year to 30 September 2018)"),
                ));
                None
            }
        });
        let agency =
            agency_text.and_then(|text| coded(line, "AgencyWorker", text, &YES_NO, &mut errors).map(|c| c == "1"));
        let role = role_text.and_then(|text| {
            let role = ROLES.iter().find(|r| r.code == text).copied();
            if role.is_none() {
                let known: Vec<String> = ROLES.iter().map(|r| format!("{} {}", r.code, r.name)).collect();
                errors.push(at(
                    line,
                    "OrgRole",
                    "unknown_role",
                    format!("{text:?} is not a role of the return; roles are {}", known.join(", ")),
                ));
            }
            role
        });
        let fte = fte_text.and_then(|text| match text.parse::<f64>() {
            Ok(fte) if fte > 0.0 && fte <= 1.0 => Some(fte),
            _ => {
                errors.push(at(
                    line,
                    "FTE",
                    "invalid_field",
                    format!("{text:?} is not a full-time equivalent above 0 and at most 1, such as 0.6"),
                ));
                None
            }
        });
        let started_on = value("RoleStartDate").and_then(|t| date(line, "RoleStartDate", t, &mut errors));
        let left_on = value("RoleEndDate").and_then(|t| date(line, "RoleEndDate", t, &mut errors));
        let reason = value("ReasonLeave").and_then(|t| described(line, "ReasonLeave", t, &REASONS, &mut errors));
        let destination = value("LeaverDestination")
            .and_then(|t| described(line, "LeaverDestination", t, &DESTINATIONS, &mut errors));
        // Characteristics: checked as the return defines them, then dropped.
        let born_on = value("PersonBirthDate").and_then(|t| date(line, "PersonBirthDate", t, &mut errors));
        if let Some(text) = value("GenderCurrent") {
            coded(line, "GenderCurrent", text, &GENDERS, &mut errors);
        }
        if let Some(text) = value("Ethnicity") {
            coded(line, "Ethnicity", text, &ETHNICITIES, &mut errors);
        }
        if let Some(text) = value("Disability") {
            coded(line, "Disability", text, &YES_NO, &mut errors);
        }

        if let Some(year) = year {
            let (first, last) = (year_start(year), collection_date(year));
            let in_year = format!("the collection year {year} runs from {first} to {last}");
            if let Some(left_on) = left_on.filter(|d| *d < first || *d > last) {
                errors.push(at(
                    line,
                    "RoleEndDate",
                    "invalid_field",
                    format!("{left_on} is outside the collection year: {in_year}"),
                ));
            }
            if let Some(started_on) = started_on.filter(|d| *d > last) {
                errors.push(at(
                    line,
                    "RoleStartDate",
                    "invalid_field",
                    format!("{started_on} is after the collection date: {in_year}"),
                ));
            }
            if let Some(born_on) = born_on.filter(|d| *d >= last) {
                errors.push(at(
                    line,
                    "PersonBirthDate",
                    "invalid_field",
                    format!("{born_on} is not before the collection date {last}"),
                ));
            }
        }
        if let (Some(started_on), Some(left_on)) = (started_on, left_on) {
            if left_on < started_on {
                errors.push(at(
                    line,
                    "RoleEndDate",
                    "invalid_field",
                    format!("the leaving date {left_on} is before the start date {started_on}"),
                ));
            }
        }
        match (left_on.is_some(), value("ReasonLeave").is_some()) {
            (true, false) => errors.push(at(
                line,
                "ReasonLeave",
                "missing_field",
                "a worker with a RoleEndDate needs a ReasonLeave",
            )),
            (false, true) => errors.push(at(
                line,
                "ReasonLeave",
                "unsupported_field",
                "a ReasonLeave needs a RoleEndDate; leave it empty for a worker in post",
            )),
            _ => {}
        }
        if left_on.is_none() && value("LeaverDestination").is_some() {
            errors.push(at(
                line,
                "LeaverDestination",
                "unsupported_field",
                "a LeaverDestination needs a RoleEndDate; leave it empty for a worker in post",
            ));
        }
        let person_ref = person.map(str::to_string);
        let (Some(person), Some(organisation), Some(year), Some(agency), Some(role), Some(fte), true) =
            (person, organisation, year, agency, role, fte, errors.is_empty())
        else {
            for e in &mut errors {
                e.person.clone_from(&person_ref);
            }
            return Err(errors);
        };
        Ok(ReturnRow {
            line,
            person: texts.intern(person),
            year,
            organisation: texts.intern(organisation),
            agency,
            role,
            fte,
            started_on,
            left_on,
            reason,
            destination,
        })
    }
}

/// Every row of a return: observations by worker in line order, the
/// refused rows, how many rows there were, and the returns the file holds.
pub(super) type Read = (BTreeMap<Text, Vec<Observation>>, Vec<RowError>, usize, Returns);

/// Reads the rows of a return whose header is `names`.
pub(super) fn read_rows<R: std::io::Read>(reader: &mut csv::Reader<R>, names: &csv::StringRecord) -> Read {
    let mut by_person: BTreeMap<Text, Vec<Observation>> = BTreeMap::new();
    let mut returns = Returns::default();
    let header = match Header::read(names) {
        Ok(header) => header,
        Err(errors) => return (by_person, errors, 0, returns),
    };
    let mut texts = Interner::default();
    let mut errors = Vec::new();
    let mut rows = 0;
    for record in reader.records() {
        rows += 1;
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                let line = e.position().map_or(rows as u64 + 1, csv::Position::line);
                errors.push(super::rows::unreadable(line, &e));
                continue;
            }
        };
        let line = record.position().map_or(rows as u64 + 1, csv::Position::line);
        if record.len() != names.len() {
            errors.push(RowError {
                line,
                column: None,
                person: None,
                error: "wrong_number_of_fields".to_string(),
                message: format!("the row has {} fields and the header {}", record.len(), names.len()),
            });
            continue;
        }
        match header.row(line, &record, &mut texts) {
            Ok(row) => {
                returns.named.insert(row.person.to_string());
                if *returns.year.get_or_insert(row.year) != row.year {
                    errors.push(RowError {
                        person: Some(row.person.to_string()),
                        ..at(
                            line,
                            "CollectionYear",
                            "invalid_field",
                            format!(
                                "a file holds the returns of one collection year; its first row says {}",
                                returns.year.unwrap_or_default()
                            ),
                        )
                    });
                    continue;
                }
                returns.organisations.insert(row.organisation.clone());
                by_person
                    .entry(row.person.clone())
                    .or_default()
                    .push(Observation::Row(row));
            }
            Err(row_errors) => {
                returns.named.extend(row_errors.iter().filter_map(|e| e.person.clone()));
                errors.extend(row_errors);
            }
        }
    }
    (by_person, errors, rows, returns)
}

/// `text` if it is one of `codes` (the return's code list for `column`).
fn coded<'c>(line: u64, column: &str, text: &str, codes: &[&'c str], errors: &mut Vec<RowError>) -> Option<&'c str> {
    let found = codes.iter().find(|c| **c == text).copied();
    if found.is_none() {
        errors.push(at(
            line,
            column,
            "invalid_field",
            format!("{text:?} is not a code of {column}; codes are {}", codes.join(", ")),
        ));
    }
    found
}

/// What the code `text` of `column` stands for.
fn described(
    line: u64,
    column: &str,
    text: &str,
    codes: &[(&'static str, &'static str)],
    errors: &mut Vec<RowError>,
) -> Option<&'static str> {
    let found = codes.iter().find(|(c, _)| *c == text).map(|(_, d)| *d);
    if found.is_none() {
        let known: Vec<String> = codes.iter().map(|(c, d)| format!("{c} {d}")).collect();
        errors.push(at(
            line,
            column,
            "invalid_field",
            format!("{text:?} is not a code of {column}; codes are {}", known.join(", ")),
        ));
    }
    found
}

/// A date written exactly `YYYY-MM-DD`, as the return's XML and tenure write them.
/// The date in `column`, from 1900 to 2199; a refusal is added to `errors`.
fn date(line: u64, column: &str, text: &str, errors: &mut Vec<RowError>) -> Option<NaiveDate> {
    let parsed =
        columns::date(line, column, text).and_then(|d| match (1900..=2199).contains(&chrono::Datelike::year(&d)) {
            true => Ok(d),
            false => Err(at(
                line,
                column,
                "invalid_field",
                format!("{text:?} is not a date written YYYY-MM-DD, such as 2018-09-30"),
            )),
        });
    parsed.map_err(|e| errors.push(e)).ok()
}

fn at(line: u64, column: &str, error: &str, message: impl Into<String>) -> RowError {
    RowError::at(line, column, error, message)
}

fn missing(line: u64, column: &str) -> RowError {
    columns::missing(line, column, "every row")
}

#[cfg(test)]
#[path = "census_tests.rs"]
mod tests;
