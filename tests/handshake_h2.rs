//! Extended CONNECT (RFC 8441 for HTTP/2, RFC 9220 for HTTP/3) on both sides.

#[path = "handshake_util.rs"]
mod util;

use sansws::handshake::h2::{client_request, error_fields, parse_request};
use sansws::handshake::{Accept, ClientOutcome, ClientRequest, HandshakeConfig, HandshakeError};
use util::*;

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

const GOOD: &[(&str, &str)] = &[
    (":method", "CONNECT"),
    (":protocol", "websocket"),
    (":scheme", "https"),
    (":path", "/chat"),
    (":authority", "server.example.com"),
    ("sec-websocket-version", "13"),
    ("sec-websocket-protocol", "chat, superchat"),
    ("origin", "http://www.example.com"),
];

fn server_error(fields: &[(&str, &str)]) -> HandshakeError {
    parse_request(
        fields.iter().map(|(n, v)| (n.as_bytes(), v.as_bytes())),
        &HandshakeConfig::default(),
    )
    .unwrap_err()
}

fn replace(name: &str, value: Option<&'static str>) -> Vec<(&'static str, &'static str)> {
    let mut v: Vec<_> = GOOD.iter().copied().filter(|(n, _)| *n != name).collect();
    if let Some(value) = value {
        let at = v
            .iter()
            .position(|(n, _)| !n.starts_with(':'))
            .unwrap_or(v.len());
        let name: &'static str = GOOD
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(n, _)| *n)
            .unwrap_or("x-unknown");
        v.insert(
            if name.starts_with(':') { at } else { v.len() },
            (name, value),
        );
    }
    v
}

#[test]
fn client_request_fields() {
    let x = TestNegotiator::new("x-test", 0x40);
    let request = ClientRequest::new("server.example.com", "/chat?x=1")
        .origin("http://www.example.com")
        .subprotocol("chat")
        .header("Authorization", "Bearer t");
    let (_, fields) = client_request(&request, "https", &config_with(&[x])).unwrap();
    assert_eq!(
        fields,
        pairs(&[
            (":method", "CONNECT"),
            (":protocol", "websocket"),
            (":scheme", "https"),
            (":path", "/chat?x=1"),
            (":authority", "server.example.com"),
            ("sec-websocket-version", "13"),
            ("origin", "http://www.example.com"),
            ("sec-websocket-protocol", "chat"),
            ("sec-websocket-extensions", "x-test; level=1, x-test"),
            ("authorization", "Bearer t"),
        ])
    );
    assert!(!fields.iter().any(|(n, _)| n.contains("key")));
    assert!(client_request(&request, "wss", &HandshakeConfig::default()).is_err());
}

