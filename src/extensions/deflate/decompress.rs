//! The receiving half: raw inflate on miniz_oxide, in bounded steps.
//!
//! miniz_oxide's `InflateState` keeps its own 32 KiB window, so context takeover needs
//! nothing else from us between messages: no earlier input, no earlier output. Output is
//! written straight into the caller's buffer, at most `max_out` bytes per call, so a small
//! frame that would inflate to gigabytes costs no more than the message limit.

use alloc::boxed::Box;
use bytes::BytesMut;
use miniz_oxide::inflate::stream::{inflate, InflateState, MinReset};
use miniz_oxide::{DataFormat, MZError, MZFlush, MZStatus};

use super::compress::SYNC_TAIL;
use crate::close::CloseCode;
use crate::extensions::{Decoded, ExtensionError};

const CORRUPT: ExtensionError = ExtensionError {
    code: CloseCode::INVALID_PAYLOAD,
    reason: "invalid compressed data",
};

const EMPTY: ExtensionError = ExtensionError {
    code: CloseCode::INVALID_PAYLOAD,
    reason: "empty compressed message",
};

/// A raw-deflate decompressor for one direction of one connection.
///
/// **End of a DEFLATE stream.** A peer may end a message with a block that has BFINAL set
/// (RFC 7692 §7.2.3.4), which ends the DEFLATE stream. What follows in the same message is a
/// new stream (in §7.2.3.4's example, the header of an empty stored block that the appended
/// `00 00 ff ff` completes), so the inflater is reset and carries on. If the stream ended
/// exactly at the end of the message, the `00 00 ff ff` is not fed: in a new stream it would
/// start a stored block of 65,280 bytes that swallows the next message.
///
/// **Empty messages.** DEFLATE output is never empty (an empty message compresses to `00`,
/// §7.2.3.6), so a compressed message with no payload at all is invalid (1007).
pub(crate) struct Decompressor {
    state: Box<InflateState>,
    /// How much of the `00 00 ff ff` that ends each message has been fed.
    tail_fed: usize,
    /// The current message has had at least one payload byte.
    message_has_input: bool,
    /// The DEFLATE stream ended (BFINAL) and no byte of the message has followed yet.
    stream_ended: bool,
}

impl Decompressor {
    pub fn new() -> Self {
        Self {
            state: InflateState::new_boxed(DataFormat::Raw),
            tail_fed: 0,
            message_has_input: false,
            stream_ended: false,
        }
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
        let mut end = out.len();
        let result = self.inflate_into(input, fin, out, &mut end, max_out);
        out.truncate(end);
        result
    }

    /// [`decode`](Self::decode), with `out[..*end]` the output so far. Room for the inflater
    /// is zeroed ahead of `*end` and kept across steps (a step that ends a stream after a
    /// couple of bytes does not zero it again), and cut off by the caller.
    fn inflate_into(
        &mut self,
        input: &[u8],
        fin: bool,
        out: &mut BytesMut,
        end: &mut usize,
        max_out: usize,
    ) -> Result<Decoded, ExtensionError> {
        if !input.is_empty() {
            self.message_has_input = true;
        } else if fin && !self.message_has_input {
            return Err(EMPTY);
        }
        let mut consumed = 0;
        let mut produced = 0;
        loop {
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
            let room = max_out - produced;
            if room == 0 {
                return Ok(Decoded {
                    consumed,
                    done: false,
                });
            }
            let want = room
                .min(src.len().saturating_mul(4).max(1024))
                .min(64 * 1024);
            if out.len() - *end < want {
                out.resize(*end + want, 0);
            }
            let offered = (out.len() - *end).min(room);
            let result = inflate(
                &mut self.state,
                src,
                &mut out[*end..*end + offered],
                MZFlush::None,
            );
            *end += result.bytes_written;
            produced += result.bytes_written;
            if is_tail {
                self.tail_fed += result.bytes_consumed;
            } else {
                consumed += result.bytes_consumed;
            }
            match result.status {
                Ok(MZStatus::StreamEnd) => {
                    // The peer ended its DEFLATE stream (BFINAL): whatever follows starts a
                    // new one. Without zeroing the window: a reset costs nothing, however
                    // many streams a message holds (a BFINAL stream can be 2 bytes long).
                    self.state.reset_as(MinReset);
                    if is_tail {
                        // The tail completed the stream; the rest of it is not data.
                        self.tail_fed = SYNC_TAIL.len();
                    } else {
                        self.stream_ended = true;
                    }
                }
                Ok(_) => {
                    if !is_tail && result.bytes_consumed > 0 {
                        self.stream_ended = false;
                    }
                }
                // Called with no input and nothing left to hand out: not an error, just
                // nothing to do (zlib's Z_BUF_ERROR).
                Err(MZError::Buf) if src.is_empty() && result.bytes_written == 0 => {}
                Err(_) => return Err(CORRUPT),
            }
            let all_fed = consumed == input.len() && (!fin || self.tail_fed == SYNC_TAIL.len());
            if all_fed && result.bytes_written < offered {
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
            if result.bytes_consumed == 0 && result.bytes_written == 0 && !src.is_empty() {
                return Err(CORRUPT);
            }
        }
    }
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
}
