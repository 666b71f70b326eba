//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 document of every endpoint.
//!
//! Handlers declare their own path, parameters and answers; this module adds
//! what holds for every operation (the `X-Request-Id` that the request-id
//! layer reads and echoes) and names the headers commands read, so each
//! command's annotation says `params(CommandHeaderParams)` rather than
//! repeating five headers. tests/api/openapi.rs validates the served
//! document against the official OpenAPI 3.1 schema.

use axum::Json;
use utoipa::openapi::path::{Operation, Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{HeaderBuilder, RefOr, Required, Schema};
use utoipa::{Modify, OpenApi};

use super::auth::BearerTokens;
use super::{
    audit, board, cohorts, error, health, history, imports, ladders, participants, posts, reports, CommandResponse,
};

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
        imports::import,
        imports::list,
        reports::report,
        reports::status,
        reports::rebuild,
        audit::head,
        audit::verify_chain,
        audit::events,
        board::whole_page,
        board::one_section,
        health::healthz,
    ),
    components(schemas(CommandResponse, error::ErrorBody)),
    modifiers(&BearerTokens, &RequestIdEverywhere)
)]
pub(super) struct ApiDoc;

/// The headers every command reads (`extract::CommandHeaders`), each
/// optional; each is 1 to 200 visible ASCII characters, otherwise 400
/// `invalid_header`. Declared only, never built: the extractor reads the
/// request.
#[derive(utoipa::IntoParams)]
#[into_params(
    parameter_in = Header,
    names("Idempotency-Key", "If-Match", "X-Source")
)]
#[allow(dead_code)]
pub(super) struct CommandHeaderParams(
    /// Repeating a request with the same key returns the first answer and
    /// appends nothing; the same key with a different request is 422
    /// `idempotency_key_reused`.
    #[param(required = false, min_length = 1, max_length = 200)]
    String,
    /// The aggregate version you expect (`3` or `"3"`, from a command's
    /// answer or the current state): 409 if the stream has moved on.
    #[param(required = false, min_length = 1, max_length = 200)]
    String,
    /// Where the fact comes from, recorded with the events (`api` when absent).
    #[param(required = false, min_length = 1, max_length = 200)]
    String,
);

/// The headers a ladder replacement reads: it is versioned (and attributed
/// to the token's name), but keeps no idempotency key and no source.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header, names("If-Match"))]
#[allow(dead_code)]
pub(super) struct LadderHeaderParams(
    /// The ladder version you expect (0 for the default ladder): 409 if it
    /// has moved on.
    #[param(required = false, min_length = 1, max_length = 200)]
    String,
);

/// Adds `X-Request-Id` to every operation and every answer: the request-id
/// layer in front of the router takes the client's id (or makes a UUID),
/// logs it, records it as a command's correlation id and echoes it.
struct RequestIdEverywhere;

const REQUEST_ID: &str = "X-Request-Id";

impl Modify for RequestIdEverywhere {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let text = || -> RefOr<Schema> {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(200))
                .into()
        };
        let parameter: Parameter = ParameterBuilder::new()
            .name(REQUEST_ID)
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some(
                "Correlation id, logged and recorded with a command's events; a UUID is made when absent",
            ))
            .schema(Some(text()))
            .build();
        let header = HeaderBuilder::new()
            .schema(text())
            .description(Some("The request's X-Request-Id, or the UUID made for it"))
            .build();
        for item in openapi.paths.paths.values_mut() {
            item.parameters.get_or_insert_with(Vec::new).push(parameter.clone());
            let operations: [&mut Option<Operation>; 8] = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.options,
                &mut item.head,
                &mut item.patch,
                &mut item.trace,
            ];
            for operation in operations.into_iter().flatten() {
                for response in operation.responses.responses.values_mut() {
                    if let RefOr::T(response) = response {
                        response.headers.insert(REQUEST_ID.to_string(), header.clone());
                    }
                }
            }
        }
    }
}

/// The OpenAPI document.
pub(super) async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
