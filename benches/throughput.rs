//! Throughput of tenure's write path, projector and "as known at" replay.
//!
//! Run with `cargo bench --bench throughput` (sizes can be multiplied with
//! `TENURE_BENCH_SCALE`, e.g. `TENURE_BENCH_SCALE=4`). The bench starts a
//! throwaway PostgreSQL cluster of its own under `target/bench-pg/<pid>` with
//! crash safety on (`durable: true`: fsync and synchronous commit, as in
//! production), creates the database `tenure_bench`, runs the migrations,
//! measures, prints a table and then the same numbers as one JSON line, and
//! stops (and removes) the cluster.
//!
//! What each number means:
//!
//! - **commands, 1 task / 8 tasks**: participants are registered and then
//!   change role twice (asye → social worker → senior practitioner), every
//!   command through `CommandRunner::run` (`UseCase::Register`,
//!   `UseCase::ChangeRole`) without idempotency key, exactly as the HTTP API
//!   runs it: load the stream, decide, append one commit under the store's
//!   append lock, commit with fsync. With 8 tasks each task works on its own
//!   participants, so there are no version conflicts; what concurrency can
//!   win is only the overlap of loading and deciding with other tasks'
//!   commits, because the append lock serialises commits (fsync included).
//!   `commands/s` is commands divided by wall time; p50/p99 are the latency
//!   of one `run` call (nearest rank).
//! - **bulk append**: how the history for the next numbers is written, NOT
//!   through the runner: each participant's events are produced by the
//!   `Participant` aggregate itself (`decide` + `apply`, so every history is
//!   valid), serialised with `event_store::new_events` and appended with
//!   `EventStore::append` in rounds (round k holds every participant's k-th
//!   event), many streams per commit. Each participant gets 4 events:
//!   registration, two role changes, then a leaving (every third participant)
//!   or a third role change. Events/s of that path is printed for reference.
//! - **projector catch-up**: `Projector::live(pool).catch_up()` from an empty
//!   checkpoint over the whole store (the command events and the bulk
//!   history); events/s is events applied divided by wall time. Because the
//!   history is appended in rounds, every participant is touched by several
//!   batches, as in real use where a person's events arrive over years.
//! - **replay, dataset_known_at(now)**: the "as known at" report input rebuilt
//!   from every event recorded up to now (`projections::replay`); events/s is
//!   events in the store divided by the time. Median of a few runs.
//! - **read models, load_dataset**: the same report input read from the
//!   projector's tables (`projections::tables::load_dataset`); the events/s
//!   figure is again events in the store divided by the time, to compare with
//!   the replay. Median of a few runs.
//! - **leavers report, live / known_at**: one `tenure::reports::produce` for
//!   leavers in one organisation over a period, from the read models (no
//!   `known_at`) and from a replay (`known_at` = now): the end-to-end cost of
//!   answering one report request, computation and JSON included. Median of a
//!   few runs; the bench also checks that both give the same figures.
//!
//! The bench is not part of `cargo test`.

use std::error::Error;
use std::path::Path;
use std::time::{Duration, Instant};

use aggregates::ladder::{Basis, Ladder, RoleRef};
use aggregates::participant::{Participant, ParticipantCommand};
use aggregates::CommandContext;
use chrono::{Days, NaiveDate, Utc};
use cqrs_es::Aggregate;
use projections::projector::{Projector, LIVE_SCHEMA};
use serde_json::{json, Map, Value};
use sqlx::PgPool;
use tenure::commands::{ChangeRole, CommandOrigin, CommandRunner, Register, UseCase};
use tenure::event_store::{new_events, Commit, EventStore, Metadata, NewEvent, StreamWrite};
use tenure::pg_cluster::{ClusterOptions, ManagedCluster};
use tenure::reports::{produce, ReportKind, ReportQuery};
use uuid::Uuid;

type BoxError = Box<dyn Error + Send + Sync>;

/// Concurrent tasks of the second command measurement.
const CONCURRENT_TASKS: usize = 8;
/// Streams per commit on the bulk path.
const STREAMS_PER_COMMIT: usize = 250;
/// Events per participant on the bulk path.
const BULK_EVENTS_PER_PARTICIPANT: usize = 4;
/// Organisations the participants are spread over.
const ORGANISATIONS: usize = 5;
/// Runs of each read measurement (the median is reported).
const READ_RUNS: usize = 3;
/// The organisation the leavers report asks about.
const REPORT_ORGANISATION: &str = "Bench Council 0";

