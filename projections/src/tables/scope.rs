//! Which rows of the read models one report needs, and the indexed queries
//! that find them (`migrations/0007_report_windows.sql`).
//!
//! A report's cost must follow what its filters select, not the history:
//! an organisation's leavers in two six-month periods read the people
//! employed there in those months, not everyone who ever worked there. Each
//! selected person is read whole (every spell, move, leaving and exclusion),
//! because the calculations look around a row (the spell a leaving ended,
//! the spell before a starter's, a move out after a spell), and a person's
//! history is a few dozen rows. Every narrowing below is a superset of the
//! rows the calculation in `crate::reports` can count, worked out in
//! `docs/read-models.md` ("What a report reads"); `tests/api/report_scope.rs`
//! checks the answers equal those over the whole history.

use chrono::NaiveDate;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::reports::model::{Cohort, Dataset};
use crate::reports::selection::{named_cohorts, split_list};
use crate::reports::Period;

/// The part of the read models a report needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// Which people, each with their whole history.
    pub people: People,
    /// Of those, only the members of the cohorts read (a `cohort` or
    /// `programme` filter on the leavers report).
    pub members_only: bool,
    /// Which cohorts, with their members.
    pub cohorts: Cohorts,
    /// Which posts, with their occupancies.
    pub posts: Posts,
}

impl Scope {
    /// Everything: every person, cohort and post.
    pub fn everything() -> Self {
        Self {
            people: People::All,
            members_only: false,
            cohorts: Cohorts::All,
            posts: Posts::All,
        }
    }

    /// Nothing (a request that will be refused whatever the data says).
    pub fn nothing() -> Self {
        Self {
            people: People::Nobody,
            members_only: false,
            cohorts: Cohorts::None,
            posts: Posts::None,
        }
    }
}

/// Which people a report reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum People {
    /// Everyone.
    All,
    /// No one.
    Nobody,
    /// Everyone whose employment touches one of `windows`: a spell overlapping
    /// it (its days or the day after its end: a leaving on the first day of
    /// a window ends a spell the day before), a leaving in it, or a move out
    /// of `organisation` in it. Spells are those at `organisation` (any,
    /// when `None`), of `roles` and in `team` when given; leavings those at
    /// `organisation` of `roles` (their team is read from the spell, which
    /// is why the team does not narrow them).
    Employed {
        /// The organisation, or any.
        organisation: Option<String>,
        /// The periods the figures count.
        windows: Vec<Period>,
        /// Only these role codes.
        roles: Option<Vec<String>>,
        /// Only this team.
        team: Option<String>,
    },
    /// Whoever occupied one of the posts read at the end of `on`.
    PostHolders {
        /// The date.
        on: NaiveDate,
    },
    /// The members of the cohorts read.
    Members,
}

/// Which cohorts a report reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cohorts {
    /// None.
    None,
    /// Every cohort.
    All,
    /// The cohorts `names` selects among those of `programme`
    /// (`crate::reports::selection::named_cohorts`), or every cohort of the
    /// programme when `names` is `None`. When `names` matches nothing, the
    /// headers of every candidate are read (no members), so that the
    /// refusal suggests the same nearest name as over the whole history.
    Named {
        /// The programme, if given.
        programme: Option<String>,
        /// The `cohort` parameter, if given.
        names: Option<String>,
    },
}

/// Which posts a report reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Posts {
    /// None.
    None,
    /// Every post.
    All,
    /// The posts of `organisation` established at the end of `on`.
    EstablishedOn {
        /// The organisation.
        organisation: String,
        /// The date.
        on: NaiveDate,
    },
}

/// The cohorts `filter` selects, with their members, from `schema`.
pub(super) async fn read_cohorts(
    db: &mut PgConnection,
    schema: &str,
    filter: &Cohorts,
) -> Result<Vec<Cohort>, sqlx::Error> {
    let headers = "SELECT cohort_id, programme, name, starts_on FROM";
    let (programme, names) = match filter {
        Cohorts::None => return Ok(Vec::new()),
        Cohorts::All => (None, None),
        Cohorts::Named { programme, names } => (programme.as_deref(), names.as_deref()),
    };
    if programme.is_none() && names.is_none() {
        let cohorts = sqlx::query_as(&format!("{headers} {schema}.cohorts"))
            .fetch_all(&mut *db)
            .await?;
        return with_members(db, schema, cohorts).await;
    }
    let in_programme: Vec<Cohort> = match programme {
        Some(p) => {
            sqlx::query_as(&format!("{headers} {schema}.cohorts WHERE programme = $1"))
                .bind(p)
                .fetch_all(&mut *db)
                .await?
        }
        None => Vec::new(),
    };
    let Some(names) = names else {
        return with_members(db, schema, in_programme).await;
    };
    // Every cohort an entry of `names` could name: by the whole value or by
    // one entry, as a name or an id (a superset of `named_cohorts`' matches).
    let mut wanted = split_list(names);
    wanted.push(names.trim().to_string());
    let ids: Vec<Uuid> = wanted.iter().filter_map(|w| Uuid::parse_str(w).ok()).collect();
    let candidates: Vec<Cohort> = match programme {
        Some(_) => in_programme
            .into_iter()
            .filter(|c| wanted.contains(&c.name) || ids.contains(&c.cohort_id))
            .collect(),
        None => {
            sqlx::query_as(&format!(
                "{headers} {schema}.cohorts WHERE name = ANY($1) OR cohort_id = ANY($2)"
            ))
            .bind(&wanted)
            .bind(&ids)
            .fetch_all(&mut *db)
            .await?
        }
    };
    let chosen = Dataset {
        cohorts: candidates,
        ..Dataset::default()
    };
    match named_cohorts(&chosen, names, programme) {
        Ok(ids) => {
            let selected = chosen
                .cohorts
                .into_iter()
                .filter(|c| ids.contains(&c.cohort_id))
                .collect();
            with_members(db, schema, selected).await
        }
        // Refused: the calculation needs every candidate's name to suggest
        // the nearest, and no members.
        Err(_) => match programme {
            Some(p) => {
                sqlx::query_as(&format!("{headers} {schema}.cohorts WHERE programme = $1"))
                    .bind(p)
                    .fetch_all(&mut *db)
                    .await
            }
            None => {
                sqlx::query_as(&format!("{headers} {schema}.cohorts"))
                    .fetch_all(&mut *db)
                    .await
            }
        },
    }
}

