//! Client side of the HTTP/1.1 handshake: the request written, and every rule on the
//! response, fed whole and at every split.

mod common;

use common::handshake::*;
use sansws::extensions::ExtensionOffer;
use sansws::handshake::{
    AcceptOptions, ClientHandshake, ClientOutcome, ClientRequest, HandshakeConfig, HandshakeError,
    HeaderList,
};

fn start(request: &ClientRequest, config: &HandshakeConfig) -> (ClientHandshake, Vec<u8>) {
    ClientHandshake::new(request, config, &mut counting_entropy()).unwrap()
}

fn plain() -> impl Fn() -> ClientHandshake {
    || {
        start(
            &ClientRequest::new("example.com", "/chat"),
            &HandshakeConfig::default(),
        )
        .0
    }
}

/// A 101 as nginx proxies it (`proxy_set_header Connection "upgrade"`), for the counting key.
fn nginx_101(extra: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nServer: nginx/1.24.0\r\nDate: Mon, 06 May 2024 10:00:00 GMT\r\n\
         Connection: upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: {COUNTING_ACCEPT}\r\n{extra}\r\n"
    )
    .into_bytes()
}

fn accepted(
    r: Result<(ClientOutcome, Vec<u8>), HandshakeError>,
) -> (sansws::handshake::ClientAccepted, Vec<u8>) {
    match r {
        Ok((ClientOutcome::Accepted(a), rest)) => (a, rest),
        other => panic!("not accepted: {other:?}"),
    }
}

#[test]
fn request_bytes() {
    let x = TestNegotiator::new("x-test", 0x40);
    let request = ClientRequest::new("example.com:8080", "/chat?room=1")
        .origin("https://example.com")
        .subprotocol("chat")
        .subprotocol("superchat")
        .header("Authorization", "Bearer t");
    let (_, bytes) = start(&request, &config_with(&[x]));
    assert_eq!(
        String::from_utf8(bytes).unwrap(),
        "GET /chat?room=1 HTTP/1.1\r\nHost: example.com:8080\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: AAECAwQFBgcICQoLDA0ODw==\r\nSec-WebSocket-Version: 13\r\n\
         Origin: https://example.com\r\nSec-WebSocket-Protocol: chat, superchat\r\n\
         Sec-WebSocket-Extensions: x-test; level=1, x-test\r\nAuthorization: Bearer t\r\n\r\n"
    );
}

#[test]
fn empty_target_means_root() {
    let (_, bytes) = start(&ClientRequest::new("h", ""), &HandshakeConfig::default());
    assert!(bytes.starts_with(b"GET / HTTP/1.1\r\n"));
}

#[test]
fn request_refuses_unsafe_input() {
    let config = HandshakeConfig::default();
    let mut e = counting_entropy();
    for request in [
        ClientRequest::new("h", "/").header("X", "a\r\nb: c"),
        ClientRequest::new("h", "/").header("Bad Name", "v"),
        ClientRequest::new("h", "/").header("sec-websocket-key", "v"),
        ClientRequest::new("h\r\nX: y", "/"),
        ClientRequest::new("", "/"),
        ClientRequest::new("h", "/a b"),
        ClientRequest::new("h", "/").origin("o\n"),
    ] {
        assert!(
            matches!(
                ClientHandshake::new(&request, &config, &mut e),
                Err(HandshakeError::InvalidHeader(_))
            ),
            "{request:?}"
        );
    }
    let bad_protocol = ClientRequest::new("h", "/").subprotocol("a b");
    assert_eq!(
        ClientHandshake::new(&bad_protocol, &config, &mut e).unwrap_err(),
        HandshakeError::InvalidSubprotocol
    );
}

#[test]
fn fresh_key_per_handshake() {
    let mut os = sansws::entropy::OsEntropy::new();
    let request = ClientRequest::new("h", "/");
    let (_, a) = ClientHandshake::new(&request, &HandshakeConfig::default(), &mut os).unwrap();
    let (_, b) = ClientHandshake::new(&request, &HandshakeConfig::default(), &mut os).unwrap();
    assert_ne!(a, b);
}