/// How much work each measurement does.
#[derive(Debug, Clone, Copy)]
struct Sizes {
    scale: f64,
    /// Participants of the single-task command run (3 commands each).
    sequential_participants: usize,
    /// Participants per task of the 8-task command run (3 commands each).
    participants_per_task: usize,
    /// Participants of the bulk history (4 events each).
    bulk_participants: usize,
}

impl Sizes {
    fn from_env() -> Result<Self, BoxError> {
        let scale = match std::env::var("TENURE_BENCH_SCALE") {
            Ok(s) => s
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite() && *x > 0.0)
                .ok_or_else(|| format!("TENURE_BENCH_SCALE must be a positive number, not {s:?}"))?,
            Err(_) => 1.0,
        };
        let n = |base: f64| ((base * scale).round() as usize).max(1);
        Ok(Self {
            scale,
            sequential_participants: n(300.0),
            participants_per_task: n(50.0),
            bulk_participants: n(5000.0),
        })
    }
}

/// One row of the printed table.
struct Row {
    metric: String,
    value: String,
    unit: &'static str,
    note: String,
}

/// Latencies and wall time of one command run.
struct CommandRun {
    tasks: usize,
    commands: usize,
    wall: Duration,
    latencies: Vec<Duration>,
}

impl CommandRun {
    fn per_second(&self) -> f64 {
        self.commands as f64 / self.wall.as_secs_f64()
    }

    fn json(&self) -> Value {
        json!({
            "tasks": self.tasks,
            "commands": self.commands,
            "seconds": secs(self.wall),
            "commands_per_s": round(self.per_second()),
            "p50_ms": ms(percentile(&self.latencies, 50.0)),
            "p99_ms": ms(percentile(&self.latencies, 99.0)),
            "max_ms": ms(self.latencies.iter().copied().max().unwrap_or_default()),
        })
    }
}

/// Nearest-rank percentile of `sorted_or_not` (sorted on a copy).
fn percentile(values: &[Duration], p: f64) -> Duration {
    if values.is_empty() {
        return Duration::ZERO;
    }
    let mut sorted = values.to_vec();
    sorted.sort();
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn median(values: &[Duration]) -> Duration {
    percentile(values, 50.0)
}

fn ms(d: Duration) -> f64 {
    round(d.as_secs_f64() * 1000.0)
}

fn secs(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0).round() / 1000.0
}

/// Rounds to 2 decimals for printing.
fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

fn after(day: NaiveDate, days: u64) -> NaiveDate {
    day.checked_add_days(Days::new(days)).expect("date in range")
}

fn role(code: &str) -> RoleRef {
    Ladder::children_services_default()
        .role(code)
        .unwrap_or_else(|| panic!("{code} is on the default ladder"))
}

fn organisation(i: usize) -> String {
    format!("Bench Council {}", i % ORGANISATIONS)
}

/// The day participant `i` joins: spread over two years from 2016.
fn joined_on(i: usize) -> NaiveDate {
    after(date(2016, 1, 4), (i % 730) as u64)
}

fn origin(correlation_id: &str) -> CommandOrigin {
    CommandOrigin {
        recorded_by: "bench".to_string(),
        source: "bench".to_string(),
        correlation_id: correlation_id.to_string(),
        idempotency: None,
        expected_version: None,
    }
}

/// The three commands of one participant: registration, two role changes.
fn participant_commands(run: &str, i: usize) -> [UseCase; 3] {
    let id = Uuid::new_v4();
    let org = organisation(i);
    let team = Some(format!("Team {}", i % 7));
    let joined = joined_on(i);
    let change = |days: u64, code: &str| {
        UseCase::ChangeRole(
            id,
            ChangeRole {
                effective_on: after(joined, days),
                role: role(code),
                organisation: org.clone(),
                team: team.clone(),
                post_id: None,
                basis: Basis::Permanent,
                fte: None,
                kind: None,
            },
        )
    };
    [
        UseCase::Register(Register {
            participant_id: id,
            external_ref: format!("bench-{run}-{i}"),
            organisation: org.clone(),
            team: team.clone(),
            role: role("asye"),
            post_id: None,
            basis: Basis::Permanent,
            fte: 1.0,
            joined_on: joined,
        }),
        change(365, "social_worker"),
        change(730, "senior_practitioner"),
    ]
}

