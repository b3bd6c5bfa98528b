//! Server side of the HTTP/1.1 handshake: every rule, fed whole and at every split.

mod common;

use common::handshake::*;
use sansws::extensions::ExtensionOffer;
use sansws::handshake::{
    accept_value, error_response, reject_response, AcceptOptions, HandshakeConfig, HandshakeError,
    ServerHandshake,
};

/// The shape of a Chromium upgrade request (Chrome 124).
const CHROMIUM: &[u8] = b"GET /chat?room=1 HTTP/1.1\r\n\
Host: localhost:8080\r\n\
Connection: Upgrade\r\n\
Pragma: no-cache\r\n\
Cache-Control: no-cache\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36\r\n\
Upgrade: websocket\r\n\
Origin: http://localhost:8080\r\n\
Sec-WebSocket-Version: 13\r\n\
Accept-Encoding: gzip, deflate, br, zstd\r\n\
Accept-Language: en-US,en;q=0.9\r\n\
Sec-WebSocket-Key: x3JJHMbDL1EzLkh9GBhXDw==\r\n\
Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\
\r\n";

/// The shape of a Firefox upgrade request (Firefox 125), with subprotocols.
const FIREFOX: &[u8] = b"GET /chat HTTP/1.1\r\n\
Host: localhost:8080\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0\r\n\
Accept: */*\r\n\
Accept-Language: en-US,en;q=0.5\r\n\
Accept-Encoding: gzip, deflate, br\r\n\
Sec-WebSocket-Version: 13\r\n\
Origin: http://localhost:8080\r\n\
Sec-WebSocket-Protocol: chat, superchat\r\n\
Sec-WebSocket-Extensions: permessage-deflate\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
Connection: keep-alive, Upgrade\r\n\
Sec-Fetch-Dest: empty\r\n\
Sec-Fetch-Mode: websocket\r\n\
Sec-Fetch-Site: same-origin\r\n\
Pragma: no-cache\r\n\
Cache-Control: no-cache\r\n\
Upgrade: websocket\r\n\
\r\n";

/// The minimal request from RFC 6455 §1.2, with `extra` header lines inserted.
fn minimal(extra: &str) -> Vec<u8> {
    format!(
        "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n"
    )
    .into_bytes()
}

/// A request with the given lines as its whole header block.
fn with_lines(request_line: &str, lines: &[&str]) -> Vec<u8> {
    let mut s = format!("{request_line}\r\n");
    for l in lines {
        s.push_str(l);
        s.push_str("\r\n");
    }
    s.push_str("\r\n");
    s.into_bytes()
}

const GOOD: &[&str] = &[
    "Host: h",
    "Upgrade: websocket",
    "Connection: Upgrade",
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Version: 13",
];

fn without(name: &str) -> Vec<&'static str> {
    GOOD.iter()
        .copied()
        .filter(|l| !l.starts_with(name))
        .collect()
}

fn rejected(input: &[u8]) -> (HandshakeError, Vec<u8>) {
    let e = server_all_ways(&HandshakeConfig::default(), input).expect_err("should be rejected");
    (e.error, e.response)
}

#[test]
fn rfc6455_example_accept_value() {
    assert_eq!(
        accept_value(b"dGhlIHNhbXBsZSBub25jZQ=="),
        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    );
    let (req, _) = server_all_ways(&HandshakeConfig::default(), &minimal("")).unwrap();
    let accepted = req.accept(AcceptOptions::new()).unwrap();
    assert_eq!(
        accepted.response,
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
    );
    assert!(accepted.leftover.is_empty());
    assert!(accepted.negotiated.subprotocol.is_none() && accepted.negotiated.extension.is_none());
}

#[test]
fn chromium_request() {
    let (req, rest) = server_all_ways(&HandshakeConfig::default(), CHROMIUM).unwrap();
    assert!(rest.is_empty());
    assert_eq!(
        (req.method.as_str(), req.target.as_str(), req.host.as_str()),
        ("GET", "/chat?room=1", "localhost:8080")
    );
    assert_eq!(req.origin.as_deref(), Some("http://localhost:8080"));
    assert_eq!(
        req.extensions,
        vec![ExtensionOffer::new("permessage-deflate").with_param("client_max_window_bits", None)]
    );
    assert_eq!(req.headers.len(), 12);
    assert_eq!(
        req.header("user-agent").map(|v| v.starts_with(b"Mozilla")),
        Some(true)
    );
    // No negotiator for permessage-deflate is configured: the offer is declined, not failed.
    let accepted = req.accept(AcceptOptions::new()).unwrap();
    assert!(has_line(
        &accepted.response,
        "Sec-WebSocket-Accept: HSmrc0sMlYUkAGmm5OPpG2HaGWk="
    ));
    assert!(!String::from_utf8_lossy(&accepted.response).contains("Extensions"));
}

