//! Deciding with the timeline extended by one event (rather than derived
//! from every event again) must give exactly what deriving it from every
//! event gives: the same timeline, or the same refusal.

use cqrs_es::Aggregate;

use super::tests::{changed, day, left, registered, rejoined, retracted, role, sw, tm};
use super::*;
use crate::ladder::MoveKind;
use crate::stream::EventStream;

/// A small deterministic generator (no dependency needed for a test).
struct Dice(u64);

impl Dice {
    fn roll(&mut self, sides: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % sides
    }
}

fn some_role(dice: &mut Dice) -> RoleRef {
    match dice.roll(5) {
        0 => sw(),
        1 => tm(),
        2 => role("senior_practitioner", Some(3)),
        3 => role("service_manager", Some(6)),
        _ => role("apprentice", None),
    }
}

/// A next event: mostly dated after the last one, sometimes before it or
/// on the same day; sometimes one that breaks a rule.
fn some_event(dice: &mut Dice, on: chrono::NaiveDate, recorded: u64) -> ParticipantEvent {
    let on = on
        .checked_add_signed(chrono::Duration::days(dice.roll(400) as i64 - 60))
        .expect("a date in range")
        .to_string();
    let organisation = ["Northshire", "Southshire"][dice.roll(2) as usize];
    let kind = [None, None, Some(MoveKind::Promotion), Some(MoveKind::Sideways)][dice.roll(4) as usize];
    match dice.roll(8) {
        0 | 1 => changed(&on, some_role(dice), organisation, kind),
        2 => left(&on),
        3 => rejoined(&on, some_role(dice), organisation),
        4 => ParticipantEvent::ExcludedFromAnalysis {
            effective_on: day(&on),
            reason: "secondment".into(),
        },
        5 => ParticipantEvent::ExclusionLifted {
            effective_on: day(&on),
            reason: "back".into(),
        },
        6 => retracted(1 + dice.roll(recorded)),
        _ => registered(&on),
    }
}

#[test]
fn a_timeline_extended_by_one_event_is_the_one_derived_from_every_event() {
    let mut dice = Dice(20261129);
    let (mut extended, mut refused) = (0, 0);
    for _ in 0..400 {
        let mut participant = Participant::default();
        participant.apply(registered("2012-04-01"));
        let mut last = day("2012-04-01");
        for _ in 0..30 {
            let event = some_event(&mut dice, last, participant.version());
            let mut events = participant.events.clone();
            events.push((participant.version() + 1, event.clone()));
            let derived = Timeline::build(&events, participant.levels());
            let checked = participant.check_next(&event);
            if let Some(checked) = &checked {
                assert_eq!(checked, &derived.clone().map(drop), "after {:?}", participant.events);
                extended += 1;
                refused += usize::from(checked.is_err());
            }
            if let Ok(derived) = derived {
                last = event.effective_on().unwrap_or(last).max(last);
                participant.apply(event);
                // Applied in place when checked that way, else derived
                // again: the same timeline either way.
                assert_eq!(participant.timeline(), Some(&derived));
            }
        }
    }
    // Both ways were exercised: many extended, some of them refusals.
    assert!(extended > 2_000, "extended {extended} times");
    assert!(refused > 200, "refused {refused} times");
}

#[test]
fn an_event_dated_before_the_latest_or_a_retraction_is_derived_from_every_event() {
    let mut participant = Participant::default();
    participant.apply(registered("2015-01-05"));
    participant.apply(changed("2017-01-01", tm(), "Northshire", None));
    // Given a role change in 2017, when a leaving is dated 2016, then it is
    // not applied after the change: the whole history is derived.
    assert_eq!(participant.check_next(&left("2016-06-30")), None);
    assert_eq!(participant.check_next(&retracted(2)), None);
    assert_eq!(participant.check_next(&registered("2018-01-01")), None);
    // Dated on the day of the latest event: applied after it, as the order
    // of (effective date, sequence) says.
    assert_eq!(participant.check_next(&left("2017-01-01")), Some(Ok(())));
    participant.apply(left("2017-01-01"));
    let timeline = participant.timeline().expect("valid");
    assert_eq!(timeline.leavings()[0].role, tm());
    assert_eq!(timeline.current(), None);
}
