//! Signing a browser in to the board's page: a board member pastes their
//! token into a form once, and the browser keeps it in a cookie that is sent
//! only to `/board…`, readable by no script (`HttpOnly`) and never sent from
//! another site (`SameSite=Strict`). The cookie is checked like a bearer
//! token on every request, so a revoked token stops working within seconds;
//! it is accepted on `GET /board…` only, where nothing can be changed, so a
//! forged request can at worst read a page its victim may read.

use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde::Deserialize;

use super::AppState;
use crate::auth::{Access, Caller};
use crate::board::escape;

/// The cookie's name.
pub(super) const COOKIE: &str = "tenure_board";
/// How long a browser stays signed in.
const SIGNED_IN_SECONDS: u32 = 12 * 60 * 60;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/board/sign-in", get(form).post(sign_in))
        .route("/board/sign-out", axum::routing::post(sign_out))
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct Next {
    next: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Credentials {
    token: String,
    next: Option<String>,
}

/// Where to go after signing in: a board page, never another site.
fn next_page(next: Option<&str>) -> String {
    match next {
        Some(n) if (n == "/board" || n.starts_with("/board/") || n.starts_with("/board?")) && !n.contains("//") => {
            n.to_string()
        }
        _ => "/board".to_string(),
    }
}

fn page(status: StatusCode, next: &str, problem: Option<&str>) -> Response {
    let problem = problem.map_or(String::new(), |p| {
        format!("<p class=\"problem\" role=\"alert\">{}</p>", escape(p))
    });
    let html = format!(
        r#"<!doctype html>
<html lang="en-GB"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in to the board's page</title>
<style>:root{{font:16px/1.45 system-ui,Arial,sans-serif;color:#1a1a1a;background:#fff}}body{{max-width:36rem;margin:2rem auto;padding:0 1rem}}
label{{display:block;font-weight:600;margin:.5rem 0 .25rem}}input{{font:inherit;width:100%;padding:.4rem;border:1px solid #595959}}
button{{font:inherit;margin-top:.75rem;padding:.4rem 1rem;background:#1f3b5c;color:#fff;border:0}}.problem{{color:#a4000f;font-weight:600}}</style>
</head><body><main>
<h1>Sign in to the board's page</h1>
{problem}
<form method="post" action="/board/sign-in">
<label for="token">Your tenure token</label>
<input id="token" name="token" type="password" autocomplete="off" required>
<input type="hidden" name="next" value="{next}">
<button type="submit">Sign in</button>
</form>
<p>Ask your tenure administrator for a token with the board role (<code>tenure token create --role board --name NAME</code>).
Your browser keeps it for 12 hours, for this page only.</p>
</main></body></html>"#,
        next = escape(next)
    );
    (status, Html(html)).into_response()
}

/// `GET /board/sign-in`: the form.
pub(super) async fn form(Query(q): Query<Next>) -> Response {
    page(StatusCode::OK, &next_page(q.next.as_deref()), None)
}

/// `POST /board/sign-in` (a form): checks the token, keeps it in the
/// cookie and goes back to the page asked for.
pub(super) async fn sign_in(State(s): State<AppState>, Form(c): Form<Credentials>) -> Response {
    let next = next_page(c.next.as_deref());
    let token = c.token.trim();
    match s.tokens.caller(token).await {
        Ok(Some(Caller { role, .. })) if role.may(Access::BoardView) => {
            let cookie =
                format!("{COOKIE}={token}; Path=/board; HttpOnly; SameSite=Strict; Max-Age={SIGNED_IN_SECONDS}");
            let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, next)]).into_response();
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                response.headers_mut().insert(header::SET_COOKIE, value);
            }
            response
        }
        Ok(Some(caller)) => page(
            StatusCode::FORBIDDEN,
            &next,
            Some(&format!("a {} token may not read the board's page", caller.role)),
        ),
        Ok(None) => page(
            StatusCode::UNAUTHORIZED,
            &next,
            Some("that token is unknown or revoked"),
        ),
        Err(e) => super::error::ApiError::from(e).into_response(),
    }
}

/// `POST /board/sign-out`: forgets the cookie.
pub(super) async fn sign_out() -> Response {
    let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, "/board/sign-in")]).into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("tenure_board=; Path=/board; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    response
}

/// The token a browser keeps for the board's page: the cookie, on a `GET`
/// (or `HEAD`) of a path under `/board` only.
pub(super) fn cookie_token(request: &axum::extract::Request) -> Option<String> {
    let path = request.uri().path();
    let board = path == "/board" || path.starts_with("/board/");
    if !board || !matches!(*request.method(), axum::http::Method::GET | axum::http::Method::HEAD) {
        return None;
    }
    request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == COOKIE && !value.is_empty())
        .map(|(_, value)| value.to_string())
}

/// Whether an unauthenticated request is a browser asking for the board's
/// page, which is sent to the sign-in form rather than given a 401.
pub(super) fn browser_wants_board(request: &axum::extract::Request) -> bool {
    let path = request.uri().path();
    let board = path == "/board" || path.starts_with("/board/");
    let html = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    board && html && *request.method() == axum::http::Method::GET
}

/// The redirect to the sign-in form, coming back to this page after.
pub(super) fn to_sign_in(request: &axum::extract::Request) -> Response {
    let here = request.uri().path_and_query().map_or("/board", |p| p.as_str());
    let next: String = url_encode(here);
    let mut response = (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, format!("/board/sign-in?next={next}"))],
    )
        .into_response();
    // A cookie that no longer works is dropped.
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("tenure_board=; Path=/board; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    response
}

/// Everything but letters, digits, `-_.~` and `/` escaped: a path and query
/// carried as one query value.
const NEXT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

fn url_encode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, NEXT).to_string()
}
