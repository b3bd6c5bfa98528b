//! Client side of the HTTP/1.1 opening handshake (RFC 6455 §4.1): write the upgrade request,
//! then read the server's response from whatever chunks arrive and check it.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use bytes::BytesMut;

use super::accept::{accept_key, generate_key};
use super::http::{
    is_safe_value, list_contains, list_elements, own_headers, parse_error, trim_ows, HeadReader,
    HeadWriter, Header, HeaderList,
};
use super::negotiate::{check_answered_subprotocol, collect_offers, confirm_answers, parse_offers};
use super::{HandshakeConfig, HandshakeError, Negotiated};
use crate::entropy::Entropy;
use crate::extensions::header::is_token;
use crate::extensions::{format_extensions, ExtensionNegotiator};

/// What the client asks for. Extension offers come from the configuration's negotiators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRequest {
    /// The authority: host, and port when not the scheme's default (`Host`, `:authority`).
    pub host: String,
    /// The request target: path and query (`/chat?room=1`); an empty one means `/`.
    pub target: String,
    /// `Origin`, for clients that act on behalf of a web origin.
    pub origin: Option<String>,
    /// Subprotocols to offer, most preferred first (each a token).
    pub subprotocols: Vec<String>,
    /// Extra request headers (e.g. `Authorization`, `Cookie`): names are tokens, values have no
    /// control byte other than HTAB (surrounding spaces and tabs are trimmed).
    pub headers: Vec<(String, String)>,
}

impl ClientRequest {
    /// A request for `target` on `host`.
    pub fn new(host: impl Into<String>, target: impl Into<String>) -> Self {
        Self {
            host: host.into(),
            target: target.into(),
            origin: None,
            subprotocols: Vec::new(),
            headers: Vec::new(),
        }
    }

    /// Sets `Origin` (builder style).
    pub fn origin(mut self, origin: impl Into<String>) -> Self {
        self.origin = Some(origin.into());
        self
    }

    /// Offers a subprotocol (builder style).
    pub fn subprotocol(mut self, protocol: impl Into<String>) -> Self {
        self.subprotocols.push(protocol.into());
        self
    }

    /// Adds a request header (builder style).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub(crate) fn path(&self) -> &str {
        if self.target.is_empty() {
            "/"
        } else {
            &self.target
        }
    }
}

/// Headers the handshake writes itself; an application may not add them.
const RESERVED_REQUEST: &[&str] = &[
    "host",
    "upgrade",
    "connection",
    "origin",
    "sec-websocket-key",
    "sec-websocket-version",
    "sec-websocket-protocol",
    "sec-websocket-extensions",
    "content-length",
    "transfer-encoding",
];

/// The state a client keeps between sending its request and checking the answer; shared by
/// HTTP/1.1 and HTTP/2-3.
pub(crate) struct Expectations {
    pub(crate) subprotocols: Vec<String>,
    pub(crate) offered_extensions: Vec<String>,
    pub(crate) negotiators: Vec<Arc<dyn ExtensionNegotiator>>,
}

/// Client, both transports: checks the request and returns the WebSocket fields to send
/// (`Origin`, `Sec-WebSocket-Protocol`, `Sec-WebSocket-Extensions`, then the application's
/// headers), canonically cased, and what to expect of the answer.
pub(crate) fn request_fields(
    request: &ClientRequest,
    config: &HandshakeConfig,
) -> Result<(Vec<(String, String)>, Expectations), HandshakeError> {
    let path = request.path();
    if !path.bytes().all(|b| (0x21..0x7f).contains(&b)) {
        return Err(HandshakeError::InvalidHeader(String::from(":path")));
    }
    if request.host.is_empty() || !request.host.bytes().all(|b| (0x21..0x7f).contains(&b)) {
        return Err(HandshakeError::InvalidHeader(String::from("host")));
    }
    let mut fields = Vec::new();
    if let Some(origin) = &request.origin {
        if !is_safe_value(origin.as_bytes()) {
            return Err(HandshakeError::InvalidHeader(String::from("origin")));
        }
        fields.push((
            String::from("Origin"),
            String::from(origin.trim_matches([' ', '\t'])),
        ));
    }
    if !request.subprotocols.is_empty() {
        if !request.subprotocols.iter().all(|p| is_token(p)) {
            return Err(HandshakeError::InvalidSubprotocol);
        }
        fields.push((
            String::from("Sec-WebSocket-Protocol"),
            request.subprotocols.join(", "),
        ));
    }
    let (offers, offered_extensions) = collect_offers(&config.extensions)?;
    if !offers.is_empty() {
        fields.push((
            String::from("Sec-WebSocket-Extensions"),
            format_extensions(&offers),
        ));
    }
    for (name, value) in &request.headers {
        let reserved = RESERVED_REQUEST
            .iter()
            .any(|r| r.eq_ignore_ascii_case(name));
        if reserved || !is_token(name) || !is_safe_value(value.as_bytes()) {
            return Err(HandshakeError::InvalidHeader(name.clone()));
        }
        fields.push((name.clone(), String::from(value.trim_matches([' ', '\t']))));
    }
    let expect = Expectations {
        subprotocols: request.subprotocols.clone(),
        offered_extensions,
        negotiators: config.extensions.clone(),
    };
    Ok((fields, expect))
}

