//! Who a report is about, as analysts name it: cohorts are named by id or
//! by name (docs/metrics.md), and a programme's population is the
//! members of its cohorts. Pure functions over the [`Dataset`].

use std::collections::HashSet;

use uuid::Uuid;

use super::model::Dataset;
use super::ReportError;

/// The cohorts named in `names`, a comma-separated list of cohort ids or
/// names (blanks ignored), among the cohorts of `programme` when one is
/// given. A name shared by several cohorts names them all; every entry must
/// name at least one cohort.
pub fn named_cohorts(dataset: &Dataset, names: &str, programme: Option<&str>) -> Result<Vec<Uuid>, ReportError> {
    let mut ids = Vec::new();
    for wanted in names.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let found: Vec<Uuid> = dataset
            .cohorts
            .iter()
            .filter(|c| programme.is_none_or(|p| c.programme == p))
            .filter(|c| c.cohort_id.to_string() == wanted || c.name == wanted)
            .map(|c| c.cohort_id)
            .collect();
        if found.is_empty() {
            return Err(ReportError::NoSuchCohort {
                wanted: wanted.to_string(),
            });
        }
        ids.extend(found);
    }
    Ok(ids)
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
