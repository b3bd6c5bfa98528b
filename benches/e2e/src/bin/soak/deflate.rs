//! The driver's side of permessage-deflate (RFC 7692) on C zlib, not on the miniz_oxide that
//! sansws uses: what the server inflates was deflated by another implementation, and what it
//! deflates is inflated by another one.

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

/// The four bytes a sync flush ends with, removed from each message (RFC 7692 section 7.2.1)
/// and appended again before inflating one (section 7.2.2).
pub const TAIL: [u8; 4] = [0, 0, 0xff, 0xff];

/// What the client offers in Sec-WebSocket-Extensions: one of a few offers, so that the
/// server's negotiation runs through its parameters.
#[derive(Clone, Copy, Debug)]
pub enum Offer {
    /// `permessage-deflate`.
    Plain,
    /// `permessage-deflate; client_max_window_bits`: the server may cap our window.
    ClientWindow,
    /// Both directions without context takeover.
    NoContextTakeover,
    /// `server_max_window_bits=10`: the server's window capped.
    ServerWindow,
}

impl Offer {
    pub fn header(self) -> &'static str {
        match self {
            Offer::Plain => "Sec-WebSocket-Extensions: permessage-deflate\r\n",
            Offer::ClientWindow => {
                "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
            }
            Offer::NoContextTakeover => {
                "Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover; \
                 server_no_context_takeover\r\n"
            }
            Offer::ServerWindow => {
                "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=10\r\n"
            }
        }
    }
}

/// The agreed extension: our compressor and our inflater for the server's messages.
pub struct Deflate {
    compress: Compress,
    reset_compress: bool,
    inflate: Decompress,
    reset_inflate: bool,
}

impl Deflate {
    /// Sets up from the server's answer (the value of its Sec-WebSocket-Extensions header).
    pub fn from_answer(answer: &str, level: u32) -> Result<Deflate, String> {
        let mut params = answer.split(';').map(str::trim);
        if params.next() != Some("permessage-deflate") {
            return Err(format!("unexpected extension answer: {answer}"));
        }
        let mut client_bits = 15u8;
        let (mut reset_compress, mut reset_inflate) = (false, false);
        for p in params {
            let (name, value) = p.split_once('=').unwrap_or((p, ""));
            match name.trim() {
                "client_no_context_takeover" => reset_compress = true,
                "server_no_context_takeover" => reset_inflate = true,
                "client_max_window_bits" => {
                    client_bits = value
                        .trim()
                        .trim_matches('"')
                        .parse()
                        .map_err(|_| format!("bad client_max_window_bits in {answer}"))?;
                }
                "server_max_window_bits" => {}
                _ => return Err(format!("unknown parameter in {answer}")),
            }
        }
        if !(9..=15).contains(&client_bits) {
            return Err(format!("client_max_window_bits outside 9..=15 in {answer}"));
        }
        Ok(Deflate {
            compress: Compress::new_with_window_bits(Compression::new(level), false, client_bits),
            reset_compress,
            inflate: Decompress::new_with_window_bits(false, 15),
            reset_inflate,
        })
    }

    /// One message's payload, compressed, without the sync flush's tail.
    pub fn compress(&mut self, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(data.len() / 2 + 64);
        let start = self.compress.total_in();
        loop {
            let consumed = (self.compress.total_in() - start) as usize;
            out.reserve(4096.max(out.capacity() / 4));
            self.compress
                .compress_vec(&data[consumed..], &mut out, FlushCompress::Sync)
                .expect("zlib compresses any input");
            let done = (self.compress.total_in() - start) as usize == data.len();
            if done && out.len() < out.capacity() {
                break;
            }
        }
        if out.is_empty() {
            // zlib emits nothing for a sync flush with no input right after another one (it
            // refuses to repeat an empty block); an empty message is the one byte of an empty
            // stored block's header, RFC 7692 section 7.2.3.6.
            out.push(0);
        } else {
            assert!(out.ends_with(&TAIL), "a sync flush ends in 00 00 ff ff");
            out.truncate(out.len() - TAIL.len());
        }
        if self.reset_compress {
            self.compress.reset();
        }
        out
    }

