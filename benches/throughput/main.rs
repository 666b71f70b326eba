//! tenure beside its anchors: each figure measured in the same run as what
//! the bare stack reaches on the same machine, and the ratio.
//!
//! Run with `cargo bench --bench throughput`; the history size is chosen
//! with `TENURE_BENCH_EVENTS` (default 10,000, e.g.
//! `TENURE_BENCH_EVENTS=100000`), the commands of each command measurement
//! with `TENURE_BENCH_COMMANDS` (default 960). The bench starts a throwaway
//! PostgreSQL cluster of its own under `target/bench-pg/<pid>` with crash
//! safety on (fsync and synchronous commit, as in production), creates the
//! database `tenure_bench` (tenure) and `bare_bench` (the bare framework),
//! measures, prints a table and then the same numbers as one JSON line, and
//! stops (and removes) the cluster. The bench is not part of `cargo test`.
//!
//! Every ratio is tenure's speed over the anchor's (for a latency: the
//! anchor's time over tenure's), so 1 means "as fast as the bare stack" and
//! smaller is slower.
//!
//! What each figure means:
//!
//! - **history**: about `TENURE_BENCH_EVENTS` events (`history.rs`):
//!   careers spread over one organisation per 100,000 events (at least 5;
//!   about one authority's ten years each), in 8 teams each, joining over
//!   ten years in a mix of roles, each with a registration and two role
//!   changes, then a leaving (one in three), a move to another
//!   organisation (one in six) or a change of team; team managers hold a
//!   post of their organisation (established, filled, vacated), and one
//!   person in 20 is enrolled in their organisation's cohort of the year
//!   (programme `Bench ASYE`; half of them complete). Every event is decided
//!   by the aggregates; appended with `EventStore::append`, 250 streams per
//!   commit, as a bulk import would. Anchor: `COPY` of
//!   the same rows (the same bytes, read out of the store beforehand) into a
//!   scratch table with the same columns and indexes.
//! - **projector catch-up from zero**: `Projector::live(pool).catch_up()`
//!   over the whole store, as a projector that was stopped catches up: in
//!   bulk while at least `projector::BULK_FROM` events are pending (up to
//!   250,000 per transaction, each touched stream derived once, rows written
//!   with `COPY` into the live, indexed tables), the rest batch by batch.
//!   Anchor: the typed replay, reading every event in
//!   global-position order and deserialising its payload into tenure's
//!   typed event enum, nothing else.
//! - **sealing the history from zero** and **verify**: `audit::Sealer`'s
//!   catch-up over the whole store (hashing every event onto the chain and
//!   writing its seal), then `audit::verify::verify` recomputing the chain
//!   from the events (median of a few). Anchor: the typed replay.
//! - **commands, 8 tasks, sealer running**: the 8-task command run again
//!   while `audit::Sealer::run` follows the commits, as in `tenure serve`.
//!   Anchor: the mean of the same run just before and just after, without it.
//! - **reports from replicas**: four tasks reading the leavers report for 5 s
//!   through `ReportSource` from two hot standbys of the bench's cluster
//!   (`ManagedCluster::start_replica`), one and then both in turn, beside
//!   the same from the primary (see `replicas.rs`).
//! - **GET a participant, token looked up on every request** and **token
//!   check alone**: authentication's cost (see `auth.rs`).
//! - **rebuild**: `projections::projector::rebuild` over the same store: the
//!   bulk first pass (every stream derived once, rows written with `COPY`
//!   into fresh tables, secondary indexes built after), the catch-up and the
//!   swap. Same anchor.
//! - **commands, 1 / 8 / 32 tasks**: participants registered and then
//!   changing role twice, every command through `CommandRunner::run` as the
//!   HTTP API runs it (no HTTP), each task on its own participants. Anchor:
//!   the same commands on a minimal cqrs-es aggregate of the bench's own
//!   through postgres-es's `PostgresEventRepository` and `CqrsFramework`
//!   (load, decide, append one event), in its own database, at the same
//!   concurrency, each run right after tenure's.
//! - **reports, p50 / p99** (`reports.rs`): `tenure::reports::produce`
//!   for each report kind with a typical filter (leavers of one
//!   organisation over four years, and of its team managers in April to
//!   September of two years; turnover over a year; vacancies on a day;
//!   promotions and retention of one cohort), JSON serialisation included,
//!   `REPORT_REQUESTS` requests one after another after one untimed. Anchor
//!   for leavers: one hand-written SQL query per period over the read models
//!   for the same figure (leavers, person-days, leaver rate), as many times;
//!   the bench checks that both give the same leavers and person-days.
//!   Every kind is also set beside issue 10's goal, 20 ms at p99.
//!   `TENURE_BENCH_REPORTS_ONLY=1` measures the history, a rebuild and the
//!   reports only.
//! - **leavers report with known_at**: the same request "as known at" now
//!   (a replay of the organisation's streams; median of a few). Anchors:
//!   the typed replay of the whole store, and the same report live (p50).
//! - **commands under report load**: the 8-task command run again while 4
//!   tasks request the leavers report in a loop (no task starts a new
//!   participant after `LOADED_AT_MOST`, so this run is bounded in time).
//!   Anchor: the 8-task run without readers.

