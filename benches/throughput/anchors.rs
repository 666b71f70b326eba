//! The anchors: what the bare stack reaches on the same machine in the same
//! run, so that each tenure figure can be read as a ratio.
//!
//! - a bare cqrs-es + postgres-es participant (register, change role) in a
//!   database of its own, through postgres-es's `PostgresEventRepository`
//!   and `CqrsFramework`, nothing else;
//! - a typed replay: every event of tenure's store in global-position order,
//!   the payload deserialised into tenure's own event enums, nothing else;
//! - `COPY` of tenure's own event rows into a scratch table with the same
//!   columns and indexes (no triggers);
//! - one hand-written SQL query for one leavers figure over the read models.

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use aggregates::cohort::{Cohort, CohortEvent};
use aggregates::participant::{Participant, ParticipantEvent};
use aggregates::post::{Post, PostEvent};
use chrono::NaiveDate;
use cqrs_es::event_sink::EventSink;
use cqrs_es::persist::PersistedEventStore;
use cqrs_es::{Aggregate, CqrsFramework, DomainEvent};
use postgres_es::{PostgresCqrs, PostgresEventRepository};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use uuid::Uuid;

use crate::workload::{after, joined_on, organisation, BoxError, CommandRun};

/// postgres-es 0.5's own tables, as its documentation gives them.
pub(crate) const BARE_SCHEMA: &str = "
CREATE TABLE events (
    aggregate_type text NOT NULL,
    aggregate_id   text NOT NULL,
    sequence       bigint CHECK (sequence >= 0) NOT NULL,
    event_type     text NOT NULL,
    event_version  text NOT NULL,
    payload        json NOT NULL,
    metadata       json NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id, sequence)
);
CREATE TABLE snapshots (
    aggregate_type   text NOT NULL,
    aggregate_id     text NOT NULL,
    last_sequence    bigint CHECK (last_sequence >= 0) NOT NULL,
    current_snapshot bigint CHECK (current_snapshot >= 0) NOT NULL,
    payload          json NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id, last_sequence)
);";

/// A participant with the least a framework user would write: registered
/// once, then role changes while registered. Payloads carry the same
/// fields as tenure's, so rows are about the same size.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct BareParticipant {
    registered: bool,
    role: String,
    organisation: String,
    team: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) enum BareCommand {
    Register {
        participant_id: Uuid,
        external_ref: String,
        organisation: String,
        team: Option<String>,
        role: String,
        joined_on: NaiveDate,
    },
    ChangeRole {
        role: String,
        effective_on: NaiveDate,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) enum BareEvent {
    Registered {
        participant_id: Uuid,
        external_ref: String,
        organisation: String,
        team: Option<String>,
        role: String,
        basis: String,
        fte: f64,
        joined_on: NaiveDate,
    },
    RoleChanged {
        effective_on: NaiveDate,
        from_role: String,
        to_role: String,
        organisation: String,
        team: Option<String>,
    },
}

impl DomainEvent for BareEvent {
    fn event_type(&self) -> String {
        match self {
            BareEvent::Registered { .. } => "ParticipantRegistered",
            BareEvent::RoleChanged { .. } => "RoleChanged",
        }
        .to_string()
    }
    fn event_version(&self) -> String {
        "1".to_string()
    }
}

#[derive(Debug)]
pub(crate) struct BareError(&'static str);

impl fmt::Display for BareError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for BareError {}

impl Aggregate for BareParticipant {
    const TYPE: &'static str = "participant";
    type Command = BareCommand;
    type Event = BareEvent;
    type Error = BareError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        let event = match command {
            BareCommand::Register {
                participant_id,
                external_ref,
                organisation,
                team,
                role,
                joined_on,
            } => {
                if self.registered {
                    return Err(BareError("already registered"));
                }
                BareEvent::Registered {
                    participant_id,
                    external_ref,
                    organisation,
                    team,
                    role,
                    basis: "permanent".to_string(),
                    fte: 1.0,
                    joined_on,
                }
            }
            BareCommand::ChangeRole { role, effective_on } => {
                if !self.registered {
                    return Err(BareError("not registered"));
                }
                if role == self.role {
                    return Err(BareError("already in that role"));
                }
                BareEvent::RoleChanged {
                    effective_on,
                    from_role: self.role.clone(),
                    to_role: role,
                    organisation: self.organisation.clone(),
                    team: self.team.clone(),
                }
            }
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            BareEvent::Registered {
                organisation,
                team,
                role,
                ..
            } => {
                self.registered = true;
                self.organisation = organisation;
                self.team = team;
                self.role = role;
            }
            BareEvent::RoleChanged { to_role, .. } => self.role = to_role,
        }
    }
}

/// The framework over postgres-es's event repository, no queries, no snapshots.
pub(crate) fn bare_cqrs(pool: PgPool) -> Arc<PostgresCqrs<BareParticipant>> {
    let store = PersistedEventStore::new_event_store(PostgresEventRepository::new(pool));
    Arc::new(CqrsFramework::new(store, vec![], ()))
}

/// The same work as `workload::run_commands`: in each of `tasks` tasks,
/// `participants` participants registered and then changing role twice.
pub(crate) async fn run_bare_commands(
    cqrs: &Arc<PostgresCqrs<BareParticipant>>,
    tasks: usize,
    participants: usize,
) -> Result<CommandRun, BoxError> {
    let started = Instant::now();
    let mut handles = Vec::with_capacity(tasks);
    for task in 0..tasks {
        let cqrs = cqrs.clone();
        handles.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(participants * 3);
            for i in 0..participants {
                let id = Uuid::new_v4();
                let joined = joined_on(i);
                let commands = [
                    BareCommand::Register {
                        participant_id: id,
                        external_ref: format!("bare-t{tasks}-{task}-{i}"),
                        organisation: organisation(i),
                        team: Some(format!("Team {}", i % 7)),
                        role: "asye".to_string(),
                        joined_on: joined,
                    },
                    BareCommand::ChangeRole {
                        role: "social_worker".to_string(),
                        effective_on: after(joined, 365),
                    },
                    BareCommand::ChangeRole {
                        role: "senior_practitioner".to_string(),
                        effective_on: after(joined, 730),
                    },
                ];
                for command in commands {
                    let t = Instant::now();
                    cqrs.execute(&id.to_string(), command)
                        .await
                        .map_err(|e| format!("bare command failed: {e}"))?;
                    latencies.push(t.elapsed());
                }
            }
            Ok::<_, String>(latencies)
        }));
    }
    CommandRun::gather(handles, started).await
}

