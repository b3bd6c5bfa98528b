//! Message assembly: which data frame may follow which (RFC 6455 §5.4), the running size of
//! the message, UTF-8 validation of text, and the buffer a fragmented message is gathered in.

use bytes::{Bytes, BytesMut};

use super::utf8::{valid_whole, Utf8Validator};
use super::{MessageError as Error, MessageKind};
use crate::buffer::RetainedBuf;
use crate::frame::OpCode;

/// The data message being received.
#[derive(Debug, Clone, Copy)]
struct Current {
    kind: MessageKind,
    /// The negotiated extension transforms this message.
    transformed: bool,
}

/// Reassembly state for incoming data messages.
#[derive(Debug, Default)]
pub(crate) struct Assembler {
    current: Option<Current>,
    /// Bytes of the current message so far (after decoding).
    size: usize,
    utf8: Utf8Validator,
    /// Gathers a fragmented or decoded message in message mode.
    buf: RetainedBuf,
}

impl Assembler {
    /// Whether the message in progress is transformed by the extension.
    pub fn is_transformed(&self) -> bool {
        self.current.is_some_and(|c| c.transformed)
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
            }) if !valid_whole(data) => Err(Error::InvalidUtf8),
            _ => Ok(()),
        }
    }

    /// Validates the gathered bytes from `from` on, if the message is text.
    fn check_gathered_text(&mut self, from: usize) -> Result<(), Error> {
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
    }

    /// Lets `produce` append decoded content to the gathering buffer, then counts what it
    /// appended against `max` and validates it if the message is text, in that order.
    /// Returns what `produce` returned and how many bytes it appended.
    pub fn gather_with<T, E: From<Error>>(
        &mut self,
        max: usize,
        produce: impl FnOnce(&mut BytesMut) -> Result<T, E>,
    ) -> Result<(T, usize), E> {
        let before = self.buf.len();
        let result = self.buf.write_with(produce)?;
        let produced = self.buf.len() - before;
        self.add_size(produced, max)?;
        self.check_gathered_text(before)?;
        Ok((result, produced))
    }

    /// The message ends: final UTF-8 check, and the kind it had.
    pub fn finish(&mut self) -> Result<MessageKind, Error> {
        let current = self.current.take().ok_or(Error::UnexpectedContinuation)?;
        if current.kind == MessageKind::Text {
            self.utf8.finish().map_err(|_| Error::InvalidUtf8)?;
        }
        Ok(current.kind)
    }

    /// Takes the gathered message. It shares the gathering buffer's allocation, which the
    /// next message reuses once the caller dropped this one.
    pub fn take_gathered(&mut self) -> Bytes {
        self.buf.split().freeze()
    }

    /// Gives back the gathering buffer's allocation, keeping what it holds.
    pub fn release(&mut self) {
        self.buf.release();
    }

    /// Ends a busy period (see [`RetainedBuf::trim`]).
    pub fn trim(&mut self, keep: usize) {
        self.buf.trim(keep, 0);
    }

    /// Drops everything (the connection failed).
    pub fn reset(&mut self) {
        *self = Self::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_frame_sequences_follow_rfc6455_section_5_4() {
        let mut asm = Assembler::default();
        assert_eq!(
            asm.check_data_opcode(OpCode::Continuation),
            Err(Error::UnexpectedContinuation)
        );
        assert_eq!(
            asm.check_data_opcode(OpCode::Text),
            Ok(Some(MessageKind::Text))
        );
        asm.begin(MessageKind::Text, false);
        assert_eq!(asm.check_data_opcode(OpCode::Continuation), Ok(None));
        assert_eq!(
            asm.check_data_opcode(OpCode::Binary),
            Err(Error::ExpectedContinuation)
        );
        assert_eq!(asm.finish(), Ok(MessageKind::Text));
        assert_eq!(
            asm.check_data_opcode(OpCode::Binary),
            Ok(Some(MessageKind::Binary))
        );
        assert_eq!(
            asm.finish(),
            Err(Error::UnexpectedContinuation),
            "nothing begun"
        );
    }

    #[test]
    fn message_size_is_checked_without_overflow() {
        let mut asm = Assembler::default();
        asm.begin(MessageKind::Binary, false);
        assert_eq!(asm.add_size(10, 16), Ok(()));
        assert_eq!(asm.add_size(6, 16), Ok(()));
        assert_eq!(asm.add_size(1, 16), Err(Error::MessageTooLarge));
        assert_eq!(
            asm.add_size(usize::MAX, usize::MAX),
            Err(Error::MessageTooLarge)
        );
        assert_eq!(asm.size(), 16);
    }

    #[test]
    fn text_is_checked_across_pieces_and_at_the_end() {
        let mut asm = Assembler::default();
        asm.begin(MessageKind::Text, false);
        assert_eq!(asm.check_text("é".as_bytes()[..1].as_ref()), Ok(()));
        assert_eq!(
            asm.finish(),
            Err(Error::InvalidUtf8),
            "ends inside a code point"
        );
        asm.begin(MessageKind::Text, false);
        assert_eq!(asm.check_whole_text(b"\xff"), Err(Error::InvalidUtf8));
        asm.begin(MessageKind::Binary, false);
        assert_eq!(
            asm.check_whole_text(b"\xff"),
            Ok(()),
            "binary is not checked"
        );
    }

    #[test]
    fn a_gathered_message_shares_the_buffer_that_the_next_one_reuses() {
        let mut asm = Assembler::default();
        asm.begin(MessageKind::Binary, false);
        asm.gather(&[1u8; 100_000]);
        let message = asm.take_gathered();
        assert_eq!(message.len(), 100_000);
        let start = message.as_ptr();
        drop(message);
        // Dropped by the caller: the next message is gathered in the same allocation.
        asm.gather(&[2u8; 1000]);
        let small = asm.take_gathered();
        assert_eq!(&small[..], &[2u8; 1000][..]);
        assert_eq!(small.as_ptr(), start);
        drop(small);
        // A period that needed 1,000 bytes gives the 100,000 back.
        asm.trim(64 << 10);
        asm.trim(64 << 10);
        assert!(asm.buf.allocated() < 64 << 10);
    }
}
