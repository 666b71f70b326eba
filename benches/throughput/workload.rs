//! Sizes, workloads and small helpers of the throughput bench.

use std::error::Error;
use std::time::{Duration, Instant};

use aggregates::ladder::{Basis, Ladder, RoleRef};
use aggregates::participant::ParticipantCommand;
use chrono::{Days, NaiveDate};
use serde_json::{json, Value};
use sqlx::PgPool;
use tenure::commands::{Command, CommandOrigin, CommandRunner};
use tenure::reports::ReportQuery;
use uuid::Uuid;

pub(crate) type BoxError = Box<dyn Error + Send + Sync>;

/// Concurrencies of the command measurements.
pub(crate) const CONCURRENCIES: [usize; 3] = [1, 8, 32];
/// Concurrent tasks of the command measurement under report load.
pub(crate) const LOADED_TASKS: usize = 8;
/// How long the commands under report load may start new participants.
pub(crate) const LOADED_AT_MOST: Duration = Duration::from_secs(30);
/// Report readers running beside the commands under report load.
pub(crate) const REPORT_READERS: usize = 4;
/// Streams per commit on the bulk path.
pub(crate) const STREAMS_PER_COMMIT: usize = 250;
/// Events per participant on the bulk path.
pub(crate) const BULK_EVENTS_PER_PARTICIPANT: usize = 4;
/// Events of the bulk history per participant, their posts and cohorts
/// included (about 4.8: see `history.rs`).
const BULK_EVENTS_PER_CAREER: f64 = 4.8;
/// Organisations the measured commands' participants are spread over.
pub(crate) const ORGANISATIONS: usize = 5;
/// Runs of each slow read measurement (the median is reported).
pub(crate) const READ_RUNS: usize = 3;
/// Requests of the report latency measurement (p50 and p99).
pub(crate) const REPORT_REQUESTS: usize = 50;
/// The organisation the leavers report asks about.
pub(crate) const REPORT_ORGANISATION: &str = "Bench Council 0";

/// How much work each measurement does.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sizes {
    /// Events of the generated history (`TENURE_BENCH_EVENTS`).
    pub(crate) history_events: usize,
    /// Commands of each command measurement (`TENURE_BENCH_COMMANDS`),
    /// rounded down to a multiple of 3 × 32 (3 commands per participant,
    /// split evenly over up to 32 tasks).
    pub(crate) commands: usize,
    /// Participants of the bulk history (4 events each, and their posts
    /// and cohorts).
    pub(crate) bulk_participants: usize,
    /// Organisations the bulk history is spread over.
    pub(crate) organisations: usize,
}

impl Sizes {
    pub(crate) fn from_env() -> Result<Self, BoxError> {
        let read = |name: &str, default: usize| -> Result<usize, BoxError> {
            match std::env::var(name) {
                Ok(s) => s
                    .trim()
                    .replace('_', "")
                    .parse::<usize>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| format!("{name} must be a positive whole number, not {s:?}").into()),
                Err(_) => Ok(default),
            }
        };
        let history_events = read("TENURE_BENCH_EVENTS", 10_000)?;
        let commands = (read("TENURE_BENCH_COMMANDS", 960)? / 96).max(1) * 96;
        Ok(Self {
            history_events,
            commands,
            bulk_participants: ((history_events as f64 / BULK_EVENTS_PER_CAREER) as usize).max(1),
            organisations: crate::history::organisations(history_events),
        })
    }

    /// Participants per task when `tasks` tasks share the commands.
    pub(crate) fn participants_per_task(&self, tasks: usize) -> usize {
        self.commands / 3 / tasks
    }
}

/// Latencies and wall time of one command run.
pub(crate) struct CommandRun {
    pub(crate) tasks: usize,
    pub(crate) commands: usize,
    pub(crate) wall: Duration,
    pub(crate) latencies: Vec<Duration>,
}

impl CommandRun {
    /// The run of `tasks` (each answering every command's latency), timed
    /// from `started` until the last task ends.
    pub(crate) async fn gather(
        tasks: Vec<tokio::task::JoinHandle<Result<Vec<Duration>, String>>>,
        started: Instant,
    ) -> Result<CommandRun, BoxError> {
        let count = tasks.len();
        let mut latencies = Vec::new();
        for task in tasks {
            latencies.extend(task.await??);
        }
        Ok(CommandRun {
            tasks: count,
            commands: latencies.len(),
            wall: started.elapsed(),
            latencies,
        })
    }

