//! Server side of the HTTP/1.1 opening handshake (RFC 6455 §4.2): read the upgrade request
//! from whatever chunks arrive, check it, let the application decide, write the answer.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use bytes::BytesMut;

use super::accept::{accept_key, is_valid_key};
use super::http::{
    is_safe_value, list_contains, own_headers, parse_error, trim_ows, HeadReader, HeadWriter,
    Header, HeaderList,
};
use super::negotiate::{answer_offers, check_chosen_subprotocol, parse_offers, parse_subprotocols};
use super::{HandshakeConfig, HandshakeError, Negotiated};
use crate::extensions::header::is_token;
use crate::extensions::{format_extensions, ExtensionNegotiator, ExtensionOffer};

/// An incremental reader of one upgrade request.
///
/// Feed it bytes with [`receive`](Self::receive) until it yields the request or a rejection.
pub struct ServerHandshake {
    config: HandshakeConfig,
    reader: HeadReader,
    done: bool,
}

/// A request the server refuses, with the HTTP response to send before closing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
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

/// The application's decision to accept, with its choices.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Accept {
    /// The subprotocol to use; must be one the client offered.
    pub subprotocol: Option<String>,
    /// Extra response headers (e.g. `Set-Cookie`): names are tokens, values have no control
    /// byte other than HTAB (surrounding spaces and tabs are trimmed).
    pub headers: Vec<(String, String)>,
}

impl Accept {
    /// Accept with no subprotocol and no extra headers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Chooses a subprotocol (builder style).
    pub fn subprotocol(mut self, protocol: impl Into<String>) -> Self {
        self.subprotocol = Some(protocol.into());
        self
    }

    /// Adds a response header (builder style).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// An accepted HTTP/1.1 handshake: send `response`, then run the connection with
/// `negotiated`, feeding it `leftover` first.
#[derive(Debug)]
pub struct ServerAccepted {
    /// The `101 Switching Protocols` response to write.
    pub response: Vec<u8>,
    /// The subprotocol and extensions in force.
    pub negotiated: Negotiated,
    /// Bytes the client sent after the request's end (pipelined frames), untouched.
    pub leftover: BytesMut,
}

impl ServerHandshake {
    /// A reader for one request under `config`'s limits and extensions.
    pub fn new(config: HandshakeConfig) -> Self {
        let reader = HeadReader::new(config.max_head_bytes);
        Self {
            config,
            reader,
            done: false,
        }
    }

    /// Takes the next bytes from the client. Returns `Ok(None)` while the request is
    /// incomplete, the request once its head has ended, or the rejection to answer with.
    /// Never buffers more than [`HandshakeConfig::max_head_bytes`].
    pub fn receive(&mut self, data: &[u8]) -> Result<Option<UpgradeRequest>, Rejection> {
        if self.done {
            return Err(rejection(HandshakeError::Finished));
        }
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
        let method = req.method.unwrap_or_default();
        if method != "GET" {
            return Err(HandshakeError::Method);
        }
        if req.version != Some(1) {
            return Err(HandshakeError::HttpVersion);
        }
        let (authority, target) = split_target(req.path.unwrap_or_default())?;
        let headers = own_headers(req.headers);
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
            negotiators: self.config.extensions.clone(),
        })
    }
}

/// Splits a request target (RFC 9112 §3.2) into the authority, for absolute-form, and the path
/// and query. Origin-form (`/chat?x=1`) is kept as sent; absolute-form with a `ws`, `wss`,
/// `http` or `https` URI gives its authority (without userinfo, which is refused) and its path
/// and query (`/` for an empty path). Anything else (`*`, authority-form, a relative
/// reference) is refused.
fn split_target(target: &str) -> Result<(Option<&str>, String), HandshakeError> {
    if target.starts_with('/') {
        return Ok((None, target.into()));
    }
    let (scheme, rest) = target
        .split_once("://")
        .ok_or(HandshakeError::InvalidTarget)?;
    if !["ws", "wss", "http", "https"]
        .iter()
        .any(|s| s.eq_ignore_ascii_case(scheme))
    {
        return Err(HandshakeError::InvalidTarget);
    }
    let (authority, path) = rest.split_at(rest.find(['/', '?', '#']).unwrap_or(rest.len()));
    if !is_valid_authority(authority) || path.starts_with('#') {
        return Err(HandshakeError::InvalidTarget);
    }
    let path = if path.starts_with('/') {
        String::from(path)
    } else {
        let mut p = String::from("/");
        p.push_str(path);
        p
    };
    Ok((Some(authority), path))
}

