//! `/audit/*` and `/events`: tamper evidence and the audit feed for
//! auditors (docs/design.md "Tamper evidence", README "Audit").
//!
//! Every query parameter is checked: an unknown one, one given twice or a
//! value of the wrong form is 400 naming the parameter; a position no event
//! has is 422. A verification that finds tampering is still a 200 answer,
//! `ok: false` with the first event that does not match: the request
//! succeeded, the history did not. Verifying and the NDJSON export read
//! the whole history, so each takes one of the report slots (503
//! `overloaded` when none is free, as for reports).

use std::collections::BTreeMap;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use futures::StreamExt;

use super::error::ApiError;
use super::AppState;
use crate::audit::{feed, seal, verify, ChainPosition, FeedFilter, FeedPage, Head, Verification};

/// The media type of the NDJSON export.
const NDJSON: &str = "application/x-ndjson";
/// Events per page the NDJSON export reads at a time.
const EXPORT_PAGE: i64 = 1_000;
/// The longest the feed waits for commits held back behind a transaction
/// still running.
const SETTLE_WAIT: Duration = Duration::from_secs(1);
/// The longest `/audit/head` waits for the sealer to reach `min_position`.
const LONGEST_WAIT: Duration = Duration::from_secs(30);

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/audit/head", get(head))
        .route("/audit/verify", get(verify_chain))
        .route("/events", get(events))
}

/// The query string as one value per known parameter.
type Params = BTreeMap<String, String>;

fn params(pairs: Result<Query<Vec<(String, String)>>, QueryRejection>, known: &[&str]) -> Result<Params, ApiError> {
    let Query(pairs) = pairs.map_err(|e| ApiError::BadRequest {
        code: "invalid_parameter",
        message: e.body_text(),
        field: None,
    })?;
    let mut params = Params::new();
    for (name, value) in pairs {
        if !known.contains(&name.as_str()) {
            return Err(ApiError::bad_request(
                "unknown_parameter",
                name.clone(),
                format!(
                    "{name} is not a parameter of this endpoint; it takes {}",
                    known.join(", ")
                ),
            ));
        }
        if params.contains_key(&name) {
            return Err(ApiError::bad_request(
                "invalid_parameter",
                name.clone(),
                format!("{name} is given twice; give it once"),
            ));
        }
        params.insert(name, value);
    }
    Ok(params)
}

fn whole_number(params: &Params, field: &'static str) -> Result<Option<i64>, ApiError> {
    params
        .get(field)
        .map(|text| {
            text.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
                ApiError::bad_request(
                    "invalid_parameter",
                    field,
                    format!("{field} must be a whole number of 0 or more, not {text:?}"),
                )
            })
        })
        .transpose()
}

fn timestamp(params: &Params, field: &'static str) -> Result<Option<DateTime<Utc>>, ApiError> {
    params
        .get(field)
        .map(|text| {
            DateTime::parse_from_rfc3339(text)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| {
                    ApiError::bad_request(
                        "invalid_parameter",
                        field,
                        format!("{field} {text:?} is not an RFC 3339 timestamp such as 2021-02-01T09:00:00Z"),
                    )
                })
        })
        .transpose()
}

/// `?min_position=&wait_ms=` for `/audit/head`.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub(super) struct HeadParams {
    /// Wait until the event at this global position (a command's answer)
    /// is sealed, so the head covers it.
    min_position: Option<i64>,
    /// How long to wait for `min_position` (default 5000, at most 30000).
    wait_ms: Option<u64>,
}

/// The head of the chain: the last sealed event's position and hash. Print
/// both on a board paper; `/audit/verify?head=&position=` later proves the
/// history up to it unchanged.
#[utoipa::path(get, path = "/api/v1/audit/head", tag = "audit", params(HeadParams),
    responses((status = 200, body = Head), (status = 400, body = super::error::ErrorBody),
        (status = 503, body = super::error::ErrorBody)))]
pub(super) async fn head(
    State(s): State<AppState>,
    pairs: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Json<Head>, ApiError> {
    let params = params(pairs, &["min_position", "wait_ms"])?;
    let wait = whole_number(&params, "wait_ms")?.map_or(Duration::from_secs(5), |ms| {
        Duration::from_millis(ms.unsigned_abs()).min(LONGEST_WAIT)
    });
    let pool = s.store().pool();
    if let Some(position) = whole_number(&params, "min_position")? {
        if !verify::wait_until_sealed(pool, position, wait).await? {
            return Err(ApiError::Unavailable {
                code: "sealer_behind",
                message: format!(
                    "the event at global position {position} is not sealed yet (or was never recorded); \
                     retry, or wait longer with wait_ms"
                ),
            });
        }
    }
    Ok(Json(verify::head(pool).await?))
}

/// `?head=&position=` for `/audit/verify`.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub(super) struct VerifyParams {
    /// A head hash kept earlier (64 hex digits), to check it is on the chain.
    head: Option<String>,
    /// The global position that head was printed with.
    position: Option<i64>,
}

/// Recomputes the whole hash chain from the events; `ok: false` names the
/// first event that does not match its seal.
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit", params(VerifyParams),
    responses((status = 200, body = Verification), (status = 400, body = super::error::ErrorBody)))]
