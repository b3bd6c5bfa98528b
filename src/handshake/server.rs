//! Server side of the HTTP/1.1 opening handshake (RFC 6455 §4.2): read the upgrade request
//! from whatever chunks arrive, check it, let the application decide, write the answer.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use bytes::BytesMut;

use super::accept::{accept_value, is_valid_key};
use super::http::{
    list_contains, own_headers, parse_error, trim_ows, HeadReader, HeadWriter, Header, HeaderList,
};
use super::negotiate::{answer, websocket_fields};
use super::options::AcceptOptions;
use super::outcome::Negotiated;
use super::response::{error_response, reject_response};
use super::target::split_target;
use super::{HandshakeConfig, HandshakeError};
use crate::extensions::{ExtensionNegotiator, ExtensionOffer};

/// An incremental reader of one upgrade request.
///
/// Feed it bytes with [`receive`](Self::receive) until it yields the request or a rejection.
pub struct ServerHandshake {
    config: HandshakeConfig,
    reader: HeadReader,
    /// Some byte of the request arrived.
    started: bool,
    done: bool,
}

/// A request the server refuses, with the HTTP response to send before closing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRejection {
    /// What was wrong.
    pub error: HandshakeError,
    /// The complete error response (status per [`HandshakeError::status`], reason as body).
    pub response: Vec<u8>,
}

/// A well-formed WebSocket upgrade request, for the application to accept or reject.
pub struct UpgradeRequest {
    /// The request method (always `GET` here).
    pub method: String,
    /// The request target: path and query, as sent (`/chat?room=1`). For an absolute-form
    /// target (`GET ws://example.com/chat HTTP/1.1`), the path and query of that URI, `/` when
    /// it has no path.
    pub target: String,
    /// Every header, in order.
    pub headers: Vec<Header>,
    /// The host the request is for: the `Host` header, or the authority of an absolute-form
    /// target, which takes precedence over `Host` (RFC 9112 §3.2.2).
    pub host: String,
    /// The `Origin` header, if sent (browsers always send it: check it against CSRF-style
    /// cross-site connections).
    pub origin: Option<String>,
    /// Subprotocols the client offered, in its order of preference.
    pub subprotocols: Vec<String>,
    /// Extensions the client offered, in order.
    pub extensions: Vec<ExtensionOffer>,
    key: String,
    leftover: BytesMut,
    negotiators: Vec<Arc<dyn ExtensionNegotiator>>,
}

/// An accepted HTTP/1.1 handshake: send `response`, then run the connection with
/// `negotiated`, feeding it `leftover` first
/// ([`Connection::after_handshake`](crate::Connection::after_handshake)).
#[derive(Debug)]
pub struct ServerAccepted {
    /// The `101 Switching Protocols` response to write.
    pub response: Vec<u8>,
    /// The subprotocol and extension in force.
    pub negotiated: Negotiated,
    /// Bytes the client sent after the request's end (pipelined frames), untouched.
    pub leftover: BytesMut,
}

/// An accepted handshake for a host that writes the response with its own HTTP stack
/// ([`UpgradeRequest::accept_headers`]): answer with status `101 Switching Protocols` and
/// `headers`, then run the connection over the upgraded I/O with `negotiated`
/// ([`Connection::after_handshake`](crate::Connection::after_handshake)).
#[derive(Debug)]
pub struct AcceptedHeaders {
    /// `Upgrade`, `Connection`, `Sec-WebSocket-Accept`, then the chosen subprotocol, the
    /// extension answer and the application's headers, in that order, canonically cased.
    pub headers: Vec<(String, String)>,
    /// The subprotocol and extension in force.
    pub negotiated: Negotiated,
}

impl ServerHandshake {
    /// A reader for one request under `config`'s limits and extensions.
    pub fn new(config: HandshakeConfig) -> Self {
        let reader = HeadReader::new(config.max_head_bytes);
        Self {
            config,
            reader,
            started: false,
            done: false,
        }
    }

