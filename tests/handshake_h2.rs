//! Extended CONNECT (RFC 8441 for HTTP/2, RFC 9220 for HTTP/3) on both sides.

mod common;

use common::handshake::*;
use sansws::handshake::h2::{client_request, error_fields, parse_request};
use sansws::handshake::{
    AcceptOptions, ClientOutcome, ClientRequest, HandshakeConfig, HandshakeError,
};

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
    let (mut client, fields) = client_request(&request, "https", &config).unwrap();

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
            AcceptOptions::new()
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
    assert_eq!(
        accepted.negotiated.extension.as_ref().map(|e| e.rsv_bits()),
        Some(0x40)
    );

    match client
        .response(
            accepted
                .fields
                .iter()
                .map(|(n, v)| (n.as_bytes(), v.as_bytes())),
        )
        .unwrap()
    {
        Some(ClientOutcome::Accepted(a)) => {
            assert_eq!(a.negotiated.subprotocol.as_deref(), Some("superchat"));
            assert!(a.negotiated.extension.is_some());
            assert!(a.leftover.is_empty());
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn server_accepts_the_rfc8441_example() {
    let req = parse_request(GOOD.iter().copied(), &HandshakeConfig::default()).unwrap();
    assert_eq!(req.origin.as_deref(), Some("http://www.example.com"));
    let accepted = req.accept(AcceptOptions::new()).unwrap();
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
    // Not 426: a 426 must carry Upgrade (RFC 9110 §15.5.22), which HTTP/2 and HTTP/3 forbid.
    assert_eq!(
        error_fields(&version),
        pairs(&[(":status", "400"), ("sec-websocket-version", "13")])
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
    let config = HandshakeConfig::default().max_headers(3);
    assert!(parse_request(GOOD.iter().copied(), &config).is_ok());
    let config = HandshakeConfig::default().max_headers(2);
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
        Some(ClientOutcome::Refused(r)) => {
            assert_eq!(r.status, 403);
            assert_eq!(r.headers.len(), 1);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        check(&[(":status", "200")]).unwrap(),
        Some(ClientOutcome::Accepted(_))
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
        &[(":status", "099")],
        &[(":status", "600")],
        &[(":status", "101")],
        &[(":path", "/")],
        &[(":status", "200"), ("Server", "x")],
    ] {
        assert!(
            matches!(check(bad).unwrap_err(), HandshakeError::InvalidH2Header(_)),
            "{bad:?}"
        );
    }
}

#[test]
fn interim_responses_are_not_the_answer() {
    // A 1xx header block (e.g. 103 Early Hints) is not the final answer and does not use up
    // the handshake: the caller passes it, then keeps waiting for the 200.
    let x = TestNegotiator::new("x-test", 0x40);
    let config = config_with(&[x]);
    let request = ClientRequest::new("h", "/").subprotocol("chat");
    let (mut client, _) = client_request(&request, "https", &config).unwrap();
    assert!(client
        .response([(":status", "103"), ("link", "</s.css>; rel=preload")])
        .unwrap()
        .is_none());
    assert!(client.response([(":status", "100")]).unwrap().is_none());
    match client
        .response([
            (":status", "200"),
            ("sec-websocket-protocol", "chat"),
            ("sec-websocket-extensions", "x-test"),
        ])
        .unwrap()
    {
        Some(ClientOutcome::Accepted(a)) => {
            assert_eq!(a.negotiated.subprotocol.as_deref(), Some("chat"));
            assert!(a.negotiated.extension.is_some());
            assert!(a.headers.iter().all(|h| h.name != "link"));
        }
        other => panic!("{other:?}"),
    }
    // The answer came: nothing more is read.
    assert_eq!(
        client.response([(":status", "200")]).unwrap_err(),
        HandshakeError::Finished
    );
    // An interim response, then a refusal.
    let (mut client, _) = client_request(&request, "https", &config).unwrap();
    assert!(client.response([(":status", "103")]).unwrap().is_none());
    match client.response([(":status", "404")]).unwrap() {
        Some(ClientOutcome::Refused(r)) => assert_eq!(r.status, 404),
        other => panic!("{other:?}"),
    }
    // An invalid answer ends the handshake too.
    let (mut client, _) = client_request(&request, "https", &config).unwrap();
    assert!(client.response([(":status", "x")]).is_err());
    assert_eq!(
        client.response([(":status", "200")]).unwrap_err(),
        HandshakeError::Finished
    );
}

#[test]
fn server_field_rules_of_rfc9113() {
    let with = |extra: (&'static str, &'static str)| {
        let mut v = GOOD.to_vec();
        v.push(extra);
        parse_request(
            v.iter().map(|(n, v)| (n.as_bytes(), v.as_bytes())),
            &HandshakeConfig::default(),
        )
    };
    for extra in [
        ("te", "gzip"),
        ("te", "trailers, gzip"),
        ("host", "other.example.com"),
        ("host", "server.example.com:8443"),
        ("x y", "v"),
        ("x:y", "v"),
        ("x\0", "v"),
        ("", "v"),
        ("\u{e9}", "v"),
        ("x-v", "a\rb"),
        ("x-v", "a\nb"),
        ("x-v", "a\0b"),
        ("x-v", " leading"),
        ("x-v", "trailing "),
        ("x-v", "\ttab"),
        ("x-v", "tab\t"),
    ] {
        let e = with(extra).unwrap_err();
        assert!(
            matches!(e, HandshakeError::InvalidH2Header(_)),
            "{extra:?}: {e:?}"
        );
        assert_eq!(
            error_fields(&e)[0],
            (":status".to_string(), "400".to_string())
        );
    }
    for extra in [
        ("te", "trailers"),
        ("te", "Trailers"),
        ("host", "server.example.com"),
        ("host", "Server.Example.COM"),
        ("x-v", "inner space\tand tab"),
        ("x-v", ""),
        ("x-u", "caf\u{e9}"),
    ] {
        assert!(with(extra).is_ok(), "{extra:?}");
    }
    // A pseudo-header value is checked too.
    let e = server_error(&replace(":path", Some("/a\r\nb")));
    assert!(matches!(e, HandshakeError::InvalidH2Header(_)), "{e:?}");
}

#[test]
fn client_field_rules_of_rfc9113() {
    let request = ClientRequest::new("h", "/");
    let check = |fields: &[(&str, &str)]| {
        client_request(&request, "https", &HandshakeConfig::default())
            .unwrap()
            .0
            .response(fields.iter().copied())
    };
    for extra in [
        ("te", "gzip"),
        ("x y", "v"),
        ("x:y", "v"),
        ("x-v", "a\nb"),
        ("x-v", "a\0b"),
        ("x-v", " v"),
        ("x-v", "v "),
    ] {
        let e = check(&[(":status", "200"), extra]).unwrap_err();
        assert!(
            matches!(e, HandshakeError::InvalidH2Header(_)),
            "{extra:?}: {e:?}"
        );
        // The same rules apply to a refusal and to an interim response.
        let e = check(&[(":status", "403"), extra]).unwrap_err();
        assert!(
            matches!(e, HandshakeError::InvalidH2Header(_)),
            "{extra:?}: {e:?}"
        );
        let e = check(&[(":status", "103"), extra]).unwrap_err();
        assert!(
            matches!(e, HandshakeError::InvalidH2Header(_)),
            "{extra:?}: {e:?}"
        );
    }
    assert!(check(&[(":status", "200"), ("te", "trailers")]).is_ok());
}

#[test]
fn written_fields_follow_rfc9113() {
    let config = HandshakeConfig::default();
    // The client's extra headers: no te other than trailers, no control bytes, trimmed.
    for request in [
        ClientRequest::new("h", "/").header("TE", "gzip"),
        ClientRequest::new("h", "/").header("X-V", "a\x01"),
        ClientRequest::new("h", "/").header("Keep-Alive", "1"),
    ] {
        assert!(
            matches!(
                client_request(&request, "https", &config),
                Err(HandshakeError::InvalidHeader(_))
            ),
            "{request:?}"
        );
    }
    let (_, fields) = client_request(
        &ClientRequest::new("h", "/")
            .header("TE", "trailers")
            .header("X-V", "  padded\t"),
        "https",
        &config,
    )
    .unwrap();
    assert!(fields.contains(&("te".into(), "trailers".into())));
    assert!(fields.contains(&("x-v".into(), "padded".into())));
    // The server's extra headers likewise.
    let accept = |a: AcceptOptions| {
        parse_request(GOOD.iter().copied(), &config)
            .unwrap()
            .accept(a)
    };
    assert!(matches!(
        accept(AcceptOptions::new().header("te", "gzip")),
        Err(HandshakeError::InvalidHeader(_))
    ));
    assert!(matches!(
        accept(AcceptOptions::new().header("x-v", "a\x7f")),
        Err(HandshakeError::InvalidHeader(_))
    ));
    let ok = accept(AcceptOptions::new().header("X-V", " padded ")).unwrap();
    assert!(ok.fields.contains(&("x-v".into(), "padded".into())));
}
