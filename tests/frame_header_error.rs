//! Frame headers that cannot be decoded, seen through `frame::decode_header`: a reserved
//! opcode and a 64-bit length with its top bit set (RFC 6455 §5.2) are typed errors whose text
//! names the problem; a header cut short is not an error but a request for more bytes.

use sansws::frame::{decode_header, HeaderDecodeError};

#[test]
fn undecodable_headers_are_typed_errors_with_readable_text() {
    for op in [3u8, 7, 0xB, 0xF] {
        let e = decode_header(&[0x80 | op, 0x00]).unwrap_err();
        assert_eq!(e, HeaderDecodeError::ReservedOpcode(op));
        assert_eq!(e.to_string(), format!("reserved opcode {op:#x}"));
    }
    let overflow = [0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0];
    let e = decode_header(&overflow).unwrap_err();
    assert_eq!(e, HeaderDecodeError::LengthOverflow);
    assert_eq!(e.to_string(), "64-bit payload length overflow");
    // The largest allowed length decodes.
    let max = [0x82, 0x7F, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF];
    let (h, n) = decode_header(&max).unwrap().unwrap();
    assert_eq!((h.payload_len, n), (i64::MAX as u64, 10));
}

#[test]
fn a_header_cut_short_asks_for_more() {
    let whole = [0x82, 0xFE, 0x01, 0x00, 1, 2, 3, 4];
    for cut in 0..whole.len() {
        assert_eq!(decode_header(&whole[..cut]), Ok(None), "cut {cut}");
    }
    let (h, n) = decode_header(&whole).unwrap().unwrap();
    assert_eq!((h.payload_len, n, h.mask), (256, 8, Some([1, 2, 3, 4])));
}
