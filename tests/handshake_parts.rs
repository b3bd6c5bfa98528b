//! A request parsed by another HTTP stack (`UpgradeRequest::from_parts`) meets the same rules
//! as the bytes `ServerHandshake` reads: every request here goes both ways, the outcome and
//! the answer must agree, and the limits hold at the same byte.

mod common;

use std::sync::Arc;

use common::handshake::{config_with, TestNegotiator};
use sansws::extensions::deflate::{DeflateConfig, PerMessageDeflate};
use sansws::handshake::{
    error_parts, error_response, AcceptOptions, HandshakeConfig, HandshakeError, ServerHandshake,
    UpgradeRequest,
};

/// Parses a head with httparse, as an HTTP stack would, and hands its parts to `from_parts`.
fn via_parts(config: &HandshakeConfig, head: &[u8]) -> Result<UpgradeRequest, HandshakeError> {
    let mut slots = [httparse::EMPTY_HEADER; 128];
    let mut req = httparse::Request::new(&mut slots);
    assert!(
        req.parse(head).unwrap().is_complete(),
        "test heads are whole"
    );
    let headers = req.headers.iter().map(|h| (h.name, h.value));
    UpgradeRequest::from_parts(req.method.unwrap(), req.path.unwrap(), headers, config)
}

/// The byte path's outcome for a whole head.
fn via_bytes(config: &HandshakeConfig, head: &[u8]) -> Result<UpgradeRequest, HandshakeError> {
    ServerHandshake::new(config.clone())
        .receive(head)
        .map(|r| r.expect("a whole head"))
        .map_err(|rejection| rejection.error)
}

fn summary(r: &Result<UpgradeRequest, HandshakeError>) -> String {
    match r {
        Ok(q) => format!(
            "{} {} {} {:?} {:?} {:?} {:?} {}",
            q.method,
            q.target,
            q.host,
            q.origin,
            q.subprotocols,
            q.extensions,
            q.headers,
            q.key()
        ),
        Err(e) => format!("{e:?}"),
    }
}

fn head(request_line: &str, lines: &[&str]) -> Vec<u8> {
    let mut s = format!("{request_line}\r\n");
    for l in lines {
        s.push_str(l);
        s.push_str("\r\n");
    }
    s.push_str("\r\n");
    s.into_bytes()
}

const GOOD: &[&str] = &[
    "Host: example.com",
    "Upgrade: websocket",
    "Connection: keep-alive, Upgrade",
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Version: 13",
];

