//! The client connection from its first byte (`Connection::client_upgrade`): the request it
//! queues, the handshake key drawn from its entropy, what it opens with (subprotocol,
//! permessage-deflate) against a server connection that also starts at its first byte, and
//! each way a server's answer fails it: the typed error, its text, and nothing sent after the
//! request.

mod common;

use std::error::Error as _;
use std::sync::Arc;

use common::handshake::{config_with, TestNegotiator};
use common::{decoded_frames, drain, pump};
use sansws::entropy::Entropy;
use sansws::extensions::deflate::{DeflateConfig, PerMessageDeflate};
use sansws::handshake::{
    accept_value, AcceptOptions, ClientRequest, HandshakeConfig, HandshakeError,
};
use sansws::{Config, Connection, Error, Event, SendError, State, Transport};

fn entropy(byte: u8) -> Box<dyn Entropy> {
    Box::new(move |b: &mut [u8]| b.fill(byte))
}

fn deflate_config() -> HandshakeConfig {
    HandshakeConfig::default().extension(Arc::new(PerMessageDeflate::new(DeflateConfig::default())))
}

/// The value of header `name` in an HTTP head (first occurrence).
fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines()
        .filter_map(|l| l.split_once(": "))
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

fn events(conn: &mut Connection) -> Vec<Result<Event, Error>> {
    std::iter::from_fn(|| conn.next_event()).collect()
}

#[test]
fn the_request_is_queued_first_with_a_key_from_the_entropy() {
    let request = ClientRequest::new("example.com", "/chat")
        .origin("https://example.com")
        .subprotocol("chat");
    let mut client = Connection::client_upgrade(
        Config::default(),
        &deflate_config(),
        &request,
        entropy(0x42),
    )
    .unwrap();
    assert_eq!(client.state(), State::Connecting);
    assert_eq!(client.send_text("early"), Err(SendError::Handshaking));
    assert_eq!(client.subprotocol(), None);
    let head = String::from_utf8(drain(&mut client)).unwrap();
    assert!(head.starts_with("GET /chat HTTP/1.1\r\n"), "{head}");
    assert!(head.ends_with("\r\n\r\n"));
    // 16 bytes of 0x42, base64.
    assert_eq!(
        header(&head, "Sec-WebSocket-Key"),
        Some("QkJCQkJCQkJCQkJCQkJCQg==")
    );
    assert_eq!(header(&head, "Origin"), Some("https://example.com"));
    assert_eq!(header(&head, "Sec-WebSocket-Protocol"), Some("chat"));
    assert!(header(&head, "Sec-WebSocket-Extensions")
        .unwrap()
        .starts_with("permessage-deflate"));
    assert_eq!(client.next_event(), None, "nothing arrived yet");

    // Another entropy, another key.
    let mut other =
        Connection::client_upgrade(Config::default(), &deflate_config(), &request, entropy(7))
            .unwrap();
    let other_head = String::from_utf8(drain(&mut other)).unwrap();
    assert_ne!(
        header(&other_head, "Sec-WebSocket-Key"),
        header(&head, "Sec-WebSocket-Key")
    );
}

#[test]
fn a_request_that_cannot_be_written_fails_before_anything_is_queued() {
    for (request, bad) in [
        (
            ClientRequest::new("example.com", "/").header("Bad Name", "v"),
            "Bad Name",
        ),
        (
            ClientRequest::new("example.com", "/").header("X-A", "a\r\nb"),
            "X-A",
        ),
        (
            ClientRequest::new("example.com", "/").header("Upgrade", "h2c"),
            "Upgrade",
        ),
    ] {
        let e = Connection::client_upgrade(
            Config::default(),
            &HandshakeConfig::default(),
            &request,
            entropy(1),
        )
        .unwrap_err();
        assert_eq!(e, HandshakeError::InvalidHeader(bad.into()));
        assert_eq!(
            e.to_string(),
            format!("header {bad:?} cannot be written safely")
        );
    }
}

#[test]
fn client_and_server_from_their_first_bytes_agree_on_subprotocol_and_deflate() {
    let request = ClientRequest::new("example.com", "/chat")
        .subprotocol("v2")
        .subprotocol("v1");
    let mut client =
        Connection::client_upgrade(Config::default(), &deflate_config(), &request, entropy(9))
            .unwrap();
    let mut server = Connection::server_upgrade(Config::default(), deflate_config());
    // The client's first message goes out right behind its request once it is open; here it
    // waits for the 101.
    pump(&mut client, &mut server);
    assert_eq!(server.next_event(), Some(Ok(Event::UpgradeRequest)));
    let offered = server.upgrade_request().unwrap().subprotocols.clone();
    assert_eq!(offered, vec!["v2".to_string(), "v1".to_string()]);
    server
        .accept(AcceptOptions::new().subprotocol("v1"))
        .unwrap();
    assert!(server.upgrade_request().is_none(), "answered");
    server.send_text("hello from the server").unwrap();
    // The 101 and a compressed frame arrive in one read.
    pump(&mut server, &mut client);
    assert_eq!(
        events(&mut client),
        vec![
            Ok(Event::Open {
                subprotocol: Some("v1".into())
            }),
            Ok(Event::Text("hello from the server".into()))
        ]
    );
    assert_eq!(client.state(), State::Open);
    assert_eq!(client.subprotocol(), Some("v1"));
    assert_eq!(
        client.extension().map(|e| e.name()),
        Some("permessage-deflate")
    );
    // The client's frames are masked and compressed (RSV1).
    client.send_text("hello hello hello hello").unwrap();
    let wire = client.pending_output().to_vec();
    let frames = decoded_frames(&wire);
    assert_eq!(frames.len(), 1);
    assert!(frames[0].0.mask.is_some(), "a client masks");
    assert_eq!(frames[0].0.rsv, 0x40, "compressed");
    pump(&mut client, &mut server);
    assert_eq!(
        events(&mut server),
        vec![Ok(Event::Text("hello hello hello hello".into()))]
    );
}

