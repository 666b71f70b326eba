//! `/participants`: register, move, leave, rejoin, exclude, retract; read.

use aggregates::ladder::{Basis, MoveKind};
use aggregates::participant::{Participant, ParticipantCommand};
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::error::ApiError;
use super::extract::{Addressed, CommandRequest};
use super::{AppState, CommandResponse, Created};
use crate::commands::Command;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/participants", post(register).get(find_by_external_ref))
        .route("/participants/{id}", get(current_state))
        .route("/participants/{id}/role-changes", post(change_role))
        .route("/participants/{id}/leavings", post(record_leaving))
        .route("/participants/{id}/rejoinings", post(record_rejoining))
        .route("/participants/{id}/exclusions", post(exclude))
        .route("/participants/{id}/exclusion-lifts", post(lift_exclusion))
        .route("/participants/{id}/retractions", post(retract))
}

/// Body of `POST /participants`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RegisterRequest {
    /// Optional: choose the id yourself (a new UUID otherwise).
    pub participant_id: Option<Uuid>,
    /// Your reference for the person; unique in the store.
    pub external_ref: String,
    pub organisation: String,
    pub team: Option<String>,
    /// A role code on the organisation's ladder, e.g. `team_manager`.
    pub role: String,
    pub post_id: Option<Uuid>,
    /// `permanent` (default), `interim`, `acting` or `agency`.
    #[schema(value_type = Option<String>)]
    pub basis: Option<Basis>,
    /// Full-time equivalent, above 0 and at most 1 (default 1).
    pub fte: Option<f64>,
    pub joined_on: NaiveDate,
}

/// Body of `POST /participants/{id}/role-changes`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ChangeRoleRequest {
    pub effective_on: NaiveDate,
    /// The new role's code.
    pub role: String,
    /// The organisation after the move (default: the one employing them on
    /// `effective_on`).
    pub organisation: Option<String>,
    pub team: Option<String>,
    pub post_id: Option<Uuid>,
    #[schema(value_type = Option<String>)]
    pub basis: Option<Basis>,
    /// New FTE (default: unchanged).
    pub fte: Option<f64>,
    /// `promotion`, `demotion` or `sideways`: required for moves to or from a
    /// role without a level; when given it wins over the ladder.
    #[schema(value_type = Option<String>)]
    pub kind: Option<MoveKind>,
}

/// Body of `POST /participants/{id}/leavings`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct LeavingRequest {
    pub effective_on: NaiveDate,
    pub reason: String,
    pub destination: Option<String>,
}

/// Body of `POST /participants/{id}/rejoinings`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RejoiningRequest {
    pub effective_on: NaiveDate,
    pub organisation: String,
    pub team: Option<String>,
    pub role: String,
    pub post_id: Option<Uuid>,
    #[schema(value_type = Option<String>)]
    pub basis: Option<Basis>,
    pub fte: Option<f64>,
    #[schema(value_type = Option<String>)]
    pub kind: Option<MoveKind>,
}

/// Body of exclusions and of lifting them.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ExclusionRequest {
    pub effective_on: NaiveDate,
    pub reason: String,
}

/// Body of `POST .../retractions`: which event of this aggregate, and why.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RetractionRequest {
    pub sequence: u64,
    pub reason: String,
}

pub(super) fn parse_id(id: &str) -> Result<Uuid, ApiError> {
    id.parse()
        .map_err(|_| ApiError::bad_request("invalid_id", "id", format!("{id:?} is not a UUID")))
}

/// Register a participant.
#[utoipa::path(post, path = "/api/v1/participants", request_body = RegisterRequest, tag = "participants",
    params(super::openapi::CommandHeaderParams),
    responses((status = 201, body = CommandResponse), (status = 400, body = super::error::ErrorBody),
              (status = 409, body = super::error::ErrorBody), (status = 422, body = super::error::ErrorBody)))]
pub(super) async fn register(State(s): State<AppState>, req: CommandRequest<RegisterRequest>) -> Created {
    let r = &req.body;
    let participant_id = r.participant_id.unwrap_or_else(Uuid::new_v4);
    let build = async {
        let command = ParticipantCommand::Register {
            participant_id,
            external_ref: r.external_ref.clone(),
            organisation: r.organisation.clone(),
            team: r.team.clone(),
            role: s.runner.ladders().resolve(&r.organisation, &r.role).await?,
            post_id: r.post_id,
            basis: r.basis.unwrap_or(Basis::Permanent),
            fte: r.fte.unwrap_or(1.0),
            joined_on: r.joined_on,
        };
        Ok(Command::Participant(participant_id, command))
    };
    s.run_built(&req, build).await
}

