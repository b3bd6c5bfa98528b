//! The receiving half: raw inflate on miniz_oxide, in bounded steps.
//!
//! miniz_oxide's `InflateState` keeps its own 32 KiB window, so context takeover needs
//! nothing else from us between messages: no earlier input, no earlier output. Output is
//! written straight into the caller's buffer, at most `max_out` bytes per call, so a small
//! frame that would inflate to gigabytes costs no more than the message limit.

use alloc::boxed::Box;
use bytes::BytesMut;
use miniz_oxide::inflate::stream::{inflate, InflateState};
use miniz_oxide::{DataFormat, MZError, MZFlush, MZStatus};

use super::compress::SYNC_TAIL;
use crate::extensions::{Decoded, ExtensionError};
use crate::CloseCode;

const CORRUPT: ExtensionError = ExtensionError {
    code: CloseCode::INVALID_PAYLOAD,
    reason: "invalid compressed data",
};

/// A raw-deflate decompressor for one direction of one connection.
pub(crate) struct Decompressor {
    state: Box<InflateState>,
    /// How much of the `00 00 ff ff` that ends each message has been fed.
    tail_fed: usize,
}

impl Decompressor {
    pub fn new() -> Self {
        Self {
            state: InflateState::new_boxed(DataFormat::Raw),
            tail_fed: 0,
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
        let mut consumed = 0;
        let mut produced = 0;
        loop {
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
            let step = room
                .min(src.len().saturating_mul(4).max(1024))
                .min(64 * 1024);
            let start = out.len();
            out.resize(start + step, 0);
            let result = inflate(&mut self.state, src, &mut out[start..], MZFlush::None);
            out.truncate(start + result.bytes_written);
            produced += result.bytes_written;
            if is_tail {
                self.tail_fed += result.bytes_consumed;
            } else {
                consumed += result.bytes_consumed;
            }
            match result.status {
                Ok(MZStatus::StreamEnd) => {
                    // The peer ended its deflate stream (BFINAL). The next message starts a
                    // new stream; whatever follows in this one is not deflate data.
                    if result.bytes_consumed < src.len() && !is_tail {
                        return Err(CORRUPT);
                    }
                    self.state.reset(DataFormat::Raw);
                }
                Ok(_) => {}
                // Called with no input and nothing left to hand out: not an error, just
                // nothing to do (zlib's Z_BUF_ERROR).
                Err(MZError::Buf) if src.is_empty() && result.bytes_written == 0 => {}
                Err(_) => return Err(CORRUPT),
            }
            let all_fed = consumed == input.len() && (!fin || self.tail_fed == SYNC_TAIL.len());
            if all_fed && result.bytes_written < step {
                if fin {
                    self.tail_fed = 0;
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