#[test]
fn firefox_request_and_subprotocol_choice() {
    let (req, _) = server_all_ways(&HandshakeConfig::default(), FIREFOX).unwrap();
    assert_eq!(req.subprotocols, ["chat", "superchat"]);
    assert_eq!(
        req.extensions,
        vec![ExtensionOffer::new("permessage-deflate")]
    );
    let accepted = req
        .accept(
            AcceptOptions::new()
                .subprotocol("superchat")
                .header("Set-Cookie", "a=b"),
        )
        .unwrap();
    assert!(has_line(
        &accepted.response,
        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    ));
    assert!(has_line(
        &accepted.response,
        "Sec-WebSocket-Protocol: superchat"
    ));
    assert!(has_line(&accepted.response, "Set-Cookie: a=b"));
    assert_eq!(
        accepted.negotiated.subprotocol.as_deref(),
        Some("superchat")
    );
}

#[test]
fn pipelined_bytes_are_kept_exactly() {
    // A masked text frame "Hi" and the start of another frame right behind the request.
    let frames: &[u8] = &[
        0x81,
        0x82,
        1,
        2,
        3,
        4,
        b'H' ^ 1,
        b'i' ^ 2,
        0x88,
        0x80,
        b'\r',
        b'\n',
        b'\r',
        b'\n',
    ];
    let mut input = FIREFOX.to_vec();
    input.extend_from_slice(frames);
    for chunks in chunkings(&input) {
        let (req, rest) = server_feed(&HandshakeConfig::default(), &chunks).unwrap();
        assert_eq!(rest, frames);
        let seen = req.leftover().to_vec();
        let accepted = req.accept(AcceptOptions::new()).unwrap();
        assert_eq!(&accepted.leftover[..], &seen[..]);
    }
    let (_, rest) = server_all_ways(&HandshakeConfig::default(), &input).unwrap();
    assert_eq!(rest, frames);
}

#[test]
fn header_names_and_tokens_are_case_insensitive() {
    let input = with_lines(
        "GET / HTTP/1.1",
        &[
            "host: h",
            "UPGRADE: WebSocket",
            "connection: keep-alive",
            "Connection: UPGRADE",
            "sec-websocket-key:   dGhlIHNhbXBsZSBub25jZQ==  ",
            "SEC-WEBSOCKET-VERSION: 13",
        ],
    );
    assert!(server_all_ways(&HandshakeConfig::default(), &input).is_ok());
}

#[test]
fn lf_only_line_ends_are_read() {
    let input = minimal("")
        .iter()
        .copied()
        .filter(|&b| b != b'\r')
        .collect::<Vec<_>>();
    assert!(server_all_ways(&HandshakeConfig::default(), &input).is_ok());
}

#[test]
fn method_must_be_get() {
    let (e, resp) = rejected(&with_lines("POST / HTTP/1.1", GOOD));
    assert_eq!((e, status_of(&resp)), (HandshakeError::Method, 405));
    assert!(has_line(&resp, "Allow: GET"));
}

#[test]
fn http_1_1_is_required() {
    let (e, resp) = rejected(&with_lines("GET / HTTP/1.0", GOOD));
    assert_eq!((e, status_of(&resp)), (HandshakeError::HttpVersion, 400));
}

#[test]
fn host_is_required_once() {
    assert_eq!(
        rejected(&with_lines("GET / HTTP/1.1", &without("Host"))).0,
        HandshakeError::Host
    );
    let mut two = GOOD.to_vec();
    two.push("Host: other");
    assert_eq!(
        rejected(&with_lines("GET / HTTP/1.1", &two)).0,
        HandshakeError::Host
    );
}

