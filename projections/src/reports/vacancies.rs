//! §5 Posts: vacancy and cover on a date D, established posts only.
//!
//! A post counts on D when established on or before D and not
//! disestablished on or before D. It is filled when an occupancy covers the
//! end of D, vacant otherwise. It is covered when its occupants on D
//! include no permanent holder and at least one interim or agency holder
//! (docs/metrics.md: "held on an interim or agency basis"); a post held only on
//! an acting basis is filled but not covered, and is counted separately.
//! An occupant's basis on D is the one of their own role on D when that
//! role is in this post: a change of basis in the same post (interim made
//! permanent) is recorded on the participant only. An occupant whose own
//! spell on D is not in this post (or who is not employed on D) does not
//! fill it, whatever the post's events say (docs/metrics.md §5).

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::model::{Basis, Dataset, Person, Post, Span};
use super::{Definition, Rate, ReportError};

/// Inputs of the vacancies report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VacancyParams {
    /// Organisation.
    pub organisation: String,
    /// The date D.
    pub on: NaiveDate,
}

/// Figures for one role (or the total).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VacancyRow {
    /// Role code, or "total".
    pub role_code: String,
    /// Established posts on D.
    pub established: u64,
    /// Filled on D.
    pub filled: u64,
    /// Vacant on D.
    pub vacant: u64,
    /// Filled with no permanent holder and an interim or agency holder.
    pub covered: u64,
    /// Filled by acting holders only (neither permanent nor cover).
    pub acting_only: u64,
    /// vacant / (vacant + filled).
    pub vacancy_rate: Rate,
    /// covered / filled.
    pub cover_rate: Rate,
}

/// The vacancies report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VacancyReport {
    /// Organisation.
    pub organisation: String,
    /// The date D.
    pub on: NaiveDate,
    /// One row per role code.
    pub rows: Vec<VacancyRow>,
    /// All posts.
    pub total: VacancyRow,
    /// Definitions.
    pub definitions: Vec<Definition>,
}

/// Computes §5.
pub fn compute(dataset: &Dataset, params: &VacancyParams) -> Result<VacancyReport, ReportError> {
    let d = params.on;
    let mut by_role: BTreeMap<&str, [u64; 4]> = BTreeMap::new();
    let mut total = [0u64; 4];
    let people: HashMap<_, _> = dataset.people.iter().map(|p| (p.participant_id, p)).collect();
    for post in dataset
        .posts
        .iter()
        .filter(|p| p.organisation == params.organisation && p.established_at_end_of(d))
    {
        let state = post_state(post, d, &people);
        for acc in [by_role.entry(&post.role_code).or_default(), &mut total] {
            acc[0] += 1;
            match state {
                State::Vacant => {}
                State::Permanent => acc[1] += 1,
                State::Cover => {
                    acc[1] += 1;
                    acc[2] += 1;
                }
                State::ActingOnly => {
                    acc[1] += 1;
                    acc[3] += 1;
                }
            }
        }
    }
    Ok(VacancyReport {
        organisation: params.organisation.clone(),
        on: d,
        rows: by_role.iter().map(|(role, c)| row(role, c)).collect(),
        total: row("total", &total),
        definitions: definitions(params),
    })
}

enum State {
    Vacant,
    Permanent,
    Cover,
    ActingOnly,
}

fn post_state(post: &Post, d: NaiveDate, people: &HashMap<uuid::Uuid, &Person>) -> State {
    let bases: Vec<Basis> = post
        .occupancies
        .iter()
        .filter(|o| o.covers(d))
        .filter_map(|o| match people.get(&o.participant_id) {
            // The occupant's own record decides: an occupancy left open by
            // a late filling dated before the person's later move does not
            // hold the post once their spell on D is elsewhere.
            Some(person) => person
                .employment_on(None, d)
                .filter(|s| s.post_id == Some(post.post_id))
                .map(|s| s.basis),
            None => Some(o.basis),
        })
        .collect();
    if bases.is_empty() {
        State::Vacant
    } else if bases.contains(&Basis::Permanent) {
        State::Permanent
    } else if bases.iter().any(|b| matches!(b, Basis::Interim | Basis::Agency)) {
        State::Cover
    } else {
        State::ActingOnly
    }
}

fn row(role: &str, c: &[u64; 4]) -> VacancyRow {
    let (established, filled, covered, acting_only) = (c[0], c[1], c[2], c[3]);
    VacancyRow {
        role_code: role.into(),
        established,
        filled,
        vacant: established - filled,
        covered,
        acting_only,
        vacancy_rate: Rate::new(established - filled, established),
        cover_rate: Rate::new(covered, filled),
    }
}

fn definitions(params: &VacancyParams) -> Vec<Definition> {
    let population = format!(
        "posts of {} established on or before {d} and not disestablished on or before {d}",
        params.organisation,
        d = params.on
    );
    vec![
        Definition::new(
            "vacancy_rate",
            "posts vacant on D / (posts vacant + posts filled on D); filled = someone holds the post at the end of \
             D, by the post's occupancy and by their own record",
            "established posts with no occupant on D",
            "established posts",
            &population,
        ),
        Definition::new(
            "cover_rate",
            "filled posts held on an interim or agency basis (no permanent occupant on D) / filled posts; posts \
             held only by acting occupants are not cover (see acting_only)",
            "filled posts with an interim or agency occupant and no permanent occupant",
            "filled posts",
            &population,
        ),
    ]
}