/// Runs `participants` participants' commands in each of `tasks` tasks.
async fn run_commands(
    runner: &CommandRunner,
    run: &str,
    tasks: usize,
    participants: usize,
) -> Result<CommandRun, BoxError> {
    let started = Instant::now();
    let mut handles = Vec::with_capacity(tasks);
    for task in 0..tasks {
        let runner = runner.clone();
        let run = format!("{run}-t{task}");
        handles.push(tokio::spawn(async move {
            let origin = origin(&run);
            let mut latencies = Vec::with_capacity(participants * 3);
            for i in 0..participants {
                for use_case in participant_commands(&run, i) {
                    let t = Instant::now();
                    runner
                        .run(&origin, &use_case)
                        .await
                        .map_err(|e| format!("{run}: command {use_case:?} failed: {e}"))?;
                    latencies.push(t.elapsed());
                }
            }
            Ok::<_, String>(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for handle in handles {
        latencies.extend(handle.await??);
    }
    Ok(CommandRun {
        tasks,
        commands: latencies.len(),
        wall: started.elapsed(),
        latencies,
    })
}

/// One participant's bulk history: its id and each event serialised alone.
fn bulk_history(i: usize, ctx: &CommandContext) -> Result<(String, Vec<Vec<NewEvent>>), BoxError> {
    let id = Uuid::new_v4();
    let org = organisation(i);
    let team = Some(format!("Team {}", i % 7));
    let joined = joined_on(i);
    let change = |days: u64, code: &str| ParticipantCommand::ChangeRole {
        effective_on: after(joined, days),
        role: role(code),
        organisation: org.clone(),
        team: team.clone(),
        post_id: None,
        basis: Basis::Permanent,
        fte: None,
        kind: None,
    };
    let last = if i % 3 == 0 {
        ParticipantCommand::RecordLeaving {
            effective_on: after(joined, 1000 + (i % 300) as u64),
            reason: "resigned".to_string(),
            destination: Some("another council".to_string()),
        }
    } else {
        change(1100, "practice_manager")
    };
    let commands = [
        ParticipantCommand::Register {
            participant_id: id,
            external_ref: format!("bulk-{i}"),
            organisation: org.clone(),
            team: team.clone(),
            role: role("asye"),
            post_id: None,
            basis: Basis::Permanent,
            fte: 1.0,
            joined_on: joined,
        },
        change(365, "social_worker"),
        change(730, "senior_practitioner"),
        last,
    ];
    let mut participant = Participant::default();
    let mut events = Vec::with_capacity(commands.len());
    for command in commands {
        let event = participant
            .decide(command, ctx)
            .map_err(|e| format!("bulk participant {i}: {e}"))?;
        events.push(new_events(std::slice::from_ref(&event))?);
        participant.apply(event);
    }
    Ok((id.to_string(), events))
}

/// Appends the bulk history; returns events appended and the wall time.
async fn bulk_append(store: &EventStore, participants: usize) -> Result<(usize, Duration), BoxError> {
    let ctx = CommandContext {
        today: Utc::now().date_naive(),
        future_margin_days: 366,
    };
    let histories = (0..participants)
        .map(|i| bulk_history(i, &ctx))
        .collect::<Result<Vec<_>, _>>()?;
    let started = Instant::now();
    let mut appended = 0;
    for round in 0..BULK_EVENTS_PER_PARTICIPANT {
        for chunk in histories.chunks(STREAMS_PER_COMMIT) {
            let writes = chunk
                .iter()
                .map(|(id, events)| StreamWrite {
                    aggregate_type: Participant::TYPE,
                    aggregate_id: id.clone(),
                    expected_version: round as u64,
                    events: events[round].clone(),
                })
                .collect();
            let receipt = store
                .append(Commit {
                    writes,
                    guards: Vec::new(),
                    metadata: Metadata {
                        recorded_by: "bench".to_string(),
                        source: "bench:bulk".to_string(),
                        correlation_id: format!("bulk-round-{round}"),
                        idempotency_key: None,
                    },
                    idempotency: None,
                })
                .await?;
            appended += receipt.events_appended;
        }
    }
    Ok((appended, started.elapsed()))
}

/// Times `READ_RUNS` runs of `f`; returns the median and the last result.
async fn timed<T, F, Fut>(mut f: F) -> Result<(Duration, T), BoxError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, BoxError>>,
{
    let mut times = Vec::with_capacity(READ_RUNS);
    let mut last = None;
    for _ in 0..READ_RUNS {
        let t = Instant::now();
        let value = f().await?;
        times.push(t.elapsed());
        last = Some(value);
    }
    Ok((median(&times), last.expect("READ_RUNS > 0")))
}

fn leavers_query(known_at: Option<String>) -> ReportQuery {
    ReportQuery {
        organisation: Some(REPORT_ORGANISATION.to_string()),
        from: Some(date(2018, 1, 1)),
        to: Some(date(2021, 12, 31)),
        known_at,
        ..ReportQuery::default()
    }
}

async fn event_count(pool: &PgPool) -> Result<i64, BoxError> {
    Ok(sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(pool)
        .await?)
}

/// Every measurement, against a migrated database.
async fn measure(
    pool: &PgPool,
    sizes: Sizes,
    rows: &mut Vec<Row>,
    out: &mut Map<String, Value>,
) -> Result<(), BoxError> {
    let store = EventStore::new(pool.clone());
    let runner = CommandRunner::new(store.clone(), 366);

    // Warm-up: open the pool's connections and the server's caches.
    run_commands(&runner, "warmup", CONCURRENT_TASKS, 2).await?;

    // 1. Command throughput.
    eprintln!(
        "commands: 1 task x {} participants x 3 commands ...",
        sizes.sequential_participants
    );
    let single = run_commands(&runner, "seq", 1, sizes.sequential_participants).await?;
    eprintln!(
        "commands: {CONCURRENT_TASKS} tasks x {} participants x 3 commands ...",
        sizes.participants_per_task
    );
    let concurrent = run_commands(&runner, "conc", CONCURRENT_TASKS, sizes.participants_per_task).await?;
    for run in [&single, &concurrent] {
        let tasks = if run.tasks == 1 {
            "1 task".to_string()
        } else {
            format!("{} tasks", run.tasks)
        };
        rows.push(Row {
            metric: format!("commands, {tasks}"),
            value: format!("{:.1}", run.per_second()),
            unit: "commands/s",
            note: format!(
                "{} commands in {:.2} s; latency p50 {:.2} ms, p99 {:.2} ms",
                run.commands,
                run.wall.as_secs_f64(),
                ms(percentile(&run.latencies, 50.0)),
                ms(percentile(&run.latencies, 99.0)),
            ),
        });
    }
    out.insert("commands_1_task".into(), single.json());
    out.insert(format!("commands_{CONCURRENT_TASKS}_tasks"), concurrent.json());

    // 2. Bulk history, then projector catch-up over the whole store.
    eprintln!(
        "bulk append: {} participants x {BULK_EVENTS_PER_PARTICIPANT} events ...",
        sizes.bulk_participants
    );
    let (bulk_events, bulk_wall) = bulk_append(&store, sizes.bulk_participants).await?;
    let bulk_rate = bulk_events as f64 / bulk_wall.as_secs_f64();
    rows.push(Row {
        metric: "bulk append (EventStore::append)".into(),
        value: format!("{bulk_rate:.0}"),
        unit: "events/s",
        note: format!(
            "{bulk_events} events of {} participants in {:.2} s, {STREAMS_PER_COMMIT} streams per commit, \
             one round per event index (not through the runner)",
            sizes.bulk_participants,
            bulk_wall.as_secs_f64()
        ),
    });
    out.insert(
        "bulk_append".into(),
        json!({
            "method": "EventStore::append, events from Participant::decide, serialised with new_events, \
                       one round per event index, many streams per commit",
            "participants": sizes.bulk_participants,
            "events": bulk_events,
            "streams_per_commit": STREAMS_PER_COMMIT,
            "seconds": secs(bulk_wall),
            "events_per_s": bulk_rate.round(),
        }),
    );

    let events = event_count(pool).await?;
    eprintln!("projector catch-up over {events} events ...");
    let started = Instant::now();
    let applied = Projector::live(pool.clone()).catch_up().await?;
    let catch_up = started.elapsed();
    let catch_up_rate = applied as f64 / catch_up.as_secs_f64();
    rows.push(Row {
        metric: "projector catch-up".into(),
        value: format!("{catch_up_rate:.0}"),
        unit: "events/s",
        note: format!("{applied} events applied in {:.2} s", catch_up.as_secs_f64()),
    });
    out.insert(
        "projector_catch_up".into(),
        json!({ "events": applied, "seconds": secs(catch_up), "events_per_s": catch_up_rate.round() }),
    );

    // 3. "As known at" replay against the read models, and one report.
    eprintln!("replay and read models, {READ_RUNS} runs each ...");
    let (replay, (replayed, _)) =
        timed(|| async { Ok(projections::replay::dataset_known_at(pool, Some(Utc::now())).await?) }).await?;
    let (tables, (loaded, _)) =
        timed(|| async { Ok(projections::tables::load_dataset(pool, LIVE_SCHEMA).await?) }).await?;
    for (metric, time, people) in [
        ("replay, dataset_known_at(now)", replay, replayed.people.len()),
        ("read models, load_dataset", tables, loaded.people.len()),
    ] {
        rows.push(Row {
            metric: metric.into(),
            value: format!("{:.1}", time.as_secs_f64() * 1000.0),
            unit: "ms",
            note: format!(
                "{:.0} events/s over {events} events; {people} people",
                events as f64 / time.as_secs_f64()
            ),
        });
    }
    out.insert(
        "replay_known_at".into(),
        json!({ "events": events, "ms": ms(replay), "events_per_s": (events as f64 / replay.as_secs_f64()).round(),
                "people": replayed.people.len() }),
    );
    out.insert(
        "load_dataset".into(),
        json!({ "events": events, "ms": ms(tables), "events_per_s": (events as f64 / tables.as_secs_f64()).round(),
                "people": loaded.people.len() }),
    );

    eprintln!("leavers report, {READ_RUNS} runs each ...");
    let known_at = Utc::now().to_rfc3339();
    let (live_time, live) = timed(|| async {
        produce(pool, ReportKind::Leavers, &leavers_query(None))
            .await
            .map_err(|e| BoxError::from(format!("leavers report: {e}")))
    })
    .await?;
    let (replay_time, replayed) = timed(|| async {
        produce(pool, ReportKind::Leavers, &leavers_query(Some(known_at.clone())))
            .await
            .map_err(|e| BoxError::from(format!("leavers report known_at: {e}")))
    })
    .await?;
    let same = live.report == replayed.report;
    for (metric, time) in [
        ("leavers report, read models", live_time),
        ("leavers report, known_at=now", replay_time),
    ] {
        rows.push(Row {
            metric: metric.into(),
            value: format!("{:.1}", time.as_secs_f64() * 1000.0),
            unit: "ms",
            note: format!(
                "organisation {REPORT_ORGANISATION:?}, 2018-01-01..2021-12-31; same figures both ways: {}",
                if same { "yes" } else { "NO" }
            ),
        });
    }
    out.insert(
        "leavers_report".into(),
        json!({ "organisation": REPORT_ORGANISATION, "from": "2018-01-01", "to": "2021-12-31",
                "read_models_ms": ms(live_time), "known_at_ms": ms(replay_time), "same_figures": same }),
    );
    if !same {
        return Err("the leavers report differs between the read models and the replay".into());
    }
    Ok(())
}

fn print_table(sizes: Sizes, rows: &[Row]) {
    println!();
    println!(
        "tenure throughput (scale {}, PostgreSQL with fsync on, {} CPUs)",
        sizes.scale,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let width = rows.iter().map(|r| r.metric.len()).max().unwrap_or(0);
    println!("{:<width$}  {:>10}  {:<10}  note", "metric", "value", "unit");
    println!("{}", "-".repeat(width + 60));
    for r in rows {
        println!("{:<width$}  {:>10}  {:<10}  {}", r.metric, r.value, r.unit, r.note);
    }
    println!();
}

async fn bench() -> Result<(), BoxError> {
    let sizes = Sizes::from_env()?;
    let data_dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/bench-pg")
        .join(std::process::id().to_string());
    eprintln!("starting PostgreSQL in {} ...", data_dir.display());
    let cluster = ManagedCluster::start(ClusterOptions {
        data_dir,
        port: None,
        superuser: "tenure".to_string(),
        remove_on_stop: true,
        durable: true,
    })
    .await?;
    let result = async {
        tenure::db::create_database_if_missing(&cluster.database_url("postgres"), "tenure_bench").await?;
        let pool = tenure::db::connect(&cluster.database_url("tenure_bench"), 20).await?;
        tenure::db::MIGRATOR.run(&pool).await?;
        let mut rows = Vec::new();
        let mut out = Map::new();
        out.insert("scale".into(), json!(sizes.scale));
        out.insert("durable".into(), json!(true));
        let measured = measure(&pool, sizes, &mut rows, &mut out).await;
        pool.close().await;
        print_table(sizes, &rows);
        println!("{}", Value::Object(out));
        measured
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
