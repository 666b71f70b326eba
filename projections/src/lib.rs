//! tenure's read side: the gap-safe event reader, the projector that keeps
//! the read-model tables, the "as known at" replay (of the whole store or of
//! only the streams a report can need), and the report calculations over
//! either.

mod bulk;
pub mod derive;
pub mod ladder_edits;
pub mod projector;
mod rebuild;
pub mod replay;
pub mod replay_scope;
pub mod reports;
pub mod source;
pub mod stats;
pub mod tables;
