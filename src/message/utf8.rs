//! Incremental UTF-8 validation across fragments and arbitrary chunk boundaries.
//!
//! Text may be split anywhere, even inside a code point, so the validator keeps the up to
//! three bytes of an unfinished code point between calls. It fails as soon as a byte sequence
//! can no longer become valid (RFC 6455 §8.1: "fail fast"), not at the end of the message.
//! Whole runs are checked with `simdutf8` at SIMD speed; only the few bytes around a chunk
//! boundary are looked at one by one.

/// Invalid UTF-8 was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InvalidUtf8;

/// Streaming UTF-8 validator state: the unfinished code point carried between chunks.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Utf8Validator {
    partial: [u8; 4],
    partial_len: u8,
}

/// Length of the sequence a lead byte starts, or 0 if it cannot start one.
fn sequence_len(lead: u8) -> usize {
    match lead {
        0x00..=0x7F => 1,
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => 0,
    }
}

/// Checks that `bytes` (1–3 bytes) is the start of some valid sequence.
fn is_valid_prefix(bytes: &[u8]) -> bool {
    match core::str::from_utf8(bytes) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none(),
    }
}

/// Whether `bytes` is valid UTF-8 on its own (no sequence cut at either end). Short inputs are
/// not padded to a SIMD block: that was measured slower (docs/performance.md).
#[inline]
pub(crate) fn valid_whole(bytes: &[u8]) -> bool {
    simdutf8::basic::from_utf8(bytes).is_ok()
}

impl Utf8Validator {
    /// A validator at the start of a message.
    pub const fn new() -> Self {
        Self {
            partial: [0; 4],
            partial_len: 0,
        }
    }

    /// Whether the text so far ends inside a code point.
    pub fn is_incomplete(&self) -> bool {
        self.partial_len != 0
    }

    /// Validates the next chunk. Fails if the text so far can no longer be valid UTF-8.
    pub fn feed(&mut self, mut data: &[u8]) -> Result<(), InvalidUtf8> {
        if self.partial_len != 0 {
            let have = usize::from(self.partial_len);
            let need = sequence_len(self.partial[0]);
            let take = (need - have).min(data.len());
            self.partial[have..have + take].copy_from_slice(&data[..take]);
            let now = have + take;
            data = &data[take..];
            if now == need {
                core::str::from_utf8(&self.partial[..now]).map_err(|_| InvalidUtf8)?;
                self.partial_len = 0;
            } else {
                if !is_valid_prefix(&self.partial[..now]) {
                    return Err(InvalidUtf8);
                }
                self.partial_len = now as u8;
                return Ok(());
            }
        }
        // Find an unfinished code point at the end: its lead byte is within the last 3 bytes.
        let len = data.len();
        let mut body_end = len;
        for back in 1..=len.min(3) {
            let b = data[len - back];
            if b & 0xC0 != 0x80 {
                if sequence_len(b) > back {
                    body_end = len - back;
                }
                break;
            }
        }
        let (body, tail) = data.split_at(body_end);
        if !valid_whole(body) {
            return Err(InvalidUtf8);
        }
        if !tail.is_empty() {
            if !is_valid_prefix(tail) {
                return Err(InvalidUtf8);
            }
            self.partial[..tail.len()].copy_from_slice(tail);
            self.partial_len = tail.len() as u8;
        }
        Ok(())
    }

    /// Ends the message: fails if it stopped inside a code point. Resets for the next one.
    pub fn finish(&mut self) -> Result<(), InvalidUtf8> {
        let incomplete = self.is_incomplete();
        *self = Self::new();
        if incomplete {
            Err(InvalidUtf8)
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_all_splits(text: &[u8]) -> bool {
        let expected = core::str::from_utf8(text).is_ok();
        // Whole.
        let mut v = Utf8Validator::new();
        let whole = v.feed(text).is_ok() && v.finish().is_ok();
        assert_eq!(whole, expected, "whole {text:x?}");
        // Every single split, and byte by byte.
        for cut in 0..=text.len() {
            let mut v = Utf8Validator::new();
            let ok =
                v.feed(&text[..cut]).is_ok() && v.feed(&text[cut..]).is_ok() && v.finish().is_ok();
            assert_eq!(ok, expected, "split at {cut} of {text:x?}");
        }
        let mut v = Utf8Validator::new();
        let ok = text
            .iter()
            .all(|b| v.feed(core::slice::from_ref(b)).is_ok())
            && v.finish().is_ok();
        assert_eq!(ok, expected, "bytewise {text:x?}");
        expected
    }

    #[test]
    fn agrees_with_core_at_every_split() {
        let cases: &[&[u8]] = &[
            b"",
            b"hello",
            "κόσμε".as_bytes(),
            "€𝄞a".as_bytes(),
            b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64",
            b"\xf4\x90\x80\x80",
            b"\xf0\x9f\x98\x80",
            b"\xc0\xaf",
            b"\xe0\x80\xaf",
            b"\xed\xa0\x80",
            b"\xf8\x88\x80\x80\x80",
            b"\xff",
            b"\x80",
            b"abc\xe2\x82",
            b"\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac",
        ];
        for c in cases {
            check_all_splits(c);
        }
    }

    #[test]
    fn exhaustive_short_sequences() {
        // Every 1- and 2-byte sequence and a spread of 3- and 4-byte ones.
        for a in 0..=255u8 {
            check_all_splits(&[a]);
            for b in 0..=255u8 {
                check_all_splits(&[a, b]);
            }
        }
        for a in 0xE0..=0xF4u8 {
            for b in (0x70..=0xC0u8).step_by(7) {
                for c in [0x80u8, 0xBF, 0x41] {
                    check_all_splits(&[a, b, c]);
                    check_all_splits(&[a, b, c, 0x80]);
                }
            }
        }
    }

    #[test]
    fn fails_fast_on_impossible_prefix() {
        let mut v = Utf8Validator::new();
        // 0xF4 0x90 can never start a valid code point (above U+10FFFF).
        assert_eq!(v.feed(b"ok\xf4"), Ok(()));
        assert_eq!(v.feed(b"\x90"), Err(InvalidUtf8));
        let mut v = Utf8Validator::new();
        assert_eq!(v.feed(b"\xed\xa0"), Err(InvalidUtf8), "surrogate prefix");
        let mut v = Utf8Validator::new();
        assert_eq!(v.feed(b"\xe2\x82"), Ok(()));
        assert_eq!(v.finish(), Err(InvalidUtf8), "message ends mid code point");
    }
}
