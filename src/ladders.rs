//! Career ladders: which roles exist in an organisation and their levels.
//!
//! Reference data, not events: an organisation may replace its ladder at any
//! time (`PUT /api/v1/organisations/{organisation}/ladder`). Events carry the
//! role code and the level in force when they were recorded, and keep it
//! (history is never rewritten), but every derivation judges with the ladder
//! as known at the moment a report answers for, for the whole of history
//! (docs/metrics.md decision 14): commands with the ladders in force now
//! ([`Ladders::levels_now`]), the read models likewise, a `known_at` replay
//! with the ladders as they stood then (`ladder_versions`).
//!
//! A replacement is one transaction that holds the live read models'
//! checkpoint: it refuses to drop a role any recorded event or post of the
//! organisation holds, or to take away such a role's level (every recorded
//! move stays judgeable), writes `ladders` and `ladder_versions`, and
//! re-derives the read-model rows of everyone who holds or held a role in
//! the organisation. So once the PUT has answered, every report judges with
//! the new ladder. Organisations without a ladder of their own use the
//! default children's-services ladder of docs/metrics.md.

use std::collections::BTreeSet;
use std::sync::{Arc, RwLock};

use aggregates::ladder::{Ladder, LadderError, Levels, Role, RoleRef};
use projections::ladder_edits;
use projections::projector::{ProjectorError, LIVE_SCHEMA};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;

/// The count of ladder replacements recorded: the version of the ladders
/// as a whole, which commits guard.
pub(crate) const REPLACEMENTS_RECORDED: &str = "SELECT count(*) FROM ladder_versions";

/// How many times a replacement is tried when PostgreSQL breaks a deadlock
/// by cancelling it (a rebuild swapping the read models in at that moment).
const DEADLOCK_ATTEMPTS: usize = 3;

/// Why a ladder could not be read, replaced or used.
#[derive(Debug, thiserror::Error)]
pub enum LaddersError {
    /// The roles given do not make a ladder.
    #[error("{0}")]
    Invalid(#[from] LadderError),
    /// A role code that is not on the organisation's ladder.
    #[error("{code:?} is not a role on {organisation}'s ladder; known roles: {known}")]
    UnknownRole {
        organisation: String,
        code: String,
        /// The ladder's role codes, comma-separated.
        known: String,
    },
    /// The replacement would drop a role the organisation's recorded events
    /// or posts hold, or take its level away: moves recorded with it could
    /// no longer be judged.
    #[error("the ladder of {organisation} must keep every role its recorded events and posts hold, with a level where it has one: {problems}")]
    RoleInUse { organisation: String, problems: String },
    /// `If-Match` named a version the ladder is no longer (or not yet) at.
    #[error("the ladder of {organisation} is not at version {expected}; read it again")]
    NotAtVersion { organisation: String, expected: u64 },
    /// The database failed.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    /// The read models could not be brought in line with the new ladder
    /// (nothing was changed).
    #[error(transparent)]
    Projection(ProjectorError),
}

impl From<ProjectorError> for LaddersError {
    fn from(e: ProjectorError) -> Self {
        match e {
            ProjectorError::Database(e) => LaddersError::Database(e),
            other => LaddersError::Projection(other),
        }
    }
}

impl LaddersError {
    /// A stable snake_case code for the refusal.
    pub fn code(&self) -> &'static str {
        match self {
            LaddersError::Invalid(_) => "invalid_ladder",
            LaddersError::UnknownRole { .. } => "unknown_role",
            LaddersError::RoleInUse { .. } => "role_in_use",
            LaddersError::NotAtVersion { .. } => "conflict",
            LaddersError::Database(_) | LaddersError::Projection(_) => "internal",
        }
    }

    /// The request field the refusal is about, if any.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            LaddersError::Invalid(_) | LaddersError::RoleInUse { .. } => Some("roles"),
            LaddersError::UnknownRole { .. } => Some("role"),
            LaddersError::NotAtVersion { .. } | LaddersError::Database(_) | LaddersError::Projection(_) => None,
        }
    }
}

/// A ladder as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LadderView {
    pub organisation: String,
    /// `true` when the organisation uses the built-in default.
    pub is_default: bool,
    /// Replacements so far (0 = the default): send it as `If-Match` to replace
    /// exactly this ladder.
    pub version: i64,
    #[schema(value_type = Vec<Object>)]
    pub roles: Vec<Role>,
}

/// Every organisation's ladder in force, as read at one moment, and how
/// many replacements had been recorded then: a commit judged with these
/// levels guards that count (see [`crate::event_store::LADDERS_GUARD`]), so
/// a replacement landing meanwhile makes it decide again.
#[derive(Debug, Clone)]
pub struct LevelsInForce {
    pub replacements: u64,
    pub levels: Levels,
}