/// A 101 for the request `client` queued, with `extra` header lines.
fn answer_101(client: &mut Connection, extra: &str) -> Vec<u8> {
    let head = String::from_utf8(drain(client)).unwrap();
    let key = header(&head, "Sec-WebSocket-Key").unwrap();
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n{extra}\r\n",
        accept_value(key.as_bytes())
    )
    .into_bytes()
}

#[test]
fn each_bad_answer_fails_the_client_with_a_typed_error_that_names_it() {
    let x = TestNegotiator::new("x-test", 0x40);
    let y = TestNegotiator::new("x-two", 0x20);
    let two = config_with(&[x, y]);
    let deflate = deflate_config();
    let plain = HandshakeConfig::default();
    let request = ClientRequest::new("example.com", "/").subprotocol("chat");
    type Make = fn(&mut Connection) -> Vec<u8>;
    let cases: Vec<(&HandshakeConfig, Make, HandshakeError, &str)> = vec![
        (
            &plain,
            |c| {
                drain(c);
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                  Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n"
                    .to_vec()
            },
            HandshakeError::AcceptMismatch,
            "Sec-WebSocket-Accept missing or wrong",
        ),
        (
            &plain,
            |c| answer_101(c, "Sec-WebSocket-Protocol: other\r\n"),
            HandshakeError::UnrequestedSubprotocol("other".into()),
            "server chose subprotocol \"other\", which was not offered",
        ),
        (
            &plain,
            |c| answer_101(c, "Sec-WebSocket-Extensions: permessage-deflate\r\n"),
            HandshakeError::UnrequestedExtension("permessage-deflate".into()),
            "server accepted extension \"permessage-deflate\", which was not offered",
        ),
        (
            &deflate,
            |c| {
                answer_101(
                    c,
                    "Sec-WebSocket-Extensions: permessage-deflate, permessage-deflate\r\n",
                )
            },
            HandshakeError::DuplicateExtension("permessage-deflate".into()),
            "server answered extension \"permessage-deflate\" twice",
        ),
        (
            &two,
            |c| answer_101(c, "Sec-WebSocket-Extensions: x-test, x-two\r\n"),
            HandshakeError::MultipleExtensions("x-two".into()),
            "server accepted extension \"x-two\" besides another one; at most one may run",
        ),
        (
            &plain,
            |c| {
                drain(c);
                b"HTTP/1.0 101 Switching Protocols\r\n\r\n".to_vec()
            },
            HandshakeError::HttpVersion,
            "HTTP/1.1 or later is required",
        ),
    ];
    for (config, make, expected, shown) in cases {
        let mut client =
            Connection::client_upgrade(Config::default(), config, &request, entropy(3)).unwrap();
        let response = make(&mut client);
        client.receive(&response);
        assert_eq!(
            events(&mut client),
            vec![Err(Error::Handshake(expected.clone()))]
        );
        assert_eq!(expected.to_string(), shown);
        assert!(expected.source().is_none());
        assert_eq!(client.transport(), Transport::Close);
        assert_eq!(
            client.pending_output_len(),
            0,
            "no close frame, no response"
        );
        assert_eq!(client.send_text("x"), Err(SendError::Handshaking));
        client.receive(b"\x81\x01x");
        assert_eq!(
            client.next_event(),
            None,
            "nothing is read after the failure"
        );
    }
}

#[test]
fn a_refused_extension_answer_carries_the_negotiators_reason() {
    let mut client = Connection::client_upgrade(
        Config::default(),
        &deflate_config(),
        &ClientRequest::new("example.com", "/"),
        entropy(5),
    )
    .unwrap();
    let response = answer_101(
        &mut client,
        "Sec-WebSocket-Extensions: permessage-deflate; x-unknown=1\r\n",
    );
    client.receive(&response);
    let got = events(&mut client);
    let [Err(Error::Handshake(e @ HandshakeError::Negotiation(inner)))] = &got[..] else {
        panic!("{got:?}")
    };
    assert!(!inner.reason.is_empty());
    assert_eq!(
        inner.to_string(),
        format!("extension negotiation failed: {}", inner.reason)
    );
    assert_eq!(e.to_string(), inner.to_string());
    assert_eq!(
        e.source().map(|s| s.to_string()),
        Some(inner.to_string()),
        "the negotiator's error is the source"
    );
}
