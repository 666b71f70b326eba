//! The facts file: one row per fact about a person, named by the
//! authority's own reference, never by tenure's ids (README.md, "Importing
//! an HR extract", lists every column with an example).
//!
//! Rows are checked here for what a row alone can break (a missing or
//! malformed value, an unknown fact); the rules that need the person's
//! history (a leaving before the joining, a role change for someone not
//! employed) are the aggregates', applied when the person's facts are
//! decided. Either way a refused row names its line, its column and the
//! rule, with the same codes as the HTTP API.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use aggregates::ladder::{Basis, MoveKind};
use chrono::NaiveDate;
use sha2::{Digest, Sha256};

use crate::http::extract::{MAX_REASON_CHARS, MAX_TEXT_CHARS};

/// Every column a facts file may have; `fact`, `person` and `effective_on`
/// are required in the header and in every row.
pub const COLUMNS: [&str; 11] = [
    "fact",
    "person",
    "effective_on",
    "organisation",
    "team",
    "role",
    "basis",
    "fte",
    "kind",
    "reason",
    "destination",
];

/// What a row records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FactKind {
    /// Joined an organisation (the person's first fact).
    Joined,
    /// Changed role, team, basis or FTE (a promotion, a demotion, a
    /// sideways move, or a move to another organisation without a break).
    ChangedRole,
    /// Left their organisation.
    Left,
    /// Joined again after leaving (a rehire).
    Rejoined,
    /// Excluded from analysis from this day (e.g. long-term secondment).
    Excluded,
    /// The exclusion ends on this day.
    ExclusionLifted,
}

impl FactKind {
    /// Its name in the `fact` column.
    pub fn name(self) -> &'static str {
        match self {
            FactKind::Joined => "joined",
            FactKind::ChangedRole => "changed_role",
            FactKind::Left => "left",
            FactKind::Rejoined => "rejoined",
            FactKind::Excluded => "excluded",
            FactKind::ExclusionLifted => "exclusion_lifted",
        }
    }

    const ALL: [FactKind; 6] = [
        FactKind::Joined,
        FactKind::ChangedRole,
        FactKind::Left,
        FactKind::Rejoined,
        FactKind::Excluded,
        FactKind::ExclusionLifted,
    ];

    /// The columns a row of this fact must fill.
    fn required(self) -> &'static [&'static str] {
        match self {
            FactKind::Joined | FactKind::Rejoined => &["organisation", "role"],
            FactKind::ChangedRole => &["role"],
            FactKind::Left | FactKind::Excluded | FactKind::ExclusionLifted => &["reason"],
        }
    }

    /// The columns a row of this fact may fill besides the required ones.
    fn optional(self) -> &'static [&'static str] {
        match self {
            FactKind::Joined => &["team", "basis", "fte"],
            FactKind::ChangedRole => &["organisation", "team", "basis", "fte", "kind"],
            FactKind::Rejoined => &["team", "basis", "fte", "kind"],
            FactKind::Left => &["destination"],
            FactKind::Excluded | FactKind::ExclusionLifted => &[],
        }
    }
}

/// Text held once however many rows repeat it (organisations, roles,
/// teams and reasons repeat on most rows of a large file).
pub type Text = Arc<str>;

/// The texts read so far, each held once.
#[derive(Debug, Default)]
pub struct Interner(HashSet<Text>);

impl Interner {
    /// `value`, shared with every earlier row that had it.
    pub fn intern(&mut self, value: &str) -> Text {
        if let Some(held) = self.0.get(value) {
            return held.clone();
        }
        let held: Text = Arc::from(value);
        self.0.insert(held.clone());
        held
    }
}

/// One fact read from a row.
#[derive(Debug, Clone, PartialEq)]
pub struct Fact {
    /// The row's line in the file (the header is line 1).
    pub line: u64,
    pub kind: FactKind,
    /// The authority's reference for the person.
    pub person: Text,
    pub effective_on: NaiveDate,
    pub organisation: Option<Text>,
    pub team: Option<Text>,
    pub role: Option<Text>,
    pub basis: Option<Basis>,
    pub fte: Option<f64>,
    pub move_kind: Option<MoveKind>,
    pub reason: Option<Text>,
    pub destination: Option<Text>,
    /// A digest (SHA-256) of the fact itself (kind, person, date and every
    /// value, not the line): the same fact in a later extract has the same
    /// one, which is how an import knows it is already recorded.
    pub fingerprint: [u8; 32],
    /// How the fact was derived from a census return (`None`: a row of a
    /// facts file says it); recorded in its events' metadata.
    pub derivation: Option<super::census_derive::Derivation>,
}

