//! Deriving facts from what census returns observed: each worker's rows
//! are compared with the worker as the store knows them (their loaded
//! history, whether it came from an earlier return, a facts file or the
//! API), and what differs becomes ordinary facts, decided by `people.rs`
//! with the API's rules like any facts file's. Every derived fact carries
//! the rule that derived it, recorded in its events' metadata
//! (`derivation`); docs/design.md "Importing census returns" states each
//! rule and its limits.
//!
//! Deriving against the store's state is also what makes a return
//! idempotent: a second import of the same return finds every worker as
//! the first left them, so nothing differs and nothing is derived.

use std::collections::{BTreeMap, BTreeSet};

use aggregates::ladder::{Basis, Levels};
use aggregates::participant::Participant;
use chrono::NaiveDate;
use sqlx::PgPool;

use super::census::{collection_date, Observation, ReturnRow, Returns};
use super::facts::{self, Fact, FactKind, RowError, Text};

/// How a fact was derived from a census return: the rule, as recorded in
/// the metadata's `derivation`, and the return's column its date came
/// from (so a refusal names the column the user can fix).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Derivation {
    pub rule: &'static str,
    pub date_column: &'static str,
}

const fn rule(rule: &'static str, date_column: &'static str) -> Derivation {
    Derivation { rule, date_column }
}

/// A worker the store does not know, joined on the return's start date.
pub const JOINED_ON_START_DATE: Derivation = rule("census:joined_on_start_date", "RoleStartDate");
/// …or, with no start date, on the first day of the collection year.
pub const JOINED_AT_YEAR_START: Derivation = rule("census:joined_at_year_start", "CollectionYear");
/// A worker the store has as left, rejoined on the return's start date.
pub const REJOINED_ON_START_DATE: Derivation = rule("census:rejoined_on_start_date", "RoleStartDate");
/// …or, with no start date after the leaving, on the first day of the
/// collection year.
pub const REJOINED_AT_YEAR_START: Derivation = rule("census:rejoined_at_year_start", "CollectionYear");
/// …or, having left during the collection year, on the day they left.
pub const REJOINED_ON_LEAVING_DATE: Derivation = rule("census:rejoined_on_leaving_date", "CollectionYear");
/// Role, organisation, FTE or agency status differs, dated by the
/// return's start date when it is later than the spell the store has open.
pub const CHANGED_ON_START_DATE: Derivation = rule("census:changed_on_start_date", "RoleStartDate");
/// …else, for a leaver, on the leaving date (so they leave in the role the
/// return gives).
pub const CHANGED_ON_LEAVING_DATE: Derivation = rule("census:changed_on_leaving_date", "RoleEndDate");
/// …else on the collection date.
pub const CHANGED_AT_COLLECTION_DATE: Derivation = rule("census:changed_at_collection_date", "CollectionYear");
/// The return gives a leaving date.
pub const LEFT_ON_LEAVING_DATE: Derivation = rule("census:left_on_leaving_date", "RoleEndDate");
/// An earlier return had the worker in post in this organisation; this
/// one does not have them at all: left on its collection date.
pub const LEFT_ABSENT_FROM_RETURN: Derivation = rule("census:left_absent_from_return", "CollectionYear");

/// The reason recorded for a worker absent from a return.
pub const ABSENT_REASON: &str = "not in the census return";

/// The worker as far as a return can tell: unknown, left, or in post.
#[derive(Debug, Clone, PartialEq)]
enum Known {
    Unknown,
    Left { on: NaiveDate, role: Option<String> },
    InPost(InPost),
}

#[derive(Debug, Clone, PartialEq)]
struct InPost {
    organisation: Text,
    team: Option<Text>,
    role: Text,
    basis: Basis,
    fte: f64,
    since: NaiveDate,
}

impl Known {
    /// The end of `participant`'s recorded history.
    fn of(participant: &Participant, levels: &Levels) -> Known {
        let judged = participant.clone().judged_with(levels.clone());
        let Some(timeline) = judged.timeline() else {
            return Known::Unknown;
        };
        match timeline.current() {
            Some(spell) => Known::InPost(InPost {
                organisation: spell.organisation.as_str().into(),
                team: spell.team.as_deref().map(Into::into),
                role: spell.role.code.as_str().into(),
                basis: spell.basis,
                fte: spell.fte,
                since: spell.from,
            }),
            None => Known::Left {
                on: timeline
                    .leavings()
                    .last()
                    .map_or(timeline.joined_on(), |l| l.effective_on),
                role: timeline.leavings().last().map(|l| l.role.code.clone()),
            },
        }
    }
}

