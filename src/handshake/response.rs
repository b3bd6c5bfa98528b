//! HTTP/1.1 responses that refuse a handshake: the application's rejection and the answer to a
//! handshake error, each with the headers RFC 9110 asks for next to its status.

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

/// The response a server sends for a handshake error: its status, the headers RFC 6455 and
/// RFC 9110 ask for (`Upgrade: websocket`, `Sec-WebSocket-Version: 13` and
/// `Connection: Upgrade, close` with 426; `Allow: GET` with 405), `Content-Length`,
/// `Connection: close` otherwise, and the reason as a text body.
pub fn error_response(error: &HandshakeError) -> Vec<u8> {
    use alloc::string::ToString;
    let mut w = HeadWriter::response(error.status());
    let extra = error.response_headers();
    for (name, value) in extra {
        w.field(name, value.as_bytes());
    }
    w.field("Content-Type", b"text/plain; charset=utf-8");
    let mut body = error.to_string();
    body.push('\n');
    let upgrade = extra.iter().any(|(n, _)| n.eq_ignore_ascii_case("upgrade"));
    finish_error(w, upgrade, body.as_bytes())
}
