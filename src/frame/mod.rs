//! The frame codec: header layout (RFC 6455 §5.2) and payload masking (§5.3).
//!
//! This layer knows bytes, not rules about sequences of frames: it decodes and encodes one
//! header, and XORs payloads with a mask key. Which frames may follow which, and what a
//! frame means, is decided by the layers above (message assembly, the connection).

mod header;
mod mask;

pub use header::{decode_header, encode_header, FrameHeader, HeaderDecodeError, MAX_HEADER_LEN};
pub(crate) use mask::{apply_mask, copy_masked};

/// A frame opcode (RFC 6455 §5.2). Reserved opcodes (3–7, 0xB–0xF) have no variant: they
/// are rejected when the header is decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum OpCode {
    /// 0x0: continues a fragmented data message.
    Continuation,
    /// 0x1: first frame of a text message.
    Text,
    /// 0x2: first frame of a binary message.
    Binary,
    /// 0x8: close.
    Close,
    /// 0x9: ping.
    Ping,
    /// 0xA: pong.
    Pong,
}

impl OpCode {
    /// The opcode for a 4-bit value, or `None` for a reserved one.
    pub fn from_bits(bits: u8) -> Option<OpCode> {
        Some(match bits {
            0x0 => OpCode::Continuation,
            0x1 => OpCode::Text,
            0x2 => OpCode::Binary,
            0x8 => OpCode::Close,
            0x9 => OpCode::Ping,
            0xA => OpCode::Pong,
            _ => return None,
        })
    }

    /// The 4-bit wire value.
    pub fn bits(self) -> u8 {
        match self {
            OpCode::Continuation => 0x0,
            OpCode::Text => 0x1,
            OpCode::Binary => 0x2,
            OpCode::Close => 0x8,
            OpCode::Ping => 0x9,
            OpCode::Pong => 0xA,
        }
    }

    /// Close, ping and pong are control frames: at most 125 bytes, never fragmented.
    pub fn is_control(self) -> bool {
        matches!(self, OpCode::Close | OpCode::Ping | OpCode::Pong)
    }
}

/// Largest payload a control frame may carry (RFC 6455 §5.5).
pub const MAX_CONTROL_PAYLOAD: usize = 125;

#[cfg(test)]
mod tests {
    use super::OpCode;

    #[test]
    fn every_four_bit_value_is_an_opcode_or_reserved() {
        for bits in 0u8..16 {
            match OpCode::from_bits(bits) {
                Some(op) => {
                    assert_eq!(op.bits(), bits);
                    assert_eq!(op.is_control(), bits >= 8, "{bits:#x}");
                }
                None => assert!(matches!(bits, 3..=7 | 0xB..=0xF), "{bits:#x}"),
            }
        }
    }
}
