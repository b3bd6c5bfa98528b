//! A reusable byte buffer that remembers how large its allocation grew and how much of it was
//! needed, and the one place where the policy lives that decides when that allocation is given
//! back.
//!
//! Every buffer a connection owns (input, output, the gathering buffer of a fragmented or
//! decompressed message, the extension's scratch) is a [`RetainedBuf`]. Payloads are handed out
//! as views split off these buffers, and a split shrinks the buffer's visible capacity while the
//! allocation stays the same size; so the largest capacity seen (the high-water mark) and the
//! most bytes held at once (the peak) are recorded before every split and after every growth,
//! by the methods below, never by their callers.
//!
//! The policy: **busy keeps, idle gives back.** Nothing is shrunk at message boundaries: a
//! payload handed out shares the allocation, and once the caller dropped it the next write
//! reclaims the same allocation, so steady traffic allocates nothing per message, whatever
//! its size. Memory goes back only on the caller's clock: once per period of the idle timer,
//! a buffer much larger than the period's need is cut down ([`RetainedBuf::trim`]), and an
//! idle connection gives back everything ([`RetainedBuf::release`]).

use alloc::boxed::Box;
use bytes::{Buf, BytesMut};
use core::ops::{Deref, DerefMut};

/// A [`BytesMut`], the largest capacity it had since its allocation was last replaced, and the
/// most bytes it held at once since the last [`trim`](Self::trim).
///
/// The two counts are `u32`s, saturating at 4 GiB (a connection holds five of these buffers):
/// a larger buffer is judged as a 4 GiB one, so it is cut down a little later and regrown
/// from 4 GiB, never below what its bytes need.
#[derive(Debug, Default)]
pub(crate) struct RetainedBuf {
    buf: BytesMut,
    high_water: u32,
    peak: u32,
}

/// A size as a saturated count.
fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// A count as a size.
fn size(n: u32) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

impl Deref for RetainedBuf {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.buf
    }
}

/// In-place edits (unmasking) cannot change the capacity or the length, so they need no
/// bookkeeping.
impl DerefMut for RetainedBuf {
    fn deref_mut(&mut self) -> &mut [u8] {
        &mut self.buf
    }
}

/// Whether an allocation of `allocated` bytes is out of proportion to a period whose largest
/// need was `need`: larger than `keep` and than twice that need. Twice, so that a buffer sized
/// by doubling for its traffic is never cut down while the traffic goes on.
fn oversized(allocated: usize, keep: usize, need: usize) -> bool {
    allocated > keep.max(need.saturating_mul(2))
}

impl RetainedBuf {
    pub fn new() -> Self {
        Self::default()
    }

    /// The capacity left in the current view (what the next writes can use without growing).
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// The size of the allocation written into, as far as it can be known: the largest
    /// capacity seen since it was last replaced (never less than the allocation's size).
    #[cfg(test)]
    pub fn allocated(&self) -> usize {
        size(self.high_water)
    }

    /// The most bytes held at once since the last [`trim`](Self::trim).
    #[cfg(test)]
    pub fn peak(&self) -> usize {
        size(self.peak)
    }

