//! `/organisations/{organisation}/ladder`: read or replace a career ladder.

use aggregates::ladder::Role;
use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use super::error::ApiError;
use super::extract::{ApiJson, CommandHeaders};
use super::AppState;
use crate::ladders::LadderView;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/organisations/{organisation}/ladder", get(read).put(replace))
}

/// Body of `PUT /organisations/{organisation}/ladder`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ReplaceLadderRequest {
    /// Every role of the organisation: `{code, name, level}`, level null for
    /// roles off the ladder (moves to or from them must state their kind).
    #[schema(value_type = Vec<Object>)]
    pub roles: Vec<Role>,
}

/// The ladder in force for an organisation (the default if it has none).
#[utoipa::path(get, operation_id = "read_ladder", path = "/api/v1/organisations/{organisation}/ladder", tag = "ladders",
    params(("organisation" = String, Path)), responses((status = 200, body = LadderView)))]
pub(super) async fn read(
    State(s): State<AppState>,
    Path(organisation): Path<String>,
) -> Result<Json<LadderView>, ApiError> {
    Ok(Json(s.runner.ladders().for_organisation(&organisation).await?))
}

/// Replace an organisation's ladder. It applies to the whole of history
/// (docs/metrics.md decision 14): answered once the read models judge every
/// move with it; a report `known_at` before it still uses the old one. A
/// ladder that drops a role the organisation's events or posts hold, or
/// takes its level away, is 422 `role_in_use`. `If-Match: <version>` (0 for
/// the default) makes it land only on that version: 409 otherwise.
#[utoipa::path(put, operation_id = "replace_ladder", path = "/api/v1/organisations/{organisation}/ladder", tag = "ladders",
    params(("organisation" = String, Path), super::openapi::LadderHeaderParams), request_body = ReplaceLadderRequest,
    responses((status = 200, body = LadderView), (status = 400, body = super::error::ErrorBody),
        (status = 409, body = super::error::ErrorBody),
        (status = 422, body = super::error::ErrorBody)))]
pub(super) async fn replace(
    State(s): State<AppState>,
    Path(organisation): Path<String>,
    headers: CommandHeaders,
    body: ApiJson<ReplaceLadderRequest>,
) -> Result<Json<LadderView>, ApiError> {
    let by = headers.recorded_by;
    let ladders = s.runner.ladders();
    Ok(Json(
        ladders
            .replace(&organisation, body.value.roles, &by, headers.expected_version)
            .await?,
    ))
}
