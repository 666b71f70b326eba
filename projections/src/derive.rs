//! From one aggregate's events to its part of the report input.
//!
//! The projector and the "as known at" replay both go through [`derive`], so
//! the read models and a replay can only differ in which events they see and
//! which ladders they judge with: the projector the ladders in force now, a
//! replay those known at its `known_at` (docs/metrics.md decision 14).

use aggregates::cohort::Cohort as CohortAggregate;
use aggregates::participant::Participant;
use aggregates::post::Post as PostAggregate;
use aggregates::Levels;
use cqrs_es::Aggregate;
use serde::de::DeserializeOwned;

use crate::reports::model::{Cohort, Exclusion, Leaving, Member, Move, Occupancy, Person, Post, Spell};
use crate::source::StoredEvent;

/// One aggregate's contribution to the report input.
#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    Person(Person),
    Cohort(Cohort),
    Post(Post),
    /// An aggregate type reports do not use, or a stream with no valid state.
    Nothing,
}

/// A stored event that does not decode into the current event types.
#[derive(Debug, thiserror::Error)]
#[error("{aggregate_type} {aggregate_id} event #{sequence} does not decode: {reason}")]
pub struct DeriveError {
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub reason: String,
}

/// An event as a derivation reads it: its stream, its place there, and its
/// payload to decode. Implemented by [`StoredEvent`] and by the leaner rows
/// a rebuild reads (payload as text, decoded straight into the typed event).
pub trait EventRecord {
    fn aggregate_type(&self) -> &str;
    fn aggregate_id(&self) -> &str;
    fn sequence(&self) -> i64;
    /// The payload decoded into the aggregate's event type.
    fn decode<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error>;
}

impl EventRecord for StoredEvent {
    fn aggregate_type(&self) -> &str {
        &self.aggregate_type
    }

    fn aggregate_id(&self) -> &str {
        &self.aggregate_id
    }

    fn sequence(&self) -> i64 {
        self.sequence
    }

    fn decode<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        // From a reference: no copy of the payload.
        T::deserialize(&self.payload)
    }
}

/// `start` with `events` applied in order.
fn fold<A: Aggregate, E: EventRecord>(start: A, events: &[E]) -> Result<A, DeriveError>
where
    A::Event: DeserializeOwned,
{
    let mut aggregate = start;
    for e in events {
        let event: A::Event = e.decode().map_err(|err| DeriveError {
            aggregate_type: e.aggregate_type().to_string(),
            aggregate_id: e.aggregate_id().to_string(),
            sequence: e.sequence(),
            reason: err.to_string(),
        })?;
        aggregate.apply(event);
    }
    Ok(aggregate)
}

/// Derives the report input of one aggregate from its events (stream
/// order), judging a participant's roles with `levels`.
pub fn derive<E: EventRecord>(aggregate_type: &str, events: &[E], levels: &Levels) -> Result<Part, DeriveError> {
    Ok(match aggregate_type {
        "participant" => fold(Participant::default().judged_with(levels.clone()), events)?
            .timeline()
            .map_or(Part::Nothing, |t| Part::Person(person(t))),
        "cohort" => cohort(&fold(CohortAggregate::default(), events)?).map_or(Part::Nothing, Part::Cohort),
        "post" => post(&fold(PostAggregate::default(), events)?).map_or(Part::Nothing, Part::Post),
        _ => Part::Nothing,
    })
}

fn person(t: &aggregates::participant::Timeline) -> Person {
    Person {
        participant_id: t.participant_id(),
        external_ref: t.external_ref().to_string(),
        spells: t
            .spells()
            .iter()
            .map(|s| Spell {
                organisation: s.organisation.clone(),
                team: s.team.clone(),
                role_code: s.role.code.clone(),
                role_level: s.role.level,
                post_id: s.post_id,
                basis: s.basis,
                fte: s.fte,
                from: s.from,
                until: s.until,
                ended_by: s.ended_by,
            })
            .collect(),
        moves: t
            .moves()
            .iter()
            .map(|m| Move {
                effective_on: m.effective_on,
                from_role: m.from_role.code.clone(),
                from_level: m.from_role.level,
                from_organisation: m.from_organisation.clone(),
                to_role: m.to_role.code.clone(),
                to_level: m.to_role.level,
                to_organisation: m.to_organisation.clone(),
                kind: m.kind,
                internal: m.internal,
                rejoining: m.rejoining,
            })
            .collect(),
        leavings: t
            .leavings()
            .iter()
            .map(|l| Leaving {
                effective_on: l.effective_on,
                organisation: l.organisation.clone(),
                role_code: l.role.code.clone(),
                fte: l.fte,
            })
            .collect(),
        exclusions: t
            .exclusions()
            .iter()
            .map(|x| Exclusion {
                from: x.from,
                until: x.until,
                reason: x.reason.clone(),
            })
            .collect(),
    }
}

fn cohort(c: &CohortAggregate) -> Option<Cohort> {
    let view = c.view()?;
    Some(Cohort {
        cohort_id: view.cohort_id,
        programme: view.programme,
        name: view.name,
        starts_on: view.starts_on,
        members: view
            .members
            .into_iter()
            .map(|m| Member {
                participant_id: m.participant_id,
                enrolled_on: m.enrolled_on,
                completed_on: m.completed_on,
                withdrawn_on: m.withdrawn_on,
            })
            .collect(),
    })
}

fn post(p: &PostAggregate) -> Option<Post> {
    let view = p.view()?;
    let established_on = p.established_on()?;
    Some(Post {
        post_id: view.post_id,
        organisation: p.organisation().to_string(),
        title: p.title().to_string(),
        role_code: p.role().code.clone(),
        established_on,
        disestablished_on: p.disestablished_on(),
        occupancies: p
            .occupancies()
            .iter()
            .map(|o| Occupancy {
                participant_id: o.participant_id,
                basis: o.basis,
                from: o.from,
                until: o.until,
            })
            .collect(),
    })
}

/// Puts a dataset's parts in one canonical order, so that reports computed
/// from read models and from a replay list things identically.
pub fn canonical_order(dataset: &mut crate::reports::model::Dataset) {
    dataset.people.sort_by_key(|p| p.participant_id);
    dataset.cohorts.sort_by(|a, b| {
        (&a.programme, a.starts_on, &a.name, a.cohort_id).cmp(&(&b.programme, b.starts_on, &b.name, b.cohort_id))
    });
    for c in &mut dataset.cohorts {
        c.members.sort_by_key(|m| m.participant_id);
    }
    dataset.posts.sort_by_key(|p| p.post_id);
}
