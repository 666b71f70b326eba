//! Event histories for auditors: every event of one participant, cohort or
//! post, retractions included, with both clocks and who recorded it.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};

use super::error::ApiError;
use super::participants::parse_id;
use super::AppState;
use crate::event_store::StoredEvent;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/participants/{id}/events", get(participant_events))
        .route("/cohorts/{id}/events", get(cohort_events))
        .route("/posts/{id}/events", get(post_events))
}

async fn history(s: &AppState, aggregate_type: &'static str, id: &str) -> Result<Json<Vec<StoredEvent>>, ApiError> {
    let id = parse_id(id)?;
    let events = s.store().history(aggregate_type, &id.to_string()).await?;
    if events.is_empty() {
        return Err(ApiError::not_found(aggregate_type, id));
    }
    Ok(Json(events))
}

/// Every event of a participant, in stream order.
#[utoipa::path(get, path = "/api/v1/participants/{id}/events", tag = "history", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<StoredEvent>), (status = 404, body = super::error::ErrorBody)))]
pub(super) async fn participant_events(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Vec<StoredEvent>>, ApiError> {
    history(&s, "participant", &id).await
}

/// Every event of a cohort, in stream order.
#[utoipa::path(get, path = "/api/v1/cohorts/{id}/events", tag = "history", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<StoredEvent>), (status = 404, body = super::error::ErrorBody)))]
pub(super) async fn cohort_events(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Vec<StoredEvent>>, ApiError> {
    history(&s, "cohort", &id).await
}

/// Every event of a post, in stream order.
#[utoipa::path(get, path = "/api/v1/posts/{id}/events", tag = "history", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<StoredEvent>), (status = 404, body = super::error::ErrorBody)))]
pub(super) async fn post_events(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Vec<StoredEvent>>, ApiError> {
    history(&s, "post", &id).await
}
