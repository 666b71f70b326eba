//! Request extractors that fail with tenure's own error body.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::error::ApiError;

/// A JSON body decoded into `T`; malformed JSON and wrong types are a 400
/// naming the JSON path at fault. Also keeps a canonical form of the body
/// for idempotency fingerprints.
pub struct ApiJson<T> {
    pub value: T,
    /// Method, path and the body re-serialised with sorted keys: two requests
    /// with the same fingerprint ask for the same thing.
    pub fingerprint: String,
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let method: Method = req.method().clone();
        let path = req.uri().path().to_string();
        let is_json = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json") || v.contains("+json"));
        if !is_json {
            return Err(ApiError::bad_request(
                "unsupported_content_type",
                "Content-Type",
                "send the body as JSON with Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge {
                    message: format!("the body is larger than {MAX_BODY_BYTES} bytes"),
                }
            } else {
                ApiError::bad_request("unreadable_body", "body", e.body_text())
            }
        })?;
        let canonical: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| ApiError::bad_request("invalid_json", "body", format!("the body is not valid JSON: {e}")))?;
        refuse_duplicate_keys(&bytes)?;
        refuse_nul(&canonical, "")?;
        check_fields(&canonical, "", "")?;
        let value = decode(&canonical)?;
        Ok(ApiJson {
            value,
            fingerprint: format!("{method} {path} {canonical}"),
        })
    }
}

/// The largest request body accepted (axum's default limit, which
/// [`Bytes`] enforces); a larger one is 413 with the JSON error body.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// The longest free-text reason accepted, in characters.
pub const MAX_REASON_CHARS: usize = 2_000;
/// The longest other text (names, references, codes) accepted, in characters.
pub const MAX_TEXT_CHARS: usize = 200;

/// A 400 naming the first key given twice in one object: serde_json keeps
/// the last silently, so `{"fte":1,"fte":0.5}` would mean whatever the
/// reader guessed.
fn refuse_duplicate_keys(bytes: &[u8]) -> Result<(), ApiError> {
    use serde::de::Deserialize as _;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    match UniqueKeys::deserialize(&mut de) {
        Ok(UniqueKeys) => Ok(()),
        Err(e) => {
            let text = e.to_string();
            let key = text
                .strip_prefix(DUPLICATE)
                .and_then(|rest| rest.split('`').next())
                .unwrap_or("body")
                .to_string();
            Err(ApiError::bad_request(
                "duplicate_key",
                key.clone(),
                format!("{key}: given twice in one object; give each field once"),
            ))
        }
    }
}

const DUPLICATE: &str = "duplicate key `";

/// Any JSON value, accepted only when no object in it repeats a key.
struct UniqueKeys;

impl<'de> serde::Deserialize<'de> for UniqueKeys {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(UniqueKeysVisitor)
    }
}

struct UniqueKeysVisitor;

impl<'de> serde::de::Visitor<'de> for UniqueKeysVisitor {
    type Value = UniqueKeys;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_i64<E>(self, _: i64) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_u64<E>(self, _: u64) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_f64<E>(self, _: f64) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_str<E>(self, _: &str) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_unit<E>(self) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<UniqueKeys, A::Error> {
        while seq.next_element::<UniqueKeys>()?.is_some() {}
        Ok(UniqueKeys)
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<UniqueKeys, A::Error> {
        let mut seen = std::collections::HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                return Err(serde::de::Error::custom(format!("{DUPLICATE}{key}`")));
            }
            map.next_value::<UniqueKeys>()?;
        }
        Ok(UniqueKeys)
    }
}

/// A 400 naming the first field that breaks a rule every body keeps: a date
/// (a field named `*_on`) is exactly `YYYY-MM-DD`, an id (`*_id`) is not the
/// nil UUID, and text is at most [`MAX_TEXT_CHARS`] characters
/// ([`MAX_REASON_CHARS`] for a `reason`), so that a typo is not stored and
/// an over-long value never reaches an index.
fn check_fields(value: &serde_json::Value, path: &str, key: &str) -> Result<(), ApiError> {
    match value {
        serde_json::Value::String(text) => check_text(path_or_root(path), key, text),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, v)| check_fields(v, &format!("{path}[{i}]"), key)),
        serde_json::Value::Object(fields) => fields.iter().try_for_each(|(k, v)| {
            let field = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            check_fields(v, &field, k)
        }),
        _ => Ok(()),
    }
}

fn check_text(field: String, key: &str, text: &str) -> Result<(), ApiError> {
    let limit = if key == "reason" {
        MAX_REASON_CHARS
    } else {
        MAX_TEXT_CHARS
    };
    if text.chars().count() > limit {
        let message = format!("{field}: at most {limit} characters");
        return Err(ApiError::bad_request("text_too_long", field, message));
    }
    if key.ends_with("_on") && !is_iso_date(text) {
        let message = format!("{field}: a date is written YYYY-MM-DD, such as 2021-01-01");
        return Err(ApiError::bad_request("invalid_field", field, message));
    }
    if (key == "id" || key.ends_with("_id")) && text.parse::<Uuid>().is_ok_and(|id| id.is_nil()) {
        let message = format!("{field}: the nil UUID is not an id");
        return Err(ApiError::bad_request("invalid_field", field, message));
    }
    Ok(())
}