#[test]
fn plain_get_gets_426_not_a_hang() {
    let (e, resp) = rejected(b"GET / HTTP/1.1\r\nHost: example.com\r\nAccept: text/html\r\n\r\n");
    assert_eq!(
        (e, status_of(&resp)),
        (HandshakeError::NotWebSocketUpgrade, 426)
    );
    assert!(has_line(&resp, "Upgrade: websocket"));
    assert!(has_line(&resp, "Connection: Upgrade, close"));
    assert!(has_line(&resp, "Sec-WebSocket-Version: 13"));
    let text = String::from_utf8(resp).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(head.contains(&format!("Content-Length: {}", body.len())));
}

#[test]
fn upgrade_must_name_websocket() {
    let mut lines = without("Upgrade");
    lines.push("Upgrade: h2c");
    assert_eq!(
        rejected(&with_lines("GET / HTTP/1.1", &lines)).0,
        HandshakeError::NotWebSocketUpgrade
    );
    let mut lines = without("Upgrade");
    lines.push("Upgrade: h2c, websocket");
    assert!(server_all_ways(
        &HandshakeConfig::default(),
        &with_lines("GET / HTTP/1.1", &lines)
    )
    .is_ok());
}

#[test]
fn connection_must_contain_upgrade() {
    let mut lines = without("Connection");
    lines.push("Connection: keep-alive");
    let (e, resp) = rejected(&with_lines("GET / HTTP/1.1", &lines));
    assert_eq!(
        (e, status_of(&resp)),
        (HandshakeError::ConnectionNotUpgrade, 400)
    );
    // A token that merely contains "upgrade" is not the token.
    let mut lines = without("Connection");
    lines.push("Connection: upgraded");
    assert_eq!(
        rejected(&with_lines("GET / HTTP/1.1", &lines)).0,
        HandshakeError::ConnectionNotUpgrade
    );
}

#[test]
fn other_versions_get_426_with_version_13() {
    for version in [Some("8"), Some("13, 8"), Some(""), None] {
        let mut lines = without("Sec-WebSocket-Version");
        let line = version.map(|v| format!("Sec-WebSocket-Version: {v}"));
        if let Some(l) = &line {
            lines.push(l);
        }
        let (e, resp) = rejected(&with_lines("GET / HTTP/1.1", &lines));
        assert_eq!(
            (e, status_of(&resp)),
            (HandshakeError::UnsupportedVersion, 426),
            "{version:?}"
        );
        assert!(has_line(&resp, "Sec-WebSocket-Version: 13"));
    }
}

#[test]
fn key_must_be_base64_of_16_bytes() {
    for key in [
        None,
        Some("dGhlIHNhbXBsZSBub25jZQ="),
        Some("dGhlIHNhbXBsZSBub25jZQ"),
        Some("dGhlIHNhbXBsZSBub25jZWVl"),
        Some("!!!!!!!!!!!!!!!!!!!!!!=="),
        Some("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="),
    ] {
        let mut lines = without("Sec-WebSocket-Key");
        let line = key.map(|k| format!("Sec-WebSocket-Key: {k}"));
        if let Some(l) = &line {
            lines.push(l);
        }
        let (e, resp) = rejected(&with_lines("GET / HTTP/1.1", &lines));
        assert_eq!(
            (e, status_of(&resp)),
            (HandshakeError::InvalidKey, 400),
            "{key:?}"
        );
    }
    let mut two = GOOD.to_vec();
    two.push("Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==");
    assert_eq!(
        rejected(&with_lines("GET / HTTP/1.1", &two)).0,
        HandshakeError::InvalidKey
    );
}

#[test]
fn subprotocol_lists() {
    let (req, _) = server_all_ways(
        &HandshakeConfig::default(),
        &minimal("Sec-WebSocket-Protocol: a, , b\r\nSec-WebSocket-Protocol: c\r\n"),
    )
    .unwrap();
    assert_eq!(req.subprotocols, ["a", "b", "c"]);
    let (e, resp) = rejected(&minimal("Sec-WebSocket-Protocol: a b\r\n"));
    assert_eq!(
        (e, status_of(&resp)),
        (HandshakeError::InvalidSubprotocol, 400)
    );
}

#[test]
fn malformed_extensions_are_400() {
    let (e, resp) = rejected(&minimal("Sec-WebSocket-Extensions: x; =1\r\n"));
    assert!(
        matches!(e, HandshakeError::InvalidExtensions(ref h) if h.offset == 3),
        "{e:?}"
    );
    assert_eq!(status_of(&resp), 400);
}

#[test]
fn repeated_origin_is_400() {
    let (e, _) = rejected(&minimal("Origin: http://a\r\nOrigin: http://b\r\n"));
    assert!(matches!(e, HandshakeError::Malformed(_)));
}

