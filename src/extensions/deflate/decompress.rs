//! The receiving half: raw inflate on miniz_oxide's low-level decoder, in bounded steps, into
//! a 32 KiB window this crate owns.
//!
//! **Why our own window.** miniz_oxide's streaming `InflateState` keeps its window private, so
//! a connection could never give that state back while idle and keep only the history the
//! peer may still refer to. Here the decoder (`DecompressorOxide`, about 11 KB of Huffman
//! tables) inflates into a wrapping 32 KiB window we hold, exactly as `InflateState` does
//! inside; the inflated bytes are then copied out to the caller. Between messages the last
//! 2^bits bytes of that window, and the decoder's position between blocks, are all that the
//! next message can depend on: [`Decompressor::save`] takes them and
//! [`Decompressor::restore`] builds a decoder from them (see `window.rs`).
//!
//! Output goes to the caller's buffer at most `max_out` bytes per call, so a small frame that
//! would inflate to gigabytes costs no more than the message limit; what was inflated beyond
//! that stays in the window (at most 32 KiB) until the next call.
//!
//! **Matches before the output.** Until the window has filled once, the decoder sees it as a
//! flat buffer whose history ends where it writes, so it refuses a match that reaches before
//! the first byte inflated (or restored) in this context (1007), as RFC 1951 §3.2.3 requires;
//! in the wrapping view it would copy the zeroed rest of the window. Shown by the differential
//! fuzz target against zlib (docs/fuzzing.md).

use alloc::boxed::Box;
use bytes::BytesMut;
use miniz_oxide::inflate::core::inflate_flags::{
    TINFL_FLAG_HAS_MORE_INPUT, TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF,
};
use miniz_oxide::inflate::core::{decompress, DecompressorOxide, TINFL_LZ_DICT_SIZE};
use miniz_oxide::inflate::TINFLStatus;

use super::compress::SYNC_TAIL;
use super::window::SavedWindow;
use crate::close::CloseCode;
use crate::extensions::{Decoded, ExtensionError};

/// The largest window DEFLATE allows (15 bits), and the size of ours.
pub(crate) const WINDOW: usize = TINFL_LZ_DICT_SIZE;

const CORRUPT: ExtensionError = ExtensionError {
    code: CloseCode::INVALID_PAYLOAD,
    reason: "invalid compressed data",
};

const EMPTY: ExtensionError = ExtensionError {
    code: CloseCode::INVALID_PAYLOAD,
    reason: "empty compressed message",
};

/// A saved window that does not inflate back to itself: never expected, since this crate
/// deflated it.
const RESTORE_FAILED: ExtensionError = ExtensionError {
    code: CloseCode::INTERNAL_ERROR,
    reason: "saved window failed to restore",
};

/// The decoder and its window, in one allocation.
struct Codec {
    decoder: DecompressorOxide,
    window: [u8; WINDOW],
}

impl Codec {
    fn boxed(decoder: DecompressorOxide) -> Box<Self> {
        Box::new(Self {
            decoder,
            window: [0; WINDOW],
        })
    }
}

/// A raw-deflate decompressor for one direction of one connection.
///
/// **End of a DEFLATE stream.** A peer may end a message with a block that has BFINAL set
/// (RFC 7692 §7.2.3.4), which ends the DEFLATE stream. What follows in the same message is a
/// new stream (in §7.2.3.4's example, the header of an empty stored block that the appended
/// `00 00 ff ff` completes), so the decoder is restarted and carries on; the window goes on
/// where it was. If the stream ended exactly at the end of the message, the `00 00 ff ff` is
/// not fed: in a new stream it would start a stored block of 65,280 bytes that swallows the
/// next message.
///
/// **Empty messages.** DEFLATE output is never empty (an empty message compresses to `00`,
/// §7.2.3.6), so a compressed message with no payload at all is invalid (1007).
pub(crate) struct Decompressor {
    codec: Box<Codec>,
    /// Where the next inflated byte goes in the window; wraps to 0 at its end.
    pos: usize,
    /// How many bytes before `pos` were inflated and not yet handed out.
    pending: usize,
    /// How many bytes of the window are history (inflated output, at most [`WINDOW`]).
    filled: usize,
    /// The decoder was (re)started and has not run since: it is before the first block.
    fresh: bool,
    /// How much of the `00 00 ff ff` that ends each message has been fed.
    tail_fed: usize,
    /// The current message has had at least one payload byte.
    message_has_input: bool,
    /// The DEFLATE stream ended (BFINAL) and no byte of the message has followed yet.
    stream_ended: bool,
}

