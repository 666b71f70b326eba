//! `tenure import FILE…`: facts files and census returns into the store, with a progress bar
//! (rows/s, ETA) on a terminal, plain progress lines otherwise, and a
//! summary table (or JSON) per file with every refused row.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use tenure::cli::{Cli, ImportArgs};
use tenure::import::{import_file, FactsFile, ImportOptions, ImportSummary, Progress};

/// Some rows were refused: what was not refused is recorded.
#[derive(Debug, thiserror::Error)]
#[error("{rows} row(s) refused in {files} file(s): their people's rows were not recorded (see above)")]
pub(crate) struct RowsRefused {
    rows: usize,
    files: usize,
}

/// Imports every file of `args` into the store behind `runner`.
pub(crate) async fn run(
    cli: &Cli,
    args: &ImportArgs,
    runner: &tenure::commands::CommandRunner,
) -> Result<(), Box<dyn std::error::Error>> {
    let options = ImportOptions {
        recorded_by: args
            .recorded_by
            .clone()
            .or_else(|| std::env::var("USER").ok().filter(|u| !u.is_empty()))
            .unwrap_or_else(|| "tenure-cli".to_string()),
        dry_run: args.dry_run,
        future_margin_days: cli.future_margin_days,
    };
    let mut refused = RowsRefused { rows: 0, files: 0 };
    for path in &args.files {
        // A missing file is said plainly, before any work.
        std::fs::metadata(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let name = path
            .file_name()
            .map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
        let mut shown = Shown::new(&name);
        let summary = import_file(
            runner.store(),
            runner.ladders(),
            &name,
            FactsFile::Path(path.clone()),
            args.format,
            &options,
            &mut |p| shown.progress(p),
        )
        .await?;
        shown.finish();
        if args.json {
            println!("{}", serde_json::to_string(&summary)?);
        } else {
            print!("{}", table(&summary));
        }
        if !summary.everything_landed() {
            refused.rows += summary.rows_refused;
            refused.files += 1;
        }
    }
    if refused.rows > 0 {
        return Err(Box::new(refused));
    }
    Ok(())
}

/// Progress as a bar on a terminal, as a line every few seconds otherwise.
struct Shown {
    bar: Option<ProgressBar>,
    name: String,
    started: Instant,
    last_line: Option<Instant>,
}

impl Shown {
    fn new(name: &str) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(0);
            let style = ProgressStyle::with_template(
                "{prefix} [{bar:32}] {pos}/{len} rows  {per_sec}  ETA {eta}  {elapsed} elapsed",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
            bar.set_style(style);
            bar.set_prefix(name.to_string());
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Self {
            bar,
            name: name.to_string(),
            started: Instant::now(),
            last_line: None,
        }
    }

    fn progress(&mut self, p: Progress) {
        if let Some(bar) = &self.bar {
            bar.set_length(p.rows as u64);
            bar.set_position(p.rows_done as u64);
            return;
        }
        let due = self.last_line.is_none_or(|at| at.elapsed() >= Duration::from_secs(2));
        if due || p.rows_done == p.rows {
            let seconds = self.started.elapsed().as_secs_f64().max(1e-3);
            eprintln!(
                "{}: {}/{} rows, {}/{} people, {:.0} rows/s",
                self.name,
                p.rows_done,
                p.rows,
                p.people_done,
                p.people,
                p.rows_done as f64 / seconds
            );
            self.last_line = Some(Instant::now());
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// The summary as a table, then every refused row.
fn table(s: &ImportSummary) -> String {
    let mut out = format!(
        "{}{} (sha256 {})\n",
        s.file_name,
        if s.dry_run {
            " — dry run, nothing recorded"
        } else {
            ""
        },
        &s.sha256[..16.min(s.sha256.len())]
    );
    if let Some(at) = s.same_file_imported_at {
        out.push_str(&format!(
            "  a file with the same content was imported on {}\n",
            at.format("%Y-%m-%d %H:%M UTC")
        ));
    }
    let recorded = if s.dry_run { "facts to record" } else { "facts recorded" };
    let rows = [
        ("rows read", s.rows_read),
        ("people", s.people),
        (recorded, s.facts_recorded),
        ("already recorded", s.facts_already_recorded),
        ("rows refused", s.rows_refused),
        ("people refused", s.people_refused),
        ("their rows not recorded", s.rows_not_recorded),
        ("events appended", s.events_appended),
    ];
    for (label, n) in rows {
        out.push_str(&format!("  {label:<24}{n:>10}\n"));
    }
    if let Some(position) = s.last_global_position {
        out.push_str(&format!("  {:<24}{position:>10}\n", "last position"));
    }
    if !s.errors.is_empty() {
        out.push_str("  refused rows:\n");
        for e in &s.errors {
            out.push_str(&format!(
                "    line {}{}{}: {}: {}\n",
                e.line,
                e.column.as_ref().map(|c| format!(", column {c}")).unwrap_or_default(),
                e.person.as_ref().map(|p| format!(", person {p}")).unwrap_or_default(),
                e.error,
                e.message
            ));
        }
    }
    out
}
