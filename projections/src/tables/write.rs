//! Writing one batch's rows: for every aggregate the batch touched, delete
//! its rows and insert the rows derived from its stream. A handful of
//! statements per batch (arrays bound with `UNNEST`), not per row, so the
//! cost of a batch is dominated by deriving, not by round trips.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use sqlx::{Postgres, Transaction};
use uuid::Uuid;

use crate::derive::{derive, Part};
use crate::projector::ProjectorError;
use crate::reports::model::{Cohort, Person, Post};
use crate::source::StoredEvent;

fn text<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Replaces the rows of every aggregate in `streams` (keyed by type and id,
/// each with its events in stream order) with the rows derived from them.
pub async fn write_batch(
    tx: &mut Transaction<'_, Postgres>,
    schema: &str,
    streams: &BTreeMap<(String, String), Vec<StoredEvent>>,
) -> Result<(), ProjectorError> {
    let mut people = Vec::new();
    let mut cohorts = Vec::new();
    let mut posts = Vec::new();
    let mut ids: BTreeMap<&str, Vec<Uuid>> = BTreeMap::new();
    for ((aggregate_type, aggregate_id), events) in streams {
        let Ok(id) = aggregate_id.parse::<Uuid>() else { continue };
        let part = derive(aggregate_type, events).map_err(|e| ProjectorError::Aggregate {
            aggregate_type: aggregate_type.clone(),
            aggregate_id: aggregate_id.clone(),
            reason: e.to_string(),
        })?;
        let version = events.last().map_or(0, |e| e.sequence);
        ids.entry(aggregate_type.as_str()).or_default().push(id);
        match part {
            Part::Person(p) => people.push((p, version)),
            Part::Cohort(c) => cohorts.push((c, version)),
            Part::Post(p) => posts.push((p, version)),
            Part::Nothing => {}
        }
    }
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
        let Some(touched) = ids.get(aggregate_type) else {
            continue;
        };
        for table in names {
            sqlx::query(&format!("DELETE FROM {schema}.{table} WHERE {key} = ANY($1)"))
                .bind(touched)
                .execute(&mut **tx)
                .await?;
        }
    }
    insert_people(tx, schema, &people).await?;
    insert_cohorts(tx, schema, &cohorts).await?;
    insert_posts(tx, schema, &posts).await?;
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
    let ids: Vec<Uuid> = people.iter().map(|(p, _)| p.participant_id).collect();
    let refs: Vec<&str> = people.iter().map(|(p, _)| p.external_ref.as_str()).collect();
    let joined: Vec<Option<NaiveDate>> = people.iter().map(|(p, _)| p.spells.first().map(|s| s.from)).collect();
    let versions: Vec<i64> = people.iter().map(|(_, v)| *v).collect();
    sqlx::query(&format!(
        "INSERT INTO {schema}.participants (participant_id, external_ref, joined_on, version) \
         SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::date[], $4::bigint[])"
    ))
    .bind(&ids)
    .bind(&refs)
    .bind(&joined)
    .bind(&versions)
    .execute(&mut **tx)
    .await?;

    let spells: Vec<_> = people
        .iter()
        .flat_map(|(p, _)| {
            p.spells
                .iter()
                .enumerate()
                .map(move |(i, s)| (p.participant_id, i as i32, s))
        })
        .collect();
    sqlx::query(&format!(
        "INSERT INTO {schema}.spells (participant_id, ordinal, organisation, team, role_code, role_level, post_id, \
         basis, fte, from_on, until_on, ended_by) \
         SELECT * FROM UNNEST($1::uuid[], $2::int[], $3::text[], $4::text[], $5::text[], $6::smallint[], \
                              $7::uuid[], $8::text[], $9::float8[], $10::date[], $11::date[], $12::text[])"
    ))
    .bind(spells.iter().map(|s| s.0).collect::<Vec<_>>())
    .bind(spells.iter().map(|s| s.1).collect::<Vec<_>>())
    .bind(spells.iter().map(|s| s.2.organisation.clone()).collect::<Vec<_>>())
    .bind(spells.iter().map(|s| s.2.team.clone()).collect::<Vec<_>>())
    .bind(spells.iter().map(|s| s.2.role_code.clone()).collect::<Vec<_>>())
    .bind(spells.iter().map(|s| s.2.role_level.map(i16::from)).collect::<Vec<_>>())
    .bind(spells.iter().map(|s| s.2.post_id).collect::<Vec<_>>())
    .bind(spells.iter().map(|s| text(&s.2.basis)).collect::<Vec<_>>())
    .bind(spells.iter().map(|s| s.2.fte).collect::<Vec<_>>())
    .bind(spells.iter().map(|s| s.2.from).collect::<Vec<_>>())
    .bind(spells.iter().map(|s| s.2.until).collect::<Vec<_>>())
    .bind(
        spells
            .iter()
            .map(|s| s.2.ended_by.as_ref().map(text))
            .collect::<Vec<_>>(),
    )
    .execute(&mut **tx)
    .await?;

    let moves: Vec<_> = people
        .iter()
        .flat_map(|(p, _)| {
            p.moves
                .iter()
                .enumerate()
                .map(move |(i, m)| (p.participant_id, i as i32, m))
        })
        .collect();
    sqlx::query(&format!(
        "INSERT INTO {schema}.moves (participant_id, ordinal, effective_on, from_role, from_level, from_organisation, \
         to_role, to_level, to_organisation, kind, internal, rejoining) \
         SELECT * FROM UNNEST($1::uuid[], $2::int[], $3::date[], $4::text[], $5::smallint[], $6::text[], \
                              $7::text[], $8::smallint[], $9::text[], $10::text[], $11::bool[], $12::bool[])"
    ))
    .bind(moves.iter().map(|m| m.0).collect::<Vec<_>>())
    .bind(moves.iter().map(|m| m.1).collect::<Vec<_>>())
    .bind(moves.iter().map(|m| m.2.effective_on).collect::<Vec<_>>())
    .bind(moves.iter().map(|m| m.2.from_role.clone()).collect::<Vec<_>>())
    .bind(moves.iter().map(|m| m.2.from_level.map(i16::from)).collect::<Vec<_>>())
    .bind(moves.iter().map(|m| m.2.from_organisation.clone()).collect::<Vec<_>>())
    .bind(moves.iter().map(|m| m.2.to_role.clone()).collect::<Vec<_>>())
    .bind(moves.iter().map(|m| m.2.to_level.map(i16::from)).collect::<Vec<_>>())
    .bind(moves.iter().map(|m| m.2.to_organisation.clone()).collect::<Vec<_>>())
    .bind(moves.iter().map(|m| text(&m.2.kind)).collect::<Vec<_>>())
    .bind(moves.iter().map(|m| m.2.internal).collect::<Vec<_>>())
    .bind(moves.iter().map(|m| m.2.rejoining).collect::<Vec<_>>())
    .execute(&mut **tx)
    .await?;

    let leavings: Vec<_> = people
        .iter()
        .flat_map(|(p, _)| {
            p.leavings
                .iter()
                .enumerate()
                .map(move |(i, l)| (p.participant_id, i as i32, l))
        })
        .collect();
    sqlx::query(&format!(
        "INSERT INTO {schema}.leavings (participant_id, ordinal, effective_on, organisation, role_code, fte) \
         SELECT * FROM UNNEST($1::uuid[], $2::int[], $3::date[], $4::text[], $5::text[], $6::float8[])"
    ))
    .bind(leavings.iter().map(|l| l.0).collect::<Vec<_>>())
    .bind(leavings.iter().map(|l| l.1).collect::<Vec<_>>())
    .bind(leavings.iter().map(|l| l.2.effective_on).collect::<Vec<_>>())
    .bind(leavings.iter().map(|l| l.2.organisation.clone()).collect::<Vec<_>>())
    .bind(leavings.iter().map(|l| l.2.role_code.clone()).collect::<Vec<_>>())
    .bind(leavings.iter().map(|l| l.2.fte).collect::<Vec<_>>())
    .execute(&mut **tx)
    .await?;

    let exclusions: Vec<_> = people
        .iter()
        .flat_map(|(p, _)| {
            p.exclusions
                .iter()
                .enumerate()
                .map(move |(i, x)| (p.participant_id, i as i32, x))
        })
        .collect();
    sqlx::query(&format!(
        "INSERT INTO {schema}.exclusions (participant_id, ordinal, from_on, until_on, reason) \
         SELECT * FROM UNNEST($1::uuid[], $2::int[], $3::date[], $4::date[], $5::text[])"
    ))
    .bind(exclusions.iter().map(|x| x.0).collect::<Vec<_>>())
    .bind(exclusions.iter().map(|x| x.1).collect::<Vec<_>>())
    .bind(exclusions.iter().map(|x| x.2.from).collect::<Vec<_>>())
    .bind(exclusions.iter().map(|x| x.2.until).collect::<Vec<_>>())
    .bind(exclusions.iter().map(|x| x.2.reason.clone()).collect::<Vec<_>>())
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
    .bind(cohorts.iter().map(|(c, _)| c.cohort_id).collect::<Vec<_>>())
    .bind(cohorts.iter().map(|(c, _)| c.programme.clone()).collect::<Vec<_>>())
    .bind(cohorts.iter().map(|(c, _)| c.name.clone()).collect::<Vec<_>>())
    .bind(cohorts.iter().map(|(c, _)| c.starts_on).collect::<Vec<_>>())
    .bind(cohorts.iter().map(|(_, v)| *v).collect::<Vec<_>>())
    .execute(&mut **tx)
    .await?;
    let members: Vec<_> = cohorts
        .iter()
        .flat_map(|(c, _)| c.members.iter().map(move |m| (c.cohort_id, m)))
        .collect();
    sqlx::query(&format!(
        "INSERT INTO {schema}.cohort_members (cohort_id, participant_id, enrolled_on, completed_on, withdrawn_on) \
         SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::date[], $4::date[], $5::date[])"
    ))
    .bind(members.iter().map(|m| m.0).collect::<Vec<_>>())
    .bind(members.iter().map(|m| m.1.participant_id).collect::<Vec<_>>())
    .bind(members.iter().map(|m| m.1.enrolled_on).collect::<Vec<_>>())
    .bind(members.iter().map(|m| m.1.completed_on).collect::<Vec<_>>())
    .bind(members.iter().map(|m| m.1.withdrawn_on).collect::<Vec<_>>())
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
    .bind(posts.iter().map(|(p, _)| p.post_id).collect::<Vec<_>>())
    .bind(posts.iter().map(|(p, _)| p.organisation.clone()).collect::<Vec<_>>())
    .bind(posts.iter().map(|(p, _)| p.title.clone()).collect::<Vec<_>>())
    .bind(posts.iter().map(|(p, _)| p.role_code.clone()).collect::<Vec<_>>())
    .bind(posts.iter().map(|(p, _)| p.established_on).collect::<Vec<_>>())
    .bind(posts.iter().map(|(p, _)| p.disestablished_on).collect::<Vec<_>>())
    .bind(posts.iter().map(|(_, v)| *v).collect::<Vec<_>>())
    .execute(&mut **tx)
    .await?;
    let occupancies: Vec<_> = posts
        .iter()
        .flat_map(|(p, _)| {
            p.occupancies
                .iter()
                .enumerate()
                .map(move |(i, o)| (p.post_id, i as i32, o))
        })
        .collect();
    sqlx::query(&format!(
        "INSERT INTO {schema}.post_occupancies (post_id, ordinal, participant_id, basis, from_on, until_on) \
         SELECT * FROM UNNEST($1::uuid[], $2::int[], $3::uuid[], $4::text[], $5::date[], $6::date[])"
    ))
    .bind(occupancies.iter().map(|o| o.0).collect::<Vec<_>>())
    .bind(occupancies.iter().map(|o| o.1).collect::<Vec<_>>())
    .bind(occupancies.iter().map(|o| o.2.participant_id).collect::<Vec<_>>())
    .bind(occupancies.iter().map(|o| text(&o.2.basis)).collect::<Vec<_>>())
    .bind(occupancies.iter().map(|o| o.2.from).collect::<Vec<_>>())
    .bind(occupancies.iter().map(|o| o.2.until).collect::<Vec<_>>())
    .execute(&mut **tx)
    .await?;
    Ok(())
}
