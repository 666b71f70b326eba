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

use std::collections::HashSet;
use std::sync::Arc;

use aggregates::ladder::{Basis, MoveKind};
use chrono::NaiveDate;
use sha2::{Digest, Sha256};

use super::columns::{self, date, Columns};
use crate::http::extract::{MAX_REASON_CHARS, MAX_TEXT_CHARS};

/// Every column a facts file may have; `fact`, `person` and `effective_on`
/// are required in the header, `fact` and `effective_on` in every row, and
/// `person` in every row of a fact about a person.
pub const COLUMNS: [&str; 18] = [
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
    "programme",
    "cohort",
    "ends_on",
    "post",
    "title",
    "retracts",
    "retraction_reason",
];

pub use super::kinds::FactKind;
pub use super::streams::{COHORTS_NAMED, POSTS_NAMED};

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
    /// The programme of the cohort the fact is about.
    pub programme: Option<Text>,
    /// The cohort's name within its programme.
    pub cohort: Option<Text>,
    /// A cohort's planned end.
    pub ends_on: Option<NaiveDate>,
    /// The authority's reference for the post the fact is about (unique
    /// within its organisation).
    pub post: Option<Text>,
    /// A post's title.
    pub title: Option<Text>,
    /// For a retraction: the kind of fact it withdraws (the rest of the
    /// row repeats that fact's row).
    pub retracts: Option<FactKind>,
    /// For a retraction: why the fact was recorded in error.
    pub retraction_reason: Option<Text>,
    /// A digest (SHA-256) of the fact itself (kind, person, date and every
    /// value, not the line): the same fact in a later extract has the same
    /// one, which is how an import knows it is already recorded.
    pub fingerprint: [u8; 32],
    /// How the fact was derived from a census return (`None`: a row of a
    /// facts file says it); recorded in its events' metadata.
    pub derivation: Option<super::census_derive::Derivation>,
    /// For a retraction: the fingerprint of the fact it withdraws.
    pub retracted: Option<[u8; 32]>,
}

impl Fact {
    /// The kind of fact the row is about: its own, or for a retraction the
    /// kind it withdraws (which says whose the row is and what it names).
    pub fn subject(&self) -> FactKind {
        self.retracts.unwrap_or(self.kind)
    }
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
    pub(super) fn at(line: u64, column: &str, error: &str, message: impl Into<String>) -> Self {
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
    columns: Columns,
}

impl Header {
    /// Reads a header row: every name must be a known column, none twice,
    /// and the three required ones present.
    pub fn read(names: &csv::StringRecord) -> Result<Header, Vec<RowError>> {
        let listed = COLUMNS.join(", ");
        let columns = Columns::read(
            names,
            &COLUMNS,
            &["fact", "person", "effective_on"],
            "a facts file",
            &listed,
        )?;
        Ok(Header { columns })
    }

    /// The same header for rows that carry `fields` more fields before its
    /// own (a part's rows start with their line), read without copying
    /// each row.
    pub(super) fn after_fields(mut self, fields: usize) -> Header {
        self.columns.shift(fields);
        self
    }

