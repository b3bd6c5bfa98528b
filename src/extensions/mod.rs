//! WebSocket extensions: the extension interface, and permessage-deflate.
//!
//! The interface is how an extension negotiates in the opening handshake (through the
//! `Sec-WebSocket-Extensions` header, whose grammar the crate reads and writes) and transforms
//! frames afterwards; permessage-deflate is the one extension that matters in practice.
//!
//! Two traits split the two lifetimes of an extension:
//! - [`ExtensionNegotiator`] lives in the configuration and speaks in the handshake: it writes
//!   the client's offers, answers a client's offers on the server, and checks a server's answer
//!   on the client. A successful negotiation yields an [`Extension`].
//! - [`Extension`] lives in the connection and transforms the payload of data messages on the
//!   way out and on the way in, marking them with the reserved bits it was granted.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use bytes::BytesMut;

use crate::close::CloseCode;
use crate::message::MessageKind;

#[cfg(feature = "deflate")]
pub mod deflate;
mod header;

pub use header::HeaderError;
pub(crate) use header::{check_offer, format_extensions, parse_extension_headers};

/// One element of a `Sec-WebSocket-Extensions` header: an extension name and its parameters,
/// as offered by a client or answered by a server.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct ExtensionOffer {
    /// The extension token, e.g. `permessage-deflate` (compared case-insensitively).
    pub name: String,
    /// Parameters in the order they appeared.
    pub params: Vec<ExtensionParam>,
}

/// One `name[=value]` parameter of an extension offer or answer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct ExtensionParam {
    /// Parameter name (a token).
    pub name: String,
    /// The value with any quoting removed, or `None` for a bare parameter.
    pub value: Option<String>,
}

impl ExtensionOffer {
    /// An offer or answer with no parameters.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            params: Vec::new(),
        }
    }

    /// Adds a parameter.
    #[must_use]
    pub fn with_param(mut self, name: impl Into<String>, value: Option<String>) -> Self {
        self.params.push(ExtensionParam {
            name: name.into(),
            value,
        });
        self
    }
}

/// Why a peer's extension answer was refused (client side); the handshake fails with it, and
/// RFC 6455 §9.1 says the connection must then be failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NegotiationError {
    /// What was wrong with the answer, for logs.
    pub reason: String,
}

impl core::fmt::Display for NegotiationError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "extension negotiation failed: {}", self.reason)
    }
}

#[cfg(feature = "std")]
impl std::error::Error for NegotiationError {}

/// The handshake half of an extension: configuration that can write offers, accept offers and
/// check answers. One negotiator per extension kind lives in the connection configuration.
pub trait ExtensionNegotiator: Send + Sync {
    /// The extension token this negotiator handles (lower case), e.g. `permessage-deflate`.
    fn name(&self) -> &str;

    /// Client: the offers to put in the request, most preferred first (may be empty).
    fn offers(&self) -> Vec<ExtensionOffer>;

    /// Server: the client's offers for this extension, in the client's order of preference.
    /// Returns the answer to send and the active extension for the first offer this
    /// configuration can honour, or `None` to decline them all (declining never fails the
    /// handshake).
    fn accept(&self, offers: &[&ExtensionOffer]) -> Option<(ExtensionOffer, Box<dyn Extension>)>;

    /// Client: checks the server's answer against what [`offers`](Self::offers) sent and
    /// returns the active extension, or the reason the answer is invalid.
    fn confirm(&self, answer: &ExtensionOffer) -> Result<Box<dyn Extension>, NegotiationError>;
}

/// A transformed encoding of a whole message that does not depend on one connection's
/// state, so it can be made once and sent on every connection asking for the same form (a
/// [`PreparedMessage`](crate::PreparedMessage) broadcast): see
/// [`Extension::shared_form`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SharedForm {
    /// Names the encoding: connections whose extensions return equal forms can send the same
    /// bytes. Small numbers are best (a prepared message keeps a few forms).
    pub id: u16,
    /// The reserved bits of the frame carrying the encoded message.
    pub rsv: u8,
}

/// What one [`Extension::decode`] call did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Decoded {
    /// Input bytes consumed from the front of the given slice.
    pub consumed: usize,
    /// True when all input given so far has been consumed and no output is left inside the
    /// decoder (for the last frame of a message: including the message's end).
    pub done: bool,
}

