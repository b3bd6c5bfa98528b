//! Message assembly: which data frame may follow which (RFC 6455 §5.4), the running size of
//! the message, UTF-8 validation of text, and the buffer a fragmented message is gathered in.

use bytes::{Bytes, BytesMut};

use super::utf8::Utf8Validator;
use crate::connection::error::Error;
use crate::frame::OpCode;
use crate::MessageKind;

/// The data message being received.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Current {
    pub kind: MessageKind,
    /// The negotiated extension transforms this message.
    pub transformed: bool,
}

/// Reassembly state for incoming data messages.
#[derive(Debug, Default)]
pub(crate) struct Assembler {
    current: Option<Current>,
    /// Bytes of the current message so far (after decoding).
    size: usize,
    utf8: Utf8Validator,
    /// Gathers a fragmented or decoded message in message mode.
    pub buf: BytesMut,
    buf_allocated: usize,
}

impl Assembler {
    /// The message in progress, if any.
    pub fn current(&self) -> Option<Current> {
        self.current
    }

    /// Checks a data frame's opcode against the sequence so far and returns the message kind
    /// it starts (`Some`) or continues (`None`).
    pub fn check_data_opcode(&self, opcode: OpCode) -> Result<Option<MessageKind>, Error> {
        match (opcode, self.current.is_some()) {
            (OpCode::Continuation, true) => Ok(None),
            (OpCode::Continuation, false) => Err(Error::UnexpectedContinuation),
            (_, true) => Err(Error::ExpectedContinuation),
            (OpCode::Text, false) => Ok(Some(MessageKind::Text)),
            (_, false) => Ok(Some(MessageKind::Binary)),
        }
    }

    /// A new message starts.
    pub fn begin(&mut self, kind: MessageKind, transformed: bool) {
        self.current = Some(Current { kind, transformed });
        self.size = 0;
        self.utf8 = Utf8Validator::new();
    }

    /// Counts `len` more message bytes against `max`.
    pub fn add_size(&mut self, len: usize, max: usize) -> Result<(), Error> {
        match self.size.checked_add(len) {
            Some(size) if size <= max => {
                self.size = size;
                Ok(())
            }
            _ => Err(Error::MessageTooLarge),
        }
    }

    /// Bytes of the current message so far.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Validates the next piece of message content if the message is text.
    pub fn check_text(&mut self, data: &[u8]) -> Result<(), Error> {
        match self.current {
            Some(Current {
                kind: MessageKind::Text,
                ..
            }) => self.utf8.feed(data).map_err(|_| Error::InvalidUtf8),
            _ => Ok(()),
        }
    }

    /// Validates a whole message's content at once, if the message is text (nothing of it
    /// was validated before).
    pub fn check_whole_text(&mut self, data: &[u8]) -> Result<(), Error> {
        match self.current {
            Some(Current {
                kind: MessageKind::Text,
                ..
            }) if !super::utf8::valid_whole(data) => Err(Error::InvalidUtf8),
            _ => Ok(()),
        }
    }

    /// Validates the gathered bytes from `from` on, if the message is text.
    pub fn check_gathered_text(&mut self, from: usize) -> Result<(), Error> {
        match self.current {
            Some(Current {
                kind: MessageKind::Text,
                ..
            }) => self
                .utf8
                .feed(&self.buf[from..])
                .map_err(|_| Error::InvalidUtf8),
            _ => Ok(()),
        }
    }

    /// Appends content to the gathering buffer (message mode).
    pub fn gather(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
        self.note_growth();
    }

    /// Records the gathering buffer's allocation after it may have grown.
    pub fn note_growth(&mut self) {
        self.buf_allocated = self.buf_allocated.max(self.buf.capacity());
    }

    /// The message ends: final UTF-8 check, and the kind it had.
    pub fn finish(&mut self) -> Result<MessageKind, Error> {
        let current = self.current.take().ok_or(Error::UnexpectedContinuation)?;
        if current.kind == MessageKind::Text {
            self.utf8.finish().map_err(|_| Error::InvalidUtf8)?;
        }
        Ok(current.kind)
    }

    /// Takes the gathered message and lets the buffer shrink if it grew past `keep`.
    pub fn take_gathered(&mut self, keep: usize) -> Bytes {
        let message = self.buf.split().freeze();
        crate::connection::settle_buffer(&mut self.buf, &mut self.buf_allocated, keep, 0, 2);
        message
    }

    /// Gives back the gathering buffer's allocation, keeping what it holds.
    pub fn release(&mut self) {
        crate::connection::release_buffer(&mut self.buf, &mut self.buf_allocated);
    }

    /// Drops everything (the connection failed).
    pub fn reset(&mut self) {
        *self = Self::default();
    }
}
