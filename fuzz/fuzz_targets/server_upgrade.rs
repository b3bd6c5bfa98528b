//! A server connection from its first byte: arbitrary bytes (an HTTP request and whatever
//! follows it), arbitrary chunking, and an arbitrary decision (accept with a subprotocol and
//! headers, or reject with a status, headers and a body). Invariants: no panic; a rejected or
//! refused request yields one HTTP response and nothing after it; an accepted one yields a
//! 101 first, and then only whole frames.
#![no_main]

use std::sync::Arc;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use sansws::extensions::deflate::{DeflateConfig, PerMessageDeflate};
use sansws::frame::decode_header;
use sansws::handshake::{AcceptOptions, HandshakeConfig};
use sansws::{Config, Connection, Event};

#[derive(Arbitrary, Debug)]
enum Decision {
    Accept {
        subprotocol: Option<String>,
        headers: Vec<(String, String)>,
    },
    Reject {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
}

#[derive(Arbitrary, Debug)]
struct Input {
    chunk: u8,
    /// A valid request prefix is prepended when set, so the fuzzer reaches the decision.
    valid_prefix: bool,
    bytes: Vec<u8>,
    decision: Decision,
    config: Config,
    deflate: Option<DeflateConfig>,
}

const REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n\
Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat\r\n\
Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n";

fuzz_target!(|input: Input| {
    let mut handshake = HandshakeConfig::default().max_head_bytes(4096);
    if let Some(deflate) = input.deflate {
        handshake = handshake.extension(Arc::new(PerMessageDeflate::new(deflate)));
    }
    let mut conn = Connection::server_upgrade(input.config, handshake);
    let mut data = Vec::new();
    if input.valid_prefix {
        data.extend_from_slice(REQUEST);
    }
    data.extend_from_slice(&input.bytes);
    let mut decided = false;
    let mut accepted = false;
    let mut decision = Some(input.decision);
    for piece in data.chunks(input.chunk as usize % 64 + 1) {
        conn.receive(piece);
        while let Some(event) = conn.next_event() {
            if let Ok(Event::UpgradeRequest) = event {
                assert!(!decided, "two upgrade requests");
                decided = true;
                match decision.take().unwrap() {
                    Decision::Accept {
                        subprotocol,
                        headers,
                    } => {
                        let mut accept = AcceptOptions::new();
                        if let Some(p) = subprotocol {
                            accept = accept.subprotocol(p);
                        }
                        for (n, v) in headers {
                            accept = accept.header(n, v);
                        }
                        accepted = conn.accept(accept).is_ok();
                    }
                    Decision::Reject {
                        status,
                        headers,
                        body,
                    } => {
                        let headers: Vec<(&str, &str)> =
                            headers.iter().map(|(n, v)| (&n[..], &v[..])).collect();
                        let _ = conn.reject(status, &headers, &body);
                    }
                }
            }
        }
    }
    let out = conn.pending_output().to_vec();
    if out.is_empty() {
        return;
    }
    assert!(out.starts_with(b"HTTP/1.1 "), "output starts with a status line");
    let head_end = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a whole response head")
        + 4;
    if accepted {
        assert!(out.starts_with(b"HTTP/1.1 101 "));
        // Only whole frames follow the 101 (replies to pipelined frames, a close).
        let mut pos = head_end;
        while pos < out.len() {
            let (h, n) = decode_header(&out[pos..])
                .expect("valid header")
                .expect("whole header");
            pos += n + h.payload_len as usize;
            assert!(pos <= out.len(), "a frame cut short");
        }
    } else {
        assert!(!out.starts_with(b"HTTP/1.1 101 "));
        // The body of a refusal is exactly its Content-Length, and nothing follows it.
        let head = std::str::from_utf8(&out[..head_end]).expect("ASCII head");
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("Content-Length: "))
            .expect("Content-Length")
            .trim()
            .parse()
            .expect("a number");
        assert_eq!(out.len(), head_end + length);
    }
});
