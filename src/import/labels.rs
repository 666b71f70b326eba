//! How every event an import appends is labelled: who recorded it, from
//! which file and line, under which fact key, and what its commit guards.

use super::facts::Fact;
use crate::event_store::{Commit, Metadata, StreamWrite, LADDERS_GUARD};

/// How every commit of one import is labelled.
pub(super) struct Labels {
    pub(super) recorded_by: String,
    pub(super) file_name: String,
    /// The import's correlation id (`import:<sha256 of the file>`).
    pub(super) correlation_id: String,
    /// The count of ladder replacements of the ladders decided with: every
    /// commit guards it, as a command's does.
    pub(super) ladder_replacements: u64,
}

/// A stream read but not written, at the version read.
pub(super) type Guard = (&'static str, String, u64);

/// The commit recording `fact`: its writes, the streams it read (`guards`)
/// and the ladders decided with, labelled with the import and the fact's key.
pub(super) fn commit(writes: Vec<StreamWrite>, mut guards: Vec<Guard>, fact: &Fact, labels: &Labels) -> Commit {
    guards.push((LADDERS_GUARD, String::new(), labels.ladder_replacements));
    Commit {
        writes,
        guards,
        enrolling_cohorts: None,
        metadata: Metadata {
            recorded_by: labels.recorded_by.clone(),
            // Line 0: derived from no row (a worker absent from a census return).
            source: match fact.line {
                0 => format!("import:{}", labels.file_name),
                line => format!("import:{}#{line}", labels.file_name),
            },
            correlation_id: labels.correlation_id.clone(),
            idempotency_key: Some(fact_key(fact)),
            derivation: fact.derivation.map(|d| d.rule.to_string()),
        },
        idempotency: None,
    }
}

/// The key a fact is recorded under: every event it appends carries it, so
/// the same fact in a later file is known as already recorded.
pub(super) fn fact_key(fact: &Fact) -> String {
    format!("fact:{}", super::facts::hex(&fact.fingerprint))
}

/// For a retraction, the key of the fact it withdraws.
pub(super) fn retracted_key(fact: &Fact) -> String {
    format!("fact:{}", super::facts::hex(&fact.retracted.unwrap_or_default()))
}
