//! HTTP/1.1 responses that refuse a handshake: the application's rejection and the answer to a
//! handshake error, each with the headers RFC 9110 asks for next to its status.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::http::{push_decimal, HeadWriter};
use super::HandshakeError;

/// An HTTP/1.1 response refusing a handshake: the given headers, `Content-Length`,
/// `Connection: close` and the body.
///
/// `status` must refuse: 300-599 (a redirect, a client or a server error); anything else
/// fails with [`HandshakeError::InvalidStatus`]. The headers RFC 9110 requires with a status
/// are added when missing: `Upgrade: websocket` with 426 (§15.5.22) and `Allow: GET` with 405
/// (§15.5.6); with `Upgrade`, `Connection` becomes `Upgrade, close` (§7.8). Fails if a header
/// cannot be written safely (a name that is not a token, a control byte other than HTAB in a
/// value, or `Content-Length`, `Transfer-Encoding` or `Connection`, which are written here).
pub fn reject_response(
    status: u16,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<Vec<u8>, HandshakeError> {
    if !(300..600).contains(&status) {
        return Err(HandshakeError::InvalidStatus(status));
    }
    let mut w = HeadWriter::response(status);
    for (name, value) in headers {
        if ["content-length", "transfer-encoding", "connection"]
            .iter()
            .any(|r| r.eq_ignore_ascii_case(name))
        {
            return Err(HandshakeError::InvalidHeader((*name).into()));
        }
        w.checked_field(name, value.as_bytes())?;
    }
    let has = |wanted: &str| headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(wanted));
    if status == 426 && !has("upgrade") {
        w.field("Upgrade", b"websocket");
    }
    if status == 405 && !has("allow") {
        w.field("Allow", b"GET");
    }
    Ok(finish_error(w, status == 426 || has("upgrade"), body))
}

/// Ends an error response: its length, and `Connection: close` (`Upgrade, close` when the
/// response offers an upgrade: whoever sends `Upgrade` sends the `upgrade` option too).
fn finish_error(mut w: HeadWriter, upgrade: bool, body: &[u8]) -> Vec<u8> {
    let mut len = Vec::new();
    push_decimal(&mut len, body.len() as u64);
    w.field("Content-Length", &len);
    let connection: &[u8] = if upgrade { b"Upgrade, close" } else { b"close" };
    w.field("Connection", connection);
    w.finish(body)
}

/// The answer to a handshake error, for a host whose own HTTP stack writes responses: the
/// status per [`HandshakeError::status`], the headers RFC 6455 and RFC 9110 ask for with it
/// (`Upgrade: websocket` and `Sec-WebSocket-Version: 13` with 426, `Allow: GET` with 405),
/// `Content-Type`, `Connection` (`close`, or `Upgrade, close` when `Upgrade` is sent) and the
/// reason as a text body. The stack adds the body's length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorParts {
    /// The status code.
    pub status: u16,
    /// The headers, canonically cased, in order.
    pub headers: Vec<(String, String)>,
    /// The body: the error's text and a line end.
    pub body: String,
}

/// The answer to a handshake error as parts ([`ErrorParts`]); [`error_response`] writes the
/// same answer as HTTP/1.1 bytes.
pub fn error_parts(error: &HandshakeError) -> ErrorParts {
    let extra = error.response_headers();
    let mut headers: Vec<(String, String)> = extra
        .iter()
        .map(|(name, value)| (String::from(*name), String::from(*value)))
        .collect();
    headers.push((
        String::from("Content-Type"),
        String::from("text/plain; charset=utf-8"),
    ));
    let upgrade = extra.iter().any(|(n, _)| n.eq_ignore_ascii_case("upgrade"));
    let connection = if upgrade { "Upgrade, close" } else { "close" };
    headers.push((String::from("Connection"), String::from(connection)));
    let mut body = error.to_string();
    body.push('\n');
    ErrorParts {
        status: error.status(),
        headers,
        body,
    }
}

/// The response a server sends for a handshake error: the answer of [`error_parts`] (its
/// status; `Upgrade: websocket`, `Sec-WebSocket-Version: 13` and
/// `Connection: Upgrade, close` with 426; `Allow: GET` with 405; `Connection: close`
/// otherwise; the reason as a text body) with `Content-Length`, as HTTP/1.1 bytes.
pub fn error_response(error: &HandshakeError) -> Vec<u8> {
    let parts = error_parts(error);
    let mut w = HeadWriter::response(parts.status);
    for (name, value) in &parts.headers {
        w.field(name, value.as_bytes());
    }
    let mut len = Vec::new();
    push_decimal(&mut len, parts.body.len() as u64);
    w.field("Content-Length", &len);
    w.finish(parts.body.as_bytes())
}
