//! Handshake errors as a server answers them and as a caller sees them: every variant's HTTP
//! status, extra headers and text body in the error response; the wrapped causes through
//! `source()`; and the decision calls made at the wrong time, which change nothing.

mod common;

use std::error::Error as _;

use common::drain;
use sansws::extensions::{HeaderError, NegotiationError};
use sansws::handshake::{
    error_parts, error_response, AcceptOptions, HandshakeConfig, HandshakeError,
};
use sansws::{Config, Connection, Event, Transport};

const REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n\
Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

fn header_error() -> HeaderError {
    HeaderError {
        offset: 3,
        reason: "expected a token",
        header: 0,
    }
}

/// Every variant, with the status RFC 6455 / RFC 9110 give it.
fn every_variant() -> Vec<(HandshakeError, u16)> {
    use HandshakeError::*;
    vec![
        (HeadTooLarge { limit: 10 }, 431),
        (TooManyHeaders { limit: 2 }, 431),
        (Malformed("bad"), 400),
        (Method, 405),
        (HttpVersion, 400),
        (Host, 400),
        (InvalidTarget, 400),
        (RequestBody, 400),
        (NotWebSocketUpgrade, 426),
        (ConnectionNotUpgrade, 400),
        (UnsupportedVersion, 426),
        (InvalidKey, 400),
        (InvalidSubprotocol, 400),
        (InvalidExtensions(header_error()), 400),
        (InvalidH2Header("te"), 400),
        (SubprotocolNotOffered("p".into()), 500),
        (InvalidHeader("X".into()), 500),
        (InvalidNegotiatorOutput(header_error()), 500),
        (InvalidStatus(200), 500),
        (AcceptMismatch, 400),
        (UnrequestedSubprotocol("p".into()), 400),
        (UnrequestedExtension("e".into()), 400),
        (DuplicateExtension("e".into()), 400),
        (MultipleExtensions("e".into()), 400),
        (
            Negotiation(NegotiationError {
                reason: "why".into(),
            }),
            400,
        ),
        (UnexpectedEof, 400),
        (NothingReceived, 400),
        (Finished, 500),
        (NoPendingRequest, 500),
    ]
}

#[test]
fn each_variant_answers_with_its_status_headers_and_text() {
    let mut texts = Vec::new();
    for (e, status) in every_variant() {
        assert_eq!(e.status(), status, "{e:?}");
        let parts = error_parts(&e);
        assert_eq!(parts.status, status);
        assert_eq!(parts.body, format!("{e}\n"), "the body is the error's text");
        let names: Vec<&str> = parts.headers.iter().map(|(n, _)| n.as_str()).collect();
        let upgrade = matches!(
            e,
            HandshakeError::NotWebSocketUpgrade | HandshakeError::UnsupportedVersion
        );
        assert_eq!(names.contains(&"Upgrade"), upgrade, "{e:?}");
        assert_eq!(names.contains(&"Allow"), e == HandshakeError::Method);
        let response = String::from_utf8(error_response(&e)).unwrap();
        assert!(
            response.starts_with(&format!("HTTP/1.1 {status} ")),
            "{response}"
        );
        assert!(response.ends_with(&format!("\r\n\r\n{e}\n")));
        assert!(response.contains(&format!("Content-Length: {}\r\n", parts.body.len())));
        texts.push(e.to_string());
    }
    // Every variant reads differently in a log.
    let n = texts.len();
    texts.sort();
    texts.dedup();
    assert_eq!(texts.len(), n);
}

#[test]
fn wrapped_causes_are_sources() {
    for (e, _) in every_variant() {
        let source = e.source().map(|s| s.to_string());
        match &e {
            HandshakeError::InvalidExtensions(h) | HandshakeError::InvalidNegotiatorOutput(h) => {
                assert_eq!(source, Some(h.to_string()));
                assert!(e.to_string().contains(&h.to_string()));
            }
            HandshakeError::Negotiation(n) => {
                assert_eq!(source, Some(n.to_string()));
                assert_eq!(n.to_string(), "extension negotiation failed: why");
            }
            _ => assert_eq!(source, None, "{e:?}"),
        }
    }
    assert_eq!(
        header_error().to_string(),
        "malformed Sec-WebSocket-Extensions header #0 at byte 3: expected a token"
    );
}

#[test]
fn deciding_before_a_request_arrives_changes_nothing() {
    let mut server = Connection::server_upgrade(Config::default(), HandshakeConfig::default());
    assert!(server.upgrade_request().is_none());
    assert_eq!(
        server.accept(AcceptOptions::new()),
        Err(HandshakeError::NoPendingRequest)
    );
    assert_eq!(
        server.reject(403, &[], b"no"),
        Err(HandshakeError::NoPendingRequest)
    );
    assert_eq!(server.pending_output_len(), 0);
    assert_eq!(server.transport(), Transport::Open);
    // Half a request: still nothing to decide.
    server.receive(&REQUEST[..20]);
    assert_eq!(server.next_event(), None);
    assert!(server.upgrade_request().is_none());
    assert_eq!(
        server.accept(AcceptOptions::new()),
        Err(HandshakeError::NoPendingRequest)
    );
    // The rest arrives, and the handshake goes on as if nothing had been called.
    server.receive(&REQUEST[20..]);
    assert_eq!(server.next_event(), Some(Ok(Event::UpgradeRequest)));
    assert_eq!(server.upgrade_request().unwrap().target, "/chat");
    server.accept(AcceptOptions::new()).unwrap();
    let out = String::from_utf8(drain(&mut server)).unwrap();
    assert!(out.starts_with("HTTP/1.1 101 "), "{out}");
    // Answered once: a second decision is refused and sends nothing.
    assert_eq!(
        server.accept(AcceptOptions::new()),
        Err(HandshakeError::NoPendingRequest)
    );
    assert_eq!(
        server.reject(400, &[], b""),
        Err(HandshakeError::NoPendingRequest)
    );
    assert_eq!(server.pending_output_len(), 0);
    assert!(server.is_open());
}

#[test]
fn a_plain_connection_has_no_request_to_decide() {
    let mut server = Connection::server(Config::default());
    assert!(server.upgrade_request().is_none());
    assert_eq!(
        server.accept(AcceptOptions::new()),
        Err(HandshakeError::NoPendingRequest)
    );
    assert!(server.is_open());
    assert_eq!(server.pending_output_len(), 0);
}