impl Expectations {
    /// Client, both transports: checks the answer's subprotocol and extensions.
    pub(crate) fn check(&self, headers: &[Header]) -> Result<Negotiated, HandshakeError> {
        let subprotocol = check_answered_subprotocol(
            &self.subprotocols,
            headers.values("sec-websocket-protocol"),
        )?;
        let answers = parse_offers(headers.values("sec-websocket-extensions"))?;
        let extensions = confirm_answers(&self.negotiators, &self.offered_extensions, &answers)?;
        Ok(Negotiated {
            subprotocol,
            extensions,
        })
    }
}

/// A client handshake in progress: created with the request bytes to send, then fed the
/// server's bytes with [`receive`](Self::receive).
pub struct ClientHandshake {
    expect: Expectations,
    accept: String,
    reader: HeadReader,
    max_headers: usize,
    done: bool,
}

/// How a server answered the handshake.
#[derive(Debug)]
pub enum ClientOutcome {
    /// The server switched to WebSocket.
    Accepted(ClientAccepted),
    /// The server answered with another final status (a redirect, 401, 403, 404, ...).
    Rejected(Rejected),
}

/// An accepted handshake: run the connection with `negotiated`, feeding it `leftover` first.
#[derive(Debug)]
pub struct ClientAccepted {
    /// The subprotocol and extensions in force.
    pub negotiated: Negotiated,
    /// The response headers (e.g. `Set-Cookie`); empty pseudo-headers are not included.
    pub headers: Vec<Header>,
    /// Bytes the server sent after its response (frames sent right away), untouched.
    pub leftover: BytesMut,
}

/// A final non-upgrade answer. The body is not read: `body_prefix` holds whatever arrived
/// with the head; reading the rest (per `Content-Length`) is up to the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// The status code.
    pub status: u16,
    /// The reason phrase (empty for HTTP/2 and HTTP/3).
    pub reason: String,
    /// The response headers (`Location`, `WWW-Authenticate`, ...).
    pub headers: Vec<Header>,
    /// The start of the body, as received with the head.
    pub body_prefix: BytesMut,
}

impl ClientHandshake {
    /// Starts a handshake: checks `request`, draws a fresh key from `entropy`, collects the
    /// negotiators' offers, and returns the state with the request bytes to send.
    pub fn new(
        request: &ClientRequest,
        config: &HandshakeConfig,
        entropy: &mut dyn Entropy,
    ) -> Result<(Self, Vec<u8>), HandshakeError> {
        let (fields, expect) = request_fields(request, config)?;
        let key = generate_key(entropy);
        let mut w = HeadWriter::request("GET", request.path());
        w.field("Host", request.host.as_bytes());
        w.field("Upgrade", b"websocket");
        w.field("Connection", b"Upgrade");
        w.field("Sec-WebSocket-Key", key.as_bytes());
        w.field("Sec-WebSocket-Version", b"13");
        for (name, value) in &fields {
            w.field(name, value.as_bytes());
        }
        let state = Self {
            expect,
            accept: accept_key(key.as_bytes()),
            reader: HeadReader::new(config.max_head_bytes),
            max_headers: config.max_headers,
            done: false,
        };
        Ok((state, w.finish(b"")))
    }

