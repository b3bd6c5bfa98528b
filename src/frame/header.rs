//! Decoding and encoding one frame header (RFC 6455 §5.2).

use super::OpCode;

/// Longest possible header: 2 bytes, 8 bytes of extended length, 4 bytes of mask key.
pub const MAX_HEADER_LEN: usize = 14;

/// One decoded frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct FrameHeader {
    /// Last frame of its message.
    pub fin: bool,
    /// The three reserved bits as they sit in the first byte (mask `0x70`).
    pub rsv: u8,
    /// The opcode.
    pub opcode: OpCode,
    /// The mask key, present on every client-to-server frame.
    pub mask: Option<[u8; 4]>,
    /// Payload length in bytes.
    pub payload_len: u64,
}

/// A header that can never be valid, whatever follows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderDecodeError {
    /// Opcodes 3–7 and 0xB–0xF are reserved.
    ReservedOpcode(u8),
    /// A 64-bit length with its most significant bit set (RFC 6455 §5.2).
    LengthOverflow,
}

impl core::fmt::Display for HeaderDecodeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            HeaderDecodeError::ReservedOpcode(op) => write!(f, "reserved opcode {op:#x}"),
            HeaderDecodeError::LengthOverflow => f.write_str("64-bit payload length overflow"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for HeaderDecodeError {}

/// Decodes a header from the front of `buf`. Returns `Ok(None)` when `buf` does not yet hold
/// the whole header, otherwise the header and its length in bytes. Reads at most 14 bytes.
pub fn decode_header(buf: &[u8]) -> Result<Option<(FrameHeader, usize)>, HeaderDecodeError> {
    let (b0, b1) = match buf {
        [b0, b1, ..] => (*b0, *b1),
        _ => return Ok(None),
    };
    let opcode =
        OpCode::from_bits(b0 & 0x0F).ok_or(HeaderDecodeError::ReservedOpcode(b0 & 0x0F))?;
    let masked = b1 & 0x80 != 0;
    let (payload_len, mut pos) = match b1 & 0x7F {
        126 => match buf.get(2..4) {
            Some(b) => (u64::from(u16::from_be_bytes([b[0], b[1]])), 4),
            None => return Ok(None),
        },
        127 => match buf.get(2..10) {
            Some(b) => {
                let mut n = [0u8; 8];
                n.copy_from_slice(b);
                let len = u64::from_be_bytes(n);
                if len >> 63 != 0 {
                    return Err(HeaderDecodeError::LengthOverflow);
                }
                (len, 10)
            }
            None => return Ok(None),
        },
        n => (u64::from(n), 2),
    };
    let mask = if masked {
        match buf.get(pos..pos + 4) {
            Some(k) => {
                pos += 4;
                Some([k[0], k[1], k[2], k[3]])
            }
            None => return Ok(None),
        }
    } else {
        None
    };
    let header = FrameHeader {
        fin: b0 & 0x80 != 0,
        rsv: b0 & 0x70,
        opcode,
        mask,
        payload_len,
    };
    Ok(Some((header, pos)))
}

/// Encodes a header with the shortest length form into `out`; returns the bytes written.
pub fn encode_header(out: &mut [u8; MAX_HEADER_LEN], header: &FrameHeader) -> usize {
    out[0] = (u8::from(header.fin) << 7) | (header.rsv & 0x70) | header.opcode.bits();
    let mask_bit = if header.mask.is_some() { 0x80 } else { 0 };
    let len = header.payload_len;
    let mut pos = if len < 126 {
        out[1] = mask_bit | len as u8;
        2
    } else if len <= u64::from(u16::MAX) {
        out[1] = mask_bit | 126;
        out[2..4].copy_from_slice(&(len as u16).to_be_bytes());
        4
    } else {
        out[1] = mask_bit | 127;
        out[2..10].copy_from_slice(&len.to_be_bytes());
        10
    };
    if let Some(key) = header.mask {
        out[pos..pos + 4].copy_from_slice(&key);
        pos += 4;
    }
    pos
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(h: FrameHeader) {
        let mut buf = [0u8; MAX_HEADER_LEN];
        let n = encode_header(&mut buf, &h);
        assert_eq!(decode_header(&buf[..n]), Ok(Some((h, n))));
        for cut in 0..n {
            assert_eq!(
                decode_header(&buf[..cut]),
                Ok(None),
                "prefix of {cut} bytes"
            );
        }
    }

    #[test]
    fn every_length_form_round_trips() {
        for len in [0u64, 1, 125, 126, 127, 65535, 65536, 1 << 40, (1 << 63) - 1] {
            for mask in [None, Some([1, 2, 3, 4])] {
                round_trip(FrameHeader {
                    fin: true,
                    rsv: 0x40,
                    opcode: OpCode::Binary,
                    mask,
                    payload_len: len,
                });
            }
        }
    }

    #[test]
    fn reserved_opcodes_and_length_overflow_are_refused() {
        for op in [3u8, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF] {
            assert_eq!(
                decode_header(&[0x80 | op, 0]),
                Err(HeaderDecodeError::ReservedOpcode(op))
            );
        }
        let mut b = [0x82u8, 127, 0x80, 0, 0, 0, 0, 0, 0, 1];
        assert_eq!(decode_header(&b), Err(HeaderDecodeError::LengthOverflow));
        b[2] = 0x7F;
        assert!(decode_header(&b).unwrap().is_some());
    }
}
