//! The HTTP API: JSON under `/api/v1`, health at `/healthz`.
//!
//! [`app`] builds the router from an [`AppState`]; `main` serves it and the
//! integration tests drive the very same router.

mod audit;
mod auth;
mod board;
mod board_session;
mod cohorts;
pub mod error;
pub mod extract;
mod guard;
pub mod health;
mod history;
pub mod imports;
mod ladders;
mod openapi;
pub mod parse_errors;
mod participants;
mod posts;
mod reports;

pub use reports::{default_concurrent_reports, ReportGate, REPORT_QUEUE_WAIT};

use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::commands::{Command, CommandError, CommandOrigin, CommandRunner};
use crate::event_store::{CommitReceipt, EventStore, StreamReceipt};
use crate::ladders::LaddersError;
use error::ApiError;
use extract::{Addressed, CommandHeaders, CommandRequest};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// Decides and appends commands.
    pub runner: CommandRunner,
    /// Checks the requests' bearer tokens (src/http/auth.rs).
    pub tokens: crate::auth::tokens::TokenCheck,
    /// Admits reports and holds the pool they read through.
    pub reports: ReportGate,
}

impl AppState {
    /// The event store.
    pub fn store(&self) -> &EventStore {
        self.runner.store()
    }

    /// How a command request arrived, from its headers.
    fn origin(&self, headers: &CommandHeaders, fingerprint: &str) -> CommandOrigin {
        CommandOrigin {
            recorded_by: headers.recorded_by.clone(),
            source: headers.source.clone().unwrap_or_else(|| "api".to_string()),
            correlation_id: headers.request_id.clone(),
            idempotency: headers
                .idempotency_key
                .as_ref()
                .map(|k| (k.clone(), fingerprint.to_string())),
            expected_version: headers.expected_version,
        }
    }
}

/// The router of the whole API.
pub fn app(state: AppState) -> Router {
    use tower_http::{request_id, trace};
    let api = Router::new()
        .merge(participants::routes())
        .merge(cohorts::routes())
        .merge(posts::routes())
        .merge(ladders::routes())
        .merge(imports::routes())
        .merge(history::routes())
        .merge(reports::routes())
        .merge(audit::routes())
        .route("/openapi.json", get(openapi::document));
    Router::new()
        .nest("/api/v1", api)
        .merge(board::routes())
        .merge(board_session::routes())
        .merge(health::routes())
        .fallback(|| async {
            ApiError::NotFound {
                code: "no_such_endpoint",
                message: "no endpoint at this path; see /api/v1/openapi.json".to_string(),
            }
        })
        .method_not_allowed_fallback(|method: axum::http::Method| async move {
            ApiError::MethodNotAllowed {
                message: format!("{method} is not allowed at this path; see /api/v1/openapi.json"),
            }
        })
        // On matched routes only: what a request asks for depends on the
        // route it matched. Runs after `authenticate` below.
        .route_layer(axum::middleware::from_fn(auth::authorize))
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth::authenticate))
        .with_state(state)
        .layer(axum::middleware::from_fn(guard::refuse_unsafe_uri))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(panic_response))
        // Outside the panic catcher, so even a panic's answer names the request.
        .layer(request_id::PropagateRequestIdLayer::x_request_id())
        .layer(
            trace::TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_response(trace::DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        // Outermost: the id exists before the span that logs it is made.
        .layer(request_id::SetRequestIdLayer::x_request_id(request_id::MakeRequestUuid))
}

/// The span every log line of a request sits in. It is at INFO so that its
/// fields, the request id above all, show at the default log level; the id is
/// the client's `X-Request-Id` or the UUID the request-id layer made, and the
/// same one commands record as their correlation id.
fn request_span<B>(request: &axum::http::Request<B>) -> tracing::Span {
    let request_id = request
        .extensions()
        .get::<tower_http::request_id::RequestId>()
        .map(|id| String::from_utf8_lossy(id.header_value().as_bytes()).into_owned())
        .unwrap_or_default();
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        request_id = %request_id,
    )
}

/// A handler panicked: log it and answer like any internal error, so the
/// client gets the JSON error body and the server keeps serving.
fn panic_response(cause: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    use axum::response::IntoResponse;
    let detail = cause
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| cause.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "a handler panicked".to_string());
    ApiError::Internal(detail).into_response()
}

/// The answer to an accepted command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CommandResponse {
    /// The aggregate the request addressed (or created).
    pub aggregate_type: String,
    pub aggregate_id: String,
    /// Its version after the command: send it as `If-Match` next time.
    pub version: u64,
    /// The global position of the commit's last event; pass it as a report's
    /// `min_position` to read your own write.
    pub global_position: i64,
    /// The recorded time of the commit's events.
    pub recorded_at: DateTime<Utc>,
    /// Every stream the command wrote (a post filled with a role change, say).
    pub streams: Vec<StreamReceipt>,
}

