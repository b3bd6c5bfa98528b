//! Server handshake cases the rule-by-rule tests leave out: redirects' reason phrases and
//! response headers a rejection may not set, an absolute-form target whose IPv6 authority is
//! never closed, offers of an unknown extension repeated, and a request line from another HTTP
//! stack that alone exceeds the head limit.

mod common;

use common::drain;
use common::handshake::server_feed;
use sansws::handshake::{HandshakeConfig, HandshakeError, UpgradeRequest};
use sansws::{Config, Connection, Event};

const HEADERS: &str = "Host: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";

fn request(target: &str, extra: &str) -> Vec<u8> {
    format!("GET {target} HTTP/1.1\r\n{HEADERS}{extra}\r\n").into_bytes()
}

fn deciding() -> Connection {
    let mut server = Connection::server_upgrade(Config::default(), HandshakeConfig::default());
    server.receive(&request("/", ""));
    assert_eq!(server.next_event(), Some(Ok(Event::UpgradeRequest)));
    server
}

#[test]
fn redirects_carry_their_reason_phrase() {
    for (status, phrase) in [
        (301, "Moved Permanently"),
        (302, "Found"),
        (307, "Temporary Redirect"),
        (308, "Permanent Redirect"),
    ] {
        let mut server = deciding();
        server
            .reject(status, &[("Location", "/elsewhere")], b"")
            .unwrap();
        let out = String::from_utf8(drain(&mut server)).unwrap();
        assert!(
            out.starts_with(&format!("HTTP/1.1 {status} {phrase}\r\n")),
            "{out}"
        );
        assert!(out.contains("Location: /elsewhere\r\n"));
    }
}

#[test]
fn a_rejection_may_not_set_framing_or_connection_headers() {
    for name in ["Content-Length", "transfer-encoding", "CONNECTION"] {
        let mut server = deciding();
        assert_eq!(
            server.reject(403, &[(name, "x")], b"no"),
            Err(HandshakeError::InvalidHeader(name.into()))
        );
        assert_eq!(server.pending_output_len(), 0, "nothing sent");
        assert!(
            server.upgrade_request().is_some(),
            "still waiting for a decision"
        );
        server.reject(403, &[], b"no").unwrap();
        let out = String::from_utf8(drain(&mut server)).unwrap();
        assert!(out.starts_with("HTTP/1.1 403 "), "{out}");
        assert!(out.ends_with("\r\n\r\nno"));
    }
}

#[test]
fn an_unclosed_ipv6_authority_is_an_invalid_target() {
    let err = |t: &str| server_feed(&HandshakeConfig::default(), &[&request(t, "")]).err();
    let e = err("ws://[::1/chat").unwrap();
    assert_eq!(e.error, HandshakeError::InvalidTarget);
    assert!(String::from_utf8_lossy(&e.response).starts_with("HTTP/1.1 400 "));
    assert!(err("ws://[::1]:8080/chat").is_none(), "closed, it is fine");
}

#[test]
fn repeated_offers_of_an_unknown_extension_are_declined_once() {
    let (upgrade, _) = server_feed(
        &HandshakeConfig::default(),
        &[&request(
            "/",
            "Sec-WebSocket-Extensions: x-unknown, x-unknown; a=1\r\n",
        )],
    )
    .unwrap();
    assert_eq!(upgrade.extensions.len(), 2, "both offers are seen");
    let accepted = upgrade.accept(Default::default()).unwrap();
    assert!(accepted.negotiated.extension.is_none());
    let head = String::from_utf8(accepted.response).unwrap();
    assert!(!head.contains("Sec-WebSocket-Extensions"), "{head}");
}

#[test]
fn a_request_line_alone_over_the_head_limit_is_refused_from_parts() {
    let config = HandshakeConfig::default().max_head_bytes(64);
    let target = format!("/{}", "a".repeat(64));
    let e = UpgradeRequest::from_parts("GET", &target, [("Host", "h")], &config).unwrap_err();
    assert_eq!(e, HandshakeError::HeadTooLarge { limit: 64 });
    assert_eq!(e.status(), 431);
}
