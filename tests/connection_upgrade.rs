//! The connection from its first byte: handshake and frames in one object, with pipelined
//! frames after the request or response decoded whatever the chunking.

mod common;

use common::{client_seeded, drain, frames};
use sansws::entropy::Entropy;
use sansws::handshake::{AcceptOptions, ClientRequest, HandshakeConfig, HandshakeError};
use sansws::{Config, Connection, Error, Event, SendError, State, Transport};

const REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat, superchat\r\n\r\n";

fn fixed_entropy() -> Box<dyn Entropy> {
    Box::new(|b: &mut [u8]| b.fill(0x42))
}

fn events_after(conn: &mut Connection, parts: &[&[u8]]) -> Vec<Result<Event, Error>> {
    let mut out = Vec::new();
    for p in parts {
        conn.receive(p);
        while let Some(e) = conn.next_event() {
            if e == Ok(Event::UpgradeRequest) {
                conn.accept(AcceptOptions::new().subprotocol("chat"))
                    .unwrap();
            }
            out.push(e);
        }
    }
    out
}

#[test]
fn server_request_with_pipelined_frames_at_every_split() {
    let mut client = client_seeded(Config::default(), 9);
    client.send_text("first").unwrap();
    client.send_binary(b"second").unwrap();
    let mut wire = REQUEST.to_vec();
    wire.extend(drain(&mut client));
    for cut in 0..=wire.len() {
        let mut server = Connection::server_upgrade(Config::default(), HandshakeConfig::default());
        assert_eq!(server.send_text("too early"), Err(SendError::Handshaking));
        let events = events_after(&mut server, &[&wire[..cut], &wire[cut..]]);
        assert_eq!(
            events,
            vec![
                Ok(Event::UpgradeRequest),
                Ok(Event::Text("first".into())),
                Ok(Event::Binary("second".into()))
            ],
            "cut {cut}"
        );
        assert_eq!(server.subprotocol(), Some("chat"));
        let out = drain(&mut server);
        let text = String::from_utf8_lossy(&out);
        assert!(text.starts_with("HTTP/1.1 101 Switching Protocols\r\n"));
        assert!(text.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
        assert!(text.contains("Sec-WebSocket-Protocol: chat\r\n"));
    }
}

#[test]
fn server_sees_the_request_before_deciding() {
    let mut server = Connection::server_upgrade(Config::default(), HandshakeConfig::default());
    server.receive(REQUEST);
    assert_eq!(server.next_event(), Some(Ok(Event::UpgradeRequest)));
    let request = server.upgrade_request().expect("waiting");
    assert_eq!(request.target, "/chat");
    assert_eq!(request.subprotocols, ["chat", "superchat"]);
    server
        .reject(403, &[("X-Why", "not allowed")], b"no")
        .unwrap();
    let out = String::from_utf8(drain(&mut server)).unwrap();
    assert!(out.starts_with("HTTP/1.1 403 "), "{out}");
    assert!(out.ends_with("\r\n\r\nno"));
    assert_eq!(server.transport(), Transport::Close);
    assert_eq!(server.state(), State::Closed);
}

#[test]
fn plain_get_gets_an_http_error_not_a_hang() {
    let mut server = Connection::server_upgrade(Config::default(), HandshakeConfig::default());
    server.receive(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    let ev = server.next_event();
    assert!(matches!(ev, Some(Err(Error::Handshake(_)))), "{ev:?}");
    let out = String::from_utf8(drain(&mut server)).unwrap();
    assert!(out.starts_with("HTTP/1.1 426 "), "{out}");
    assert_eq!(server.transport(), Transport::Close);
    assert_eq!(server.next_event(), None);
}

#[test]
fn client_upgrade_with_frames_right_after_the_101_at_every_split() {
    let config = HandshakeConfig::default();
    let request = ClientRequest::new("example.com", "/chat?room=1").subprotocol("chat");
    let mut client =
        Connection::client_upgrade(Config::default(), &config, &request, fixed_entropy()).unwrap();
    let sent = String::from_utf8(drain(&mut client)).unwrap();
    assert!(sent.starts_with("GET /chat?room=1 HTTP/1.1\r\n"), "{sent}");
    let key = sent
        .lines()
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
        .unwrap()
        .to_string();
    let accept = sansws::handshake::accept_value(key.as_bytes());
    let mut server = Connection::server(Config::default());
    server.send_text("hello").unwrap();
    server.send_ping(b"p").unwrap();
    let mut wire = format!(
        "HTTP/1.1 101 Switching Protocols\r\nServer: nginx\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\
         Sec-WebSocket-Accept: {accept}\r\nSec-WebSocket-Protocol: chat\r\n\r\n"
    )
    .into_bytes();
    wire.extend(drain(&mut server));
    for cut in 0..=wire.len() {
        let mut client =
            Connection::client_upgrade(Config::default(), &config, &request, fixed_entropy())
                .unwrap();
        drain(&mut client);
        let events = events_after(&mut client, &[&wire[..cut], &wire[cut..]]);
        assert_eq!(
            events,
            vec![
                Ok(Event::Open {
                    subprotocol: Some("chat".into())
                }),
                Ok(Event::Text("hello".into())),
                Ok(Event::Ping("p".into()))
            ],
            "cut {cut}"
        );
        assert_eq!(
            frames(&drain(&mut client)),
            vec![(0xA, true, b"p".to_vec())],
            "pong is masked and sent"
        );
    }
}

#[test]
fn client_sees_a_redirect_as_an_outcome() {
    let config = HandshakeConfig::default();
    let request = ClientRequest::new("example.com", "/");
    let mut client =
        Connection::client_upgrade(Config::default(), &config, &request, fixed_entropy()).unwrap();
    client.receive(b"HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\nContent-Length: 0\r\n\r\n");
    match client.next_event() {
        Some(Ok(Event::Refused(r))) => {
            assert_eq!(r.status, 302);
            assert!(r
                .headers
                .iter()
                .any(|h| h.name.eq_ignore_ascii_case("location") && h.value == b"/elsewhere"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(client.transport(), Transport::Close);
}

#[test]
fn client_refuses_a_wrong_accept_value() {
    let config = HandshakeConfig::default();
    let request = ClientRequest::new("example.com", "/");
    let mut client =
        Connection::client_upgrade(Config::default(), &config, &request, fixed_entropy()).unwrap();
    drain(&mut client);
    client.receive(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n");
    assert!(matches!(
        client.next_event(),
        Some(Err(Error::Handshake(_)))
    ));
    assert_eq!(client.transport(), Transport::Close);
    assert_eq!(
        client.pending_output_len(),
        0,
        "no close frame: the connection never opened"
    );
}

#[test]
fn end_of_input_during_the_handshake_is_an_error() {
    // Server: the request stops short, at every length. Nothing at all is a bare
    // connect-and-close (a health check), told apart from a request cut short.
    for cut in 0..REQUEST.len() {
        let mut server = Connection::server_upgrade(Config::default(), HandshakeConfig::default());
        server.receive(&REQUEST[..cut]);
        server.receive_eof();
        let expected = if cut == 0 {
            HandshakeError::NothingReceived
        } else {
            HandshakeError::UnexpectedEof
        };
        assert_eq!(
            server.next_event(),
            Some(Err(Error::Handshake(expected))),
            "cut {cut}"
        );
        assert_eq!(server.next_event(), None);
        assert_eq!(server.transport(), Transport::Close);
        assert_eq!(server.state(), State::Closed);
        assert_eq!(
            server.pending_output_len(),
            0,
            "nobody is left to read a response"
        );
    }
    // The whole request, then end of input: the request is still handed out, and the
    // application decides; once open, the connection reports the end as usual.
    let mut server = Connection::server_upgrade(Config::default(), HandshakeConfig::default());
    server.receive(REQUEST);
    server.receive_eof();
    assert_eq!(server.next_event(), Some(Ok(Event::UpgradeRequest)));
    assert_eq!(server.next_event(), None);
    server.accept(AcceptOptions::new()).unwrap();
    assert_eq!(server.next_event(), Some(Err(Error::UnexpectedEof)));

    // Client: the response stops short.
    let config = HandshakeConfig::default();
    let request = ClientRequest::new("example.com", "/");
    let response = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n";
    for cut in 0..response.len() {
        let mut client =
            Connection::client_upgrade(Config::default(), &config, &request, fixed_entropy())
                .unwrap();
        drain(&mut client);
        client.receive(&response[..cut]);
        client.receive_eof();
        let expected = if cut == 0 {
            HandshakeError::NothingReceived
        } else {
            HandshakeError::UnexpectedEof
        };
        assert_eq!(
            client.next_event(),
            Some(Err(Error::Handshake(expected))),
            "cut {cut}"
        );
        assert_eq!(client.next_event(), None);
        assert_eq!(client.transport(), Transport::Close);
        assert_eq!(client.pending_output_len(), 0);
    }
}

#[test]
fn failed_accept_stops_reading() {
    let mut server = Connection::server_upgrade(Config::default(), HandshakeConfig::default());
    server.receive(REQUEST);
    assert_eq!(server.next_event(), Some(Ok(Event::UpgradeRequest)));
    // Frames that arrive while the application decides stay buffered...
    let mut client = client_seeded(Config::default(), 3);
    client.send_text("early").unwrap();
    let early = drain(&mut client);
    server.receive(&early);
    assert_eq!(server.pending_input_len(), early.len());
    // ...until the application's accept fails (subprotocol not offered): like a rejection,
    // the connection drops its input and reads nothing more.
    assert_eq!(
        server.accept(AcceptOptions::new().subprotocol("nope")),
        Err(HandshakeError::SubprotocolNotOffered("nope".into()))
    );
    assert_eq!(server.pending_input_len(), 0);
    server.receive(&early);
    assert_eq!(server.pending_input_len(), 0, "input refused");
    assert_eq!(server.next_event(), None);
    assert_eq!(server.transport(), Transport::Close);
    let out = String::from_utf8(drain(&mut server)).unwrap();
    assert!(out.starts_with("HTTP/1.1 500 "), "{out}");
}

#[test]
fn a_request_body_is_never_read_as_frames() {
    let mut client = client_seeded(Config::default(), 4);
    client.send_text("smuggled").unwrap();
    let frame = drain(&mut client);
    let head = String::from_utf8(REQUEST.to_vec()).unwrap().replace(
        "\r\n\r\n",
        &format!("\r\nContent-Length: {}\r\n\r\n", frame.len()),
    );
    let mut wire = head.into_bytes();
    wire.extend_from_slice(&frame);
    for cut in 0..=wire.len() {
        let mut server = Connection::server_upgrade(Config::default(), HandshakeConfig::default());
        let events = events_after(&mut server, &[&wire[..cut], &wire[cut..]]);
        assert_eq!(
            events,
            vec![Err(Error::Handshake(HandshakeError::RequestBody))],
            "cut {cut}"
        );
        let out = String::from_utf8(drain(&mut server)).unwrap();
        assert!(out.starts_with("HTTP/1.1 400 "), "{out}");
        assert_eq!(server.transport(), Transport::Close);
    }
}

#[cfg(feature = "deflate")]
mod separate_handshake {
    //! The handshake run on its own (HTTP/1.1, or HTTP/2 extended CONNECT), its result turned
    //! into a connection with `after_handshake`: the same state machine then runs over the
    //! stream, extension included, with the bytes that came with the handshake decoded first.

    use std::sync::Arc;

    use super::common::{client_seeded, drain, frames};
    use crate::common::handshake::{chunkings, counting_entropy};
    use sansws::extensions::deflate::{DeflateConfig, PerMessageDeflate};
    use sansws::handshake::h2;
    use sansws::handshake::{
        AcceptOptions, ClientHandshake, ClientOutcome, ClientRequest, HandshakeConfig, Negotiated,
        ServerHandshake,
    };
    use sansws::{Config, Connection, Event};

    fn config() -> HandshakeConfig {
        HandshakeConfig::default()
            .extension(Arc::new(PerMessageDeflate::new(DeflateConfig::default())))
    }

    const TEXT: &str = "hello hello hello hello hello hello";

    /// Collects the events of what `conn` already holds, then of each of `chunks` in turn.
    fn events(conn: &mut Connection, chunks: &[&[u8]]) -> Vec<Event> {
        let mut out = Vec::new();
        for c in std::iter::once(&&[][..]).chain(chunks) {
            let before = conn.pending_input_len();
            conn.receive(c);
            assert_eq!(conn.pending_input_len(), before + c.len());
            while let Some(e) = conn.next_event() {
                out.push(e.unwrap());
            }
        }
        out
    }

    /// The messages each side sends first: compressed text (RSV1 set), binary and a ping.
    fn send_script(conn: &mut Connection) -> Vec<u8> {
        conn.send_text(TEXT).unwrap();
        conn.send_binary(b"\x00\x01\x02").unwrap();
        conn.send_ping(b"p").unwrap();
        let wire = drain(conn);
        assert_eq!(wire[0] & 0x40, 0x40, "the text went through the extension");
        wire
    }

    fn expected() -> Vec<Event> {
        vec![
            Event::Text(TEXT.into()),
            Event::Binary(vec![0u8, 1, 2].into()),
            Event::Ping("p".into()),
        ]
    }

    fn server_from(negotiated: Negotiated, leftover: &[u8]) -> Connection {
        let conn = Connection::server(Config::default()).after_handshake(negotiated, leftover);
        assert_eq!(
            conn.extension().map(|e| e.name()),
            Some("permessage-deflate")
        );
        conn
    }

    fn client_from(negotiated: Negotiated, leftover: &[u8]) -> Connection {
        let conn = client_seeded(Config::default(), 11).after_handshake(negotiated, leftover);
        assert_eq!(
            conn.extension().map(|e| e.name()),
            Some("permessage-deflate")
        );
        conn
    }

    #[test]
    fn http1_handshake_then_connection_with_pipelined_frames() {
        let config = config();
        let request = ClientRequest::new("example.com", "/chat").subprotocol("chat");
        let new_client =
            || ClientHandshake::new(&request, &config, &mut counting_entropy()).unwrap();
        let (mut client_hs, request_bytes) = new_client();
        let mut server_hs = ServerHandshake::new(config.clone());
        let req = server_hs.receive(&request_bytes).unwrap().unwrap();
        let server_ok = req
            .accept(AcceptOptions::new().subprotocol("chat"))
            .unwrap();
        let response = server_ok.response.clone();
        let Some(ClientOutcome::Accepted(client_ok)) = client_hs.receive(&response).unwrap() else {
            panic!("not accepted")
        };
        let mut client = client_from(client_ok.negotiated, &client_ok.leftover);
        assert_eq!(client.subprotocol(), Some("chat"));
        let client_frames = send_script(&mut client);
        let mut server = server_from(server_ok.negotiated, &server_ok.leftover);
        let server_frames = send_script(&mut server);

        // Server: the request with the client's first frames right behind it, at every split.
        let mut wire = request_bytes.clone();
        wire.extend_from_slice(&client_frames);
        for chunks in chunkings(&wire) {
            let mut hs = ServerHandshake::new(config.clone());
            let mut got = Vec::new();
            let mut server: Option<Connection> = None;
            for c in &chunks {
                match &mut server {
                    Some(conn) => got.extend(events(conn, &[c])),
                    None => {
                        if let Some(req) = hs.receive(c).unwrap() {
                            let ok = req
                                .accept(AcceptOptions::new().subprotocol("chat"))
                                .unwrap();
                            assert_eq!(ok.response, response);
                            let mut conn = server_from(ok.negotiated, &ok.leftover);
                            got.extend(events(&mut conn, &[]));
                            server = Some(conn);
                        }
                    }
                }
            }
            assert_eq!(
                got,
                expected(),
                "{:?}",
                chunks.iter().map(|c| c.len()).collect::<Vec<_>>()
            );
            let mut server = server.unwrap();
            assert_eq!(server.subprotocol(), Some("chat"));
            // The pong for the client's ping is queued, unmasked, and reads as a pong.
            let pong = drain(&mut server);
            assert_eq!(frames(&pong), vec![(0xA, true, b"p".to_vec())]);
            let mut fresh = client_from_fresh(&config, &request, &response);
            assert_eq!(events(&mut fresh, &[&pong]), vec![Event::Pong("p".into())]);
        }

        // Client: the 101 with the server's first frames right behind it, at every split.
        let mut wire = response.clone();
        wire.extend_from_slice(&server_frames);
        for chunks in chunkings(&wire) {
            let (mut hs, _) = new_client();
            let mut got = Vec::new();
            let mut client: Option<Connection> = None;
            for c in &chunks {
                match &mut client {
                    Some(conn) => got.extend(events(conn, &[c])),
                    None => match hs.receive(c).unwrap() {
                        None => {}
                        Some(ClientOutcome::Accepted(ok)) => {
                            let mut conn = client_from(ok.negotiated, &ok.leftover);
                            got.extend(events(&mut conn, &[]));
                            client = Some(conn);
                        }
                        Some(other) => panic!("{other:?}"),
                    },
                }
            }
            assert_eq!(
                got,
                expected(),
                "{:?}",
                chunks.iter().map(|c| c.len()).collect::<Vec<_>>()
            );
        }
    }

    /// A client connection freshly through the handshake (a fresh decompressor).
    fn client_from_fresh(
        config: &HandshakeConfig,
        request: &ClientRequest,
        response: &[u8],
    ) -> Connection {
        let (mut hs, _) = ClientHandshake::new(request, config, &mut counting_entropy()).unwrap();
        match hs.receive(response).unwrap() {
            Some(ClientOutcome::Accepted(ok)) => client_from(ok.negotiated, &ok.leftover),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn h2_extended_connect_then_connection_over_the_stream() {
        let config = config();
        let request = ClientRequest::new("example.com", "/chat").subprotocol("chat");
        let handshake = || {
            let (mut client_hs, fields) = h2::client_request(&request, "https", &config).unwrap();
            let req = h2::parse_request(
                fields.iter().map(|(n, v)| (n.as_str(), v.as_str())),
                &config,
            )
            .unwrap();
            let server_ok = req
                .accept(AcceptOptions::new().subprotocol("chat"))
                .unwrap();
            assert_eq!(server_ok.fields[0], (":status".into(), "200".into()));
            // An interim response first: the handshake keeps waiting for the 200.
            assert!(client_hs.response([(":status", "103")]).unwrap().is_none());
            let client_ok = match client_hs
                .response(
                    server_ok
                        .fields
                        .iter()
                        .map(|(n, v)| (n.as_str(), v.as_str())),
                )
                .unwrap()
            {
                Some(ClientOutcome::Accepted(ok)) => ok,
                other => panic!("{other:?}"),
            };
            assert!(client_ok.leftover.is_empty());
            (client_ok.negotiated, server_ok.negotiated)
        };
        let (client_neg, server_neg) = handshake();
        let mut client = client_from(client_neg, &[]);
        assert_eq!(client.subprotocol(), Some("chat"));
        let client_frames = send_script(&mut client);
        let mut server = server_from(server_neg, &[]);
        let server_frames = send_script(&mut server);

        // Stream data that came with the HEADERS is handed over with the result (the first
        // chunk), the rest arrives later: every split, both directions.
        for chunks in chunkings(&client_frames) {
            let (_, server_neg) = handshake();
            let mut server = server_from(server_neg, chunks[0]);
            let got = events(&mut server, &chunks[1..]);
            assert_eq!(
                got,
                expected(),
                "{:?}",
                chunks.iter().map(|c| c.len()).collect::<Vec<_>>()
            );
            assert_eq!(server.subprotocol(), Some("chat"));
        }
        for chunks in chunkings(&server_frames) {
            let (client_neg, _) = handshake();
            let mut client = client_from(client_neg, chunks[0]);
            let got = events(&mut client, &chunks[1..]);
            assert_eq!(
                got,
                expected(),
                "{:?}",
                chunks.iter().map(|c| c.len()).collect::<Vec<_>>()
            );
        }

        // The pongs cross back, and the close handshake runs over the stream as well.
        let mut client_side = {
            let (client_neg, _) = handshake();
            client_from(client_neg, &server_frames)
        };
        assert_eq!(events(&mut client_side, &[]), expected());
        let mut server_side = {
            let (_, server_neg) = handshake();
            server_from(server_neg, &client_frames)
        };
        assert_eq!(events(&mut server_side, &[]), expected());
        let pong = drain(&mut client_side);
        assert_eq!(
            events(&mut server_side, &[&pong]),
            vec![Event::Pong("p".into())]
        );
        server_side.send_text(TEXT).unwrap();
        server_side.close(sansws::CloseCode::NORMAL, "bye").unwrap();
        let out = drain(&mut server_side);
        let got = events(&mut client_side, &[&out]);
        assert_eq!(
            got[..2],
            [Event::Pong("p".into()), Event::Text(TEXT.into())]
        );
        assert!(matches!(got[2..], [Event::Close(Some(_))]), "{got:?}");
        let back = drain(&mut client_side);
        let got = events(&mut server_side, &[&back]);
        assert!(matches!(got[..], [Event::Close(Some(_))]), "{got:?}");
        assert_eq!(server_side.state(), sansws::State::Closed);
    }
}
