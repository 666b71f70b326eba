//! Career ladders: which roles exist in an organisation and their levels.
//!
//! Reference data, not events: an organisation may replace its ladder at any
//! time (`PUT /api/v1/organisations/{organisation}/ladder`). Events carry the
//! role code and the level in force when they were recorded, so a ladder
//! edit changes how new moves are judged and never rewrites history.
//! Organisations without a ladder of their own use the default
//! children's-services ladder of metrics.md.

use aggregates::ladder::{Ladder, Role, RoleRef};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;

use crate::commands::CommandError;

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

/// Reads and replaces organisations' ladders.
#[derive(Clone)]
pub struct Ladders {
    pool: PgPool,
}

impl Ladders {
    /// Ladders stored in `pool`'s database.
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
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

    /// Replaces `organisation`'s ladder after checking it is a valid ladder.
    /// With `expected` (the `If-Match` version; 0 = still the default) it
    /// lands only on that version, else [`CommandError::Conflict`]. Each
    /// case is one statement, so the row lock orders concurrent edits.
    pub async fn replace(
        &self,
        organisation: &str,
        roles: Vec<Role>,
        updated_by: &str,
        expected: Option<u64>,
    ) -> Result<LadderView, CommandError> {
        let ladder =
            Ladder::new(roles).map_err(|e| CommandError::rule("invalid_ladder", Some("roles"), e.to_string()))?;
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
        let version: Option<i64> = query
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| CommandError::Store(e.into()))?;
        let version = version.ok_or_else(|| {
            CommandError::Conflict(format!(
                "the ladder of {organisation} is not at version {}; read it again",
                expected.unwrap_or_default()
            ))
        })?;
        Ok(LadderView {
            organisation: organisation.to_string(),
            is_default: false,
            version,
            roles: ladder.roles().to_vec(),
        })
    }

    /// Resolves a role code against `organisation`'s ladder.
    pub async fn resolve(&self, organisation: &str, code: &str, field: &str) -> Result<RoleRef, CommandError> {
        let view = self
            .for_organisation(organisation)
            .await
            .map_err(|e| CommandError::Store(e.into()))?;
        view.roles
            .iter()
            .find(|r| r.code == code)
            .map(|r| RoleRef {
                code: r.code.clone(),
                level: r.level,
            })
            .ok_or_else(|| {
                let known: Vec<&str> = view.roles.iter().map(|r| r.code.as_str()).collect();
                CommandError::rule(
                    "unknown_role",
                    Some(field),
                    format!(
                        "{code:?} is not a role on {organisation}'s ladder; known roles: {}",
                        known.join(", ")
                    ),
                )
            })
    }
}
