//! Importing a facts file beside PostgreSQL's own `COPY`, in the same run.
//!
//! Run with `cargo bench --bench import`; the size with
//! `TENURE_BENCH_IMPORT_EVENTS` (default 100,000; the figure is
//! 1,000,000). The bench starts a throwaway PostgreSQL cluster with crash
//! safety on (as `throughput` does), writes a facts file of realistic
//! careers (about 16 facts a person over ten years: joining, role and team
//! changes, FTE changes, leavings and rehires, exclusions) into `target/`,
//! and measures:
//!
//! - **import**: `tenure::import::import_facts` of the file into an empty
//!   store (reading, checking, deciding every fact with the aggregates'
//!   rules, appending), events per second. Anchor: `COPY` of the very rows
//!   the import appended (read out of the store afterwards, the same bytes)
//!   into a scratch table with the events table's columns and indexes.
//! - **import again**: the same file a second time (everything already
//!   recorded, nothing appended), rows per second, beside the same anchor.
//! - **memory**: the bench process's peak resident set (it runs the
//!   import in-process), beside the file's size.
//!
//! It prints a table and one JSON line, then stops and removes the cluster.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;

use projections::projector::Projector;
use tenure::event_store::EventStore;
use tenure::import::{import_facts, FactsFile, ImportOptions};
use tenure::ladders::Ladders;
use tenure::pg_cluster::{ClusterOptions, ManagedCluster};

#[path = "import/after_import.rs"]
mod after_import;
#[path = "common/copy_anchor.rs"]
mod copy_anchor;
#[path = "import/generated.rs"]
mod generated;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() {
    if let Err(e) = bench().await {
        eprintln!("import bench failed: {e}");
        std::process::exit(1);
    }
}

async fn bench() -> Result<(), BoxError> {
    let events: usize = match std::env::var("TENURE_BENCH_IMPORT_EVENTS") {
        Ok(v) => v.replace('_', "").parse()?,
        Err(_) => 100_000,
    };
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("target");
    let file = target.join(format!("bench-import-{events}.csv"));
    let (rows, people) = generated::write_facts_file(&file, events)?;
    let bytes = std::fs::metadata(&file)?.len();
    eprintln!("facts file: {rows} rows, {people} people, {bytes} bytes");

    let cluster_dir = target.join("bench-pg").join(format!("import-{}", std::process::id()));
    let cluster = ManagedCluster::start(ClusterOptions {
        data_dir: cluster_dir.clone(),
        port: None,
        superuser: "tenure".to_string(),
        remove_on_stop: true,
        durable: true,
    })
    .await?;
    let result = measure(&cluster, &cluster_dir, &file, rows, bytes).await;
    cluster.stop().await?;
    result
}

