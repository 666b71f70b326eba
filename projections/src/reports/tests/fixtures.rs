//! Small builders for hand-made datasets.

use chrono::NaiveDate;
use uuid::Uuid;

use crate::reports::model::*;

/// Parses "YYYY-MM-DD".
pub(crate) fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test date")
}

/// A deterministic id from a small number.
pub(crate) fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

/// A person with no history.
pub(crate) fn person(n: u128) -> Person {
    Person {
        participant_id: id(n),
        external_ref: format!("P{n}"),
        spells: vec![],
        moves: vec![],
        leavings: vec![],
        exclusions: vec![],
    }
}

/// A dataset of `people` with no cohorts and no posts.
pub(crate) fn of_people(people: Vec<Person>) -> Dataset {
    Dataset {
        people,
        ..Dataset::default()
    }
}

/// People and one cohort, no posts.
pub(crate) fn with_cohort(people: Vec<Person>, cohort: Cohort) -> Dataset {
    Dataset {
        people,
        cohorts: vec![cohort],
        posts: vec![],
    }
}

/// Person `n` with the history `f` gives them.
pub(crate) fn with(n: u128, f: impl FnOnce(&mut Person)) -> Person {
    let mut p = person(n);
    f(&mut p);
    p
}

/// A permanent full-time spell at `org` in `role` from `from`, ended by a
/// leaving on `left_on`, and that leaving.
pub(crate) fn worked_then_left(p: &mut Person, org: &str, role: &str, from: &str, left_on: &str) {
    p.spells
        .push(spell(org, role, from, Some(left_on), Some(SpellEnd::Leaving)));
    p.leavings.push(leaving(left_on, org, role));
}

/// A permanent full-time spell.
pub(crate) fn spell(org: &str, role: &str, from: &str, until: Option<&str>, ended_by: Option<SpellEnd>) -> Spell {
    Spell {
        organisation: org.into(),
        team: None,
        role_code: role.into(),
        role_level: None,
        post_id: None,
        basis: Basis::Permanent,
        fte: 1.0,
        from: d(from),
        until: until.map(d),
        ended_by,
    }
}

/// A move of the given kind; internal when the organisations match.
pub(crate) fn mv(on: &str, from: (&str, &str), to: (&str, &str), kind: MoveKind) -> Move {
    Move {
        effective_on: d(on),
        from_role: from.1.into(),
        from_level: None,
        from_organisation: from.0.into(),
        to_role: to.1.into(),
        to_level: None,
        to_organisation: to.0.into(),
        kind,
        internal: from.0 == to.0,
        rejoining: false,
    }
}

/// A leaving event at full time.
pub(crate) fn leaving(on: &str, org: &str, role: &str) -> Leaving {
    Leaving {
        effective_on: d(on),
        organisation: org.into(),
        role_code: role.into(),
        fte: 1.0,
    }
}

/// An open exclusion.
pub(crate) fn exclusion(from: &str) -> Exclusion {
    Exclusion {
        from: d(from),
        until: None,
        reason: "left to work abroad".into(),
    }
}

/// A member enrolled on a date.
pub(crate) fn member(n: u128, enrolled: &str) -> Member {
    Member {
        participant_id: id(n),
        enrolled_on: d(enrolled),
        completed_on: None,
        withdrawn_on: None,
    }
}

/// A cohort.
pub(crate) fn cohort(n: u128, name: &str, starts: &str, members: Vec<Member>) -> Cohort {
    Cohort {
        cohort_id: id(1000 + n),
        programme: "PLDP".into(),
        name: name.into(),
        starts_on: d(starts),
        members,
    }
}
