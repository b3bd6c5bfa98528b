//! Payload masking (RFC 6455 §5.3): XOR with a 4-byte key, in place, many bytes per step.
//!
//! Long buffers go through 64-byte blocks XORed with eight copies of the key as `u64` words, a
//! shape the compiler turns into vector XORs on every target with SIMD registers (no `unsafe`
//! needed); short ones and the tail go a `u64` word at a time, then byte by byte.

const BLOCK: usize = 64;

/// XORs `buf` with `key`, where `buf[0]` is payload byte number `offset` of its frame (so a
/// frame unmasked in several pieces gives the same result as in one).
#[inline]
pub fn apply_mask(buf: &mut [u8], key: [u8; 4], offset: usize) {
    // The key as it applies from `buf[0]` on: rotated by the phase, in memory order.
    let shift = 8 * (offset as u32 & 3);
    let key = u32::from_ne_bytes(key);
    let key = if cfg!(target_endian = "little") {
        key.rotate_right(shift)
    } else {
        key.rotate_left(shift)
    };
    if key == 0 {
        return;
    }
    // Repeated over a word: the phase is the same at every multiple of 8 (and of 64).
    let word = u64::from(key) | (u64::from(key) << 32);
    let mut blocks = buf.chunks_exact_mut(BLOCK);
    for block in &mut blocks {
        xor_words(block, word);
    }
    let rest = blocks.into_remainder();
    let words_end = rest.len() & !7;
    let (words, tail) = rest.split_at_mut(words_end);
    xor_words(words, word);
    // At most 7 bytes, starting at a multiple of 8: the key bytes in order.
    for (b, k) in tail.iter_mut().zip(word.to_ne_bytes()) {
        *b ^= k;
    }
}

/// XORs every whole 8-byte word of `buf` with `word`.
#[inline(always)]
fn xor_words(buf: &mut [u8], word: u64) {
    for chunk in buf.chunks_exact_mut(8) {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        chunk.copy_from_slice(&(u64::from_ne_bytes(w) ^ word).to_ne_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn naive(buf: &mut [u8], key: [u8; 4], offset: usize) {
        for (i, b) in buf.iter_mut().enumerate() {
            *b ^= key[(offset + i) % 4];
        }
    }

    #[test]
    fn matches_bytewise_definition_at_every_length_and_offset() {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        for len in 0..300 {
            for offset in 0..4 {
                let data: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
                let mut fast = data.clone();
                let mut slow = data.clone();
                apply_mask(&mut fast, key, offset);
                naive(&mut slow, key, offset);
                assert_eq!(fast, slow, "len {len} offset {offset}");
            }
        }
    }

    #[test]
    fn split_masking_equals_whole() {
        let key = [1, 2, 3, 4];
        let data: Vec<u8> = (0..1000u32).map(|i| i as u8).collect();
        let mut whole = data.clone();
        apply_mask(&mut whole, key, 0);
        for cut in [1, 3, 5, 63, 64, 65, 999] {
            let mut parts = data.clone();
            let (a, b) = parts.split_at_mut(cut);
            apply_mask(a, key, 0);
            apply_mask(b, key, cut);
            assert_eq!(parts, whole);
        }
    }
}
