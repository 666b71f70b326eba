//! Command-line interface: `tenure [serve|demo|migrate]`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// tenure: records careers as events and derives retention and progression figures.
#[derive(Debug, Parser)]
#[command(version, about)]
pub struct Cli {
    /// PostgreSQL to use. Unset: tenure starts and manages its own cluster
    /// under `--data-dir`.
    #[arg(long, env = "DATABASE_URL", global = true)]
    pub database_url: Option<String>,

    /// Where tenure keeps its own PostgreSQL cluster when DATABASE_URL is unset.
    #[arg(long, env = "TENURE_DATA_DIR", default_value = ".tenure", global = true)]
    pub data_dir: PathBuf,

    /// Address the HTTP API listens on.
    #[arg(long, env = "TENURE_LISTEN", default_value = "127.0.0.1:8080", global = true)]
    pub listen: SocketAddr,

    /// Effective dates may lie at most this many days after today.
    #[arg(long, env = "TENURE_FUTURE_MARGIN_DAYS", default_value_t = 366, global = true)]
    pub future_margin_days: u32,

    /// Who is recorded as the author of commands that send no X-Recorded-By.
    #[arg(long, env = "TENURE_DEFAULT_RECORDED_BY", default_value = "anonymous", global = true)]
    pub default_recorded_by: String,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the HTTP API (the default).
    Serve,
    /// Load the demo dataset (once), then serve.
    Demo,
    /// Apply migrations and exit.
    Migrate,
    /// Rebuild every read model from the whole event history, then exit.
    Rebuild,
    /// Print a report from an existing store as a table (add `--csv` for CSV).
    Report(Box<ReportArgs>),
}

/// `tenure report`: which report, how to print it, and its parameters.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Which report.
    #[arg(value_enum)]
    pub kind: crate::reports::ReportKind,
    /// Print CSV instead of a table.
    #[arg(long)]
    pub csv: bool,
    /// Answer from a store with no events (every figure zero) instead of
    /// refusing: an empty store is usually the wrong database.
    #[arg(long)]
    pub allow_empty: bool,
    #[command(flatten)]
    pub query: crate::reports::ReportQuery,
}

impl Cli {
    /// The settings commands are judged with.
    pub fn settings(&self) -> crate::Settings {
        crate::Settings {
            future_margin_days: self.future_margin_days,
            default_recorded_by: self.default_recorded_by.clone(),
        }
    }
}
