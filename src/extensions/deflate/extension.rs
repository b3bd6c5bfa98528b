//! The negotiated permessage-deflate extension of one connection: which direction
//! compresses how, and the codec state it keeps (or releases) between messages.

use bytes::BytesMut;

use super::compress::Compressor;
use super::config::DeflateConfig;
use super::decompress::Decompressor;
use super::params::{ClientBits, Params, NAME};
use crate::extensions::{Decoded, Extension, ExtensionError};
use crate::message::MessageKind;

/// RSV1 marks a compressed message (RFC 7692 §6).
const RSV1: u8 = 0x40;

/// What was agreed for each direction, seen from this end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Directions {
    /// Window for what we send, 2^bits bytes.
    pub send_bits: u8,
    /// Each message we send is compressed alone.
    pub send_no_context_takeover: bool,
    /// The peer compresses each message alone, so our inflater need not outlive a message.
    pub recv_no_context_takeover: bool,
}

impl Directions {
    pub fn for_server(answer: &Params) -> Self {
        Self {
            send_bits: answer.server_max_window_bits.unwrap_or(15),
            send_no_context_takeover: answer.server_no_context_takeover,
            recv_no_context_takeover: answer.client_no_context_takeover,
        }
    }

    pub fn for_client(answer: &Params, config: &DeflateConfig) -> Self {
        let answered = match answer.client_max_window_bits {
            ClientBits::Value(bits) => bits,
            _ => 15,
        };
        Self {
            send_bits: answered.min(config.client_max_window_bits),
            send_no_context_takeover: answer.client_no_context_takeover
                || config.client_no_context_takeover,
            recv_no_context_takeover: answer.server_no_context_takeover,
        }
    }
}

/// permessage-deflate on one connection.
///
/// Codec state is created on the first compressed message in each direction. Without
/// context takeover in a direction it is dropped at the end of every message, so an idle
/// connection holds nothing for that direction; with context takeover it holds exactly the
/// codec's fixed state and its window, never input or output of earlier calls.
pub(crate) struct DeflateExtension {
    config: DeflateConfig,
    directions: Directions,
    compressor: Option<Compressor>,
    decompressor: Option<Decompressor>,
}

impl core::fmt::Debug for DeflateExtension {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DeflateExtension")
            .field("directions", &self.directions)
            .field("compressor", &self.compressor.is_some())
            .field("decompressor", &self.decompressor.is_some())
            .finish()
    }
}

impl DeflateExtension {
    pub(crate) fn new(config: DeflateConfig, directions: Directions) -> Self {
        Self {
            config,
            directions,
            compressor: None,
            decompressor: None,
        }
    }
}

impl Extension for DeflateExtension {
    fn name(&self) -> &str {
        NAME
    }

    fn rsv_bits(&self) -> u8 {
        RSV1
    }

    fn encode_start(&mut self, _kind: MessageKind, size_hint: Option<usize>) -> u8 {
        if !self.config.compress || size_hint.is_some_and(|n| n < self.config.threshold) {
            0
        } else {
            RSV1
        }
    }

    fn encode(
        &mut self,
        payload: &[u8],
        fin: bool,
        out: &mut BytesMut,
    ) -> Result<(), ExtensionError> {
        let (level, bits) = (self.config.level, self.directions.send_bits);
        let compressor = self
            .compressor
            .get_or_insert_with(|| Compressor::new(level, bits));
        let result = compressor.compress_frame(payload, fin, out);
        if (fin && self.directions.send_no_context_takeover) || result.is_err() {
            self.compressor = None;
        }
        result
    }

    fn decode_start(&mut self, rsv: u8) -> Result<bool, ExtensionError> {
        Ok(rsv & RSV1 != 0)
    }

    fn decode(
        &mut self,
        input: &[u8],
        fin: bool,
        out: &mut BytesMut,
        max_out: usize,
    ) -> Result<Decoded, ExtensionError> {
        let decompressor = self.decompressor.get_or_insert_with(Decompressor::new);
        let result = decompressor.decode(input, fin, out, max_out);
        let message_done = matches!(result, Ok(Decoded { done: true, .. })) && fin;
        if (message_done && self.directions.recv_no_context_takeover) || result.is_err() {
            self.decompressor = None;
        }
        result
    }
}
