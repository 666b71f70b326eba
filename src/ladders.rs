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
        let row: Option<(sqlx::types::Json<Vec<Role>>,)> =
            sqlx::query_as("SELECT roles FROM ladders WHERE organisation = $1")
                .bind(organisation)
                .fetch_optional(&self.pool)
                .await?;
        Ok(match row {
            Some((roles,)) => LadderView {
                organisation: organisation.to_string(),
                is_default: false,
                roles: roles.0,
            },
            None => LadderView {
                organisation: organisation.to_string(),
                is_default: true,
                roles: Ladder::children_services_default().roles().to_vec(),
            },
        })
    }

    /// Replaces `organisation`'s ladder after checking it is a valid ladder.
    pub async fn replace(
        &self,
        organisation: &str,
        roles: Vec<Role>,
        updated_by: &str,
    ) -> Result<LadderView, CommandError> {
        let ladder =
            Ladder::new(roles).map_err(|e| CommandError::rule("invalid_ladder", Some("roles"), e.to_string()))?;
        sqlx::query(
            "INSERT INTO ladders (organisation, roles, updated_by) VALUES ($1, $2, $3) \
             ON CONFLICT (organisation) DO UPDATE \
                SET roles = EXCLUDED.roles, updated_by = EXCLUDED.updated_by, updated_at = clock_timestamp()",
        )
        .bind(organisation)
        .bind(sqlx::types::Json(ladder.roles()))
        .bind(updated_by)
        .execute(&self.pool)
        .await
        .map_err(|e| CommandError::Store(e.into()))?;
        Ok(LadderView {
            organisation: organisation.to_string(),
            is_default: false,
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