#[test]
fn nginx_response_is_accepted() {
    let (a, rest) = accepted(client_all_ways(plain(), &nginx_101("")));
    assert!(rest.is_empty());
    assert!(a.negotiated.subprotocol.is_none() && a.negotiated.extension.is_none());
    assert_eq!(a.headers.single("server"), Some(&b"nginx/1.24.0"[..]));
}

#[test]
fn pipelined_frames_after_the_response_are_kept() {
    let frames: &[u8] = &[
        0x81, 0x05, b'H', b'e', b'l', b'l', b'o', 0x89, 0x00, b'\r', b'\n', b'\r', b'\n',
    ];
    let mut input = nginx_101("");
    input.extend_from_slice(frames);
    for chunks in chunkings(&input) {
        let (_, rest) = accepted(client_feed(&mut plain()(), &chunks));
        assert_eq!(rest, frames);
    }
    let (a, _) = accepted(client_feed(&mut plain()(), &[&input]));
    assert_eq!(&a.leftover[..], frames);
}

#[test]
fn accept_must_match_the_key() {
    let wrong = nginx_101("")
        .iter()
        .map(|&b| if b == b'B' { b'C' } else { b })
        .collect::<Vec<_>>();
    assert_eq!(
        client_all_ways(plain(), &wrong).unwrap_err(),
        HandshakeError::AcceptMismatch
    );
    let missing =
        b"HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n";
    assert_eq!(
        client_all_ways(plain(), missing).unwrap_err(),
        HandshakeError::AcceptMismatch
    );
    let twice = nginx_101(&format!("Sec-WebSocket-Accept: {COUNTING_ACCEPT}\r\n"));
    assert_eq!(
        client_all_ways(plain(), &twice).unwrap_err(),
        HandshakeError::AcceptMismatch
    );
}

#[test]
fn upgrade_and_connection_are_checked() {
    let no_upgrade = String::from_utf8(nginx_101(""))
        .unwrap()
        .replace("Upgrade: websocket\r\n", "");
    assert_eq!(
        client_all_ways(plain(), no_upgrade.as_bytes()).unwrap_err(),
        HandshakeError::NotWebSocketUpgrade
    );
    let no_conn = String::from_utf8(nginx_101(""))
        .unwrap()
        .replace("Connection: upgrade", "Connection: keep-alive");
    assert_eq!(
        client_all_ways(plain(), no_conn.as_bytes()).unwrap_err(),
        HandshakeError::ConnectionNotUpgrade
    );
    let old = String::from_utf8(nginx_101(""))
        .unwrap()
        .replace("HTTP/1.1", "HTTP/1.0");
    assert_eq!(
        client_all_ways(plain(), old.as_bytes()).unwrap_err(),
        HandshakeError::HttpVersion
    );
}

#[test]
fn subprotocol_answer() {
    let make = || {
        start(
            &ClientRequest::new("h", "/")
                .subprotocol("chat")
                .subprotocol("superchat"),
            &HandshakeConfig::default(),
        )
        .0
    };
    let (a, _) = accepted(client_all_ways(
        make,
        &nginx_101("Sec-WebSocket-Protocol: superchat\r\n"),
    ));
    assert_eq!(a.negotiated.subprotocol.as_deref(), Some("superchat"));
    let e = client_all_ways(make, &nginx_101("Sec-WebSocket-Protocol: other\r\n")).unwrap_err();
    assert_eq!(e, HandshakeError::UnrequestedSubprotocol("other".into()));
    let e = client_all_ways(
        make,
        &nginx_101("Sec-WebSocket-Protocol: chat, superchat\r\n"),
    )
    .unwrap_err();
    assert_eq!(e, HandshakeError::InvalidSubprotocol);
    // None offered, one answered.
    let e = client_all_ways(plain(), &nginx_101("Sec-WebSocket-Protocol: chat\r\n")).unwrap_err();
    assert_eq!(e, HandshakeError::UnrequestedSubprotocol("chat".into()));
    // Case matters for subprotocols.
    let e = client_all_ways(make, &nginx_101("Sec-WebSocket-Protocol: Chat\r\n")).unwrap_err();
    assert_eq!(e, HandshakeError::UnrequestedSubprotocol("Chat".into()));
}

