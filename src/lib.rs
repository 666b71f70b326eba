//! tenure: an event-sourced career-progression and retention tracker.
//!
//! The binary (`src/main.rs`) is thin; everything it wires together lives here so
//! integration tests can build the same router against their own database.

pub mod audit;
pub mod auth;
pub mod board;
pub mod cli;
pub mod commands;
pub mod db;
pub mod demo;
pub mod event_store;
pub mod http;
pub mod import;
pub mod ladders;
pub mod pg_cluster;
pub mod reports;
pub mod token_cli;

use sqlx::PgPool;

/// Settings that shape how commands are judged and recorded.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How many days after today an effective date may lie.
    pub future_margin_days: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            future_margin_days: 366,
        }
    }
}

/// Everything the HTTP API needs, over a migrated database.
pub fn app_state(pool: PgPool, settings: &Settings) -> http::AppState {
    // Reports share the pool here; `tenure serve` gives them their own.
    let reports = http::ReportGate::new(
        pool.clone(),
        http::default_concurrent_reports(),
        http::REPORT_QUEUE_WAIT,
    );
    let tokens = auth::tokens::TokenCheck::new(pool.clone());
    let store = event_store::EventStore::new(pool);
    http::AppState {
        runner: commands::CommandRunner::new(store, settings.future_margin_days),
        tokens,
        reports,
    }
}
