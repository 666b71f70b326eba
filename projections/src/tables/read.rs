//! Reading the tables of one schema back as the report input. Rows whose
//! columns are a model struct's fields decode into it (a child row with its
//! parent's id as [`Child`]); spells, moves and occupancies, which store the
//! domain's enumerations as text, have their own row types.
//!
//! Enumerations (`basis`, `kind`, `ended_by`) are stored as the snake_case
//! text of the domain's serde form, so they are read back through serde.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::postgres::PgRow;
use sqlx::{FromRow, PgConnection};
use uuid::Uuid;

use super::scope::{self, Posts, Scope};
use super::Provenance;
use crate::derive::canonical_order;
use crate::reports::model::{Dataset, Exclusion, Leaving, Member, Move, Occupancy, Person, Post, Spell};

/// The domain value whose serde form is `text` (e.g. `"interim"`).
fn parse<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, sqlx::Error> {
    serde_json::from_value(serde_json::Value::String(text.to_string())).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

/// A ladder level as stored (`smallint`).
fn level(stored: Option<i16>) -> Option<u8> {
    stored.and_then(|l| u8::try_from(l).ok())
}

/// Every row of `sql`, as `T`; `sql` holds `{only}` where a scope's
/// `WHERE <column> = ANY($1)` goes, and `ids` are the ids it keeps (all rows
/// when `None`).
async fn fetch<T>(db: &mut PgConnection, sql: &str, column: &str, ids: Option<&[Uuid]>) -> Result<Vec<T>, sqlx::Error>
where
    T: for<'r> FromRow<'r, PgRow> + Send + Unpin,
{
    match ids {
        None => sqlx::query_as(&sql.replace("{only}", "")).fetch_all(db).await,
        Some(ids) => {
            let sql = sql.replace("{only}", &format!("WHERE {column} = ANY($1)"));
            sqlx::query_as(&sql).bind(ids).fetch_all(db).await
        }
    }
}

#[derive(FromRow)]
struct CheckpointRow {
    global_position: i64,
    last_recorded_at: Option<DateTime<Utc>>,
}

/// A row that belongs to a parent (a participant, cohort or post), its id
/// selected `AS parent`, with the columns of `T`.
#[derive(FromRow)]
struct Child<T> {
    parent: Uuid,
    #[sqlx(flatten)]
    item: T,
}

impl<T> From<Child<T>> for (Uuid, T) {
    fn from(row: Child<T>) -> Self {
        (row.parent, row.item)
    }
}

#[derive(FromRow)]
struct SpellRow {
    participant_id: Uuid,
    organisation: String,
    team: Option<String>,
    role_code: String,
    role_level: Option<i16>,
    post_id: Option<Uuid>,
    basis: String,
    fte: f64,
    from_on: NaiveDate,
    until_on: Option<NaiveDate>,
    ended_by: Option<String>,
}

impl SpellRow {
    fn into_spell(self) -> Result<(Uuid, Spell), sqlx::Error> {
        let spell = Spell {
            organisation: self.organisation,
            team: self.team,
            role_code: self.role_code,
            role_level: level(self.role_level),
            post_id: self.post_id,
            basis: parse(&self.basis)?,
            fte: self.fte,
            from: self.from_on,
            until: self.until_on,
            ended_by: self.ended_by.as_deref().map(parse).transpose()?,
        };
        Ok((self.participant_id, spell))
    }
}

#[derive(FromRow)]
struct MoveRow {
    participant_id: Uuid,
    effective_on: NaiveDate,
    from_role: String,
    from_level: Option<i16>,
    from_organisation: String,
    to_role: String,
    to_level: Option<i16>,
    to_organisation: String,
    kind: String,
    internal: bool,
    rejoining: bool,
}

impl MoveRow {
    fn into_move(self) -> Result<(Uuid, Move), sqlx::Error> {
        let kind = parse(&self.kind)?;
        let step = Move {
            effective_on: self.effective_on,
            from_role: self.from_role,
            from_level: level(self.from_level),
            from_organisation: self.from_organisation,
            to_role: self.to_role,
            to_level: level(self.to_level),
            to_organisation: self.to_organisation,
            kind,
            internal: self.internal,
            rejoining: self.rejoining,
        };
        Ok((self.participant_id, step))
    }
}

#[derive(FromRow)]
struct OccupancyRow {
    post_id: Uuid,
    participant_id: Uuid,
    basis: String,
    from_on: NaiveDate,
    until_on: Option<NaiveDate>,
}

impl OccupancyRow {
    fn into_occupancy(self) -> Result<(Uuid, Occupancy), sqlx::Error> {
        let occupancy = Occupancy {
            participant_id: self.participant_id,
            basis: parse(&self.basis)?,
            from: self.from_on,
            until: self.until_on,
        };
        Ok((self.post_id, occupancy))
    }
}

/// Hands each `(parent id, child)` to its parent; a child whose parent the
/// snapshot lacks is dropped.
fn attach<P, C>(parents: &mut HashMap<Uuid, P>, children: Vec<(Uuid, C)>, add: impl Fn(&mut P, C)) {
    for (id, child) in children {
        if let Some(parent) = parents.get_mut(&id) {
            add(parent, child);
        }
    }
}

/// Every row of `sql` as `(parent id, item)`, converted by `convert`.
async fn fetch_into<R, T>(
    db: &mut PgConnection,
    (sql, column, ids): (&str, &str, Option<&[Uuid]>),
    convert: impl Fn(R) -> Result<(Uuid, T), sqlx::Error>,
) -> Result<Vec<(Uuid, T)>, sqlx::Error>
where
    R: for<'r> FromRow<'r, PgRow> + Send + Unpin,
{
    fetch::<R>(db, sql, column, ids)
        .await?
        .into_iter()
        .map(convert)
        .collect()
}

/// Reads the whole report input from the tables of `schema`, with the
/// checkpoint it reflects, in one consistent snapshot.
pub async fn load_dataset(pool: &sqlx::PgPool, schema: &str) -> Result<(Dataset, Provenance), sqlx::Error> {
    load_scoped_dataset(pool, schema, &Scope::everything()).await
}

/// Reads the part of the report input that `scope` names from the tables of
/// `schema`, with the checkpoint it reflects, in one consistent snapshot.
pub async fn load_scoped_dataset(
    pool: &sqlx::PgPool,
    schema: &str,
    scope: &Scope,
) -> Result<(Dataset, Provenance), sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .execute(&mut *tx)
        .await?;
    let checkpoint: CheckpointRow = sqlx::query_as(&format!(
        "SELECT global_position, last_recorded_at FROM {schema}.checkpoint"
    ))
    .fetch_one(&mut *tx)
    .await?;
    let ladders_recorded_at = super::last_ladder_edit(&mut tx, None).await?;
    let cohorts = scope::read_cohorts(&mut tx, schema, &scope.cohorts).await?;
    let post_ids = post_ids(&mut tx, schema, &scope.posts).await?;
    let people = scope::people_ids(
        &mut tx,
        schema,
        scope,
        post_ids.as_deref().unwrap_or_default(),
        &cohorts,
    )
    .await?;
    let people = read_people(&mut tx, schema, people.as_deref()).await?;
    let posts = read_posts(&mut tx, schema, post_ids.as_deref()).await?;
    let parked_events = super::parked::count(&mut tx, schema).await?;
    tx.commit().await?;
    let mut dataset = Dataset { people, cohorts, posts };
    canonical_order(&mut dataset);
    Ok((
        dataset,
        Provenance {
            source: "read_models",
            known_at: None,
            last_global_position: checkpoint.global_position,
            last_recorded_at: checkpoint.last_recorded_at.max(ladders_recorded_at),
            parked_events,
        },
    ))
}

