//! Negotiation (RFC 7692 §7.1) on both sides, as an [`ExtensionNegotiator`].

use alloc::boxed::Box;
use alloc::format;
use alloc::vec;
use alloc::vec::Vec;

use super::config::DeflateConfig;
use super::extension::{DeflateExtension, Directions};
use super::params::{ClientBits, Params, NAME};
use crate::extensions::{Extension, ExtensionNegotiator, ExtensionOffer, NegotiationError};

/// The permessage-deflate negotiator: put it in the handshake configuration
/// (`HandshakeConfig::default().extension(Arc::new(PerMessageDeflate::new(config)))`).
///
/// Memory: with context takeover (the default, both directions) a connection keeps its codec
/// state between messages: miniz_oxide's compressor (about 319 KB) once it sent a compressed
/// message, its inflater (about 43 KB) once it received one, whatever the window bits.
/// An idle connection hibernates (on its idle timer, or `Connection::hibernate`), which
/// reduces that to the window the peer compresses with (2^bits bytes), so a server's answer to
/// a client's bare `client_max_window_bits` sets what an idle connection costs:
/// [`DeflateConfig::client_max_window_bits`]`(12)`, the recommended server setting (the
/// example servers use it), keeps 4 KiB instead of 32 KiB, for 3% to 4% of a zlib client's
/// compression ratio (measured on JSON-like text). The library's default stays 15, the least
/// surprise; a sansws client told 12 compresses through a slower path (a full flush every
/// 4 KiB). A direction without context takeover drops its state after
/// every message, at some cost in ratio and speed. docs/memory.md in the repository has the
/// measurements.
#[derive(Debug, Clone, Copy, Default)]
pub struct PerMessageDeflate {
    config: DeflateConfig,
}

impl PerMessageDeflate {
    /// A negotiator with these settings.
    pub fn new(config: DeflateConfig) -> Self {
        Self { config }
    }

    /// Client: the offers this configuration sends, as parameters.
    fn client_offers(&self) -> Vec<Params> {
        let c = &self.config;
        let preferred = Params {
            server_no_context_takeover: c.server_no_context_takeover,
            client_no_context_takeover: c.client_no_context_takeover,
            server_max_window_bits: (c.server_max_window_bits < 15)
                .then_some(c.server_max_window_bits),
            client_max_window_bits: if c.client_max_window_bits < 15 {
                ClientBits::Value(c.client_max_window_bits)
            } else {
                ClientBits::Bare
            },
        };
        // A server that cannot honour what we ask of it may still accept a plain offer.
        let plain = Params {
            server_no_context_takeover: false,
            server_max_window_bits: None,
            ..preferred
        };
        if plain == preferred {
            vec![preferred]
        } else {
            vec![preferred, plain]
        }
    }

    /// Server: the answer to one acceptable offer.
    fn answer(&self, offer: Params) -> Params {
        let c = &self.config;
        let server_bits = match offer.server_max_window_bits {
            Some(requested) => Some(requested.min(c.server_max_window_bits)),
            None => (c.server_max_window_bits < 15).then_some(c.server_max_window_bits),
        };
        // Never an answer of 8: zlib cannot compress raw deflate with a 256-byte window, so
        // zlib-based clients refuse it (Python's websockets: "use 9"). A configured 8 is
        // asked for as 9; a client that offered 8 limits itself, and the answer leaves the
        // parameter out (§7.1.2.2: the server may; we inflate any window).
        let configured = c.client_max_window_bits.max(9);
        let client_bits = match offer.client_max_window_bits {
            ClientBits::Absent => ClientBits::Absent,
            ClientBits::Bare if configured == 15 => ClientBits::Absent,
            ClientBits::Bare => ClientBits::Value(configured),
            ClientBits::Value(offered) if offered < 9 => ClientBits::Absent,
            ClientBits::Value(offered) => ClientBits::Value(offered.min(configured)),
        };
        Params {
            server_no_context_takeover: offer.server_no_context_takeover
                || c.server_no_context_takeover,
            client_no_context_takeover: offer.client_no_context_takeover
                || c.client_no_context_takeover,
            server_max_window_bits: server_bits,
            client_max_window_bits: client_bits,
        }
    }
}

/// Whether `answer` is a valid acceptance of `offer` (RFC 7692 §7.1.1, §7.1.2).
fn answers(offer: &Params, answer: &Params) -> bool {
    let server_bits_ok = match (offer.server_max_window_bits, answer.server_max_window_bits) {
        (Some(asked), Some(given)) => given <= asked,
        (Some(_), None) => false,
        (None, _) => true,
    };
    let client_bits_ok = match (offer.client_max_window_bits, answer.client_max_window_bits) {
        (_, ClientBits::Absent) => true,
        (ClientBits::Absent, _) => false,
        (_, ClientBits::Bare) => false,
        (ClientBits::Bare, ClientBits::Value(_)) => true,
        (ClientBits::Value(offered), ClientBits::Value(given)) => given <= offered,
    };
    let takeover_ok = !offer.server_no_context_takeover || answer.server_no_context_takeover;
    server_bits_ok && client_bits_ok && takeover_ok
}

impl ExtensionNegotiator for PerMessageDeflate {
    fn name(&self) -> &str {
        NAME
    }

    fn offers(&self) -> Vec<ExtensionOffer> {
        self.client_offers()
            .into_iter()
            .map(Params::to_offer)
            .collect()
    }

    fn accept(&self, offers: &[&ExtensionOffer]) -> Option<(ExtensionOffer, Box<dyn Extension>)> {
        let offer = offers.iter().find_map(|o| Params::parse(o))?;
        let answer = self.answer(offer);
        let directions = Directions::for_server(&answer);
        Some((
            answer.to_offer(),
            Box::new(DeflateExtension::new(self.config, directions)),
        ))
    }

    fn confirm(&self, answer: &ExtensionOffer) -> Result<Box<dyn Extension>, NegotiationError> {
        let parsed = Params::parse(answer).ok_or_else(|| NegotiationError {
            reason: format!("invalid permessage-deflate parameters in {answer:?}"),
        })?;
        let offers = self.client_offers();
        if !offers.iter().any(|o| answers(o, &parsed)) {
            return Err(NegotiationError {
                reason: format!("permessage-deflate answer {answer:?} does not match any offer"),
            });
        }
        let directions = Directions::for_client(&parsed, &self.config);
        Ok(Box::new(DeflateExtension::new(self.config, directions)))
    }
}