/// Exactly four digits, a hyphen, two digits, a hyphen, two digits (the
/// calendar check is the decoder's).
fn is_iso_date(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        })
}

/// A 400 naming the first string (key or value) holding a NUL character,
/// which PostgreSQL text cannot store (see [`super::guard`]).
fn refuse_nul(value: &serde_json::Value, path: &str) -> Result<(), ApiError> {
    let refuse = |field: String| {
        let message = format!("{field}: contains a NUL character, which text cannot hold");
        ApiError::bad_request("invalid_text", field, message)
    };
    match value {
        serde_json::Value::String(s) if s.contains('\0') => Err(refuse(path_or_root(path))),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, v)| refuse_nul(v, &format!("{path}[{i}]"))),
        serde_json::Value::Object(fields) => fields.iter().try_for_each(|(k, v)| {
            let field = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            if k.contains('\0') {
                return Err(refuse(field));
            }
            refuse_nul(v, &field)
        }),
        _ => Ok(()),
    }
}

fn path_or_root(path: &str) -> String {
    if path.is_empty() {
        ".".into()
    } else {
        path.into()
    }
}

/// Decodes a JSON value into `T`, naming the path of the first error.
pub fn decode<T: DeserializeOwned>(value: &serde_json::Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        // serde reports a missing field at its parent's path; name the field itself.
        let field = match inner.strip_prefix("missing field `").and_then(|r| r.split('`').next()) {
            Some(missing) if path == "." => missing.to_string(),
            Some(missing) => format!("{path}.{missing}"),
            None => path,
        };
        let code = if inner.starts_with("missing field") {
            "missing_field"
        } else {
            "invalid_field"
        };
        ApiError::BadRequest {
            code,
            message: format!("{field}: {inner}"),
            field: Some(field),
        }
    })
}

/// A command request: its headers, then its JSON body (decoded into `T`),
/// extracted in that order so a malformed header is reported first.
pub struct CommandRequest<T> {
    pub headers: CommandHeaders,
    pub body: T,
    /// See [`ApiJson::fingerprint`].
    pub fingerprint: String,
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for CommandRequest<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let headers = CommandHeaders::from_request_parts(&mut parts, state).await?;
        let json = ApiJson::<T>::from_request(Request::from_parts(parts, body), state).await?;
        Ok(CommandRequest {
            headers,
            body: json.value,
            fingerprint: json.fingerprint,
        })
    }
}

/// A command request to an existing aggregate: the raw `{id}` of its path,
/// then headers and body as [`CommandRequest`]. The id is parsed when the
/// command is run, after the body, so a malformed body is reported first.
pub struct Addressed<T> {
    pub id: String,
    pub request: CommandRequest<T>,
}

impl<T> std::ops::Deref for Addressed<T> {
    type Target = CommandRequest<T>;

    fn deref(&self) -> &CommandRequest<T> {
        &self.request
    }
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Addressed<T> {
    /// axum's own answer for an unreadable path, as before; ours otherwise.
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let Path(id) = Path::<String>::from_request_parts(&mut parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let request = CommandRequest::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(Addressed { id, request })
    }
}

/// What a command request says about itself in its headers.
#[derive(Debug, Clone, Default)]
pub struct CommandHeaders {
    /// `Idempotency-Key`: repeating a request with it returns the first answer.
    pub idempotency_key: Option<String>,
    /// `If-Match`: the aggregate version the client expects (409 otherwise).
    pub expected_version: Option<u64>,
    /// Who is recording: the name of the request's bearer token (see
    /// [`super::auth`]). An `X-Recorded-By` header is ignored: the author
    /// is never what the client claims.
    pub recorded_by: String,
    /// `X-Request-Id`: correlation id; the request-id layer (see
    /// [`super::app`]) has put a new UUID there when the client sent none.
    pub request_id: String,
    /// `X-Source`: where the fact comes from (defaults to `api`).
    pub source: Option<String>,
}

fn header(headers: &HeaderMap, name: &'static str) -> Result<Option<String>, ApiError> {
    match headers.get(name) {
        None => Ok(None),
        Some(v) => {
            let text = v
                .to_str()
                .map_err(|_| ApiError::bad_request("invalid_header", name, format!("{name} must be visible ASCII")))?
                .trim();
            if text.is_empty() || text.len() > 200 {
                return Err(ApiError::bad_request(
                    "invalid_header",
                    name,
                    format!("{name} must be 1 to 200 characters"),
                ));
            }
            Ok(Some(text.to_string()))
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CommandHeaders {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let recorded_by = parts
            .extensions
            .get::<crate::auth::Caller>()
            .map(|caller| caller.name.clone())
            .ok_or_else(|| ApiError::internal("a command reached its handler without an authenticated caller"))?;
        let h = &parts.headers;
        let expected_version = match header(h, "if-match")? {
            None => None,
            Some(v) => Some(v.trim_matches('"').parse::<u64>().map_err(|_| {
                ApiError::bad_request(
                    "invalid_header",
                    "If-Match",
                    "If-Match must be the aggregate version you expect, e.g. \"3\"",
                )
            })?),
        };
        Ok(CommandHeaders {
            idempotency_key: header(h, "idempotency-key")?,
            expected_version,
            recorded_by,
            request_id: header(h, "x-request-id")?.unwrap_or_else(|| Uuid::new_v4().to_string()),
            source: header(h, "x-source")?,
        })
    }
}
