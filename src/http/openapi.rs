//! `GET /api/v1/openapi.json`: the OpenAPI document of every endpoint.

use axum::Json;
use utoipa::OpenApi;

use super::{cohorts, error, health, history, ladders, participants, posts, reports, CommandResponse};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "tenure",
        description = "Event-sourced career-progression and retention tracker"
    ),
    paths(
        participants::register,
        participants::change_role,
        participants::record_leaving,
        participants::record_rejoining,
        participants::exclude,
        participants::lift_exclusion,
        participants::retract,
        participants::current_state,
        participants::find_by_external_ref,
        cohorts::open,
        cohorts::enrol,
        cohorts::record_completion,
        cohorts::record_withdrawal,
        cohorts::retract,
        cohorts::current_state,
        posts::establish,
        posts::fill,
        posts::vacate,
        posts::disestablish,
        posts::retract,
        posts::current_state,
        history::participant_events,
        history::cohort_events,
        history::post_events,
        ladders::read,
        ladders::replace,
        reports::report,
        reports::status,
        reports::rebuild,
        health::healthz,
    ),
    components(schemas(CommandResponse, error::ErrorBody))
)]
pub(super) struct ApiDoc;

/// The OpenAPI document.
pub(super) async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
