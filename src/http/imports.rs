//! `POST /api/v1/imports`: a facts file or census return as the request
//! body (`text/csv`), answered with the import's summary and every refused
//! row; `GET /api/v1/imports`: the imports recorded so far.
//!
//! The body is streamed to a temporary file as it arrives and read from
//! there, never held whole in memory, so a file may be far larger than a
//! command's 2 MiB (up to [`MAX_IMPORT_BYTES`]). An import may also take
//! longer than a command: the request timeout gives it
//! [`IMPORT_TIMEOUT`](super::health::IMPORT_TIMEOUT). If it is cut short,
//! whatever whole chunks of people were appended stay recorded: sending the
//! same file again records the rest (facts already recorded are skipped).

use std::path::PathBuf;

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, Router};
use futures::StreamExt;
use tokio::io::AsyncWriteExt;

use super::error::ApiError;
use super::extract::{CommandHeaders, MAX_TEXT_CHARS};
use super::AppState;
use crate::import::{
    import_file, past_imports, FactsFile, FileFormat, ImportError, ImportOptions, ImportSummary, PastImport,
};

/// The largest facts file accepted over HTTP: a national workforce's ten
/// years is a few hundred megabytes.
pub const MAX_IMPORT_BYTES: u64 = 1 << 30;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/imports", post(import).get(list))
}

/// Import a facts file or a census return (CSV; columns in README.md
/// "Importing an HR extract" and "Importing census returns"). `file_name`
/// names it in the events' `source` and the list of imports;
/// `dry_run=true` checks everything and records nothing; `format` is
/// `auto` (the header tells), `facts` or `census`. The
/// answer is 200 whether or not rows were refused: `errors` lists each,
/// with its line, column, person and rule, and `all_recorded` says whether
/// every row is recorded (now or by an earlier import).
#[utoipa::path(post, path = "/api/v1/imports", tag = "imports",
    request_body(content = String, content_type = "text/csv", description = "a facts file"),
    params(
        ("file_name" = Option<String>, Query, description = "the file's name, for the events' source (default: upload.csv)"),
        ("dry_run" = Option<bool>, Query, description = "check everything, record nothing"),
        ("format" = Option<String>, Query, description = "auto (default: a census return when the header names SWENo), facts or census"),
    ),
    responses((status = 200, body = ImportSummary), (status = 400, body = super::error::ErrorBody),
              (status = 413, body = super::error::ErrorBody), (status = 415, body = super::error::ErrorBody)))]
pub(super) async fn import(
    State(s): State<AppState>,
    headers: CommandHeaders,
    request_headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Body,
) -> Result<Json<ImportSummary>, ApiError> {
    let content_type = request_headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type.trim().to_ascii_lowercase().starts_with("text/csv") {
        return Err(ApiError::UnsupportedMediaType {
            message: format!("a facts file is sent as text/csv, not {content_type:?}"),
        });
    }
    let (file_name, dry_run, format) = parameters(query.as_deref().unwrap_or(""))?;
    let spooled = Spooled::new();
    spool(body, &spooled.0).await?;
    let options = ImportOptions {
        recorded_by: headers.recorded_by.clone(),
        dry_run,
        future_margin_days: s.runner.future_margin_days(),
    };
    let summary = import_file(
        s.store(),
        s.runner.ladders(),
        &file_name,
        FactsFile::Path(spooled.0.clone()),
        format,
        &options,
        &mut |_| {},
    )
    .await
    .map_err(|e| match e {
        ImportError::Store(e) => ApiError::from(e),
        ImportError::Database(e) => ApiError::from(e),
        // A conflict (the ladders replaced again and again), a database
        // outage in the commit: answered as a command's would be.
        ImportError::Append(e) => ApiError::from(crate::commands::CommandError::from(e)),
        ImportError::Ladders(e) => ApiError::from(e),
        ImportError::File(e) => ApiError::internal(e),
    })?;
    Ok(Json(summary))
}

/// The imports recorded, the latest first.
#[utoipa::path(get, path = "/api/v1/imports", tag = "imports",
    responses((status = 200, body = Vec<PastImport>)))]
pub(super) async fn list(State(s): State<AppState>) -> Result<Json<Vec<PastImport>>, ApiError> {
    Ok(Json(past_imports(s.store().pool()).await?))
}

/// `file_name`, `dry_run` and `format`, and nothing else.
fn parameters(query: &str) -> Result<(String, bool, FileFormat), ApiError> {
    let mut file_name = None;
    let mut dry_run = None;
    let mut format = None;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_decode(value)
            .ok_or_else(|| ApiError::bad_request("invalid_parameter", key, format!("{key}: not valid UTF-8")))?;
        let slot = match key {
            "file_name" => &mut file_name,
            "dry_run" => &mut dry_run,
            "format" => &mut format,
            other => {
                return Err(ApiError::bad_request(
                    "unsupported_parameter",
                    other,
                    format!("{other} is not a parameter of an import; use file_name, dry_run and format"),
                ))
            }
        };
        if slot.replace(value).is_some() {
            return Err(ApiError::bad_request(
                "repeated_parameter",
                key,
                format!("{key} is given twice"),
            ));
        }
    }
    let file_name = file_name.unwrap_or_else(|| "upload.csv".to_string());
    if file_name.trim().is_empty() || file_name.chars().count() > MAX_TEXT_CHARS {
        return Err(ApiError::bad_request(
            "invalid_parameter",
            "file_name",
            format!("file_name: 1 to {MAX_TEXT_CHARS} characters"),
        ));
    }
    let dry_run = match dry_run.as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(ApiError::bad_request(
                "invalid_parameter",
                "dry_run",
                format!("dry_run is true or false, not {other:?}"),
            ))
        }
    };
    let format = match format.as_deref() {
        None | Some("auto") => FileFormat::Auto,
        Some("facts") => FileFormat::Facts,
        Some("census") => FileFormat::Census,
        Some(other) => {
            return Err(ApiError::bad_request(
                "invalid_parameter",
                "format",
                format!("format is auto, facts or census, not {other:?}"),
            ))
        }
    };
    Ok((file_name, dry_run, format))
}

/// `%XX` and `+` decoded; `None` when the result is not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let spaced = text.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .ok()
        .map(|t| t.into_owned())
}

/// A temporary file holding an upload, removed when dropped.
struct Spooled(PathBuf);

impl Spooled {
    fn new() -> Self {
        Spooled(std::env::temp_dir().join(format!("tenure-import-{}.csv", uuid::Uuid::new_v4().simple())))
    }
}

impl Drop for Spooled {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Writes `body` to `path` as it arrives; 413 past [`MAX_IMPORT_BYTES`].
async fn spool(body: Body, path: &std::path::Path) -> Result<(), ApiError> {
    let mut file = tokio::fs::File::create(path).await.map_err(ApiError::internal)?;
    let mut stream = body.into_data_stream();
    let mut written: u64 = 0;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::bad_request("unreadable_body", "body", format!("the body could not be read: {e}"))
        })?;
        written += chunk.len() as u64;
        if written > MAX_IMPORT_BYTES {
            return Err(ApiError::PayloadTooLarge {
                message: format!("a facts file may be at most {MAX_IMPORT_BYTES} bytes"),
            });
        }
        file.write_all(&chunk).await.map_err(ApiError::internal)?;
    }
    file.flush().await.map_err(ApiError::internal)
}
