//! The four permessage-deflate parameters (RFC 7692 §7.1): parsing an offer or answer
//! strictly, and writing one.

use alloc::string::ToString;

use crate::extensions::{ExtensionOffer, ExtensionParam};

/// The extension token.
pub const NAME: &str = "permessage-deflate";

/// `client_max_window_bits` may come without a value in an offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientBits {
    /// Not present.
    Absent,
    /// Present without a value: the client supports the parameter.
    Bare,
    /// Present with a value 8..=15.
    Value(u8),
}

/// One parsed offer or answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Params {
    pub server_no_context_takeover: bool,
    pub client_no_context_takeover: bool,
    pub server_max_window_bits: Option<u8>,
    pub client_max_window_bits: ClientBits,
}

/// Window bits as RFC 7692 §7.1.2 writes them: `%x38-39 / "1" %x30-35` (8 to 15, no
/// leading zeros, no sign).
fn window_bits(value: &str) -> Option<u8> {
    match value {
        "8" => Some(8),
        "9" => Some(9),
        "10" => Some(10),
        "11" => Some(11),
        "12" => Some(12),
        "13" => Some(13),
        "14" => Some(14),
        "15" => Some(15),
        _ => None,
    }
}

impl Params {
    /// Parses an offer's or answer's parameters; `None` if any is unknown, repeated, or has
    /// a value it may not have.
    pub fn parse(offer: &ExtensionOffer) -> Option<Params> {
        let mut p = Params {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: None,
            client_max_window_bits: ClientBits::Absent,
        };
        let mut seen = [false; 4];
        for ExtensionParam { name, value } in &offer.params {
            let value = value.as_deref();
            let slot = match name.to_ascii_lowercase().as_str() {
                "server_no_context_takeover" => {
                    value.is_none().then_some(())?;
                    p.server_no_context_takeover = true;
                    0
                }
                "client_no_context_takeover" => {
                    value.is_none().then_some(())?;
                    p.client_no_context_takeover = true;
                    1
                }
                "server_max_window_bits" => {
                    p.server_max_window_bits = Some(window_bits(value?)?);
                    2
                }
                "client_max_window_bits" => {
                    p.client_max_window_bits = match value {
                        None => ClientBits::Bare,
                        Some(v) => ClientBits::Value(window_bits(v)?),
                    };
                    3
                }
                _ => return None,
            };
            if core::mem::replace(&mut seen[slot], true) {
                return None;
            }
        }
        Some(p)
    }

    /// Writes these parameters as an offer or answer.
    pub fn to_offer(self) -> ExtensionOffer {
        let mut offer = ExtensionOffer::new(NAME);
        if self.server_no_context_takeover {
            offer = offer.with_param("server_no_context_takeover", None);
        }
        if self.client_no_context_takeover {
            offer = offer.with_param("client_no_context_takeover", None);
        }
        if let Some(bits) = self.server_max_window_bits {
            offer = offer.with_param("server_max_window_bits", Some(bits.to_string()));
        }
        match self.client_max_window_bits {
            ClientBits::Absent => {}
            ClientBits::Bare => offer = offer.with_param("client_max_window_bits", None),
            ClientBits::Value(bits) => {
                offer = offer.with_param("client_max_window_bits", Some(bits.to_string()))
            }
        }
        offer
    }
}