/// Change a participant's role: promotion, demotion, sideways move or terms.
#[utoipa::path(post, path = "/api/v1/participants/{id}/role-changes", request_body = ChangeRoleRequest,
    tag = "participants", params(("id" = Uuid, Path), super::openapi::CommandHeaderParams),
    responses((status = 201, body = CommandResponse), (status = 400, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody),
              (status = 409, body = super::error::ErrorBody), (status = 422, body = super::error::ErrorBody)))]
pub(super) async fn change_role(State(s): State<AppState>, req: Addressed<ChangeRoleRequest>) -> Created {
    let id = parse_id(&req.id)?;
    let r = &req.body;
    let build = async {
        // No organisation given: the one employing them on the effective date.
        let organisation = match &r.organisation {
            Some(o) => o.clone(),
            None => s.runner.organisation_on(id, r.effective_on).await?,
        };
        let command = ParticipantCommand::ChangeRole {
            effective_on: r.effective_on,
            role: s.runner.ladders().resolve(&organisation, &r.role).await?,
            organisation,
            team: r.team.clone(),
            post_id: r.post_id,
            basis: r.basis.unwrap_or(Basis::Permanent),
            fte: r.fte,
            kind: r.kind,
        };
        Ok(Command::Participant(id, command))
    };
    s.run_built(&req, build).await
}

/// Record that a participant left their organisation.
#[utoipa::path(post, path = "/api/v1/participants/{id}/leavings", request_body = LeavingRequest,
    tag = "participants", params(("id" = Uuid, Path), super::openapi::CommandHeaderParams),
    responses((status = 201, body = CommandResponse), (status = 400, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody),
              (status = 409, body = super::error::ErrorBody), (status = 422, body = super::error::ErrorBody)))]
pub(super) async fn record_leaving(State(s): State<AppState>, req: Addressed<LeavingRequest>) -> Created {
    let command = ParticipantCommand::RecordLeaving {
        effective_on: req.body.effective_on,
        reason: req.body.reason.clone(),
        destination: req.body.destination.clone(),
    };
    s.run_on(&req, |id| Command::Participant(id, command)).await
}

/// Record that a participant who left has rejoined (any organisation).
#[utoipa::path(post, path = "/api/v1/participants/{id}/rejoinings", request_body = RejoiningRequest,
    tag = "participants", params(("id" = Uuid, Path), super::openapi::CommandHeaderParams),
    responses((status = 201, body = CommandResponse), (status = 400, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody),
              (status = 409, body = super::error::ErrorBody), (status = 422, body = super::error::ErrorBody)))]
pub(super) async fn record_rejoining(State(s): State<AppState>, req: Addressed<RejoiningRequest>) -> Created {
    let id = parse_id(&req.id)?;
    let r = &req.body;
    let build = async {
        let command = ParticipantCommand::RecordRejoining {
            effective_on: r.effective_on,
            organisation: r.organisation.clone(),
            team: r.team.clone(),
            role: s.runner.ladders().resolve(&r.organisation, &r.role).await?,
            post_id: r.post_id,
            basis: r.basis.unwrap_or(Basis::Permanent),
            fte: r.fte.unwrap_or(1.0),
            kind: r.kind,
        };
        Ok(Command::Participant(id, command))
    };
    s.run_built(&req, build).await
}

/// Exclude a participant from analysis (e.g. left to work abroad).
#[utoipa::path(post, path = "/api/v1/participants/{id}/exclusions", request_body = ExclusionRequest,
    tag = "participants", params(("id" = Uuid, Path), super::openapi::CommandHeaderParams),
    responses((status = 201, body = CommandResponse), (status = 400, body = super::error::ErrorBody), (status = 409, body = super::error::ErrorBody), (status = 422, body = super::error::ErrorBody)))]
pub(super) async fn exclude(State(s): State<AppState>, req: Addressed<ExclusionRequest>) -> Created {
    let exclude = |effective_on, reason| ParticipantCommand::ExcludeFromAnalysis { effective_on, reason };
    run_exclusion(&s, &req, exclude).await
}

