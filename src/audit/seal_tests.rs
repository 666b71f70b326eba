//! The seal's encoding, pinned against an independent computation.

use chrono::TimeZone;

use super::*;

fn event() -> EventColumns {
    EventColumns {
        global_position: 1,
        transaction_id: 750,
        aggregate_type: "participant".to_string(),
        aggregate_id: "p-1".to_string(),
        sequence: 1,
        event_type: "ParticipantRegistered".to_string(),
        event_version: "1.0".to_string(),
        payload: r#"{"Registered": {}}"#.to_string(),
        metadata: r#"{"recorded_by":"alice"}"#.to_string(),
        recorded_at: Utc.with_ymd_and_hms(2026, 11, 29, 12, 0, 0).unwrap() + chrono::Duration::microseconds(1),
    }
}

#[test]
fn the_encoding_is_the_documented_one() {
    // Computed with Python's hashlib over the encoding as docs/design.md
    // states it (each field: 8-byte big-endian length, then its bytes;
    // recorded_at 1795953600000001 µs), not with this code.
    assert_eq!(
        to_hex(&seal(&GENESIS, &event())),
        "8272054298651ed828b4fd88be978ca59f08f35bf1b3a3cefa824100ee4bd409"
    );
}

#[test]
fn every_column_and_the_previous_hash_change_the_seal() {
    let base = seal(&GENESIS, &event());
    let edits: Vec<fn(&mut EventColumns)> = vec![
        |e| e.global_position = 2,
        |e| e.transaction_id = 751,
        |e| e.aggregate_type = "post".into(),
        |e| e.aggregate_id = "p-2".into(),
        |e| e.sequence = 2,
        |e| e.event_type = "LeavingRecorded".into(),
        |e| e.event_version = "1.1".into(),
        |e| e.payload = r#"{"Registered": {} }"#.into(),
        |e| e.metadata = r#"{"recorded_by":"mallory"}"#.into(),
        |e| e.recorded_at += chrono::Duration::microseconds(1),
    ];
    for edit in edits {
        let mut edited = event();
        edit(&mut edited);
        assert_ne!(seal(&GENESIS, &edited), base, "{edited:?}");
    }
    assert_ne!(seal(&[1; 32], &event()), base);
}

#[test]
fn text_moved_between_columns_changes_the_seal() {
    let mut a = event();
    a.aggregate_type = "participantp".into();
    a.aggregate_id = "-1".into();
    assert_ne!(seal(&GENESIS, &a), seal(&GENESIS, &event()));
}

#[test]
fn hex_round_trips_and_refuses_what_is_not_a_hash() {
    let hash = seal(&GENESIS, &event());
    assert_eq!(from_hex(&to_hex(&hash)), Some(hash));
    assert_eq!(from_hex(&to_hex(&hash).to_uppercase()), Some(hash));
    assert_eq!(from_hex("abc"), None);
    assert_eq!(from_hex(&"g".repeat(64)), None);
    assert_eq!(from_hex(&"é".repeat(32)), None);
}