/// A row, or the file's header, that cannot be recorded, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct RowError {
    /// The line in the file (1: the header).
    pub line: u64,
    /// The column at fault, when one is.
    pub column: Option<String>,
    /// The person the row is about, when it names one.
    pub person: Option<String>,
    /// The rule broken: the same codes as the HTTP API's errors.
    pub error: String,
    pub message: String,
}

impl RowError {
    fn at(line: u64, column: &str, error: &str, message: impl Into<String>) -> Self {
        Self {
            line,
            column: Some(column.to_string()),
            person: None,
            error: error.to_string(),
            message: message.into(),
        }
    }
}

/// The columns of a file's header, by position.
#[derive(Debug, Clone)]
pub struct Header {
    positions: BTreeMap<&'static str, usize>,
}

impl Header {
    /// Reads a header row: every name must be a known column, none twice,
    /// and the three required ones present.
    pub fn read(names: &csv::StringRecord) -> Result<Header, Vec<RowError>> {
        let mut positions = BTreeMap::new();
        let mut errors = Vec::new();
        for (i, name) in names.iter().enumerate() {
            let name = name.trim();
            match COLUMNS.iter().find(|c| **c == name) {
                Some(known) if positions.insert(*known, i).is_some() => {
                    errors.push(RowError::at(
                        1,
                        name,
                        "duplicate_column",
                        format!("the column {name} appears twice"),
                    ));
                }
                Some(_) => {}
                None => errors.push(RowError::at(
                    1,
                    name,
                    "unknown_column",
                    format!(
                        "{name:?} is not a column of a facts file; the columns are {}",
                        COLUMNS.join(", ")
                    ),
                )),
            }
        }
        for required in ["fact", "person", "effective_on"] {
            if !positions.contains_key(required) {
                errors.push(RowError::at(
                    1,
                    required,
                    "missing_column",
                    format!("a facts file needs a {required} column"),
                ));
            }
        }
        if errors.is_empty() {
            Ok(Header { positions })
        } else {
            Err(errors)
        }
    }

