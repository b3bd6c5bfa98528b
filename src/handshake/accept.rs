//! `Sec-WebSocket-Key` and `Sec-WebSocket-Accept` (RFC 6455 §4.1, §4.2.2): the key proves the
//! server read the handshake as WebSocket, not that anyone is authenticated.

use alloc::string::String;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use crate::entropy::Entropy;

/// The GUID every server appends to the key before hashing (RFC 6455 §1.3).
pub const WEBSOCKET_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The `Sec-WebSocket-Accept` value for a `Sec-WebSocket-Key`: base64(SHA-1(key ++ GUID)).
/// `key` is the header value as sent (the base64 text, not the decoded bytes).
pub fn accept_value(key: &[u8]) -> String {
    let mut sha = sha1_smol::Sha1::new();
    sha.update(key);
    sha.update(WEBSOCKET_GUID.as_bytes());
    STANDARD.encode(sha.digest().bytes())
}

/// A fresh `Sec-WebSocket-Key`: base64 of 16 bytes from `entropy`.
pub fn generate_key(entropy: &mut dyn Entropy) -> String {
    let mut nonce = [0u8; 16];
    entropy.fill(&mut nonce);
    STANDARD.encode(nonce)
}

/// Whether `key` (already trimmed of OWS) is base64 of exactly 16 bytes. Base64 of 16 bytes
/// is always 24 characters, so the length is checked before anything is decoded.
pub fn is_valid_key(key: &[u8]) -> bool {
    let mut out = [0u8; 18];
    key.len() == 24 && matches!(STANDARD.decode_slice(key, &mut out), Ok(16))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6455_example() {
        assert_eq!(
            accept_value(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn key_validation() {
        assert!(is_valid_key(b"dGhlIHNhbXBsZSBub25jZQ=="));
        assert!(!is_valid_key(b"dGhlIHNhbXBsZSBub25jZQ="));
        assert!(!is_valid_key(b"dGhlIHNhbXBsZSBub25jZQ!="));
        assert!(!is_valid_key(b"dGhlIHNhbXBsZSBub25jZWVl")); // 18 bytes
        assert!(!is_valid_key(b""));
    }

    #[test]
    fn generated_keys_are_valid() {
        let mut n = 0u8;
        let mut e = |d: &mut [u8]| {
            d.iter_mut().for_each(|b| {
                n = n.wrapping_add(1);
                *b = n
            })
        };
        let k = generate_key(&mut e);
        assert!(is_valid_key(k.as_bytes()));
    }
}
