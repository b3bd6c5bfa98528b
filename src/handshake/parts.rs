//! An HTTP/1.1 upgrade request that another HTTP stack (hyper, axum, actix, a framework's
//! router) has already parsed: its method, target and headers go through the same checks as
//! the bytes [`ServerHandshake`](super::ServerHandshake) reads, and the answer comes back as
//! header pairs for that stack to write.

use alloc::string::String;
use alloc::vec::Vec;
use bytes::BytesMut;

use super::http::{is_safe_value, trim_ows, Header};
use super::{HandshakeConfig, HandshakeError, UpgradeRequest};
use crate::http_token::is_token;

/// What the request line and the blank line add to a head's size on the wire:
/// `SP`, `SP HTTP/1.1 CRLF` and `CRLF`.
const REQUEST_LINE_AND_END: usize = 1 + 11 + 2;

/// What a header line adds to its name and value on the wire: `: ` and `CRLF`.
const HEADER_LINE: usize = 4;

impl UpgradeRequest {
    /// Checks a request parsed by another HTTP/1.1 stack, by the same rules as
    /// [`ServerHandshake::receive`](super::ServerHandshake::receive): `GET`, an origin-form
    /// (`/chat?room=1`) or absolute-form target, no body, one `Host`, `Upgrade: websocket`,
    /// `Connection: upgrade`, `Sec-WebSocket-Version: 13`, a valid key, well-formed
    /// subprotocol and extension lists. `headers` are `(name, value)` pairs in the order
    /// received, as the stack hands them out (`&str` or bytes).
    ///
    /// The limits are the configuration's too: more than
    /// [`max_headers`](HandshakeConfig::max_headers) headers fail with `TooManyHeaders`, and
    /// a head that would be larger than [`max_head_bytes`](HandshakeConfig::max_head_bytes)
    /// written out as HTTP/1.1 (request line, header lines, blank line) with `HeadTooLarge`,
    /// both checked as the pairs are taken. A name that is not a token, a value with a
    /// control byte other than HTAB, or a target with a space or control byte is `Malformed`
    /// or `InvalidTarget`, as the byte parser would refuse them.
    ///
    /// The HTTP version is the stack's to check: pass HTTP/1.1 requests only (over HTTP/2
    /// and HTTP/3 a WebSocket is an extended CONNECT, see [`h2`](super::h2)). The stack also
    /// keeps any bytes that arrived after the head; give them to
    /// [`Connection::after_handshake`](crate::Connection::after_handshake).
    ///
    /// On `Err`, answer with [`error_parts`](super::error_parts). On `Ok`, inspect the request
    /// (`origin`, `subprotocols`, `target`, `headers`), then answer with
    /// [`accept_headers`](Self::accept_headers) or a response of your own.
    ///
    /// ```
    /// # #[cfg(feature = "deflate")] {
    /// use std::sync::Arc;
    /// use sansws::extensions::deflate::{DeflateConfig, PerMessageDeflate};
    /// use sansws::handshake::{error_parts, AcceptOptions, HandshakeConfig, UpgradeRequest};
    /// use sansws::{Config, Connection};
    ///
    /// let config = HandshakeConfig::default()
    ///     .extension(Arc::new(PerMessageDeflate::new(DeflateConfig::default())));
    /// // What the HTTP stack parsed (with the http crate: req.method().as_str(),
    /// // req.uri().to_string(), and req.headers().iter() mapped to (name, value.as_bytes())).
    /// let headers = [
    ///     ("host", "example.com"),
    ///     ("upgrade", "websocket"),
    ///     ("connection", "Upgrade"),
    ///     ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ///     ("sec-websocket-version", "13"),
    ///     ("sec-websocket-protocol", "chat, superchat"),
    ///     ("sec-websocket-extensions", "permessage-deflate; client_max_window_bits"),
    /// ];
    /// match UpgradeRequest::from_parts("GET", "/chat", headers, &config) {
    ///     Ok(request) => {
    ///         let wants_chat = request.subprotocols.iter().any(|p| p == "chat");
    ///         let mut options = AcceptOptions::new();
    ///         if wants_chat {
    ///             options = options.subprotocol("chat");
    ///         }
    ///         let accepted = request.accept_headers(options).unwrap();
    ///         // Answer 101 with accepted.headers through the stack, then, on its upgraded
    ///         // I/O (with any bytes it read past the head):
    ///         let conn = Connection::server(Config::default())
    ///             .after_handshake(accepted.negotiated, &[]);
    ///         assert_eq!(conn.subprotocol(), Some("chat"));
    ///         assert!(conn.extension().is_some());
    ///         # assert!(accepted.headers.contains(&(
    ///         #     "Sec-WebSocket-Accept".into(),
    ///         #     "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".into()
    ///         # )));
    ///     }
    ///     Err(error) => {
    ///         let answer = error_parts(&error);
    ///         // Answer answer.status with answer.headers and answer.body, then close.
    ///         # let _ = answer;
    ///         # unreachable!();
    ///     }
    /// }
    /// # }
    /// ```
    pub fn from_parts<N: AsRef<[u8]>, V: AsRef<[u8]>>(
        method: &str,
        target: &str,
        headers: impl IntoIterator<Item = (N, V)>,
        config: &HandshakeConfig,
    ) -> Result<Self, HandshakeError> {
        let head_too_large = HandshakeError::HeadTooLarge {
            limit: config.max_head_bytes,
        };
        let mut size = method
            .len()
            .saturating_add(target.len())
            .saturating_add(REQUEST_LINE_AND_END);
        if size > config.max_head_bytes {
            return Err(head_too_large);
        }
        if target.bytes().any(|b| b <= b' ' || b == 0x7f) {
            return Err(HandshakeError::InvalidTarget);
        }
        let mut own: Vec<Header> = Vec::new();
        for (name, value) in headers {
            let (name, value) = (name.as_ref(), value.as_ref());
            if own.len() >= config.max_headers {
                return Err(HandshakeError::TooManyHeaders {
                    limit: config.max_headers,
                });
            }
            size = size
                .saturating_add(name.len())
                .saturating_add(value.len())
                .saturating_add(HEADER_LINE);
            if size > config.max_head_bytes {
                return Err(head_too_large);
            }
            let name = core::str::from_utf8(name)
                .ok()
                .filter(|n| is_token(n))
                .ok_or(HandshakeError::Malformed("invalid header name"))?;
            if !is_safe_value(value) {
                return Err(HandshakeError::Malformed("invalid header value"));
            }
            own.push(Header {
                name: String::from(name),
                value: trim_ows(value).into(),
            });
        }
        Self::checked(method, target, own, BytesMut::new(), &config.extensions)
    }
}
