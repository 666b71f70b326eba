//! `tenure report`: one report printed from an existing store, for a person
//! at a terminal or a script.
//!
//! Unlike `serve`, it never creates a cluster: run from the wrong directory,
//! a new empty one would answer with zeros as if they were figures. For the
//! same reason an empty event store is an error unless `--allow-empty`, and
//! the database read is named on standard error. The report layer's errors
//! name query parameters (`as_at`); here they are told as the flags a person
//! typed (`--as-at`). A reader that stops early (`| head`) is not an error:
//! the report ends quietly with exit 0, as a filter's output is the reader's
//! to cut short.

use std::io::Write;
use std::path::{Path, PathBuf};

use projections::projector::Projector;
use sqlx::postgres::PgConnectOptions;
use tenure::cli::{Cli, ReportArgs};
use tenure::db;
use tenure::reports::{self, ReportQuery, ReportRequestError};

/// Why a report was not printed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReportCliError {
    /// No `DATABASE_URL` and no cluster under the data directory.
    #[error(
        "found no tenure database under {} (no PostgreSQL cluster in its pg/); `tenure {command}` reads an \
         existing store and never creates one: point it at yours with --data-dir <dir> (or TENURE_DATA_DIR), or \
         set DATABASE_URL",
        .data_dir.display()
    )]
    NoStore {
        /// Where it looked.
        data_dir: PathBuf,
        /// The command that looked (`report`, `board`, `verify`).
        command: &'static str,
    },
    /// The store has no events: most likely not the one meant.
    #[error(
        "{database} holds no events, so every figure would be zero: is it the store you meant? \
         Add --allow-empty to report on an empty store"
    )]
    EmptyStore {
        /// The database, as named on standard error.
        database: String,
    },
    /// Opening or reading the database failed (boxed: it is large, and
    /// rare).
    #[error(transparent)]
    Database(Box<db::DatabaseError>),
    /// The managed cluster did not stop cleanly.
    #[error(transparent)]
    Cluster(Box<tenure::pg_cluster::ClusterError>),
    /// The read models could not catch up with the events.
    #[error("cannot bring the read models up to date: {0}")]
    Projector(#[from] projections::projector::ProjectorError),
    /// The report layer refused the request, in the CLI's words.
    #[error("{0}")]
    Request(String),
    /// Writing to standard output failed (other than the reader going away).
    #[error("cannot write the report: {0}")]
    Output(std::io::Error),
}

impl From<db::DatabaseError> for ReportCliError {
    fn from(e: db::DatabaseError) -> Self {
        ReportCliError::Database(Box::new(e))
    }
}

impl From<tenure::pg_cluster::ClusterError> for ReportCliError {
    fn from(e: tenure::pg_cluster::ClusterError) -> Self {
        ReportCliError::Cluster(Box::new(e))
    }
}

/// Prints the report `args` asks for from the store `cli` names.
pub(crate) async fn run(cli: &Cli, args: &ReportArgs) -> Result<(), ReportCliError> {
    let (opened, database) = open_existing(cli, "report").await?;
    let result = print_report(&opened.pool, &database, args).await;
    close(opened).await?;
    result
}

/// Opens the store `cli` names for `tenure COMMAND`, which reads an
/// existing store and never creates one, and says on standard error which
/// it reads; returns it with that description.
pub(crate) async fn open_existing(cli: &Cli, command: &'static str) -> Result<(db::Database, String), ReportCliError> {
    let url = cli.database_url.as_deref();
    let database = match url {
        Some(url) => describe_url(url),
        None => {
            let data_dir = std::path::absolute(&cli.data_dir).unwrap_or_else(|_| cli.data_dir.clone());
            if !has_cluster(&data_dir) {
                return Err(ReportCliError::NoStore { data_dir, command });
            }
            format!("tenure's own PostgreSQL under {}", data_dir.display())
        }
    };
    eprintln!("tenure {command}: reading {database}");
    let opened = db::open_with_owner(
        url,
        cli.owner_database_url.as_deref(),
        &cli.data_dir,
        &cli.database_limits(),
    )
    .await?;
    Ok((opened, database))
}

/// Closes what [`open_existing`] opened, stopping the cluster it started.
pub(crate) async fn close(opened: db::Database) -> Result<(), ReportCliError> {
    opened.pool.close().await;
    if let Some(cluster) = opened.cluster {
        cluster.stop().await?;
    }
    Ok(())
}

/// Whether `data_dir` holds the cluster `db::open` would start (its
/// `pg/PG_VERSION`, which `initdb` writes).
fn has_cluster(data_dir: &Path) -> bool {
    data_dir.join("pg").join("PG_VERSION").exists()
}

/// The URL as `postgres://user@host:port/database`: never the password.
fn describe_url(url: &str) -> String {
    match url.parse::<PgConnectOptions>() {
        Ok(o) => format!(
            "postgres://{}@{}:{}/{}",
            o.get_username(),
            o.get_host(),
            o.get_port(),
            o.get_database().unwrap_or("")
        ),
        Err(_) => "the database in DATABASE_URL (not a PostgreSQL URL?)".to_string(),
    }
}

