//! The plain-data input every report reads: people with their employment
//! spells, moves, leavings and exclusions; cohorts; posts. The caller fills
//! it from the event store (already filtered by `known_at`, retractions
//! applied), so the report calculations stay pure and testable.
//!
//! The words of the domain are the domain's own types ([`Basis`],
//! [`MoveKind`], [`SpellEnd`] from `aggregates`), so the read side cannot
//! drift from what the aggregates judged; the structs here are flat rows of
//! what the reports read, without the sequences and reasons the domain keeps.
//! Where a read-model table's columns are such a struct's fields, its rows
//! decode straight into it (`sqlx::FromRow`; `docs/read-models.md`).

use aggregates::days;
pub use aggregates::days::Span;
pub use aggregates::ladder::{Basis, MoveKind};
pub use aggregates::participant::SpellEnd;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Everything the reports need.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Dataset {
    /// Every tracked participant.
    pub people: Vec<Person>,
    /// Every cohort of every programme.
    pub cohorts: Vec<Cohort>,
    /// Every post of every organisation.
    pub posts: Vec<Post>,
}

/// One participant's employment history (the default has none: a cohort
/// member whose participant the dataset does not hold).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Person {
    /// Stable identity.
    pub participant_id: Uuid,
    /// The employer's or programme's reference.
    pub external_ref: String,
    /// Employment in one role at a time; never overlapping.
    #[sqlx(skip)]
    pub spells: Vec<Spell>,
    /// Role changes, with their kind already resolved.
    #[sqlx(skip)]
    pub moves: Vec<Move>,
    /// Leaving events (employment ends, not followed by a move).
    #[sqlx(skip)]
    pub leavings: Vec<Leaving>,
    /// Exclusions from analysis.
    #[sqlx(skip)]
    pub exclusions: Vec<Exclusion>,
}

impl Person {
    /// The spell (at `organisation`, or anywhere when `None`) employing the
    /// person at the end of `day`: the domain's "employed on D"
    /// (`Timeline::employment_on`). Spells never overlap, so there is at
    /// most one.
    pub fn employment_on(&self, organisation: Option<&str>, day: NaiveDate) -> Option<&Spell> {
        self.spells
            .iter()
            .find(|s| s.covers(day) && organisation.is_none_or(|o| s.organisation == o))
    }

    /// Whether an exclusion is in force at the end of `day`: the domain's
    /// "excluded on D" (`Timeline::excluded_on`).
    pub fn excluded_on(&self, day: NaiveDate) -> bool {
        self.exclusions.iter().any(|e| e.covers(day))
    }
}

/// Employment in one role, half-open `[from, until)`: employed at the end
/// of each day from `from` up to the day before `until`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spell {
    /// Employer.
    pub organisation: String,
    /// Team, when known.
    pub team: Option<String>,
    /// Role code (reference data).
    pub role_code: String,
    /// Ladder level of the role, when it has one.
    pub role_level: Option<u8>,
    /// The post held, when known.
    pub post_id: Option<Uuid>,
    /// Basis of the appointment.
    pub basis: Basis,
    /// Full-time equivalent.
    pub fte: f64,
    /// First day employed (at its end).
    pub from: NaiveDate,
    /// First day no longer employed in this spell; `None` = still employed.
    pub until: Option<NaiveDate>,
    /// What ended the spell.
    pub ended_by: Option<SpellEnd>,
}

impl Span for Spell {
    fn span(&self) -> (NaiveDate, Option<NaiveDate>) {
        (self.from, self.until)
    }
}

/// A role change, including rejoinings (judged against the last role held
/// before the leaving).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Move {
    /// Effective date.
    pub effective_on: NaiveDate,
    /// Role before.
    pub from_role: String,
    /// Level before.
    pub from_level: Option<u8>,
    /// Employer before.
    pub from_organisation: String,
    /// Role after.
    pub to_role: String,
    /// Level after.
    pub to_level: Option<u8>,
    /// Employer after.
    pub to_organisation: String,
    /// Resolved kind.
    pub kind: MoveKind,
    /// Same organisation after as immediately before.
    pub internal: bool,
    /// A rejoining after a leaving.
    pub rejoining: bool,
}

/// A leaving event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Leaving {
    /// Effective date (not employed at the end of it).
    pub effective_on: NaiveDate,
    /// Employer left.
    pub organisation: String,
    /// Role held immediately before leaving.
    pub role_code: String,
    /// FTE of that role.
    pub fte: f64,
}

/// An exclusion from analysis, half-open `[from, until)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Exclusion {
    /// Effective date.
    #[sqlx(rename = "from_on")]
    pub from: NaiveDate,
    /// End of the exclusion; `None` = open.
    #[sqlx(rename = "until_on")]
    pub until: Option<NaiveDate>,
    /// Why (for example "left to work abroad").
    pub reason: String,
}

impl Span for Exclusion {
    fn span(&self) -> (NaiveDate, Option<NaiveDate>) {
        (self.from, self.until)
    }
}

/// A cohort (intake) of a programme.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Cohort {
    /// Identity.
    pub cohort_id: Uuid,
    /// Programme name.
    pub programme: String,
    /// Cohort name (for example "cohort 1 (2017)").
    pub name: String,
    /// Start date of the cohort.
    pub starts_on: NaiveDate,
    /// Enrolled participants.
    #[sqlx(skip)]
    pub members: Vec<Member>,
}

/// One enrolment in a cohort.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Member {
    /// The participant.
    pub participant_id: Uuid,
    /// Enrolment date.
    pub enrolled_on: NaiveDate,
    /// Completion date, if completed.
    pub completed_on: Option<NaiveDate>,
    /// Withdrawal date, if withdrawn.
    pub withdrawn_on: Option<NaiveDate>,
}

/// An established post.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Post {
    /// Identity.
    pub post_id: Uuid,
    /// Organisation.
    pub organisation: String,
    /// Title.
    pub title: String,
    /// Role code of the post.
    pub role_code: String,
    /// Established on (counts from the end of this day).
    pub established_on: NaiveDate,
    /// Disestablished on (no longer counts from this day).
    pub disestablished_on: Option<NaiveDate>,
    /// Who held the post, half-open intervals.
    #[sqlx(skip)]
    pub occupancies: Vec<Occupancy>,
}

impl Post {
    /// Whether the post counts on `day`: established on or before it and
    /// not disestablished on or before it.
    pub fn established_at_end_of(&self, day: NaiveDate) -> bool {
        days::covers(self.established_on, self.disestablished_on, day)
    }
}

/// One holder of a post, half-open `[from, until)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Occupancy {
    /// The holder.
    pub participant_id: Uuid,
    /// Basis of holding.
    pub basis: Basis,
    /// First day held.
    pub from: NaiveDate,
    /// First day no longer held; `None` = still held.
    pub until: Option<NaiveDate>,
}

impl Span for Occupancy {
    fn span(&self) -> (NaiveDate, Option<NaiveDate>) {
        (self.from, self.until)
    }
}
