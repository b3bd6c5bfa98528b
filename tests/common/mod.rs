//! Shared test helpers, the only module test files include (`mod common;`): a deterministic
//! generator, fixed-key entropy, feeding bytes in chosen chunk sizes, moving output between
//! connections, and frames built and decoded independently of the crate's own masking. The
//! submodules group helpers by concern.
#![allow(dead_code)]

/// The blocking driver over `std::net` that the examples use (one driver for examples and
/// tests, so the interoperability tests run the same loop a user would copy).
#[path = "../../examples/common/blocking.rs"]
pub mod blocking;
pub mod counting;
pub mod deflate;
pub mod handshake;
pub mod interop;

use sansws::{Config, Connection, Error, Event};

/// xorshift64*: deterministic, good enough to pick sizes and bytes in tests.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
    pub fn text(&mut self, n_chars: usize) -> String {
        const PIECES: &[&str] = &["a", "Z", " ", "é", "€", "𝄞", "κ", "\u{7f}", "0"];
        (0..n_chars)
            .map(|_| PIECES[self.below(PIECES.len())])
            .collect()
    }
}

/// A client whose every mask key is `key` (for byte-exact comparisons with RFC examples).
pub fn client_with_key(config: Config, key: [u8; 4]) -> Connection {
    Connection::client(
        config,
        Box::new(move |dest: &mut [u8]| {
            for (i, b) in dest.iter_mut().enumerate() {
                *b = key[i % 4];
            }
        }),
    )
}

/// A client with mask keys from a seeded generator.
pub fn client_seeded(config: Config, seed: u64) -> Connection {
    let mut rng = Rng(seed | 1);
    Connection::client(
        config,
        Box::new(move |dest: &mut [u8]| {
            for b in dest.iter_mut() {
                *b = rng.next() as u8;
            }
        }),
    )
}

/// Feeds `bytes` in chunks of the given sizes (cycled) and collects every event.
pub fn feed_chunked(
    conn: &mut Connection,
    bytes: &[u8],
    sizes: &[usize],
) -> Vec<Result<Event, Error>> {
    let mut events = Vec::new();
    let mut pos = 0;
    let mut i = 0;
    while pos < bytes.len() {
        let n = sizes[i % sizes.len()].max(1).min(bytes.len() - pos);
        i += 1;
        conn.receive(&bytes[pos..pos + n]);
        pos += n;
        while let Some(ev) = conn.next_event() {
            events.push(ev);
        }
    }
    while let Some(ev) = conn.next_event() {
        events.push(ev);
    }
    events
}

/// Takes all pending output.
pub fn drain(conn: &mut Connection) -> Vec<u8> {
    let mut out = Vec::with_capacity(conn.pending_output_len());
    while conn.pending_output_len() > 0 {
        out.extend_from_slice(conn.pending_output());
        conn.advance_output(conn.pending_output().len());
    }
    out
}

/// Moves everything `from` has to send into `to` (the "network" between two connections).
pub fn pump(from: &mut Connection, to: &mut Connection) {
    while from.pending_output_len() > 0 {
        let n = from.pending_output().len();
        to.receive(from.pending_output());
        from.advance_output(n);
    }
}

/// Runs `conn`'s timers on the test's clock from `from` to `to`, as a host's loop would: polls
/// for the next deadline, and fires each one that falls within the span, in order. Returns the
/// deadline asked for at `to` (after the last poll), if any.
pub fn run_clock(
    conn: &mut Connection,
    from: std::time::Duration,
    to: std::time::Duration,
) -> Option<std::time::Duration> {
    let mut now = from;
    // Bounded: each timer moves its deadline forward when it fires.
    for _ in 0..10_000 {
        match conn.poll_timeout(now) {
            Some(deadline) if deadline <= to => {
                now = now.max(deadline);
                conn.handle_timeout(now);
            }
            next => return next,
        }
    }
    panic!("the timers fired 10,000 times between {from:?} and {to:?}");
}

/// XORs `payload` with `key` byte by byte (RFC 6455 §5.3), as written in the RFC: the tests'
/// own masking, independent of the crate's.
pub fn mask(payload: &mut [u8], key: [u8; 4]) {
    for (i, b) in payload.iter_mut().enumerate() {
        *b ^= key[i % 4];
    }
}

/// Decodes the frames in `wire`: each header with its payload, unmasked.
pub fn decoded_frames(wire: &[u8]) -> Vec<(sansws::frame::FrameHeader, Vec<u8>)> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < wire.len() {
        let (h, n) = sansws::frame::decode_header(&wire[pos..])
            .unwrap()
            .expect("whole header");
        let len = h.payload_len as usize;
        let mut payload = wire[pos + n..pos + n + len].to_vec();
        if let Some(key) = h.mask {
            mask(&mut payload, key);
        }
        out.push((h, payload));
        pos += n + len;
    }
    out
}

/// Decodes the frames in `wire` (unmasking them): (opcode bits, fin, payload).
pub fn frames(wire: &[u8]) -> Vec<(u8, bool, Vec<u8>)> {
    decoded_frames(wire)
        .into_iter()
        .map(|(h, payload)| (h.opcode.bits(), h.fin, payload))
        .collect()
}

/// The status code of the close frame in `wire`, if there is one (and it carries a code).
pub fn close_code_in(wire: &[u8]) -> Option<u16> {
    frames(wire)
        .into_iter()
        .find(|(op, _, _)| *op == 0x8)
        .and_then(|(_, _, p)| (p.len() >= 2).then(|| u16::from_be_bytes([p[0], p[1]])))
}

/// Builds one frame as a client would send it (masked with a fixed key), or unmasked.
pub fn frame(first_byte: u8, payload: &[u8], masked: bool) -> Vec<u8> {
    let key = [0x12, 0x34, 0x56, 0x78];
    let header = sansws::frame::FrameHeader {
        fin: first_byte & 0x80 != 0,
        rsv: first_byte & 0x70,
        opcode: sansws::frame::OpCode::from_bits(first_byte & 0x0F).expect("known opcode"),
        mask: masked.then_some(key),
        payload_len: payload.len() as u64,
    };
    let mut head = [0u8; 14];
    let n = sansws::frame::encode_header(&mut head, &header);
    let mut v = head[..n].to_vec();
    let start = v.len();
    v.extend_from_slice(payload);
    if masked {
        mask(&mut v[start..], key);
    }
    v
}