    pub(crate) fn per_second(&self) -> f64 {
        self.commands as f64 / self.wall.as_secs_f64()
    }

    pub(crate) fn json(&self) -> Value {
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
pub(crate) fn percentile(values: &[Duration], p: f64) -> Duration {
    if values.is_empty() {
        return Duration::ZERO;
    }
    let mut sorted = values.to_vec();
    sorted.sort();
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub(crate) fn median(values: &[Duration]) -> Duration {
    percentile(values, 50.0)
}

pub(crate) fn ms(d: Duration) -> f64 {
    round(d.as_secs_f64() * 1000.0)
}

pub(crate) fn secs(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0).round() / 1000.0
}

/// Rounds to 2 decimals for printing.
pub(crate) fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

pub(crate) fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

pub(crate) fn after(day: NaiveDate, days: u64) -> NaiveDate {
    day.checked_add_days(Days::new(days)).expect("date in range")
}

pub(crate) fn role(code: &str) -> RoleRef {
    Ladder::children_services_default()
        .role(code)
        .unwrap_or_else(|| panic!("{code} is on the default ladder"))
}

pub(crate) fn organisation(i: usize) -> String {
    format!("Bench Council {}", i % ORGANISATIONS)
}

/// The day participant `i` joins: spread over two years from 2016.
pub(crate) fn joined_on(i: usize) -> NaiveDate {
    after(date(2016, 1, 4), (i % 730) as u64)
}

pub(crate) fn origin(correlation_id: &str) -> CommandOrigin {
    CommandOrigin {
        recorded_by: "bench".to_string(),
        source: "bench".to_string(),
        correlation_id: correlation_id.to_string(),
        idempotency: None,
        expected_version: None,
    }
}

/// Participant `i`'s registration under `external_ref` and their role
/// change `days` after joining into `code` (in their organisation and team).
fn career(id: Uuid, i: usize, external_ref: String) -> (ParticipantCommand, impl Fn(u64, &str) -> ParticipantCommand) {
    let org = organisation(i);
    let team = Some(format!("Team {}", i % 7));
    let joined = joined_on(i);
    let registration = ParticipantCommand::Register {
        participant_id: id,
        external_ref,
        organisation: org.clone(),
        team: team.clone(),
        role: role("asye"),
        post_id: None,
        basis: Basis::Permanent,
        fte: 1.0,
        joined_on: joined,
    };
    let change = move |days: u64, code: &str| ParticipantCommand::ChangeRole {
        effective_on: after(joined, days),
        role: role(code),
        organisation: org.clone(),
        team: team.clone(),
        post_id: None,
        basis: Basis::Permanent,
        fte: None,
        kind: None,
    };
    (registration, change)
}

/// The three commands of one participant: registration, two role changes.
pub(crate) fn participant_commands(run: &str, i: usize) -> [Command; 3] {
    let id = Uuid::new_v4();
    let (registration, change) = career(id, i, format!("bench-{run}-{i}"));
    [
        registration,
        change(365, "social_worker"),
        change(730, "senior_practitioner"),
    ]
    .map(|command| Command::Participant(id, command))
}

/// Runs `participants` participants' commands in each of `tasks` tasks;
/// with `until`, no task starts a participant after that moment.
pub(crate) async fn run_commands(
    runner: &CommandRunner,
    run: &str,
    tasks: usize,
    participants: usize,
    until: Option<Instant>,
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
                if until.is_some_and(|t| Instant::now() >= t) {
                    break;
                }
                for command in participant_commands(&run, i) {
                    let t = Instant::now();
                    runner
                        .run(&origin, &command)
                        .await
                        .map_err(|e| format!("{run}: command {command:?} failed: {e}"))?;
                    latencies.push(t.elapsed());
                }
            }
            Ok::<_, String>(latencies)
        }));
    }
    CommandRun::gather(handles, started).await
}

/// Times `READ_RUNS` runs of `f`; returns the median and the last result.
pub(crate) async fn timed<T, F, Fut>(mut f: F) -> Result<(Duration, T), BoxError>
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

pub(crate) fn leavers_query(known_at: Option<String>) -> ReportQuery {
    ReportQuery {
        organisation: Some(REPORT_ORGANISATION.to_string()),
        from: Some(date(2018, 1, 1)),
        to: Some(date(2021, 12, 31)),
        known_at,
        ..ReportQuery::default()
    }
}

pub(crate) async fn event_count(pool: &PgPool) -> Result<i64, BoxError> {
    Ok(sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(pool)
        .await?)
}