    /// Inflates `input` (part of a compressed message from the server), handing out what it
    /// produces a piece at a time; `last` appends the tail and ends the message.
    pub fn inflate(
        &mut self,
        mut input: &[u8],
        scratch: &mut [u8],
        mut sink: impl FnMut(&[u8]) -> Result<(), String>,
    ) -> Result<(), String> {
        loop {
            let (in0, out0) = (self.inflate.total_in(), self.inflate.total_out());
            let status = self
                .inflate
                .decompress(input, scratch, FlushDecompress::Sync)
                .map_err(|e| format!("the server's compressed data does not inflate: {e}"))?;
            let consumed = (self.inflate.total_in() - in0) as usize;
            let produced = (self.inflate.total_out() - out0) as usize;
            input = &input[consumed..];
            if produced > 0 {
                sink(&scratch[..produced])?;
            }
            if status == Status::StreamEnd {
                return Err("the server's message holds a final deflate block".into());
            }
            if input.is_empty() && produced < scratch.len() {
                return Ok(());
            }
            if consumed == 0 && produced == 0 {
                return Err("inflater made no progress".into());
            }
        }
    }

    /// Ends the server's message (after its last compressed bytes).
    pub fn end_message(
        &mut self,
        scratch: &mut [u8],
        sink: impl FnMut(&[u8]) -> Result<(), String>,
    ) -> Result<(), String> {
        self.inflate(&TAIL, scratch, sink)?;
        if self.reset_inflate {
            self.inflate.reset(false);
        }
        Ok(())
    }
}

/// `data` as one message of its own: a fresh raw deflate stream with a 512-byte window (so
/// that it is valid whatever window the server allowed us, and whatever came before it: it
/// refers to nothing earlier), ending in a sync flush whose tail is removed. Built once and
/// sent many times, for the messages whose content does not matter (slow readers' floods),
/// so that compressing them does not take the driver's time.
pub fn standalone(data: &[u8]) -> Vec<u8> {
    let mut d = Deflate {
        compress: Compress::new_with_window_bits(Compression::fast(), false, 9),
        reset_compress: true,
        inflate: Decompress::new_with_window_bits(false, 15),
        reset_inflate: true,
    };
    d.compress(data)
}

/// A message that inflates to `size` zero bytes: raw deflate at the best level (with the
/// smallest window, as [`standalone`]), ending in a sync flush whose tail is removed. Built
/// once; about a thousandth of `size`.
pub fn bomb(size: usize) -> Vec<u8> {
    let mut c = Compress::new_with_window_bits(Compression::best(), false, 9);
    let zeros = vec![0u8; 1 << 20];
    let mut out = Vec::with_capacity(size / 800 + 1024);
    let mut left = size;
    while left > 0 {
        let n = left.min(zeros.len());
        let before = c.total_in();
        while ((c.total_in() - before) as usize) < n {
            let done = (c.total_in() - before) as usize;
            out.reserve(64 << 10);
            c.compress_vec(&zeros[done..n], &mut out, FlushCompress::None)
                .expect("zlib compresses any input");
        }
        left -= n;
    }
    loop {
        out.reserve(64 << 10);
        c.compress_vec(&[], &mut out, FlushCompress::Sync)
            .expect("zlib flushes");
        if out.len() < out.capacity() {
            break;
        }
    }
    out.truncate(out.len() - TAIL.len());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_through_the_sync_flush_convention() {
        for answer in [
            "permessage-deflate",
            "permessage-deflate; client_max_window_bits=12",
            "permessage-deflate; client_no_context_takeover; server_no_context_takeover",
        ] {
            let mut a = Deflate::from_answer(answer, 6).unwrap();
            // `b` inflates what `a` compresses: swap the roles of the two halves by hand.
            let mut b = Deflate::from_answer(answer, 6).unwrap();
            b.reset_inflate = a.reset_compress;
            let mut scratch = vec![0u8; 1000];
            for msg in [
                &b"hello hello hello"[..],
                b"",
                b"",
                &[7u8; 100_000],
                b"",
                b"hello",
            ] {
                let compressed = a.compress(msg);
                let mut got = Vec::new();
                b.inflate(&compressed, &mut scratch, |p| {
                    got.extend_from_slice(p);
                    Ok(())
                })
                .unwrap();
                b.end_message(&mut scratch, |p| {
                    got.extend_from_slice(p);
                    Ok(())
                })
                .unwrap();
                assert_eq!(got, msg, "{answer}");
            }
        }
    }

    #[test]
    fn a_bomb_inflates_to_its_size() {
        let bomb = bomb(3 << 20);
        assert!(bomb.len() < 8 << 10, "{} bytes", bomb.len());
        let mut d = Deflate::from_answer("permessage-deflate", 1).unwrap();
        let mut scratch = vec![0u8; 1 << 16];
        let mut total = 0;
        d.inflate(&bomb, &mut scratch, |p| {
            assert!(p.iter().all(|&b| b == 0));
            total += p.len();
            Ok(())
        })
        .unwrap();
        d.end_message(&mut scratch, |p| {
            total += p.len();
            Ok(())
        })
        .unwrap();
        assert_eq!(total, 3 << 20);
    }
}
