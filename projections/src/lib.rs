//! tenure's read side: the gap-safe event reader, the projector that keeps
//! the read-model tables, and the report calculations over them.

pub mod reports;
pub mod source;
pub mod stats;
