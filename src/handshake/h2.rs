//! WebSockets over HTTP/2 and HTTP/3 (RFC 8441, RFC 9220): the extended CONNECT request and
//! its answer, as lists of `(name, value)` fields for whatever HTTP/2 or HTTP/3 stack carries
//! the stream. There is no key and no accept hash; the stream itself is the connection, so
//! there are never leftover bytes.
//!
//! The server must have advertised `SETTINGS_ENABLE_CONNECT_PROTOCOL` (that is the HTTP/2
//! or HTTP/3 stack's business). Subprotocol and extension rules are shared with HTTP/1.1.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use super::http::{Header, HeaderList};
use super::negotiate::{answer, request_fields, websocket_fields, Expectations};
use super::options::{AcceptOptions, ClientRequest};
use super::outcome::{ClientAccepted, ClientOutcome, Negotiated, RefusedResponse};
use super::{HandshakeConfig, HandshakeError};
use crate::extensions::{ExtensionNegotiator, ExtensionOffer};
use crate::http_token::is_token;

/// Header fields as sent on an HTTP/2 or HTTP/3 stream: lower-case names, pseudo-headers first.
pub type Fields = Vec<(String, String)>;

/// Fields no HTTP/2 or HTTP/3 message may carry (RFC 9113 §8.2.2), plus the two HTTP/1.1
/// handshake fields RFC 8441 §5 leaves out.
const FORBIDDEN: &[&str] = &[
    "connection",
    "upgrade",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "sec-websocket-key",
    "sec-websocket-accept",
];

/// A received pseudo-header: name and raw value.
type Pseudo = (String, Vec<u8>);

/// Checks a field name (RFC 9113 §8.2.1, RFC 9114 §4.2): a lower-case token; for a
/// pseudo-header, a colon and then one.
fn check_name(name: &str) -> Result<(), &'static str> {
    if name.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err("field names must be lower case");
    }
    if !is_token(name.strip_prefix(':').unwrap_or(name)) {
        return Err("field name is not a token");
    }
    Ok(())
}

/// Checks a field value (RFC 9113 §8.2.1): no CR, LF or NUL, and no whitespace at either end.
fn check_value(value: &[u8]) -> Result<(), &'static str> {
    if value.iter().any(|&b| matches!(b, b'\r' | b'\n' | 0)) {
        return Err("field value with CR, LF or NUL");
    }
    let edge = |b: Option<&u8>| matches!(b, Some(b' ' | b'\t'));
    if edge(value.first()) || edge(value.last()) {
        return Err("field value with leading or trailing whitespace");
    }
    Ok(())
}

/// Checks a regular (non-pseudo) field: name, value, no connection-specific field, and `te`
/// only as `trailers` (RFC 9113 §8.2.2).
fn check_regular(name: &str, value: &[u8]) -> Result<(), &'static str> {
    check_name(name)?;
    check_value(value)?;
    if name.starts_with(':') {
        return Err("pseudo-header after regular field");
    }
    if FORBIDDEN.contains(&name) {
        return Err("connection-specific or HTTP/1.1-only field");
    }
    if name == "te" && !value.eq_ignore_ascii_case(b"trailers") {
        return Err("te other than trailers");
    }
    Ok(())
}

/// Checks fields this side is about to send (already lower-cased) by the rules it holds the
/// peer to.
fn check_outgoing(fields: &[(String, String)]) -> Result<(), HandshakeError> {
    for (name, value) in fields.iter().filter(|(n, _)| !n.starts_with(':')) {
        check_regular(name, value.as_bytes())
            .map_err(|_| HandshakeError::InvalidHeader(name.clone()))?;
    }
    Ok(())
}