/// Reads and replaces organisations' ladders.
#[derive(Clone)]
pub struct Ladders {
    pool: PgPool,
    /// The levels in force as last read: commands judge with them without
    /// a query each, since their commits guard the count of replacements.
    in_force: Arc<RwLock<Option<LevelsInForce>>>,
}

impl Ladders {
    /// Ladders stored in `pool`'s database.
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            in_force: Arc::default(),
        }
    }

    /// The ladder in force for `organisation`.
    pub async fn for_organisation(&self, organisation: &str) -> Result<LadderView, sqlx::Error> {
        let row: Option<(sqlx::types::Json<Vec<Role>>, i64)> =
            sqlx::query_as("SELECT roles, version FROM ladders WHERE organisation = $1")
                .bind(organisation)
                .fetch_optional(&self.pool)
                .await?;
        Ok(match row {
            Some((roles, version)) => LadderView {
                organisation: organisation.to_string(),
                is_default: false,
                version,
                roles: roles.0,
            },
            None => LadderView {
                organisation: organisation.to_string(),
                is_default: true,
                version: 0,
                roles: Ladder::children_services_default().roles().to_vec(),
            },
        })
    }

    /// Every organisation's ladder in force now: what commands are judged
    /// with. Read once and kept until [`Self::forget`]: a command's commit
    /// finds out whether they are still in force.
    pub async fn levels_now(&self) -> Result<Levels, LaddersError> {
        Ok(self.levels_in_force().await?.levels)
    }

    /// [`Self::levels_now`] with the count of replacements they reflect.
    pub async fn levels_in_force(&self) -> Result<LevelsInForce, LaddersError> {
        if let Some(kept) = self.kept() {
            return Ok(kept);
        }
        // Counted first: a replacement between the two reads leaves the
        // count behind the levels, which at worst makes one commit decide
        // again, never one judged with levels newer than the count says.
        let replacements: i64 = sqlx::query_scalar(REPLACEMENTS_RECORDED).fetch_one(&self.pool).await?;
        let levels = ladder_edits::ladders_now(&self.pool).await?.0;
        let read = LevelsInForce {
            replacements: replacements as u64,
            levels,
        };
        if let Ok(mut kept) = self.in_force.write() {
            *kept = Some(read.clone());
        }
        Ok(read)
    }

    fn kept(&self) -> Option<LevelsInForce> {
        self.in_force.read().ok().and_then(|kept| kept.clone())
    }

    /// Drops the levels kept, so the next command reads them again: after a
    /// replacement, or a commit that found them out of date.
    pub fn forget(&self) {
        if let Ok(mut kept) = self.in_force.write() {
            *kept = None;
        }
    }

    /// Replaces `organisation`'s ladder after checking it is a valid ladder
    /// that keeps every role recorded in the organisation (with its level),
    /// and brings the live read models in line with it, all in one
    /// transaction. With `expected` (the `If-Match` version; 0 = still the
    /// default) it lands only on that version, else
    /// [`LaddersError::NotAtVersion`].
    pub async fn replace(
        &self,
        organisation: &str,
        roles: Vec<Role>,
        updated_by: &str,
        expected: Option<u64>,
    ) -> Result<LadderView, LaddersError> {
        let ladder = Ladder::new(roles)?;
        let mut attempt = 1;
        loop {
            let outcome = self.replace_once(organisation, &ladder, updated_by, expected).await;
            self.forget();
            match outcome {
                Err(LaddersError::Database(sqlx::Error::Database(e)))
                    if e.code().as_deref() == Some("40P01") && attempt < DEADLOCK_ATTEMPTS =>
                {
                    attempt += 1;
                }
                outcome => return outcome,
            }
        }
    }

    async fn replace_once(
        &self,
        organisation: &str,
        ladder: &Ladder,
        updated_by: &str,
        expected: Option<u64>,
    ) -> Result<LadderView, LaddersError> {
        let mut tx = self.pool.begin().await?;
        // Holding the live checkpoint keeps the projector out (it skips a
        // locked checkpoint) and orders replacements: the roles recorded and
        // the rows re-derived below are those of this transaction's view.
        sqlx::query(&format!("SELECT 1 FROM {LIVE_SCHEMA}.checkpoint FOR UPDATE"))
            .execute(&mut *tx)
            .await?;
        let (in_force, _) = ladder_edits::ladders_now(&mut *tx).await?;
        let recorded = ladder_edits::roles_recorded_in(&mut tx, LIVE_SCHEMA, organisation).await?;
        check_keeps_recorded_roles(organisation, &in_force, ladder, &recorded)?;
        let sql = match expected {
            None => {
                "INSERT INTO ladders AS l (organisation, roles, updated_by) VALUES ($1, $2, $3) \
                 ON CONFLICT (organisation) DO UPDATE SET roles = EXCLUDED.roles, updated_by = EXCLUDED.updated_by, \
                    updated_at = clock_timestamp(), version = l.version + 1 \
                 RETURNING version"
            }
            Some(0) => {
                "INSERT INTO ladders (organisation, roles, updated_by) VALUES ($1, $2, $3) \
                 ON CONFLICT (organisation) DO NOTHING RETURNING version"
            }
            Some(_) => {
                "UPDATE ladders SET roles = $2, updated_by = $3, updated_at = clock_timestamp(), \
                    version = version + 1 \
                  WHERE organisation = $1 AND version = $4 RETURNING version"
            }
        };
        let mut query = sqlx::query_scalar(sql)
            .bind(organisation)
            .bind(sqlx::types::Json(ladder.roles()))
            .bind(updated_by);
        if let Some(v) = expected.filter(|v| *v > 0) {
            query = query.bind(i64::try_from(v).unwrap_or(i64::MAX));
        }
        let version: Option<i64> = query.fetch_optional(&mut *tx).await?;
        let version = version.ok_or_else(|| LaddersError::NotAtVersion {
            organisation: organisation.to_string(),
            expected: expected.unwrap_or_default(),
        })?;
        ladder_edits::realign(&mut tx, LIVE_SCHEMA).await?;
        // Stamped last, just before the commit: a `known_at` replay judges
        // with this ladder from its recorded time on.
        sqlx::query("INSERT INTO ladder_versions (organisation, version, roles, updated_by) VALUES ($1, $2, $3, $4)")
            .bind(organisation)
            .bind(version)
            .bind(sqlx::types::Json(ladder.roles()))
            .bind(updated_by)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(LadderView {
            organisation: organisation.to_string(),
            is_default: false,
            version,
            roles: ladder.roles().to_vec(),
        })
    }

    /// Resolves a role code (the request's `role`) against `organisation`'s ladder.
    pub async fn resolve(&self, organisation: &str, code: &str) -> Result<RoleRef, LaddersError> {
        let view = self.for_organisation(organisation).await?;
        view.roles
            .iter()
            .find(|r| r.code == code)
            .map(|r| RoleRef {
                code: r.code.clone(),
                level: r.level,
            })
            .ok_or_else(|| LaddersError::UnknownRole {
                organisation: organisation.to_string(),
                code: code.to_string(),
                known: view
                    .roles
                    .iter()
                    .map(|r| r.code.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}

/// Refuses a `replacement` ladder for `organisation` that drops a role code
/// in `recorded`, or gives no level to one that has a level by the ladder
/// `in_force` (or is not on it: its recorded level may be all it has).
fn check_keeps_recorded_roles(
    organisation: &str,
    in_force: &Levels,
    replacement: &Ladder,
    recorded: &BTreeSet<String>,
) -> Result<(), LaddersError> {
    let problems: Vec<String> = recorded
        .iter()
        .filter_map(|code| match replacement.role(code) {
            None => Some(format!("{code} (not on the new ladder)")),
            Some(RoleRef { level: None, .. }) if in_force.level_of(organisation, code) != Some(None) => {
                Some(format!("{code} (no level on the new ladder)"))
            }
            Some(_) => None,
        })
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(LaddersError::RoleInUse {
            organisation: organisation.to_string(),
            problems: problems.join(", "),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(code: &str, level: Option<u8>) -> Role {
        Role {
            code: code.into(),
            name: code.into(),
            level,
        }
    }

    #[test]
    fn a_replacement_keeps_every_recorded_role_and_its_level() {
        let recorded: BTreeSet<String> = ["team_manager", "inspector"].map(String::from).into();
        let default = Levels::default();
        let keeps = Ladder::new(vec![role("team_manager", Some(3)), role("inspector", None)]).unwrap();
        assert!(check_keeps_recorded_roles("X", &default, &keeps, &recorded).is_ok());
        // Inspector gaining a level is fine; team manager losing its level is not.
        let levelled = Ladder::new(vec![role("team_manager", Some(3)), role("inspector", Some(2))]).unwrap();
        assert!(check_keeps_recorded_roles("X", &default, &levelled, &recorded).is_ok());
        let unlevelled = Ladder::new(vec![role("team_manager", None), role("inspector", None)]).unwrap();
        let refused = check_keeps_recorded_roles("X", &default, &unlevelled, &recorded).unwrap_err();
        assert_eq!((refused.code(), refused.field()), ("role_in_use", Some("roles")));
        assert!(
            refused
                .to_string()
                .contains("team_manager (no level on the new ladder)"),
            "{refused}"
        );
        let dropped = Ladder::new(vec![role("team_manager", Some(3))]).unwrap();
        let refused = check_keeps_recorded_roles("X", &default, &dropped, &recorded).unwrap_err();
        assert!(
            refused.to_string().ends_with(": inspector (not on the new ladder)"),
            "{refused}"
        );
    }
}
