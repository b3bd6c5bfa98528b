//! The scripted session: a sansws server reads a recorded client byte stream (opening
//! handshake offering permessage-deflate, messages, a ping, a close), echoes every message,
//! and its output is compared with the output that client accepted.
//!
//! The peer is recorded, not simulated here: `peer/record.py` drove Python's `websockets`
//! client (zlib) and verified this server's output with it; see that script.

use alloc::sync::Arc;
use core::fmt::Write;

use sansws::extensions::deflate::{DeflateConfig, PerMessageDeflate};
use sansws::handshake::{AcceptOptions, HandshakeConfig};
use sansws::{Config, Connection, Event, State, Transport};

use crate::heap;

/// What the client sent, in the order it sent it.
pub const CLIENT_BYTES: &[u8] = include_bytes!("../peer/client.bin");
/// The client's messages, for comparing what the server decodes: records of a kind byte
/// (`T` text, `B` binary, `P` ping, `C` close), a big-endian u32 length and the payload.
pub const CLIENT_MESSAGES: &[u8] = include_bytes!("../peer/messages.bin");
/// The server output the client accepted (the 101 response, the echoes, the pong, the close
/// reply), checked byte for byte: nothing on the server side is random.
pub const SERVER_BYTES: &[u8] = include_bytes!("../peer/server.bin");

/// Sizes of the pieces the "driver" hands to the connection, in turn, so the handshake and
/// frames are cut at many different points.
const READ_SIZES: [usize; 6] = [1, 7, 16, 61, 3, 256];
/// The most bytes the "UART" takes per write: output leaves in partial writes.
const WRITE_SIZE: usize = 13;

/// The outcome of a session.
#[derive(Debug)]
pub struct Outcome {
    /// Checks that failed (each is also printed as a `MISMATCH` line).
    pub mismatches: usize,
    /// Bytes the server wrote into the wire buffer.
    pub written: usize,
    /// Most heap bytes the session had in use at once.
    pub heap_peak: usize,
}

/// Runs the session, printing each step to `log`. The server's output goes to `wire`; it is
/// compared with `expected` when given (recording passes `None`).
pub fn run(wire: &mut [u8], expected: Option<&[u8]>, log: &mut dyn Write) -> Outcome {
    let mut s = Session {
        log,
        mismatches: 0,
        messages: Records(CLIENT_MESSAGES),
        count: 0,
    };
    s.say(format_args!(
        "peer: recorded client, {} bytes, read in pieces of {:?} bytes",
        CLIENT_BYTES.len(),
        READ_SIZES
    ));
    let heap_before = heap::used();
    heap::reset_peak();

    let written = s.serve(wire);

    let heap_peak = heap::peak() - heap_before;
    s.check(
        heap::used() == heap_before,
        format_args!("heap: every byte returned once the connection was dropped"),
    );
    match expected {
        Some(expected) => s.compare_output(&wire[..written], expected),
        None => s.say(format_args!("output: recorded, not compared")),
    }
    Outcome {
        mismatches: s.mismatches,
        written,
        heap_peak,
    }
}

struct Session<'a> {
    log: &'a mut dyn Write,
    mismatches: usize,
    messages: Records,
    count: usize,
}