fn good_with(extra: &[&'static str]) -> Vec<&'static str> {
    GOOD.iter().chain(extra).copied().collect()
}

fn good_without(name: &str) -> Vec<&'static str> {
    GOOD.iter()
        .copied()
        .filter(|l| !l.starts_with(name))
        .collect()
}

/// Requests that cover every rule of the server handshake, each with the error the byte path
/// gives (`None`: accepted).
fn corpus() -> Vec<(Vec<u8>, Option<HandshakeError>)> {
    use HandshakeError::*;
    let g = "GET /chat?room=1 HTTP/1.1";
    vec![
        (head(g, GOOD), None),
        (head("GET ws://other.example:81/x HTTP/1.1", GOOD), None),
        (head("GET https://other.example HTTP/1.1", GOOD), None),
        (
            head(
                g,
                &good_with(&[
                    "Origin: https://example.com",
                    "Sec-WebSocket-Protocol: chat, superchat",
                    "Sec-WebSocket-Protocol: v2",
                    "Sec-WebSocket-Extensions: x-test; level=2, permessage-deflate",
                    "Sec-WebSocket-Extensions: x-test",
                    "Cookie: a=b",
                    "Content-Length: 0",
                ]),
            ),
            None,
        ),
        (head("POST /chat HTTP/1.1", GOOD), Some(Method)),
        (head("get /chat HTTP/1.1", GOOD), Some(Method)),
        (head("GET * HTTP/1.1", GOOD), Some(InvalidTarget)),
        (head("GET ftp://x/ HTTP/1.1", GOOD), Some(InvalidTarget)),
        (head("GET ws://u@x/ HTTP/1.1", GOOD), Some(InvalidTarget)),
        (head(g, &good_without("Host")), Some(Host)),
        (head(g, &good_with(&["Host: again"])), Some(Host)),
        (head(g, &good_without("Upgrade")), Some(NotWebSocketUpgrade)),
        (
            head(g, &good_without("Connection")),
            Some(ConnectionNotUpgrade),
        ),
        (
            head(g, &good_without("Sec-WebSocket-Key")),
            Some(InvalidKey),
        ),
        (
            head(
                g,
                &good_with(&["Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="]),
            ),
            Some(InvalidKey),
        ),
        (
            head(g, &good_without("Sec-WebSocket-Version")),
            Some(UnsupportedVersion),
        ),
        (
            head(g, &good_with(&["Sec-WebSocket-Version: 8"])),
            Some(UnsupportedVersion),
        ),
        (
            head(g, &good_with(&["Content-Length: 5"])),
            Some(RequestBody),
        ),
        (
            head(g, &good_with(&["Transfer-Encoding: chunked"])),
            Some(RequestBody),
        ),
        (
            head(g, &good_with(&["Sec-WebSocket-Protocol: a b"])),
            Some(InvalidSubprotocol),
        ),
        (
            head(g, &good_with(&["Origin: a", "Origin: b"])),
            Some(Malformed("more than one Origin header")),
        ),
    ]
}

fn config() -> HandshakeConfig {
    config_with(&[TestNegotiator::new("x-test", 0x40)])
        .extension(Arc::new(PerMessageDeflate::new(DeflateConfig::default())))
}

#[test]
fn every_rule_gives_the_same_outcome_both_ways() {
    let config = config();
    for (input, want) in corpus() {
        let shown = String::from_utf8_lossy(&input).into_owned();
        let bytes = via_bytes(&config, &input);
        let parts = via_parts(&config, &input);
        assert_eq!(summary(&parts), summary(&bytes), "{shown}");
        match want {
            None => assert!(parts.is_ok(), "{shown}: {:?}", parts.err()),
            Some(e) => assert_eq!(parts.err(), Some(e), "{shown}"),
        }
    }
}

/// The 101 answer as pairs is the byte path's 101 response, line for line.
#[test]
fn accept_headers_are_the_101_response() {
    let config = config();
    let input = head(
        "GET /chat HTTP/1.1",
        &good_with(&[
            "Sec-WebSocket-Protocol: chat, superchat",
            "Sec-WebSocket-Extensions: x-test; level=2, permessage-deflate",
        ]),
    );
    let options = AcceptOptions::new()
        .subprotocol("superchat")
        .header("Set-Cookie", "id=1");
    let bytes = via_bytes(&config, &input)
        .unwrap()
        .accept(options.clone())
        .unwrap();
    let parts = via_parts(&config, &input)
        .unwrap()
        .accept_headers(options)
        .unwrap();
    let mut written = String::from("HTTP/1.1 101 Switching Protocols\r\n");
    for (name, value) in &parts.headers {
        written.push_str(&format!("{name}: {value}\r\n"));
    }
    written.push_str("\r\n");
    assert_eq!(written, String::from_utf8(bytes.response).unwrap());
    assert_eq!(
        parts.headers[..3],
        [
            ("Upgrade".to_string(), "websocket".to_string()),
            ("Connection".to_string(), "Upgrade".to_string()),
            (
                "Sec-WebSocket-Accept".to_string(),
                "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".to_string()
            ),
        ]
    );
    assert_eq!(parts.negotiated.subprotocol.as_deref(), Some("superchat"));
    assert_eq!(
        parts.negotiated.extension.as_ref().map(|e| e.name()),
        Some("x-test")
    );
    assert_eq!(
        format!("{:?}", parts.negotiated),
        format!("{:?}", bytes.negotiated)
    );
}

/// The application's mistakes fail `accept_headers` as they fail `accept`.
#[test]
fn accept_headers_refuses_what_accept_refuses() {
    let config = config();
    let input = head(
        "GET / HTTP/1.1",
        &good_with(&["Sec-WebSocket-Protocol: chat"]),
    );
    for (options, error) in [
        (
            AcceptOptions::new().subprotocol("other"),
            HandshakeError::SubprotocolNotOffered("other".into()),
        ),
        (
            AcceptOptions::new().header("Sec-WebSocket-Accept", "x"),
            HandshakeError::InvalidHeader("Sec-WebSocket-Accept".into()),
        ),
        (
            AcceptOptions::new().header("X-Evil", "a\r\nb"),
            HandshakeError::InvalidHeader("X-Evil".into()),
        ),
    ] {
        let bytes = via_bytes(&config, &input).unwrap().accept(options.clone());
        let parts = via_parts(&config, &input).unwrap().accept_headers(options);
        assert_eq!(bytes.err(), Some(error.clone()));
        assert_eq!(parts.err(), Some(error));
    }
}

/// `max_head_bytes` counts the head as HTTP/1.1 would carry it, so both ways accept a head of
/// exactly the limit and refuse one byte more; `max_headers` likewise.
#[test]
fn limits_hold_at_the_same_byte() {
    let input = head("GET /chat HTTP/1.1", &good_with(&["X-Pad: 0123456789"]));
    for (limit, ok) in [(input.len(), true), (input.len() - 1, false)] {
        let config = HandshakeConfig::default().max_head_bytes(limit);
        let bytes = via_bytes(&config, &input);
        let parts = via_parts(&config, &input);
        assert_eq!(summary(&parts), summary(&bytes), "limit {limit}");
        assert_eq!(parts.is_ok(), ok, "limit {limit}");
    }
    let count = GOOD.len() + 1;
    for (limit, ok) in [(count, true), (count - 1, false)] {
        let config = HandshakeConfig::default().max_headers(limit);
        let bytes = via_bytes(&config, &input);
        let parts = via_parts(&config, &input);
        assert_eq!(summary(&parts), summary(&bytes), "max_headers {limit}");
        assert_eq!(parts.is_ok(), ok, "max_headers {limit}");
    }
}

/// An endless header list is refused once over the limit, without being collected.
#[test]
fn an_endless_header_list_stops_at_the_limit() {
    let config = HandshakeConfig::default();
    let mut taken = 0usize;
    let endless = std::iter::repeat_with(|| {
        taken += 1;
        ("x-filler", "y")
    });
    let e = UpgradeRequest::from_parts("GET", "/", endless, &config).unwrap_err();
    assert_eq!(e, HandshakeError::TooManyHeaders { limit: 64 });
    assert_eq!(taken, 65);
    let big = "v".repeat(1 << 20);
    let e = UpgradeRequest::from_parts("GET", "/", [("x-big", big.as_str())], &config).unwrap_err();
    assert_eq!(e, HandshakeError::HeadTooLarge { limit: 8 * 1024 });
}

/// What an HTTP parser would have refused is refused here too, whoever parsed it.
#[test]
fn unparseable_parts_are_refused() {
    let config = HandshakeConfig::default();
    let good: Vec<(&str, &[u8])> = vec![
        ("host", b"h"),
        ("upgrade", b"websocket"),
        ("connection", b"upgrade"),
        ("sec-websocket-key", b"dGhlIHNhbXBsZSBub25jZQ=="),
        ("sec-websocket-version", b"13"),
    ];
    assert!(UpgradeRequest::from_parts("GET", "/", good.clone(), &config).is_ok());
    let with = |name: &'static str, value: &'static [u8]| {
        let mut h = good.clone();
        h.push((name, value));
        UpgradeRequest::from_parts("GET", "/", h, &config).unwrap_err()
    };
    assert_eq!(
        with("x-a", b"line\r\nInjected: 1"),
        HandshakeError::Malformed("invalid header value")
    );
    assert_eq!(
        with("x-a", b"nul\0"),
        HandshakeError::Malformed("invalid header value")
    );
    assert_eq!(
        with("bad name", b"v"),
        HandshakeError::Malformed("invalid header name")
    );
    assert_eq!(
        with("", b"v"),
        HandshakeError::Malformed("invalid header name")
    );
    for target in ["/a b", "/a\tb", "/\x7f", ""] {
        let e = UpgradeRequest::from_parts("GET", target, good.clone(), &config).unwrap_err();
        assert_eq!(e, HandshakeError::InvalidTarget, "{target:?}");
    }
    // Values are trimmed as the byte parser trims them; obs-text is kept.
    let mut h = good.clone();
    h.push(("x-b", b" \tv\xff \t"));
    let q = UpgradeRequest::from_parts("GET", "/", h, &config).unwrap();
    assert_eq!(q.header("x-b"), Some(&b"v\xff"[..]));
}

/// The error answer as parts is the byte path's error response, with `Content-Length`.
#[test]
fn error_parts_are_the_error_response() {
    for e in [
        HandshakeError::Method,
        HandshakeError::UnsupportedVersion,
        HandshakeError::NotWebSocketUpgrade,
        HandshakeError::InvalidKey,
        HandshakeError::TooManyHeaders { limit: 3 },
        HandshakeError::SubprotocolNotOffered("x".into()),
    ] {
        let parts = error_parts(&e);
        assert_eq!(parts.status, e.status());
        let bytes = String::from_utf8(error_response(&e)).unwrap();
        let (head, body) = bytes.split_once("\r\n\r\n").unwrap();
        assert_eq!(body, parts.body, "{e:?}");
        let mut lines = head.lines();
        assert!(lines
            .next()
            .unwrap()
            .starts_with(&format!("HTTP/1.1 {} ", parts.status)));
        let mut want: Vec<String> = parts
            .headers
            .iter()
            .map(|(n, v)| format!("{n}: {v}"))
            .collect();
        want.push(format!("Content-Length: {}", body.len()));
        assert_eq!(lines.collect::<Vec<_>>(), want, "{e:?}");
    }
    let upgrade = error_parts(&HandshakeError::UnsupportedVersion);
    assert_eq!(upgrade.status, 426);
    for pair in [
        ("Upgrade", "websocket"),
        ("Sec-WebSocket-Version", "13"),
        ("Connection", "Upgrade, close"),
    ] {
        assert!(
            upgrade
                .headers
                .contains(&(pair.0.to_string(), pair.1.to_string())),
            "{pair:?}"
        );
    }
    let method = error_parts(&HandshakeError::Method);
    assert!(method
        .headers
        .contains(&("Allow".to_string(), "GET".to_string())));
}
