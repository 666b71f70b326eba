//! `/posts`: establish, fill, vacate, disestablish, retract; read.

use aggregates::ladder::Basis;
use aggregates::post::{Post, PostCommand};
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::NaiveDate;
use serde::Deserialize;
use uuid::Uuid;

use super::error::ApiError;
use super::extract::{Addressed, CommandRequest};
use super::participants::RetractionRequest;
use super::{AppState, CommandResponse, Created};
use crate::commands::Command;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/posts", post(establish))
        .route("/posts/{id}", get(current_state))
        .route("/posts/{id}/fillings", post(fill))
        .route("/posts/{id}/vacations", post(vacate))
        .route("/posts/{id}/disestablishment", post(disestablish))
        .route("/posts/{id}/retractions", post(retract))
}

/// Body of `POST /posts`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct EstablishPostRequest {
    pub post_id: Option<Uuid>,
    pub organisation: String,
    pub title: String,
    /// The role code of whoever fills the post.
    pub role: String,
    pub established_on: NaiveDate,
    /// Your own reference for the post, unique in the organisation: how a
    /// facts file names it (`post` column).
    pub reference: Option<String>,
}

/// Body of `POST /posts/{id}/fillings`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct FillRequest {
    pub participant_id: Uuid,
    #[schema(value_type = Option<String>)]
    pub basis: Option<Basis>,
    pub fte: Option<f64>,
    pub effective_on: NaiveDate,
}

/// Body of `POST /posts/{id}/vacations`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct VacateRequest {
    pub participant_id: Uuid,
    pub effective_on: NaiveDate,
}

/// Body of `POST /posts/{id}/disestablishment`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct DisestablishRequest {
    pub effective_on: NaiveDate,
}

/// Establish a post in an organisation.
#[utoipa::path(post, path = "/api/v1/posts", request_body = EstablishPostRequest, tag = "posts",
    params(super::openapi::CommandHeaderParams),
    responses((status = 201, body = CommandResponse), (status = 409, body = super::error::ErrorBody), (status = 400, body = super::error::ErrorBody),
              (status = 422, body = super::error::ErrorBody)))]
pub(super) async fn establish(State(s): State<AppState>, req: CommandRequest<EstablishPostRequest>) -> Created {
    let r = &req.body;
    let post_id = r.post_id.unwrap_or_else(Uuid::new_v4);
    let build = async {
        let command = PostCommand::Establish {
            post_id,
            organisation: r.organisation.clone(),
            title: r.title.clone(),
            role: s.runner.ladders().resolve(&r.organisation, &r.role).await?,
            established_on: r.established_on,
            reference: r.reference.clone(),
        };
        Ok(Command::Post(post_id, command))
    };
    s.run_built(&req, build).await
}

/// A participant takes up the post (recorded as their role change too).
#[utoipa::path(post, path = "/api/v1/posts/{id}/fillings", request_body = FillRequest, tag = "posts",
    params(("id" = Uuid, Path), super::openapi::CommandHeaderParams),
    responses((status = 201, body = CommandResponse), (status = 400, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody),
              (status = 409, body = super::error::ErrorBody), (status = 422, body = super::error::ErrorBody)))]
pub(super) async fn fill(State(s): State<AppState>, req: Addressed<FillRequest>) -> Created {
    let r = &req.body;
    let command = PostCommand::Fill {
        participant_id: r.participant_id,
        basis: r.basis.unwrap_or(Basis::Permanent),
        fte: r.fte,
        effective_on: r.effective_on,
    };
    s.run_on(&req, |id| Command::Post(id, command)).await
}

/// The occupant leaves the post and keeps their role.
#[utoipa::path(post, path = "/api/v1/posts/{id}/vacations", request_body = VacateRequest, tag = "posts",
    params(("id" = Uuid, Path), super::openapi::CommandHeaderParams),
    responses((status = 201, body = CommandResponse), (status = 400, body = super::error::ErrorBody), (status = 409, body = super::error::ErrorBody), (status = 422, body = super::error::ErrorBody)))]
pub(super) async fn vacate(State(s): State<AppState>, req: Addressed<VacateRequest>) -> Created {
    let (participant_id, effective_on) = (req.body.participant_id, req.body.effective_on);
    let command = PostCommand::Vacate {
        participant_id,
        effective_on,
    };
    s.run_on(&req, |id| Command::Post(id, command)).await
}

/// Disestablish the post.
#[utoipa::path(post, path = "/api/v1/posts/{id}/disestablishment", request_body = DisestablishRequest, tag = "posts",
    params(("id" = Uuid, Path), super::openapi::CommandHeaderParams),
    responses((status = 201, body = CommandResponse), (status = 400, body = super::error::ErrorBody), (status = 409, body = super::error::ErrorBody), (status = 422, body = super::error::ErrorBody)))]
pub(super) async fn disestablish(State(s): State<AppState>, req: Addressed<DisestablishRequest>) -> Created {
    let effective_on = req.body.effective_on;
    s.run_on(&req, |id| Command::Post(id, PostCommand::Disestablish { effective_on }))
        .await
}

/// Retract one of the post's events.
#[utoipa::path(post, operation_id = "retract_post_event",
    path = "/api/v1/posts/{id}/retractions", request_body = RetractionRequest, tag = "posts",
    params(("id" = Uuid, Path), super::openapi::CommandHeaderParams),
    responses((status = 201, body = CommandResponse), (status = 400, body = super::error::ErrorBody), (status = 409, body = super::error::ErrorBody), (status = 422, body = super::error::ErrorBody)))]
pub(super) async fn retract(State(s): State<AppState>, req: Addressed<RetractionRequest>) -> Created {
    let (sequence, reason) = (req.body.sequence, req.body.reason.clone());
    s.run_on(&req, |id| Command::Post(id, PostCommand::Retract { sequence, reason }))
        .await
}

/// A post's current state and occupancy history.
#[utoipa::path(get, operation_id = "post_state",
    path = "/api/v1/posts/{id}", tag = "posts", params(("id" = Uuid, Path), super::KnownAtQuery),
    responses((status = 200, body = Object), (status = 400, body = super::error::ErrorBody),
        (status = 404, body = super::error::ErrorBody), (status = 422, body = super::error::ErrorBody)))]
pub(super) async fn current_state(
    State(s): State<AppState>,
    Path(id): Path<String>,
    query: Result<axum::extract::Query<super::KnownAtQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<aggregates::post::PostView>, ApiError> {
    let known_at = super::known_at_of(query)?.moment(&s).await?;
    super::aggregate_view(&s, "post", &id, known_at, Post::view).await
}