/// Reads every event of tenure's store in global-position order and
/// deserialises each payload into its typed event; returns the events read.
pub(crate) async fn typed_replay(pool: &PgPool) -> Result<usize, BoxError> {
    const PAGE: i64 = 10_000;
    let mut after = 0_i64;
    let mut events = 0;
    loop {
        let rows: Vec<(i64, String, String)> = sqlx::query_as(
            "SELECT global_position, aggregate_type, payload::text FROM events \
              WHERE global_position > $1 ORDER BY global_position LIMIT $2",
        )
        .bind(after)
        .bind(PAGE)
        .fetch_all(pool)
        .await?;
        let Some(last) = rows.last() else {
            return Ok(events);
        };
        after = last.0;
        for (_, aggregate_type, payload) in &rows {
            match aggregate_type.as_str() {
                Participant::TYPE => {
                    std::hint::black_box(serde_json::from_str::<ParticipantEvent>(payload)?);
                }
                Cohort::TYPE => {
                    std::hint::black_box(serde_json::from_str::<CohortEvent>(payload)?);
                }
                Post::TYPE => {
                    std::hint::black_box(serde_json::from_str::<PostEvent>(payload)?);
                }
                other => return Err(format!("unknown aggregate type {other:?}").into()),
            }
        }
        events += rows.len();
    }
}

/// One leavers figure of one organisation in a period, written by hand over
/// the read models: leavers (leavings there, and moves out of it to another
/// organisation that are not rejoinings, docs/metrics.md "Leaving an
/// organisation"), person-days, and the leaver rate; of one role when `$4`
/// is given.
pub(crate) const LEAVERS_SQL: &str = "
WITH leavers AS (
    SELECT (SELECT count(*) FROM read_models.leavings
             WHERE organisation = $1 AND effective_on BETWEEN $2 AND $3
               AND ($4::text IS NULL OR role_code = $4))
         + (SELECT count(*) FROM read_models.moves
             WHERE from_organisation = $1 AND to_organisation <> $1 AND NOT rejoining
               AND effective_on BETWEEN $2 AND $3 AND ($4::text IS NULL OR from_role = $4)) AS n
), days AS (
    SELECT coalesce(sum(LEAST(coalesce(until_on, $3 + 1), $3 + 1) - GREATEST(from_on, $2)), 0) AS n
      FROM read_models.spells
     WHERE organisation = $1 AND from_on <= $3 AND (until_on IS NULL OR until_on > $2)
       AND ($4::text IS NULL OR role_code = $4)
)
SELECT leavers.n, days.n::bigint, 100.0 * leavers.n / NULLIF(days.n::float8 / ($3 - $2 + 1), 0)
  FROM leavers, days";

/// Runs [`LEAVERS_SQL`]; returns leavers and person-days.
pub(crate) async fn leavers_sql(
    pool: &PgPool,
    organisation: &str,
    from: NaiveDate,
    to: NaiveDate,
    role: Option<&str>,
) -> Result<(i64, i64), BoxError> {
    let (leavers, person_days, _rate): (i64, i64, Option<f64>) = sqlx::query_as(LEAVERS_SQL)
        .bind(organisation)
        .bind(from)
        .bind(to)
        .bind(role)
        .fetch_one(pool)
        .await?;
    Ok((leavers, person_days))
}