#[test]
fn garbage_is_400() {
    for junk in [
        &b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n"[..],
        b"GET\r\n\r\n",
        b"GET / HTTP/1.1\r\nbad header\r\n\r\n",
    ] {
        let (e, resp) = rejected(junk);
        assert!(matches!(e, HandshakeError::Malformed(_)), "{e:?}");
        assert_eq!(status_of(&resp), 400);
    }
}

#[test]
fn head_larger_than_limit_is_431_without_buffering_past_it() {
    let config = HandshakeConfig::default().max_head_bytes(256);
    let mut big = minimal(&format!("X-Pad: {}\r\n", "a".repeat(300)));
    big.extend_from_slice(&[0u8; 100_000]);
    let e = server_all_ways(&config, &big).unwrap_err();
    assert_eq!(e.error, HandshakeError::HeadTooLarge { limit: 256 });
    assert_eq!(status_of(&e.response), 431);
    // Byte by byte: the refusal comes with exactly the 256th byte, not later.
    let mut hs = ServerHandshake::new(config.clone());
    for (i, b) in big.iter().enumerate() {
        match hs.receive(std::slice::from_ref(b)) {
            Ok(None) => assert!(i < 255),
            Err(e) => {
                assert_eq!(
                    (i, e.error),
                    (255, HandshakeError::HeadTooLarge { limit: 256 })
                );
                break;
            }
            Ok(Some(_)) => panic!("accepted an oversized head"),
        }
    }
    // The default limit is 8 KiB.
    let big = minimal(&format!("X-Pad: {}\r\n", "a".repeat(8 * 1024)));
    assert_eq!(
        status_of(
            &server_feed(&HandshakeConfig::default(), &[&big])
                .unwrap_err()
                .response
        ),
        431
    );
}

#[test]
fn head_exactly_at_limit_is_accepted() {
    let input = minimal("");
    let config = HandshakeConfig::default().max_head_bytes(input.len());
    assert!(server_all_ways(&config, &input).is_ok());
    let config = HandshakeConfig::default().max_head_bytes(input.len() - 1);
    assert_eq!(
        server_all_ways(&config, &input).unwrap_err().error,
        HandshakeError::HeadTooLarge {
            limit: input.len() - 1
        }
    );
}

#[test]
fn too_many_headers_is_431() {
    let config = HandshakeConfig::default().max_headers(8);
    let e = server_all_ways(&config, &minimal("A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n")).unwrap_err();
    assert_eq!(
        (e.error, status_of(&e.response)),
        (HandshakeError::TooManyHeaders { limit: 8 }, 431)
    );
    assert!(server_all_ways(&config, &minimal("A: 1\r\nB: 2\r\nC: 3\r\n")).is_ok());
}

#[test]
fn extension_offers_are_grouped_per_negotiator() {
    let x = TestNegotiator::new("x-test", 0x40);
    let config = config_with(std::slice::from_ref(&x));
    let input = minimal("Sec-WebSocket-Extensions: x-test; mode=fast, other\r\nSec-WebSocket-Extensions: X-Test; level=2, x-test\r\n");
    let (req, _) = server_feed(&config, &[&input]).unwrap();
    let accepted = req.accept(AcceptOptions::new()).unwrap();
    let seen = x.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        seen[0],
        vec![
            ExtensionOffer::new("x-test").with_param("mode", Some("fast".into())),
            ExtensionOffer::new("X-Test").with_param("level", Some("2".into())),
            ExtensionOffer::new("x-test"),
        ]
    );
    assert!(has_line(
        &accepted.response,
        "Sec-WebSocket-Extensions: X-Test; level=2"
    ));
    assert!(accepted.negotiated.extension.is_some());
    assert_eq!(
        accepted.negotiated.extension.as_ref().map(|e| e.rsv_bits()),
        Some(0x40)
    );
}