/// A URI authority a WebSocket request may name: a non-empty host (a bracketed IP literal or
/// a name) and an optional numeric port; no userinfo (`user@`, RFC 9110 §4.2.4).
fn is_valid_authority(authority: &str) -> bool {
    if authority.contains('@') {
        return false;
    }
    let (host, port) = if authority.starts_with('[') {
        match authority.find(']') {
            Some(i) => authority.split_at(i + 1),
            None => return false,
        }
    } else {
        authority.split_at(authority.find(':').unwrap_or(authority.len()))
    };
    let host_ok = if host.starts_with('[') {
        host.len() > 2
    } else {
        !host.is_empty() && !host.contains(['[', ']'])
    };
    let port_ok = port.is_empty()
        || port
            .strip_prefix(':')
            .is_some_and(|digits| digits.bytes().all(|b| b.is_ascii_digit()));
    host_ok && port_ok
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

/// The fields both HTTP/1.1 and HTTP/2-3 requests carry the same way.
pub(crate) struct WebSocketFields {
    pub(crate) subprotocols: Vec<String>,
    pub(crate) extensions: Vec<ExtensionOffer>,
    pub(crate) origin: Option<String>,
}

/// Checks `Sec-WebSocket-Version` and parses `Sec-WebSocket-Protocol`,
/// `Sec-WebSocket-Extensions` and `Origin`.
pub(crate) fn websocket_fields(headers: &[Header]) -> Result<WebSocketFields, HandshakeError> {
    if headers.single("sec-websocket-version").map(trim_ows) != Some(b"13") {
        return Err(HandshakeError::UnsupportedVersion);
    }
    let origin = match headers.values("origin").count() {
        0 => None,
        1 => Some(
            headers
                .single("origin")
                .and_then(|o| core::str::from_utf8(o).ok())
                .ok_or(HandshakeError::Malformed("Origin is not UTF-8"))?
                .into(),
        ),
        _ => return Err(HandshakeError::Malformed("more than one Origin header")),
    };
    Ok(WebSocketFields {
        subprotocols: parse_subprotocols(headers.values("sec-websocket-protocol"))?,
        extensions: parse_offers(headers.values("sec-websocket-extensions"))?,
        origin,
    })
}

/// Headers the handshake writes itself; an application may not add them.
const RESERVED_RESPONSE: &[&str] = &[
    "upgrade",
    "connection",
    "sec-websocket-accept",
    "sec-websocket-protocol",
    "sec-websocket-extensions",
    "content-length",
    "transfer-encoding",
];

/// Server, both transports: the negotiated result and the answer fields (subprotocol,
/// extensions, then the application's headers, checked), canonically cased.
pub(crate) fn answer(
    negotiators: &[Arc<dyn ExtensionNegotiator>],
    offered_subprotocols: &[String],
    offers: &[ExtensionOffer],
    accept: Accept,
) -> Result<(Vec<(String, String)>, Negotiated), HandshakeError> {
    check_chosen_subprotocol(offered_subprotocols, accept.subprotocol.as_deref())?;
    for (name, value) in &accept.headers {
        let reserved = RESERVED_RESPONSE
            .iter()
            .any(|r| r.eq_ignore_ascii_case(name));
        if reserved || !is_token(name) || !is_safe_value(value.as_bytes()) {
            return Err(HandshakeError::InvalidHeader(name.clone()));
        }
    }
    let answered = answer_offers(negotiators, offers)?;
    let mut fields = Vec::new();
    if let Some(p) = &accept.subprotocol {
        fields.push((String::from("Sec-WebSocket-Protocol"), p.clone()));
    }
    let mut extensions = Vec::new();
    if let Some((answer, extension)) = answered {
        fields.push((
            String::from("Sec-WebSocket-Extensions"),
            format_extensions(core::slice::from_ref(&answer)),
        ));
        extensions.push(extension);
    }
    fields.extend(
        accept
            .headers
            .into_iter()
            .map(|(name, value)| (name, String::from(value.trim_matches([' ', '\t'])))),
    );
    Ok((
        fields,
        Negotiated {
            subprotocol: accept.subprotocol,
            extensions,
        },
    ))
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
    pub fn accept(self, accept: Accept) -> Result<ServerAccepted, HandshakeError> {
        let (fields, negotiated) = answer(
            &self.negotiators,
            &self.subprotocols,
            &self.extensions,
            accept,
        )?;
        let mut w = HeadWriter::response(101);
        w.field("Upgrade", b"websocket");
        w.field("Connection", b"Upgrade");
        w.field(
            "Sec-WebSocket-Accept",
            accept_key(self.key.as_bytes()).as_bytes(),
        );
        for (name, value) in &fields {
            w.field(name, value.as_bytes());
        }
        Ok(ServerAccepted {
            response: w.finish(b""),
            negotiated,
            leftover: self.leftover,
        })
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
    super::http::push_decimal(&mut len, body.len() as u64);
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

fn rejection(error: HandshakeError) -> Rejection {
    Rejection {
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
            .field("done", &self.done)
            .finish()
    }
}
