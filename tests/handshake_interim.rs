//! A client reads any number of interim `1xx` responses in time and memory linear in the
//! input: bytes counted by a global allocator, per thread, for n and 2n interim responses.

mod common;

use common::handshake::*;
use sansws::handshake::{ClientHandshake, ClientOutcome, ClientRequest, HandshakeConfig};

#[global_allocator]
static GLOBAL: common::counting::Counting = common::counting::Counting;

/// `n` interim responses, the 101 and a frame, as one input.
fn response(n: usize) -> Vec<u8> {
    let mut input = b"HTTP/1.1 100 Continue\r\n\r\n".repeat(n);
    input.extend_from_slice(
        format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {COUNTING_ACCEPT}\r\n\r\n"
        )
        .as_bytes(),
    );
    input.extend_from_slice(b"\x81\x00");
    input
}

/// Bytes allocated while a fresh handshake reads `input` in chunks of `chunk` bytes.
fn bytes_allocated(input: &[u8], chunk: usize) -> usize {
    let config = HandshakeConfig::default().max_headers(4);
    let request = ClientRequest::new("h", "/");
    let (mut hs, _) = ClientHandshake::new(&request, &config, &mut counting_entropy()).unwrap();
    let before = common::counting::bytes_allocated();
    let mut outcome = None;
    for piece in input.chunks(chunk) {
        if let Some(o) = hs.receive(piece).unwrap() {
            outcome = Some(o);
            break;
        }
    }
    let used = common::counting::bytes_allocated() - before;
    match outcome {
        Some(ClientOutcome::Accepted(a)) => assert_eq!(&a.leftover[..], b"\x81\x00"),
        other => panic!("{other:?}"),
    }
    used
}

#[test]
fn interim_responses_cost_linear_memory_traffic() {
    const N: usize = 4000;
    for chunk in [usize::MAX, 64 * 1024] {
        let small = response(N);
        let large = response(2 * N);
        let a = bytes_allocated(&small, chunk);
        let b = bytes_allocated(&large, chunk);
        println!(
            "chunk {chunk}: {N} interim: {a} B allocated; {}: {b} B",
            2 * N
        );
        // Twice the input, about twice the bytes (quadratic copying would make it four times),
        // and a small multiple of the input itself.
        assert!(b < a * 5 / 2, "{a} then {b}");
        assert!(b < 64 * large.len(), "{b} for {} input bytes", large.len());
    }
}