    fn note(&mut self) {
        self.high_water = self.high_water.max(count(self.buf.capacity()));
        self.peak = self.peak.max(count(self.buf.len()));
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

    /// Splits off the room after the bytes held, as an empty buffer of that capacity sharing
    /// the allocation; [`unsplit`](Self::unsplit) takes it back, filled.
    pub fn split_spare(&mut self) -> BytesMut {
        self.note();
        let len = self.buf.len();
        self.buf.split_off(len)
    }

    /// Appends `more`: in place when it is the room [`split_spare`](Self::split_spare) gave
    /// out (nothing is copied), otherwise by copying it; adopted whole when nothing is held.
    pub fn unsplit(&mut self, more: BytesMut) {
        self.buf.unsplit(more);
        self.note();
    }

    /// Takes the buffer out, leaving an empty one with no allocation.
    pub fn take(&mut self) -> BytesMut {
        self.high_water = 0;
        core::mem::take(&mut self.buf)
    }

    /// Replaces the buffer (the period's peak is kept).
    pub fn set(&mut self, buf: BytesMut) {
        self.high_water = count(buf.capacity());
        self.buf = buf;
        self.note();
    }

    /// Makes room for `more` bytes: first in the allocation already owned (moving only the bytes
    /// held, once every view split off it was dropped), otherwise in a new allocation of
    /// `held + more` at least:
    ///
    /// - as large as the old one if the bytes take at most half of that: a caller still
    ///   holding payloads of the old one gets the same room again, not a series of small
    ///   allocations, and never a growing one;
    /// - otherwise twice the old one, so that a frame arriving in many reads allocates a
    ///   logarithmic number of times, and a message about the size of the buffer finds room
    ///   for itself beside the bytes that came before it.
    ///
    /// `limit`, when given, caps that at `max(held + more, limit)`: a frame arriving whole
    /// never makes the buffer grow past its end. And once `held + more` is at least half the
    /// limit, the allocation is the limit at once: doubling short of a frame's end would only
    /// be followed by one more growth for its last bytes, a copy of the whole frame with two
    /// allocations of its size alive (a 1 MiB payload with its header is just past 1 MiB).
    /// A limit never causes an allocation by itself, nor one larger than twice the bytes held
    /// and wanted. So the allocation is less than four times the bytes held, or the limit.
    pub fn make_room(&mut self, more: usize, limit: Option<usize>) {
        let held = self.buf.len();
        if self.buf.capacity() - held >= more || self.try_reclaim(more) {
            return;
        }
        let needed = held.saturating_add(more);
        let high_water = size(self.high_water);
        let mut target = if needed.saturating_mul(2) <= high_water {
            high_water
        } else {
            needed.max(high_water.saturating_mul(2))
        };
        if let Some(limit) = limit {
            target = if limit <= needed.saturating_mul(2) {
                needed.max(limit)
            } else {
                target.min(needed.max(limit))
            };
        }
        let mut fresh = BytesMut::with_capacity(target);
        fresh.extend_from_slice(&self.buf);
        self.set(fresh);
    }

    /// Moves the bytes held into an allocation of exactly their size (none if empty), and
    /// starts a new period.
    pub fn release(&mut self) {
        let fresh = if self.buf.is_empty() {
            BytesMut::new()
        } else {
            BytesMut::from(&self.buf[..])
        };
        self.set(fresh);
        self.peak = count(self.buf.len());
    }

    /// Ends a period of the idle timer in which the connection was busy: an allocation out of
    /// proportion to the period's need (see [`oversized`]: larger than `keep` and than twice
    /// the most bytes held at once, or `need` if the caller knows of a larger one) is given
    /// back, the bytes held moving once into an allocation of their size. A buffer that carried
    /// one 16 MiB message and then only small ones holds 16 MiB for at most two periods.
    /// Returns whether it was cut down.
    pub fn trim(&mut self, keep: usize, need: usize) -> bool {
        self.note();
        let cut = oversized(size(self.high_water), keep, size(self.peak).max(need));
        if cut {
            self.release();
        }
        self.peak = count(self.buf.len());
        cut
    }
}

/// A [`RetainedBuf`] that most connections never use (the input kept apart behind a large
/// frame, the extension's scratch), held out of line: 8 bytes until first used, and again once
/// given back empty.
#[derive(Debug, Default)]
pub(crate) struct LazyBuf(Option<Box<RetainedBuf>>);

impl LazyBuf {
    /// The buffer, created empty on first use.
    pub fn get(&mut self) -> &mut RetainedBuf {
        self.0.get_or_insert_with(Box::default)
    }

