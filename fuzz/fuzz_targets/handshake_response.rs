//! Arbitrary bytes to the client handshake parser (after a real request), whole and chunked.
#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use sansws::extensions::deflate::{DeflateConfig, PerMessageDeflate};
use sansws::handshake::{ClientHandshake, ClientOutcome, ClientRequest, HandshakeConfig};

fn outcome(data: &[u8], chunk: usize) -> Option<Result<u16, ()>> {
    let config = HandshakeConfig::default()
        .extension(Arc::new(PerMessageDeflate::new(DeflateConfig::default())));
    let request = ClientRequest::new("example.com", "/chat").subprotocol("chat");
    let mut entropy = |b: &mut [u8]| b.fill(1);
    let (mut hs, _) = ClientHandshake::new(&request, &config, &mut entropy).ok()?;
    for piece in data.chunks(chunk.max(1)) {
        match hs.receive(piece) {
            Ok(None) => continue,
            Ok(Some(ClientOutcome::Accepted(_))) => return Some(Ok(101)),
            Ok(Some(ClientOutcome::Refused(r))) => return Some(Ok(r.status)),
            Err(_) => return Some(Err(())),
        }
    }
    None
}

fuzz_target!(|input: (u8, &[u8])| {
    let (chunk, data) = input;
    let whole = outcome(data, data.len());
    let chunked = outcome(data, chunk as usize % 13 + 1);
    if whole.is_some() && chunked.is_some() {
        assert_eq!(whole, chunked);
    }
});