#[test]
fn one_extension_per_connection() {
    // The connection runs one extension: the server answers the first offer, in the client's
    // order, that a configured negotiator accepts, and declines every other extension, whatever
    // reserved bit it would claim.
    let make = || {
        (
            TestNegotiator::new("x-a", 0x40),
            TestNegotiator::new("x-b", 0x40),
            TestNegotiator::new("x-c", 0x20),
        )
    };
    for (offer, chosen) in [
        ("x-b, x-a, x-c", "x-b"),
        ("x-c, x-a", "x-c"),
        ("other, x-a, x-c", "x-a"),
        // x-c's only offer has a parameter its negotiator refuses: the next extension is asked.
        ("x-c; mode=fast, x-b; level=2, x-a", "x-b; level=2"),
    ] {
        let (a, b, c) = make();
        let config = config_with(&[a, b, c.clone()]);
        let input = minimal(&format!("Sec-WebSocket-Extensions: {offer}\r\n"));
        let (req, _) = server_all_ways(&config, &input).unwrap();
        let mut accepted = req.accept(AcceptOptions::new()).unwrap();
        assert!(
            has_line(
                &accepted.response,
                &format!("Sec-WebSocket-Extensions: {chosen}")
            ),
            "{offer}: {}",
            String::from_utf8_lossy(&accepted.response)
        );
        assert_eq!(
            String::from_utf8_lossy(&accepted.response)
                .matches("Sec-WebSocket-Extensions")
                .count(),
            1
        );
        assert!(accepted.negotiated.extension.is_some(), "{offer}");
        let name = chosen.split(';').next().unwrap();
        assert_eq!(
            accepted
                .negotiated
                .extension
                .take()
                .map(|e| e.name().to_string())
                .as_deref(),
            Some(name)
        );
        assert!(accepted.negotiated.extension.is_none());
    }
    // Once one extension is accepted, later negotiators are not even asked.
    let (a, b, c) = make();
    let config = config_with(&[a.clone(), b, c.clone()]);
    let input = minimal("Sec-WebSocket-Extensions: x-c, x-a\r\n");
    let (req, _) = server_feed(&config, &[&input]).unwrap();
    req.accept(AcceptOptions::new()).unwrap();
    assert_eq!(c.seen.lock().unwrap().len(), 1);
    assert!(a.seen.lock().unwrap().is_empty());
}

#[test]
fn extension_with_no_reserved_bit_is_still_the_only_one() {
    let a = TestNegotiator::new("x-a", 0);
    let b = TestNegotiator::new("x-b", 0x40);
    let config = config_with(&[a, b]);
    let input = minimal("Sec-WebSocket-Extensions: x-a, x-b\r\n");
    let (req, _) = server_all_ways(&config, &input).unwrap();
    let mut accepted = req.accept(AcceptOptions::new()).unwrap();
    assert!(has_line(
        &accepted.response,
        "Sec-WebSocket-Extensions: x-a"
    ));
    assert_eq!(
        accepted
            .negotiated
            .extension
            .take()
            .map(|e| e.name().to_string())
            .as_deref(),
        Some("x-a")
    );
}

#[test]
fn unoffered_extensions_are_not_negotiated() {
    let x = TestNegotiator::new("x-test", 0x40);
    let (req, _) = server_feed(&config_with(std::slice::from_ref(&x)), &[&minimal("")]).unwrap();
    let accepted = req.accept(AcceptOptions::new()).unwrap();
    assert!(accepted.negotiated.extension.is_none());
    assert!(x.seen.lock().unwrap().is_empty());
}

#[test]
fn accept_refuses_application_mistakes() {
    let make = || {
        server_feed(
            &HandshakeConfig::default(),
            &[&minimal("Sec-WebSocket-Protocol: chat\r\n")],
        )
        .unwrap()
        .0
    };
    let e = make()
        .accept(AcceptOptions::new().subprotocol("other"))
        .unwrap_err();
    assert_eq!(e, HandshakeError::SubprotocolNotOffered("other".into()));
    assert_eq!(status_of(&error_response(&e)), 500);
    for (name, value) in [
        ("X-Evil", "a\r\nSet-Cookie: b"),
        ("Bad Name", "v"),
        ("upgrade", "h2c"),
        ("Content-Length", "0"),
    ] {
        let e = make()
            .accept(AcceptOptions::new().header(name, value))
            .unwrap_err();
        assert!(matches!(e, HandshakeError::InvalidHeader(_)), "{name}");
    }
}

#[test]
fn application_rejection() {
    let (req, _) = server_feed(&HandshakeConfig::default(), &[&minimal("")]).unwrap();
    let resp = req
        .reject(401, &[("WWW-Authenticate", "Bearer")], b"login first")
        .unwrap();
    assert_eq!(
        resp,
        b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer\r\nContent-Length: 11\r\nConnection: close\r\n\r\nlogin first"
    );
    assert!(req.reject(403, &[("X", "a\nb")], b"").is_err());
}

