//! Payload masking (RFC 6455 §5.3): XOR with a 4-byte key, in place, many bytes per step.
//!
//! Long buffers go through 64-byte blocks XORed byte-wise with a 64-byte key pattern, a shape
//! the compiler turns into vector XORs at the target's full width (16-byte SSE2 vectors on
//! baseline x86-64, 64-byte ones with `-C target-cpu` set to an AVX-512 machine), with no
//! `unsafe`. Writing the blocks as `u64` words instead keeps the compiler from widening them
//! (measured in docs/performance.md), so words are used only for the short remainder.

const BLOCK: usize = 64;

/// XORs `buf` with `key`, where `buf[0]` is payload byte number `offset` of its frame (so a
/// frame unmasked in several pieces gives the same result as in one).
#[inline]
pub(crate) fn apply_mask(buf: &mut [u8], key: [u8; 4], offset: usize) {
    let word = phase_word(key, offset);
    if word == 0 {
        return;
    }
    let mut blocks = buf.chunks_exact_mut(BLOCK);
    if blocks.len() > 0 {
        let pattern = block_pattern(word);
        for block in &mut blocks {
            for (b, k) in block.iter_mut().zip(pattern.iter()) {
                *b ^= *k;
            }
        }
    }
    let rest = blocks.into_remainder();
    let mut words = rest.chunks_exact_mut(8);
    for chunk in &mut words {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        chunk.copy_from_slice(&(u64::from_ne_bytes(w) ^ word).to_ne_bytes());
    }
    // At most 7 bytes, starting at a multiple of 8: the key bytes in order.
    for (b, k) in words.into_remainder().iter_mut().zip(word.to_ne_bytes()) {
        *b ^= k;
    }
}

/// Writes `src` XORed with `key` into `dst` (of the same length) in one pass, where `src[0]`
/// is payload byte number `offset` of its frame: copying and masking at once reads and writes
/// each byte once instead of twice.
#[inline]
pub(crate) fn copy_masked(dst: &mut [u8], src: &[u8], key: [u8; 4], offset: usize) {
    debug_assert_eq!(dst.len(), src.len());
    let pattern = block_pattern(phase_word(key, offset));
    let mut dst_blocks = dst.chunks_exact_mut(BLOCK);
    let mut src_blocks = src.chunks_exact(BLOCK);
    for (d, s) in (&mut dst_blocks).zip(&mut src_blocks) {
        for ((d, s), k) in d.iter_mut().zip(s).zip(pattern.iter()) {
            *d = *s ^ *k;
        }
    }
    let dst_rest = dst_blocks.into_remainder();
    let src_rest = src_blocks.remainder();
    for ((d, s), k) in dst_rest.iter_mut().zip(src_rest).zip(pattern.iter()) {
        *d = *s ^ *k;
    }
}

/// The key as it applies from payload byte number `offset` on, in memory order, repeated
/// over a word: the phase is the same at every multiple of 8 (and of 64).
fn phase_word(key: [u8; 4], offset: usize) -> u64 {
    // Rotated by the phase.
    let shift = 8 * (offset as u32 & 3);
    let key = u32::from_ne_bytes(key);
    let key = if cfg!(target_endian = "little") {
        key.rotate_right(shift)
    } else {
        key.rotate_left(shift)
    };
    u64::from(key) | (u64::from(key) << 32)
}

/// A [`phase_word`] repeated over a block.
fn block_pattern(word: u64) -> [u8; BLOCK] {
    let mut pattern = [0u8; BLOCK];
    for p in pattern.chunks_exact_mut(8) {
        p.copy_from_slice(&word.to_ne_bytes());
    }
    pattern
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
    fn copy_masked_matches_masking_in_place() {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        for len in (0..300).chain([4096, 65_536 + 7]) {
            for offset in 0..5 {
                let data: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
                let mut expected = data.clone();
                naive(&mut expected, key, offset);
                let mut copied = alloc::vec![0u8; len];
                copy_masked(&mut copied, &data, key, offset);
                assert_eq!(copied, expected, "len {len} offset {offset}");
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