mod anchors;
mod audit;
mod auth;
#[path = "../common/copy_anchor.rs"]
mod copy_anchor;
mod history;
mod replicas;
mod reports;
mod workload;

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use projections::projector::Projector;
use serde_json::{json, Map, Value};
use sqlx::PgPool;
use tenure::commands::CommandRunner;
use tenure::event_store::EventStore;
use tenure::pg_cluster::{ClusterOptions, ManagedCluster};
use tenure::reports::{produce, ReportKind};

use workload::*;

/// One line of the table: tenure's figure, its anchor, and the ratio.
struct Figure {
    name: String,
    tenure: f64,
    anchor_name: String,
    anchor: f64,
    unit: &'static str,
    /// Whether larger is better (a rate) or smaller (a time).
    higher_is_better: bool,
}

impl Figure {
    fn ratio(&self) -> f64 {
        if self.higher_is_better {
            self.tenure / self.anchor
        } else {
            self.anchor / self.tenure
        }
    }

    fn json(&self) -> Value {
        json!({
            "figure": self.name, "tenure": round(self.tenure), "anchor": self.anchor_name,
            "anchor_value": round(self.anchor), "unit": self.unit, "ratio": (self.ratio() * 1000.0).round() / 1000.0,
        })
    }
}

fn rate(n: impl Into<f64>, d: Duration) -> f64 {
    n.into() / d.as_secs_f64()
}

/// The leavers report once, JSON included; returns its leavers and person-days.
async fn leavers_report(pool: &PgPool, known_at: Option<String>) -> Result<(u64, u64), BoxError> {
    let answer = produce(pool, ReportKind::Leavers, &leavers_query(known_at))
        .await
        .map_err(|e| format!("leavers report: {e}"))?;
    std::hint::black_box(serde_json::to_vec(&answer.report)?);
    let total = &answer.report["total"]["period"];
    Ok((
        total["leavers"].as_u64().unwrap_or_default(),
        total["person_days"].as_u64().unwrap_or_default(),
    ))
}

/// Whether only the reports are measured (`TENURE_BENCH_REPORTS_ONLY=1`):
/// the history, a rebuild of the read models, the reports.
fn reports_only() -> bool {
    std::env::var("TENURE_BENCH_REPORTS_ONLY").is_ok_and(|v| v == "1")
}

/// Measures every report kind (`reports.rs`) and adds its figures; returns
/// the broad leavers report's leavers and person-days.
async fn report_figures(
    pool: &PgPool,
    figures: &mut Vec<Figure>,
    out: &mut Map<String, Value>,
) -> Result<(u64, u64), BoxError> {
    let (measured, answers) = reports::measure(pool).await?;
    out.insert("reports".into(), answers);
    for m in measured {
        if let Some((sql_p50, sql_p99, same)) = m.anchor {
            let differ = if same { "" } else { " (figures DIFFER)" };
            for (label, tenure, anchor) in [("p50", m.p50, sql_p50), ("p99", m.p99, sql_p99)] {
                figures.push(Figure {
                    name: format!("{}, {label}", m.name),
                    tenure,
                    anchor_name: format!("one SQL query per period, {label}{differ}"),
                    anchor,
                    unit: "ms",
                    higher_is_better: false,
                });
            }
        } else {
            figures.push(Figure {
                name: format!("{}, p50", m.name),
                tenure: m.p50,
                anchor_name: "goal at p99".into(),
                anchor: reports::GOAL_MS,
                unit: "ms",
                higher_is_better: false,
            });
        }
        figures.push(Figure {
            name: format!("{}, p99", m.name),
            tenure: m.p99,
            anchor_name: "goal at p99".into(),
            anchor: reports::GOAL_MS,
            unit: "ms",
            higher_is_better: false,
        });
    }
    leavers_report(pool, None).await
}