#[test]
fn round_trip_with_extension_and_subprotocol() {
    let x = TestNegotiator::new("x-test", 0x40);
    let config = config_with(&[x]);
    let request = ClientRequest::new("server.example.com", "/chat")
        .subprotocol("chat")
        .subprotocol("superchat");
    let (client, fields) = client_request(&request, "https", &config).unwrap();

    let req = parse_request(
        fields.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        &config,
    )
    .unwrap();
    assert_eq!(
        (
            req.scheme.as_str(),
            req.authority.as_str(),
            req.path.as_str()
        ),
        ("https", "server.example.com", "/chat")
    );
    assert_eq!(req.subprotocols, ["chat", "superchat"]);
    assert_eq!(req.extensions.len(), 2);
    let accepted = req
        .accept(
            Accept::new()
                .subprotocol("superchat")
                .header("Set-Cookie", "a=b"),
        )
        .unwrap();
    assert_eq!(
        accepted.fields,
        pairs(&[
            (":status", "200"),
            ("sec-websocket-protocol", "superchat"),
            ("sec-websocket-extensions", "x-test; level=1"),
            ("set-cookie", "a=b"),
        ])
    );
    assert_eq!(accepted.negotiated.rsv_bits(), 0x40);

    match client
        .response(
            accepted
                .fields
                .iter()
                .map(|(n, v)| (n.as_bytes(), v.as_bytes())),
        )
        .unwrap()
    {
        ClientOutcome::Accepted(a) => {
            assert_eq!(a.negotiated.subprotocol.as_deref(), Some("superchat"));
            assert_eq!(a.negotiated.extensions.len(), 1);
            assert!(a.leftover.is_empty());
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn server_accepts_the_rfc8441_example() {
    let req = parse_request(GOOD.iter().copied(), &HandshakeConfig::default()).unwrap();
    assert_eq!(req.origin.as_deref(), Some("http://www.example.com"));
    let accepted = req.accept(Accept::new()).unwrap();
    assert_eq!(accepted.fields, pairs(&[(":status", "200")]));
}

#[test]
fn server_rules() {
    assert_eq!(
        server_error(&replace(":method", Some("GET"))),
        HandshakeError::Method
    );
    assert_eq!(
        error_fields(&HandshakeError::Method),
        pairs(&[(":status", "405"), ("allow", "CONNECT")])
    );
    for (fields, why) in [
        (replace(":protocol", None), ":protocol must be websocket"),
        (
            replace(":protocol", Some("webtransport")),
            ":protocol must be websocket",
        ),
        (replace(":scheme", None), "missing :scheme"),
        (replace(":path", None), "missing :path"),
        (replace(":path", Some("")), "missing :path"),
        (replace(":authority", None), "missing :authority"),
    ] {
        assert_eq!(
            server_error(&fields),
            HandshakeError::InvalidH2Header(why),
            "{fields:?}"
        );
    }
    let version = server_error(&replace("sec-websocket-version", Some("8")));
    assert_eq!(version, HandshakeError::UnsupportedVersion);
    assert_eq!(
        error_fields(&version),
        pairs(&[(":status", "426"), ("sec-websocket-version", "13")])
    );
    assert_eq!(
        server_error(&replace("sec-websocket-version", None)),
        HandshakeError::UnsupportedVersion
    );
}

#[test]
fn server_field_hygiene() {
    let with = |extra: (&'static str, &'static str)| {
        let mut v = GOOD.to_vec();
        v.push(extra);
        server_error(&v)
    };
    for (extra, why) in [
        (("Origin", "x"), "field names must be lower case"),
        (
            ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
            "connection-specific or HTTP/1.1-only field",
        ),
        (
            ("sec-websocket-accept", "x"),
            "connection-specific or HTTP/1.1-only field",
        ),
        (
            ("connection", "upgrade"),
            "connection-specific or HTTP/1.1-only field",
        ),
        (
            ("upgrade", "websocket"),
            "connection-specific or HTTP/1.1-only field",
        ),
        ((":path", "/again"), "pseudo-header after regular field"),
    ] {
        assert_eq!(
            with(extra),
            HandshakeError::InvalidH2Header(why),
            "{extra:?}"
        );
    }
    let mut dup = GOOD.to_vec();
    dup.insert(1, (":method", "CONNECT"));
    assert_eq!(
        server_error(&dup),
        HandshakeError::InvalidH2Header("repeated pseudo-header")
    );
    let mut unknown = GOOD.to_vec();
    unknown.insert(0, (":status", "200"));
    assert_eq!(
        server_error(&unknown),
        HandshakeError::InvalidH2Header("unknown pseudo-header")
    );
    assert_eq!(
        error_fields(&server_error(&unknown)),
        pairs(&[(":status", "400")])
    );
    let bad_ext = with(("sec-websocket-extensions", "x;;"));
    assert!(matches!(bad_ext, HandshakeError::InvalidExtensions(_)));
}

#[test]
fn server_header_count_limit() {
    // GOOD has three regular fields; pseudo-headers are not counted.
    let config = HandshakeConfig {
        max_headers: 3,
        ..HandshakeConfig::default()
    };
    assert!(parse_request(GOOD.iter().copied(), &config).is_ok());
    let config = HandshakeConfig {
        max_headers: 2,
        ..HandshakeConfig::default()
    };
    // An endless field list is refused without being collected.
    let endless = GOOD
        .iter()
        .copied()
        .chain(std::iter::repeat(("x-pad", "1")));
    assert_eq!(
        parse_request(endless, &config).unwrap_err(),
        HandshakeError::TooManyHeaders { limit: 2 }
    );
    let e = parse_request(GOOD.iter().copied(), &config).unwrap_err();
    assert_eq!(e, HandshakeError::TooManyHeaders { limit: 2 });
    assert_eq!(error_fields(&e)[0].1, "431");
}

#[test]
fn client_response_rules() {
    let x = TestNegotiator::new("x-test", 0x40);
    let config = config_with(&[x]);
    let request = ClientRequest::new("h", "/").subprotocol("chat");
    let check = |fields: &[(&str, &str)]| {
        client_request(&request, "https", &config)
            .unwrap()
            .0
            .response(fields.iter().copied())
    };

    match check(&[(":status", "403"), ("content-type", "text/plain")]).unwrap() {
        ClientOutcome::Rejected(r) => {
            assert_eq!(r.status, 403);
            assert_eq!(r.headers.len(), 1);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        check(&[(":status", "200")]).unwrap(),
        ClientOutcome::Accepted(_)
    ));
    assert_eq!(
        check(&[(":status", "200"), ("sec-websocket-protocol", "other")]).unwrap_err(),
        HandshakeError::UnrequestedSubprotocol("other".into())
    );
    assert_eq!(
        check(&[(":status", "200"), ("sec-websocket-extensions", "x-nope")]).unwrap_err(),
        HandshakeError::UnrequestedExtension("x-nope".into())
    );
    assert_eq!(
        check(&[
            (":status", "200"),
            ("sec-websocket-extensions", "x-test, x-test")
        ])
        .unwrap_err(),
        HandshakeError::DuplicateExtension("x-test".into())
    );
    for bad in [
        &[][..],
        &[(":status", "2000")],
        &[(":status", "ok")],
        &[(":path", "/")],
        &[(":status", "200"), ("Server", "x")],
    ] {
        assert!(
            matches!(check(bad).unwrap_err(), HandshakeError::InvalidH2Header(_)),
            "{bad:?}"
        );
    }
}
