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
//!   command through `CommandRunner::run` (`ParticipantCommand::Register`,
//!   `ParticipantCommand::ChangeRole`) without idempotency key, exactly as the HTTP API
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

mod workload;

use std::path::Path;
use std::time::Instant;

use chrono::Utc;
use projections::projector::{Projector, LIVE_SCHEMA};
use serde_json::{json, Map, Value};
use sqlx::PgPool;
use tenure::commands::CommandRunner;
use tenure::event_store::EventStore;
use tenure::pg_cluster::{ClusterOptions, ManagedCluster};
use tenure::reports::{produce, ReportKind};

use workload::*;

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
