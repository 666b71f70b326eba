//! Integration tests: the real router over HTTP against a real PostgreSQL.

mod helpers;

mod commands;
mod concurrency;
mod errors;
mod event_store;
mod figure_bugs;
mod idempotency;
mod operations;
mod projector;
mod published;
mod report_rules;
mod report_rules_cohorts;
mod report_rules_known_at;
mod report_rules_workforce;
mod request_id;
