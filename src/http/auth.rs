//! Authentication, media type and authorisation of every request
//! (docs/design.md "Authentication and roles").
//!
//! Two middlewares, because what a request asks for is known only once the
//! router has matched its route:
//!
//! - [`authenticate`], around the whole router: every request but
//!   `/healthz` must carry `Authorization: Bearer <token>` naming a token
//!   that is not revoked (401 otherwise, with `WWW-Authenticate: Bearer`);
//!   the [`Caller`] is put in the request's extensions, where commands read
//!   their `recorded_by`. A browser reading the board's page may send the
//!   token in a cookie instead (`board_session`), and is sent to the
//!   sign-in form when it has none. Then a request with a body must send it as JSON
//!   (a CSV upload to `/api/v1/imports` as `text/csv`), 415 otherwise, so
//!   that no web page can send one with a plain form or a "simple" fetch.
//! - [`authorize`], on the matched routes: the caller's role must be
//!   allowed what the request asks for ([`crate::auth::classify`]), 403
//!   otherwise; a route without a rule is refused to everyone.

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::board_session;
use super::error::ApiError;
use super::AppState;
use crate::auth::{classify, route_has_rules, Access, Caller};

/// Middleware: who sends the request (401 when nobody known), and whether
/// its body is JSON (415).
pub(super) async fn authenticate(State(s): State<AppState>, mut request: Request, next: Next) -> Response {
    // The health checks, and the sign-in form, which checks the token it is
    // given itself.
    if crate::auth::needs_no_token(request.method().as_str(), request.uri().path()) {
        return next.run(request).await;
    }
    let token = bearer_token(&request)
        .map(str::to_string)
        .or_else(|| board_session::cookie_token(&request));
    let Some(token) = token else {
        if board_session::browser_wants_board(&request) {
            return board_session::to_sign_in(&request);
        }
        return unauthenticated(
            "unauthenticated",
            "send a token as `Authorization: Bearer <token>` (`tenure token create` makes one)",
        );
    };
    let caller = match s.tokens.caller(&token).await {
        Ok(Some(caller)) => caller,
        Ok(None) if board_session::browser_wants_board(&request) => return board_session::to_sign_in(&request),
        Ok(None) => {
            return unauthenticated(
                "invalid_token",
                "the bearer token is unknown or revoked; ask an admin for a token (`tenure token create`)",
            )
        }
        Err(e) => return ApiError::from(e).into_response(),
    };
    if let Err(refusal) = check_media_type(&request) {
        return refusal.into_response();
    }
    request.extensions_mut().insert(caller);
    next.run(request).await
}

/// The token of `Authorization: Bearer <token>` (the scheme in any case),
/// if the request has one.
fn bearer_token(request: &Request) -> Option<&str> {
    request
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|token| !token.is_empty())
}

/// 401 with the JSON error body and `WWW-Authenticate: Bearer`.
fn unauthenticated(code: &'static str, message: &str) -> Response {
    let mut response = ApiError::Unauthorized {
        code,
        message: message.to_string(),
    }
    .into_response();
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

/// `Err` (415) when a request that may carry a body sends one, or says it
/// does, in anything but JSON; a facts file to `/api/v1/imports` is
/// `text/csv`. Neither is a type a web page can send without the browser
/// asking the server first (CORS), and tenure answers no such question.
fn check_media_type(request: &Request) -> Result<(), ApiError> {
    if !matches!(
        *request.method(),
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    ) {
        return Ok(());
    }
    let headers = request.headers();
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap_or("?").to_ascii_lowercase());
    let has_body = headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() != "0");
    let Some(content_type) = content_type else {
        return if has_body {
            Err(ApiError::UnsupportedMediaType {
                message: "a request body needs Content-Type: application/json".to_string(),
            })
        } else {
            Ok(())
        };
    };
    let essence = content_type.split(';').next().unwrap_or("").trim();
    let json = essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"));
    let csv_import = essence == "text/csv" && request.uri().path() == "/api/v1/imports";
    if json || csv_import {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType {
            message: format!(
                "send the body as application/json (a facts file to /api/v1/imports as text/csv), not {essence:?}"
            ),
        })
    }
}

/// Middleware on matched routes: 403 unless the caller's role may do what
/// the request asks.
pub(super) async fn authorize(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_default();
    let method = request.method().as_str();
    let access = classify(method, &route, request.uri().query());
    if matches!(access, Some(Access::Health | Access::SignIn)) {
        return next.run(request).await;
    }
    let Some(caller) = request.extensions().get::<Caller>() else {
        // Only the health checks pass `authenticate` without a caller.
        return ApiError::internal(format!("{method} {route} reached without a caller")).into_response();
    };
    match access {
        Some(access) if caller.role.may(access) => next.run(request).await,
        Some(access) => forbidden(format!("a {} token may not {}", caller.role, describe(access))),
        // The path takes other methods: the router answers 405.
        None if route_has_rules(&route) => next.run(request).await,
        None => forbidden(format!(
            "no access rule covers {method} {route}, so it is refused to every role"
        )),
    }
}

fn forbidden(message: String) -> Response {
    ApiError::Forbidden {
        code: "forbidden",
        message,
    }
    .into_response()
}

/// What `access` is, for a refusal's message.
fn describe(access: Access) -> &'static str {
    match access {
        Access::Health => "check health",
        Access::SignIn => "sign in to the board's page",
        Access::ApiDocument => "read the API's description",
        Access::Command => "record events (commands are for recorder and admin tokens)",
        Access::Import => "import facts files (imports are for recorder and admin tokens)",
        Access::ImportStatus => "list imports",
        Access::EntityState => "read the state of people, cohorts and posts",
        Access::EntityStateKnownAt => "ask what was known at a past moment (known_at is for auditor and admin tokens)",
        Access::Report => "read reports",
        Access::ReportKnownAt => "ask what was known at a past moment (known_at is for auditor and admin tokens)",
        Access::BoardView => "read board views",
        Access::History => "read histories (for auditor and admin tokens)",
        Access::AuditFeed => "read the audit feed (for auditor and admin tokens)",
        Access::AuditChain => "read or verify the hash chain (for auditor and admin tokens)",
        Access::LadderRead => "read ladders",
        Access::LadderReplace => "replace ladders (for admin tokens)",
        Access::ProjectionStatus => "read the projector's status",
        Access::Rebuild => "rebuild the read models (for admin tokens)",
    }
}

/// Adds the bearer scheme to the OpenAPI document: required by every
/// operation but the health checks, each of which may answer 401 and 403.
pub(super) struct BearerTokens;

impl utoipa::Modify for BearerTokens {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::Operation;
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .description(Some(
                "A token from `tenure token create --role ROLE --name NAME`; its name is recorded as the \
                 events' recorded_by (README.md \"Authentication\")",
            ))
            .build();
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme("bearer", SecurityScheme::Http(scheme));
        openapi.security = Some(vec![SecurityRequirement::new("bearer", Vec::<String>::new())]);
        let refusal = |description: &str| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("ErrorBody")))
                            .build(),
                    )
                    .build(),
            )
        };
        for (path, item) in openapi.paths.paths.iter_mut() {
            let operations: [&mut Option<Operation>; 5] = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                if path.starts_with("/healthz") {
                    // No token needed: an empty requirement.
                    operation.security = Some(vec![SecurityRequirement::default()]);
                    continue;
                }
                let responses = &mut operation.responses.responses;
                responses.insert("401".to_string(), refusal("no bearer token, or one unknown or revoked"));
                responses.insert("403".to_string(), refusal("the token's role may not do this"));
            }
        }
    }
}
