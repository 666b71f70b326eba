//! `GET /board` and `GET /board/{section}`: the board's page as HTML (see
//! [`crate::board`]). Bad parameters get the same JSON error bodies as the
//! report endpoints, naming the parameter.

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::error::ApiError;
use super::extract::decode;
use super::reports::once_each;
use super::AppState;
use crate::board::{self, PageQuery};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/board", get(whole_page))
        .route("/board/{section}", get(one_section))
}

/// The board's page: every section its parameters select.
#[utoipa::path(get, path = "/board", tag = "board", params(PageQuery),
    responses((status = 200, description = "The page (HTML), small numbers suppressed", content_type = "text/html"),
              (status = 400, description = "A parameter malformed", body = super::error::ErrorBody),
              (status = 422, description = "A name the store does not hold", body = super::error::ErrorBody)))]
pub(super) async fn whole_page(
    State(s): State<AppState>,
    Query(raw): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    page(&s, raw, None).await
}

/// One section of the board's page: `leavers`, `promotions`, `retention`,
/// `turnover` or `vacancies`.
#[utoipa::path(get, path = "/board/{section}", tag = "board",
    params(("section" = String, Path, description = "leavers, promotions, retention, turnover or vacancies"), PageQuery),
    responses((status = 200, description = "The section's page (HTML)", content_type = "text/html"),
              (status = 400, description = "A parameter malformed", body = super::error::ErrorBody),
              (status = 404, description = "No such section", body = super::error::ErrorBody)))]
pub(super) async fn one_section(
    State(s): State<AppState>,
    Path(section): Path<String>,
    Query(raw): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let Some(id) = board::section_ids().find(|id| *id == section) else {
        return Err(ApiError::NotFound {
            code: "no_such_section",
            message: format!(
                "no board section {section:?}; there are {}",
                board::section_ids().collect::<Vec<_>>().join(", ")
            ),
        });
    };
    page(&s, raw, Some(id)).await
}

async fn page(s: &AppState, raw: Vec<(String, String)>, only: Option<&str>) -> Result<Response, ApiError> {
    let query: PageQuery = decode(&serde_json::Value::Object(once_each(raw)?))?;
    let _slot = s.reports.admit().await?;
    let page = board::gather(&s.reports.source(), &query, only).await?;
    let page = board::with_head(page, s.store().pool()).await;
    let html = board::render(&page).map_err(|e| ApiError::Internal(format!("the board page's template: {e}")))?;
    Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response())
}
