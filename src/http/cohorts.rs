//! `/cohorts`: open, enrol, record completion or withdrawal, retract; read.

use aggregates::cohort::{Cohort, CohortCommand};
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
        .route("/cohorts", post(open))
        .route("/cohorts/{id}", get(current_state))
        .route("/cohorts/{id}/enrolments", post(enrol))
        .route("/cohorts/{id}/completions", post(record_completion))
        .route("/cohorts/{id}/withdrawals", post(record_withdrawal))
        .route("/cohorts/{id}/retractions", post(retract))
}

/// Body of `POST /cohorts`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct OpenCohortRequest {
    /// Optional: choose the id yourself.
    pub cohort_id: Option<Uuid>,
    /// The programme, e.g. `PLDP`.
    pub programme: String,
    /// The cohort's name, e.g. `cohort 1 (2017)`.
    pub name: String,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
}

/// Body of `POST /cohorts/{id}/enrolments`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct EnrolRequest {
    pub participant_id: Uuid,
    pub enrolled_on: NaiveDate,
}

/// Body of `POST /cohorts/{id}/completions`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CompletionRequest {
    pub participant_id: Uuid,
    pub completed_on: NaiveDate,
}

/// Body of `POST /cohorts/{id}/withdrawals`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct WithdrawalRequest {
    pub participant_id: Uuid,
    pub withdrawn_on: NaiveDate,
    pub reason: String,
}

/// Open a cohort of a programme.
#[utoipa::path(post, path = "/api/v1/cohorts", request_body = OpenCohortRequest, tag = "cohorts",
    params(super::openapi::CommandHeaderParams),
    responses((status = 201, body = CommandResponse), (status = 409, body = super::error::ErrorBody), (status = 400, body = super::error::ErrorBody),
              (status = 422, body = super::error::ErrorBody)))]
pub(super) async fn open(State(s): State<AppState>, req: CommandRequest<OpenCohortRequest>) -> Created {
    let r = &req.body;
    let cohort_id = r.cohort_id.unwrap_or_else(Uuid::new_v4);
    let command = CohortCommand::Open {
        cohort_id,
        programme: r.programme.clone(),
        name: r.name.clone(),
        starts_on: r.starts_on,
        ends_on: r.ends_on,
    };
    s.run(&req, Command::Cohort(cohort_id, command)).await
}

/// Enrol a participant employed on the enrolment date.
#[utoipa::path(post, path = "/api/v1/cohorts/{id}/enrolments", request_body = EnrolRequest, tag = "cohorts",
    params(("id" = Uuid, Path), super::openapi::CommandHeaderParams),
    responses((status = 201, body = CommandResponse), (status = 400, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody),
              (status = 409, body = super::error::ErrorBody), (status = 422, body = super::error::ErrorBody)))]
pub(super) async fn enrol(State(s): State<AppState>, req: Addressed<EnrolRequest>) -> Created {
    let (participant_id, enrolled_on) = (req.body.participant_id, req.body.enrolled_on);
    let command = CohortCommand::Enrol {
        participant_id,
        enrolled_on,
    };
    s.run_on(&req, |id| Command::Cohort(id, command)).await
}

/// Record that a member completed the programme.
#[utoipa::path(post, path = "/api/v1/cohorts/{id}/completions", request_body = CompletionRequest, tag = "cohorts",
    params(("id" = Uuid, Path), super::openapi::CommandHeaderParams),
    responses((status = 201, body = CommandResponse), (status = 400, body = super::error::ErrorBody), (status = 409, body = super::error::ErrorBody), (status = 422, body = super::error::ErrorBody)))]
pub(super) async fn record_completion(State(s): State<AppState>, req: Addressed<CompletionRequest>) -> Created {
    let (participant_id, completed_on) = (req.body.participant_id, req.body.completed_on);
    let command = CohortCommand::RecordCompletion {
        participant_id,
        completed_on,
    };
    s.run_on(&req, |id| Command::Cohort(id, command)).await
}

/// Record that a member withdrew from the programme.
#[utoipa::path(post, path = "/api/v1/cohorts/{id}/withdrawals", request_body = WithdrawalRequest, tag = "cohorts",
    params(("id" = Uuid, Path), super::openapi::CommandHeaderParams),
    responses((status = 201, body = CommandResponse), (status = 400, body = super::error::ErrorBody), (status = 409, body = super::error::ErrorBody), (status = 422, body = super::error::ErrorBody)))]
pub(super) async fn record_withdrawal(State(s): State<AppState>, req: Addressed<WithdrawalRequest>) -> Created {
    let r = &req.body;
    let command = CohortCommand::RecordWithdrawal {
        participant_id: r.participant_id,
        withdrawn_on: r.withdrawn_on,
        reason: r.reason.clone(),
    };
    s.run_on(&req, |id| Command::Cohort(id, command)).await
}

/// Retract one of the cohort's events.
#[utoipa::path(post, operation_id = "retract_cohort_event",
    path = "/api/v1/cohorts/{id}/retractions", request_body = RetractionRequest, tag = "cohorts",
    params(("id" = Uuid, Path), super::openapi::CommandHeaderParams),
    responses((status = 201, body = CommandResponse), (status = 400, body = super::error::ErrorBody), (status = 409, body = super::error::ErrorBody), (status = 422, body = super::error::ErrorBody)))]
pub(super) async fn retract(State(s): State<AppState>, req: Addressed<RetractionRequest>) -> Created {
    let (sequence, reason) = (req.body.sequence, req.body.reason.clone());
    s.run_on(&req, |id| {
        Command::Cohort(id, CohortCommand::Retract { sequence, reason })
    })
    .await
}

/// A cohort's current state: programme, dates, members.
#[utoipa::path(get, operation_id = "cohort_state",
    path = "/api/v1/cohorts/{id}", tag = "cohorts", params(("id" = Uuid, Path), super::KnownAtQuery),
    responses((status = 200, body = Object), (status = 400, body = super::error::ErrorBody),
        (status = 404, body = super::error::ErrorBody), (status = 422, body = super::error::ErrorBody)))]
pub(super) async fn current_state(
    State(s): State<AppState>,
    Path(id): Path<String>,
    query: Result<axum::extract::Query<super::KnownAtQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<aggregates::cohort::CohortView>, ApiError> {
    let known_at = super::known_at_of(query)?.moment(&s).await?;
    super::aggregate_view(&s, "cohort", &id, known_at, Cohort::view).await
}
