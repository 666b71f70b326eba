//! The demo dataset: invented people whose reports reproduce the published
//! figures of `docs/published-figures.md` exactly.
//!
//! Three datasets, each in its own module with a doc that lists every detail
//! it chose:
//!
//! - [`pldp`]: Practice Leadership Development Programme, promotion outcomes
//!   by cohort (figure A);
//! - [`academy`]: Riverside Council's Leadership Academy, team and practice
//!   manager leavers before and after (figure B), loaded in two phases to
//!   show a late record and a retraction;
//! - [`intakes`]: Shire County Council's social work academy intakes,
//!   retention (figure C);
//! - [`posts`]: Eastbrook Council's established posts, for the vacancy and
//!   cover report (no published figure; numbers worked by hand in its doc).
//!
//! The dataset is built as data first ([`plan`]: a list of [`Step`]s, checked
//! by pure unit tests), then [`load`] (in `run.rs`) issues every step as a command through
//! the same command runner any client uses. Every id is derived from a stable
//! name and every command carries the idempotency key `demo:<step name>`, so
//! loading twice appends nothing the second time.

mod academy;
#[cfg(test)]
mod check;
mod intakes;
mod pldp;
mod posts;
mod run;

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::commands::CommandError;

pub use run::load;

/// The high 64 bits of every demo id: "tenure-d" in ASCII, so demo ids are
/// recognisable (`74656e75-7265-2d64-…`); their version nibble is 2, so they
/// cannot collide with the random (v4) ids clients use.
const NAMESPACE: u64 = 0x7465_6e75_7265_2d64;

/// A deterministic id for a stable name (FNV-1a of the name under the demo
/// namespace). The same name gives the same id on every machine and load.
pub fn demo_id(name: &str) -> Uuid {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in name.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    Uuid::from_u128((u128::from(NAMESPACE) << 64) | u128::from(hash))
}

/// A participant's id from their external reference.
pub(crate) fn participant_id(external_ref: &str) -> Uuid {
    demo_id(&format!("participant:{external_ref}"))
}

/// A calendar date of the demo's fixed data.
pub(crate) fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("demo dates are valid calendar dates")
}

/// The first day of the month `months` after `base`'s month.
pub(crate) fn month_start(base: NaiveDate, months: u32) -> NaiveDate {
    date(base.year(), base.month(), 1)
        .checked_add_months(Months::new(months))
        .expect("demo dates stay in range")
}

/// The last day of month `m` of year `y`.
pub(crate) fn month_end(y: i32, m: u32) -> NaiveDate {
    date(y, m, 1)
        .checked_add_months(Months::new(1))
        .and_then(|d| d.pred_opt())
        .expect("demo dates stay in range")
}

/// Takes one of each kind in turn while a kind has some left:
/// `[(a, 2), (b, 1)]` gives `[a, b, a]`.
pub(crate) fn interleave<T: Copy>(groups: &[(T, usize)]) -> Vec<T> {
    let mut left = groups.to_vec();
    let mut out = Vec::new();
    while left.iter().any(|(_, k)| *k > 0) {
        for (item, k) in left.iter_mut().filter(|(_, k)| *k > 0) {
            out.push(*item);
            *k -= 1;
        }
    }
    out
}

/// One command of the demo, named by a stable string: the idempotency key is
/// `demo:<name>`.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub name: String,
    pub action: Action,
}

/// What a step asks for. Roles are codes of the default children's-services
/// ladder; every registration is on a permanent, full-time basis.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Register {
        participant: Uuid,
        external_ref: String,
        organisation: String,
        team: Option<String>,
        role: &'static str,
        joined_on: NaiveDate,
    },
    ChangeRole {
        participant: Uuid,
        effective_on: NaiveDate,
        role: &'static str,
        organisation: String,
        team: Option<String>,
        /// Held on an interim basis (otherwise permanent).
        interim: bool,
        /// Recorded with the explicit kind "promotion" (needed for a role
        /// without a ladder level, such as an inspector).
        explicit_promotion: bool,
    },
    Leave {
        participant: Uuid,
        effective_on: NaiveDate,
        reason: String,
        destination: Option<String>,
    },
    Exclude {
        participant: Uuid,
        effective_on: NaiveDate,
        reason: String,
    },
    /// Retracts the participant event appended by step `step`; `sequence` is
    /// its planned sequence in the participant's stream (the receipt of that
    /// step, when at hand, has the last word).
    Retract {
        participant: Uuid,
        step: String,
        sequence: u64,
        reason: String,
    },
    OpenCohort {
        cohort: Uuid,
        programme: String,
        name: String,
        starts_on: NaiveDate,
        ends_on: NaiveDate,
    },
    Enrol {
        cohort: Uuid,
        participant: Uuid,
        enrolled_on: NaiveDate,
    },
    Complete {
        cohort: Uuid,
        participant: Uuid,
        completed_on: NaiveDate,
    },
    EstablishPost {
        post: Uuid,
        organisation: String,
        title: String,
        role: &'static str,
        established_on: NaiveDate,
    },
    /// A joining straight into a post (fills it in the same commit).
    RegisterInPost {
        participant: Uuid,
        external_ref: String,
        organisation: String,
        team: Option<String>,
        role: &'static str,
        post: Uuid,
        basis: aggregates::Basis,
        joined_on: NaiveDate,
    },
}

