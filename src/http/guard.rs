//! Refusals that apply to every request before any handler runs.
//!
//! PostgreSQL text cannot hold a NUL character: one let into an event would
//! be stored (JSON escapes it) but could never be written to a read-model
//! column, stalling the projector for good. So NUL is refused at the door,
//! in the URI here and in JSON bodies by [`super::extract`]. Path segments
//! that are not UTF-8 once percent-decoded are refused here too, so that
//! axum's plain-text rejection never reaches a client.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;

/// Middleware: a 400 JSON error for a URI carrying NUL or invalid UTF-8.
pub(super) async fn refuse_unsafe_uri(request: Request, next: Next) -> Response {
    let uri = request.uri();
    let parts = [("path", uri.path()), ("query", uri.query().unwrap_or(""))];
    for (part, raw) in parts {
        if let Err(message) = check_text(&percent_decode(raw)) {
            return ApiError::bad_request("invalid_text", part, format!("the request {part} {message}"))
                .into_response();
        }
    }
    next.run(request).await
}

/// `Err` with the reason when `bytes` are not UTF-8 text free of NUL.
pub(super) fn check_text(bytes: &[u8]) -> Result<(), &'static str> {
    match std::str::from_utf8(bytes) {
        Err(_) => Err("is not valid UTF-8 once percent-decoded"),
        Ok(text) if text.contains('\0') => Err("contains a NUL character, which text cannot hold"),
        Ok(_) => Ok(()),
    }
}

/// Percent-decodes `raw` (a malformed escape is kept as it is).
fn percent_decode(raw: &str) -> Vec<u8> {
    percent_encoding::percent_decode_str(raw).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_and_invalid_utf8_are_refused_and_ordinary_escapes_pass() {
        assert_eq!(percent_decode("a%20b%2Cc"), b"a b,c");
        assert!(check_text(&percent_decode("Riverside%20Council")).is_ok());
        assert!(check_text(&percent_decode("x%00y")).is_err());
        assert!(check_text(&percent_decode("%FF")).is_err());
        // A malformed escape is left alone (the handler will judge it).
        assert_eq!(percent_decode("100%"), b"100%");
    }
}