impl Decompressor {
    pub fn new() -> Self {
        Self::with_codec(Codec::boxed(DecompressorOxide::new()), 0, true)
    }

    fn with_codec(codec: Box<Codec>, filled: usize, fresh: bool) -> Self {
        Self {
            codec,
            pos: filled,
            pending: 0,
            filled,
            fresh,
            tail_fed: 0,
            message_has_input: false,
            stream_ended: false,
        }
    }

    /// The state the next message depends on: the last `min(2^bits, inflated)` bytes of the
    /// window and the decoder's position between blocks; `bits` is the peer's window. `None`
    /// inside a message, or when the peer's last message did not end at a block boundary
    /// (RFC 7692 messages always do; a decoder inside a block cannot be rebuilt from its
    /// window).
    pub fn save(&self, bits: u8, compressed: bool) -> Option<SavedWindow> {
        if self.pending != 0 || self.tail_fed != 0 || self.message_has_input {
            return None;
        }
        let boundary = if self.fresh {
            None
        } else {
            Some(self.codec.decoder.block_boundary_state()?)
        };
        let n = self.filled.min(1 << bits.min(15));
        let window = &self.codec.window;
        let (older, newer) = if self.pos >= n {
            (&window[self.pos - n..self.pos], &[][..])
        } else {
            (&window[WINDOW - (n - self.pos)..], &window[..self.pos])
        };
        Some(SavedWindow::new(older, newer, boundary, compressed))
    }

    /// A decompressor that continues where the one [`save`](Self::save)d left off: the
    /// saved bytes sit right before the write position of a fresh window, and the decoder
    /// resumes between blocks.
    pub fn restore(saved: &SavedWindow) -> Result<Self, ExtensionError> {
        let mut codec = Codec::boxed(saved.decoder());
        let filled = saved.write_into(&mut codec.window).ok_or(RESTORE_FAILED)?;
        Ok(Self::with_codec(codec, filled, saved.is_fresh()))
    }

    /// Inflates `input` (frame payload; `fin` on the message's last frame, after which the
    /// sync tail is fed) into `out`, at most `max_out` bytes this call.
    pub fn decode(
        &mut self,
        input: &[u8],
        fin: bool,
        out: &mut BytesMut,
        max_out: usize,
    ) -> Result<Decoded, ExtensionError> {
        if !input.is_empty() {
            self.message_has_input = true;
        } else if fin && !self.message_has_input {
            return Err(EMPTY);
        }
        let mut consumed = 0;
        let mut produced = self.hand_out(out, max_out);
        if self.pending > 0 {
            return Ok(Decoded {
                consumed,
                done: false,
            });
        }
        loop {
            if self.pos == WINDOW {
                self.pos = 0;
            }
            if fin && consumed == input.len() && self.stream_ended && self.tail_fed == 0 {
                // The stream ended exactly at the end of the message: nothing to complete.
                self.tail_fed = SYNC_TAIL.len();
            }
            let (src, is_tail) = if consumed < input.len() {
                (&input[consumed..], false)
            } else if fin && self.tail_fed < SYNC_TAIL.len() {
                (&SYNC_TAIL[self.tail_fed..], true)
            } else {
                (&[][..], false)
            };
            if produced == max_out {
                return Ok(Decoded {
                    consumed,
                    done: false,
                });
            }
            // RFC 1951 §3.2.3: "a distance cannot refer past the beginning of the output
            // stream". Until the window has filled once, its history is `window[..pos]`
            // (`pos == filled`): told the window is a flat buffer, the decoder refuses a
            // match reaching before it, instead of copying zeros from the wrapped end.
            // Once full, every distance DEFLATE can express is history.
            let flags = if self.filled < WINDOW {
                TINFL_FLAG_HAS_MORE_INPUT | TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF
            } else {
                TINFL_FLAG_HAS_MORE_INPUT
            };
            let codec = &mut *self.codec;
            let (status, used, written) =
                decompress(&mut codec.decoder, src, &mut codec.window, self.pos, flags);
            self.fresh = false;
            self.pos += written;
            self.pending = written;
            self.filled = (self.filled + written).min(WINDOW);
            if is_tail {
                self.tail_fed += used;
            } else {
                consumed += used;
            }
            match status {
                TINFLStatus::Done => {
                    // The peer ended its DEFLATE stream (BFINAL): whatever follows starts a
                    // new one. Restarting the decoder costs nothing, however many streams a
                    // message holds (a BFINAL stream can be 2 bytes long).
                    codec.decoder.init();
                    self.fresh = true;
                    if is_tail {
                        // The tail completed the stream; the rest of it is not data.
                        self.tail_fed = SYNC_TAIL.len();
                    } else {
                        self.stream_ended = true;
                    }
                }
                TINFLStatus::NeedsMoreInput | TINFLStatus::HasMoreOutput => {
                    if !is_tail && used > 0 {
                        self.stream_ended = false;
                    }
                }
                _ => return Err(CORRUPT),
            }
            produced += self.hand_out(out, max_out - produced);
            if self.pending > 0 {
                return Ok(Decoded {
                    consumed,
                    done: false,
                });
            }
            let all_fed = consumed == input.len() && (!fin || self.tail_fed == SYNC_TAIL.len());
            if all_fed && status == TINFLStatus::NeedsMoreInput {
                if fin {
                    self.tail_fed = 0;
                    self.message_has_input = false;
                    self.stream_ended = false;
                }
                return Ok(Decoded {
                    consumed,
                    done: true,
                });
            }
            if used == 0 && written == 0 && !src.is_empty() && status != TINFLStatus::Done {
                return Err(CORRUPT);
            }
        }
    }

