//! The sending half: raw deflate on miniz_oxide, one frame at a time, inside the window the
//! peer allows.
//!
//! **Window bits.** miniz_oxide 0.9 does not bound match distances below 15 bits (its
//! `with_params` still emits 32 KiB distances; see docs/permessage-deflate.md), so the bound
//! is built here, in a way that can be checked by reading it:
//! - 15 bits: the full window, any strategy.
//! - 11 to 14 bits: a full flush every 2^bits input bytes. A full flush empties the
//!   compressor's dictionary, so no match can reach behind it; with flushes at most 2^bits
//!   bytes apart, no match can reach further back than 2^bits. Each flush ends a block and
//!   clears the hash tables (128 KiB): 16–20 µs measured, so 12 bits compresses at about a
//!   third of the speed of 15. At 11 bits (a flush per 2 KiB) it was measured slightly
//!   faster than run-length matching (9.7 against 11.0 ms per MiB) with 2.8 times its ratio
//!   on JSON-like text, so 11 bits flushes too.
//! - 8 to 10 bits: run-length matches only (distance 1), built from flags at level 2 or more
//!   (miniz_oxide's level-1 fast path ignores the RLE flag): about 95 MB/s and a poor ratio
//!   on text; flushing every 256 to 1024 bytes was measured 1.5 to 5 times slower
//!   (docs/permessage-deflate.md has the figures).
//!
//! **No input survives a call.** Each call compresses what it is given and flushes (a sync
//! flush at every frame end), so the compressor holds only its window (the dictionary of at
//! most 32 KiB plus its fixed tables), never a reference to or a copy of pending input.

use alloc::boxed::Box;
use alloc::vec::Vec;
use bytes::BytesMut;
use miniz_oxide::deflate::core::{
    compress_to_output, create_comp_flags_from_zip_params, CompressionStrategy, CompressorOxide,
    TDEFLFlush, TDEFLStatus,
};

use crate::close::CloseCode;
use crate::extensions::ExtensionError;

/// The 4 bytes a sync flush ends with; RFC 7692 §7.2.1 removes them from each message.
pub(crate) const SYNC_TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

const FAILED: ExtensionError = ExtensionError {
    code: CloseCode::INTERNAL_ERROR,
    reason: "compression failed",
};

/// A raw-deflate compressor bounded to a window of 2^bits bytes.
pub(crate) struct Compressor {
    inner: Box<CompressorOxide>,
    /// Full-flush interval when the window is bounded by flushing (11–14 bits).
    flush_every: Option<usize>,
    /// Input bytes since the last full flush.
    since_full_flush: usize,
    /// How far back a match may reach: 0 when no match can refer to earlier input
    /// (run-length matches or stored blocks), so no history is worth keeping.
    reach: usize,
}

impl Compressor {
    pub fn new(level: u8, window_bits: u8) -> Self {
        let level = i32::from(level.min(9));
        let reach = if level == 0 || window_bits < 11 {
            0
        } else {
            1usize << window_bits.min(15)
        };
        let (flags, flush_every) = if window_bits >= 15 || level == 0 {
            (
                create_comp_flags_from_zip_params(level, -15, CompressionStrategy::Default as i32),
                None,
            )
        } else if window_bits >= 11 {
            (
                create_comp_flags_from_zip_params(level, -15, CompressionStrategy::Default as i32),
                Some(1usize << window_bits),
            )
        } else {
            (
                create_comp_flags_from_zip_params(
                    level.max(2),
                    -15,
                    CompressionStrategy::RLE as i32,
                ),
                None,
            )
        };
        Self {
            inner: Box::new(CompressorOxide::new(flags)),
            flush_every,
            since_full_flush: 0,
            reach,
        }
    }

    /// How many of the last input bytes the next match may still refer to: 32 KiB at 15
    /// bits, the bytes since the last full flush at 11 to 14, none with run-length matches
    /// or stored blocks. What a hibernated connection keeps to [`prime`](Self::prime) a
    /// fresh compressor with.
    pub fn referable(&self) -> usize {
        match self.flush_every {
            Some(_) => self.since_full_flush,
            None => self.reach,
        }
    }

    /// The longest history [`referable`](Self::referable) can ever ask for: what a
    /// connection keeping its sent history records (0: record nothing).
    pub fn reach(&self) -> usize {
        self.reach
    }

    /// Makes `history` (at most [`referable`](Self::referable) bytes, the end of what the
    /// peer inflated last) the compressor's dictionary: it is compressed with a sync flush
    /// and the output dropped, so the next message may refer to it as the peer's window
    /// does. Counts towards the next full flush like any input, so the window bound holds.
    pub fn prime(&mut self, history: &[u8]) -> Result<(), ExtensionError> {
        if history.is_empty() || self.reach == 0 {
            return Ok(());
        }
        let (status, used) =
            compress_to_output(&mut self.inner, history, TDEFLFlush::Sync, |_| true);
        if status != TDEFLStatus::Okay || used != history.len() {
            return Err(FAILED);
        }
        if let Some(every) = self.flush_every {
            // The history is shorter than the interval (it is what followed the last full
            // flush), so the next full flush comes where it would have come anyway.
            self.since_full_flush = history.len().min(every - 1);
        }
        Ok(())
    }

