//! Arbitrary header lists to the HTTP/2-3 extended CONNECT handshake (RFC 8441, RFC 9220), on
//! both sides. Server: a list becomes an upgrade request or a typed error; an accepted request
//! answers `:status 200` with fields the crate's own rules allow. Client: after a real request
//! (offering permessage-deflate and two subprotocols), arbitrary response lists, interim ones
//! included, end in one outcome at most, after which the handshake refuses more.
#![no_main]

use std::sync::Arc;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use sansws::extensions::deflate::{DeflateConfig, PerMessageDeflate};
use sansws::handshake::h2::{client_request, error_fields, parse_request};
use sansws::handshake::{AcceptOptions, ClientRequest, HandshakeConfig};

#[derive(Arbitrary, Debug)]
struct Input {
    /// Fields of the request the server sees.
    request: Vec<(Vec<u8>, Vec<u8>)>,
    /// A well-formed request with these replacements, so the fuzzer reaches acceptance.
    good_request_with: Vec<(u8, Vec<u8>)>,
    subprotocol: Option<String>,
    /// Response field lists the client sees, in order (interim ones may come first).
    responses: Vec<Vec<(Vec<u8>, Vec<u8>)>>,
}

const GOOD: &[(&str, &str)] = &[
    (":method", "CONNECT"),
    (":protocol", "websocket"),
    (":scheme", "https"),
    (":path", "/chat"),
    (":authority", "example.com"),
    ("sec-websocket-version", "13"),
    ("sec-websocket-protocol", "chat, superchat"),
    ("sec-websocket-extensions", "permessage-deflate; client_max_window_bits"),
];

fn config() -> HandshakeConfig {
    HandshakeConfig::default()
        .extension(Arc::new(PerMessageDeflate::new(DeflateConfig::default())))
}

fn serve(fields: &[(Vec<u8>, Vec<u8>)], subprotocol: &Option<String>) {
    match parse_request(fields.iter().map(|(n, v)| (&n[..], &v[..])), &config()) {
        Ok(request) => {
            let mut accept = AcceptOptions::new();
            if let Some(p) = subprotocol {
                accept = accept.subprotocol(p.clone());
            }
            if let Ok(accepted) = request.accept(accept) {
                assert!(accepted.fields.iter().any(|(n, v)| n == ":status" && v == "200"));
                for (name, value) in &accepted.fields {
                    assert!(!name.bytes().any(|b| b.is_ascii_uppercase()), "{name}");
                    assert!(!value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0));
                }
            }
        }
        Err(error) => {
            let fields = error_fields(&error);
            assert!(fields.iter().any(|(n, _)| n == ":status"));
        }
    }
}

fuzz_target!(|input: Input| {
    serve(&input.request, &input.subprotocol);
    let mut good: Vec<(Vec<u8>, Vec<u8>)> = GOOD
        .iter()
        .map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec()))
        .collect();
    for (at, value) in &input.good_request_with {
        let i = *at as usize % good.len();
        good[i].1 = value.clone();
    }
    serve(&good, &input.subprotocol);

    let request = ClientRequest::new("example.com", "/chat")
        .subprotocol("chat")
        .subprotocol("superchat");
    let (mut client, _fields) = client_request(&request, "https", &config()).unwrap();
    let mut finished = false;
    for response in &input.responses {
        let result = client.response(response.iter().map(|(n, v)| (&n[..], &v[..])));
        if finished {
            assert!(result.is_err(), "an outcome after the final one");
        }
        if !matches!(result, Ok(None)) {
            finished = true;
        }
    }
});
