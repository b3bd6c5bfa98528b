//! The plaintext last sent compressed, kept only when a connection is configured to keep its
//! outbound history through hibernation.
//!
//! miniz_oxide's compressor keeps its dictionary private, so the bytes a fresh compressor
//! must be primed with after hibernation are recorded here as they are sent: a ring of the
//! last `reach` bytes (2^bits, the furthest a match may refer), written once per frame. A
//! connection that does not keep its history records nothing.

use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;

/// The last bytes sent through the compressor, up to a fixed capacity.
pub(crate) struct SendHistory {
    ring: Box<[u8]>,
    /// Where the next byte goes.
    end: usize,
    /// How many bytes are held (at most the capacity).
    len: usize,
}

impl SendHistory {
    /// An empty history of `capacity` bytes (at least 1), starting with `bytes` (their last
    /// `capacity`).
    pub fn new(capacity: usize, bytes: &[u8]) -> Self {
        let mut h = Self {
            ring: vec![0; capacity.max(1)].into_boxed_slice(),
            end: 0,
            len: 0,
        };
        h.push(bytes);
        h
    }

    /// Records `data` as sent.
    pub fn push(&mut self, data: &[u8]) {
        let cap = self.ring.len();
        let data = &data[data.len().saturating_sub(cap)..];
        let first = data.len().min(cap - self.end);
        self.ring[self.end..self.end + first].copy_from_slice(&data[..first]);
        self.ring[..data.len() - first].copy_from_slice(&data[first..]);
        self.end = (self.end + data.len()) % cap;
        self.len = (self.len + data.len()).min(cap);
    }

    /// The last `n` bytes recorded (fewer if fewer were), in an allocation of their size.
    pub fn last(&self, n: usize) -> Box<[u8]> {
        let cap = self.ring.len();
        let n = n.min(self.len);
        let start = (self.end + cap - n) % cap;
        let mut out = Vec::with_capacity(n);
        if start + n <= cap {
            out.extend_from_slice(&self.ring[start..start + n]);
        } else {
            out.extend_from_slice(&self.ring[start..]);
            out.extend_from_slice(&self.ring[..self.end]);
        }
        out.into_boxed_slice()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_bytes_across_the_wrap() {
        let mut h = SendHistory::new(8, b"");
        assert_eq!(&*h.last(8), b"");
        h.push(b"abc");
        assert_eq!(&*h.last(8), b"abc");
        assert_eq!(&*h.last(2), b"bc");
        h.push(b"defgh");
        assert_eq!(&*h.last(8), b"abcdefgh");
        h.push(b"ij");
        assert_eq!(&*h.last(8), b"cdefghij");
        assert_eq!(&*h.last(3), b"hij");
        h.push(b"0123456789xyz");
        assert_eq!(&*h.last(8), b"56789xyz");
        let h = SendHistory::new(4, b"abcdef");
        assert_eq!(&*h.last(10), b"cdef");
    }
}
