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
    /// The active extensions in the order the server listed them (which is the order they
    /// apply in, RFC 6455 §9.1). No two claim the same reserved bit.
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

    /// Takes the one transforming extension (the first claiming reserved bits), if any: the
    /// connection core runs at most one.
    pub fn take_extension(&mut self) -> Option<Box<dyn Extension>> {
        let i = self.extensions.iter().position(|e| e.rsv_bits() != 0)?;
        Some(self.extensions.remove(i))
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

/// A server's extension answers and the extensions they activate.
pub(crate) type Answered = (Vec<ExtensionOffer>, Vec<Box<dyn Extension>>);

/// Server: answers the client's offers. Each configured negotiator, in configuration order,
/// sees the offers carrying its name in the client's order and may accept one; an extension
/// whose reserved bits are already taken by an earlier one is declined (the connection runs
/// one transforming extension per bit). Returns the answers to send and the extensions.
pub(crate) fn answer_offers(
    negotiators: &[Arc<dyn ExtensionNegotiator>],
    offers: &[ExtensionOffer],
) -> Result<Answered, HandshakeError> {
    let mut answers: Vec<ExtensionOffer> = Vec::new();
    let mut active: Vec<Box<dyn Extension>> = Vec::new();
    let mut used_bits = 0u8;
    for n in negotiators {
        if answers
            .iter()
            .any(|a| a.name.eq_ignore_ascii_case(n.name()))
        {
            continue; // two negotiators for one extension: the first one wins
        }
        let group: Vec<&ExtensionOffer> = offers
            .iter()
            .filter(|o| o.name.eq_ignore_ascii_case(n.name()))
            .collect();
        if group.is_empty() {
            continue;
        }
        let Some((answer, ext)) = n.accept(&group) else {
            continue;
        };
        check_offer(&answer).map_err(HandshakeError::InvalidNegotiatorOutput)?;
        if ext.rsv_bits() & used_bits != 0 {
            continue;
        }
        used_bits |= ext.rsv_bits();
        answers.push(answer);
        active.push(ext);
    }
    Ok((answers, active))
}

/// Client: checks the server's answers. Every answer must name an extension this client
/// offered, at most once, and its negotiator must confirm it; two extensions may not claim
/// the same reserved bit.
pub(crate) fn confirm_answers(
    negotiators: &[Arc<dyn ExtensionNegotiator>],
    offered: &[String],
    answers: &[ExtensionOffer],
) -> Result<Vec<Box<dyn Extension>>, HandshakeError> {
    let mut active: Vec<Box<dyn Extension>> = Vec::new();
    let mut used_bits = 0u8;
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
        let ext = negotiator
            .confirm(answer)
            .map_err(HandshakeError::Negotiation)?;
        if ext.rsv_bits() & used_bits != 0 {
            return Err(HandshakeError::ExtensionRsvConflict(name.clone()));
        }
        used_bits |= ext.rsv_bits();
        active.push(ext);
    }
    Ok(active)
}