#[test]
fn receive_after_the_outcome_is_an_error() {
    let mut hs = ServerHandshake::new(HandshakeConfig::default());
    assert!(hs.receive(&minimal("")).unwrap().is_some());
    assert_eq!(
        hs.receive(b"x").unwrap_err().error,
        HandshakeError::Finished
    );
}

#[test]
fn no_panic_on_mutated_requests() {
    // Every single-byte mutation of a valid request: an outcome or "need more", never a panic.
    let base = minimal("Sec-WebSocket-Protocol: a\r\nSec-WebSocket-Extensions: x; y=\"1\"\r\n");
    for i in 0..base.len() {
        for b in [0u8, b'\r', b'\n', b' ', b':', b',', b';', b'"', 0x7f, 0xff] {
            let mut m = base.clone();
            m[i] = b;
            let _ = ServerHandshake::new(HandshakeConfig::default()).receive(&m);
        }
    }
}

#[test]
fn request_with_a_body_is_400() {
    // The bytes of a body must never reach the connection as frames.
    for extra in [
        "Content-Length: 5\r\n",
        "Content-Length: 0\r\nContent-Length: 2\r\n",
        "Content-Length: 0, 2\r\n",
        "Content-Length: x\r\n",
        "Content-Length:\r\n",
        "Transfer-Encoding: chunked\r\n",
        "Transfer-Encoding: identity\r\nContent-Length: 0\r\n",
    ] {
        let mut input = minimal(extra);
        input.extend_from_slice(b"hello");
        let (e, resp) = rejected(&input);
        assert_eq!(
            (e, status_of(&resp)),
            (HandshakeError::RequestBody, 400),
            "{extra}"
        );
        let text = String::from_utf8(resp).unwrap();
        assert!(text.ends_with("body\n"), "{text}");
    }
    // An explicit empty body is no body.
    for extra in [
        "Content-Length: 0\r\n",
        "content-length: 00\r\nContent-Length: 0\r\n",
    ] {
        let mut input = minimal(extra);
        input.extend_from_slice(b"\x81\x80abcd");
        let (_, rest) = server_all_ways(&HandshakeConfig::default(), &input).unwrap();
        assert_eq!(rest, b"\x81\x80abcd", "{extra}");
    }
}

/// Checks the framing of an error response: one status line, `Content-Length` equal to the
/// body length, exactly one `Connection` header; returns the head's lines.
fn well_formed_error(resp: &[u8]) -> Vec<String> {
    let text = String::from_utf8(resp.to_vec()).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").expect("head ends");
    let lines: Vec<String> = head.split("\r\n").map(String::from).collect();
    let status = status_of(resp);
    assert!((300..600).contains(&status), "{text}");
    assert!(
        lines[0].starts_with(&format!("HTTP/1.1 {status} ")),
        "{text}"
    );
    for l in &lines[1..] {
        let (name, value) = l.split_once(": ").expect("name: value");
        assert!(!name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic() && b != b':'));
        assert!(value
            .bytes()
            .all(|b| b == b'\t' || (b' '..=b'~').contains(&b)));
    }
    let count = |name: &str| {
        lines
            .iter()
            .filter(|l| l.to_ascii_lowercase().starts_with(&format!("{name}: ")))
            .count()
    };
    assert_eq!(count("connection"), 1, "{text}");
    assert_eq!(count("content-length"), 1, "{text}");
    assert!(
        has_line(resp, &format!("Content-Length: {}", body.len())),
        "{text}"
    );
    lines
}

#[test]
fn version_426_says_how_to_upgrade() {
    // RFC 9110 §15.5.22: a 426 carries Upgrade, and whoever sends Upgrade also sends the
    // "upgrade" connection option (§7.8); RFC 6455 §4.2.2 adds the version.
    let (e, resp) = rejected(&with_lines(
        "GET / HTTP/1.1",
        &[
            "Host: h",
            "Upgrade: websocket",
            "Connection: Upgrade",
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
            "Sec-WebSocket-Version: 8",
        ],
    ));
    assert_eq!(e, HandshakeError::UnsupportedVersion);
    well_formed_error(&resp);
    assert_eq!(status_of(&resp), 426);
    assert!(has_line(&resp, "Upgrade: websocket"));
    assert!(has_line(&resp, "Connection: Upgrade, close"));
    assert!(has_line(&resp, "Sec-WebSocket-Version: 13"));
}