/// Splits received fields into pseudo-headers and regular headers, enforcing the rules both
/// sides share (RFC 9113 §8.2-8.3): lower-case token names, values without CR, LF, NUL or
/// surrounding whitespace, pseudo-headers first and once each, only `allowed` pseudo-headers,
/// no connection-specific fields, `te` only as `trailers`, at most `max_headers` regular
/// fields (checked as they come, so an endless list is never collected).
fn split_fields<N: AsRef<[u8]>, V: AsRef<[u8]>>(
    fields: impl IntoIterator<Item = (N, V)>,
    allowed: &[&str],
    max_headers: usize,
) -> Result<(Vec<Pseudo>, Vec<Header>), HandshakeError> {
    let mut pseudo: Vec<Pseudo> = Vec::new();
    let mut regular: Vec<Header> = Vec::new();
    for (name, value) in fields {
        let name = core::str::from_utf8(name.as_ref())
            .map_err(|_| HandshakeError::InvalidH2Header("non-UTF-8 name"))?;
        let value = value.as_ref();
        if name.starts_with(':') && regular.is_empty() {
            check_name(name).map_err(HandshakeError::InvalidH2Header)?;
            if !allowed.contains(&name) {
                return Err(HandshakeError::InvalidH2Header("unknown pseudo-header"));
            }
            if pseudo.iter().any(|(n, _)| n == name) {
                return Err(HandshakeError::InvalidH2Header("repeated pseudo-header"));
            }
            check_value(value).map_err(HandshakeError::InvalidH2Header)?;
            pseudo.push((name.into(), value.into()));
        } else {
            check_regular(name, value).map_err(HandshakeError::InvalidH2Header)?;
            if regular.len() >= max_headers {
                return Err(HandshakeError::TooManyHeaders { limit: max_headers });
            }
            regular.push(Header {
                name: name.into(),
                value: value.into(),
            });
        }
    }
    Ok((pseudo, regular))
}

fn pseudo<'a>(pseudo: &'a [Pseudo], name: &str) -> Option<&'a [u8]> {
    pseudo
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_slice())
}

fn pseudo_str(
    fields: &[Pseudo],
    name: &str,
    missing: &'static str,
) -> Result<String, HandshakeError> {
    pseudo(fields, name)
        .filter(|v| !v.is_empty())
        .and_then(|v| core::str::from_utf8(v).ok())
        .map(String::from)
        .ok_or(HandshakeError::InvalidH2Header(missing))
}

fn lower(fields: Vec<(String, String)>) -> impl Iterator<Item = (String, String)> {
    fields.into_iter().map(|(n, v)| (n.to_ascii_lowercase(), v))
}

// ---------------------------------------------------------------------------------------
// Client

/// A client's extended CONNECT in progress: pass each response header block the stream
/// receives to [`response`](Self::response) until it gives the outcome.
pub struct H2ClientHandshake {
    expect: Expectations,
    max_headers: usize,
    done: bool,
}

/// Starts an extended CONNECT: the fields to send (`:method CONNECT`, `:protocol websocket`,
/// `:scheme`, `:path`, `:authority`, `sec-websocket-version: 13`, then origin, subprotocols,
/// extension offers and the request's extra headers, lower-cased) and the state to check the
/// answer with. `scheme` is `https` or `http`.
pub fn client_request(
    request: &ClientRequest,
    scheme: &str,
    config: &HandshakeConfig,
) -> Result<(H2ClientHandshake, Fields), HandshakeError> {
    if !matches!(scheme, "https" | "http") {
        return Err(HandshakeError::InvalidHeader(String::from(":scheme")));
    }
    let (extra, expect) = request_fields(request, config)?;
    let mut fields: Fields = [
        (":method", "CONNECT"),
        (":protocol", "websocket"),
        (":scheme", scheme),
        (":path", request.path()),
        (":authority", &request.host),
        ("sec-websocket-version", "13"),
    ]
    .iter()
    .map(|(n, v)| (String::from(*n), String::from(*v)))
    .collect();
    fields.extend(lower(extra));
    check_outgoing(&fields)?;
    Ok((
        H2ClientHandshake {
            expect,
            max_headers: config.max_headers,
            done: false,
        },
        fields,
    ))
}

