//! tenure: an event-sourced career-progression and retention tracker.
//!
//! The binary (`src/main.rs`) is thin; everything it wires together lives here so
//! integration tests can build the same router against their own database.

pub mod pg_cluster;