impl From<CommitReceipt> for CommandResponse {
    fn from(r: CommitReceipt) -> Self {
        let first = r.streams.first().cloned().unwrap_or(StreamReceipt {
            aggregate_type: String::new(),
            aggregate_id: String::new(),
            version: 0,
        });
        CommandResponse {
            aggregate_type: first.aggregate_type,
            aggregate_id: first.aggregate_id,
            version: first.version,
            global_position: r.global_position,
            recorded_at: r.recorded_at,
            streams: r.streams,
        }
    }
}

/// `?known_at=` on an entity: its state as known at that moment.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct KnownAtQuery {
    /// The state folded only from the events recorded at or before this
    /// moment (RFC 3339, not in the future), as a report's `known_at`.
    pub known_at: Option<String>,
}

impl KnownAtQuery {
    /// The moment asked about, checked as a report's `known_at` is (400 when
    /// not a timestamp, 422 in the future), once every commit recorded by
    /// then is visible.
    async fn moment(&self, s: &AppState) -> Result<Option<DateTime<Utc>>, ApiError> {
        match &self.known_at {
            None => Ok(None),
            Some(text) => Ok(Some(crate::reports::settled_known_at(s.store().pool(), text).await?)),
        }
    }
}

/// The `known_at` query of an entity endpoint (400 when the query string
/// does not parse).
fn known_at_of(
    query: Result<axum::extract::Query<KnownAtQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<KnownAtQuery, ApiError> {
    query
        .map(|q| q.0)
        .map_err(|e| ApiError::bad_request("invalid_parameter", "known_at", e.body_text()))
}

/// The state of one aggregate (as known at `known_at`, when given), or 404
/// when it has no events (by then).
async fn aggregate_view<A, V>(
    s: &AppState,
    what: &'static str,
    id: &str,
    known_at: Option<DateTime<Utc>>,
    view: impl Fn(&A) -> Option<V>,
) -> Result<Json<V>, ApiError>
where
    A: cqrs_es::Aggregate,
{
    let id = participants::parse_id(id)?;
    let loaded = s.store().load_known_at::<A>(&id.to_string(), known_at).await?;
    view(&loaded.aggregate).map(Json).ok_or_else(|| match known_at {
        None => ApiError::not_found(what, id),
        Some(at) => ApiError::NotFound {
            code: "not_found",
            message: format!("no {what} with id {id} was known at {}", at.to_rfc3339()),
        },
    })
}

/// What a command handler answers: 201 with the commit's receipt.
type Created = Result<(StatusCode, Json<CommandResponse>), ApiError>;

impl AppState {
    /// Runs `command` for `request` and answers 201 with its receipt.
    async fn run<T>(&self, request: &CommandRequest<T>, command: Command) -> Created {
        self.run_built(request, async move { Ok(command) }).await
    }

    /// Runs the command `command` makes for the aggregate the request's path
    /// names (400 when its id is not a UUID).
    async fn run_on<T>(&self, request: &Addressed<T>, command: impl FnOnce(Uuid) -> Command) -> Created {
        let id = participants::parse_id(&request.id)?;
        self.run(request, command(id)).await
    }

    /// Like [`Self::run`] for a command that must read reference data (a
    /// ladder, say) to be built: `build` runs only when the request's
    /// idempotency key has no answer yet, so a retry gets the first answer.
    async fn run_built<T>(
        &self,
        request: &CommandRequest<T>,
        build: impl std::future::Future<Output = Result<Command, CommandError>>,
    ) -> Created {
        let origin = self.origin(&request.headers, &request.fingerprint);
        let receipt = self.runner.run_built(&origin, build).await?;
        Ok((StatusCode::CREATED, Json(receipt.into())))
    }
}

impl From<CommandError> for ApiError {
    fn from(e: CommandError) -> Self {
        match e {
            CommandError::Rule { code, message, field } => ApiError::Unprocessable { code, message, field },
            CommandError::NotFound { what, id } => ApiError::not_found(what, id),
            CommandError::Conflict(message) => ApiError::Conflict {
                code: "conflict",
                message,
                field: None,
            },
            CommandError::KeyReused(key) => ApiError::Unprocessable {
                code: "idempotency_key_reused".to_string(),
                message: format!("idempotency key {key:?} was already used for a different request"),
                field: Some("Idempotency-Key".to_string()),
            },
            CommandError::Repeated(refusal) if refusal.status == 404 => ApiError::NotFound {
                code: "not_found",
                message: refusal.message,
            },
            CommandError::Repeated(refusal) => ApiError::Unprocessable {
                code: refusal.error,
                message: refusal.message,
                field: refusal.field,
            },
            CommandError::Store(e) => e.into(),
        }
    }
}

impl From<LaddersError> for ApiError {
    fn from(e: LaddersError) -> Self {
        CommandError::from(e).into()
    }
}