impl H2ClientHandshake {
    /// Checks one response header block from the server. An interim `1xx` block (e.g. 103
    /// Early Hints) is not the answer: it gives `Ok(None)` and the handshake waits for the
    /// next block. A 2xx is accepted once its subprotocol and extensions pass the same checks
    /// as over HTTP/1.1; any other final status is [`ClientOutcome::Refused`]. Every block
    /// must follow the field rules of RFC 9113 §8.2-8.3, and `:status` must be 100-599 (101
    /// does not exist in HTTP/2 and HTTP/3). Once an outcome or an error was returned, further
    /// calls fail with [`HandshakeError::Finished`].
    pub fn response<N: AsRef<[u8]>, V: AsRef<[u8]>>(
        &mut self,
        fields: impl IntoIterator<Item = (N, V)>,
    ) -> Result<Option<ClientOutcome>, HandshakeError> {
        if self.done {
            return Err(HandshakeError::Finished);
        }
        let result = self.check_response(fields);
        if !matches!(result, Ok(None)) {
            self.done = true;
        }
        result
    }

    fn check_response<N: AsRef<[u8]>, V: AsRef<[u8]>>(
        &self,
        fields: impl IntoIterator<Item = (N, V)>,
    ) -> Result<Option<ClientOutcome>, HandshakeError> {
        let (pseudo_fields, headers) = split_fields(fields, &[":status"], self.max_headers)?;
        let status = pseudo(&pseudo_fields, ":status")
            .filter(|s| s.len() == 3 && s.iter().all(u8::is_ascii_digit))
            .map(|s| s.iter().fold(0u16, |n, d| n * 10 + u16::from(d - b'0')))
            .filter(|s| (100..600).contains(s))
            .ok_or(HandshakeError::InvalidH2Header(
                "missing or malformed :status",
            ))?;
        if status == 101 {
            return Err(HandshakeError::InvalidH2Header(
                "101 does not exist in HTTP/2 and HTTP/3",
            ));
        }
        if status < 200 {
            return Ok(None);
        }
        if !(200..300).contains(&status) {
            let body_prefix = bytes::BytesMut::new();
            return Ok(Some(ClientOutcome::Refused(RefusedResponse {
                status,
                reason: String::new(),
                headers,
                body_prefix,
            })));
        }
        let negotiated = self.expect.check(&headers)?;
        Ok(Some(ClientOutcome::Accepted(ClientAccepted {
            negotiated,
            headers,
            leftover: bytes::BytesMut::new(),
        })))
    }
}

// ---------------------------------------------------------------------------------------
// Server

/// A valid extended CONNECT request, for the application to accept or reject.
pub struct H2UpgradeRequest {
    /// `:scheme`.
    pub scheme: String,
    /// `:authority` (plays the role of `Host`).
    pub authority: String,
    /// `:path`: path and query.
    pub path: String,
    /// The regular (non-pseudo) fields, in order.
    pub headers: Vec<Header>,
    /// `origin`, if sent.
    pub origin: Option<String>,
    /// Subprotocols offered, in the client's order of preference.
    pub subprotocols: Vec<String>,
    /// Extensions offered, in order.
    pub extensions: Vec<ExtensionOffer>,
    negotiators: Vec<Arc<dyn ExtensionNegotiator>>,
}

/// An accepted extended CONNECT: send `fields` (`:status 200` first), then run the
/// connection on the stream with `negotiated`.
#[derive(Debug)]
pub struct H2Accepted {
    /// The response fields.
    pub fields: Fields,
    /// The subprotocol and extension in force.
    pub negotiated: Negotiated,
}