async fn print_report(pool: &sqlx::PgPool, database: &str, args: &ReportArgs) -> Result<(), ReportCliError> {
    let has_events: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM events)")
        .fetch_one(pool)
        .await
        .map_err(db::DatabaseError::from)?;
    if !has_events && !args.allow_empty {
        return Err(ReportCliError::EmptyStore {
            database: database.to_string(),
        });
    }
    Projector::live(pool.clone()).catch_up().await?;
    let answer = reports::produce(pool, args.kind, &args.query)
        .await
        .map_err(|e| ReportCliError::Request(in_flag_words(&e)))?;
    let text = if args.csv {
        reports::to_csv(&answer.rows).map_err(|e| ReportCliError::Request(in_flag_words(&e)))?
    } else {
        let recorded = answer.provenance.last_recorded_at.map_or("-".to_string(), |t| {
            t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
        });
        format!(
            "{}\nreflects every event up to position {} (recorded {recorded}); source: {}\n",
            reports::to_table(&answer.rows),
            answer.provenance.last_global_position,
            answer.provenance.source
        )
    };
    write_quietly(&mut std::io::stdout().lock(), text.as_bytes()).map_err(ReportCliError::Output)
}

/// Writes `text`; a reader that has gone away (`| head`) ends the report
/// without an error, anything else is one.
fn write_quietly(out: &mut impl Write, text: &[u8]) -> std::io::Result<()> {
    match out.write_all(text).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e),
        _ => Ok(()),
    }
}

/// A report layer error as the command line says it: every parameter named
/// as its flag (`as_at`, `?as_at=` become `--as-at`), and the flag at fault
/// first when the message does not name it.
pub(crate) fn in_flag_words(error: &ReportRequestError) -> String {
    in_flags_of::<ReportQuery>(error)
}

/// [`in_flag_words`] for a command whose parameters are `A`'s flags (the
/// board page's, say).
pub(crate) fn in_flags_of<A: clap::Args>(error: &ReportRequestError) -> String {
    let flags = parameter_flags::<A>();
    let mut message = error.to_string();
    for (name, flag) in &flags {
        message = message.replace(&format!("?{name}="), flag);
        message = replace_word(&message, &format!("{name} = "), &format!("{flag} "));
        // Plain words such as "from" or "on" stay words; names with an
        // underscore are never English.
        if name.contains('_') {
            message = replace_word(&message, name, flag);
        }
    }
    let at_fault = error.field().and_then(|f| flags.iter().find(|(name, _)| name == f));
    match at_fault {
        Some((_, flag)) if !message.contains(flag.as_str()) => format!("{flag}: {message}"),
        _ => message,
    }
}

/// Each parameter of `A` with its flag, from the flags themselves.
fn parameter_flags<A: clap::Args>() -> Vec<(String, String)> {
    let command = A::augment_args(clap::Command::new("report"));
    command
        .get_arguments()
        .filter_map(|a| Some((a.get_id().to_string(), format!("--{}", a.get_long()?))))
        .collect()
}

/// `text` with every whole-word `word` (not inside a longer identifier)
/// replaced by `with`.
fn replace_word(text: &str, word: &str, with: &str) -> String {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_' || c == '-';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(word) {
        let before = rest[..i].chars().next_back();
        let after = rest[i + word.len()..].chars().next();
        out.push_str(&rest[..i]);
        // A boundary matters only where the word itself ends in a name character.
        let joined_before = word.starts_with(is_ident) && before.is_some_and(is_ident);
        let joined_after = word.ends_with(is_ident) && after.is_some_and(is_ident);
        if joined_before || joined_after {
            out.push_str(word);
        } else {
            out.push_str(with);
        }
        rest = &rest[i + word.len()..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use projections::reports::ReportError;

    #[test]
    fn report_errors_name_flags_not_query_parameters() {
        let missing = ReportRequestError::MissingParameter {
            field: "as_at",
            message: "give ?as_at= for this report".to_string(),
        };
        assert_eq!(in_flag_words(&missing), "give --as-at for this report");
        let out_of_range = ReportRequestError::DateOutOfRange {
            field: "compare_from",
            date: chrono::NaiveDate::from_ymd_opt(1800, 1, 1).expect("a date"),
        };
        assert_eq!(
            in_flag_words(&out_of_range),
            "--compare-from 1800-01-01 is outside 1900-01-01..2199-12-31"
        );
        // A message that does not name its parameter gets the flag in front;
        // "on" inside the sentence stays a word.
        let (from, to) = (
            chrono::NaiveDate::from_ymd_opt(2021, 1, 1).expect("a date"),
            chrono::NaiveDate::from_ymd_opt(2020, 1, 1).expect("a date"),
        );
        let backwards = ReportRequestError::Refused {
            rule: ReportError::InvalidPeriod { from, to },
            field: "from",
        };
        assert_eq!(
            in_flag_words(&backwards),
            "--from: period starts on 2021-01-01 but ends on 2020-01-01"
        );
    }

    #[test]
    fn only_whole_words_are_replaced() {
        assert_eq!(
            replace_word("as_at, known_as_at as_at_x as_at", "as_at", "--as-at"),
            "--as-at, known_as_at as_at_x --as-at"
        );
    }

    #[test]
    fn a_reader_that_went_away_is_not_an_error() {
        struct Gone;
        impl Write for Gone {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        assert!(write_quietly(&mut Gone, b"report").is_ok());
    }

    #[test]
    fn the_database_is_named_without_its_password() {
        let named = describe_url("postgres://ana:secret@db.example:5433/hr");
        assert_eq!(named, "postgres://ana@db.example:5433/hr");
    }
}