impl Action {
    /// The participant whose stream this step appends to, if any.
    pub fn participant_stream(&self) -> Option<Uuid> {
        match self {
            Action::Register { participant, .. }
            | Action::ChangeRole { participant, .. }
            | Action::Leave { participant, .. }
            | Action::Exclude { participant, .. }
            | Action::Retract { participant, .. }
            | Action::RegisterInPost { participant, .. } => Some(*participant),
            _ => None,
        }
    }
}

/// The whole demo in load order: PLDP, intakes, the academy's first phase,
/// then (from index `phase1_len` on) the academy's late records and
/// corrections.
pub struct Plan {
    pub steps: Vec<Step>,
    pub phase1_len: usize,
}

/// Builds the demo's steps (pure: no database).
pub fn plan() -> Plan {
    let mut steps = pldp::steps();
    steps.extend(intakes::steps());
    steps.extend(posts::steps());
    steps.extend(academy::phase1());
    let phase1_len = steps.len();
    steps.extend(academy::phase2());
    Plan { steps, phase1_len }
}

/// The sequence, in `participant`'s stream, of the event appended by the
/// step named `name` (each participant step appends one participant event).
pub(crate) fn planned_sequence(steps: &[Step], participant: Uuid, name: &str) -> u64 {
    let mut sequence = 0;
    for step in steps {
        if step.action.participant_stream() == Some(participant) {
            sequence += 1;
            if step.name == name {
                return sequence;
            }
        }
    }
    panic!("demo step {name} is not in the plan before its retraction")
}

/// A cohort of the demo, for README examples.
#[derive(Debug, Clone, Serialize)]
pub struct CohortSummary {
    pub id: Uuid,
    pub name: String,
    pub starts_on: NaiveDate,
    pub members: usize,
}

/// One dataset of the demo and where to look at its figure.
#[derive(Debug, Clone, Serialize)]
pub struct DatasetSummary {
    /// `pldp`, `academy` or `intakes`.
    pub dataset: &'static str,
    /// Which published figure it reproduces.
    pub figure: &'static str,
    pub programme: String,
    /// The organisations the figure is read for (the PLDP's are many: see
    /// its module doc; the list shows each region's first).
    pub organisations: Vec<String>,
    pub cohorts: Vec<CohortSummary>,
    /// The `as_at` date the published figure is read with, if one.
    pub as_at: Option<NaiveDate>,
}

/// The leaving recorded in error and retracted (TM-20 of Riverside Council).
#[derive(Debug, Clone, Serialize)]
pub struct RetractedLeaving {
    pub participant_id: Uuid,
    /// The leaving's sequence in the participant's stream.
    pub sequence: u64,
}

/// What loading the demo did.
#[derive(Debug, Clone, Serialize)]
pub struct DemoSummary {
    /// Commands issued, including those already recorded by an earlier load.
    pub commands_issued: usize,
    /// Commands whose idempotency key was already used: nothing appended.
    pub commands_already_recorded: usize,
    /// Events appended by this load (0 when the demo was already loaded).
    pub events_appended: usize,
    /// The recorded time of the last commit before the academy's late records
    /// and retraction: reports with this `known_at` show 5 team manager and 13
    /// practice manager leavers in April–September 2017 and 4 and 5 in 2018.
    pub known_at_before_corrections: DateTime<Utc>,
    /// The academy's erroneous team manager leaving that the load retracts.
    pub retracted_leaving: RetractedLeaving,
    pub datasets: Vec<DatasetSummary>,
}

/// Why the demo could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// A command was refused; nothing of it was appended.
    #[error("demo step {step} was refused: {source}")]
    Command {
        step: String,
        #[source]
        source: CommandError,
    },
    /// The demo names a role the default ladder does not have.
    #[error("role {0:?} is not on the default children's-services ladder")]
    UnknownRole(String),
    /// The store could not be asked whether a key was used.
    #[error("demo step {step}: {message}")]
    Store { step: String, message: String },
}

#[cfg(test)]
mod tests {
    use super::run::summaries;
    use super::*;

    #[test]
    fn ids_are_stable_and_distinct() {
        assert_eq!(demo_id("x"), demo_id("x"));
        assert_ne!(demo_id("x"), demo_id("y"));
    }

    #[test]
    fn month_helpers_give_calendar_dates() {
        assert_eq!(month_start(date(2017, 1, 9), 13), date(2018, 2, 1));
        assert_eq!(month_end(2016, 2), date(2016, 2, 29));
    }

    #[test]
    fn the_whole_plan_is_valid_and_keys_are_unique() {
        let plan = plan();
        let world = check::simulate(&plan.steps);
        assert!(world.people.len() > 200);
        let mut names: Vec<&str> = plan.steps.iter().map(|s| s.name.as_str()).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(names.len(), before, "step names (idempotency keys) are unique");
    }

    #[test]
    fn the_last_step_of_phase_one_is_the_academy_before_corrections() {
        let plan = plan();
        assert!(plan.steps[plan.phase1_len - 1].name.starts_with("academy:"));
        assert!(plan.steps[plan.phase1_len..]
            .iter()
            .all(|s| s.name.starts_with("academy:late:")));
    }

    #[test]
    fn summaries_count_members() {
        let plan = plan();
        let members: Vec<usize> = summaries(&plan.steps)
            .iter()
            .flat_map(|d| d.cohorts.iter().map(|c| c.members))
            .collect();
        assert_eq!(members, vec![19, 24, 25, 20, 18, 17, 23, 20]);
    }
}