async fn measure(
    cluster: &ManagedCluster,
    cluster_dir: &Path,
    file: &Path,
    rows: usize,
    bytes: u64,
) -> Result<(), BoxError> {
    tenure::db::create_database_if_missing(&cluster.database_url("postgres"), "import_bench").await?;
    let pool = tenure::db::connect(&cluster.database_url("import_bench"), 10).await?;
    tenure::db::MIGRATOR.run(&pool).await?;
    let store = EventStore::new(pool.clone());
    let ladders = Ladders::new(pool.clone());
    let options = ImportOptions {
        recorded_by: "bench".to_string(),
        dry_run: false,
        future_margin_days: 366,
    };

    let import = || async {
        let started = Instant::now();
        let summary = import_facts(
            &store,
            &ladders,
            "bench.csv",
            FactsFile::Path(file.to_path_buf()),
            &options,
            &mut |_| {},
        )
        .await?;
        Ok::<_, BoxError>((summary, started.elapsed()))
    };
    // The file was generated in this process: its peak is not the import's.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    eprintln!("importing ...");
    let cpu_before = cpu_seconds(cluster_dir);
    let (first, import_time) = import().await?;
    let cpu_after = cpu_seconds(cluster_dir);
    let import_cpu = (cpu_after.0 - cpu_before.0, cpu_after.1 - cpu_before.1);
    if !first.errors.is_empty() {
        return Err(format!(
            "the generated file has refused rows: {:?}",
            &first.errors[..3.min(first.errors.len())]
        )
        .into());
    }
    eprintln!("importing again ...");
    let (again, again_time) = import().await?;
    if again.events_appended != 0 {
        return Err("the second import appended events".into());
    }
    let peak_rss = peak_rss_bytes();

    eprintln!("projector catching up, then every report ...");
    let started = Instant::now();
    let projected = Projector::live(pool.clone()).catch_up().await?;
    let catch_up_time = started.elapsed();
    let answered = after_import::every_report(&pool).await?;

    eprintln!("COPY of the same rows ...");
    let cpu_before = cpu_seconds(cluster_dir);
    let (copied, copy_time) = copy_anchor::copy_events(&pool).await?;
    let copy_cpu = cpu_seconds(cluster_dir).1 - cpu_before.1;

    let rate = |n: usize, t: Duration| n as f64 / t.as_secs_f64();
    let import_rate = rate(first.events_appended, import_time);
    let again_rate = rate(rows, again_time);
    let copy_rate = rate(copied as usize, copy_time);
    println!();
    println!(
        "{:<58}{:>14}  {:<28}{:>14}  {:>7}",
        "figure", "tenure", "anchor", "anchor value", "ratio"
    );
    println!(
        "{:<58}{:>14.0}  {:<28}{:>14.0}  {:>7.3}",
        format!("import of {} events ({} rows), events/s", first.events_appended, rows),
        import_rate,
        "COPY of the same rows",
        copy_rate,
        import_rate / copy_rate
    );
    println!(
        "{:<58}{:>14.0}  {:<28}{:>14.0}  {:>7.3}",
        "the same file again (all already recorded), rows/s",
        again_rate,
        "COPY of the same rows",
        copy_rate,
        again_rate / copy_rate
    );
    let per_100k = |seconds: f64| seconds * 100_000.0 / first.events_appended.max(1) as f64;
    println!(
        "{:<58}{:>14.0}  {:<28}{:>14.0}  {:>7.3}",
        format!("projector catch-up after the import ({projected} events), events/s"),
        rate(projected as usize, catch_up_time),
        "import, events/s",
        import_rate,
        rate(projected as usize, catch_up_time) / import_rate
    );
    for (name, took, rows) in &answered {
        println!(
            "{:<58}{:>14.1}  {:<28}{:>14}  {:>7}",
            format!("then {name}, ms"),
            took.as_secs_f64() * 1e3,
            "rows answered",
            rows,
            ""
        );
    }
    println!(
        "{:<58}{:>14.2}  {:<28}{:>14.2}  {:>7.3}",
        "import: PostgreSQL CPU s per 100k events",
        per_100k(import_cpu.1),
        "COPY: PostgreSQL CPU s/100k",
        per_100k(copy_cpu),
        copy_cpu / import_cpu.1
    );
    println!(
        "{:<58}{:>14.2}  {:<28}{:>14.2}  {:>7.3}",
        "import: tenure CPU s per 100k events",
        per_100k(import_cpu.0),
        "import's wall time s/100k",
        per_100k(import_time.as_secs_f64()),
        import_time.as_secs_f64() / import_cpu.0
    );
    if let Some(rss) = peak_rss {
        println!(
            "{:<58}{:>14.1}  {:<28}{:>14.1}  {:>7.3}",
            "peak resident memory of the importing process, MB",
            rss as f64 / 1e6,
            "size of the facts file, MB",
            bytes as f64 / 1e6,
            bytes as f64 / rss as f64
        );
    }
    println!(
        "{}",
        json!({
            "events": first.events_appended,
            "rows": rows,
            "people": first.people,
            "file_bytes": bytes,
            "import_seconds": import_time.as_secs_f64(),
            "import_events_per_s": import_rate,
            "again_seconds": again_time.as_secs_f64(),
            "copy_rows": copied,
            "copy_seconds": copy_time.as_secs_f64(),
            "copy_rows_per_s": copy_rate,
            "ratio": import_rate / copy_rate,
            "catch_up_seconds": catch_up_time.as_secs_f64(),
            "reports_ms": answered.iter().map(|(name, took, _)| (name.clone(), took.as_secs_f64() * 1e3)).collect::<std::collections::BTreeMap<_, _>>(),
            "import_tenure_cpu_seconds": import_cpu.0,
            "import_postgres_cpu_seconds": import_cpu.1,
            "copy_postgres_cpu_seconds": copy_cpu,
            "peak_rss_bytes": peak_rss,
            "cpus": std::thread::available_parallelism().map_or(0, |n| n.get()),
        })
    );
    Ok(())
}

/// CPU seconds used so far by this process, and by the cluster's
/// PostgreSQL (the postmaster, its live backends and the ones it reaped),
/// from `/proc` (in its ticks of 1/100 s): on a machine shared with other
/// work, CPU time says where an import's cost lies when wall time cannot.
fn cpu_seconds(cluster_dir: &Path) -> (f64, f64) {
    let ticks = |pid: &str, with_reaped: bool| -> f64 {
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            return 0.0;
        };
        // Fields after the command name (which may hold spaces) in brackets.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map_or("", |(_, rest)| rest)
            .split_whitespace()
            .collect();
        let take = if with_reaped { 11..15 } else { 11..13 };
        fields
            .get(take)
            .map_or(0.0, |f| f.iter().filter_map(|v| v.parse::<f64>().ok()).sum())
    };
    let own = ticks("self", false);
    let postmaster = std::fs::read_to_string(cluster_dir.join("postmaster.pid"))
        .ok()
        .and_then(|pid| pid.lines().next().map(str::to_string))
        .unwrap_or_default();
    let children =
        std::fs::read_to_string(format!("/proc/{postmaster}/task/{postmaster}/children")).unwrap_or_default();
    let postgres = ticks(&postmaster, true) + children.split_whitespace().map(|pid| ticks(pid, false)).sum::<f64>();
    (own / 100.0, postgres / 100.0)
}

/// The process's peak resident set (`VmHWM`), in bytes.
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
