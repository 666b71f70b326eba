//! §1 Promotion outcomes by cohort.
//!
//! Each counted participant gets exactly one outcome from the moves
//! effective after their enrolment date and on or before `as_at`, taking
//! the first that applies: promoted to a target role (first target in the
//! given order reached by promotion), promoted to another post, sideways
//! move, left (a leaving event, not rejoined by `as_at`), remained.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::model::{Cohort, Dataset, Move, MoveKind, Person};
use super::{round, Definition, Rate, ReportError};
use crate::stats::median;

/// Days in an average Gregorian month: months = days / 30.4375.
pub const DAYS_PER_MONTH: f64 = 30.4375;

/// Inputs of the promotions report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PromotionParams {
    /// Programme whose cohorts to report (all cohorts when `None` and no ids).
    pub programme: Option<String>,
    /// Explicit cohorts (default: every cohort of the programme).
    pub cohort_ids: Option<Vec<Uuid>>,
    /// Status date.
    pub as_at: NaiveDate,
    /// Ordered target role codes (default `["dcs", "practice_leader"]`).
    pub targets: Vec<String>,
}

impl PromotionParams {
    /// The default target roles, most senior first.
    pub fn default_targets() -> Vec<String> {
        vec!["dcs".into(), "practice_leader".into()]
    }
}

/// The single outcome of one participant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "outcome", content = "role")]
pub enum Outcome {
    /// Reached the target role (role code) by promotion.
    PromotedTo(String),
    /// Any other promotion.
    PromotedOther,
    /// A sideways move and no promotion.
    Sideways,
    /// Left employment, no qualifying move, not rejoined by `as_at`.
    Left,
    /// None of the above.
    Remained,
}

/// One counted participant's outcome (for audit and drill-down).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParticipantOutcome {
    /// Participant.
    pub participant_id: Uuid,
    /// Cohort.
    pub cohort_id: Uuid,
    /// Outcome.
    #[serde(flatten)]
    pub outcome: Outcome,
    /// For a target outcome: date of the move that reached the role.
    pub target_move_on: Option<NaiveDate>,
    /// For a target outcome: whether that move was internal.
    pub target_move_internal: Option<bool>,
    /// For a target outcome: months from enrolment to that move.
    pub months_to_target: Option<f64>,
}

/// One column of the table: a cohort, or the total.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CohortColumn {
    /// Cohort id (`None` for the total).
    pub cohort_id: Option<Uuid>,
    /// Cohort name, or "total".
    pub name: String,
    /// Counted participants (enrolled − withdrawn − excluded).
    pub cohort_size: u64,
    /// Count per target role, in the order of the targets.
    pub promoted_to: Vec<u64>,
    /// Promoted to another post.
    pub promoted_other: u64,
    /// Sideways move.
    pub sideways: u64,
    /// Left.
    pub left: u64,
    /// Remained in the same post.
    pub remained: u64,
    /// Σ target outcomes / cohort size.
    pub promoted_to_targets: Rate,
    /// Internal target promotions / target promotions.
    pub internal_target_promotions: Rate,
    /// Median months from enrolment to the move that reached the target.
    pub median_months_to_target: Option<f64>,
    /// Footnote: withdrew on or before `as_at` (not counted).
    pub withdrawn: u64,
    /// Footnote: excluded from analysis at `as_at` (not counted).
    pub excluded: u64,
    /// Footnote: enrolled after `as_at` (not counted).
    pub not_yet_enrolled: u64,
}

/// One row of the table: an outcome across cohorts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutcomeRow {
    /// Outcome label, e.g. "promoted to dcs".
    pub outcome: String,
    /// Count per cohort, in the order of `cohorts`.
    pub by_cohort: Vec<u64>,
    /// Total count.
    pub total: u64,
    /// Total / grand total of counted participants.
    pub share_of_total: Rate,
    /// Each cohort's count / the same grand total, in the order of `cohorts`.
    pub by_cohort_share_of_total: Vec<Rate>,
}

/// The promotions report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PromotionsReport {
    /// Status date.
    pub as_at: NaiveDate,
    /// Target roles, in order.
    pub targets: Vec<String>,
    /// One column per cohort, by start date.
    pub cohorts: Vec<CohortColumn>,
    /// The total column.
    pub total: CohortColumn,
    /// Outcome rows (targets, other, sideways, left, remained).
    pub outcomes: Vec<OutcomeRow>,
    /// Each counted participant's outcome.
    pub participants: Vec<ParticipantOutcome>,
    /// Definitions of every figure.
    pub definitions: Vec<Definition>,
}

