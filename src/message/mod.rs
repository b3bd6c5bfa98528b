//! Message assembly: fragments to messages, and UTF-8 validation of text across fragments.

pub(crate) mod assembler;
pub mod utf8;

pub use utf8::{InvalidUtf8, Utf8Validator};

/// The kind of a data message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum MessageKind {
    /// UTF-8 text (opcode 0x1).
    Text,
    /// Binary data (opcode 0x2).
    Binary,
}

impl MessageKind {
    /// The opcode of the first frame of a message of this kind.
    pub fn opcode(self) -> crate::frame::OpCode {
        match self {
            MessageKind::Text => crate::frame::OpCode::Text,
            MessageKind::Binary => crate::frame::OpCode::Binary,
        }
    }
}