/// Every measurement; `bare` is the bare framework's database.
async fn measure(
    pool: &PgPool,
    bare: &PgPool,
    sizes: Sizes,
    out: &mut Map<String, Value>,
) -> Result<Vec<Figure>, BoxError> {
    let mut figures = Vec::new();
    let store = EventStore::new(pool.clone());
    let runner = CommandRunner::new(store.clone(), 366);
    let bare_cqrs = anchors::bare_cqrs(bare.clone());

    // 1. The history, and its anchor.
    eprintln!(
        "history: {} participants x {BULK_EVENTS_PER_PARTICIPANT} events ...",
        sizes.bulk_participants
    );
    let generated = history::bulk_append(&store, sizes.bulk_participants, sizes.organisations).await?;
    let (bulk_events, bulk_wall) = (generated.events, generated.wall);
    out.insert(
        "history".into(),
        json!({ "participants": generated.participants, "organisations": sizes.organisations,
                "posts": generated.posts, "cohorts": generated.cohorts, "enrolments": generated.enrolments }),
    );
    eprintln!("COPY of the same rows ...");
    let (copied, copy_wall) = copy_anchor::copy_events(pool).await?;
    figures.push(Figure {
        name: "bulk append (EventStore::append, 250 streams/commit)".into(),
        tenure: rate(bulk_events as f64, bulk_wall),
        anchor_name: "COPY of the same rows".into(),
        anchor: rate(copied as f64, copy_wall),
        unit: "events/s",
        higher_is_better: true,
    });
    let events = event_count(pool).await?;
    out.insert("history_events".into(), json!(events));
    if reports_only() {
        eprintln!("reports only: rebuild, then the reports ...");
        projections::projector::rebuild(pool).await?;
        report_figures(pool, &mut figures, out).await?;
        return Ok(figures);
    }

    // 2. Projector catch-up from zero, and the typed replay.
    eprintln!("projector catch-up over {events} events ...");
    let started = Instant::now();
    let applied = Projector::live(pool.clone()).catch_up().await?;
    let catch_up = started.elapsed();
    eprintln!("typed replay ...");
    let (replay_wall, replayed) = timed(|| anchors::typed_replay(pool)).await?;
    let replay_rate = rate(replayed as f64, replay_wall);
    figures.push(Figure {
        name: "projector catch-up from zero".into(),
        tenure: rate(applied as f64, catch_up),
        anchor_name: "typed replay".into(),
        anchor: replay_rate,
        unit: "events/s",
        higher_is_better: true,
    });
    eprintln!("rebuild ...");
    let started = Instant::now();
    let rebuilt = projections::projector::rebuild(pool).await?;
    let rebuild = started.elapsed();
    figures.push(Figure {
        name: "rebuild (bulk first pass, catch-up, swap)".into(),
        tenure: rate(rebuilt.events_applied as f64, rebuild),
        anchor_name: "typed replay".into(),
        anchor: replay_rate,
        unit: "events/s",
        higher_is_better: true,
    });
    audit::audit_figures(pool, replay_rate, &mut figures).await?;
    auth::auth_figures(pool, &mut figures).await?;

    // 3. Commands, each concurrency beside the bare framework.
    let mut alone_8 = 0.0;
    for tasks in CONCURRENCIES {
        let per_task = sizes.participants_per_task(tasks);
        eprintln!("commands: {tasks} tasks x {per_task} participants x 3, tenure then bare ...");
        let ours = run_commands(&runner, &format!("c{tasks}"), tasks, per_task, None).await?;
        let theirs = anchors::run_bare_commands(&bare_cqrs, tasks, per_task).await?;
        if tasks == LOADED_TASKS {
            alone_8 = ours.per_second();
        }
        out.insert(format!("commands_{tasks}_tasks"), ours.json());
        out.insert(format!("bare_commands_{tasks}_tasks"), theirs.json());
        figures.push(Figure {
            name: format!(
                "commands, {tasks} task{} (p99 {:.1} ms vs {:.1} ms)",
                if tasks == 1 { "" } else { "s" },
                ms(percentile(&ours.latencies, 99.0)),
                ms(percentile(&theirs.latencies, 99.0))
            ),
            tenure: ours.per_second(),
            anchor_name: "bare cqrs-es + postgres-es".into(),
            anchor: theirs.per_second(),
            unit: "commands/s",
            higher_is_better: true,
        });
    }
    audit::sealed_commands(pool, &runner, sizes.participants_per_task(LOADED_TASKS), &mut figures).await?;
    Projector::live(pool.clone()).catch_up().await?;

    // 4. Reports: each kind with a typical filter; leavers beside one SQL
    // query per period.
    let report_figures = report_figures(pool, &mut figures, out).await?;

    eprintln!("leavers report with known_at, {READ_RUNS} runs ...");
    let known_at = Utc::now().to_rfc3339();
    let (known_at_time, known) = timed(|| leavers_report(pool, Some(known_at.clone()))).await?;
    figures.push(Figure {
        name: "leavers report with known_at=now".into(),
        tenure: ms(known_at_time),
        anchor_name: format!("typed replay of all {events} events"),
        anchor: ms(replay_wall),
        unit: "ms",
        higher_is_better: false,
    });
    // The goal for `known_at` (issue #10): within 2x of the same report
    // live, i.e. a ratio of at least 0.5 here. The live one timed the same way.
    let (live_time, _) = timed(|| leavers_report(pool, None)).await?;
    figures.push(Figure {
        name: "leavers report with known_at=now (vs live)".into(),
        tenure: ms(known_at_time),
        anchor_name: "the same report live (median)".into(),
        anchor: ms(live_time),
        unit: "ms",
        higher_is_better: false,
    });
    if known != report_figures {
        return Err("the leavers report differs between the read models and known_at".into());
    }

    // 5. Commands while reports are read.
    eprintln!("commands, {LOADED_TASKS} tasks, beside {REPORT_READERS} report readers ...");
    let stop = Arc::new(AtomicBool::new(false));
    let reports_read = Arc::new(AtomicUsize::new(0));
    let readers: Vec<_> = (0..REPORT_READERS)
        .map(|_| {
            let (pool, stop, reports_read) = (pool.clone(), stop.clone(), reports_read.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    leavers_report(&pool, None).await.map_err(|e| e.to_string())?;
                    reports_read.fetch_add(1, Ordering::Relaxed);
                }
                Ok::<_, String>(())
            })
        })
        .collect();
    // Bounded in time: under report load commands can be slow enough that
    // the full count would take longer than the rest of the bench.
    let until = Some(Instant::now() + LOADED_AT_MOST);
    let loaded = run_commands(
        &runner,
        "loaded",
        LOADED_TASKS,
        sizes.participants_per_task(LOADED_TASKS),
        until,
    )
    .await;
    stop.store(true, Ordering::Relaxed);
    for reader in readers {
        reader.await??;
    }
    let loaded = loaded?;
    out.insert("commands_under_report_load".into(), loaded.json());
    figures.push(Figure {
        name: format!(
            "commands, {LOADED_TASKS} tasks, {REPORT_READERS} report readers ({} reports read)",
            reports_read.load(Ordering::Relaxed)
        ),
        tenure: loaded.per_second(),
        anchor_name: format!("tenure, {LOADED_TASKS} tasks, no readers"),
        anchor: alone_8,
        unit: "commands/s",
        higher_is_better: true,
    });
    Ok(figures)
}

