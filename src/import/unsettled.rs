//! A post held by several people in turn, imported in any order.
//!
//! People are decided one after another, each whole. When a post's later
//! occupant is already recorded, the earlier occupant's filling is judged
//! before their own vacating (a later row of theirs) is applied, so the
//! post looks doubly held from the later occupant's start and the API's
//! rule refuses it (`two_permanent_occupants`). The import instead decides
//! that person's post facts against the post without other people's spells
//! that start after the fact, applies the events to the real post, and
//! checks the real post's whole history once all of the person's facts are
//! decided: the person stands only if their spells end in time, and is
//! refused with the original refusal otherwise. What is appended is
//! checked by the post's own rules (its history is derived from every
//! event), so nothing the API would refuse as a whole is recorded.

use std::collections::{BTreeMap, HashSet};

use aggregates::decisions::DecisionError;
use aggregates::post::{Post, PostError, PostEvent};
use chrono::NaiveDate;
use cqrs_es::Aggregate;
use uuid::Uuid;

use super::facts::RowError;
use super::streams::Held;

/// Whether a refusal may be settled by the person's own later facts: a
/// post doubly held because of another occupant's later spell.
pub(super) fn may_settle(e: &DecisionError) -> bool {
    matches!(e, DecisionError::Post(PostError::TwoPermanentOccupants { .. }))
}

/// `post` as seen by `person` deciding a fact dated `after`: every other
/// person's spell in it that starts after that day withdrawn (a view only,
/// never stored; the retractions keep every event's sequence).
pub(super) fn without_later_spells(post: &Post, person: Uuid, after: NaiveDate) -> Post {
    let mut live: Vec<&(u64, PostEvent)> = post.events().iter().filter(|(s, _)| !post.is_retracted(*s)).collect();
    live.sort_by_key(|(sequence, event)| (event.effective_on(), *sequence));
    let mut later: HashSet<Uuid> = HashSet::new();
    let mut hidden = Vec::new();
    for (sequence, event) in live {
        match event {
            PostEvent::Filled {
                participant_id,
                effective_on,
                ..
            } if *participant_id != person && *effective_on > after => {
                later.insert(*participant_id);
                hidden.push(*sequence);
            }
            PostEvent::Vacated { participant_id, .. } if later.remove(participant_id) => hidden.push(*sequence),
            _ => {}
        }
    }
    let mut view = post.clone();
    for retracted_sequence in hidden {
        view.apply(PostEvent::EventRetracted {
            retracted_sequence,
            reason: String::new(),
        });
    }
    view
}

/// The refusal of the first post `unsettled` still doubly held once the
/// person's facts are all decided.
pub(super) fn still_unsettled(
    unsettled: &BTreeMap<Uuid, RowError>,
    posts: &BTreeMap<Uuid, Held<Post>>,
) -> Option<RowError> {
    unsettled
        .iter()
        .find(|(id, _)| posts.get(id).is_none_or(|held| held.aggregate.history().is_none()))
        .map(|(_, error)| error.clone())
}
