//! The hash that seals one event: what is hashed and how it is encoded.
//!
//! `hash = SHA-256(encode("tenure event seal v1", previous hash,
//! global_position, transaction_id, aggregate_type, aggregate_id, sequence,
//! event_type, event_version, payload, metadata, recorded_at))`, where
//! `encode` writes every field as its length (8 bytes, big-endian) followed
//! by its bytes: no two different lists of fields encode to the same bytes,
//! so no edit can move text from one column to the next and keep the hash.
//! Integers are 8 bytes big-endian; `recorded_at` is microseconds since
//! 1970-01-01 UTC (PostgreSQL's own precision); `payload` and `metadata`
//! are the stored `json` text exactly as PostgreSQL keeps it (`::text`),
//! so the hash does not depend on how any JSON library re-serialises them.
//! The first event's previous hash is 32 zero bytes ([`GENESIS`]).

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

/// A SHA-256 hash.
pub type Hash = [u8; 32];

/// The "previous hash" of the first event in the chain.
pub const GENESIS: Hash = [0; 32];

/// Names the encoding, so a future change of what is hashed cannot be
/// confused with this one.
const VERSION: &[u8] = b"tenure event seal v1";

/// Every column that defines an event, as the seal reads it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EventColumns {
    pub global_position: i64,
    pub transaction_id: i64,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    /// The stored JSON text.
    pub payload: String,
    /// The stored JSON text.
    pub metadata: String,
    pub recorded_at: DateTime<Utc>,
}

/// The SQL select list of [`EventColumns`] over `events` aliased `e`.
/// (`transaction_id` is an `xid8`, which sqlx cannot decode.)
pub const EVENT_COLUMNS: &str = "e.global_position, e.transaction_id::text::bigint AS transaction_id, \
     e.aggregate_type, e.aggregate_id, e.sequence, e.event_type, e.event_version, \
     e.payload::text AS payload, e.metadata::text AS metadata, e.recorded_at";

/// The hash sealing `event` after the event sealed `previous`.
pub fn seal(previous: &Hash, event: &EventColumns) -> Hash {
    let mut h = Sha256::new();
    let mut field = |bytes: &[u8]| {
        h.update((bytes.len() as u64).to_be_bytes());
        h.update(bytes);
    };
    field(VERSION);
    field(previous);
    field(&event.global_position.to_be_bytes());
    field(&event.transaction_id.to_be_bytes());
    field(event.aggregate_type.as_bytes());
    field(event.aggregate_id.as_bytes());
    field(&event.sequence.to_be_bytes());
    field(event.event_type.as_bytes());
    field(event.event_version.as_bytes());
    field(event.payload.as_bytes());
    field(event.metadata.as_bytes());
    field(&event.recorded_at.timestamp_micros().to_be_bytes());
    h.finalize().into()
}

/// A hash as 64 lower-case hex digits.
pub fn to_hex(hash: &[u8]) -> String {
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

/// 64 hex digits (either case) as a hash; `None` otherwise.
pub fn from_hex(text: &str) -> Option<Hash> {
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    let mut hash = [0; 32];
    for (i, byte) in hash.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(hash)
}

/// A stored hash (a `bytea`) as a [`Hash`]; the table's check keeps it 32
/// bytes, so anything else reads as all ones, which no SHA-256 will match.
pub fn from_stored(bytes: &[u8]) -> Hash {
    bytes.try_into().unwrap_or([0xff; 32])
}

#[cfg(test)]
#[path = "seal_tests.rs"]
mod tests;