fn print_table(sizes: Sizes, events: i64, figures: &[Figure]) {
    println!();
    println!(
        "tenure beside its anchors: {events} events in the store ({} generated), {} commands per command run, \
         PostgreSQL with fsync on, {} CPUs",
        sizes.history_events,
        sizes.commands,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let width = figures.iter().map(|f| f.name.len()).max().unwrap_or(0);
    let anchor_width = figures.iter().map(|f| f.anchor_name.len()).max().unwrap_or(0);
    println!(
        "{:<width$}  {:>10}  {:<anchor_width$}  {:>10}  {:<10}  ratio",
        "figure", "tenure", "anchor", "anchor", "unit"
    );
    println!("{}", "-".repeat(width + anchor_width + 45));
    for f in figures {
        println!(
            "{:<width$}  {:>10.1}  {:<anchor_width$}  {:>10.1}  {:<10}  {:.3}",
            f.name,
            f.tenure,
            f.anchor_name,
            f.anchor,
            f.unit,
            f.ratio()
        );
    }
    println!();
}

async fn bench() -> Result<(), BoxError> {
    let sizes = Sizes::from_env()?;
    let data_dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/bench-pg")
        .join(std::process::id().to_string());
    eprintln!("starting PostgreSQL in {} ...", data_dir.display());
    let replicas_dir = data_dir.with_extension("replicas");
    let cluster = ManagedCluster::start(ClusterOptions {
        data_dir,
        port: None,
        superuser: "tenure".to_string(),
        remove_on_stop: true,
        durable: true,
    })
    .await?;
    let result = async {
        let admin_url = cluster.database_url("postgres");
        tenure::db::create_database_if_missing(&admin_url, "tenure_bench").await?;
        tenure::db::create_database_if_missing(&admin_url, "bare_bench").await?;
        let pool = tenure::db::connect(&cluster.database_url("tenure_bench"), 40).await?;
        tenure::db::MIGRATOR.run(&pool).await?;
        let bare = tenure::db::connect(&cluster.database_url("bare_bench"), 40).await?;
        sqlx::raw_sql(anchors::BARE_SCHEMA).execute(&bare).await?;
        // Warm-up: open the pools' connections and the server's caches.
        let runner = CommandRunner::new(EventStore::new(pool.clone()), 366);
        run_commands(&runner, "warmup", 32, 1, None).await?;
        anchors::run_bare_commands(&anchors::bare_cqrs(bare.clone()), 32, 1).await?;

        let mut out = Map::new();
        out.insert("events_requested".into(), json!(sizes.history_events));
        out.insert("commands_per_run".into(), json!(sizes.commands));
        out.insert("durable".into(), json!(true));
        out.insert(
            "cpus".into(),
            json!(std::thread::available_parallelism().map_or(0, |n| n.get())),
        );
        let measured = match measure(&pool, &bare, sizes, &mut out).await {
            Ok(figures) if reports_only() => Ok(figures),
            Ok(mut figures) => {
                eprintln!("leavers reports from the primary, then from 1 and 2 streaming replicas ...");
                let rates = replicas::report_rates(&cluster, &pool, &replicas_dir).await;
                let _ = std::fs::remove_dir_all(&replicas_dir);
                let [alone, one, two] = rates?;
                out.insert("reports_per_s_primary_1_2_replicas".into(), json!([alone, one, two]));
                for (n, rate) in [(1, one), (2, two)] {
                    figures.push(Figure {
                        name: format!("leavers reports/s, 4 readers, {n} replica(s) on this machine"),
                        tenure: rate,
                        anchor_name: "the same, from the primary".into(),
                        anchor: alone,
                        unit: "reports/s",
                        higher_is_better: true,
                    });
                }
                Ok(figures)
            }
            Err(e) => Err(e),
        };
        let events = event_count(&pool).await.unwrap_or_default();
        pool.close().await;
        bare.close().await;
        let figures = measured?;
        print_table(sizes, events, &figures);
        out.insert(
            "figures".into(),
            Value::Array(figures.iter().map(Figure::json).collect()),
        );
        println!("{}", Value::Object(out));
        Ok::<_, BoxError>(())
    }
    .await;
    let stopped = cluster.stop().await;
    result?;
    stopped?;
    Ok(())
}

fn main() -> Result<(), BoxError> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let started = Instant::now();
    runtime.block_on(bench())?;
    eprintln!("done in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}
