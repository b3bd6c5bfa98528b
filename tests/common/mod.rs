//! Shared test helpers: a deterministic generator, fixed-key entropy, and drivers that pump
//! bytes between connections in chosen chunk sizes.
#![allow(dead_code)]

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
    let out = conn.pending_output().to_vec();
    conn.advance_output(out.len());
    out
}
