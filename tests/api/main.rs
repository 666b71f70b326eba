//! Integration tests: the real router over HTTP against a real PostgreSQL.

// The whole crate is test code: a failed unwrap is a failed test, as in a
// `#[test]` function (clippy only knows that for the functions themselves).
#![allow(clippy::unwrap_used)]

mod helpers;

mod audit_feed;
mod audit_verify;
mod auth_cli;
mod auth_roles;
mod board_page;
mod board_signin;
mod board_view;
mod bulk_catch_up;
mod cli_board;
mod cli_report;
mod cli_verify;
mod commands;
mod concurrency;
mod contention;
mod db_roles;
mod demo_process;
mod errors;
mod event_store;
mod figure_bugs;
mod group_commit;
mod idempotency;
mod import;
mod import_census;
mod import_entities;
mod import_links;
mod import_pipeline;
mod import_vs_http;
mod input_limits;
mod known_at_scope;
mod ladder_edits;
mod ladders_kept;
mod limits;
mod lost_commit;
mod openapi;
mod operations;
mod outages;
mod overload;
mod parked_events;
mod post_reference;
mod projector;
mod projector_scale;
mod published;
mod rebuild_bulk;
mod replicas;
mod report_names;
mod report_rules;
mod report_rules_cohorts;
mod report_rules_known_at;
mod report_rules_workforce;
mod report_scope;
mod report_windows;
mod request_id;
mod server_process;
mod sql_role;
