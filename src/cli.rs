//! Command-line interface: `tenure [serve|demo|migrate|rebuild|report|board|import|verify|token|sql-role]`, each flag with its environment variable.

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

    /// The database owner's URL, for migrations only (docs/operations.md
    /// "Database roles on your own server"); DATABASE_URL is then the
    /// server role's, with no more than it needs.
    #[arg(long, env = "TENURE_OWNER_DATABASE_URL", global = true, requires = "database_url")]
    pub owner_database_url: Option<String>,

    /// Where tenure keeps its own PostgreSQL cluster when DATABASE_URL is unset.
    #[arg(long, env = "TENURE_DATA_DIR", default_value = ".tenure", global = true)]
    pub data_dir: PathBuf,

    /// Address the HTTP API listens on.
    #[arg(long, env = "TENURE_LISTEN", default_value = "127.0.0.1:8080", global = true)]
    pub listen: SocketAddr,

    /// Effective dates may lie at most this many days after today.
    #[arg(long, env = "TENURE_FUTURE_MARGIN_DAYS", default_value_t = 366, global = true)]
    pub future_margin_days: u32,

    /// Longest a request may take, in seconds, reading its body included;
    /// past it the client gets 503 `request_timeout`.
    #[arg(long, env = "TENURE_REQUEST_TIMEOUT_SECS", default_value_t = 60, global = true)]
    pub request_timeout_secs: u64,

    /// Longest a client may take to send a request's headers, in seconds;
    /// past it the connection is closed.
    #[arg(long, env = "TENURE_HEADER_READ_TIMEOUT_SECS", default_value_t = 10, global = true)]
    pub header_read_timeout_secs: u64,

    /// Most HTTP connections served at once; more wait to be accepted.
    #[arg(long, env = "TENURE_MAX_CONNECTIONS", default_value_t = 512, global = true)]
    pub max_connections: usize,

    /// PostgreSQL `statement_timeout`, in seconds (0: none).
    #[arg(long, env = "TENURE_STATEMENT_TIMEOUT_SECS", default_value_t = 30, global = true)]
    pub statement_timeout_secs: u64,

    /// PostgreSQL `lock_timeout`, in seconds (0: none): a command waiting
    /// longer for a lock gets 503 `database_busy`.
    #[arg(long, env = "TENURE_LOCK_TIMEOUT_SECS", default_value_t = 5, global = true)]
    pub lock_timeout_secs: u64,

    /// Longest wait for a database connection from the pool, in seconds.
    #[arg(long, env = "TENURE_DB_ACQUIRE_TIMEOUT_SECS", default_value_t = 5, global = true)]
    pub db_acquire_timeout_secs: u64,

    /// Most reports computed at once (default: two per core, at most 16);
    /// a report that finds every slot taken for a second gets 503
    /// `overloaded`. Reports read through a pool of this many connections
    /// of their own, beside the 20 of commands.
    #[arg(long, env = "TENURE_MAX_CONCURRENT_REPORTS", global = true)]
    pub max_concurrent_reports: Option<usize>,

    /// A streaming replica (hot standby) of the database to read reports
    /// from; repeat the flag (or separate URLs with commas in the variable)
    /// for several, which take reports in turn. Commands, the projector and
    /// `known_at` clocks stay on the primary; `min_position` and `known_at`
    /// wait until the replica has caught up (bounded, then 503).
    #[arg(
        long = "read-database-url",
        env = "TENURE_READ_DATABASE_URLS",
        value_delimiter = ',',
        global = true
    )]
    pub read_database_urls: Vec<String>,

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
    /// Write the board's page (small numbers suppressed) from an existing
    /// store: HTML to standard output or `--html FILE`, an A4 PDF with
    /// `--pdf FILE` (printed by headless Chromium).
    Board(Box<BoardArgs>),
    /// Import facts files (CSV, one row per fact about a person; see
    /// README.md "Importing an HR extract"). Exits 0 when every row is
    /// recorded (now or by an earlier import), 2 when some were refused.
    Import(ImportArgs),
    /// Check the events' hash chain (docs/operations.md "Verifying the
    /// event log"): seal what is not sealed yet, recompute every seal from
    /// the events, print the head. Exits 0 when every event matches, 3
    /// naming the first event that does not.
    Verify(VerifyArgs),
    /// Create, revoke or list the HTTP API's bearer tokens (README.md
    /// "Authentication").
    #[command(subcommand)]
    Token(crate::token_cli::TokenCommand),
    /// Read-only SQL login roles for analysts on the read models
    /// (README.md "Plain SQL on the read models").
    #[command(subcommand)]
    SqlRole(SqlRoleAction),
}

/// `tenure sql-role`: what to do with analysts' SQL roles.
#[derive(Debug, Subcommand)]
pub enum SqlRoleAction {
    /// Create a login role that may SELECT the read models and nothing
    /// else; prints its URL, password included, once.
    Create {
        /// The role's name: lower-case letters, digits and `_`.
        name: String,
    },
    /// Drop an analyst's role.
    Drop {
        /// The role's name.
        name: String,
    },
    /// List the analysts' roles.
    List,
}

/// `tenure verify`: an optional head to check, and whether to seal first.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// A head hash printed earlier (64 hex digits), to check it is still on
    /// the chain; give `--position` with it.
    #[arg(long, requires = "position")]
    pub head: Option<String>,
    /// The global position printed with `--head`.
    #[arg(long, requires = "head")]
    pub position: Option<i64>,
    /// Only check what is sealed already; seal nothing (for a read-only
    /// database role).
    #[arg(long)]
    pub check_only: bool,
}

/// `tenure import`: which files, and how.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// Facts files to import, one after another.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Check every row and say what would be recorded, recording nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Who is recorded as having imported the facts (default: the user
    /// running tenure, from $USER).
    #[arg(long)]
    pub recorded_by: Option<String>,
    /// Print each file's summary and errors as one JSON object per line
    /// instead of a table.
    #[arg(long)]
    pub json: bool,
    /// How to read the files: `auto` (a census return when the header
    /// names `SWENo`, else a facts file), `facts` or `census`.
    #[arg(long, value_enum, default_value_t = crate::import::FileFormat::Auto)]
    pub format: crate::import::FileFormat,
}

/// `tenure board`: the board's page, and where to write it.
#[derive(Debug, clap::Args)]
pub struct BoardArgs {
    /// Write the page's HTML to this file.
    #[arg(long)]
    pub html: Option<std::path::PathBuf>,
    /// Print the page to this A4 PDF with headless Chromium (`chromium`, or
    /// the browser TENURE_CHROMIUM names).
    #[arg(long)]
    pub pdf: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub query: crate::board::PageQuery,
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
    /// How long the database may keep a request waiting.
    pub fn database_limits(&self) -> crate::db::Limits {
        use std::time::Duration;
        crate::db::Limits {
            acquire_timeout: Duration::from_secs(self.db_acquire_timeout_secs.max(1)),
            statement_timeout: Duration::from_secs(self.statement_timeout_secs),
            lock_timeout: Duration::from_secs(self.lock_timeout_secs),
        }
    }

    /// Most reports computed at once, as configured or by default.
    pub fn concurrent_reports(&self) -> usize {
        self.max_concurrent_reports
            .unwrap_or_else(crate::http::default_concurrent_reports)
            .max(1)
    }

    /// The settings commands are judged with.
    pub fn settings(&self) -> crate::Settings {
        crate::Settings {
            future_margin_days: self.future_margin_days,
        }
    }
}
