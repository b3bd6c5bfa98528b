//! Client-side WebSocket framing written by hand (RFC 6455 section 5), shared by the load
//! generator and the soak driver: independent of every library under test, and able to send
//! what no library would (reserved bits and opcodes, lengths it never follows, unmasked frames).

use base64::Engine;

/// The GUID of RFC 6455 section 1.3, hashed with the client's key into the accept value.
pub const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// Bytes waiting to be written. The buffer keeps its length between messages and only the
/// part up to `end` is live, so that writing the next frame into it does not zero a megabyte
/// first.
#[derive(Default)]
pub struct Output {
    buf: Vec<u8>,
    end: usize,
    written: usize,
}

impl Output {
    /// `n` more bytes at the end of what waits, to be filled by the caller.
    pub fn append(&mut self, n: usize) -> &mut [u8] {
        let start = self.end;
        self.end += n;
        if self.buf.len() < self.end {
            self.buf.resize(self.end, 0);
        }
        &mut self.buf[start..self.end]
    }

    /// What waits to be written.
    pub fn pending(&self) -> &[u8] {
        &self.buf[self.written..self.end]
    }

    /// `n` bytes of `pending()` were written.
    pub fn advance(&mut self, n: usize) {
        self.written += n;
        if self.written == self.end {
            self.written = 0;
            self.end = 0;
        }
    }

    pub fn is_empty(&self) -> bool {
        self.end == 0
    }

    /// Gives the allocation back (for a connection that will send nothing large again).
    pub fn release(&mut self) {
        if self.is_empty() {
            self.buf = Vec::new();
        }
    }
}

/// Appends one client frame to `out`: `first` is the frame's first byte (FIN, RSV1-3,
/// opcode), its payload is the `len` bytes that `fill` writes, and it is masked with `key`
/// (`None` sends it unmasked, which a server must refuse).
pub fn push_frame(
    out: &mut Output,
    first: u8,
    len: usize,
    key: Option<[u8; 4]>,
    fill: impl FnOnce(&mut [u8]),
) {
    let mut header = [0u8; 14];
    let at = encode_length(&mut header, first, len as u64, key.is_some());
    let header_len = at + if key.is_some() { 4 } else { 0 };
    if let Some(key) = key {
        header[at..at + 4].copy_from_slice(&key);
    }
    let frame = out.append(header_len + len);
    frame[..header_len].copy_from_slice(&header[..header_len]);
    let payload = &mut frame[header_len..];
    fill(payload);
    if let Some(key) = key {
        mask(payload, key);
    }
}

/// Appends only a frame header announcing `len` payload bytes (masked, with `key`), for a
/// caller that sends the payload itself, or never does.
pub fn push_header(out: &mut Output, first: u8, len: u64, key: [u8; 4]) {
    let mut header = [0u8; 14];
    let at = encode_length(&mut header, first, len, true);
    header[at..at + 4].copy_from_slice(&key);
    out.append(at + 4).copy_from_slice(&header[..at + 4]);
}

/// Writes the first byte and the length fields; returns where the mask key goes.
fn encode_length(header: &mut [u8; 14], first: u8, len: u64, masked: bool) -> usize {
    let mask_bit = if masked { 0x80 } else { 0 };
    header[0] = first;
    if len < 126 {
        header[1] = mask_bit | len as u8;
        2
    } else if len <= 0xffff {
        header[1] = mask_bit | 126;
        header[2..4].copy_from_slice(&(len as u16).to_be_bytes());
        4
    } else {
        header[1] = mask_bit | 127;
        header[2..10].copy_from_slice(&len.to_be_bytes());
        10
    }
}

/// XORs `data` with the repeated `key`, eight bytes at a time so that the compiler
/// vectorizes it.
pub fn mask(data: &mut [u8], key: [u8; 4]) {
    let wide = u64::from_ne_bytes([
        key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3],
    ]);
    let mut chunks = data.chunks_exact_mut(8);
    for c in &mut chunks {
        let v = u64::from_ne_bytes((&*c).try_into().expect("8 bytes")) ^ wide;
        c.copy_from_slice(&v.to_ne_bytes());
    }
    for (i, b) in chunks.into_remainder().iter_mut().enumerate() {
        *b ^= key[i & 3];
    }
}

/// A fresh handshake key (base64 of 16 random bytes) and the Sec-WebSocket-Accept value
/// that answers it (RFC 6455 section 4.2.2).
pub fn handshake_key() -> (String, String) {
    let key = base64::engine::general_purpose::STANDARD.encode(fastrand::u128(..).to_ne_bytes());
    let accept = accept_value(&key);
    (key, accept)
}

