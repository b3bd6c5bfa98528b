//! The output queue: bytes waiting for the transport, oldest first, as a sequence of chunks.
//!
//! Frames the connection writes itself (headers, small payloads, control frames, compressed
//! or masked payloads) are copied into one contiguous buffer, which is what keeps small
//! messages cheap. A large payload the caller already holds as [`Bytes`] (a server's
//! unmasked, uncompressed message, or a [`PreparedMessage`](crate::PreparedMessage)'s frame)
//! is queued by reference instead: copying 1 MiB per send, or per connection of a broadcast,
//! costs more than one more chunk for the transport to take.

use alloc::collections::VecDeque;
use bytes::{Buf, Bytes};

use crate::buffer::RetainedBuf;

/// One piece of the queue, in order. The bytes of the buffer not covered by a `Buffered`
/// segment come after every segment.
#[derive(Debug)]
enum Segment {
    /// The next `n` bytes of the buffer.
    Buffered(usize),
    /// A payload queued by reference.
    Shared(Bytes),
}

/// The bytes waiting to be written: a buffer for what the connection copies, and the order
/// in which its bytes and the payloads queued by reference are to be written.
#[derive(Debug, Default)]
pub(super) struct Output {
    buf: RetainedBuf,
    segments: VecDeque<Segment>,
    /// Bytes of `buf` covered by `Buffered` segments.
    buffered_in_segments: usize,
    /// Bytes of the `Shared` segments.
    shared: usize,
}

/// Segments a busy queue keeps through a trim: a few large messages in flight need no more,
/// and more is given back once the period ends.
const SEGMENTS_KEPT: usize = 16;

impl Output {
    /// The buffer frames are copied into (appended after everything queued).
    pub fn buf(&mut self) -> &mut RetainedBuf {
        &mut self.buf
    }

    /// Queues `payload` by reference after everything queued so far.
    pub fn push_shared(&mut self, payload: Bytes) {
        if payload.is_empty() {
            return;
        }
        let uncovered = self.buf.len() - self.buffered_in_segments;
        if uncovered > 0 {
            self.segments.push_back(Segment::Buffered(uncovered));
            self.buffered_in_segments += uncovered;
        }
        self.shared += payload.len();
        self.segments.push_back(Segment::Shared(payload));
    }

    /// Total bytes waiting.
    pub fn len(&self) -> usize {
        self.buf.len() + self.shared
    }

    /// The next contiguous bytes to write.
    pub fn front(&self) -> &[u8] {
        match self.segments.front() {
            Some(Segment::Buffered(n)) => &self.buf[..*n],
            Some(Segment::Shared(bytes)) => bytes,
            None => &self.buf,
        }
    }

    /// Fills `dst` with the chunks waiting, in order (as many as fit); returns how many.
    pub fn chunks<'a>(&'a self, dst: &mut [&'a [u8]]) -> usize {
        let mut filled = 0;
        let mut start = 0;
        let segments = self.segments.iter().map(|s| match s {
            Segment::Buffered(n) => {
                let chunk = &self.buf[start..start + n];
                start += n;
                chunk
            }
            Segment::Shared(bytes) => &bytes[..],
        });
        for (slot, chunk) in dst.iter_mut().zip(segments) {
            *slot = chunk;
            filled += 1;
        }
        if filled == self.segments.len() && filled < dst.len() && self.buf.len() > start {
            dst[filled] = &self.buf[start..];
            filled += 1;
        }
        filled
    }

    /// Drops the first `n` bytes (at most [`len`](Self::len)), across chunks.
    pub fn advance(&mut self, mut n: usize) {
        while n > 0 {
            match self.segments.front_mut() {
                Some(Segment::Buffered(k)) => {
                    let m = n.min(*k);
                    self.buf.advance(m);
                    self.buffered_in_segments -= m;
                    *k -= m;
                    n -= m;
                    if *k == 0 {
                        self.segments.pop_front();
                    }
                }
                Some(Segment::Shared(bytes)) => {
                    let m = n.min(bytes.len());
                    bytes.advance(m);
                    self.shared -= m;
                    n -= m;
                    if bytes.is_empty() {
                        self.segments.pop_front();
                    }
                }
                None => {
                    self.buf.advance(n.min(self.buf.len()));
                    return;
                }
            }
        }
    }

    /// Drops everything waiting.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.segments.clear();
        self.buffered_in_segments = 0;
        self.shared = 0;
    }

    /// Gives back the buffer's allocation and the segments' (keeping what waits).
    pub fn release(&mut self) {
        self.buf.release();
        self.segments.shrink_to_fit();
    }

    /// Ends a busy period of the idle timer (see [`RetainedBuf::trim`]).
    pub fn trim(&mut self, keep: usize) {
        self.buf.trim(keep, 0);
        if self.segments.capacity() > SEGMENTS_KEPT {
            self.segments.shrink_to(SEGMENTS_KEPT);
        }
    }
}

