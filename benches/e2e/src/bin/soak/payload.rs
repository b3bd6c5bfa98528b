//! Message contents: text with multi-byte characters (so that fragment boundaries split code
//! points), binary that is partly random and partly repetitive (so that compression has work
//! of both kinds), or all random (for slow readers, whose echo must be as large as what they
//! send).

use fastrand::Rng;

/// Characters of 1 to 4 bytes in UTF-8.
const CHARS: [&str; 8] = ["a", "e", " ", "é", "ж", "€", "字", "😀"];
const WORDS: [&str; 6] = ["sans ", "io ", "frame ", "deflate ", "message ", "echo "];

/// A message size: mostly small, some large, rarely up to `max`.
pub fn size(rng: &mut Rng, max: usize) -> usize {
    let n = match rng.u32(..1000) {
        0..=599 => rng.usize(0..=125),
        600..=849 => rng.usize(126..=4096),
        850..=949 => rng.usize(4097..=65_536),
        950..=989 => rng.usize(65_537..=262_144),
        _ => rng.usize(262_145..=1 << 20),
    };
    n.min(max)
}

pub fn text(rng: &mut Rng, len: usize) -> Vec<u8> {
    let mut s = String::with_capacity(len);
    while s.len() < len {
        let left = len - s.len();
        let piece = if rng.bool() {
            WORDS[rng.usize(..WORDS.len())]
        } else {
            CHARS[rng.usize(..CHARS.len())]
        };
        if piece.len() <= left {
            s.push_str(piece);
        } else {
            s.push('x');
        }
    }
    s.into_bytes()
}

pub fn binary(rng: &mut Rng, len: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(len);
    while v.len() < len {
        let run = rng.usize(1..=4096).min(len - v.len());
        if rng.bool() {
            v.extend((0..run).map(|_| rng.u8(..)));
        } else {
            let b = rng.u8(..);
            v.resize(v.len() + run, b);
        }
    }
    v
}

pub fn random(rng: &mut Rng, len: usize) -> Vec<u8> {
    (0..len).map(|_| rng.u8(..)).collect()
}

/// `k` cut points in `0..=len`, sorted (repeats allowed: empty fragments are legal).
pub fn cuts(rng: &mut Rng, len: usize, k: usize) -> Vec<usize> {
    let mut c: Vec<usize> = (0..k).map(|_| rng.usize(0..=len)).collect();
    c.sort_unstable();
    c
}
