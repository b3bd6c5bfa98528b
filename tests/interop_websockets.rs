//! Interoperability with a peer nobody here wrote: Python's `websockets`, whose
//! permessage-deflate runs on zlib. Our server against its client and our client against its
//! server, over each parameter combination, with text and binary messages from empty to
//! 300 KB, compressible and not, many messages per connection (context takeover).
//!
//! Needs the virtualenv made by `scripts/setup-test-peers.sh` (the README's test command
//! runs it).

mod common;

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use sansws::entropy::OsEntropy;
use sansws::extensions::deflate::{DeflateConfig, PerMessageDeflate};
use sansws::handshake::{ClientRequest, HandshakeConfig};
use sansws::{Config, Connection, Event, MessageKind};

fn python() -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    assert!(
        p.exists(),
        "run scripts/setup-test-peers.sh first (the README's test command does)"
    );
    p
}

fn peer_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/peers/websockets_peer.py")
}

/// One parameter combination. Their client meets our server with `their_client`; their
/// server meets our client with `their_server` (the same parameters, except where
/// `websockets` cannot take them in that role); our side runs `ours` in both.
struct Combo {
    their_client: &'static str,
    their_server: &'static str,
    ours: DeflateConfig,
    /// The `Sec-WebSocket-Extensions` answer our server must give their client, if checked.
    our_answer: Option<&'static str>,
    /// The answer their server must give our client, if checked.
    their_answer: Option<&'static str>,
}

/// The same websockets parameters in both roles (JSON: null for no compression).
fn both(params: &'static str, ours: DeflateConfig) -> Combo {
    Combo {
        their_client: params,
        their_server: params,
        ours,
        our_answer: None,
        their_answer: None,
    }
}

fn combinations() -> Vec<Combo> {
    let d = DeflateConfig::default();
    vec![
        both("null", d.compress_outgoing(false)),
        Combo {
            our_answer: Some("permessage-deflate"),
            their_answer: Some("permessage-deflate"),
            ..both("{}", d)
        },
        both(
            r#"{"server_no_context_takeover": true}"#,
            d.server_no_context_takeover(true),
        ),
        both(
            r#"{"client_no_context_takeover": true}"#,
            d.client_no_context_takeover(true),
        ),
        both(
            r#"{"server_no_context_takeover": true, "client_no_context_takeover": true}"#,
            d.server_no_context_takeover(true)
                .client_no_context_takeover(true),
        ),
        both(
            r#"{"server_max_window_bits": 9}"#,
            d.server_max_window_bits(9),
        ),
        both(
            r#"{"server_max_window_bits": 12}"#,
            d.server_max_window_bits(12),
        ),
        both(
            r#"{"client_max_window_bits": 10}"#,
            d.client_max_window_bits(10),
        ),
        both(
            r#"{"server_max_window_bits": 9, "client_max_window_bits": 9}"#,
            d.server_max_window_bits(9).client_max_window_bits(9),
        ),
        both(
            r#"{"server_max_window_bits": 14, "client_max_window_bits": 13, "server_no_context_takeover": true}"#,
            d.server_max_window_bits(14)
                .client_max_window_bits(13)
                .server_no_context_takeover(true),
        ),
        // A bare client_max_window_bits from their client, which our server lowers to 11.
        // (A server never answers bare, so their server gets no such parameter: it answers
        // our client's offer of 11 with 11.)
        Combo {
            their_client: r#"{"client_max_window_bits": true}"#,
            their_server: "{}",
            ours: d.client_max_window_bits(11),
            our_answer: Some("permessage-deflate; client_max_window_bits=11"),
            their_answer: Some("permessage-deflate; client_max_window_bits=11"),
        },
        // Our server configured with an 8-bit client window: zlib cannot compress with 256
        // bytes and websockets refuses an answer of 8, so our server answers 9. Our client
        // configured with 8 offers 8, and compresses with 256 bytes for their zlib, which
        // inflates (and enforces) an 8-bit window.
        Combo {
            their_client: r#"{"client_max_window_bits": true}"#,
            their_server: "{}",
            ours: d.client_max_window_bits(8),
            our_answer: Some("permessage-deflate; client_max_window_bits=9"),
            their_answer: Some("permessage-deflate; client_max_window_bits=8"),
        },
        // A server that requires client_no_context_takeover of a client that did not offer
        // it (RFC 7692 §7.1.1.2): our server against their client, their server against our
        // client.
        Combo {
            their_client: "{}",
            their_server: r#"{"client_no_context_takeover": true}"#,
            ours: d.client_no_context_takeover(true),
            our_answer: Some("permessage-deflate; client_no_context_takeover"),
            their_answer: Some("permessage-deflate; client_no_context_takeover"),
        },
        Combo {
            their_client: r#"{"client_no_context_takeover": true}"#,
            their_server: r#"{"client_no_context_takeover": true}"#,
            ours: d,
            our_answer: Some("permessage-deflate; client_no_context_takeover"),
            their_answer: Some("permessage-deflate; client_no_context_takeover"),
        },
        // server_max_window_bits=8 asked by their client: our server compresses inside 256
        // bytes (run-length matches only) for their zlib's 8-bit inflater. Their server
        // cannot compress with 8 bits (it refuses the setting), so against our client it
        // imposes 9 unasked.
        Combo {
            their_client: r#"{"server_max_window_bits": 8}"#,
            their_server: r#"{"server_max_window_bits": 9}"#,
            ours: d,
            our_answer: Some("permessage-deflate; server_max_window_bits=8"),
            their_answer: Some("permessage-deflate; server_max_window_bits=9"),
        },
        // server_max_window_bits=8 from our configuration: our server imposes it on their
        // client unasked; our client asks it of their server, which declines that offer (it
        // cannot compress with 8 bits) and accepts our plain fallback offer.
        Combo {
            their_client: "{}",
            their_server: "{}",
            ours: d.server_max_window_bits(8),
            our_answer: Some("permessage-deflate; server_max_window_bits=8"),
            their_answer: Some("permessage-deflate"),
        },
    ]
}