#[test]
fn every_error_response_is_well_formed() {
    let upgrade_errors = [
        HandshakeError::NotWebSocketUpgrade,
        HandshakeError::UnsupportedVersion,
    ];
    let others = [
        HandshakeError::HeadTooLarge { limit: 1 },
        HandshakeError::TooManyHeaders { limit: 1 },
        HandshakeError::Malformed("x"),
        HandshakeError::Method,
        HandshakeError::HttpVersion,
        HandshakeError::Host,
        HandshakeError::ConnectionNotUpgrade,
        HandshakeError::InvalidKey,
        HandshakeError::InvalidSubprotocol,
        HandshakeError::RequestBody,
        HandshakeError::InvalidTarget,
        HandshakeError::InvalidH2Header("x"),
        HandshakeError::SubprotocolNotOffered("x".into()),
        HandshakeError::InvalidHeader("x".into()),
        HandshakeError::InvalidStatus(200),
    ];
    for e in &upgrade_errors {
        let resp = error_response(e);
        well_formed_error(&resp);
        assert_eq!(status_of(&resp), 426, "{e:?}");
        assert!(has_line(&resp, "Upgrade: websocket"), "{e:?}");
        assert!(has_line(&resp, "Connection: Upgrade, close"), "{e:?}");
        assert!(has_line(&resp, "Sec-WebSocket-Version: 13"), "{e:?}");
    }
    for e in &others {
        let resp = error_response(e);
        let lines = well_formed_error(&resp);
        assert!(has_line(&resp, "Connection: close"), "{e:?}");
        assert!(!lines.iter().any(|l| l.starts_with("Upgrade")), "{e:?}");
        assert_eq!(has_line(&resp, "Allow: GET"), *e == HandshakeError::Method);
    }
    // Application rejections: framed the same way; a 426 gets its Upgrade, a 405 its Allow.
    let resp = reject_response(426, &[], b"").unwrap();
    well_formed_error(&resp);
    assert!(has_line(&resp, "Upgrade: websocket"));
    assert!(has_line(&resp, "Connection: Upgrade, close"));
    let resp = reject_response(426, &[("Upgrade", "websocket")], b"").unwrap();
    assert_eq!(
        String::from_utf8_lossy(&resp)
            .matches("Upgrade: websocket")
            .count(),
        1
    );
    let resp = reject_response(405, &[], b"").unwrap();
    well_formed_error(&resp);
    assert!(has_line(&resp, "Allow: GET"));
    let resp = reject_response(301, &[("Location", "/elsewhere")], b"moved").unwrap();
    well_formed_error(&resp);
    assert!(has_line(&resp, "Connection: close"));
}

#[test]
fn absolute_form_target_names_the_host() {
    // RFC 9112 §3.2.2: the authority of an absolute-form target is the host; Host is still
    // required once (RFC 9112 §3.2), but its value is not what counts.
    for (target, host, path) in [
        (
            "ws://example.com:8080/chat?x=1",
            "example.com:8080",
            "/chat?x=1",
        ),
        ("wss://example.com/chat", "example.com", "/chat"),
        ("http://example.com", "example.com", "/"),
        ("HTTPS://Example.com?x=1", "Example.com", "/?x=1"),
        ("http://[::1]:80/a/b", "[::1]:80", "/a/b"),
    ] {
        let input = with_lines(&format!("GET {target} HTTP/1.1"), GOOD);
        let (req, _) = server_all_ways(&HandshakeConfig::default(), &input).unwrap();
        assert_eq!(
            (req.host.as_str(), req.target.as_str()),
            (host, path),
            "{target}"
        );
    }
    let (req, _) = server_all_ways(&HandshakeConfig::default(), &minimal("")).unwrap();
    assert_eq!(
        (req.host.as_str(), req.target.as_str()),
        ("server.example.com", "/chat")
    );
}