/// Sec-WebSocket-Accept for `key`.
pub fn accept_value(key: &str) -> String {
    let mut sha = sha1_smol::Sha1::new();
    sha.update(key.as_bytes());
    sha.update(GUID.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(sha.digest().bytes())
}

/// The opening handshake's request, with `extra` header lines (each ending in CRLF).
pub fn handshake_request(host: &str, key: &str, extra: &str) -> String {
    format!(
        "GET / HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n"
    )
}

/// The handshake response's head, once its blank line arrived.
pub struct ResponseHead {
    /// The status line.
    pub status: String,
    /// Header names in lower case, values trimmed.
    pub headers: Vec<(String, String)>,
    /// How many bytes of the input the head took (the frames start there).
    pub len: usize,
}

impl ResponseHead {
    /// Parses `data` if it holds the whole head; `Ok(None)` while the blank line is missing.
    pub fn parse(data: &[u8]) -> Result<Option<ResponseHead>, String> {
        let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") else {
            if data.len() > 8192 {
                return Err("handshake response longer than 8 KiB".into());
            }
            return Ok(None);
        };
        let head = String::from_utf8_lossy(&data[..end]).into_owned();
        let mut lines = head.split("\r\n");
        let status = lines.next().unwrap_or_default().to_string();
        let headers = lines
            .map(|line| {
                let (name, value) = line.split_once(':').unwrap_or((line, ""));
                (name.trim().to_ascii_lowercase(), value.trim().to_string())
            })
            .collect();
        Ok(Some(ResponseHead {
            status,
            headers,
            len: end + 4,
        }))
    }

    /// The value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Checks the status and the accept value: the server agreed to upgrade.
    pub fn check_upgrade(&self, accept: &str) -> Result<(), String> {
        if !self.status.starts_with("HTTP/1.1 101") {
            return Err(format!("handshake refused: {}", self.status));
        }
        if self.header("sec-websocket-accept") != Some(accept) {
            return Err("missing or wrong Sec-WebSocket-Accept".into());
        }
        Ok(())
    }
}

/// A server frame's header.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Head {
    pub fin: bool,
    /// RSV1-3 as bits 0x40, 0x20, 0x10 of the first byte.
    pub rsv: u8,
    pub opcode: u8,
    pub masked: bool,
    pub len: u64,
}

/// Reads frame headers that may arrive split at any byte.
pub struct HeadReader {
    buf: [u8; 14],
    have: usize,
    need: usize,
}

impl Default for HeadReader {
    fn default() -> Self {
        HeadReader {
            buf: [0; 14],
            have: 0,
            need: 2,
        }
    }
}

impl HeadReader {
    /// Takes header bytes from the front of `data`; returns the header once it is complete
    /// (and is then ready for the next one).
    pub fn feed(&mut self, data: &mut &[u8]) -> Option<Head> {
        loop {
            let take = (self.need - self.have).min(data.len());
            self.buf[self.have..self.have + take].copy_from_slice(&data[..take]);
            self.have += take;
            *data = &data[take..];
            if self.have < self.need {
                return None;
            }
            let (b0, b1) = (self.buf[0], self.buf[1]);
            let masked = b1 & 0x80 != 0;
            let need =
                2 + match b1 & 0x7f {
                    126 => 2,
                    127 => 8,
                    _ => 0,
                } + if masked { 4 } else { 0 };
            if self.need < need {
                self.need = need;
                continue;
            }
            let len = match b1 & 0x7f {
                126 => u64::from(u16::from_be_bytes([self.buf[2], self.buf[3]])),
                127 => u64::from_be_bytes(self.buf[2..10].try_into().expect("8 bytes")),
                n => u64::from(n),
            };
            self.have = 0;
            self.need = 2;
            return Some(Head {
                fin: b0 & 0x80 != 0,
                rsv: b0 & 0x70,
                opcode: b0 & 0x0f,
                masked,
                len,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_split_at_every_byte_parse_alike() {
        let mut out = Output::default();
        push_frame(&mut out, 0x81, 3, None, |p| p.copy_from_slice(b"abc"));
        push_header(&mut out, 0x42, 70_000, [1, 2, 3, 4]);
        push_header(&mut out, 0x02, 1 << 40, [5, 6, 7, 8]);
        let bytes = out.pending().to_vec();
        let expected = [
            Head {
                fin: true,
                rsv: 0,
                opcode: 1,
                masked: false,
                len: 3,
            },
            Head {
                fin: false,
                rsv: 0x40,
                opcode: 2,
                masked: true,
                len: 70_000,
            },
            Head {
                fin: false,
                rsv: 0,
                opcode: 2,
                masked: true,
                len: 1 << 40,
            },
        ];
        for step in 1..=bytes.len() {
            let mut reader = HeadReader::default();
            let mut heads = Vec::new();
            let mut skip = 0;
            for chunk in bytes.chunks(step) {
                let mut data = chunk;
                while !data.is_empty() {
                    if skip > 0 {
                        let n = skip.min(data.len());
                        skip -= n;
                        data = &data[n..];
                        continue;
                    }
                    if let Some(h) = reader.feed(&mut data) {
                        skip = if h.len < 1000 { h.len as usize } else { 0 };
                        heads.push(h);
                    }
                }
            }
            assert_eq!(heads, expected, "chunks of {step}");
        }
    }

    #[test]
    fn masking_round_trips_at_every_length() {
        for len in 0..40 {
            let data: Vec<u8> = (0..len as u8).collect();
            let mut masked = data.clone();
            mask(&mut masked, [9, 8, 7, 6]);
            for (i, (m, d)) in masked.iter().zip(&data).enumerate() {
                assert_eq!(*m, d ^ [9, 8, 7, 6][i & 3]);
            }
            mask(&mut masked, [9, 8, 7, 6]);
            assert_eq!(masked, data);
        }
    }

    #[test]
    fn the_accept_value_of_the_rfc_example() {
        // RFC 6455 section 1.3.
        assert_eq!(
            accept_value("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }
}
