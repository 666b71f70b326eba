//! Who a report is about, as analysts name it: cohorts are named by id or
//! by name (docs/metrics.md), and a programme's population is the
//! members of its cohorts. Pure functions over the [`Dataset`].

use std::collections::HashSet;

use uuid::Uuid;

use super::model::{Cohort, Dataset};
use super::names::{nearest, NameKind};
use super::ReportError;

/// The cohorts named in `names` (docs/metrics.md "Naming what a report
/// counts"), among the cohorts of `programme` when one is given. The whole
/// value is tried first, so a cohort whose name has a comma is named as it
/// is; otherwise `names` is a comma-separated list of ids or names (blanks
/// ignored) in which a name in double quotes may hold commas (`""` is a
/// quote inside one). A name shared by several cohorts names them all;
/// every entry must name at least one cohort.
pub fn named_cohorts(dataset: &Dataset, names: &str, programme: Option<&str>) -> Result<Vec<Uuid>, ReportError> {
    let candidates: Vec<&Cohort> = dataset
        .cohorts
        .iter()
        .filter(|c| programme.is_none_or(|p| c.programme == p))
        .collect();
    let named = |wanted: &str| -> Vec<Uuid> {
        candidates
            .iter()
            .filter(|c| c.cohort_id.to_string() == wanted || c.name == wanted)
            .map(|c| c.cohort_id)
            .collect()
    };
    let whole = named(names.trim());
    if !whole.is_empty() {
        return Ok(whole);
    }
    let mut ids = Vec::new();
    for wanted in split_list(names) {
        let found = named(&wanted);
        if found.is_empty() {
            return Err(ReportError::UnknownName {
                kind: NameKind::Cohort,
                field: "cohort",
                nearest: nearest(&wanted, candidates.iter().map(|c| c.name.as_str())),
                wanted,
            });
        }
        ids.extend(found);
    }
    Ok(ids)
}

/// Splits a comma-separated list, each entry trimmed and blanks dropped; an
/// entry in double quotes keeps its commas, and `""` inside it is a quote.
pub fn split_list(list: &str) -> Vec<String> {
    let mut entries = Vec::new();
    let (mut entry, mut quoted) = (String::new(), false);
    let mut chars = list.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                entry.push('"');
            }
            '"' if quoted => quoted = false,
            '"' if entry.trim().is_empty() => {
                quoted = true;
                entry.clear();
            }
            ',' if !quoted => entries.push(std::mem::take(&mut entry)),
            _ => entry.push(c),
        }
    }
    entries.push(entry);
    entries
        .into_iter()
        .map(|e| e.trim().to_string())
        .filter(|e| !e.is_empty())
        .collect()
}

/// The participants a report is restricted to: the members of the chosen
/// `cohorts`, or when none are chosen the members of every cohort of
/// `programme`; `None` (no restriction) when neither is given. Withdrawn
/// and completed members stay members.
pub fn population(dataset: &Dataset, cohorts: Option<&[Uuid]>, programme: Option<&str>) -> Option<HashSet<Uuid>> {
    if cohorts.is_none() && programme.is_none() {
        return None;
    }
    Some(
        dataset
            .cohorts
            .iter()
            .filter(|c| match cohorts {
                Some(ids) => ids.contains(&c.cohort_id),
                None => programme == Some(c.programme.as_str()),
            })
            .flat_map(|c| c.members.iter().map(|m| m.participant_id))
            .collect(),
    )
}
