//! Ladders on the read side (docs/metrics.md decision 14): the ladder as
//! known at the moment a report answers for applies to the whole of history.
//!
//! The read models judge with each organisation's ladder in force now. Their
//! checkpoint remembers which ladder version of each organisation they were
//! judged with (`checkpoint.ladder_versions`); [`realign`] compares that with
//! the `ladders` table and re-derives everyone who holds or held a role in an
//! organisation whose ladder changed, in the caller's transaction (the
//! projector's batch, or the ladder replacement itself, which therefore
//! answers only once the read models judge by the new ladder). A replay "as
//! known at T" judges with [`ladders_known_at`].

use std::collections::{BTreeMap, BTreeSet};

use aggregates::{Ladder, Levels, Role};
use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::{PgExecutor, Postgres, Transaction};

use crate::projector::ProjectorError;
use crate::source::{self, Position, StoredEvent};
use crate::tables;

/// Which ladder version each organisation with a ladder of its own is at.
pub type LadderVersions = BTreeMap<String, i64>;

/// Makes the [`Levels`] of stored ladders (`organisation`, `roles`).
fn levels_of(rows: Vec<(String, Json<Vec<Role>>)>) -> Result<Levels, ProjectorError> {
    let mut ladders = BTreeMap::new();
    for (organisation, roles) in rows {
        // Stored ladders were checked when replaced; one that fails now is
        // a fault to report, not a ladder to guess at.
        let ladder = Ladder::new(roles.0).map_err(|e| ProjectorError::Aggregate {
            aggregate_type: "ladder".to_string(),
            aggregate_id: organisation.clone(),
            reason: e.to_string(),
        })?;
        ladders.insert(organisation, ladder);
    }
    Ok(Levels::new(ladders))
}

/// Every organisation's ladder in force now, and the version of each.
pub async fn ladders_now<'e>(db: impl PgExecutor<'e>) -> Result<(Levels, LadderVersions), ProjectorError> {
    let rows: Vec<(String, i64, Json<Vec<Role>>)> =
        sqlx::query_as("SELECT organisation, version, roles FROM ladders ORDER BY organisation")
            .fetch_all(db)
            .await?;
    let versions = rows.iter().map(|(o, v, _)| (o.clone(), *v)).collect();
    let levels = levels_of(rows.into_iter().map(|(o, _, r)| (o, r)).collect())?;
    Ok((levels, versions))
}

/// Every organisation's ladder as known at `known_at` (now when `None`):
/// the last replacement recorded at or before it, the default ladder for an
/// organisation with none by then. One query.
pub async fn ladders_known_at<'e>(
    db: impl PgExecutor<'e>,
    known_at: Option<DateTime<Utc>>,
) -> Result<Levels, ProjectorError> {
    let Some(at) = known_at else {
        return Ok(ladders_now(db).await?.0);
    };
    let rows: Vec<(String, Json<Vec<Role>>)> = sqlx::query_as(
        "SELECT DISTINCT ON (organisation) organisation, roles FROM ladder_versions \
          WHERE recorded_at <= $1 ORDER BY organisation, version DESC",
    )
    .bind(at)
    .fetch_all(db)
    .await?;
    levels_of(rows)
}

/// What [`realign`] found and did.
#[derive(Debug, Clone)]
pub struct Realigned {
    /// The ladders the rows are judged with from now on.
    pub levels: Levels,
    /// Whether any organisation's ladder had changed since the rows were
    /// judged (the caller must then commit, to keep the re-derived rows
    /// and the versions recorded).
    pub changed: bool,
    /// How many participants were re-derived.
    pub participants: usize,
}

#[derive(sqlx::FromRow)]
struct CheckpointLadders {
    transaction_id: i64,
    global_position: i64,
    ladder_versions: Json<LadderVersions>,
}