#[test]
fn other_target_forms_are_400() {
    for target in [
        "*",
        "example.com:443",
        "chat",
        "?x=1",
        "ftp://example.com/chat",
        "http:///chat",
        "http://user@example.com/chat",
        "http:/chat",
        "ws://exa mple.com/",
    ] {
        let input = with_lines(&format!("GET {target} HTTP/1.1"), GOOD);
        let e = server_feed(&HandshakeConfig::default(), &[&input]).unwrap_err();
        assert!(
            matches!(
                e.error,
                HandshakeError::InvalidTarget | HandshakeError::Malformed(_)
            ),
            "{target}: {:?}",
            e.error
        );
        assert_eq!(status_of(&e.response), 400, "{target}");
    }
    for target in [
        "*",
        "example.com:443",
        "chat",
        "ftp://h/x",
        "http:///x",
        "http://u@h/",
    ] {
        let (e, _) = rejected(&with_lines(&format!("GET {target} HTTP/1.1"), GOOD));
        assert_eq!(e, HandshakeError::InvalidTarget, "{target}");
    }
}

#[test]
fn rejection_status_must_be_an_error_or_redirect() {
    let (req, _) = server_feed(&HandshakeConfig::default(), &[&minimal("")]).unwrap();
    for status in [0, 99, 100, 101, 200, 204, 299, 600, 1000, u16::MAX] {
        assert_eq!(
            req.reject(status, &[], b""),
            Err(HandshakeError::InvalidStatus(status))
        );
        assert_eq!(
            reject_response(status, &[], b""),
            Err(HandshakeError::InvalidStatus(status))
        );
    }
    for status in [300, 302, 400, 403, 404, 429, 500, 503, 599] {
        let resp = req.reject(status, &[], b"").unwrap();
        assert_eq!(status_of(&resp), status);
    }
}

#[test]
fn control_bytes_in_written_headers_are_refused() {
    let make = || {
        server_feed(&HandshakeConfig::default(), &[&minimal("")])
            .unwrap()
            .0
    };
    for value in [
        "a\x01b", "\x1b[31m", "a\x7f", "a\0b", "a\x0bb", "a\x0cb", "a\rb", "a\nb",
    ] {
        let e = make()
            .accept(AcceptOptions::new().header("X-V", value))
            .unwrap_err();
        assert_eq!(e, HandshakeError::InvalidHeader("X-V".into()), "{value:?}");
        assert_eq!(
            make().reject(403, &[("X-V", value)], b""),
            Err(HandshakeError::InvalidHeader("X-V".into())),
            "{value:?}"
        );
    }
    // HTAB and non-ASCII (obs-text) stay allowed.
    let accepted = make()
        .accept(
            AcceptOptions::new()
                .header("X-V", "a\tb")
                .header("X-U", "caf\u{e9}"),
        )
        .unwrap();
    assert!(has_line(&accepted.response, "X-V: a\tb"));
    assert!(make().reject(403, &[("X-V", "a\tb")], b"").is_ok());
}

#[test]
fn negotiator_answers_must_be_writable_and_parseable() {
    // An answer with a parameter value that is not a token could only be written quoted, and
    // RFC 6455 §9.1 forbids that; the server refuses to write it (500).
    struct Spaces;
    impl sansws::extensions::ExtensionNegotiator for Spaces {
        fn name(&self) -> &str {
            "x-sp"
        }
        fn offers(&self) -> Vec<ExtensionOffer> {
            vec![ExtensionOffer::new("x-sp")]
        }
        fn accept(
            &self,
            _: &[&ExtensionOffer],
        ) -> Option<(ExtensionOffer, Box<dyn sansws::extensions::Extension>)> {
            Some((
                ExtensionOffer::new("x-sp").with_param("v", Some("a b".into())),
                Box::new(TestExt {
                    name: "x-sp".into(),
                    rsv: 0x40,
                }),
            ))
        }
        fn confirm(
            &self,
            _: &ExtensionOffer,
        ) -> Result<Box<dyn sansws::extensions::Extension>, sansws::extensions::NegotiationError>
        {
            unreachable!()
        }
    }
    let config = HandshakeConfig::default().extension(std::sync::Arc::new(Spaces));
    let (req, _) = server_feed(&config, &[&minimal("Sec-WebSocket-Extensions: x-sp\r\n")]).unwrap();
    let e = req.accept(AcceptOptions::new()).unwrap_err();
    assert!(
        matches!(e, HandshakeError::InvalidNegotiatorOutput(_)),
        "{e:?}"
    );
    assert_eq!(status_of(&error_response(&e)), 500);
}

#[test]
fn chunkings_cover_every_split() {
    let c = chunkings(b"abc");
    assert!(c.iter().all(|parts| parts.concat() == b"abc"));
    assert!(c.len() >= 1 + 4 + 3);
}
