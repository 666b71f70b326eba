//! `tenure report` as a person runs it: the real binary in its own process.
//! It never creates a cluster, says which database it reads, refuses an
//! empty store unless `--allow-empty`, names its own flags in errors, and
//! ends quietly when the reader of its output goes away.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::helpers::{fresh_database, load_demo};

/// `tenure` with `args`, run from `dir` with no database configured by the
/// environment (`database_url` is passed as `DATABASE_URL` when given).
fn tenure(dir: &Path, database_url: Option<&str>, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tenure"));
    command
        .current_dir(dir)
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("TENURE_DATA_DIR")
        .env("RUST_LOG", "warn");
    if let Some(url) = database_url {
        command.env("DATABASE_URL", url);
    }
    command
}

fn run(dir: &Path, database_url: Option<&str>, args: &[&str]) -> (Output, String) {
    let output = tenure(dir, database_url, args).output().expect("tenure runs");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output, stderr)
}

/// A directory of this test's own, removed when dropped.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("tenure-cli-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const PROMOTIONS: [&str; 6] = ["report", "promotions", "--programme", "PLDP", "--as-at", "2021-01-31"];

#[test]
fn from_a_directory_without_a_cluster_it_refuses_and_creates_nothing() {
    let dir = TempDir::new();
    let (output, stderr) = run(&dir.0, None, &PROMOTIONS);
    assert!(!output.status.success(), "exit 0; stderr: {stderr}");
    assert!(
        output.stdout.is_empty(),
        "printed a report: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    // It says where it looked and how to point it elsewhere.
    assert!(stderr.contains(".tenure"), "{stderr}");
    assert!(
        stderr.contains("--data-dir") && stderr.contains("DATABASE_URL"),
        "{stderr}"
    );
    // Nothing was made: the directory is as empty as before.
    let left: Vec<_> = std::fs::read_dir(&dir.0).expect("read dir").collect();
    assert!(left.is_empty(), "left behind {left:?}");
}

/// A migrated database with no events, and a directory to run from.
async fn empty_store() -> (String, TempDir) {
    let (pool, url) = fresh_database().await;
    pool.close().await;
    (url, TempDir::new())
}

/// Command-line words (none of these tests needs a space inside one).
fn words(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

#[tokio::test]
async fn an_empty_store_is_refused_unless_allow_empty() {
    let (url, dir) = empty_store().await;
    // Over all organisations: no name a store without events could not know.
    let turnover = "report leavers --from 2017-10-01 --to 2018-09-30";
    let (refused, stderr) = run(&dir.0, Some(&url), &words(turnover));
    assert!(!refused.status.success(), "exit 0 on an empty store; stderr: {stderr}");
    assert!(refused.stdout.is_empty());
    assert!(stderr.contains("--allow-empty"), "{stderr}");

    let (allowed, stderr) = run(&dir.0, Some(&url), &words(&format!("{turnover} --allow-empty")));
    assert!(allowed.status.success(), "{stderr}");
    assert!(!allowed.stdout.is_empty());
    // One line names the database it read, without a password.
    let database = url.rsplit('/').next().expect("database name");
    assert!(
        stderr.lines().any(|l| l.contains("reading") && l.contains(database)),
        "{stderr}"
    );
}

#[tokio::test]
async fn errors_name_the_flag_and_exit_non_zero() {
    let (url, dir) = empty_store().await;
    // Parses as a date, but the report layer refuses it (1900–2199).
    let args = words("report promotions --programme PLDP --as-at 1800-01-01 --allow-empty");
    let (output, stderr) = run(&dir.0, Some(&url), &args);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("--as-at 1800-01-01 is outside 1900-01-01..2199-12-31"),
        "{stderr}"
    );
    assert!(!stderr.contains("as_at"), "query syntax in a CLI error: {stderr}");

    // A parameter the report needs and was not given.
    let args = words("report promotions --programme PLDP --allow-empty");
    let (output, stderr) = run(&dir.0, Some(&url), &args);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("give --as-at for this report"), "{stderr}");
}

#[tokio::test]
async fn a_reader_that_goes_away_ends_the_report_quietly() {
    let (pool, url) = fresh_database().await;
    load_demo(&pool).await;
    pool.close().await;
    let dir = TempDir::new();
    for csv in [false, true] {
        let mut args = PROMOTIONS.to_vec();
        if csv {
            args.push("--csv");
        }
        let mut child = tenure(&dir.0, Some(&url), &args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("tenure starts");
        // As `| head -0`: the reader goes away before the report is written.
        drop(child.stdout.take());
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .expect("stderr")
            .read_to_string(&mut stderr)
            .expect("read stderr");
        let status = child.wait().expect("tenure ends");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(!stderr.contains("Broken pipe"), "{stderr}");
        assert_eq!(status.code(), Some(0), "{stderr}");
    }
}