    /// Compresses `input` and appends the result to `out`, ending with a sync flush. At the
    /// end of a message (`fin`) the trailing `00 00 ff ff` is removed.
    ///
    /// The output of a message is never empty: an empty frame still gets its sync flush
    /// (`00 00 00 ff ff`), so an empty message is `00` (RFC 7692 §7.2.3.6). On an error,
    /// `out` is left as it was.
    pub fn compress_frame(
        &mut self,
        input: &[u8],
        fin: bool,
        out: &mut BytesMut,
    ) -> Result<(), ExtensionError> {
        let start = out.len();
        let result = self.compress_into(input, fin, out, start);
        if result.is_err() {
            out.truncate(start);
        }
        result
    }

    fn compress_into(
        &mut self,
        mut input: &[u8],
        fin: bool,
        out: &mut BytesMut,
        start: usize,
    ) -> Result<(), ExtensionError> {
        let mut synced = false;
        if let Some(every) = self.flush_every {
            while self.since_full_flush + input.len() >= every {
                let (head, rest) = input.split_at(every - self.since_full_flush);
                run(&mut self.inner, head, TDEFLFlush::Full, out)?;
                self.since_full_flush = 0;
                input = rest;
                // A full flush is also a sync flush: if it ended the frame, the stream is
                // already synchronised.
                synced = input.is_empty();
                if synced {
                    break;
                }
            }
            self.since_full_flush += input.len();
        }
        if !synced {
            run(&mut self.inner, input, TDEFLFlush::Sync, out)?;
        }
        if fin {
            // A sync flush always writes at least an empty stored block's header byte before
            // the tail, so what remains after removing the tail is never empty.
            if out.len() - start <= SYNC_TAIL.len() || !out[start..].ends_with(&SYNC_TAIL) {
                return Err(FAILED);
            }
            out.truncate(out.len() - SYNC_TAIL.len());
        }
        Ok(())
    }
}

/// `parts` as one raw-deflate stream at level 1 (ended with BFINAL), in an allocation of its
/// size: a hibernated connection's inbound window, stored deflated. `None` if that is not
/// smaller than `parts`.
pub(crate) fn deflate_whole(parts: &[&[u8]]) -> Option<Box<[u8]>> {
    let mut c = Box::new(CompressorOxide::new(create_comp_flags_from_zip_params(
        1,
        -15,
        CompressionStrategy::Default as i32,
    )));
    let len: usize = parts.iter().map(|p| p.len()).sum();
    let mut out = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        let flush = if i + 1 == parts.len() {
            TDEFLFlush::Finish
        } else {
            TDEFLFlush::None
        };
        let (status, used) = compress_to_output(&mut c, part, flush, |bytes| {
            out.extend_from_slice(bytes);
            true
        });
        let expected = if flush == TDEFLFlush::Finish {
            TDEFLStatus::Done
        } else {
            TDEFLStatus::Okay
        };
        if status != expected || used != part.len() || out.len() >= len {
            return None;
        }
    }
    Some(out.into_boxed_slice())
}

/// Runs the compressor over all of `input` with `flush`, appending everything it outputs.
///
/// Output goes through miniz_oxide's callback interface, so the compressor never meets a
/// short output buffer: it consumes the whole input and performs the flush exactly once in
/// this one call. (With a fixed output slice, a flush can be left undone while output is
/// pending, and repeating it to finish writes the empty-block marker twice.)
fn run(
    c: &mut CompressorOxide,
    input: &[u8],
    flush: TDEFLFlush,
    out: &mut BytesMut,
) -> Result<(), ExtensionError> {
    let (status, used) = compress_to_output(c, input, flush, |bytes| {
        out.extend_from_slice(bytes);
        true
    });
    if status != TDEFLStatus::Okay || used != input.len() {
        return Err(FAILED);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pseudo_random(n: usize) -> Vec<u8> {
        let mut x = 42u64;
        (0..n)
            .map(|_| {
                x ^= x >> 12;
                x ^= x << 25;
                x ^= x >> 27;
                x.wrapping_mul(0x2545_F491_4F6C_DD1D) as u8
            })
            .collect()
    }

    #[test]
    fn incompressible_megabyte() {
        for bits in [15u8, 13, 10] {
            let mut c = Compressor::new(1, bits);
            let mut out = BytesMut::new();
            let r = c.compress_frame(&pseudo_random(1 << 20), true, &mut out);
            assert_eq!(r, Ok(()), "bits {bits}: {:?}", c.inner.prev_return_status());
        }
    }
}