/// Brings the read models of `schema` in line with the ladders in force
/// now, in `tx`: locks the checkpoint row (already held by a projector
/// batch), and when any organisation's ladder version differs from the one
/// the rows were judged with, re-derives everyone with a spell in such an
/// organisation from their events up to the checkpoint, then records the
/// versions. Returns the ladders to judge the rest of the transaction with.
pub async fn realign(tx: &mut Transaction<'_, Postgres>, schema: &str) -> Result<Realigned, ProjectorError> {
    let at: CheckpointLadders = sqlx::query_as(&format!(
        "SELECT transaction_id, global_position, ladder_versions FROM {schema}.checkpoint FOR UPDATE"
    ))
    .fetch_one(&mut **tx)
    .await?;
    let (levels, now) = ladders_now(&mut **tx).await?;
    let applied = at.ladder_versions.0;
    let changed: Vec<&str> = now
        .keys()
        .chain(applied.keys())
        .filter(|o| now.get(*o) != applied.get(*o))
        .map(String::as_str)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if changed.is_empty() {
        return Ok(Realigned {
            levels,
            changed: false,
            participants: 0,
        });
    }
    let ids: Vec<String> = sqlx::query_scalar(&format!(
        "SELECT DISTINCT participant_id::text FROM {schema}.spells WHERE organisation = ANY($1)"
    ))
    .bind(&changed)
    .fetch_all(&mut **tx)
    .await?;
    let until = Position {
        transaction_id: at.transaction_id,
        global_position: at.global_position,
    };
    let touched: BTreeSet<(&str, &str)> = ids.iter().map(|id| ("participant", id.as_str())).collect();
    let streams = source::histories_until(&mut **tx, &touched, until).await?;
    write_judged(tx, schema, &streams, &levels).await?;
    sqlx::query(&format!("UPDATE {schema}.checkpoint SET ladder_versions = $1"))
        .bind(Json(&now))
        .execute(&mut **tx)
        .await?;
    tracing::info!(
        organisations = ?changed,
        participants = ids.len(),
        "read models re-derived with edited ladders"
    );
    Ok(Realigned {
        levels,
        changed: true,
        participants: ids.len(),
    })
}

/// Runs one savepoint statement.
async fn savepoint(tx: &mut Transaction<'_, Postgres>, statement: &str) -> Result<(), sqlx::Error> {
    sqlx::query(statement).execute(&mut **tx).await.map(|_| ())
}

/// Rewrites the rows of `streams`; a stream the projector parked an event of
/// keeps the rows of its longest prefix that can be written, as it had
/// before (the parked event stays listed; see `Projector::apply_or_park`).
async fn write_judged(
    tx: &mut Transaction<'_, Postgres>,
    schema: &str,
    streams: &BTreeMap<(String, String), Vec<StoredEvent>>,
    levels: &Levels,
) -> Result<(), ProjectorError> {
    savepoint(tx, "SAVEPOINT realign").await?;
    match tables::write_batch(tx, schema, streams, levels).await {
        Ok(()) => return Ok(savepoint(tx, "RELEASE SAVEPOINT realign").await?),
        Err(e) if e.is_the_events_fault() => savepoint(tx, "ROLLBACK TO SAVEPOINT realign").await?,
        Err(e) => return Err(e),
    }
    for (key, events) in streams {
        for len in (1..=events.len()).rev() {
            let prefix = BTreeMap::from([(key.clone(), events[..len].to_vec())]);
            savepoint(tx, "SAVEPOINT realign_stream").await?;
            match tables::write_batch(tx, schema, &prefix, levels).await {
                Ok(()) => {
                    savepoint(tx, "RELEASE SAVEPOINT realign_stream").await?;
                    break;
                }
                Err(e) if e.is_the_events_fault() => savepoint(tx, "ROLLBACK TO SAVEPOINT realign_stream").await?,
                Err(e) => return Err(e),
            }
        }
    }
    Ok(())
}

/// The role codes recorded in `organisation` as the read models of `schema`
/// and the events they have not applied yet show them: roles of every
/// spell, every post, and every event after the checkpoint that names the
/// organisation and a role. What a ladder replacement must keep.
pub async fn roles_recorded_in(
    tx: &mut Transaction<'_, Postgres>,
    schema: &str,
    organisation: &str,
) -> Result<BTreeSet<String>, sqlx::Error> {
    let codes: Vec<String> = sqlx::query_scalar(&format!(
        "SELECT role_code FROM {schema}.spells WHERE organisation = $1 \
         UNION SELECT role_code FROM {schema}.posts WHERE organisation = $1 \
         UNION SELECT p.value -> 'role' ->> 'code' \
                 FROM events e CROSS JOIN {schema}.checkpoint c \
                 CROSS JOIN LATERAL json_each(e.payload) AS p \
                WHERE (e.transaction_id, e.global_position) > (c.transaction_id::text::xid8, c.global_position) \
                  AND json_typeof(p.value) = 'object' \
                  AND p.value ->> 'organisation' = $1 \
                  AND p.value -> 'role' ->> 'code' IS NOT NULL"
    ))
    .bind(organisation)
    .fetch_all(&mut **tx)
    .await?;
    Ok(codes.into_iter().collect())
}