pub(super) async fn verify_chain(
    State(s): State<AppState>,
    pairs: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Json<Verification>, ApiError> {
    let params = params(pairs, &["head", "position"])?;
    let supplied = match (params.get("head"), whole_number(&params, "position")?) {
        (None, None) => None,
        (Some(hex), Some(position)) => {
            let hash = seal::from_hex(hex).ok_or_else(|| {
                ApiError::bad_request(
                    "invalid_parameter",
                    "head",
                    "head must be 64 hex digits, as /audit/head gave it",
                )
            })?;
            Some((position, hash))
        }
        (Some(_), None) => {
            return Err(missing(
                "position",
                "give the global position the head was printed with",
            ))
        }
        (None, Some(_)) => return Err(missing("head", "give the head hash printed with this position")),
    };
    // It reads the whole history: it takes a report slot, so a flood of
    // verifications is shed like a flood of reports.
    let _slot = s.reports.admit().await?;
    Ok(Json(verify::verify(s.store().pool(), supplied).await?))
}

fn missing(field: &'static str, message: &str) -> ApiError {
    ApiError::bad_request("missing_parameter", field, message.to_string())
}

/// The audit feed's parameters.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub(super) struct FeedParams {
    /// The last global position seen (0, the default: from the start).
    after: Option<i64>,
    /// Events per page: 1 to 1000, default 100 (JSON only; the NDJSON
    /// export is the whole trail).
    limit: Option<i64>,
    /// Only events recorded at or after this moment (RFC 3339).
    recorded_from: Option<String>,
    /// Only events recorded before this moment (RFC 3339).
    recorded_to: Option<String>,
    /// Only events with this `metadata.recorded_by`.
    recorded_by: Option<String>,
    /// Only events with this `metadata.source` (exactly).
    source: Option<String>,
    /// Only events with this `metadata.correlation_id`.
    correlation_id: Option<String>,
    /// `json` (a page) or `ndjson` (every matching event, one per line);
    /// `Accept: application/x-ndjson` asks for NDJSON too.
    format: Option<String>,
}

const FEED_PARAMETERS: [&str; 8] = [
    "after",
    "limit",
    "recorded_from",
    "recorded_to",
    "recorded_by",
    "source",
    "correlation_id",
    "format",
];

/// Every event in commit order, a page at a time (or all as NDJSON), each
/// with its metadata, both clocks and its seal.
#[utoipa::path(get, path = "/api/v1/events", tag = "audit", params(FeedParams),
    responses((status = 200, description = "A page of events (JSON), or every matching event, one JSON \
        object per line (NDJSON)", content((FeedPage = "application/json"),
            (crate::audit::FeedEvent = "application/x-ndjson"))),
        (status = 400, body = super::error::ErrorBody), (status = 422, body = super::error::ErrorBody)))]
pub(super) async fn events(
    State(s): State<AppState>,
    headers: HeaderMap,
    pairs: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let params = params(pairs, &FEED_PARAMETERS)?;
    let ndjson = match params.get("format").map(String::as_str) {
        Some("ndjson") => true,
        Some("json") => false,
        Some(other) => {
            return Err(ApiError::bad_request(
                "invalid_parameter",
                "format",
                format!("format {other:?} is not json or ndjson"),
            ))
        }
        None => headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains(NDJSON)),
    };
    let after = whole_number(&params, "after")?.unwrap_or(0);
    let limit = whole_number(&params, "limit")?.unwrap_or(feed::DEFAULT_LIMIT);
    if !(1..=feed::MAX_LIMIT).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_parameter",
            "limit",
            format!("limit must be 1 to {}, not {limit}", feed::MAX_LIMIT),
        ));
    }
    let filter = FeedFilter {
        recorded_from: timestamp(&params, "recorded_from")?,
        recorded_to: timestamp(&params, "recorded_to")?,
        recorded_by: params.get("recorded_by").cloned(),
        source: params.get("source").cloned(),
        correlation_id: params.get("correlation_id").cloned(),
    };
    let pool = s.store().pool().clone();
    // Every commit made before the request is listed (unless a long
    // transaction elsewhere holds the horizon back: then a short page).
    crate::audit::settle(&pool, SETTLE_WAIT).await?;
    let start = feed::resume_after(&pool, after).await?.ok_or_else(|| {
        ApiError::rule(
            "unknown_position",
            Some("after"),
            format!("no event has global position {after}; give 0 or a position the feed returned"),
        )
    })?;
    if !ndjson {
        return Ok(Json(feed::page(&pool, start, limit, &filter, None).await?).into_response());
    }
    // The export holds a report slot until its last line is sent.
    let slot = s.reports.admit().await?;
    let until = feed::committed_end(&pool).await?;
    let lines = export(pool, start, until, filter).map(move |page| {
        let _held = &slot;
        page
    });
    let mut response = Body::from_stream(lines).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(NDJSON));
    Ok(response)
}

/// The NDJSON export: a page at a time up to `until`, so that memory holds
/// one page however long the trail. A failure part-way ends the body with
/// an error (the client sees a broken transfer, never a short file that
/// looks whole).
fn export(
    pool: sqlx::PgPool,
    start: ChainPosition,
    until: ChainPosition,
    filter: FeedFilter,
) -> impl futures::Stream<Item = Result<Bytes, sqlx::Error>> {
    futures::stream::try_unfold(Some(start), move |after| {
        let (pool, filter) = (pool.clone(), filter.clone());
        async move {
            let Some(after) = after else { return Ok(None) };
            let page = feed::page(&pool, after, EXPORT_PAGE, &filter, Some(until)).await?;
            let next = page
                .events
                .last()
                .filter(|_| page.next_after.is_some())
                .map(|e| (e.event.transaction_id, e.event.global_position));
            let mut lines = Vec::new();
            for event in &page.events {
                serde_json::to_writer(&mut lines, event).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
                lines.push(b'\n');
            }
            Ok(Some((Bytes::from(lines), next)))
        }
    })
}
