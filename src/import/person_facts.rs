//! The commands a person's row asks for, and a refusal as a row error: the
//! API's rules and codes, named by the file's columns.

use aggregates::decisions::{self, DecisionError};
use aggregates::ladder::{Basis, Levels, RoleRef};
use aggregates::participant::{Participant, ParticipantCommand};
use uuid::Uuid;

use super::facts::{Fact, FactKind, RowError, Text};

/// The organisation a row of `fact` is about: its own, or (a role change
/// that names none) the person's on that day.
pub(super) fn organisation(fact: &Fact, participant: &Participant) -> Result<String, RowError> {
    match &fact.organisation {
        Some(organisation) => Ok(organisation.to_string()),
        None => decisions::organisation_on(participant, fact.effective_on)
            .map(str::to_string)
            .ok_or_else(|| {
                error(
                    fact,
                    "organisation",
                    "not_employed",
                    "they are not employed on this day, so the organisation must be given",
                )
            }),
    }
}

/// The participant command a joined, changed_role, left, rejoined,
/// excluded or exclusion_lifted row asks for, taking the person into
/// `post_id` when the row names a post.
pub(super) fn command(
    id: Uuid,
    fact: &Fact,
    organisation: String,
    post_id: Option<Uuid>,
    levels: &Levels,
) -> Result<ParticipantCommand, RowError> {
    let basis = fact.basis.unwrap_or(Basis::Permanent);
    let reason = || fact.reason.as_deref().map(str::to_string).unwrap_or_default();
    let text = |value: &Option<Text>| value.as_deref().map(str::to_string);
    Ok(match fact.kind {
        FactKind::Joined => ParticipantCommand::Register {
            participant_id: id,
            external_ref: fact.person.to_string(),
            role: role(fact, &organisation, levels)?,
            organisation,
            team: text(&fact.team),
            post_id,
            basis,
            fte: fact.fte.unwrap_or(1.0),
            joined_on: fact.effective_on,
        },
        FactKind::ChangedRole => ParticipantCommand::ChangeRole {
            effective_on: fact.effective_on,
            role: role(fact, &organisation, levels)?,
            organisation,
            team: text(&fact.team),
            post_id,
            basis,
            fte: fact.fte,
            kind: fact.move_kind,
        },
        FactKind::Rejoined => ParticipantCommand::RecordRejoining {
            effective_on: fact.effective_on,
            role: role(fact, &organisation, levels)?,
            organisation,
            team: text(&fact.team),
            post_id,
            basis,
            fte: fact.fte.unwrap_or(1.0),
            kind: fact.move_kind,
        },
        FactKind::Left => ParticipantCommand::RecordLeaving {
            effective_on: fact.effective_on,
            reason: reason(),
            destination: text(&fact.destination),
        },
        FactKind::Excluded => ParticipantCommand::ExcludeFromAnalysis {
            effective_on: fact.effective_on,
            reason: reason(),
        },
        _ => ParticipantCommand::LiftExclusion {
            effective_on: fact.effective_on,
            reason: reason(),
        },
    })
}

/// The fact's role on `organisation`'s ladder, as the API resolves it.
pub(super) fn role(fact: &Fact, organisation: &str, levels: &Levels) -> Result<RoleRef, RowError> {
    let code = fact.role.as_deref().map(str::to_string).unwrap_or_default();
    match levels.level_of(organisation, &code) {
        Some(level) => Ok(RoleRef { code, level }),
        None => {
            let known: Vec<&str> = levels
                .ladder_of(organisation)
                .roles()
                .iter()
                .map(|r| r.code.as_str())
                .collect();
            Err(error(
                fact,
                "role",
                "unknown_role",
                &format!(
                    "{code:?} is not a role on {organisation}'s ladder; known roles: {}",
                    known.join(", ")
                ),
            ))
        }
    }
}

/// A refusal by the aggregates' rules, on the fact's line.
pub(super) fn refusal(fact: &Fact, e: &DecisionError) -> RowError {
    RowError {
        line: fact.line,
        column: e.field().and_then(|field| column_of(fact, field)),
        person: (!fact.person.is_empty()).then(|| fact.person.to_string()),
        error: e.code().to_string(),
        message: e.to_string(),
    }
}

/// The file's column for a field a rule names (the API's dates are the
/// file's `effective_on`, its `participant_id` and `external_ref` the
/// `person`, a post's id or reference `post`, a cohort's id or name
/// `cohort`, a retraction's `sequence` and `reason` `retracts` and
/// `retraction_reason`); none for a field the file has no column for.
fn column_of(fact: &Fact, field: &str) -> Option<String> {
    let column = match field {
        "joined_on" | "enrolled_on" | "completed_on" | "withdrawn_on" | "starts_on" | "established_on" => {
            "effective_on"
        }
        "participant_id" | "external_ref" => "person",
        "post_id" | "reference" => "post",
        "cohort_id" | "name" => "cohort",
        "sequence" => "retracts",
        "reason" if fact.kind == FactKind::Retraction => "retraction_reason",
        other => other,
    };
    super::facts::COLUMNS.contains(&column).then(|| column.to_string())
}

pub(super) fn error(fact: &Fact, column: &str, code: &str, message: &str) -> RowError {
    RowError {
        line: fact.line,
        column: Some(column.to_string()),
        person: (!fact.person.is_empty()).then(|| fact.person.to_string()),
        error: code.to_string(),
        message: message.to_string(),
    }
}

/// `facts` (in date order, same-day facts in file order) as they are
/// decided: retractions of facts not in the file first, then each other
/// fact followed by any retraction of it; on one day, the person's cohort
/// facts after their other facts (an enrolment on the day someone joins
/// finds them employed, whatever the order of the rows).
pub(super) fn in_deciding_order(facts: &[Fact]) -> Vec<&Fact> {
    let mut facts: Vec<&Fact> = facts.iter().collect();
    facts.sort_by_key(|f| (f.effective_on, is_cohort_fact(f.subject())));
    let in_file: std::collections::HashSet<[u8; 32]> = facts
        .iter()
        .filter(|f| f.kind != FactKind::Retraction)
        .map(|f| f.fingerprint)
        .collect();
    let (retractions, others): (Vec<&Fact>, Vec<&Fact>) =
        facts.into_iter().partition(|f| f.kind == FactKind::Retraction);
    let mut order: Vec<&Fact> = retractions
        .iter()
        .filter(|r| !r.retracted.is_some_and(|t| in_file.contains(&t)))
        .copied()
        .collect();
    for fact in others {
        order.push(fact);
        order.extend(retractions.iter().filter(|r| r.retracted == Some(fact.fingerprint)));
    }
    order
}

/// Whether a fact of `kind` is recorded on a cohort's stream.
pub(super) fn is_cohort_fact(kind: FactKind) -> bool {
    matches!(kind, FactKind::Enrolled | FactKind::Completed | FactKind::Withdrawn)
}
