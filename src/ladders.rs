//! Career ladders: which roles exist in an organisation and their levels.
//!
//! Reference data, not events: an organisation may replace its ladder at any
//! time (`PUT /api/v1/organisations/{organisation}/ladder`). Events carry the
//! role code and the level in force when they were recorded, so a ladder
//! edit changes how new moves are judged and never rewrites history.
//! Organisations without a ladder of their own use the default
//! children's-services ladder of docs/metrics.md.

use aggregates::ladder::{Ladder, LadderError, Role, RoleRef};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;

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
    /// `If-Match` named a version the ladder is no longer (or not yet) at.
    #[error("the ladder of {organisation} is not at version {expected}; read it again")]
    NotAtVersion { organisation: String, expected: u64 },
    /// The database failed.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl LaddersError {
    /// A stable snake_case code for the refusal.
    pub fn code(&self) -> &'static str {
        match self {
            LaddersError::Invalid(_) => "invalid_ladder",
            LaddersError::UnknownRole { .. } => "unknown_role",
            LaddersError::NotAtVersion { .. } => "conflict",
            LaddersError::Database(_) => "internal",
        }
    }

    /// The request field the refusal is about, if any.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            LaddersError::Invalid(_) => Some("roles"),
            LaddersError::UnknownRole { .. } => Some("role"),
            LaddersError::NotAtVersion { .. } | LaddersError::Database(_) => None,
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
    /// lands only on that version, else [`LaddersError::NotAtVersion`]. Each
    /// case is one statement, so the row lock orders concurrent edits.
    pub async fn replace(
        &self,
        organisation: &str,
        roles: Vec<Role>,
        updated_by: &str,
        expected: Option<u64>,
    ) -> Result<LadderView, LaddersError> {
        let ladder = Ladder::new(roles)?;
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
        let version: Option<i64> = query.fetch_optional(&self.pool).await?;
        let version = version.ok_or_else(|| LaddersError::NotAtVersion {
            organisation: organisation.to_string(),
            expected: expected.unwrap_or_default(),
        })?;
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
