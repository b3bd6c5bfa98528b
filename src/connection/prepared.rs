//! A message prepared once and sent on any number of connections (a broadcast).

use alloc::vec::Vec;
use bytes::{Bytes, BytesMut};

use super::error::SendError;
use super::Connection;
use crate::extensions::SharedForm;
use crate::frame::{encode_header, FrameHeader, MAX_HEADER_LEN};
use crate::message::utf8::valid_whole;
use crate::message::MessageKind;
use crate::utf8_bytes::Utf8Bytes;

/// A whole message framed once, to be sent on many connections with
/// [`Connection::send_prepared`] (the role gorilla/websocket's `PreparedMessage` and
/// uWebSockets' publish play).
///
/// The payload is held once, by reference, whatever the number of connections it is queued
/// on: each server-role connection queues the same bytes behind its own copy of the
/// precomputed header, so a 1 MiB message broadcast to 1,000 connections costs 1 MiB, not
/// 1 GiB, until the slowest connection has written it. A client-role connection masks it
/// while copying it (each frame needs its own mask key).
///
/// With permessage-deflate, [`compress_for`](Self::compress_for) compresses the message once
/// per distinct form (window bits and level) for the connections it is given, from an empty
/// window; each of those connections then sends the compressed bytes (by reference, on a
/// server) and its compressor forgets its history, which context takeover permits (the next
/// message starts from an empty window, so a connection that sends mostly its own messages
/// compresses them a little less well after a broadcast). A connection whose form was not
/// prepared compresses the message itself, with its own context, as any message.
#[derive(Debug, Clone)]
pub struct PreparedMessage {
    kind: MessageKind,
    payload: Bytes,
    /// The payload encoded by an extension, once per form.
    forms: Vec<(SharedForm, Bytes)>,
    /// The unmasked header of the single frame carrying the message, untransformed.
    header: [u8; MAX_HEADER_LEN],
    header_len: u8,
}

impl PreparedMessage {
    /// A binary message.
    pub fn binary(payload: Bytes) -> Self {
        Self::framed(MessageKind::Binary, payload)
    }

    /// A text message (UTF-8 by its type).
    pub fn text(text: Utf8Bytes) -> Self {
        Self::framed(MessageKind::Text, text.into_bytes())
    }

    /// A message of `kind`; for [`MessageKind::Text`] the payload must be UTF-8
    /// ([`SendError::InvalidUtf8`] otherwise).
    pub fn new(kind: MessageKind, payload: Bytes) -> Result<Self, SendError> {
        if kind == MessageKind::Text && !valid_whole(&payload) {
            return Err(SendError::InvalidUtf8);
        }
        Ok(Self::framed(kind, payload))
    }

    fn framed(kind: MessageKind, payload: Bytes) -> Self {
        let mut header = [0u8; MAX_HEADER_LEN];
        let header_len = encode_header(
            &mut header,
            &FrameHeader {
                fin: true,
                rsv: 0,
                opcode: kind.opcode(),
                mask: None,
                payload_len: payload.len() as u64,
            },
        ) as u8;
        Self {
            kind,
            payload,
            forms: Vec::new(),
            header,
            header_len,
        }
    }

    /// The message's kind.
    pub fn kind(&self) -> MessageKind {
        self.kind
    }

    /// The message's payload.
    pub fn payload(&self) -> &Bytes {
        &self.payload
    }

    /// Encodes the message in the shared form `conn`'s extension sends it in (compresses
    /// it, for permessage-deflate), unless a connection asking for the same form came
    /// before: call it for every connection before sending (or only for those sharing a
    /// form, when you know them). The message stays shareable across threads afterwards.
    pub fn compress_for(&mut self, conn: &Connection) -> Result<(), SendError> {
        let Some(ext) = conn.extension.as_deref() else {
            return Ok(());
        };
        let Some(form) = ext.shared_form(self.kind, self.payload.len()) else {
            return Ok(());
        };
        if self.forms.iter().any(|(f, _)| *f == form) {
            return Ok(());
        }
        let mut out = BytesMut::new();
        ext.encode_shared(form, &self.payload, &mut out)
            .map_err(SendError::Extension)?;
        self.forms.push((form, out.freeze()));
        Ok(())
    }

    /// The encoding in `form`, if prepared.
    fn form(&self, form: SharedForm) -> Option<&Bytes> {
        self.forms.iter().find(|(f, _)| *f == form).map(|(_, b)| b)
    }
}

impl Connection {
    /// Queues a [`PreparedMessage`]: by reference on a server (only the header is copied),
    /// masked while copied on a client; compressed as prepared by
    /// [`PreparedMessage::compress_for`] when this connection's form was, or by this
    /// connection otherwise. Refused as [`send`](Self::send) is.
    pub fn send_prepared(&mut self, message: &PreparedMessage) -> Result<(), SendError> {
        self.check_can_start_whole()?;
        let len = message.payload.len();
        if let Some(ext) = self.extension.as_mut() {
            let shared = ext
                .shared_form(message.kind, len)
                .and_then(|form| Some((form.rsv, message.form(form)?.clone())));
            if let Some((rsv, encoded)) = shared {
                ext.shared_sent();
                self.tx
                    .write_frame_shared(true, rsv, message.kind.opcode(), encoded);
                return Ok(());
            }
        }
        let rsv = self.start_whole(message.kind, len)?;
        if rsv != 0 {
            return self.write_data(message.kind.opcode(), rsv, &message.payload, true);
        }
        if self.tx.is_server() {
            self.tx.write_framed(
                &message.header[..usize::from(message.header_len)],
                message.payload.clone(),
            );
        } else {
            self.tx
                .write_frame_shared(true, 0, message.kind.opcode(), message.payload.clone());
        }
        Ok(())
    }
}