/// Computes §1 for the selected cohorts.
pub fn compute(dataset: &Dataset, params: &PromotionParams) -> Result<PromotionsReport, ReportError> {
    if params.targets.is_empty() {
        return Err(ReportError::NoTargets);
    }
    let mut seen = HashSet::new();
    if let Some(twice) = params.targets.iter().find(|t| !seen.insert(t.as_str())) {
        return Err(ReportError::DuplicateTarget(twice.clone()));
    }
    let cohorts = select_cohorts(dataset, params)?;
    let people: HashMap<Uuid, &Person> = dataset.people.iter().map(|p| (p.participant_id, p)).collect();
    let mut columns = Vec::new();
    let mut participants = Vec::new();
    for cohort in &cohorts {
        let (column, outcomes) = cohort_column(cohort, &people, params);
        columns.push(column);
        participants.extend(outcomes);
    }
    let total = total_column(&columns, &participants, params);
    let outcomes = outcome_rows(&columns, &total, &params.targets);
    Ok(PromotionsReport {
        as_at: params.as_at,
        targets: params.targets.clone(),
        cohorts: columns,
        total,
        outcomes,
        participants,
        definitions: definitions(params),
    })
}

fn select_cohorts<'a>(dataset: &'a Dataset, params: &PromotionParams) -> Result<Vec<&'a Cohort>, ReportError> {
    let mut cohorts: Vec<&Cohort> = match &params.cohort_ids {
        Some(ids) => ids
            .iter()
            .map(|id| {
                dataset
                    .cohorts
                    .iter()
                    .find(|c| c.cohort_id == *id)
                    .ok_or(ReportError::UnknownCohort(*id))
            })
            .collect::<Result<_, _>>()?,
        None => dataset
            .cohorts
            .iter()
            .filter(|c| params.programme.as_ref().is_none_or(|p| &c.programme == p))
            .collect(),
    };
    if cohorts.is_empty() {
        return Err(ReportError::NoCohorts);
    }
    cohorts.sort_by(|a, b| (a.starts_on, &a.name).cmp(&(b.starts_on, &b.name)));
    cohorts.dedup_by_key(|c| c.cohort_id);
    Ok(cohorts)
}

fn cohort_column(
    cohort: &Cohort,
    people: &HashMap<Uuid, &Person>,
    params: &PromotionParams,
) -> (CohortColumn, Vec<ParticipantOutcome>) {
    let mut column = empty_column(Some(cohort.cohort_id), &cohort.name, params.targets.len());
    let mut outcomes = Vec::new();
    let no_history = Person::default();
    for member in &cohort.members {
        let person = people.get(&member.participant_id).copied().unwrap_or(&no_history);
        if member.enrolled_on > params.as_at {
            column.not_yet_enrolled += 1;
        } else if member.withdrawn_on.is_some_and(|w| w <= params.as_at) {
            column.withdrawn += 1;
        } else if person.excluded_on(params.as_at) {
            column.excluded += 1;
        } else {
            let (outcome, target_move) = classify(person, member.enrolled_on, params);
            let months = target_move.map(|m| {
                round(
                    (m.effective_on - member.enrolled_on).num_days() as f64 / DAYS_PER_MONTH,
                    4,
                )
            });
            outcomes.push(ParticipantOutcome {
                participant_id: member.participant_id,
                cohort_id: cohort.cohort_id,
                outcome,
                target_move_on: target_move.map(|m| m.effective_on),
                target_move_internal: target_move.map(|m| m.internal),
                months_to_target: months,
            });
        }
    }
    tally(&mut column, &outcomes, &params.targets);
    (column, outcomes)
}

/// The outcome of one participant and, for a target outcome, the move that
/// reached the target role (the first promotion into it after enrolment).
pub fn classify<'a>(
    person: &'a Person,
    enrolled_on: NaiveDate,
    params: &PromotionParams,
) -> (Outcome, Option<&'a Move>) {
    let as_at = params.as_at;
    let mut moves: Vec<&Move> = person
        .moves
        .iter()
        .filter(|m| m.effective_on > enrolled_on && m.effective_on <= as_at)
        .collect();
    moves.sort_by_key(|m| m.effective_on);
    let promotions: Vec<&Move> = moves
        .iter()
        .copied()
        .filter(|m| m.kind == MoveKind::Promotion)
        .collect();
    for target in &params.targets {
        if let Some(m) = promotions.iter().find(|m| &m.to_role == target) {
            return (Outcome::PromotedTo(target.clone()), Some(m));
        }
    }
    if !promotions.is_empty() {
        return (Outcome::PromotedOther, None);
    }
    if moves.iter().any(|m| m.kind == MoveKind::Sideways) {
        return (Outcome::Sideways, None);
    }
    // Left: a leaving by `as_at` and not employed anywhere at the end of
    // `as_at` (a rejoining, even in the same role and so not a move, undoes
    // it). Any leaving counts, even one on the enrolment date itself.
    let has_left = person.leavings.iter().any(|l| l.effective_on <= as_at);
    if has_left && person.employment_on(None, as_at).is_none() {
        return (Outcome::Left, None);
    }
    (Outcome::Remained, None)
}