    /// The fact on `row` (at `line`), or every problem it has.
    pub fn fact(&self, line: u64, row: &csv::StringRecord, texts: &mut Interner) -> Result<Fact, Vec<RowError>> {
        let value = |column: &str| self.columns.value(row, column);
        let person = value("person").map(str::to_string);
        let mut errors = Vec::new();
        let kind = match value("fact") {
            None => {
                errors.push(missing(line, "fact"));
                None
            }
            Some(name) => named_kind(line, "fact", name).map_err(|e| errors.push(e)).ok(),
        };
        // A retraction's row is the retracted fact's row: that kind says
        // what else the row must and may fill.
        let retracts = match (kind, value("retracts")) {
            (Some(FactKind::Retraction), Some(name)) => match named_kind(line, "retracts", name) {
                Ok(FactKind::Retraction) => {
                    errors.push(RowError::at(
                        line,
                        "retracts",
                        "invalid_field",
                        "a retraction cannot be retracted: record the fact again instead",
                    ));
                    None
                }
                Ok(retracted) => Some(retracted),
                Err(e) => {
                    errors.push(e);
                    None
                }
            },
            _ => None,
        };
        let subject = retracts.or(kind);
        if person.is_none() && subject.is_none_or(FactKind::names_a_person) {
            errors.push(missing(line, "person"));
        }
        let effective_on = match value("effective_on") {
            None => {
                errors.push(missing(line, "effective_on"));
                None
            }
            Some(text) => date(line, "effective_on", text).map_err(|e| errors.push(e)).ok(),
        };
        for (column, text) in self.columns.values(row) {
            let limit = if column == "reason" || column == "retraction_reason" {
                MAX_REASON_CHARS
            } else {
                MAX_TEXT_CHARS
            };
            // Bytes bound characters: most values need no count.
            if text.len() > limit && text.chars().count() > limit {
                errors.push(RowError::at(
                    line,
                    column,
                    "text_too_long",
                    format!("{column}: at most {limit} characters"),
                ));
            }
        }
        let (Some(kind), Some(subject), Some(effective_on)) = (kind, subject, effective_on) else {
            return Err(with_person(errors, person));
        };
        let required: Vec<&str> = kind
            .required()
            .iter()
            .chain(retracts.map_or(&[][..], FactKind::required))
            .copied()
            .collect();
        let optional: Vec<&str> = kind
            .optional()
            .iter()
            .chain(retracts.map_or(&[][..], FactKind::optional))
            .copied()
            .collect();
        for column in &required {
            if value(column).is_none() {
                errors.push(missing(line, column));
            }
        }
        for (column, _) in self.columns.values(row) {
            let allowed = ["fact", "effective_on"].contains(&column)
                || (column == "person" && subject.names_a_person())
                || required.contains(&column)
                || optional.contains(&column);
            if !allowed {
                let what = match retracts {
                    Some(retracted) => format!("a retraction of a {} row", retracted.name()),
                    None => format!("a {} row", kind.name()),
                };
                errors.push(RowError::at(
                    line,
                    column,
                    "unsupported_field",
                    format!("{what} has no {column}; leave it empty"),
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
        let ends_on = value("ends_on").and_then(|text| date(line, "ends_on", text).map_err(|e| errors.push(e)).ok());
        let person = person.filter(|_| subject.names_a_person());
        if !errors.is_empty() {
            return Err(with_person(errors, person));
        }
        let mut text = |column: &str| value(column).map(|v| texts.intern(v));
        let mut fact = Fact {
            line,
            kind,
            // Facts about no person are held under the empty reference
            // (no person has it: a person's row must fill `person`).
            person: text("person")
                .filter(|_| subject.names_a_person())
                .unwrap_or_else(|| Arc::from("")),
            effective_on,
            organisation: text("organisation"),
            team: text("team"),
            role: text("role"),
            basis,
            fte,
            move_kind,
            reason: text("reason"),
            destination: text("destination"),
            programme: text("programme"),
            cohort: text("cohort"),
            ends_on,
            post: text("post"),
            title: text("title"),
            retracts,
            retraction_reason: text("retraction_reason"),
            fingerprint: [0; 32],
            derivation: None,
            retracted: None,
        };
        fact.fingerprint = fingerprint(subject, &fact);
        if kind == FactKind::Retraction {
            // The retraction's own key is the retracted fact's, marked:
            // the same retraction in a later extract (even reworded) is
            // recorded once.
            let mut digest = Sha256::new();
            digest.update(b"retraction\xff");
            digest.update(fact.fingerprint);
            fact.retracted = Some(fact.fingerprint);
            fact.fingerprint = digest.finalize().into();
        }
        Ok(fact)
    }
}

/// The fact kind `name` written in `column`.
fn named_kind(line: u64, column: &str, name: &str) -> Result<FactKind, RowError> {
    FactKind::ALL.into_iter().find(|k| k.name() == name).ok_or_else(|| {
        let names: Vec<&str> = FactKind::ALL.iter().map(|k| k.name()).collect();
        RowError::at(
            line,
            column,
            "invalid_field",
            format!("{name:?} is not a fact; facts are {}", names.join(", ")),
        )
    })
}

/// The digest of what a fact of `kind` says, whatever line it is on.
pub(super) fn fingerprint(kind: FactKind, fact: &Fact) -> [u8; 32] {
    let mut digest = Sha256::new();
    let basis = fact.basis.map(|b| format!("{b:?}"));
    let fte = fact.fte.map(|f| f.to_string());
    let move_kind = fact.move_kind.map(|k| format!("{k:?}"));
    let effective_on = fact.effective_on.to_string();
    let fields: [Option<&str>; 11] = [
        Some(kind.name()),
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
    // The columns added with cohort and post facts count only when filled
    // (each with its name), so that every fact of the first columns keeps
    // the key it was recorded under before they existed.
    let ends_on = fact.ends_on.map(|d| d.to_string());
    let later: [(&str, Option<&str>); 5] = [
        ("programme", fact.programme.as_deref()),
        ("cohort", fact.cohort.as_deref()),
        ("ends_on", ends_on.as_deref()),
        ("post", fact.post.as_deref()),
        ("title", fact.title.as_deref()),
    ];
    for (name, value) in later {
        if let Some(value) = value {
            digest.update([2u8]);
            digest.update(name.as_bytes());
            digest.update([0xfeu8]);
            digest.update(value.as_bytes());
            digest.update([0xffu8]);
        }
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
fn missing(line: u64, column: &str) -> RowError {
    columns::missing(line, column, "this row")
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
