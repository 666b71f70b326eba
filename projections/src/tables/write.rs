//! Writing one batch's rows: for every aggregate the batch touched, delete
//! its rows and insert the rows derived from its stream. A handful of
//! statements per batch (arrays bound with `UNNEST`), not per row, so the
//! cost of a batch is dominated by deriving, not by round trips.

use std::collections::BTreeMap;

use aggregates::Levels;
use sqlx::{Postgres, Transaction};
use uuid::Uuid;

use crate::derive::{derive, EventRecord, Part};
use crate::projector::ProjectorError;
use crate::reports::model::{Cohort, Person, Post};

/// The children of every parent (a person's spells, a post's occupancies),
/// each with its parent's id and its ordinal among its siblings, as the
/// columns the `UNNEST` inserts bind.
struct Children<'a, C> {
    parent_ids: Vec<Uuid>,
    ordinals: Vec<i32>,
    items: Vec<&'a C>,
}

impl<'a, C> Children<'a, C> {
    fn of<P: 'a>(parents: &'a [(P, i64)], id: impl Fn(&P) -> Uuid, children: impl Fn(&'a P) -> &'a [C]) -> Self {
        let mut out = Children {
            parent_ids: vec![],
            ordinals: vec![],
            items: vec![],
        };
        for (parent, _) in parents {
            for (i, child) in children(parent).iter().enumerate() {
                out.parent_ids.push(id(parent));
                out.ordinals.push(i32::try_from(i).unwrap_or(i32::MAX));
                out.items.push(child);
            }
        }
        out
    }

    /// One column: `value` of every child.
    fn column<T>(&self, value: impl Fn(&C) -> T) -> Vec<T> {
        self.items.iter().map(|c| value(c)).collect()
    }
}

/// One column of the parents themselves: `value` of every parent.
fn column<P, T>(parents: &[(P, i64)], value: impl Fn(&P) -> T) -> Vec<T> {
    parents.iter().map(|(p, _)| value(p)).collect()
}

/// The stream version of every parent.
fn versions<P>(parents: &[(P, i64)]) -> Vec<i64> {
    parents.iter().map(|(_, v)| *v).collect()
}

