//! The read-model tables: writing the rows of the aggregates a batch touched
//! ([`write`]), and reading them all back as the report input.

mod write;

pub use write::write_batch;

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::derive::canonical_order;
use crate::reports::model::{
    Basis, Cohort, Dataset, Exclusion, Leaving, Member, Move, MoveKind, Occupancy, Person, Post, Spell, SpellEnd,
};

/// What a report's figures reflect: the last event they include.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Provenance {
    /// `read_models` (the projector's tables) or `replay` (events recorded
    /// up to `known_at`).
    pub source: &'static str,
    /// The `known_at` asked for, if any.
    pub known_at: Option<DateTime<Utc>>,
    /// Global position of the last event reflected (0: none).
    pub last_global_position: i64,
    /// Recorded time of that event: ask again with `known_at` set to it to
    /// reproduce these figures exactly.
    pub last_recorded_at: Option<DateTime<Utc>>,
}

type SpellRow = (
    Uuid,
    String,
    Option<String>,
    String,
    Option<i16>,
    Option<Uuid>,
    String,
    f64,
    NaiveDate,
    Option<NaiveDate>,
    Option<String>,
);
fn parse<T: serde::de::DeserializeOwned>(value: &str) -> Result<T, sqlx::Error> {
    serde_json::from_value(serde_json::Value::String(value.to_string())).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

type MemberRow = (Uuid, Uuid, NaiveDate, Option<NaiveDate>, Option<NaiveDate>);
type PostRow = (Uuid, String, String, String, NaiveDate, Option<NaiveDate>);
type MoveRow = (
    Uuid,
    NaiveDate,
    String,
    Option<i16>,
    String,
    String,
    Option<i16>,
    String,
    String,
    bool,
    bool,
);

/// Reads the whole report input from the tables of `schema`, with the
/// checkpoint it reflects, in one consistent snapshot.
pub async fn load_dataset(pool: &sqlx::PgPool, schema: &str) -> Result<(Dataset, Provenance), sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .execute(&mut *tx)
        .await?;
    let (last_global_position, last_recorded_at): (i64, Option<DateTime<Utc>>) = sqlx::query_as(&format!(
        "SELECT global_position, last_recorded_at FROM {schema}.checkpoint"
    ))
    .fetch_one(&mut *tx)
    .await?;
    let people: Vec<(Uuid, String)> = sqlx::query_as(&format!(
        "SELECT participant_id, external_ref FROM {schema}.participants"
    ))
    .fetch_all(&mut *tx)
    .await?;
    let mut by_id: HashMap<Uuid, Person> = people
        .into_iter()
        .map(|(id, external_ref)| {
            (
                id,
                Person {
                    participant_id: id,
                    external_ref,
                    spells: vec![],
                    moves: vec![],
                    leavings: vec![],
                    exclusions: vec![],
                },
            )
        })
        .collect();
    let spells: Vec<SpellRow> = sqlx::query_as(&format!(
        "SELECT participant_id, organisation, team, role_code, role_level, post_id, basis, fte, from_on, until_on, \
         ended_by FROM {schema}.spells ORDER BY participant_id, ordinal"
    ))
    .fetch_all(&mut *tx)
    .await?;
    for (id, organisation, team, role_code, level, post_id, basis, fte, from, until, ended_by) in spells {
        if let Some(p) = by_id.get_mut(&id) {
            p.spells.push(Spell {
                organisation,
                team,
                role_code,
                role_level: level.map(|l| l as u8),
                post_id,
                basis: parse::<Basis>(&basis)?,
                fte,
                from,
                until,
                ended_by: ended_by.as_deref().map(parse::<SpellEnd>).transpose()?,
            });
        }
    }
    let moves: Vec<MoveRow> = sqlx::query_as(&format!(
        "SELECT participant_id, effective_on, from_role, from_level, from_organisation, to_role, to_level, \
         to_organisation, kind, internal, rejoining FROM {schema}.moves ORDER BY participant_id, ordinal"
    ))
    .fetch_all(&mut *tx)
    .await?;
    for (id, effective_on, from_role, from_level, from_org, to_role, to_level, to_org, kind, internal, rejoining) in
        moves
    {
        if let Some(p) = by_id.get_mut(&id) {
            p.moves.push(Move {
                effective_on,
                from_role,
                from_level: from_level.map(|l| l as u8),
                from_organisation: from_org,
                to_role,
                to_level: to_level.map(|l| l as u8),
                to_organisation: to_org,
                kind: parse::<MoveKind>(&kind)?,
                internal,
                rejoining,
            });
        }
    }
    let leavings: Vec<(Uuid, NaiveDate, String, String, f64)> = sqlx::query_as(&format!(
        "SELECT participant_id, effective_on, organisation, role_code, fte FROM {schema}.leavings \
         ORDER BY participant_id, ordinal"
    ))
    .fetch_all(&mut *tx)
    .await?;
    for (id, effective_on, organisation, role_code, fte) in leavings {
        if let Some(p) = by_id.get_mut(&id) {
            p.leavings.push(Leaving {
                effective_on,
                organisation,
                role_code,
                fte,
            });
        }
    }
    let exclusions: Vec<(Uuid, NaiveDate, Option<NaiveDate>, String)> = sqlx::query_as(&format!(
        "SELECT participant_id, from_on, until_on, reason FROM {schema}.exclusions ORDER BY participant_id, ordinal"
    ))
    .fetch_all(&mut *tx)
    .await?;
    for (id, from, until, reason) in exclusions {
        if let Some(p) = by_id.get_mut(&id) {
            p.exclusions.push(Exclusion { from, until, reason });
        }
    }
    let cohort_rows: Vec<(Uuid, String, String, NaiveDate)> = sqlx::query_as(&format!(
        "SELECT cohort_id, programme, name, starts_on FROM {schema}.cohorts"
    ))
    .fetch_all(&mut *tx)
    .await?;
    let mut cohorts: HashMap<Uuid, Cohort> = cohort_rows
        .into_iter()
        .map(|(cohort_id, programme, name, starts_on)| {
            (
                cohort_id,
                Cohort {
                    cohort_id,
                    programme,
                    name,
                    starts_on,
                    members: vec![],
                },
            )
        })
        .collect();
    let members: Vec<MemberRow> = sqlx::query_as(&format!(
        "SELECT cohort_id, participant_id, enrolled_on, completed_on, withdrawn_on FROM {schema}.cohort_members"
    ))
    .fetch_all(&mut *tx)
    .await?;
    for (cohort_id, participant_id, enrolled_on, completed_on, withdrawn_on) in members {
        if let Some(c) = cohorts.get_mut(&cohort_id) {
            c.members.push(Member {
                participant_id,
                enrolled_on,
                completed_on,
                withdrawn_on,
            });
        }
    }
    let post_rows: Vec<PostRow> = sqlx::query_as(&format!(
        "SELECT post_id, organisation, title, role_code, established_on, disestablished_on FROM {schema}.posts"
    ))
    .fetch_all(&mut *tx)
    .await?;
    let mut posts: HashMap<Uuid, Post> = post_rows
        .into_iter()
        .map(
            |(post_id, organisation, title, role_code, established_on, disestablished_on)| {
                (
                    post_id,
                    Post {
                        post_id,
                        organisation,
                        title,
                        role_code,
                        established_on,
                        disestablished_on,
                        occupancies: vec![],
                    },
                )
            },
        )
        .collect();
    let occupancies: Vec<(Uuid, Uuid, String, NaiveDate, Option<NaiveDate>)> = sqlx::query_as(&format!(
        "SELECT post_id, participant_id, basis, from_on, until_on FROM {schema}.post_occupancies ORDER BY post_id, ordinal"
    ))
    .fetch_all(&mut *tx)
    .await?;
    for (post_id, participant_id, basis, from, until) in occupancies {
        if let Some(p) = posts.get_mut(&post_id) {
            p.occupancies.push(Occupancy {
                participant_id,
                basis: parse::<Basis>(&basis)?,
                from,
                until,
            });
        }
    }
    tx.commit().await?;
    let mut dataset = Dataset {
        people: by_id.into_values().collect(),
        cohorts: cohorts.into_values().collect(),
        posts: posts.into_values().collect(),
    };
    canonical_order(&mut dataset);
    Ok((
        dataset,
        Provenance {
            source: "read_models",
            known_at: None,
            last_global_position,
            last_recorded_at,
        },
    ))
}