/// The facts `observations` (one worker's, any order) add to what the
/// store knows of them (`participant`, empty when new), in date order.
pub(super) fn facts_for(
    person: &str,
    participant: &Participant,
    observations: &[Observation],
    levels: &Levels,
) -> Vec<Fact> {
    let person: &Text = &Text::from(person);
    let mut known = Known::of(participant, levels);
    let mut ordered: Vec<&Observation> = observations.iter().collect();
    // A worker on two rows of one return (left and came back within the
    // year) is taken spell by spell; absences after every row.
    ordered.sort_by_key(|o| match o {
        Observation::Row(row) => (false, row.started_on.unwrap_or(row.year_start()), row.line),
        Observation::Absent { .. } => (true, NaiveDate::MIN, 0),
    });
    let mut derived = Vec::new();
    for observation in ordered {
        match observation {
            Observation::Row(row) => from_row(person, row, &mut known, &mut derived),
            Observation::Absent { organisation, year } => {
                let on = collection_date(*year);
                if let Known::InPost(in_post) = &known {
                    if in_post.organisation == *organisation && in_post.since <= on {
                        let mut fact = blank(person, 0, FactKind::Left, on, LEFT_ABSENT_FROM_RETURN);
                        fact.reason = Some(ABSENT_REASON.into());
                        known = Known::Left {
                            on,
                            role: Some(in_post.role.to_string()),
                        };
                        derived.push(sealed(fact));
                    }
                }
            }
        }
    }
    derived
}

/// The facts one row adds to `known`, which it then updates.
fn from_row(person: &Text, row: &ReturnRow, known: &mut Known, derived: &mut Vec<Fact>) {
    let collection_date = row.collection_date();
    let year_start = row.year_start();
    let start = |kind, on, derivation, role: Text| {
        let mut fact = blank(person, row.line, kind, on, derivation);
        fact.organisation = Some(row.organisation.clone());
        fact.role = Some(role);
        fact.basis = Some(if row.agency { Basis::Agency } else { Basis::Permanent });
        fact.fte = Some(row.fte);
        fact
    };
    match &*known {
        Known::Unknown => {
            let (on, derivation) = match row.started_on {
                Some(on) => (on, JOINED_ON_START_DATE),
                None => (year_start, JOINED_AT_YEAR_START),
            };
            derived.push(sealed(start(
                FactKind::Joined,
                on,
                derivation,
                row.role.recorded_as.into(),
            )));
        }
        Known::Left { on: left_on, role } => {
            // The store has them leaving on or after this row's leaving,
            // or after this row's collection date: nothing new here.
            if row.left_on.is_some_and(|d| d <= *left_on) || (row.left_on.is_none() && *left_on > collection_date) {
                return;
            }
            let (on, derivation) = match row.started_on {
                Some(on) if on >= *left_on => (on, REJOINED_ON_START_DATE),
                _ if year_start > *left_on => (year_start, REJOINED_AT_YEAR_START),
                _ => (*left_on, REJOINED_ON_LEAVING_DATE),
            };
            let role = role
                .as_deref()
                .filter(|r| row.role.covers.contains(r))
                .unwrap_or(row.role.recorded_as);
            derived.push(sealed(start(FactKind::Rejoined, on, derivation, role.into())));
        }
        Known::InPost(in_post) => {
            // The store knows a spell that started after what this row
            // describes: the row says nothing new.
            if row.left_on.is_some_and(|d| d < in_post.since) || in_post.since > collection_date {
                return;
            }
            let role_kept = row.role.covers.contains(&&*in_post.role);
            let differs = in_post.organisation != row.organisation
                || !role_kept
                || (in_post.fte - row.fte).abs() > 1e-9
                || (in_post.basis == Basis::Agency) != row.agency;
            if differs {
                let (on, derivation) = match (row.started_on, row.left_on) {
                    (Some(on), _) if on > in_post.since => (on, CHANGED_ON_START_DATE),
                    (_, Some(on)) => (on, CHANGED_ON_LEAVING_DATE),
                    _ => (collection_date, CHANGED_AT_COLLECTION_DATE),
                };
                let role: Text = if role_kept {
                    in_post.role.clone()
                } else {
                    row.role.recorded_as.into()
                };
                let mut fact = start(FactKind::ChangedRole, on, derivation, role);
                // The return knows no teams, and no interim or acting terms.
                if in_post.organisation == row.organisation {
                    fact.team.clone_from(&in_post.team);
                }
                if !row.agency && in_post.basis != Basis::Agency {
                    fact.basis = Some(in_post.basis);
                }
                derived.push(sealed(fact));
            }
        }
    }
    match row.left_on {
        Some(on) => {
            let mut fact = blank(person, row.line, FactKind::Left, on, LEFT_ON_LEAVING_DATE);
            fact.reason = row.reason.map(Into::into);
            fact.destination = row.destination.map(Into::into);
            derived.push(sealed(fact));
            *known = Known::Left {
                on,
                role: Some(row.role.recorded_as.to_string()),
            };
        }
        None => {
            let role = derived
                .last()
                .filter(|f| f.line == row.line)
                .and_then(|f| f.role.clone());
            if let (Some(role), Some(fact)) = (role, derived.last()) {
                *known = Known::InPost(InPost {
                    organisation: row.organisation.clone(),
                    team: fact.team.clone(),
                    role,
                    basis: fact.basis.unwrap_or(Basis::Permanent),
                    fte: row.fte,
                    since: fact.effective_on,
                });
            }
        }
    }
}

