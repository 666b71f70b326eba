//! The participant aggregate's view, its events' stable names and versions,
//! and its errors' rule names.

use super::tests::*;
use super::*;
use crate::field::Field;

#[test]
fn the_aggregate_counts_sequences_and_shows_its_current_state() {
    let mut p = Participant::default();
    assert!(!p.registered());
    assert!(p.view().is_none());
    for e in [
        registered("2015-01-05"),
        changed("2017-01-01", tm(), "Northshire", None),
        left("2019-01-01"),
        retracted(3),
    ] {
        cqrs_es::Aggregate::apply(&mut p, e);
    }
    assert!(p.registered());
    assert_eq!(p.version(), 4);
    assert!(p.is_retracted(3));
    assert!(!p.is_retracted(2));
    assert_eq!(p.event(3), Some(&left("2019-01-01")));
    let view = p.view().unwrap();
    assert_eq!(view.version, 4);
    assert!(view.employed);
    assert!(!view.excluded);
    let employment = view.employment.unwrap();
    assert_eq!(employment.role, tm());
    assert_eq!(employment.since, day("2017-01-01"));
    let json = serde_json::to_value(p.view().unwrap()).unwrap();
    assert_eq!(json["employment"]["role"]["code"], "team_manager");
}

#[test]
fn events_have_stable_type_names_and_version() {
    use cqrs_es::DomainEvent;
    let names: Vec<String> = [
        registered("2015-01-05"),
        changed("2017-01-01", tm(), "N", None),
        left("2019-01-01"),
        rejoined("2019-02-01", sw(), "N"),
        ParticipantEvent::ExcludedFromAnalysis {
            effective_on: day("2019-01-01"),
            reason: "r".into(),
        },
        ParticipantEvent::ExclusionLifted {
            effective_on: day("2019-01-01"),
            reason: "r".into(),
        },
        retracted(2),
    ]
    .iter()
    .map(|e| {
        // 1.1: RoleChanged's FTE may be null (kept from the spell it ends).
        let version = if e.event_type() == "RoleChanged" { "1.1" } else { "1.0" };
        assert_eq!(e.event_version(), version);
        e.event_type()
    })
    .collect();
    assert_eq!(
        names,
        [
            "ParticipantRegistered",
            "RoleChanged",
            "LeavingRecorded",
            "RejoiningRecorded",
            "ExcludedFromAnalysis",
            "ExclusionLifted",
            "ParticipantEventRetracted"
        ]
    );
    // The store's unique index reads `payload -> 'Registered' ->> 'external_ref'`.
    let json = serde_json::to_value(registered("2015-01-05")).unwrap();
    assert_eq!(json["Registered"]["external_ref"], "P-1");
    assert_eq!(json["Registered"]["basis"], "permanent");
}

#[test]
fn errors_name_their_rule_and_field() {
    let e = ParticipantError::NotEmployed {
        effective_on: day("2019-01-01"),
    };
    assert_eq!((e.code(), e.field()), ("not_employed", Some("effective_on")));
    let e = ParticipantError::MoveKindRequired {
        from: "a".into(),
        to: "b".into(),
    };
    assert_eq!((e.code(), e.field()), ("move_kind_required", Some("kind")));
    let e = ParticipantError::InvalidFte { fte: 2.0 };
    assert_eq!((e.code(), e.field()), ("invalid_fte", Some("fte")));
    let e = ParticipantError::AlreadyRetracted { sequence: 2 };
    assert_eq!((e.code(), e.field()), ("already_retracted", Some("sequence")));
    let e = ParticipantError::TooFarInFuture {
        field: Field::JoinedOn,
        effective_on: day("2030-01-01"),
        latest_allowed: day("2024-01-01"),
    };
    assert_eq!((e.code(), e.field()), ("too_far_in_future", Some("joined_on")));
    assert!(e.to_string().contains("too far in the future"));
}
