//! The negotiated permessage-deflate extension of one connection: which direction
//! compresses how, and the codec state it keeps (or releases, or hibernates) between
//! messages.

use alloc::boxed::Box;
use bytes::BytesMut;

use super::compress::Compressor;
use super::config::DeflateConfig;
use super::decompress::Decompressor;
use super::history::SendHistory;
use super::params::{ClientBits, Params, NAME};
use super::window::SavedWindow;
use crate::extensions::{Decoded, Extension, ExtensionError, SharedForm};
use crate::message::MessageKind;

/// RSV1 marks a compressed message (RFC 7692 §6).
const RSV1: u8 = 0x40;

/// What was agreed for each direction, seen from this end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Directions {
    /// Window for what we send, 2^bits bytes.
    pub send_bits: u8,
    /// Window the peer compresses with: how far back its next message may refer.
    pub recv_bits: u8,
    /// Each message we send is compressed alone.
    pub send_no_context_takeover: bool,
    /// The peer compresses each message alone, so our inflater need not outlive a message.
    pub recv_no_context_takeover: bool,
}

impl Directions {
    pub fn for_server(answer: &Params) -> Self {
        Self {
            send_bits: answer.server_max_window_bits.unwrap_or(15),
            recv_bits: match answer.client_max_window_bits {
                ClientBits::Value(bits) => bits,
                _ => 15,
            },
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
            recv_bits: answer.server_max_window_bits.unwrap_or(15),
            send_no_context_takeover: answer.client_no_context_takeover
                || config.client_no_context_takeover,
            recv_no_context_takeover: answer.server_no_context_takeover,
        }
    }
}

/// The sending half's state between messages.
enum Outbound {
    /// No compressor: none needed yet, or dropped (no context takeover, or hibernation
    /// without kept history). The next message starts from an empty window.
    Empty,
    /// Compressing; `history` records what is sent when the configuration keeps it.
    Awake {
        compressor: Compressor,
        history: Option<SendHistory>,
    },
    /// Hibernated, keeping what the next message may still refer to.
    Asleep(Box<[u8]>),
}

/// The receiving half's state between messages.
enum Inbound {
    /// No decompressor: none needed yet, or dropped (the peer uses no context takeover).
    Empty,
    Awake(Decompressor),
    /// Hibernated: the window the peer's next message may refer to.
    Asleep(SavedWindow),
}

/// permessage-deflate on one connection.
///
/// Codec state is created on the first compressed message in each direction. Without
/// context takeover in a direction it is dropped at the end of every message, so an idle
/// connection holds nothing for that direction; with context takeover it holds exactly the
/// codec's fixed state and its window, never input or output of earlier calls, until
/// [`hibernate`](Extension::hibernate) reduces it to what context takeover needs.
///
/// **Hibernation.** The compressor (about 319 KB) is dropped, and with it what was sent,
/// unless [`DeflateConfig::keep_send_history`] keeps the bytes the next message may refer
/// to. The decompressor (about 43 KB) is reduced to the last 2^bits bytes it inflated (bits:
/// the peer's window), stored as they are or deflated
/// ([`DeflateConfig::compress_idle_window`]). The next message in either direction
/// rebuilds its codec from that. A direction with a message in progress hibernates when
/// that message ends; the other at once. A direction whose message is cut short for good
/// (the connection failed or was closed in the middle of it) keeps its codec.
pub(crate) struct DeflateExtension {
    config: DeflateConfig,
    directions: Directions,
    outbound: Outbound,
    inbound: Inbound,
    /// A message is being sent (a frame of it was compressed and its last one was not).
    sending: bool,
    /// A compressed message is being received.
    receiving: bool,
    /// Hibernation asked for while a message was in progress: done at its end.
    hibernate_outbound_after_message: bool,
    hibernate_inbound_after_message: bool,
}

impl DeflateExtension {
    pub(crate) fn new(config: DeflateConfig, directions: Directions) -> Self {
        Self {
            config,
            directions,
            outbound: Outbound::Empty,
            inbound: Inbound::Empty,
            sending: false,
            receiving: false,
            hibernate_outbound_after_message: false,
            hibernate_inbound_after_message: false,
        }
    }

    /// The compressor for the next frame, taken out of `self.outbound`: the current one, or
    /// a fresh one primed with the history kept through hibernation.
    fn take_compressor(&mut self) -> Result<(Compressor, Option<SendHistory>), ExtensionError> {
        let kept = match core::mem::replace(&mut self.outbound, Outbound::Empty) {
            Outbound::Awake {
                compressor,
                history,
            } => return Ok((compressor, history)),
            Outbound::Asleep(kept) => kept,
            Outbound::Empty => Box::default(),
        };
        let mut compressor = Compressor::new(self.config.level, self.directions.send_bits);
        compressor.prime(&kept)?;
        let record = self.config.keep_send_history
            && !self.directions.send_no_context_takeover
            && compressor.reach() > 0;
        let history = record.then(|| SendHistory::new(compressor.reach(), &kept));
        Ok((compressor, history))
    }