/// The snake_case text of an enumeration's serde form (`"interim"`).
pub(super) fn text<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Replaces the rows of every aggregate in `streams` (keyed by type and id,
/// each with its events in stream order) with the rows derived from them,
/// judging roles with `levels`.
pub async fn write_batch<E: EventRecord>(
    tx: &mut Transaction<'_, Postgres>,
    schema: &str,
    streams: &BTreeMap<(String, String), Vec<E>>,
    levels: &Levels,
) -> Result<(), ProjectorError> {
    let mut people = Vec::new();
    let mut cohorts = Vec::new();
    let mut posts = Vec::new();
    let mut ids: BTreeMap<&str, Vec<Uuid>> = BTreeMap::new();
    for ((aggregate_type, aggregate_id), events) in streams {
        let Ok(id) = aggregate_id.parse::<Uuid>() else { continue };
        let part = derive(aggregate_type, events, levels).map_err(|e| ProjectorError::Aggregate {
            aggregate_type: aggregate_type.clone(),
            aggregate_id: aggregate_id.clone(),
            reason: e.to_string(),
        })?;
        let version = events.last().map_or(0, EventRecord::sequence);
        ids.entry(aggregate_type.as_str()).or_default().push(id);
        match part {
            Part::Person(p) => people.push((p, version)),
            Part::Cohort(c) => cohorts.push((c, version)),
            Part::Post(p) => posts.push((p, version)),
            Part::Nothing => {}
        }
    }
    delete_rows(tx, schema, &ids).await?;
    insert_people(tx, schema, &people).await?;
    insert_cohorts(tx, schema, &cohorts).await?;
    insert_posts(tx, schema, &posts).await?;
    Ok(())
}

/// Deletes every row of the aggregates in `ids` (by aggregate type).
pub(crate) async fn delete_rows(
    tx: &mut Transaction<'_, Postgres>,
    schema: &str,
    ids: &BTreeMap<&str, Vec<Uuid>>,
) -> Result<(), sqlx::Error> {
    let tables: [(&str, &str, &[&str]); 3] = [
        (
            "participant",
            "participant_id",
            &["participants", "spells", "moves", "leavings", "exclusions"],
        ),
        ("cohort", "cohort_id", &["cohorts", "cohort_members"]),
        ("post", "post_id", &["posts", "post_occupancies"]),
    ];
    for (aggregate_type, key, names) in tables {
        let Some(touched) = ids.get(aggregate_type).filter(|t| !t.is_empty()) else {
            continue;
        };
        for table in names {
            sqlx::query(&format!("DELETE FROM {schema}.{table} WHERE {key} = ANY($1)"))
                .bind(touched)
                .execute(&mut **tx)
                .await?;
        }
    }
    Ok(())
}

async fn insert_people(
    tx: &mut Transaction<'_, Postgres>,
    schema: &str,
    people: &[(Person, i64)],
) -> Result<(), sqlx::Error> {
    if people.is_empty() {
        return Ok(());
    }
    sqlx::query(&format!(
        "INSERT INTO {schema}.participants (participant_id, external_ref, joined_on, version) \
         SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::date[], $4::bigint[])"
    ))
    .bind(column(people, |p| p.participant_id))
    .bind(column(people, |p| p.external_ref.clone()))
    .bind(column(people, |p| p.spells.first().map(|s| s.from)))
    .bind(versions(people))
    .execute(&mut **tx)
    .await?;

    let spells = Children::of(people, |p| p.participant_id, |p| &p.spells);
    sqlx::query(&format!(
        "INSERT INTO {schema}.spells (participant_id, ordinal, organisation, team, role_code, role_level, post_id, \
         basis, fte, from_on, until_on, ended_by) \
         SELECT * FROM UNNEST($1::uuid[], $2::int[], $3::text[], $4::text[], $5::text[], $6::smallint[], \
                              $7::uuid[], $8::text[], $9::float8[], $10::date[], $11::date[], $12::text[])"
    ))
    .bind(&spells.parent_ids)
    .bind(&spells.ordinals)
    .bind(spells.column(|s| s.organisation.clone()))
    .bind(spells.column(|s| s.team.clone()))
    .bind(spells.column(|s| s.role_code.clone()))
    .bind(spells.column(|s| s.role_level.map(i16::from)))
    .bind(spells.column(|s| s.post_id))
    .bind(spells.column(|s| text(&s.basis)))
    .bind(spells.column(|s| s.fte))
    .bind(spells.column(|s| s.from))
    .bind(spells.column(|s| s.until))
    .bind(spells.column(|s| s.ended_by.as_ref().map(text)))
    .execute(&mut **tx)
    .await?;

    let moves = Children::of(people, |p| p.participant_id, |p| &p.moves);
    sqlx::query(&format!(
        "INSERT INTO {schema}.moves (participant_id, ordinal, effective_on, from_role, from_level, from_organisation, \
         to_role, to_level, to_organisation, kind, internal, rejoining) \
         SELECT * FROM UNNEST($1::uuid[], $2::int[], $3::date[], $4::text[], $5::smallint[], $6::text[], \
                              $7::text[], $8::smallint[], $9::text[], $10::text[], $11::bool[], $12::bool[])"
    ))
    .bind(&moves.parent_ids)
    .bind(&moves.ordinals)
    .bind(moves.column(|m| m.effective_on))
    .bind(moves.column(|m| m.from_role.clone()))
    .bind(moves.column(|m| m.from_level.map(i16::from)))
    .bind(moves.column(|m| m.from_organisation.clone()))
    .bind(moves.column(|m| m.to_role.clone()))
    .bind(moves.column(|m| m.to_level.map(i16::from)))
    .bind(moves.column(|m| m.to_organisation.clone()))
    .bind(moves.column(|m| text(&m.kind)))
    .bind(moves.column(|m| m.internal))
    .bind(moves.column(|m| m.rejoining))
    .execute(&mut **tx)
    .await?;

    let leavings = Children::of(people, |p| p.participant_id, |p| &p.leavings);
    sqlx::query(&format!(
        "INSERT INTO {schema}.leavings (participant_id, ordinal, effective_on, organisation, role_code, fte) \
         SELECT * FROM UNNEST($1::uuid[], $2::int[], $3::date[], $4::text[], $5::text[], $6::float8[])"
    ))
    .bind(&leavings.parent_ids)
    .bind(&leavings.ordinals)
    .bind(leavings.column(|l| l.effective_on))
    .bind(leavings.column(|l| l.organisation.clone()))
    .bind(leavings.column(|l| l.role_code.clone()))
    .bind(leavings.column(|l| l.fte))
    .execute(&mut **tx)
    .await?;

    let exclusions = Children::of(people, |p| p.participant_id, |p| &p.exclusions);
    sqlx::query(&format!(
        "INSERT INTO {schema}.exclusions (participant_id, ordinal, from_on, until_on, reason) \
         SELECT * FROM UNNEST($1::uuid[], $2::int[], $3::date[], $4::date[], $5::text[])"
    ))
    .bind(&exclusions.parent_ids)
    .bind(&exclusions.ordinals)
    .bind(exclusions.column(|x| x.from))
    .bind(exclusions.column(|x| x.until))
    .bind(exclusions.column(|x| x.reason.clone()))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn insert_cohorts(
    tx: &mut Transaction<'_, Postgres>,
    schema: &str,
    cohorts: &[(Cohort, i64)],
) -> Result<(), sqlx::Error> {
    if cohorts.is_empty() {
        return Ok(());
    }
    sqlx::query(&format!(
        "INSERT INTO {schema}.cohorts (cohort_id, programme, name, starts_on, version) \
         SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::date[], $5::bigint[])"
    ))
    .bind(column(cohorts, |c| c.cohort_id))
    .bind(column(cohorts, |c| c.programme.clone()))
    .bind(column(cohorts, |c| c.name.clone()))
    .bind(column(cohorts, |c| c.starts_on))
    .bind(versions(cohorts))
    .execute(&mut **tx)
    .await?;
    let members = Children::of(cohorts, |c| c.cohort_id, |c| &c.members);
    sqlx::query(&format!(
        "INSERT INTO {schema}.cohort_members (cohort_id, participant_id, enrolled_on, completed_on, withdrawn_on) \
         SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::date[], $4::date[], $5::date[])"
    ))
    .bind(&members.parent_ids)
    .bind(members.column(|m| m.participant_id))
    .bind(members.column(|m| m.enrolled_on))
    .bind(members.column(|m| m.completed_on))
    .bind(members.column(|m| m.withdrawn_on))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn insert_posts(
    tx: &mut Transaction<'_, Postgres>,
    schema: &str,
    posts: &[(Post, i64)],
) -> Result<(), sqlx::Error> {
    if posts.is_empty() {
        return Ok(());
    }
    sqlx::query(&format!(
        "INSERT INTO {schema}.posts (post_id, organisation, title, role_code, established_on, disestablished_on, version) \
         SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[], $5::date[], $6::date[], $7::bigint[])"
    ))
    .bind(column(posts, |p| p.post_id))
    .bind(column(posts, |p| p.organisation.clone()))
    .bind(column(posts, |p| p.title.clone()))
    .bind(column(posts, |p| p.role_code.clone()))
    .bind(column(posts, |p| p.established_on))
    .bind(column(posts, |p| p.disestablished_on))
    .bind(versions(posts))
    .execute(&mut **tx)
    .await?;
    let occupancies = Children::of(posts, |p| p.post_id, |p| &p.occupancies);
    sqlx::query(&format!(
        "INSERT INTO {schema}.post_occupancies (post_id, ordinal, participant_id, basis, from_on, until_on) \
         SELECT * FROM UNNEST($1::uuid[], $2::int[], $3::uuid[], $4::text[], $5::date[], $6::date[])"
    ))
    .bind(&occupancies.parent_ids)
    .bind(&occupancies.ordinals)
    .bind(occupancies.column(|o| o.participant_id))
    .bind(occupancies.column(|o| text(&o.basis)))
    .bind(occupancies.column(|o| o.from))
    .bind(occupancies.column(|o| o.until))
    .execute(&mut **tx)
    .await?;
    Ok(())
}
