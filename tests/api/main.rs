//! Integration tests: the real router over HTTP against a real PostgreSQL.

mod helpers;

mod commands;
mod concurrency;
mod errors;
mod event_store;
mod idempotency;
mod projector;
mod published;
mod report_rules;
