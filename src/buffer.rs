//! A reusable byte buffer that remembers how large its allocation grew, and the one place where
//! the policy lives that decides when that allocation is given back.
//!
//! Every buffer a connection owns (input, output, the gathering buffer of a fragmented or
//! decompressed message, the extension's scratch) is a [`RetainedBuf`]. Payloads are handed out
//! as views split off these buffers, and a split shrinks the buffer's visible capacity while the
//! allocation stays the same size; so the largest capacity seen (the high-water mark) is recorded
//! before every split and after every growth, by the methods below, never by their callers.

use bytes::{Buf, BytesMut};
use core::ops::{Deref, DerefMut};

/// A [`BytesMut`] and the largest capacity it had since its allocation was last replaced.
#[derive(Debug, Default)]
pub(crate) struct RetainedBuf {
    buf: BytesMut,
    high_water: usize,
}

impl Deref for RetainedBuf {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.buf
    }
}

/// In-place edits (unmasking) cannot change the capacity, so they need no bookkeeping.
impl DerefMut for RetainedBuf {
    fn deref_mut(&mut self) -> &mut [u8] {
        &mut self.buf
    }
}

impl RetainedBuf {
    pub fn new() -> Self {
        Self::default()
    }

    /// The capacity left in the current view (what the next writes can use without growing).
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// The largest capacity seen since the allocation was last replaced.
    #[cfg(test)]
    pub fn high_water(&self) -> usize {
        self.high_water
    }

    fn note(&mut self) {
        self.high_water = self.high_water.max(self.buf.capacity());
    }

    pub fn extend_from_slice(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
        self.note();
    }

    pub fn reserve(&mut self, additional: usize) {
        self.buf.reserve(additional);
        self.note();
    }

    /// Drops `n` bytes from the front.
    pub fn advance(&mut self, n: usize) {
        self.note();
        self.buf.advance(n);
    }

    pub fn clear(&mut self) {
        self.buf.clear();
    }

    /// Splits off the first `n` bytes (which then share the allocation).
    pub fn split_to(&mut self, n: usize) -> BytesMut {
        self.note();
        self.buf.split_to(n)
    }

    /// Splits off every byte held.
    pub fn split(&mut self) -> BytesMut {
        self.note();
        self.buf.split()
    }

    /// Makes `additional` bytes of room in the allocation already owned, if that only moves
    /// what is held; never allocates.
    pub fn try_reclaim(&mut self, additional: usize) -> bool {
        let reclaimed = self.buf.try_reclaim(additional);
        self.note();
        reclaimed
    }

    /// Lets `write` append to the buffer directly (a decoder or encoder writing its output).
    pub fn write_with<T>(&mut self, write: impl FnOnce(&mut BytesMut) -> T) -> T {
        self.note();
        let result = write(&mut self.buf);
        self.note();
        result
    }

    /// Takes the buffer out, leaving an empty one with no allocation.
    pub fn take(&mut self) -> BytesMut {
        self.high_water = 0;
        core::mem::take(&mut self.buf)
    }

    /// Replaces the buffer.
    pub fn set(&mut self, buf: BytesMut) {
        self.high_water = buf.capacity();
        self.buf = buf;
    }

    /// Makes room for `more` bytes: first in the allocation already owned (moving only the bytes
    /// held), otherwise in a new allocation of `max(held + more, 2 × capacity)`, so that a
    /// stream of reads allocates a logarithmic number of times. `limit`, when given, caps that
    /// doubling at `max(held + more, limit)`: a frame arriving whole never makes the buffer grow
    /// past its end. A limit is a cap only; it never causes an allocation by itself.
    pub fn make_room(&mut self, more: usize, limit: Option<usize>) {
        let held = self.buf.len();
        if self.buf.capacity() - held >= more || self.try_reclaim(more) {
            return;
        }
        let needed = held.saturating_add(more);
        let mut target = needed.max(self.buf.capacity().saturating_mul(2));
        if let Some(limit) = limit {
            target = target.min(needed.max(limit));
        }
        let mut fresh = BytesMut::with_capacity(target);
        fresh.extend_from_slice(&self.buf);
        self.buf = fresh;
        self.note();
    }

    /// Moves the bytes held into an allocation of exactly their size (none if empty).
    pub fn release(&mut self) {
        let fresh = if self.buf.is_empty() {
            BytesMut::new()
        } else {
            BytesMut::from(&self.buf[..])
        };
        self.set(fresh);
    }

