//! The retraction bookkeeping the three aggregates share.
//!
//! A stream is a list of `(sequence, event)`. Some events retract an earlier
//! one; the *live* events are the rest minus those retracted. The checks here
//! are structural (does the target exist, is it retractable); whether the
//! remaining history still makes sense is each aggregate's own question.

use std::collections::BTreeSet;

/// What the shared bookkeeping needs to know about an event.
pub(crate) trait Retractable {
    /// The sequence this event retracts, if it is a retraction.
    fn retracts(&self) -> Option<u64>;
    /// Whether this event creates the stream (and so can never be retracted).
    fn creates_stream(&self) -> bool;
}

/// Why a retraction is structurally impossible.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RetractionIssue {
    /// No earlier event has that sequence.
    Unknown(u64),
    /// The event was retracted already.
    AlreadyRetracted(u64),
    /// The event creates the stream or is itself a retraction.
    NotRetractable(u64),
}

/// Checks whether the event with `target` could be retracted by an event
/// recorded after all of `events`.
pub(crate) fn check_target<E: Retractable>(
    events: &[(u64, E)],
    retracted: &BTreeSet<u64>,
    target: u64,
) -> Result<(), RetractionIssue> {
    let event = events
        .iter()
        .find(|(s, _)| *s == target)
        .map(|(_, e)| e)
        .ok_or(RetractionIssue::Unknown(target))?;
    if event.creates_stream() || event.retracts().is_some() {
        return Err(RetractionIssue::NotRetractable(target));
    }
    if retracted.contains(&target) {
        return Err(RetractionIssue::AlreadyRetracted(target));
    }
    Ok(())
}

/// The live (neither retracting nor retracted) events of a stream, in stream
/// order, after checking every retraction in it targets an earlier,
/// retractable, not yet retracted event.
pub(crate) fn live_events<E: Retractable>(events: &[(u64, E)]) -> Result<Vec<(u64, &E)>, RetractionIssue> {
    let mut retracted = BTreeSet::new();
    for (i, (_, event)) in events.iter().enumerate() {
        if let Some(target) = event.retracts() {
            check_target(&events[..i], &retracted, target)?;
            retracted.insert(target);
        }
    }
    Ok(events
        .iter()
        .filter(|(s, e)| e.retracts().is_none() && !retracted.contains(s))
        .map(|(s, e)| (*s, e))
        .collect())
}

/// The sequences retracted so far in `events`.
pub(crate) fn retracted_set<E: Retractable>(events: &[(u64, E)]) -> BTreeSet<u64> {
    events.iter().filter_map(|(_, e)| e.retracts()).collect()
}