/// `cohorts` with their members.
async fn with_members(
    db: &mut PgConnection,
    schema: &str,
    mut cohorts: Vec<Cohort>,
) -> Result<Vec<Cohort>, sqlx::Error> {
    if cohorts.is_empty() {
        return Ok(cohorts);
    }
    let ids: Vec<Uuid> = cohorts.iter().map(|c| c.cohort_id).collect();
    let members: Vec<(Uuid, crate::reports::model::Member)> = super::read::members_of(db, schema, &ids).await?;
    let at: std::collections::HashMap<Uuid, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    for (cohort, member) in members {
        if let Some(i) = at.get(&cohort) {
            cohorts[*i].members.push(member);
        }
    }
    Ok(cohorts)
}

/// The people `scope` reads (`None`: everyone), given the cohorts read.
pub(super) async fn people_ids(
    db: &mut PgConnection,
    schema: &str,
    scope: &Scope,
    posts: &[Uuid],
    cohorts: &[Cohort],
) -> Result<Option<Vec<Uuid>>, sqlx::Error> {
    let members = || -> Vec<Uuid> {
        let mut ids: Vec<Uuid> = cohorts
            .iter()
            .flat_map(|c| c.members.iter().map(|m| m.participant_id))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    };
    let mut ids = match &scope.people {
        People::All => None,
        People::Nobody => Some(Vec::new()),
        People::Members => Some(members()),
        People::PostHolders { on } => Some(
            sqlx::query_scalar(&format!(
                "SELECT DISTINCT participant_id FROM {schema}.post_occupancies \
                 WHERE post_id = ANY($1) AND from_on <= $2 AND (until_on IS NULL OR until_on > $2)"
            ))
            .bind(posts)
            .bind(on)
            .fetch_all(&mut *db)
            .await?,
        ),
        People::Employed {
            organisation,
            windows,
            roles,
            team,
        } => Some(
            employed(
                db,
                schema,
                organisation.as_deref(),
                windows,
                roles.as_deref(),
                team.as_deref(),
            )
            .await?,
        ),
    };
    if scope.members_only {
        let members = members();
        ids = Some(match ids {
            None => members,
            Some(found) => found
                .into_iter()
                .filter(|id| members.binary_search(id).is_ok())
                .collect(),
        });
    }
    Ok(ids)
}

/// The people of [`People::Employed`]: one statement, each part walking an
/// index that leads with the organisation (or, over every organisation,
/// reading the spells and leavings whole).
async fn employed(
    db: &mut PgConnection,
    schema: &str,
    organisation: Option<&str>,
    windows: &[Period],
    roles: Option<&[String]>,
    team: Option<&str>,
) -> Result<Vec<Uuid>, sqlx::Error> {
    if windows.is_empty() {
        return Ok(Vec::new());
    }
    // Each filter is written into the text only when given, so that every
    // shape of request gets a plan of its own that uses the indexes (a
    // generic `$1 IS NULL OR …` plan could not).
    let by = |column: &str, parameter: &str, given: bool| {
        if given {
            format!(" AND {column} = {parameter}")
        } else {
            String::new()
        }
    };
    let org = organisation.is_some();
    let role = |column: &str| {
        if roles.is_some() {
            format!(" AND {column} = ANY($4)")
        } else {
            String::new()
        }
    };
    let windows_sql = "unnest($2::date[], $3::date[]) AS w(first_day, last_day)";
    let mut sql = format!(
        "SELECT s.participant_id FROM {schema}.spells s JOIN {windows_sql} \
           ON s.from_on <= w.last_day AND (s.until_on IS NULL OR s.until_on >= w.first_day) \
         WHERE true{}{}{} \
         UNION SELECT l.participant_id FROM {schema}.leavings l JOIN {windows_sql} \
           ON l.effective_on BETWEEN w.first_day AND w.last_day \
         WHERE true{}{}",
        by("s.organisation", "$1", org),
        role("s.role_code"),
        by("s.team", "$5", team.is_some()),
        by("l.organisation", "$1", org),
        role("l.role_code"),
    );
    if org {
        // Over every organisation only leavings end employment.
        sql.push_str(&format!(
            " UNION SELECT m.participant_id FROM {schema}.moves m JOIN {windows_sql} \
               ON m.effective_on BETWEEN w.first_day AND w.last_day \
             WHERE m.from_organisation = $1 AND m.to_organisation <> $1 AND NOT m.rejoining{}",
            role("m.from_role"),
        ));
    }
    let first_days: Vec<NaiveDate> = windows.iter().map(|w| w.from).collect();
    let last_days: Vec<NaiveDate> = windows.iter().map(|w| w.to).collect();
    sqlx::query_scalar(&sql)
        .bind(organisation)
        .bind(first_days)
        .bind(last_days)
        .bind(roles)
        .bind(team)
        .fetch_all(db)
        .await
}