/// A derived fact with nothing but its kind, date and derivation.
fn blank(person: &Text, line: u64, kind: FactKind, effective_on: NaiveDate, derivation: Derivation) -> Fact {
    Fact {
        line,
        kind,
        person: person.clone(),
        effective_on,
        organisation: None,
        team: None,
        role: None,
        basis: None,
        fte: None,
        move_kind: None,
        reason: None,
        destination: None,
        programme: None,
        cohort: None,
        ends_on: None,
        post: None,
        title: None,
        retracts: None,
        retraction_reason: None,
        fingerprint: [0; 32],
        derivation: Some(derivation),
        retracted: None,
    }
}

/// `fact` with its fingerprint: a derived fact's key is made of what it
/// says, as a facts file's is.
fn sealed(mut fact: Fact) -> Fact {
    fact.fingerprint = facts::fingerprint(fact.kind, &fact);
    fact
}

/// A refusal of a derived fact, naming the return's columns rather than a
/// facts file's.
pub(super) fn in_return_terms(fact: &Fact, mut error: RowError) -> RowError {
    let Some(derivation) = fact.derivation else {
        return error;
    };
    error.column = error.column.map(|column| {
        match column.as_str() {
            "effective_on" => derivation.date_column,
            "person" => "SWENo",
            "organisation" => "Organisation",
            // A move's kind is the roles' to tell.
            "role" | "kind" => "OrgRole",
            "fte" => "FTE",
            "basis" => "AgencyWorker",
            "reason" => "ReasonLeave",
            "destination" => "LeaverDestination",
            _ => derivation.date_column,
        }
        .to_string()
    });
    error
}

/// Workers absent from `returns`: everyone ever in one of its
/// organisations with a fact derived from an earlier census return whom
/// this file does not name, once per organisation the file returns for.
/// Whether they were in post in that organisation is decided with their
/// history loaded (`facts_for`).
pub(super) async fn absent_workers(
    pool: &PgPool,
    returns: &Returns,
) -> Result<BTreeMap<Text, Vec<Observation>>, sqlx::Error> {
    let mut absent = BTreeMap::new();
    let Some(year) = returns.year else {
        return Ok(absent);
    };
    let organisations: Vec<String> = returns.organisations.iter().map(|o| o.to_string()).collect();
    // People ever in one of the file's organisations, with a fact derived
    // from a census return: the rest cannot be in post there from a return.
    let refs: Vec<String> = sqlx::query_scalar(
        // Members come from `event_organisations` (every stream that ever
        // named an organisation, indexed by it) and each member's events
        // are read by the primary key: the cost grows with the
        // organisations', not the whole store's, history.
        "SELECT r.payload -> 'Registered' ->> 'external_ref' FROM events r \
          WHERE r.aggregate_type = 'participant' AND r.event_type = 'ParticipantRegistered' \
            AND r.aggregate_id IN (SELECT aggregate_id FROM event_organisations \
                                    WHERE organisation = ANY($1) AND aggregate_type = 'participant') \
            AND EXISTS (SELECT 1 FROM events d \
                         WHERE d.aggregate_type = 'participant' AND d.aggregate_id = r.aggregate_id \
                           AND d.metadata ->> 'derivation' LIKE 'census:%')",
    )
    .bind(&organisations)
    .fetch_all(pool)
    .await?;
    let named: &BTreeSet<String> = &returns.named;
    for person in refs.into_iter().filter(|r| !named.contains(r)) {
        let observations = returns
            .organisations
            .iter()
            .map(|organisation| Observation::Absent {
                organisation: organisation.clone(),
                year,
            })
            .collect();
        absent.insert(Text::from(person.as_str()), observations);
    }
    Ok(absent)
}
