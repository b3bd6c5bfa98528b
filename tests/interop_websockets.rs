//! Interoperability with a peer nobody here wrote: Python's `websockets`, whose
//! permessage-deflate runs on zlib. Our server against its client and our client against its
//! server, over each parameter combination, with text and binary messages from empty to
//! 300 KB, compressible and not, many messages per connection (context takeover).
//!
//! Needs the virtualenv made by `scripts/setup-test-peers.sh` (the README's test command
//! runs it).

#[path = "../examples/common/blocking.rs"]
mod blocking;

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

/// Parameter combinations: (websockets' JSON parameters, our configuration).
fn combinations() -> Vec<(&'static str, DeflateConfig)> {
    let d = DeflateConfig::default();
    vec![
        ("null", d.compress_outgoing(false)),
        ("{}", d),
        (
            r#"{"server_no_context_takeover": true}"#,
            d.server_no_context_takeover(true),
        ),
        (
            r#"{"client_no_context_takeover": true}"#,
            d.client_no_context_takeover(true),
        ),
        (
            r#"{"server_no_context_takeover": true, "client_no_context_takeover": true}"#,
            d.server_no_context_takeover(true)
                .client_no_context_takeover(true),
        ),
        (
            r#"{"server_max_window_bits": 9}"#,
            d.server_max_window_bits(9),
        ),
        (
            r#"{"server_max_window_bits": 12}"#,
            d.server_max_window_bits(12),
        ),
        (
            r#"{"client_max_window_bits": 10}"#,
            d.client_max_window_bits(10),
        ),
        // websockets refuses 8 bits (zlib cannot compress with a 256-byte window); 8 is covered
        // by tests/deflate_window.rs against zlib's decoder.
        (
            r#"{"server_max_window_bits": 9, "client_max_window_bits": 9}"#,
            d.server_max_window_bits(9).client_max_window_bits(9),
        ),
        (
            r#"{"server_max_window_bits": 14, "client_max_window_bits": 13, "server_no_context_takeover": true}"#,
            d.server_max_window_bits(14)
                .client_max_window_bits(13)
                .server_no_context_takeover(true),
        ),
    ]
}

fn handshake(deflate: DeflateConfig, enabled: bool) -> HandshakeConfig {
    if enabled {
        HandshakeConfig::default().with_extension(Arc::new(PerMessageDeflate::new(deflate)))
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
    for (params, ours) in combinations() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut conn = Connection::server_upgrade(config(), handshake(ours, params != "null"));
            let failure = blocking::drive(stream, &mut conn, blocking::echo);
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
    for (params, ours) in combinations() {
        let port = free_port();
        let mut child = Command::new(python())
            .arg(peer_script())
            .args(["server", &port.to_string(), params])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
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
        let failure = blocking::drive(stream, &mut conn, |conn, ev| match ev {
            Event::Open { .. } => {
                let (k, d) = &messages[next];
                conn.send(*k, d).unwrap();
                next += 1;
            }
            Event::Text(t) | Event::Binary(t) => {
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
    }
}
