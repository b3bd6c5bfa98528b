//! Arbitrary bytes to the server handshake parser, whole and chunked: the same outcome either
//! way, and an accepted request always produces a 101 response.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sansws::handshake::{AcceptOptions, HandshakeConfig, ServerHandshake};

fn outcome(data: &[u8], chunk: usize) -> Option<Result<Vec<u8>, u16>> {
    let config = HandshakeConfig::default().max_head_bytes(2048);
    let mut hs = ServerHandshake::new(config);
    for piece in data.chunks(chunk.max(1)) {
        match hs.receive(piece) {
            Ok(None) => continue,
            Ok(Some(request)) => {
                let leftover = request.leftover().to_vec();
                let accepted = request.accept(AcceptOptions::new()).ok()?;
                assert!(accepted.response.starts_with(b"HTTP/1.1 101 "));
                return Some(Ok(leftover));
            }
            Err(rejection) => return Some(Err(rejection.error.status())),
        }
    }
    None
}

fuzz_target!(|input: (u8, &[u8])| {
    let (chunk, data) = input;
    let whole = outcome(data, data.len());
    let chunked = outcome(data, chunk as usize % 17 + 1);
    if let (Some(Ok(a)), Some(Ok(b))) = (&whole, &chunked) {
        // Bytes after the request are kept, whatever the chunking (the chunked run stops
        // feeding at the chunk that completed the request).
        assert!(a.starts_with(b) || b.starts_with(a));
    }
    if whole.is_some() && chunked.is_some() {
        assert_eq!(
            whole.as_ref().map(|r| r.is_ok()),
            chunked.as_ref().map(|r| r.is_ok())
        );
    }
});
