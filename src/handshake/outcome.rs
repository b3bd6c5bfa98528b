//! What a handshake produces, on either transport: the negotiated result handed to the
//! connection, and what a client learns from the server's answer.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use bytes::BytesMut;

use super::http::Header;
use crate::extensions::Extension;

/// What a successful handshake hands to the connection
/// ([`Connection::after_handshake`](crate::Connection::after_handshake)).
pub struct Negotiated {
    /// The subprotocol both sides agreed on, if any.
    pub subprotocol: Option<String>,
    /// The extension in force, if any. A connection runs at most one extension, so the
    /// handshake never negotiates more: a server accepts one offer, and a client fails a
    /// response that accepts several.
    pub extension: Option<Box<dyn Extension>>,
}

impl core::fmt::Debug for Negotiated {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Negotiated")
            .field("subprotocol", &self.subprotocol)
            .field("extension", &self.extension.as_ref().map(|e| e.name()))
            .finish()
    }
}

/// How a server answered a client's handshake.
#[derive(Debug)]
pub enum ClientOutcome {
    /// The server switched to WebSocket.
    Accepted(ClientAccepted),
    /// The server refused with another final status (a redirect, 401, 403, 404, ...).
    Refused(RefusedResponse),
}

/// An accepted handshake: run the connection with `negotiated`, feeding it `leftover` first.
#[derive(Debug)]
pub struct ClientAccepted {
    /// The subprotocol and extension in force.
    pub negotiated: Negotiated,
    /// The response headers (e.g. `Set-Cookie`); pseudo-headers are not included.
    pub headers: Vec<Header>,
    /// Bytes the server sent after its response (frames sent right away), untouched. Always
    /// empty over HTTP/2 and HTTP/3.
    pub leftover: BytesMut,
}

/// The server's final answer when it refused the upgrade. The body is not read:
/// `body_prefix` holds whatever arrived with the head; reading the rest (per
/// `Content-Length`) is up to the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedResponse {
    /// The status code.
    pub status: u16,
    /// The reason phrase (empty for HTTP/2 and HTTP/3).
    pub reason: String,
    /// The response headers (`Location`, `WWW-Authenticate`, ...).
    pub headers: Vec<Header>,
    /// The start of the body, as received with the head.
    pub body_prefix: BytesMut,
}