fn handshake(deflate: DeflateConfig, enabled: bool) -> HandshakeConfig {
    if enabled {
        HandshakeConfig::default().extension(Arc::new(PerMessageDeflate::new(deflate)))
    } else {
        HandshakeConfig::default()
    }
}

fn config() -> Config {
    Config::default()
        .max_frame_size(8 << 20)
        .max_message_size(8 << 20)
}

#[test]
fn our_server_with_their_client() {
    for combo in combinations() {
        let (params, ours) = (combo.their_client, combo.ours);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut conn = Connection::server_upgrade(config(), handshake(ours, params != "null"));
            let failure = common::blocking::drive(stream, &mut conn, common::blocking::echo);
            (failure, conn.extension().map(|e| e.name().to_string()))
        });
        let out = Command::new(python())
            .arg(peer_script())
            .args([
                "client",
                &format!("ws://127.0.0.1:{port}/"),
                params,
                "40",
                "7",
            ])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{params}: {stdout} {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let (failure, extension) = server.join().unwrap();
        assert_eq!(failure, None, "{params}");
        if params == "null" {
            assert_eq!(extension, None);
        } else {
            assert_eq!(
                extension.as_deref(),
                Some("permessage-deflate"),
                "{params}: {stdout}"
            );
            assert!(stdout.contains("permessage-deflate"), "{params}: {stdout}");
        }
        if let Some(answer) = combo.our_answer {
            // The client prints "OK <n> <the answer it got>".
            assert_eq!(
                stdout.trim().splitn(3, ' ').nth(2),
                Some(answer),
                "{params}: {stdout}"
            );
        }
    }
}

struct Peer(Child);

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn our_client_with_their_server() {
    for combo in combinations() {
        let (params, ours) = (combo.their_server, combo.ours);
        let port = free_port();
        let mut child = Command::new(python())
            .arg(peer_script())
            .args(["server", &port.to_string(), params])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        let mut peer_out = BufReader::new(child.stdout.take().unwrap());
        peer_out.read_line(&mut line).unwrap();
        assert_eq!(line.trim(), "READY");
        let _peer = Peer(child);

        let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let host = format!("127.0.0.1:{port}");
        let request = ClientRequest::new(host.as_str(), "/");
        let mut conn = Connection::client_upgrade(
            config(),
            &handshake(ours, params != "null"),
            &request,
            Box::new(OsEntropy::new()),
        )
        .unwrap();
        let mut messages: Vec<(MessageKind, Vec<u8>)> = Vec::new();
        for i in 0..30usize {
            let size = [0, 1, 100, 5000, 70_000, 300_000][i % 6];
            let data: Vec<u8> = if i % 2 == 0 {
                format!("{{\"n\":{i},\"v\":\"{}\"}}", "abc€".repeat(size / 6)).into_bytes()
            } else {
                (0..size)
                    .map(|j| (j * 7919 % 251) as u8 ^ (i as u8))
                    .collect()
            };
            messages.push((
                if i % 2 == 0 {
                    MessageKind::Text
                } else {
                    MessageKind::Binary
                },
                data,
            ));
        }
        let mut next = 0;
        let mut echoed = 0;
        let expected = messages.clone();
        let failure = common::blocking::drive(stream, &mut conn, |conn, ev| match ev {
            Event::Open { .. } => {
                let (k, d) = &messages[next];
                conn.send(*k, d).unwrap();
                next += 1;
            }
            Event::Text(_) | Event::Binary(_) => {
                let t = match ev {
                    Event::Text(text) => text.into_bytes(),
                    Event::Binary(data) => data,
                    _ => unreachable!(),
                };
                assert_eq!(
                    &t[..],
                    &expected[echoed].1[..],
                    "{params}: message {echoed}"
                );
                echoed += 1;
                if next < messages.len() {
                    let (k, d) = &messages[next];
                    conn.send(*k, d).unwrap();
                    next += 1;
                } else {
                    conn.close(sansws::CloseCode::NORMAL, "done").unwrap();
                }
            }
            _ => {}
        });
        assert_eq!(failure, None, "{params}");
        assert_eq!(echoed, messages.len(), "{params}");
        if params != "null" {
            assert_eq!(
                conn.extension().map(|e| e.name()),
                Some("permessage-deflate"),
                "{params}"
            );
        }
        // The server prints "EXT <its answer>" for the connection.
        line.clear();
        peer_out.read_line(&mut line).unwrap();
        let answer = line.trim_end().strip_prefix("EXT").map(str::trim);
        if let Some(expected) = combo.their_answer {
            assert_eq!(answer, Some(expected), "{params}: {line}");
        }
    }
}