fn empty_column(cohort_id: Option<Uuid>, name: &str, targets: usize) -> CohortColumn {
    CohortColumn {
        cohort_id,
        name: name.into(),
        cohort_size: 0,
        promoted_to: vec![0; targets],
        promoted_other: 0,
        sideways: 0,
        left: 0,
        remained: 0,
        promoted_to_targets: Rate::new(0, 0),
        internal_target_promotions: Rate::new(0, 0),
        median_months_to_target: None,
        withdrawn: 0,
        excluded: 0,
        not_yet_enrolled: 0,
    }
}

fn tally(column: &mut CohortColumn, outcomes: &[ParticipantOutcome], targets: &[String]) {
    let mut months = Vec::new();
    let mut internal = 0;
    for o in outcomes {
        match &o.outcome {
            Outcome::PromotedTo(role) => {
                if let Some(i) = targets.iter().position(|t| t == role) {
                    column.promoted_to[i] += 1;
                }
                internal += u64::from(o.target_move_internal == Some(true));
                months.extend(o.months_to_target);
            }
            Outcome::PromotedOther => column.promoted_other += 1,
            Outcome::Sideways => column.sideways += 1,
            Outcome::Left => column.left += 1,
            Outcome::Remained => column.remained += 1,
        }
    }
    column.cohort_size = outcomes.len() as u64;
    let promoted: u64 = column.promoted_to.iter().sum();
    column.promoted_to_targets = Rate::new(promoted, column.cohort_size);
    column.internal_target_promotions = Rate::new(internal, promoted);
    column.median_months_to_target = median(&months).map(|m| round(m, 1));
}

fn total_column(columns: &[CohortColumn], outcomes: &[ParticipantOutcome], params: &PromotionParams) -> CohortColumn {
    let mut total = empty_column(None, "total", params.targets.len());
    tally(&mut total, outcomes, &params.targets);
    total.withdrawn = columns.iter().map(|c| c.withdrawn).sum();
    total.excluded = columns.iter().map(|c| c.excluded).sum();
    total.not_yet_enrolled = columns.iter().map(|c| c.not_yet_enrolled).sum();
    total
}

fn outcome_rows(columns: &[CohortColumn], total: &CohortColumn, targets: &[String]) -> Vec<OutcomeRow> {
    let grand = total.cohort_size;
    let row = |label: String, get: &dyn Fn(&CohortColumn) -> u64| OutcomeRow {
        outcome: label,
        by_cohort: columns.iter().map(get).collect(),
        total: get(total),
        share_of_total: Rate::new(get(total), grand),
        by_cohort_share_of_total: columns.iter().map(|c| Rate::new(get(c), grand)).collect(),
    };
    let mut rows: Vec<OutcomeRow> = targets
        .iter()
        .enumerate()
        .map(|(i, t)| row(format!("promoted to {t}"), &|c: &CohortColumn| c.promoted_to[i]))
        .collect();
    rows.push(row("promoted to other post".into(), &|c| c.promoted_other));
    rows.push(row("sideways move".into(), &|c| c.sideways));
    rows.push(row("left".into(), &|c| c.left));
    rows.push(row("remained in the same post".into(), &|c| c.remained));
    rows
}

fn definitions(params: &PromotionParams) -> Vec<Definition> {
    let population = format!(
        "participants enrolled in the cohort on or before {as_at}, less those who withdrew on or before {as_at} \
         and those under an exclusion from analysis on {as_at} (both counted in footnotes)",
        as_at = params.as_at
    );
    let targets = params.targets.join(", ");
    vec![
        Definition::new(
            "outcome counts",
            &format!(
                "one outcome per participant from moves effective after enrolment and on or before {}, first that \
                 applies: promoted to a target role ({targets}, first in that order reached by promotion), promoted \
                 to other post, sideways move, left (a leaving on or before as_at and not employed at the end of \
                 as_at; demotions alone do not prevent it), remained in the same post",
                params.as_at
            ),
            "participants with the outcome",
            "not applicable",
            &population,
        ),
        Definition::new(
            "share_of_total",
            "participants with the outcome / counted participants of all selected cohorts",
            "participants with the outcome (all cohorts)",
            "counted participants (all cohorts)",
            &population,
        ),
        Definition::new(
            "promoted_to_targets",
            &format!("sum of the target-role outcomes ({targets}) / cohort size"),
            "participants whose outcome is a target role",
            "counted participants of the cohort",
            &population,
        ),
        Definition::new(
            "internal_target_promotions",
            "target-role promotions whose move (the first promotion into the reported target role after enrolment) \
             kept the participant in the organisation employing them immediately before / target-role promotions",
            "internal target-role promotions",
            "participants whose outcome is a target role",
            &population,
        ),
        Definition::new(
            "median_months_to_target",
            "median over target-role promotions of (move date − enrolment date) in days / 30.4375, rounded to 1 dp; \
             an even count takes the mean of the two middle values",
            "not applicable",
            "not applicable",
            "participants whose outcome is a target role",
        ),
    ]
}