    /// Whether any byte of the request has arrived (a transport that ends before one did was
    /// a bare connect-and-close, such as a health check, not a broken request).
    pub(crate) fn started(&self) -> bool {
        self.started
    }

    /// Takes the next bytes from the client. Returns `Ok(None)` while the request is
    /// incomplete, the request once its head has ended, or the rejection to answer with.
    /// Never buffers more than [`HandshakeConfig::max_head_bytes`].
    pub fn receive(&mut self, data: &[u8]) -> Result<Option<UpgradeRequest>, RequestRejection> {
        if self.done {
            return Err(rejection(HandshakeError::Finished));
        }
        self.started |= !data.is_empty();
        let result = match self.reader.push(data) {
            Ok(None) => return Ok(None),
            Ok(Some((head, used))) => {
                self.parse(&head, BytesMut::from(data.get(used..).unwrap_or(&[])))
            }
            Err(e) => Err(e),
        };
        self.done = true;
        result.map(Some).map_err(rejection)
    }

    fn parse(&self, head: &[u8], mut leftover: BytesMut) -> Result<UpgradeRequest, HandshakeError> {
        let mut slots = vec![httparse::EMPTY_HEADER; self.config.max_headers];
        let mut req = httparse::Request::new(&mut slots);
        let len = match req.parse(head) {
            Ok(httparse::Status::Complete(len)) => len,
            Ok(httparse::Status::Partial) => {
                return Err(HandshakeError::Malformed("incomplete request head"))
            }
            Err(e) => return Err(parse_error(e, self.config.max_headers)),
        };
        if let Some(extra) = head.get(len..).filter(|e| !e.is_empty()) {
            let mut all = BytesMut::from(extra);
            all.extend_from_slice(&leftover);
            leftover = all;
        }
        if req.version != Some(1) {
            return Err(HandshakeError::HttpVersion);
        }
        UpgradeRequest::checked(
            req.method.unwrap_or_default(),
            req.path.unwrap_or_default(),
            own_headers(req.headers),
            leftover,
            &self.config.extensions,
        )
    }
}

impl UpgradeRequest {
    /// The rules of RFC 6455 §4.2.1 for a request whose HTTP/1.1 framing was read already,
    /// here or by another HTTP stack ([`from_parts`](Self::from_parts)): `GET`, an origin- or
    /// absolute-form target, no body, one `Host`, `Upgrade: websocket`, `Connection: upgrade`,
    /// the WebSocket fields and a valid key.
    pub(crate) fn checked(
        method: &str,
        raw_target: &str,
        headers: Vec<Header>,
        leftover: BytesMut,
        negotiators: &[Arc<dyn ExtensionNegotiator>],
    ) -> Result<Self, HandshakeError> {
        if method != "GET" {
            return Err(HandshakeError::Method);
        }
        let (authority, target) = split_target(raw_target)?;
        check_no_body(&headers)?;
        let host_header = headers
            .single("host")
            .and_then(|h| core::str::from_utf8(h).ok())
            .ok_or(HandshakeError::Host)?;
        let host = authority.unwrap_or(host_header);
        if !list_contains(headers.values("upgrade"), "websocket") {
            return Err(HandshakeError::NotWebSocketUpgrade);
        }
        if !list_contains(headers.values("connection"), "upgrade") {
            return Err(HandshakeError::ConnectionNotUpgrade);
        }
        let fields = websocket_fields(&headers)?;
        let key = headers
            .single("sec-websocket-key")
            .map(trim_ows)
            .filter(|k| is_valid_key(k));
        let key = key
            .and_then(|k| core::str::from_utf8(k).ok())
            .ok_or(HandshakeError::InvalidKey)?;
        Ok(UpgradeRequest {
            method: method.into(),
            target,
            host: host.into(),
            key: key.into(),
            origin: fields.origin,
            subprotocols: fields.subprotocols,
            extensions: fields.extensions,
            headers,
            leftover,
            negotiators: negotiators.to_vec(),
        })
    }
}

