//! JSON bodies for the answers hyper gives on its own.
//!
//! A request line or header block hyper cannot parse never reaches axum:
//! hyper answers it itself with an empty `400`, `414 URI Too Long` (a URI
//! over 64 KiB) or `431 Request Header Fields Too Large`, and closes the
//! connection. Every other error of the API has a JSON body naming the
//! problem, so [`JsonParseErrors`] wraps the connection and, when hyper
//! writes one of those bodiless answers, writes the same status with a JSON
//! body instead. It recognises them by shape: a response head with status
//! 400, 414 or 431 and `content-length: 0`, written alone. tenure's own
//! handlers never answer a 4xx without a body, so nothing else matches.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::error::ErrorBody;

/// A connection whose bodiless parse-error answers get a JSON body.
#[derive(Debug)]
pub struct JsonParseErrors<IO> {
    inner: IO,
    /// A replacement answer being written, and how much of it is written.
    pending: Option<(Vec<u8>, usize)>,
}

impl<IO> JsonParseErrors<IO> {
    /// Wraps `inner`.
    pub fn new(inner: IO) -> Self {
        Self { inner, pending: None }
    }
}

impl<IO: AsyncWrite + Unpin> JsonParseErrors<IO> {
    /// Writes the rest of the replacement answer, if one is being written.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some((bytes, written)) = &mut self.pending {
            if *written == bytes.len() {
                self.pending = None;
                break;
            }
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &bytes[*written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *written += n;
        }
        Poll::Ready(Ok(()))
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for JsonParseErrors<IO> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for JsonParseErrors<IO> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if self.pending.is_none() {
            match replacement(buf) {
                Some(answer) => self.pending = Some((answer, 0)),
                None => return Pin::new(&mut self.inner).poll_write(cx, buf),
            }
        }
        // hyper calls again with the same bytes after `Pending`, so the
        // replacement is finished before hyper's bytes count as written.
        ready!(self.poll_pending(cx))?;
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The JSON answer to write instead of `written`, when `written` is one of
/// hyper's own bodiless parse-error answers.
fn replacement(written: &[u8]) -> Option<Vec<u8>> {
    let head = std::str::from_utf8(written).ok()?.strip_suffix("\r\n\r\n")?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?;
    let (status, code, field, message) = match status_line.get(..13)? {
        "HTTP/1.1 400 " | "HTTP/1.0 400 " => (
            "400 Bad Request",
            "malformed_request",
            None,
            "the request line or a header is not valid HTTP/1.1",
        ),
        "HTTP/1.1 414 " | "HTTP/1.0 414 " => (
            "414 URI Too Long",
            "uri_too_long",
            Some("uri"),
            "the request URI is longer than 65,534 bytes; send fewer or shorter query parameters",
        ),
        "HTTP/1.1 431 " | "HTTP/1.0 431 " => (
            "431 Request Header Fields Too Large",
            "headers_too_large",
            Some("headers"),
            "the request line and headers are larger than the server accepts",
        ),
        _ => return None,
    };
    let bodiless = lines.any(|line| line.eq_ignore_ascii_case("content-length: 0"));
    if !bodiless {
        return None;
    }
    let body = serde_json::to_string(&ErrorBody {
        error: code.to_string(),
        message: message.to_string(),
        field: field.map(str::to_string),
    })
    .ok()?;
    Some(
        format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

#[cfg(test)]
mod tests {
    use super::replacement;

    fn body_of(answer: &[u8]) -> serde_json::Value {
        let text = std::str::from_utf8(answer).unwrap();
        let (_, body) = text.split_once("\r\n\r\n").unwrap();
        serde_json::from_str(body).unwrap()
    }

    #[test]
    fn hypers_bodiless_uri_too_long_gets_a_json_body() {
        let hyper = b"HTTP/1.1 414 URI Too Long\r\ncontent-length: 0\r\ndate: Sun, 29 Nov 2026 14:00:00 GMT\r\n\r\n";
        let answer = replacement(hyper).unwrap();
        assert!(answer.starts_with(b"HTTP/1.1 414 URI Too Long\r\n"));
        let body = body_of(&answer);
        assert_eq!(body["error"], "uri_too_long");
        assert_eq!(body["field"], "uri");
    }

    #[test]
    fn too_large_headers_and_malformed_requests_are_named() {
        let large = replacement(b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n\r\n").unwrap();
        assert_eq!(body_of(&large)["error"], "headers_too_large");
        let malformed = replacement(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n").unwrap();
        assert_eq!(body_of(&malformed)["error"], "malformed_request");
    }

    #[test]
    fn answers_with_a_body_and_other_statuses_are_left_alone() {
        // tenure's own 400 carries its JSON body.
        let own = b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 57\r\n\r\n{\"error\":\"invalid_json\",\"message\":\"x\",\"field\":null}";
        assert!(replacement(own).is_none());
        assert!(replacement(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n").is_none());
        assert!(replacement(b"HTTP/1.1 414 URI Too Long\r\ncontent-length: 12\r\n\r\n").is_none());
        assert!(replacement(b"some body bytes").is_none());
    }
}
