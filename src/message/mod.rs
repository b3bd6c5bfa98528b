//! Message assembly: which data frame may follow which, the running size of a message, the
//! buffer a fragmented message is gathered in, and UTF-8 validation of text across fragments.

pub(crate) mod assembler;
mod error;
pub(crate) mod utf8;

pub(crate) use error::MessageError;

use crate::frame::OpCode;

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
    pub fn opcode(self) -> OpCode {
        match self {
            MessageKind::Text => OpCode::Text,
            MessageKind::Binary => OpCode::Binary,
        }
    }
}