    pub fn len(&self) -> usize {
        self.0.as_ref().map_or(0, |b| b.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Takes every byte held, leaving nothing allocated.
    pub fn take(&mut self) -> BytesMut {
        self.0.take().map_or_else(BytesMut::new, |mut b| b.take())
    }

    /// [`RetainedBuf::release`], and the buffer itself goes once it holds nothing.
    pub fn release(&mut self) {
        if let Some(b) = self.0.as_mut() {
            b.release();
            if b.is_empty() {
                self.0 = None;
            }
        }
    }

    /// [`RetainedBuf::trim`].
    pub fn trim(&mut self, keep: usize, need: usize) {
        if let Some(b) = self.0.as_mut() {
            b.trim(keep, need);
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
    fn a_payload_handed_out_and_dropped_leaves_its_allocation_for_the_next_one() {
        // A 1 MiB message arrives, is split off and handed out, and dropped by the caller;
        // the next one lands in the same allocation (busy keeps).
        let mut buf = RetainedBuf::new();
        buf.make_room(1 << 20, None);
        let start = buf.as_ptr();
        for _ in 0..3 {
            buf.make_room(1 << 20, None);
            buf.extend_from_slice(&alloc::vec![1u8; 1 << 20]);
            assert_eq!(buf.as_ptr(), start, "same allocation");
            let message = buf.split_to(1 << 20).freeze();
            drop(message);
        }
        assert_eq!(buf.peak(), 1 << 20);
    }

    #[test]
    fn nothing_is_given_back_at_message_boundaries() {
        // No method but `trim` and `release` shrinks: an emptied 1 MiB buffer stays 1 MiB.
        let mut buf = grown(1 << 20, 1 << 20);
        buf.advance(1 << 20);
        buf.make_room(100, None);
        assert!(buf.capacity() >= 1 << 20);
    }

    #[test]
    fn a_buffer_in_proportion_to_its_period_is_kept() {
        // 1 MiB held at the peak of the period, in a 1 MiB allocation (and in a 2 MiB one:
        // twice the need is the bound): kept.
        for capacity in [1 << 20, 2 << 20] {
            let mut buf = grown(1 << 20, capacity);
            let _message = buf.split_to(1 << 20);
            let before = buf.allocated();
            assert!(!buf.trim(KEEP, 0));
            assert_eq!(buf.allocated(), before);
        }
        // Anything up to `keep` is kept whatever the need.
        let mut buf = grown(0, KEEP);
        assert!(!buf.trim(KEEP, 0));
        assert_eq!(buf.capacity(), KEEP);
    }

    #[test]
    fn a_buffer_out_of_proportion_to_its_period_is_cut_to_what_it_holds() {
        // A period whose peak was 1 MiB keeps a 1 MiB buffer; the next period's peak is 1 KiB,
        // so the buffer is cut, keeping its bytes, in an allocation of their size.
        let mut buf = grown(1 << 20, 1 << 20);
        buf.advance((1 << 20) - 1000);
        assert!(!buf.trim(KEEP, 0), "the period that carried 1 MiB keeps it");
        assert_eq!(buf.peak(), 1000, "a new period starts from what is held");
        buf.extend_from_slice(&[7u8; 24]);
        assert!(
            buf.trim(KEEP, 0),
            "a period that needed 1 KiB gives 1 MiB back"
        );
        assert_eq!(&buf[..], &[7u8; 1024][..]);
        assert!(buf.allocated() < 2048, "{}", buf.allocated());
        // Moved once: the next period moves nothing.
        let before = buf.as_ptr();
        assert!(!buf.trim(KEEP, 0));
        assert_eq!(buf.as_ptr(), before);
    }

    #[test]
    fn a_need_known_to_the_caller_keeps_the_allocation() {
        // A large frame announced and partly arrived: its length is the need, so the
        // allocation that carried the previous one is kept for it (never grown for it).
        let mut buf = grown(4096, 4 << 20);
        assert!(!buf.trim(KEEP, 3 << 20));
        assert!(
            buf.trim(KEEP, 1 << 20),
            "out of proportion to the frame announced"
        );
    }

    #[test]
    fn the_marks_survive_splits() {
        // A large message split off leaves a view whose capacity says nothing of the
        // allocation; the marks still do.
        let mut buf = grown(10 * KEEP, 10 * KEEP);
        let message = buf.split_to(10 * KEEP - 10);
        assert!(buf.capacity() < KEEP);
        assert!(buf.allocated() >= 10 * KEEP);
        assert_eq!(buf.peak(), 10 * KEEP);
        drop(message);
    }

    #[test]
    fn release_keeps_the_bytes_in_an_allocation_of_their_size() {
        let mut buf = grown(10, KEEP);
        buf.release();
        assert_eq!(&buf[..], &[7u8; 10][..]);
        assert!(buf.capacity() < 64);
        let mut buf = grown(0, KEEP);
        buf.release();
        assert_eq!((buf.capacity(), buf.allocated(), buf.peak()), (0, 0, 0));
    }

    #[test]
    fn growth_doubles_what_is_owned_and_stops_at_the_limit() {
        // 10 bytes held in a 1000-byte allocation whose front is still viewed elsewhere
        // (so no room can be reclaimed), more wanted than the allocation holds: twice it.
        let mut buf = grown(20, 1000);
        let view = buf.split_to(10);
        buf.make_room(1500, None);
        assert!(buf.capacity() >= 2000, "{}", buf.capacity());
        assert_eq!(&buf[..], &[7u8; 10][..]);
        // With a limit (a frame's end), growth stops there, though never below the need.
        let mut buf = grown(20, 1000);
        let view2 = buf.split_to(10);
        buf.make_room(1000, Some(1100));
        assert!(buf.capacity() < 1200, "{}", buf.capacity());
        buf.make_room(5000, Some(100));
        assert!(buf.capacity() >= 5010);
        drop((view, view2));
    }

    #[test]
    fn growth_goes_to_the_limit_at_once_when_the_bytes_are_half_of_it() {
        // A 1 MiB frame with its header, arriving in 64 KiB reads into an allocation whose
        // front is still viewed: at 512 KiB held, doubling would give 1 MiB and then, for
        // the frame's last bytes, a copy of all of it into a second one. It goes to the end.
        let limit = (1 << 20) + 28;
        let mut buf = grown(512 << 10, 512 << 10);
        let view = buf.split_to(0);
        buf.make_room(64 << 10, Some(limit));
        assert_eq!(buf.allocated(), limit);
        // Short of half the limit, the limit is only a cap: doubling as before.
        let mut buf = grown(200 << 10, 200 << 10);
        buf.make_room(64 << 10, Some(limit));
        assert_eq!(buf.allocated(), 400 << 10);
        drop(view);
    }

    #[test]
    fn a_caller_holding_payloads_gets_a_new_allocation_as_large_as_the_old_one() {
        // The payloads split off each allocation are still held, so none can be reclaimed:
        // the next one is as large (not one small allocation per read), and never larger.
        let mut buf = grown(0, KEEP);
        let mut held = alloc::vec::Vec::new();
        for _ in 0..20 {
            buf.make_room(8 << 10, None);
            buf.extend_from_slice(&[1u8; 8 << 10]);
            held.push(buf.split_to(8 << 10));
            assert_eq!(buf.allocated(), KEEP);
        }
    }
}