/// The posts `filter` keeps (`None`: all of them).
async fn post_ids(db: &mut PgConnection, schema: &str, filter: &Posts) -> Result<Option<Vec<Uuid>>, sqlx::Error> {
    Ok(match filter {
        Posts::All => None,
        Posts::None => Some(Vec::new()),
        Posts::EstablishedOn { organisation, on } => Some(
            sqlx::query_scalar(&format!(
                "SELECT post_id FROM {schema}.posts WHERE organisation = $1 AND established_on <= $2 \
                 AND (disestablished_on IS NULL OR disestablished_on > $2)"
            ))
            .bind(organisation)
            .bind(on)
            .fetch_all(&mut *db)
            .await?,
        ),
    })
}

async fn read_people(db: &mut PgConnection, schema: &str, only: Option<&[Uuid]>) -> Result<Vec<Person>, sqlx::Error> {
    if only.is_some_and(<[Uuid]>::is_empty) {
        return Ok(Vec::new());
    }
    let by = "participant_id";
    let sql = format!("SELECT participant_id, external_ref FROM {schema}.participants {{only}}");
    let mut people: HashMap<Uuid, Person> = fetch::<Person>(db, &sql, by, only)
        .await?
        .into_iter()
        .map(|p| (p.participant_id, p))
        .collect();
    let sql = format!(
        "SELECT participant_id, organisation, team, role_code, role_level, post_id, basis, fte, from_on, until_on, \
         ended_by FROM {schema}.spells {{only}} ORDER BY participant_id, ordinal"
    );
    let spells = fetch_into(db, (&sql, by, only), SpellRow::into_spell).await?;
    attach(&mut people, spells, |p, s| p.spells.push(s));
    let sql = format!(
        "SELECT participant_id, effective_on, from_role, from_level, from_organisation, to_role, to_level, \
         to_organisation, kind, internal, rejoining FROM {schema}.moves {{only}} ORDER BY participant_id, ordinal"
    );
    let moves = fetch_into(db, (&sql, by, only), MoveRow::into_move).await?;
    attach(&mut people, moves, |p, m| p.moves.push(m));
    let sql = format!(
        "SELECT participant_id AS parent, effective_on, organisation, role_code, fte FROM {schema}.leavings \
         {{only}} ORDER BY participant_id, ordinal"
    );
    let leavings = fetch_into(db, (&sql, by, only), |r: Child<Leaving>| Ok(r.into())).await?;
    attach(&mut people, leavings, |p, l| p.leavings.push(l));
    let sql = format!(
        "SELECT participant_id AS parent, from_on, until_on, reason FROM {schema}.exclusions \
         {{only}} ORDER BY participant_id, ordinal"
    );
    let exclusions = fetch_into(db, (&sql, by, only), |r: Child<Exclusion>| Ok(r.into())).await?;
    attach(&mut people, exclusions, |p, x| p.exclusions.push(x));
    Ok(people.into_values().collect())
}