impl Session<'_> {
    fn say(&mut self, line: core::fmt::Arguments) {
        let _ = writeln!(self.log, "{line}");
    }

    fn check(&mut self, ok: bool, line: core::fmt::Arguments) {
        if !ok {
            self.mismatches += 1;
            let _ = write!(self.log, "MISMATCH: ");
        }
        self.say(line);
    }

    /// The server's life: read, handle events, write; returns the bytes written to `wire`.
    fn serve(&mut self, wire: &mut [u8]) -> usize {
        let deflate = PerMessageDeflate::new(DeflateConfig::default());
        let handshake = HandshakeConfig::default().extension(Arc::new(deflate));
        let mut conn = Connection::server_upgrade(Config::default(), handshake);
        let mut written = 0;
        let mut input = CLIENT_BYTES;
        for size in READ_SIZES.iter().cycle() {
            if input.is_empty() {
                break;
            }
            let (piece, rest) = input.split_at((*size).min(input.len()));
            input = rest;
            conn.receive(piece);
            while let Some(event) = conn.next_event() {
                self.handle(&mut conn, event);
            }
            while !conn.pending_output().is_empty() {
                let n = conn.pending_output().len().min(WRITE_SIZE);
                let Some(slot) = wire.get_mut(written..written + n) else {
                    self.check(false, format_args!("output: wire buffer full"));
                    return written;
                };
                slot.copy_from_slice(&conn.pending_output()[..n]);
                conn.advance_output(n);
                written += n;
            }
        }
        let left = self.messages.next();
        self.check(
            left.is_none(),
            format_args!("script: every message the client sent was received"),
        );
        self.check(
            conn.state() == State::Closed && conn.transport() == Transport::Close,
            format_args!(
                "close: state {:?}, transport {:?} (the server closes the TCP connection)",
                conn.state(),
                conn.transport()
            ),
        );
        written
    }

    fn handle(&mut self, conn: &mut Connection, event: Result<Event, sansws::Error>) {
        let event = match event {
            Ok(event) => event,
            Err(e) => return self.check(false, format_args!("error: {e}")),
        };
        match event {
            Event::UpgradeRequest => {
                let Some(request) = conn.upgrade_request() else {
                    return self.check(false, format_args!("handshake: no request"));
                };
                let offer = request
                    .header("sec-websocket-extensions")
                    .and_then(|v| core::str::from_utf8(v).ok())
                    .unwrap_or("");
                self.say(format_args!(
                    "handshake: GET {} from {}, offering \"{}\"",
                    request.target, request.host, offer
                ));
                let accepted = conn.accept(AcceptOptions::new());
                let extension = conn.extension().map(|e| e.name()).unwrap_or("none");
                self.check(
                    accepted.is_ok() && extension == "permessage-deflate",
                    format_args!("handshake: accepted, extension in force: {extension}"),
                );
            }
            Event::Text(text) => {
                self.count += 1;
                let count = self.count;
                let sent = self.expect(b'T', text.as_bytes());
                let text = text.as_str();
                let echoed = conn.send_text(text).is_ok();
                self.check(
                    sent && echoed,
                    format_args!(
                        "message {}: text, {} bytes ({} chars), as sent; echoed",
                        count,
                        text.len(),
                        text.chars().count()
                    ),
                );
            }
            Event::Binary(data) => {
                self.count += 1;
                let count = self.count;
                let sent = self.expect(b'B', &data);
                let echoed = conn.send_binary(&data).is_ok();
                self.check(
                    sent && echoed,
                    format_args!(
                        "message {}: binary, {} bytes, as sent; echoed",
                        count,
                        data.len()
                    ),
                );
            }
            Event::Ping(data) => {
                let sent = self.expect(b'P', &data);
                self.check(
                    sent,
                    format_args!("ping: {} bytes, as sent; pong queued", data.len()),
                );
            }
            Event::Close(frame) => {
                let (code, reason) = frame
                    .as_ref()
                    .map(|f| (f.code.0, f.reason.as_str()))
                    .unwrap_or((1005, ""));
                let mut payload = [0u8; 125];
                payload[..2].copy_from_slice(&code.to_be_bytes());
                let n = 2 + reason.len().min(123);
                payload[2..n].copy_from_slice(&reason.as_bytes()[..n - 2]);
                let sent = self.expect(b'C', &payload[..n]);
                self.check(
                    sent,
                    format_args!("close: peer sent {code} \"{reason}\", as sent; close answered"),
                );
            }
            other => self.check(false, format_args!("unexpected event {other:?}")),
        }
    }

    /// Whether the client's next message is of `kind` and carried `payload`.
    fn expect(&mut self, kind: u8, payload: &[u8]) -> bool {
        self.messages.next() == Some((kind, payload))
    }

    fn compare_output(&mut self, output: &[u8], expected: &[u8]) {
        let differs_at = output
            .iter()
            .zip(expected)
            .position(|(a, b)| a != b)
            .or((output.len() != expected.len()).then(|| output.len().min(expected.len())));
        match differs_at {
            None => self.say(format_args!(
                "output: identical to the output the recorded client accepted"
            )),
            Some(at) => self.check(
                false,
                format_args!(
                    "output: {} bytes, expected {}, first difference at byte {at}",
                    output.len(),
                    expected.len()
                ),
            ),
        }
    }
}

/// Reads `messages.bin` records: kind, big-endian u32 length, payload.
struct Records(&'static [u8]);

impl Iterator for Records {
    type Item = (u8, &'static [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let (&kind, rest) = self.0.split_first()?;
        let len = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?) as usize;
        let payload = rest.get(4..4 + len)?;
        self.0 = &rest[4 + len..];
        Some((kind, payload))
    }
}