    /// The decompressor for the next frame, taken out of `self.inbound`: the current one,
    /// or one rebuilt from the window kept through hibernation.
    fn take_decompressor(&mut self) -> Result<Decompressor, ExtensionError> {
        match core::mem::replace(&mut self.inbound, Inbound::Empty) {
            Inbound::Awake(decompressor) => Ok(decompressor),
            Inbound::Asleep(saved) => Decompressor::restore(&saved),
            Inbound::Empty => Ok(Decompressor::new()),
        }
    }

    fn hibernate_outbound(&mut self) {
        self.hibernate_outbound_after_message = false;
        self.outbound = match core::mem::replace(&mut self.outbound, Outbound::Empty) {
            Outbound::Awake {
                compressor,
                history: Some(history),
            } if compressor.referable() > 0 => {
                Outbound::Asleep(history.last(compressor.referable()))
            }
            Outbound::Asleep(kept) => Outbound::Asleep(kept),
            _ => Outbound::Empty,
        };
    }

    fn hibernate_inbound(&mut self) {
        self.hibernate_inbound_after_message = false;
        if let Inbound::Awake(decompressor) = &self.inbound {
            let bits = self.directions.recv_bits;
            // None only if the peer's last message ended inside a block (RFC 7692 messages
            // end at a block boundary): then the decompressor is kept.
            if let Some(saved) = decompressor.save(bits, self.config.compress_idle_window) {
                self.inbound = Inbound::Asleep(saved);
            }
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
        let result = self
            .take_compressor()
            .and_then(|(mut compressor, mut history)| {
                compressor.compress_frame(payload, fin, out)?;
                if let Some(history) = history.as_mut() {
                    history.push(payload);
                }
                Ok((compressor, history))
            });
        self.sending = !fin && result.is_ok();
        match result {
            // Without context takeover the next message starts afresh; after an error the
            // compressor's state is unknown.
            Ok(_) if fin && self.directions.send_no_context_takeover => {}
            Err(e) => return Err(e),
            Ok((compressor, history)) => {
                self.outbound = Outbound::Awake {
                    compressor,
                    history,
                };
                if !self.sending && self.hibernate_outbound_after_message {
                    self.hibernate_outbound();
                }
            }
        }
        Ok(())
    }

    /// A message this connection would compress may be sent compressed from an empty window
    /// instead (the peer's inflater takes it as it takes any message), by anyone compressing
    /// with the same window bound and level: the form names those two.
    fn shared_form(&self, _kind: MessageKind, len: usize) -> Option<SharedForm> {
        if !self.config.compress || len < self.config.threshold || self.sending {
            return None;
        }
        Some(SharedForm {
            id: u16::from(self.directions.send_bits) | u16::from(self.config.level.min(9)) << 4,
            rsv: RSV1,
        })
    }

    fn encode_shared(
        &self,
        form: SharedForm,
        payload: &[u8],
        out: &mut BytesMut,
    ) -> Result<(), ExtensionError> {
        let (bits, level) = ((form.id & 0xf) as u8, (form.id >> 4) as u8);
        Compressor::new(level, bits).compress_frame(payload, true, out)
    }

    /// The peer's window now ends with a message this compressor never saw: its history
    /// (and any kept through hibernation) would make the next message's back-references
    /// point at the wrong bytes, so the next message starts from an empty window.
    fn shared_sent(&mut self) {
        self.outbound = Outbound::Empty;
        self.hibernate_outbound_after_message = false;
    }

    fn decode_start(&mut self, rsv: u8) -> Result<bool, ExtensionError> {
        let compressed = rsv & RSV1 != 0;
        self.receiving = compressed;
        Ok(compressed)
    }

    fn decode(
        &mut self,
        input: &[u8],
        fin: bool,
        out: &mut BytesMut,
        max_out: usize,
    ) -> Result<Decoded, ExtensionError> {
        let result = self.take_decompressor().and_then(|mut decompressor| {
            let decoded = decompressor.decode(input, fin, out, max_out)?;
            Ok((decompressor, decoded))
        });
        let message_done = matches!(result, Ok((_, Decoded { done: true, .. }))) && fin;
        self.receiving = !message_done && result.is_ok();
        match result {
            // Without context takeover the peer's next message starts afresh; after an error
            // the connection fails.
            Ok((_, decoded)) if message_done && self.directions.recv_no_context_takeover => {
                Ok(decoded)
            }
            Err(e) => Err(e),
            Ok((decompressor, decoded)) => {
                self.inbound = Inbound::Awake(decompressor);
                if message_done && self.hibernate_inbound_after_message {
                    self.hibernate_inbound();
                }
                Ok(decoded)
            }
        }
    }

    fn hibernate(&mut self) {
        if self.sending {
            self.hibernate_outbound_after_message = true;
        } else {
            self.hibernate_outbound();
        }
        if self.receiving {
            self.hibernate_inbound_after_message = true;
        } else {
            self.hibernate_inbound();
        }
    }
}
