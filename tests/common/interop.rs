//! Shared by the interoperability tests against peers nobody here wrote
//! (tests/interop_node.rs, tests/interop_chromium.rs): the message script that the peers
//! generate the same way (tests/peers/ws_peer.js, tests/peers/chromium_peer.html), a blocking
//! driver over `std::net` bounded by a deadline, streamed sends, a guard that kills a child
//! process, and comparisons that do not print a megabyte when they fail.
#![allow(dead_code)]

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

use sansws::{Connection, Event, MessageKind, Transport};

/// Panics, telling how to install the peers, unless `path` exists.
pub fn require_peer(path: &Path, what: &str) {
    assert!(
        path.exists(),
        "{what} not found at {}: run scripts/setup-test-peers.sh first (scripts/test.sh does)",
        path.display()
    );
}

// ---- the message script (keep in step with tests/peers/ws_peer.js) ----

/// xorshift32, the generator the JavaScript peers implement bit for bit.
pub struct XorShift32(u32);

impl XorShift32 {
    pub fn new(seed: u32) -> Self {
        Self(if seed == 0 { 1 } else { seed })
    }
    pub fn next(&mut self) -> u32 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.0 = x;
        x
    }
}

const WORDS: &[&str] = &[
    "alpha",
    "beta",
    "γάμμα",
    "δέλτα",
    "€",
    "𝄞",
    "{\"id\":",
    "\"name\":",
    "true,",
    "null",
    "日本語",
    "ok",
];

/// Words joined by spaces until the UTF-8 length reaches `n` bytes (compressible text).
pub fn words(seed: u32, n: usize) -> Vec<u8> {
    let mut rng = XorShift32::new(seed);
    let mut out = String::new();
    let mut len = 0;
    while len < n {
        let w = WORDS[rng.next() as usize % WORDS.len()];
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
        len += w.len() + 1;
    }
    out.into_bytes()
}

/// `n` random bytes (incompressible).
pub fn random(seed: u32, n: usize) -> Vec<u8> {
    let mut rng = XorShift32::new(seed);
    (0..n).map(|_| rng.next() as u8).collect()
}

/// A random block of `block` bytes repeated up to `n` bytes: its only matches lie `block`
/// bytes back, beyond small windows.
pub fn blocks(seed: u32, block: usize, n: usize) -> Vec<u8> {
    let one = random(seed, block);
    one.iter().copied().cycle().take(n).collect()
}

/// One scripted message.
#[derive(Clone)]
pub struct Message {
    pub kind: MessageKind,
    pub data: Vec<u8>,
}

/// The script: empty text and binary, small non-ASCII text, all 256 byte values, 64 KiB of
/// compressible text and of random bytes, then `big` bytes (1 MiB in the full script) of
/// compressible text, of random bytes and of a repeated 3000-byte block, and a small
/// repetitive text.
pub fn script(big: usize) -> Vec<Message> {
    let text = |data: Vec<u8>| Message {
        kind: MessageKind::Text,
        data,
    };
    let binary = |data: Vec<u8>| Message {
        kind: MessageKind::Binary,
        data,
    };
    vec![
        text(Vec::new()),
        binary(Vec::new()),
        text("héllo, wörld — κόσμε — 你好 — 🎉𝄞".as_bytes().to_vec()),
        binary((0..=255u8).collect()),
        text(words(4, 64 * 1024)),
        binary(random(5, 64 * 1024)),
        text(words(6, big)),
        binary(random(7, big)),
        binary(blocks(8, 3000, big)),
        text("the end €".repeat(50).into_bytes()),
    ]
}

/// "text of 12 bytes", for messages in assertion failures.
pub fn describe(kind: MessageKind, data: &[u8]) -> String {
    let kind = match kind {
        MessageKind::Text => "text",
        MessageKind::Binary => "binary",
    };
    format!("{kind} of {} bytes", data.len())
}

/// Asserts `got` is exactly `want`, reporting lengths and the first difference (not the
/// payloads, which may be a megabyte).
#[track_caller]
pub fn assert_same(got: &[u8], want: &[u8], context: &str) {
    if got != want {
        let at = got
            .iter()
            .zip(want)
            .position(|(a, b)| a != b)
            .unwrap_or(got.len().min(want.len()));
        panic!(
            "{context}: got {} bytes, want {}; first difference at byte {at} ({:?} vs {:?})",
            got.len(),
            want.len(),
            &got[at..got.len().min(at + 16)],
            &want[at..want.len().min(at + 16)],
        );
    }
}

