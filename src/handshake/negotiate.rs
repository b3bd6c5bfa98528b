//! Subprotocol and extension negotiation, shared by HTTP/1.1 and HTTP/2-3: one function per
//! side and concern, so both transports apply exactly the same rules.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use super::http::token_list;
use super::HandshakeError;
use crate::extensions::header::{check_offer, parse_extension_headers};
use crate::extensions::{Extension, ExtensionNegotiator, ExtensionOffer};

/// What a successful handshake hands to the connection.
pub struct Negotiated {
    /// The subprotocol both sides agreed on, if any.
    pub subprotocol: Option<String>,
    /// The active extension, if any. A connection runs at most one extension, so the
    /// handshake never negotiates more than one: a server accepts one offer, a client fails a
    /// response that accepts several.
    pub extensions: Vec<Box<dyn Extension>>,
}

impl Negotiated {
    /// The reserved bits the negotiated extensions may set; frames with other bits set are
    /// a protocol error.
    pub fn rsv_bits(&self) -> u8 {
        self.extensions
            .iter()
            .fold(0, |bits, e| bits | e.rsv_bits())
    }

    /// Takes the negotiated extension, if any (the first, should a caller have put several
    /// here: a connection runs one).
    pub fn take_extension(&mut self) -> Option<Box<dyn Extension>> {
        (!self.extensions.is_empty()).then(|| self.extensions.remove(0))
    }
}

impl core::fmt::Debug for Negotiated {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Negotiated")
            .field("subprotocol", &self.subprotocol)
            .field(
                "extensions",
                &self.extensions.iter().map(|e| e.name()).collect::<Vec<_>>(),
            )
            .finish()
    }
}

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
) -> Result<Vec<Box<dyn Extension>>, HandshakeError> {
    let mut active: Vec<Box<dyn Extension>> = Vec::new();
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
        if !active.is_empty() {
            return Err(HandshakeError::MultipleExtensions(name.clone()));
        }
        let ext = negotiator
            .confirm(answer)
            .map_err(HandshakeError::Negotiation)?;
        active.push(ext);
    }
    Ok(active)
}