    /// The fact on `row` (at `line`), or every problem it has.
    pub fn fact(&self, line: u64, row: &csv::StringRecord, texts: &mut Interner) -> Result<Fact, Vec<RowError>> {
        let value = |column: &str| {
            self.positions
                .get(column)
                .and_then(|&i| row.get(i))
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let person = value("person").map(str::to_string);
        let mut errors = Vec::new();
        let kind = match value("fact") {
            None => {
                errors.push(missing(line, "fact"));
                None
            }
            Some(name) => {
                let kind = FactKind::ALL.into_iter().find(|k| k.name() == name);
                if kind.is_none() {
                    let names: Vec<&str> = FactKind::ALL.iter().map(|k| k.name()).collect();
                    errors.push(RowError::at(
                        line,
                        "fact",
                        "invalid_field",
                        format!("{name:?} is not a fact; facts are {}", names.join(", ")),
                    ));
                }
                kind
            }
        };
        if person.is_none() {
            errors.push(missing(line, "person"));
        }
        let effective_on = match value("effective_on") {
            None => {
                errors.push(missing(line, "effective_on"));
                None
            }
            Some(text) => date(line, text).map_err(|e| errors.push(e)).ok(),
        };
        for (column, text) in self.positions.keys().filter_map(|c| value(c).map(|v| (*c, v))) {
            let limit = if column == "reason" {
                MAX_REASON_CHARS
            } else {
                MAX_TEXT_CHARS
            };
            if text.chars().count() > limit {
                errors.push(RowError::at(
                    line,
                    column,
                    "text_too_long",
                    format!("{column}: at most {limit} characters"),
                ));
            }
        }
        let (Some(kind), Some(person), Some(effective_on)) = (kind, person.clone(), effective_on) else {
            return Err(with_person(errors, person));
        };
        for column in kind.required() {
            if value(column).is_none() {
                errors.push(missing(line, column));
            }
        }
        for column in self.positions.keys() {
            let allowed = ["fact", "person", "effective_on"].contains(column)
                || kind.required().contains(column)
                || kind.optional().contains(column);
            if !allowed && value(column).is_some() {
                errors.push(RowError::at(
                    line,
                    column,
                    "unsupported_field",
                    format!("a {} row has no {column}; leave it empty", kind.name()),
                ));
            }
        }
        let basis = value("basis").and_then(|text| {
            parse_named(text)
                .map_err(|()| {
                    errors.push(RowError::at(
                        line,
                        "basis",
                        "invalid_field",
                        format!("{text:?} is not a basis; bases are permanent, interim, acting, agency"),
                    ))
                })
                .ok()
        });
        let move_kind = value("kind").and_then(|text| {
            parse_named(text)
                .map_err(|()| {
                    errors.push(RowError::at(
                        line,
                        "kind",
                        "invalid_field",
                        format!("{text:?} is not a kind of move; kinds are promotion, demotion, sideways"),
                    ))
                })
                .ok()
        });
        let fte = value("fte").and_then(|text| match text.parse::<f64>() {
            Ok(fte) if fte.is_finite() => Some(fte),
            _ => {
                errors.push(RowError::at(
                    line,
                    "fte",
                    "invalid_field",
                    format!("{text:?} is not a number such as 0.6"),
                ));
                None
            }
        });
        if !errors.is_empty() {
            return Err(with_person(errors, Some(person)));
        }
        let mut text = |column: &str| value(column).map(|v| texts.intern(v));
        let mut fact = Fact {
            line,
            kind,
            person: texts_person(&mut text, &person),
            effective_on,
            organisation: text("organisation"),
            team: text("team"),
            role: text("role"),
            basis,
            fte,
            move_kind,
            reason: text("reason"),
            destination: text("destination"),
            fingerprint: [0; 32],
            derivation: None,
        };
        fact.fingerprint = fingerprint(&fact);
        Ok(fact)
    }
}

/// The person's reference as held text (checked present above).
fn texts_person(text: &mut impl FnMut(&str) -> Option<Text>, person: &str) -> Text {
    text("person").unwrap_or_else(|| Arc::from(person))
}

/// The digest of what a fact says, whatever line it is on.
pub(super) fn fingerprint(fact: &Fact) -> [u8; 32] {
    let mut digest = Sha256::new();
    let basis = fact.basis.map(|b| format!("{b:?}"));
    let fte = fact.fte.map(|f| f.to_string());
    let move_kind = fact.move_kind.map(|k| format!("{k:?}"));
    let effective_on = fact.effective_on.to_string();
    let fields: [Option<&str>; 11] = [
        Some(fact.kind.name()),
        Some(&fact.person),
        Some(&effective_on),
        fact.organisation.as_deref(),
        fact.team.as_deref(),
        fact.role.as_deref(),
        basis.as_deref(),
        fte.as_deref(),
        move_kind.as_deref(),
        fact.reason.as_deref(),
        fact.destination.as_deref(),
    ];
    for field in fields {
        // A separator no value can hold, and a mark for an empty value, so
        // that ("ab", "") and ("a", "b") differ.
        match field {
            Some(value) => {
                digest.update([1u8]);
                digest.update(value.as_bytes());
            }
            None => digest.update([0u8]),
        }
        digest.update([0xffu8]);
    }
    digest.finalize().into()
}

/// Lower-case hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    // Every fact's key is written this way: `format!` per byte was a
    // twentieth of an import's time.
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        text.push(DIGITS[usize::from(b >> 4)] as char);
        text.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    text
}

/// A value of a snake_case enum, as the API spells it.
fn parse_named<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, ()> {
    serde_json::from_value(serde_json::Value::String(text.to_string())).map_err(drop)
}

/// A date written exactly `YYYY-MM-DD`, as everywhere in tenure.
fn date(line: u64, text: &str) -> Result<NaiveDate, RowError> {
    let well_formed = text.len() == 10
        && text.bytes().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                c == b'-'
            } else {
                c.is_ascii_digit()
            }
        });
    well_formed
        .then(|| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())
        .flatten()
        .ok_or_else(|| {
            RowError::at(
                line,
                "effective_on",
                "invalid_field",
                format!("{text:?} is not a date written YYYY-MM-DD, such as 2021-01-01"),
            )
        })
}

fn missing(line: u64, column: &str) -> RowError {
    RowError::at(
        line,
        column,
        "missing_field",
        format!("{column} is required on this row"),
    )
}

fn with_person(mut errors: Vec<RowError>, person: Option<String>) -> Vec<RowError> {
    for e in &mut errors {
        e.person.clone_from(&person);
    }
    errors
}

#[cfg(test)]
#[path = "facts_tests.rs"]
mod tests;
