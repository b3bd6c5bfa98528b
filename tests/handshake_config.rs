//! The handshake configuration's builders: the documented defaults, each limit enforced at
//! exactly its value on both sides, what the order of negotiators decides, and a `Debug` that
//! names the negotiators.

mod common;

use std::sync::Arc;

use common::handshake::{config_with, server_feed, TestNegotiator};
use sansws::extensions::deflate::{DeflateConfig, PerMessageDeflate};
use sansws::handshake::{
    AcceptOptions, ClientHandshake, ClientRequest, HandshakeConfig, HandshakeError,
};

/// A valid request with `extra` padding headers (5 headers of its own).
fn request_with(extra: usize, pad: usize) -> Vec<u8> {
    let mut s = String::from(
        "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n",
    );
    for i in 0..extra {
        s.push_str(&format!("X-{i}: {}\r\n", "a".repeat(pad)));
    }
    s.push_str("\r\n");
    s.into_bytes()
}

fn server_error(config: &HandshakeConfig, input: &[u8]) -> Option<HandshakeError> {
    server_feed(config, &[input]).err().map(|r| r.error)
}

#[test]
fn new_is_the_default_64_headers_and_8_kib() {
    let config = HandshakeConfig::new();
    assert_eq!(server_error(&config, &request_with(64 - 5, 1)), None);
    let e = server_error(&config, &request_with(64 - 5 + 1, 1)).unwrap();
    assert_eq!(e, HandshakeError::TooManyHeaders { limit: 64 });
    assert_eq!(e.status(), 431);
    assert_eq!(e.to_string(), "more than 64 headers");

    // 8 KiB of head: one byte over fails, exactly at the limit passes.
    let base = request_with(1, 0).len();
    let fits = request_with(1, 8 * 1024 - base);
    assert_eq!(fits.len(), 8 * 1024);
    assert_eq!(server_error(&config, &fits), None);
    let over = request_with(1, 8 * 1024 - base + 1);
    let e = server_error(&config, &over).unwrap();
    assert_eq!(e, HandshakeError::HeadTooLarge { limit: 8 * 1024 });
    assert_eq!(e.to_string(), "header block larger than 8192 bytes");
    assert_eq!(
        format!("{:?}", HandshakeConfig::new()),
        format!("{:?}", HandshakeConfig::default())
    );
}

#[test]
fn limits_set_are_enforced_at_their_value() {
    let config = HandshakeConfig::new().max_headers(8).max_head_bytes(300);
    assert_eq!(server_error(&config, &request_with(3, 1)), None);
    assert_eq!(
        server_error(&config, &request_with(4, 1)),
        Some(HandshakeError::TooManyHeaders { limit: 8 })
    );
    assert_eq!(
        server_error(&config, &request_with(1, 300)),
        Some(HandshakeError::HeadTooLarge { limit: 300 })
    );
    // The client applies the same limits to the response.
    let request = ClientRequest::new("h", "/");
    let mut entropy = |b: &mut [u8]| b.fill(1);
    let (mut client, _) = ClientHandshake::new(&request, &config, &mut entropy).unwrap();
    let mut response = String::from("HTTP/1.1 101 Switching Protocols\r\n");
    for i in 0..9 {
        response.push_str(&format!("X-{i}: a\r\n"));
    }
    response.push_str("\r\n");
    assert_eq!(
        client.receive(response.as_bytes()).unwrap_err(),
        HandshakeError::TooManyHeaders { limit: 8 }
    );
}

#[test]
fn a_client_offers_in_the_order_added_and_a_server_follows_the_clients_order() {
    let x = TestNegotiator::new("x-test", 0x40);
    let y = TestNegotiator::new("x-two", 0x20);
    for (client_order, expected) in [([&x, &y], "x-test"), ([&y, &x], "x-two")] {
        let client = config_with(&[client_order[0].clone(), client_order[1].clone()]);
        let (_, request) = ClientHandshake::new(
            &ClientRequest::new("h", "/"),
            &client,
            &mut |b: &mut [u8]| b.fill(2),
        )
        .unwrap();
        let head = String::from_utf8(request.clone()).unwrap();
        let offered = head
            .lines()
            .find_map(|l| l.strip_prefix("Sec-WebSocket-Extensions: "))
            .unwrap();
        assert!(offered.starts_with(expected), "{offered}");
        // Whatever the server's own order, the client's first offer it can accept wins.
        for server in [
            config_with(&[x.clone(), y.clone()]),
            config_with(&[y.clone(), x.clone()]),
        ] {
            let (upgrade, _) = server_feed(&server, &[&request]).unwrap();
            let accepted = upgrade.accept(AcceptOptions::new()).unwrap();
            assert_eq!(
                accepted.negotiated.extension.map(|e| e.name().to_string()),
                Some(expected.to_string())
            );
        }
    }
}

#[test]
fn debug_names_the_limits_and_negotiators() {
    let config = HandshakeConfig::new()
        .max_head_bytes(4096)
        .max_headers(10)
        .extension(Arc::new(PerMessageDeflate::new(DeflateConfig::default())))
        .extension(TestNegotiator::new("x-test", 0x20));
    assert_eq!(
        format!("{config:?}"),
        "HandshakeConfig { max_head_bytes: 4096, max_headers: 10, \
         extensions: [\"permessage-deflate\", \"x-test\"] }"
    );
}