    /// Gives back memory the buffer no longer needs, so that what a connection holds between
    /// events never depends on the size of an earlier message. Called at rest points (every
    /// decodable event handed out, output taken), never per byte. Once the allocation grew
    /// past `keep`:
    ///
    /// - an emptied buffer is released;
    /// - a buffer that needs at most `keep / 2` bytes moves them into a fresh allocation of just
    ///   their size, so what it holds is then the same whatever came before;
    /// - a buffer whose allocation exceeds `factor` times what it needs (`need`, at least its
    ///   length, at least `keep`) moves its bytes into a fresh allocation of just their size.
    ///
    /// Each move copies less than half of `keep`, or less than `1/factor` of the allocation it
    /// gives up, so the extra copying stays a fraction of the bytes that made the buffer grow.
    pub fn settle(&mut self, keep: usize, need: usize, factor: usize) {
        self.note();
        if self.high_water <= keep {
            return;
        }
        let need = need.max(self.buf.len());
        if self.buf.is_empty()
            || need <= keep / 2
            || self.high_water > need.max(keep).saturating_mul(factor)
        {
            self.release();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEEP: usize = 64 << 10;

    fn grown(len: usize, capacity: usize) -> RetainedBuf {
        let mut buf = RetainedBuf::new();
        buf.set(BytesMut::with_capacity(capacity));
        buf.extend_from_slice(&alloc::vec![7u8; len]);
        buf
    }

    #[test]
    fn a_buffer_within_keep_is_left_alone() {
        let mut buf = grown(0, KEEP);
        buf.settle(KEEP, 0, 2);
        assert_eq!(buf.capacity(), KEEP);
    }

    #[test]
    fn an_emptied_buffer_past_keep_is_released() {
        let mut buf = grown(0, 10 * KEEP);
        buf.settle(KEEP, 0, 2);
        assert_eq!((buf.capacity(), buf.high_water()), (0, 0));
    }

    #[test]
    fn a_few_bytes_left_in_a_large_buffer_move_to_an_allocation_of_their_size() {
        let mut buf = grown(1000, 10 * KEEP);
        buf.settle(KEEP, 0, 2);
        assert_eq!(&buf[..], &[7u8; 1000][..]);
        assert!(buf.capacity() < 2000, "{}", buf.capacity());
        // Once moved, settling again moves nothing (no repeated copying).
        let before = buf.as_ptr();
        buf.settle(KEEP, 0, 2);
        assert_eq!(buf.as_ptr(), before);
    }

    #[test]
    fn a_buffer_is_kept_while_its_allocation_is_in_proportion_to_its_need() {
        // 48 KiB held in 128 KiB: more than keep / 2, not more than twice the need.
        let mut buf = grown(48 << 10, 2 * KEEP);
        let before = buf.as_ptr();
        buf.settle(KEEP, 0, 2);
        assert_eq!(buf.as_ptr(), before, "kept");
        // The same bytes in 1 MiB: out of proportion, moved.
        let mut buf = grown(48 << 10, 16 * KEEP);
        buf.settle(KEEP, 0, 2);
        assert!(buf.capacity() < 2 * KEEP);
        // A need announced by the caller (a large frame arriving) keeps a large allocation.
        let mut buf = grown(48 << 10, 16 * KEEP);
        let before = buf.as_ptr();
        buf.settle(KEEP, 8 * KEEP, 2);
        assert_eq!(buf.as_ptr(), before, "kept for the frame that is arriving");
    }

    #[test]
    fn release_keeps_the_bytes_in_an_allocation_of_their_size() {
        let mut buf = grown(10, KEEP);
        buf.release();
        assert_eq!(&buf[..], &[7u8; 10][..]);
        assert!(buf.capacity() < 64);
        let mut buf = grown(0, KEEP);
        buf.release();
        assert_eq!(buf.capacity(), 0);
    }

    #[test]
    fn the_high_water_mark_survives_splits() {
        // A large message split off leaves a view whose capacity says nothing of the
        // allocation; the mark still does, so settling gives the allocation back.
        let mut buf = grown(10 * KEEP, 10 * KEEP);
        let message = buf.split_to(10 * KEEP - 10);
        assert!(buf.capacity() < KEEP);
        assert!(buf.high_water() >= 10 * KEEP);
        buf.settle(KEEP, 0, 2);
        assert!(buf.capacity() < 64, "moved out of the large allocation");
        drop(message);
    }

    #[test]
    fn growth_doubles_what_is_owned_and_stops_at_the_limit() {
        // 10 bytes held in a 1000-byte allocation whose front is still viewed elsewhere
        // (so no room can be reclaimed), 500 more wanted: twice the capacity.
        let mut buf = grown(20, 1000);
        let view = buf.split_to(10);
        let capacity = buf.capacity();
        buf.make_room(capacity + 500, None);
        assert!(buf.capacity() >= 2 * capacity, "{}", buf.capacity());
        assert_eq!(&buf[..], &[7u8; 10][..]);
        // With a limit (a frame's end), growth stops there, though never below the need.
        let mut buf = grown(20, 1000);
        let view2 = buf.split_to(10);
        let capacity = buf.capacity();
        buf.make_room(capacity + 10, Some(capacity + 100));
        assert!(buf.capacity() < capacity + 200, "{}", buf.capacity());
        buf.make_room(5000, Some(100));
        assert!(buf.capacity() >= 5010);
        drop((view, view2));
    }
}