/// Checks an extended CONNECT request (RFC 8441 §4-5, RFC 9220 §3): `:method CONNECT`,
/// `:protocol websocket`, `:scheme`, `:path` and `:authority` present,
/// `sec-websocket-version: 13`, no `sec-websocket-key`/`-accept` or connection-specific
/// fields, and the field rules of RFC 9113 §8.2-8.3 (lower-case token names; values without
/// CR, LF, NUL or surrounding whitespace; `te` only as `trailers`; a `host` field, if any,
/// naming the same authority as `:authority`). Errors map to a status through
/// [`error_fields`].
pub fn parse_request<N: AsRef<[u8]>, V: AsRef<[u8]>>(
    fields: impl IntoIterator<Item = (N, V)>,
    config: &HandshakeConfig,
) -> Result<H2UpgradeRequest, HandshakeError> {
    let (pseudo_fields, headers) = split_fields(
        fields,
        &[":method", ":protocol", ":scheme", ":path", ":authority"],
        config.max_headers,
    )?;
    if pseudo(&pseudo_fields, ":method") != Some(b"CONNECT") {
        return Err(HandshakeError::Method);
    }
    if !pseudo(&pseudo_fields, ":protocol").is_some_and(|p| p.eq_ignore_ascii_case(b"websocket")) {
        return Err(HandshakeError::InvalidH2Header(
            ":protocol must be websocket",
        ));
    }
    let scheme = pseudo_str(&pseudo_fields, ":scheme", "missing :scheme")?;
    let path = pseudo_str(&pseudo_fields, ":path", "missing :path")?;
    let authority = pseudo_str(&pseudo_fields, ":authority", "missing :authority")?;
    if headers
        .values("host")
        .any(|h| !h.eq_ignore_ascii_case(authority.as_bytes()))
    {
        return Err(HandshakeError::InvalidH2Header(
            "host differs from :authority",
        ));
    }
    let ws = websocket_fields(&headers)?;
    Ok(H2UpgradeRequest {
        scheme,
        authority,
        path,
        headers,
        origin: ws.origin,
        subprotocols: ws.subprotocols,
        extensions: ws.extensions,
        negotiators: config.extensions.clone(),
    })
}

impl H2UpgradeRequest {
    /// Accepts: negotiates extensions exactly as over HTTP/1.1 and returns `:status 200`
    /// with the chosen subprotocol, extension answers and extra headers (names lower-cased).
    pub fn accept(self, accept: AcceptOptions) -> Result<H2Accepted, HandshakeError> {
        let (extra, negotiated) = answer(
            &self.negotiators,
            &self.subprotocols,
            &self.extensions,
            accept,
        )?;
        let mut fields = Vec::with_capacity(extra.len() + 1);
        fields.push((String::from(":status"), String::from("200")));
        fields.extend(lower(extra));
        check_outgoing(&fields)?;
        Ok(H2Accepted { fields, negotiated })
    }
}

/// The answer to a refused extended CONNECT: `:status` per [`HandshakeError::status`] (400,
/// 405, 431 or 500), `allow: CONNECT` with 405, and `sec-websocket-version: 13` for a version
/// mismatch. The application may add a body.
///
/// A version mismatch is 400 here, not 426 as over HTTP/1.1: a 426 must carry `Upgrade`
/// (RFC 9110 §15.5.22), a field HTTP/2 and HTTP/3 forbid.
pub fn error_fields(error: &HandshakeError) -> Fields {
    let mut out = Vec::new();
    let code = match error.status() {
        426 => 400,
        other => other,
    };
    let mut status = String::new();
    let _ = core::fmt::Write::write_fmt(&mut status, format_args!("{code}"));
    out.push((String::from(":status"), status));
    match error {
        HandshakeError::UnsupportedVersion => {
            out.push((String::from("sec-websocket-version"), String::from("13")))
        }
        HandshakeError::Method => out.push((String::from("allow"), String::from("CONNECT"))),
        _ => {}
    }
    out
}

impl core::fmt::Debug for H2UpgradeRequest {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("H2UpgradeRequest")
            .field("scheme", &self.scheme)
            .field("authority", &self.authority)
            .field("path", &self.path)
            .field("origin", &self.origin)
            .field("subprotocols", &self.subprotocols)
            .field("extensions", &self.extensions)
            .finish()
    }
}

impl core::fmt::Debug for H2ClientHandshake {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("H2ClientHandshake")
            .field("subprotocols", &self.expect.subprotocols)
            .finish()
    }
}