/// Sends `data` as a streamed message: a first fragment that ends inside a code point when
/// the text has any, a ping (if given), an empty fragment, a middle one, and the last.
pub fn send_streamed(conn: &mut Connection, kind: MessageKind, data: &[u8], ping: Option<&[u8]>) {
    let mut a = data.len() / 3;
    if kind == MessageKind::Text {
        if let Some(off) = data[a..].iter().position(|b| b & 0xC0 == 0x80) {
            a += off;
        }
    }
    let b = a.max(2 * data.len() / 3);
    conn.begin_message(kind).unwrap();
    conn.send_chunk(&data[..a]).unwrap();
    if let Some(p) = ping {
        conn.send_ping(p).unwrap();
    }
    conn.send_chunk(&[]).unwrap();
    conn.send_chunk(&data[a..b]).unwrap();
    conn.end_message(&data[b..]).unwrap();
}

// ---- driving a connection over std::net ----

/// Runs `conn` over `stream` until the connection is over (as examples/common/blocking.rs
/// does), calling `on_event` for each event. Returns the error that failed the connection,
/// if any, or `Err(TimedOut)` if `deadline` passed first. With `SANSWS_HIBERNATE` set in the
/// environment the connection hibernates whenever it waits for input, as the examples do.
pub fn drive(
    mut stream: TcpStream,
    conn: &mut Connection,
    deadline: Instant,
    mut on_event: impl FnMut(&mut Connection, Event),
) -> Result<Option<sansws::Error>, TimedOut> {
    let origin = Instant::now();
    let mut buf = vec![0u8; 64 * 1024];
    let mut failure = None;
    let remaining = || match deadline.saturating_duration_since(Instant::now()) {
        left if left.is_zero() => Err(TimedOut),
        left => Ok(left),
    };
    loop {
        while let Some(event) = conn.next_event() {
            match event {
                Ok(event) => on_event(conn, event),
                Err(e) => failure = Some(e),
            }
        }
        while conn.output_len() > 0 {
            stream.set_write_timeout(Some(remaining()?)).unwrap();
            match stream.write(conn.pending_output()) {
                Ok(0) => return Ok(failure),
                Ok(n) => conn.advance_output(n),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(_) => return Ok(failure),
            }
        }
        if conn.transport() == Transport::Close {
            let _ = stream.shutdown(Shutdown::Both);
            return Ok(failure);
        }
        if std::env::var_os("SANSWS_HIBERNATE").is_some() {
            conn.hibernate();
        }
        let now = origin.elapsed();
        let mut timeout = remaining()?;
        if let Some(at) = conn.poll_timeout(now) {
            timeout = timeout.min(at.saturating_sub(now));
        }
        stream
            .set_read_timeout(Some(timeout.max(Duration::from_millis(1))))
            .unwrap();
        match stream.read(&mut buf) {
            Ok(0) => {
                conn.receive_eof();
                if conn.transport() == Transport::AwaitPeerClose
                    || conn.state() == sansws::State::Closed
                {
                    return Ok(failure);
                }
            }
            Ok(n) => {
                conn.receive(&buf[..n]);
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                conn.handle_timeout(origin.elapsed());
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return Ok(failure),
        }
    }
}

/// The deadline given to [`drive`] passed.
#[derive(Debug)]
pub struct TimedOut;

/// Accepts one connection, or panics once `deadline` passes.
pub fn accept_until(listener: &TcpListener, deadline: Instant, what: &str) -> TcpStream {
    listener.set_nonblocking(true).unwrap();
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                stream.set_nonblocking(false).unwrap();
                stream.set_nodelay(true).unwrap();
                return stream;
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                assert!(
                    Instant::now() < deadline,
                    "timed out waiting for {what} to connect"
                );
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => panic!("accept: {e}"),
        }
    }
}

// ---- child processes ----

/// A child process killed (and reaped) when dropped, so that a failing test leaves nothing
/// running.
pub struct Guard(pub Child);

impl Guard {
    /// Waits for the child to exit, or panics once `deadline` passes (the drop kills it).
    pub fn wait_until(&mut self, deadline: Instant, what: &str) -> ExitStatus {
        loop {
            if let Some(status) = self.0.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what} to exit"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Reads everything from `from` on a thread (so a chatty child never blocks on a full pipe).
pub fn collect(mut from: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = from.read_to_end(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    })
}