/// An upgrade request carries no body (RFC 6455 §4.1 describes a GET without one): any
/// `Transfer-Encoding`, or a `Content-Length` that is not 0, is refused, so that body bytes
/// are never mistaken for frames.
fn check_no_body(headers: &[Header]) -> Result<(), HandshakeError> {
    if headers.values("transfer-encoding").next().is_some() {
        return Err(HandshakeError::RequestBody);
    }
    for value in headers.values("content-length") {
        for element in value.split(|&b| b == b',').map(trim_ows) {
            if element.is_empty() || element.iter().any(|&b| b != b'0') {
                return Err(HandshakeError::RequestBody);
            }
        }
    }
    Ok(())
}

impl UpgradeRequest {
    /// The `Sec-WebSocket-Key` as sent.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Bytes received after the request's end so far.
    pub fn leftover(&self) -> &[u8] {
        &self.leftover
    }

    /// The value of a header that appears exactly once (name case-insensitive).
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers.single(name)
    }

    /// Accepts: negotiates at most one extension with the configured negotiators (the first
    /// extension, in the client's order, that its negotiator accepts) and writes the
    /// `101 Switching Protocols` response. Fails (500) if the chosen subprotocol was not
    /// offered or an extra header cannot be written safely; answer that with
    /// [`error_response`].
    pub fn accept(self, accept: AcceptOptions) -> Result<ServerAccepted, HandshakeError> {
        let (headers, negotiated) = self.response_headers(accept)?;
        let mut w = HeadWriter::response(101);
        for (name, value) in &headers {
            w.field(name, value.as_bytes());
        }
        Ok(ServerAccepted {
            response: w.finish(b""),
            negotiated,
            leftover: self.leftover,
        })
    }

    /// Accepts like [`accept`](Self::accept), for a host whose own HTTP stack writes the
    /// response: the headers of the `101 Switching Protocols` answer as pairs instead of
    /// bytes. Fails as `accept` does; answer that with [`error_parts`](super::error_parts).
    pub fn accept_headers(self, accept: AcceptOptions) -> Result<AcceptedHeaders, HandshakeError> {
        let (headers, negotiated) = self.response_headers(accept)?;
        Ok(AcceptedHeaders {
            headers,
            negotiated,
        })
    }

    /// The headers of the 101 answer, canonically cased, and what they negotiate.
    fn response_headers(
        &self,
        accept: AcceptOptions,
    ) -> Result<(Vec<(String, String)>, Negotiated), HandshakeError> {
        let (fields, negotiated) = answer(
            &self.negotiators,
            &self.subprotocols,
            &self.extensions,
            accept,
        )?;
        let mut headers = Vec::with_capacity(fields.len() + 3);
        headers.push((String::from("Upgrade"), String::from("websocket")));
        headers.push((String::from("Connection"), String::from("Upgrade")));
        headers.push((
            String::from("Sec-WebSocket-Accept"),
            accept_value(self.key.as_bytes()),
        ));
        headers.extend(fields);
        Ok((headers, negotiated))
    }

    /// Rejects with `status` (e.g. 403 for a bad origin, 401 with `WWW-Authenticate`, a
    /// redirect with `Location`), extra headers and a body. Fails if the status is not
    /// 300-599 or a header cannot be written safely; see [`reject_response`].
    pub fn reject(
        &self,
        status: u16,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Vec<u8>, HandshakeError> {
        reject_response(status, headers, body)
    }
}

fn rejection(error: HandshakeError) -> RequestRejection {
    RequestRejection {
        response: error_response(&error),
        error,
    }
}

impl core::fmt::Debug for UpgradeRequest {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("UpgradeRequest")
            .field("target", &self.target)
            .field("host", &self.host)
            .field("origin", &self.origin)
            .field("subprotocols", &self.subprotocols)
            .field("extensions", &self.extensions)
            .field("headers", &self.headers.len())
            .field("leftover", &self.leftover.len())
            .finish()
    }
}

impl core::fmt::Debug for ServerHandshake {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ServerHandshake")
            .field("config", &self.config)
            .field("started", &self.started)
            .field("done", &self.done)
            .finish()
    }
}