/// The members of `cohorts`, each with its cohort's id.
pub(super) async fn members_of(
    db: &mut PgConnection,
    schema: &str,
    cohorts: &[Uuid],
) -> Result<Vec<(Uuid, Member)>, sqlx::Error> {
    let sql = format!(
        "SELECT cohort_id AS parent, participant_id, enrolled_on, completed_on, withdrawn_on \
         FROM {schema}.cohort_members {{only}}"
    );
    fetch_into(db, (&sql, "cohort_id", Some(cohorts)), |r: Child<Member>| Ok(r.into())).await
}

async fn read_posts(db: &mut PgConnection, schema: &str, only: Option<&[Uuid]>) -> Result<Vec<Post>, sqlx::Error> {
    if only.is_some_and(<[Uuid]>::is_empty) {
        return Ok(Vec::new());
    }
    let by = "post_id";
    let sql = format!(
        "SELECT post_id, organisation, title, role_code, established_on, disestablished_on FROM {schema}.posts {{only}}"
    );
    let mut posts: HashMap<Uuid, Post> = fetch::<Post>(db, &sql, by, only)
        .await?
        .into_iter()
        .map(|p| (p.post_id, p))
        .collect();
    let sql = format!(
        "SELECT post_id, participant_id, basis, from_on, until_on FROM {schema}.post_occupancies \
         {{only}} ORDER BY post_id, ordinal"
    );
    let occupancies = fetch_into(db, (&sql, by, only), OccupancyRow::into_occupancy).await?;
    attach(&mut posts, occupancies, |p, o| p.occupancies.push(o));
    Ok(posts.into_values().collect())
}
