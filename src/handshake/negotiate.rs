//! What HTTP/1.1 and HTTP/2-3 handshakes share: the WebSocket fields of a request, the
//! subprotocol and extension negotiation on both sides, and the fields of a client's request
//! and a server's answer. One function per side and concern, so both transports apply exactly
//! the same rules; the transport modules only read and write their own framing.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use super::http::{is_safe_value, token_list, trim_ows, Header, HeaderList};
use super::options::{AcceptOptions, ClientRequest};
use super::outcome::Negotiated;
use super::{HandshakeConfig, HandshakeError};
use crate::extensions::{
    check_offer, format_extensions, parse_extension_headers, Extension, ExtensionNegotiator,
    ExtensionOffer,
};
use crate::http_token::is_token;

/// Both sides: the subprotocols listed in `Sec-WebSocket-Protocol` headers, in order.
pub(crate) fn parse_subprotocols<'a>(
    values: impl Iterator<Item = &'a [u8]>,
) -> Result<Vec<String>, HandshakeError> {
    token_list(values).ok_or(HandshakeError::InvalidSubprotocol)
}

/// Both sides: the extension offers or answers in `Sec-WebSocket-Extensions` headers.
pub(crate) fn parse_offers<'a>(
    values: impl Iterator<Item = &'a [u8]>,
) -> Result<Vec<ExtensionOffer>, HandshakeError> {
    parse_extension_headers(values).map_err(HandshakeError::InvalidExtensions)
}

/// Server: the application's choice must be one of the client's offers (exact match).
pub(crate) fn check_chosen_subprotocol(
    offered: &[String],
    chosen: Option<&str>,
) -> Result<(), HandshakeError> {
    match chosen {
        Some(p) if !offered.iter().any(|o| o == p) => {
            Err(HandshakeError::SubprotocolNotOffered(p.into()))
        }
        _ => Ok(()),
    }
}

/// Client: the server may name at most one subprotocol, and only one that was offered.
pub(crate) fn check_answered_subprotocol<'a>(
    offered: &[String],
    values: impl Iterator<Item = &'a [u8]>,
) -> Result<Option<String>, HandshakeError> {
    let answered = parse_subprotocols(values)?;
    match answered.as_slice() {
        [] => Ok(None),
        [p] if offered.iter().any(|o| o == p) => Ok(Some(p.clone())),
        [p] => Err(HandshakeError::UnrequestedSubprotocol(p.clone())),
        _ => Err(HandshakeError::InvalidSubprotocol),
    }
}

/// Client: the offers of every configured negotiator, in configuration order, and the names
/// of the extensions that offered something (only those may be answered).
pub(crate) fn collect_offers(
    negotiators: &[Arc<dyn ExtensionNegotiator>],
) -> Result<(Vec<ExtensionOffer>, Vec<String>), HandshakeError> {
    let mut offers = Vec::new();
    let mut names = Vec::new();
    for n in negotiators {
        let mine = n.offers();
        for o in &mine {
            check_offer(o).map_err(HandshakeError::InvalidNegotiatorOutput)?;
        }
        if !mine.is_empty() {
            names.push(String::from(n.name()));
        }
        offers.extend(mine);
    }
    Ok((offers, names))
}

/// A server's extension answer and the extension it activates, if one was accepted.
pub(crate) type Answered = Option<(ExtensionOffer, Box<dyn Extension>)>;

/// Server: answers the client's offers with at most one extension, since a connection runs
/// one. Extensions are tried in the client's order (the order of their first offer): the
/// first configured negotiator with that name (case-insensitive) sees all the offers carrying
/// its name, in the client's order, and may accept one. The first acceptance wins and every
/// other extension is declined; negotiators of later extensions are not asked.
pub(crate) fn answer_offers(
    negotiators: &[Arc<dyn ExtensionNegotiator>],
    offers: &[ExtensionOffer],
) -> Result<Answered, HandshakeError> {
    for (i, offer) in offers.iter().enumerate() {
        let name = &offer.name;
        let seen_before = offers
            .iter()
            .take(i)
            .any(|o| o.name.eq_ignore_ascii_case(name));
        if seen_before {
            continue;
        }
        let Some(n) = negotiators
            .iter()
            .find(|n| n.name().eq_ignore_ascii_case(name))
        else {
            continue;
        };
        let group: Vec<&ExtensionOffer> = offers
            .iter()
            .skip(i)
            .filter(|o| o.name.eq_ignore_ascii_case(name))
            .collect();
        if let Some((answer, ext)) = n.accept(&group) {
            check_offer(&answer).map_err(HandshakeError::InvalidNegotiatorOutput)?;
            return Ok(Some((answer, ext)));
        }
    }
    Ok(None)
}

/// Client: checks the server's answers. Every answer must name an extension this client
/// offered, at most once, and its negotiator must confirm it; at most one extension may be
/// accepted, since a connection runs one.
pub(crate) fn confirm_answers(
    negotiators: &[Arc<dyn ExtensionNegotiator>],
    offered: &[String],
    answers: &[ExtensionOffer],
) -> Result<Option<Box<dyn Extension>>, HandshakeError> {
    let mut active: Option<Box<dyn Extension>> = None;
    for (i, answer) in answers.iter().enumerate() {
        let name = &answer.name;
        let negotiator = negotiators
            .iter()
            .find(|n| n.name().eq_ignore_ascii_case(name))
            .filter(|_| offered.iter().any(|o| o.eq_ignore_ascii_case(name)))
            .ok_or_else(|| HandshakeError::UnrequestedExtension(name.clone()))?;
        if answers
            .iter()
            .take(i)
            .any(|a| a.name.eq_ignore_ascii_case(name))
        {
            return Err(HandshakeError::DuplicateExtension(name.clone()));
        }
        if active.is_some() {
            return Err(HandshakeError::MultipleExtensions(name.clone()));
        }
        let ext = negotiator
            .confirm(answer)
            .map_err(HandshakeError::Negotiation)?;
        active = Some(ext);
    }
    Ok(active)
}

// ---------------------------------------------------------------------------------------
// Server

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
    accept: AcceptOptions,
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
    let mut extension = None;
    if let Some((answer, active)) = answered {
        fields.push((
            String::from("Sec-WebSocket-Extensions"),
            format_extensions(core::slice::from_ref(&answer)),
        ));
        extension = Some(active);
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
            extension,
        },
    ))
}

// ---------------------------------------------------------------------------------------
// Client

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
        let extension = confirm_answers(&self.negotiators, &self.offered_extensions, &answers)?;
        Ok(Negotiated {
            subprotocol,
            extension,
        })
    }
}