    /// Copies up to `room` inflated bytes not yet handed out to `out`; returns how many.
    fn hand_out(&mut self, out: &mut BytesMut, room: usize) -> usize {
        let n = self.pending.min(room);
        let start = self.pos - self.pending;
        out.extend_from_slice(&self.codec.window[start..start + n]);
        self.pending -= n;
        n
    }
}

/// Inflates a whole raw-deflate stream into the front of `window`; returns its length, or
/// `None` unless it ended (BFINAL) with exactly `expected` bytes.
pub(crate) fn inflate_whole(
    compressed: &[u8],
    window: &mut [u8; WINDOW],
    expected: usize,
) -> Option<usize> {
    let mut decoder = DecompressorOxide::new();
    let (status, used, written) = decompress(
        &mut decoder,
        compressed,
        window,
        0,
        TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF,
    );
    (status == TINFLStatus::Done && used == compressed.len() && written == expected)
        .then_some(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    /// Inflates one message given as frame payloads, with `room` bytes of output per call,
    /// calling again with the unconsumed rest until done, as the connection does.
    fn message(
        d: &mut Decompressor,
        frames: &[&[u8]],
        room: usize,
    ) -> Result<Vec<u8>, ExtensionError> {
        let mut out = BytesMut::new();
        for (i, frame) in frames.iter().enumerate() {
            let fin = i + 1 == frames.len();
            let mut input = *frame;
            loop {
                let r = d.decode(input, fin, &mut out, room)?;
                input = &input[r.consumed..];
                if r.done {
                    break;
                }
            }
        }
        Ok(out.to_vec())
    }

    const BFINAL: &[u8] = &[0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
    const BFINAL_AND_EMPTY_BLOCK: &[u8] = &[0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00];
    const SYNC: &[u8] = &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];

    /// The end of a stream is found whether the output room runs out before, at or after it,
    /// and whichever frame it falls in.
    #[test]
    fn bfinal_with_any_room() {
        for room in [1, 2, 4, 5, 6, 100] {
            let mut d = Decompressor::new();
            for frames in [
                &[BFINAL][..],
                &[SYNC],
                &[BFINAL_AND_EMPTY_BLOCK],
                &[BFINAL, &[]],
                &[&BFINAL[..4], &BFINAL[4..]],
                &[&BFINAL_AND_EMPTY_BLOCK[..7], &BFINAL_AND_EMPTY_BLOCK[7..]],
                &[SYNC],
                &[&[], SYNC, &[]],
            ] {
                assert_eq!(
                    message(&mut d, frames, room).as_deref(),
                    Ok(&b"Hello"[..]),
                    "room {room}, {frames:x?}"
                );
            }
            assert_eq!(message(&mut d, &[&[]], room), Err(EMPTY));
            let mut d = Decompressor::new();
            assert_eq!(message(&mut d, &[&[], &[], &[]], room), Err(EMPTY));
        }
    }

    /// Many streams in one message (`03 00` is a whole stream: one empty block with BFINAL),
    /// then "Hello" sync-flushed in the last one.
    #[test]
    fn many_streams_in_one_message() {
        let mut payload = [0x03, 0x00].repeat(1000);
        payload.extend_from_slice(SYNC);
        for room in [1, 100] {
            let mut d = Decompressor::new();
            for frames in [&[&payload[..]][..], &[&payload[..999], &payload[999..]]] {
                assert_eq!(
                    message(&mut d, frames, room).as_deref(),
                    Ok(&b"Hello"[..]),
                    "room {room}"
                );
            }
            // A message of streams only, the last one ending at the payload's end.
            assert_eq!(
                message(&mut d, &[&payload[..2000]], room).as_deref(),
                Ok(&b""[..])
            );
            assert_eq!(message(&mut d, &[SYNC], room).as_deref(), Ok(&b"Hello"[..]));
        }
    }

    /// A message of stored blocks (non-final) holding `bytes`, as a peer at level 0 sends.
    fn stored(bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        for chunk in bytes.chunks(65535) {
            let len = chunk.len() as u16;
            out.push(0x00);
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(&(!len).to_le_bytes());
            out.extend_from_slice(chunk);
        }
        out.push(0x00);
        out
    }

    /// DEFLATE's bit order: values least significant bit first, Huffman codes most
    /// significant bit first.
    struct Bits {
        out: Vec<u8>,
        acc: u32,
        n: u32,
    }

    impl Bits {
        fn put(&mut self, value: u32, bits: u32) {
            for i in 0..bits {
                self.acc |= ((value >> i) & 1) << self.n;
                self.n += 1;
                if self.n == 8 {
                    self.out.push(self.acc as u8);
                    self.acc = 0;
                    self.n = 0;
                }
            }
        }
        fn code(&mut self, code: u32, bits: u32) {
            for i in (0..bits).rev() {
                self.put((code >> i) & 1, 1);
            }
        }
    }

    /// A message holding one fixed-Huffman block with a single copy of `len` (3 to 10)
    /// bytes from `distance` (1 to 32,768) back, then the start of a sync flush.
    fn copy(distance: usize, len: usize) -> Vec<u8> {
        assert!((3..=10).contains(&len) && (1..=WINDOW).contains(&distance));
        let mut b = Bits {
            out: Vec::new(),
            acc: 0,
            n: 0,
        };
        b.put(0, 1); // not the last block
        b.put(1, 2); // fixed Huffman codes
        b.code((257 + len - 3 - 256) as u32, 7);
        // Distance codes: code c covers 2^extra distances from its base.
        let (mut code, mut base) = (0u32, 1usize);
        loop {
            let extra = if code < 4 { 0 } else { code / 2 - 1 };
            if distance < base + (1 << extra) {
                b.code(code, 5);
                b.put((distance - base) as u32, extra);
                break;
            }
            base += 1 << extra;
            code += 1;
        }
        b.code(0, 7); // end of block
        b.put(0, 3); // the sync flush's empty stored block, cut before LEN
        if b.n > 0 {
            b.put(0, 8 - b.n);
        }
        b.out
    }

    fn history(n: usize) -> Vec<u8> {
        let mut x = 0x9e37_79b9u32;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect()
    }

    /// The window kept is exactly the last min(2^bits, received) bytes, and a decompressor
    /// restored from it copies from its oldest byte as the original does, for each window
    /// size, a history shorter than the window, exactly as long, longer, and longer than
    /// 32 KiB (a window that wrapped); kept as they are or deflated.
    #[test]
    fn a_restored_window_reaches_as_far_back_as_the_peer_may() {
        for bits in 9..=15u8 {
            let w = 1usize << bits;
            for received in [w / 2 + 3, w, w + w / 2 + 7, 40_000] {
                for compressed in [false, true] {
                    let mut sent = history(received);
                    let mut d = Decompressor::new();
                    assert_eq!(message(&mut d, &[&stored(&sent)], 1 << 20).unwrap(), sent);
                    let saved = d.save(bits, compressed).expect("between messages");
                    let kept = received.min(w);
                    if !compressed {
                        assert_eq!(saved.held(), kept, "bits {bits}, {received} received");
                    }
                    let mut restored = Decompressor::restore(&saved).unwrap();
                    // Each copy's output joins the history: the second one from `kept`
                    // back starts 5 bytes later in what was received.
                    for (distance, len) in [(kept, 5), (kept, 10), (1, 3), (kept / 2 + 1, 7)] {
                        let mut expected = Vec::new();
                        for _ in 0..len {
                            // An overlapping copy repeats what it just wrote.
                            let byte = sent[sent.len() - distance];
                            sent.push(byte);
                            expected.push(byte);
                        }
                        let m = copy(distance, len);
                        assert_eq!(
                            message(&mut restored, &[&m], 1 << 20).unwrap(),
                            expected,
                            "bits {bits}, {received} received, copy {len} from {distance} back"
                        );
                        assert_eq!(message(&mut d, &[&m], 1 << 20).unwrap(), expected);
                    }
                }
            }
        }
    }

    /// Inside a message there is nothing to save: the next frame depends on more than the
    /// window. After the message, there is.
    #[test]
    fn nothing_is_saved_inside_a_message() {
        let mut d = Decompressor::new();
        let m = stored(b"hello");
        let mut out = BytesMut::new();
        let r = d.decode(&m[..3], false, &mut out, 100).unwrap();
        assert!(r.done);
        assert!(d.save(15, false).is_none());
        let r = d.decode(&m[3..], true, &mut out, 100).unwrap();
        assert!(r.done);
        assert_eq!(&out[..], b"hello");
        assert!(d.save(15, false).is_some());
        // Output not yet handed out (room for 2 bytes only) is inside the message too.
        let mut out = BytesMut::new();
        let r = d.decode(&stored(b"world"), true, &mut out, 2).unwrap();
        assert!(!r.done);
        assert!(d.save(15, false).is_none());
    }

    /// A copy reaches back as far as there is output in this context, and not a byte further
    /// (RFC 1951 §3.2.3); once 32 KiB came out, as far as DEFLATE can express; also a copy
    /// that crosses the end of the window while it fills, and after a restore (a peer that
    /// reaches past the window it agreed to, which was all that was kept, is refused rather
    /// than handed zeros).
    #[test]
    fn copies_reach_back_exactly_to_the_start_of_the_output() {
        for room in [1000, 1 << 20] {
            for (received, distance, ok) in [
                (0, 1, false),
                (5, 5, true),
                (5, 6, false),
                (1024, 1025, false),
                (1025, 1025, true),
                (WINDOW - 1, WINDOW, false),
                (WINDOW, WINDOW, true),
                (100_000, WINDOW, true),
                (WINDOW - 4, 1000, true),
            ] {
                let mut sent = history(received);
                let mut d = Decompressor::new();
                if received > 0 {
                    assert_eq!(message(&mut d, &[&stored(&sent)], room).unwrap(), sent);
                }
                let got = message(&mut d, &[&copy(distance, 10)], room);
                if ok {
                    for _ in 0..10 {
                        sent.push(sent[sent.len() - distance]);
                    }
                    assert_eq!(got.unwrap(), sent[received..], "{received}, {distance}");
                } else {
                    assert_eq!(got, Err(CORRUPT), "{received} received, {distance} back");
                }
            }
        }
        let mut d = Decompressor::new();
        message(&mut d, &[&stored(&history(5000))], 1 << 20).unwrap();
        let mut restored = Decompressor::restore(&d.save(12, false).unwrap()).unwrap();
        assert_eq!(
            message(&mut restored, &[&copy(4097, 5)], 1 << 20),
            Err(CORRUPT)
        );
    }
}