/// The connection's pending output as a [`bytes::Buf`]: what
/// [`Connection::output_buf`](crate::Connection::output_buf) returns, so that a host can hand
/// it to anything that writes a `Buf` (tokio's `AsyncWriteExt::write_buf`, or
/// [`Buf::chunks_vectored`] for a vectored write) and the bytes written are marked as such.
#[derive(Debug)]
pub struct OutputBuf<'a> {
    pub(super) conn: &'a mut super::Connection,
}

impl Buf for OutputBuf<'_> {
    fn remaining(&self) -> usize {
        self.conn.pending_output_len()
    }

    fn chunk(&self) -> &[u8] {
        self.conn.pending_output()
    }

    /// Past the end counts as all of it (as [`advance_output`] does).
    ///
    /// [`advance_output`]: crate::Connection::advance_output
    fn advance(&mut self, cnt: usize) {
        self.conn.advance_output(cnt);
    }

    #[cfg(feature = "std")]
    fn chunks_vectored<'b>(&'b self, dst: &mut [std::io::IoSlice<'b>]) -> usize {
        const BATCH: usize = 16;
        let mut filled = 0;
        let mut chunks: [&[u8]; BATCH] = [&[]; BATCH];
        // Takes at most BATCH chunks: a vectored write rarely accepts more at once.
        let n = self.conn.tx.out.chunks(&mut chunks[..dst.len().min(BATCH)]);
        for (slot, chunk) in dst.iter_mut().zip(&chunks[..n]) {
            *slot = std::io::IoSlice::new(chunk);
            filled += 1;
        }
        filled
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    /// A queue of: 3 copied bytes, a shared chunk, 2 copied bytes, a shared chunk, 4 copied.
    fn sample() -> (Output, Vec<u8>) {
        let mut out = Output::default();
        out.buf().extend_from_slice(b"abc");
        out.push_shared(Bytes::from_static(b"SHARED-1"));
        out.buf().extend_from_slice(b"de");
        out.push_shared(Bytes::from_static(b"S2"));
        out.push_shared(Bytes::new());
        out.buf().extend_from_slice(b"fghi");
        (out, b"abcSHARED-1deS2fghi".to_vec())
    }

    fn collect(out: &Output) -> Vec<u8> {
        let mut chunks: [&[u8]; 8] = [&[]; 8];
        let n = out.chunks(&mut chunks);
        chunks[..n].concat()
    }

    #[test]
    fn chunks_come_out_in_order() {
        let (out, expected) = sample();
        assert_eq!(out.len(), expected.len());
        assert_eq!(collect(&out), expected);
        assert_eq!(out.front(), b"abc");
        // Fewer slots than chunks: the first ones.
        let mut two: [&[u8]; 2] = [&[]; 2];
        assert_eq!(out.chunks(&mut two), 2);
        assert_eq!(two, [&b"abc"[..], &b"SHARED-1"[..]]);
    }

    #[test]
    fn a_write_may_stop_at_any_byte() {
        // Every split of the queue into two writes, and writes of every fixed size.
        let (_, expected) = sample();
        for first in 0..=expected.len() {
            let (mut out, _) = sample();
            let mut written = out.front()[..first.min(out.front().len())].to_vec();
            let taken = written.len();
            out.advance(taken);
            assert_eq!(out.len(), expected.len() - taken);
            while out.len() > 0 {
                let front = out.front().to_vec();
                assert!(!front.is_empty());
                written.extend_from_slice(&front);
                out.advance(front.len());
            }
            assert_eq!(written, expected, "first write {first}");
            // advance across chunks at once.
            let (mut out, _) = sample();
            out.advance(first);
            assert_eq!(collect(&out), expected[first..], "advance {first}");
        }
        for step in 1..=expected.len() {
            let (mut out, _) = sample();
            let mut written = Vec::new();
            while out.len() > 0 {
                let mut chunks: [&[u8]; 8] = [&[]; 8];
                let n = out.chunks(&mut chunks);
                let all = chunks[..n].concat();
                let take = step.min(all.len());
                written.extend_from_slice(&all[..take]);
                out.advance(take);
            }
            assert_eq!(written, expected, "step {step}");
        }
    }

    #[test]
    fn clear_drops_everything() {
        let (mut out, _) = sample();
        out.clear();
        assert_eq!((out.len(), out.front()), (0, &b""[..]));
        out.buf().extend_from_slice(b"x");
        assert_eq!(collect(&out), b"x");
    }
}