    /// Takes the next bytes from the server. Returns `Ok(None)` while the response head is
    /// incomplete, the outcome once it has ended, or why the answer is invalid. Interim
    /// `1xx` responses other than 101 (e.g. 103 Early Hints) are skipped, any number of them,
    /// in time linear in the input.
    pub fn receive(&mut self, data: &[u8]) -> Result<Option<ClientOutcome>, HandshakeError> {
        if self.done {
            return Err(HandshakeError::Finished);
        }
        let result = self.receive_inner(data);
        if !matches!(result, Ok(None)) {
            self.done = true;
        }
        result
    }

    /// Reads heads from `data` until the final one. Each interim head is dropped where it
    /// ends and the search goes on in the same slice: no byte is copied more than once, so
    /// any number of interim responses costs time and memory linear in the input.
    fn receive_inner(&mut self, data: &[u8]) -> Result<Option<ClientOutcome>, HandshakeError> {
        let mut input = data;
        loop {
            let Some((head, used)) = self.reader.push(input)? else {
                return Ok(None);
            };
            input = input.get(used..).unwrap_or(&[]);
            match self.parse(&head, input)? {
                Parsed::Interim => {}
                Parsed::Final(outcome) => return Ok(Some(outcome)),
            }
        }
    }

    /// Parses one complete head; `after` is what followed it in the current input.
    fn parse(&self, head: &[u8], after: &[u8]) -> Result<Parsed, HandshakeError> {
        let mut slots = vec![httparse::EMPTY_HEADER; self.max_headers];
        let mut res = httparse::Response::new(&mut slots);
        let len = match res.parse(head) {
            Ok(httparse::Status::Complete(len)) => len,
            Ok(httparse::Status::Partial) => {
                return Err(HandshakeError::Malformed("incomplete response head"))
            }
            Err(e) => return Err(parse_error(e, self.max_headers)),
        };
        // The head reader and httparse agree on where a head ends; should they ever not, the
        // bytes httparse left over come before the rest of the input.
        let unparsed = head.get(len..).unwrap_or(&[]);
        let status = res.code.unwrap_or_default();
        if status != 101 && (100..200).contains(&status) {
            if !unparsed.is_empty() {
                return Err(HandshakeError::Malformed("interim response head"));
            }
            return Ok(Parsed::Interim);
        }
        let mut rest = BytesMut::with_capacity(unparsed.len() + after.len());
        rest.extend_from_slice(unparsed);
        rest.extend_from_slice(after);
        let headers = own_headers(res.headers);
        if status != 101 {
            let reason = String::from(res.reason.unwrap_or_default());
            return Ok(Parsed::Final(ClientOutcome::Rejected(Rejected {
                status,
                reason,
                headers,
                body_prefix: rest,
            })));
        }
        if res.version != Some(1) {
            return Err(HandshakeError::HttpVersion);
        }
        // RFC 6455 §4.1: Upgrade must be a case-insensitive match for "websocket", not a
        // list containing it.
        let only_websocket = {
            let mut upgrade = list_elements(headers.values("upgrade"));
            upgrade
                .next()
                .is_some_and(|u| u.eq_ignore_ascii_case(b"websocket"))
                && upgrade.next().is_none()
        };
        if !only_websocket || headers.values("upgrade").any(|v| trim_ows(v).is_empty()) {
            return Err(HandshakeError::NotWebSocketUpgrade);
        }
        if !list_contains(headers.values("connection"), "upgrade") {
            return Err(HandshakeError::ConnectionNotUpgrade);
        }
        if headers.single("sec-websocket-accept").map(trim_ows) != Some(self.accept.as_bytes()) {
            return Err(HandshakeError::AcceptMismatch);
        }
        let negotiated = self.expect.check(&headers)?;
        Ok(Parsed::Final(ClientOutcome::Accepted(ClientAccepted {
            negotiated,
            headers,
            leftover: rest,
        })))
    }
}

enum Parsed {
    Interim,
    Final(ClientOutcome),
}

impl core::fmt::Debug for ClientHandshake {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ClientHandshake")
            .field("subprotocols", &self.expect.subprotocols)
            .field("offered_extensions", &self.expect.offered_extensions)
            .field("done", &self.done)
            .finish()
    }
}