/// Lift an exclusion from analysis.
#[utoipa::path(post, path = "/api/v1/participants/{id}/exclusion-lifts", request_body = ExclusionRequest,
    tag = "participants", params(("id" = Uuid, Path), super::openapi::CommandHeaderParams),
    responses((status = 201, body = CommandResponse), (status = 400, body = super::error::ErrorBody), (status = 409, body = super::error::ErrorBody), (status = 422, body = super::error::ErrorBody)))]
pub(super) async fn lift_exclusion(State(s): State<AppState>, req: Addressed<ExclusionRequest>) -> Created {
    run_exclusion(&s, &req, |effective_on, reason| ParticipantCommand::LiftExclusion {
        effective_on,
        reason,
    })
    .await
}

/// Runs an exclusion or its lifting, made by `command` from the body's date and reason.
async fn run_exclusion(
    s: &AppState,
    req: &Addressed<ExclusionRequest>,
    command: impl FnOnce(NaiveDate, String) -> ParticipantCommand,
) -> Created {
    let command = command(req.body.effective_on, req.body.reason.clone());
    s.run_on(req, |id| Command::Participant(id, command)).await
}

/// Retract one of the participant's events; the original stays in history.
#[utoipa::path(post, operation_id = "retract_participant_event",
    path = "/api/v1/participants/{id}/retractions", request_body = RetractionRequest,
    tag = "participants", params(("id" = Uuid, Path), super::openapi::CommandHeaderParams),
    responses((status = 201, body = CommandResponse), (status = 400, body = super::error::ErrorBody), (status = 409, body = super::error::ErrorBody), (status = 422, body = super::error::ErrorBody)))]
pub(super) async fn retract(State(s): State<AppState>, req: Addressed<RetractionRequest>) -> Created {
    let (sequence, reason) = (req.body.sequence, req.body.reason.clone());
    let command = ParticipantCommand::Retract { sequence, reason };
    s.run_on(&req, |id| Command::Participant(id, command)).await
}

/// A participant's current state (from its event stream), its role's level
/// by the ladder in force now (docs/metrics.md decision 14); with
/// `known_at`, as known at that moment: only the events recorded by then,
/// judged with the ladders as known then.
#[utoipa::path(get, operation_id = "participant_state",
    path = "/api/v1/participants/{id}", tag = "participants", params(("id" = Uuid, Path), super::KnownAtQuery),
    responses((status = 200, body = Object), (status = 400, body = super::error::ErrorBody),
        (status = 404, body = super::error::ErrorBody), (status = 422, body = super::error::ErrorBody)))]
pub(super) async fn current_state(
    State(s): State<AppState>,
    Path(id): Path<String>,
    query: Result<Query<super::KnownAtQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<aggregates::participant::ParticipantView>, ApiError> {
    let known_at = super::known_at_of(query)?.moment(&s).await?;
    let levels = match known_at {
        None => s.runner.ladders().levels_now().await?,
        Some(at) => projections::ladder_edits::ladders_known_at(s.store().pool(), Some(at))
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?,
    };
    let view = |p: &Participant| p.clone().judged_with(levels.clone()).view();
    super::aggregate_view(&s, "participant", &id, known_at, view).await
}

/// `?external_ref=` for `GET /participants`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ExternalRefQuery {
    pub external_ref: String,
}

/// Where a participant is found by its external reference.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub(super) struct ParticipantRef {
    pub participant_id: Uuid,
    pub external_ref: String,
}

/// Find a participant by external reference.
#[utoipa::path(get, path = "/api/v1/participants", tag = "participants", params(ExternalRefQuery),
    responses((status = 200, body = ParticipantRef), (status = 404, body = super::error::ErrorBody)))]
pub(super) async fn find_by_external_ref(
    State(s): State<AppState>,
    query: Result<Query<ExternalRefQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<ParticipantRef>, ApiError> {
    let Query(q) = query
        .map_err(|_| ApiError::bad_request("missing_field", "external_ref", "give ?external_ref=<your reference>"))?;
    let id = s
        .store()
        .participant_by_external_ref(&q.external_ref)
        .await?
        .ok_or_else(|| ApiError::NotFound {
            code: "not_found",
            message: format!("no participant with external reference {:?}", q.external_ref),
        })?;
    Ok(Json(ParticipantRef {
        participant_id: id,
        external_ref: q.external_ref,
    }))
}