#[test]
fn extension_answers() {
    let x = TestNegotiator::new("x-test", 0x40);
    let y = TestNegotiator::new("x-other", 0x40);
    let config = config_with(&[x, y]);
    let make = || start(&ClientRequest::new("h", "/"), &config).0;

    let (a, _) = accepted(client_all_ways(
        make,
        &nginx_101("Sec-WebSocket-Extensions: X-Test; level=1\r\n"),
    ));
    assert!(a.negotiated.extension.is_some());
    assert_eq!(
        a.negotiated.extension.as_ref().map(|e| e.rsv_bits()),
        Some(0x40)
    );

    let e =
        client_all_ways(make, &nginx_101("Sec-WebSocket-Extensions: x-unknown\r\n")).unwrap_err();
    assert_eq!(e, HandshakeError::UnrequestedExtension("x-unknown".into()));
    let e = client_all_ways(
        make,
        &nginx_101("Sec-WebSocket-Extensions: x-test\r\nSec-WebSocket-Extensions: x-test\r\n"),
    )
    .unwrap_err();
    assert_eq!(e, HandshakeError::DuplicateExtension("x-test".into()));
    let e = client_all_ways(
        make,
        &nginx_101("Sec-WebSocket-Extensions: x-test; mode=fast\r\n"),
    )
    .unwrap_err();
    assert!(
        matches!(e, HandshakeError::Negotiation(ref n) if n.reason == "unknown parameter"),
        "{e:?}"
    );
    let e = client_all_ways(
        make,
        &nginx_101("Sec-WebSocket-Extensions: x-test, x-other\r\n"),
    )
    .unwrap_err();
    assert_eq!(e, HandshakeError::MultipleExtensions("x-other".into()));
    let e = client_all_ways(make, &nginx_101("Sec-WebSocket-Extensions: x-test;\r\n")).unwrap_err();
    assert!(matches!(e, HandshakeError::InvalidExtensions(_)));
}

#[test]
fn extension_offered_by_nobody_cannot_be_answered() {
    // A configured negotiator that offered nothing may not be answered either.
    struct Silent;
    impl sansws::extensions::ExtensionNegotiator for Silent {
        fn name(&self) -> &str {
            "x-silent"
        }
        fn offers(&self) -> Vec<ExtensionOffer> {
            Vec::new()
        }
        fn accept(
            &self,
            _: &[&ExtensionOffer],
        ) -> Option<(ExtensionOffer, Box<dyn sansws::extensions::Extension>)> {
            None
        }
        fn confirm(
            &self,
            _: &ExtensionOffer,
        ) -> Result<Box<dyn sansws::extensions::Extension>, sansws::extensions::NegotiationError>
        {
            Ok(Box::new(TestExt {
                name: "x-silent".into(),
                rsv: 0,
            }))
        }
    }
    let config = HandshakeConfig::default().extension(std::sync::Arc::new(Silent));
    let (_, bytes) = start(&ClientRequest::new("h", "/"), &config);
    assert!(!String::from_utf8_lossy(&bytes).contains("Extensions"));
    let make = || start(&ClientRequest::new("h", "/"), &config).0;
    let e =
        client_all_ways(make, &nginx_101("Sec-WebSocket-Extensions: x-silent\r\n")).unwrap_err();
    assert_eq!(e, HandshakeError::UnrequestedExtension("x-silent".into()));
}