/// An extension error found while transforming a message, with the close code it maps to
/// (for permessage-deflate: corrupt data is 1007).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionError {
    /// The close code the connection fails with.
    pub code: CloseCode,
    /// What went wrong, for logs and the close reason.
    pub reason: &'static str,
}

impl core::fmt::Display for ExtensionError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{} (close {})", self.reason, self.code)
    }
}

#[cfg(feature = "std")]
impl std::error::Error for ExtensionError {}

/// The connection half of a negotiated extension: transforms data message payloads.
///
/// The connection calls it only for data messages (never for control frames), one message at
/// a time per direction, and at most one transforming extension is active per connection.
pub trait Extension: Send {
    /// The extension token, e.g. `permessage-deflate`.
    fn name(&self) -> &str;

    /// The reserved bits this extension may set, as they sit in the first header byte
    /// (`0x40` is RSV1, `0x20` RSV2, `0x10` RSV3).
    fn rsv_bits(&self) -> u8;

    /// Outgoing: a data message of `kind` is about to be sent; `size_hint` is its full length
    /// when known. Returns the reserved bits for its first frame; 0 means this message passes
    /// through untransformed and [`encode`](Self::encode) is not called for it.
    fn encode_start(&mut self, kind: MessageKind, size_hint: Option<usize>) -> u8;

    /// Outgoing: transforms the next piece of the current message and appends the result to
    /// `out`. `fin` marks the last piece. Must not keep a reference to `payload`.
    fn encode(
        &mut self,
        payload: &[u8],
        fin: bool,
        out: &mut BytesMut,
    ) -> Result<(), ExtensionError>;

    /// Incoming: the first frame of a data message carried reserved bits `rsv` (already
    /// checked to be a subset of [`rsv_bits`](Self::rsv_bits)). Returns whether the message
    /// must be decoded.
    fn decode_start(&mut self, rsv: u8) -> Result<bool, ExtensionError>;

    /// Incoming: decodes frame payload of the current message, appending at most `max_out`
    /// bytes to `out`. The connection calls it again with the unconsumed rest (possibly empty)
    /// until [`Decoded::done`]; `fin` marks the message's last frame. Must not keep a
    /// reference to `input`.
    fn decode(
        &mut self,
        input: &[u8],
        fin: bool,
        out: &mut BytesMut,
        max_out: usize,
    ) -> Result<Decoded, ExtensionError>;

    /// The connection went idle: give back codec memory, keeping only what context takeover
    /// needs for the next message in each direction, and rebuild the rest when that message
    /// comes (transparently: it must decode and encode exactly as without the call). A
    /// direction with a message in progress cannot be reduced yet: it is reduced when that
    /// message ends, the other direction at once. Default: nothing to give back.
    fn hibernate(&mut self) {}

    /// Outgoing: the shared form in which a whole message of `kind` and `len` bytes may be
    /// sent instead of this connection's own encoding, or `None` for an encoding of its own
    /// (through [`encode_start`](Self::encode_start) and [`encode`](Self::encode), as any
    /// message; the default). An extension may offer one only if it can send a message
    /// encoded without its connection's context and continue afterwards (for
    /// permessage-deflate: context takeover is a permission, not a duty; the compressor then
    /// forgets its history, see [`shared_sent`](Self::shared_sent)).
    fn shared_form(&self, kind: MessageKind, len: usize) -> Option<SharedForm> {
        let _ = (kind, len);
        None
    }

    /// Outgoing: encodes a whole message in `form` (one this extension returned from
    /// [`shared_form`](Self::shared_form)), appending it to `out`. Called once per form of
    /// a prepared message, on any connection that offered the form.
    fn encode_shared(
        &self,
        form: SharedForm,
        payload: &[u8],
        out: &mut BytesMut,
    ) -> Result<(), ExtensionError> {
        let _ = (form, payload, out);
        Err(ExtensionError {
            code: CloseCode::INTERNAL_ERROR,
            reason: "no shared encoding",
        })
    }

    /// Outgoing: a message was sent in a shared form made elsewhere; whatever the next
    /// message's encoding would have taken from this connection's earlier messages must be
    /// forgotten (the peer's state moved on without this extension seeing the bytes).
    fn shared_sent(&mut self) {}
}