#[test]
fn redirect_is_a_typed_rejection() {
    let input = b"HTTP/1.1 302 Found\r\nLocation: wss://other.example/chat\r\nContent-Length: 5\r\n\r\nmoved";
    match client_all_ways(plain(), input).unwrap() {
        (ClientOutcome::Refused(r), rest) => {
            assert_eq!((r.status, r.reason.as_str()), (302, "Found"));
            assert_eq!(
                r.headers.single("location"),
                Some(&b"wss://other.example/chat"[..])
            );
            assert_eq!(rest, b"moved");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn unauthorized_is_a_typed_rejection() {
    let input = b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"x\"\r\n\r\n";
    match client_all_ways(plain(), input).unwrap() {
        (ClientOutcome::Refused(r), _) => {
            assert_eq!(r.status, 401);
            assert!(r.headers.single("www-authenticate").is_some());
            assert!(r.body_prefix.is_empty());
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn interim_responses_are_skipped() {
    let mut input = b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n".to_vec();
    input.extend_from_slice(&nginx_101(""));
    input.extend_from_slice(b"\x81\x00");
    let (a, rest) = accepted(client_all_ways(plain(), &input));
    assert_eq!(rest, b"\x81\x00");
    assert!(a.headers.single("link").is_none());
}

#[test]
fn response_head_limit() {
    let config = HandshakeConfig::default().max_head_bytes(200);
    let make = || start(&ClientRequest::new("h", "/"), &config).0;
    let big = nginx_101(&format!("X-Pad: {}\r\n", "a".repeat(200)));
    assert_eq!(
        client_all_ways(make, &big).unwrap_err(),
        HandshakeError::HeadTooLarge { limit: 200 }
    );
}

#[test]
fn garbage_response_is_an_error() {
    for junk in [
        &b"SSH-2.0-OpenSSH_9.6\r\n\r\n"[..],
        b"HTTP/1.1 abc\r\n\r\n",
        b"HTTP/1.1 101 OK\r\nbad\r\n\r\n",
    ] {
        assert!(matches!(
            client_all_ways(plain(), junk).unwrap_err(),
            HandshakeError::Malformed(_)
        ));
    }
}

#[test]
fn receive_after_the_outcome_is_an_error() {
    let mut hs = plain()();
    assert!(hs.receive(&nginx_101("")).unwrap().is_some());
    assert_eq!(hs.receive(b"x").unwrap_err(), HandshakeError::Finished);
}

#[test]
fn round_trip_with_our_server() {
    let x = TestNegotiator::new("x-test", 0x40);
    let config = config_with(&[x]);
    let request = ClientRequest::new("example.com", "/chat")
        .origin("https://example.com")
        .subprotocol("v2.chat");
    let (mut client, bytes) = start(&request, &config);
    let (req, _) = server_all_ways(&config, &bytes).unwrap();
    assert_eq!(req.origin.as_deref(), Some("https://example.com"));
    let accepted_server = req
        .accept(AcceptOptions::new().subprotocol("v2.chat"))
        .unwrap();
    let mut response = accepted_server.response.clone();
    response.extend_from_slice(b"\x82\x01z");
    let (a, rest) = accepted(client_feed(&mut client, &[&response]));
    assert_eq!(rest, b"\x82\x01z");
    assert_eq!(
        a.negotiated.subprotocol,
        accepted_server.negotiated.subprotocol
    );
    assert_eq!(
        a.negotiated.extension.as_ref().map(|e| e.rsv_bits()),
        accepted_server
            .negotiated
            .extension
            .as_ref()
            .map(|e| e.rsv_bits())
    );
    assert!(a.negotiated.extension.is_some());
}

#[test]
fn only_one_extension_may_be_accepted() {
    // The connection runs one extension, so an answer accepting two fails the handshake,
    // even when their reserved bits differ.
    let x = TestNegotiator::new("x-test", 0x40);
    let y = TestNegotiator::new("x-two", 0x20);
    let z = TestNegotiator::new("x-none", 0);
    let config = config_with(&[x, y, z]);
    let make = || start(&ClientRequest::new("h", "/"), &config).0;
    for answer in [
        "Sec-WebSocket-Extensions: x-test, x-two\r\n",
        "Sec-WebSocket-Extensions: x-two; level=1\r\nSec-WebSocket-Extensions: x-test\r\n",
        "Sec-WebSocket-Extensions: x-none, x-two\r\n",
    ] {
        let e = client_all_ways(make, &nginx_101(answer)).unwrap_err();
        assert!(
            matches!(e, HandshakeError::MultipleExtensions(_)),
            "{answer}: {e:?}"
        );
    }
    for answer in ["x-test", "x-two", "x-none"] {
        let (mut a, _) = accepted(client_all_ways(
            make,
            &nginx_101(&format!("Sec-WebSocket-Extensions: {answer}\r\n")),
        ));
        assert!(a.negotiated.extension.is_some());
        assert_eq!(
            a.negotiated
                .extension
                .take()
                .map(|e| e.name().to_string())
                .as_deref(),
            Some(answer)
        );
    }
}

#[test]
fn upgrade_must_be_exactly_websocket() {
    // RFC 6455 §4.1: the client fails unless Upgrade is a case-insensitive match for
    // "websocket"; containing it in a list is not enough.
    let with_upgrade = |lines: &str| {
        String::from_utf8(nginx_101(""))
            .unwrap()
            .replace("Upgrade: websocket\r\n", lines)
            .into_bytes()
    };
    for lines in [
        "Upgrade: websocket, h2c\r\n",
        "Upgrade: h2c, websocket\r\n",
        "Upgrade: h2c\r\nUpgrade: websocket\r\n",
        "Upgrade: websocket\r\nUpgrade: websocket\r\n",
        "Upgrade: websocket/13\r\n",
        "Upgrade: websockets\r\n",
        "Upgrade:\r\n",
    ] {
        assert_eq!(
            client_all_ways(plain(), &with_upgrade(lines)).unwrap_err(),
            HandshakeError::NotWebSocketUpgrade,
            "{lines:?}"
        );
    }
    for lines in [
        "Upgrade: WebSocket\r\n",
        "Upgrade:   websocket \t\r\n",
        "upgrade: WEBSOCKET\r\n",
    ] {
        accepted(client_all_ways(plain(), &with_upgrade(lines)));
    }
}

#[test]
fn request_refuses_control_bytes_in_values() {
    let config = HandshakeConfig::default();
    let mut e = counting_entropy();
    for value in ["a\x01b", "\x1b[0m", "a\x7f", "a\x0bb"] {
        for request in [
            ClientRequest::new("h", "/").header("X-V", value),
            ClientRequest::new("h", "/").origin(value),
        ] {
            assert!(
                matches!(
                    ClientHandshake::new(&request, &config, &mut e),
                    Err(HandshakeError::InvalidHeader(_))
                ),
                "{request:?}"
            );
        }
    }
    let (_, bytes) = start(&ClientRequest::new("h", "/").header("X-V", "a\tb"), &config);
    assert!(has_line(&bytes, "X-V: a\tb"));
}

#[test]
fn negotiator_offers_must_be_tokens() {
    // An offer whose value is not a token would be written quoted, which RFC 6455 §9.1 does
    // not allow and this crate's own parser refuses.
    struct Spaces;
    impl sansws::extensions::ExtensionNegotiator for Spaces {
        fn name(&self) -> &str {
            "x-sp"
        }
        fn offers(&self) -> Vec<ExtensionOffer> {
            vec![ExtensionOffer::new("x-sp").with_param("v", Some("a b".into()))]
        }
        fn accept(
            &self,
            _: &[&ExtensionOffer],
        ) -> Option<(ExtensionOffer, Box<dyn sansws::extensions::Extension>)> {
            None
        }
        fn confirm(
            &self,
            _: &ExtensionOffer,
        ) -> Result<Box<dyn sansws::extensions::Extension>, sansws::extensions::NegotiationError>
        {
            Err(sansws::extensions::NegotiationError {
                reason: "never".into(),
            })
        }
    }
    let config = HandshakeConfig::default().extension(std::sync::Arc::new(Spaces));
    let e = ClientHandshake::new(
        &ClientRequest::new("h", "/"),
        &config,
        &mut counting_entropy(),
    )
    .unwrap_err();
    assert!(
        matches!(e, HandshakeError::InvalidNegotiatorOutput(_)),
        "{e:?}"
    );
}

#[test]
fn many_interim_responses_then_the_101() {
    let mut input = Vec::new();
    for i in 0..200 {
        input.extend_from_slice(
            format!("HTTP/1.1 10{} Hint\r\nX-N: {i}\r\n\r\n", [0, 2, 3][i % 3]).as_bytes(),
        );
    }
    input.extend_from_slice(&nginx_101(""));
    input.extend_from_slice(b"\x81\x02hi");
    for chunks in [
        vec![&input[..]],
        input.chunks(7).collect(),
        input.chunks(1).collect(),
    ] {
        let (a, rest) = accepted(client_feed(&mut plain()(), &chunks));
        assert_eq!(rest, b"\x81\x02hi");
        assert!(a.headers.single("x-n").is_none());
    }
}
