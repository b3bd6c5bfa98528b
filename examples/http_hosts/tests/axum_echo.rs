//! The axum_echo example against clients nobody here wrote (Python `websockets` on zlib,
//! headless Chromium), against hostile input (the same bytes, answered exactly as sansws's
//! own HTTP/1.1 path answers them), and with requests it must refuse.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{python_echo_client, Browser, EchoServer};
use sansws::extensions::deflate::{DeflateConfig, PerMessageDeflate};
use sansws::handshake::{
    ClientHandshake, ClientOutcome, ClientRequest, HandshakeConfig, Negotiated,
};
use sansws::{Config, Connection, Event};
use sansws_http_hosts::settings;

#[test]
fn python_websockets_client() {
    let server = EchoServer::start(&[]);
    for (protocols, want) in [
        ("nope,chat", "OPEN permessage-deflate|chat"),
        ("echo,chat", "OPEN permessage-deflate|echo"),
        ("", "OPEN permessage-deflate|"),
    ] {
        let (code, out, err) = python_echo_client(&server.url, &["--protocols", protocols]);
        assert_eq!(code, Some(0), "{protocols}: {out}{err}");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines,
            [want, "ECHOED 21", "CLOSED 1000"],
            "{protocols}: {err}"
        );
    }
}

#[test]
fn chromium_client() {
    let deadline = Instant::now() + Duration::from_secs(60);
    let server = EchoServer::start(&[]);
    let browser = Browser::open("echo_page.html", &format!("url={}", server.url));
    let verdict = browser.wait_for("VERDICT", deadline);
    assert!(
        verdict.contains("\"VERDICT ok permessage-deflate|echo\""),
        "{verdict}"
    );
    browser.wait_for("\"closed 1000 clean=true\"", deadline);
}

// ---- hostile input ----

const GOOD: &str = "before the bad input";

/// A masked client frame; `declared` overrides the length in the header.
fn frame(first_byte: u8, payload: &[u8], declared: Option<u64>) -> Vec<u8> {
    let key = [0x37, 0xfa, 0x21, 0x3d];
    let len = declared.unwrap_or(payload.len() as u64);
    let mut out = vec![first_byte];
    match len {
        0..=125 => out.push(0x80 | len as u8),
        126..=0xffff => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            out.push(0x80 | 127);
            out.extend_from_slice(&len.to_be_bytes());
        }
    }
    out.extend_from_slice(&key);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    out
}

const TEXT: u8 = 0x81;
const TEXT_COMPRESSED: u8 = 0xC1;

/// The hostile inputs of examples/wasm_host/bad_input.mjs, sized to the example's limits,
/// with the close code each must get.
fn cases() -> Vec<(&'static str, Vec<u8>, u16)> {
    let max_frame = 4u64 << 20; // settings::config()
    let bomb = miniz_oxide::deflate::compress_to_vec(&vec![b'a'; 17 << 20], 6);
    vec![
        (
            "frame longer than max_frame_size (header only)",
            frame(TEXT, &[], Some(max_frame + 1)),
            1009,
        ),
        (
            "text that is not UTF-8",
            frame(TEXT, &[0x68, 0x69, 0xed, 0xa0, 0x80], None),
            1007,
        ),
        (
            "text not UTF-8 across fragments",
            [frame(0x01, &[0xce], None), frame(0x80, &[0x41], None)].concat(),
            1007,
        ),
        (
            "decompression bomb: inflates past max_message_size",
            frame(TEXT_COMPRESSED, &bomb, None),
            1009,
        ),
        (
            "corrupt compressed data",
            frame(TEXT_COMPRESSED, &[0xff, 0xff, 0xff, 0xff, 0x00], None),
            1007,
        ),
        ("reserved opcode", frame(0x83, b"x", None), 1002),
    ]
}

/// A client handshake offering permessage-deflate, with a fixed key.
fn client_handshake() -> (ClientHandshake, Vec<u8>) {
    let config = HandshakeConfig::default()
        .extension(Arc::new(PerMessageDeflate::new(DeflateConfig::default())));
    let mut entropy = |b: &mut [u8]| b.fill(0x5a);
    ClientHandshake::new(
        &ClientRequest::new("127.0.0.1", "/echo"),
        &config,
        &mut entropy,
    )
    .unwrap()
}

fn accepted(outcome: Option<ClientOutcome>) -> (Negotiated, Vec<u8>) {
    match outcome {
        Some(ClientOutcome::Accepted(a)) => (a.negotiated, a.leftover.to_vec()),
        other => panic!("not accepted: {other:?}"),
    }
}

/// Through axum: the handshake, then `bytes`; returns what the server negotiated and every
/// byte it sent after its 101, up to its closing the TCP connection.
fn through_axum(port: u16, bytes: &[u8]) -> (Negotiated, Vec<u8>) {
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    // A bound against a hang, not a timing check: every case ends in milliseconds.
    tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let (mut hs, request) = client_handshake();
    tcp.write_all(&request).unwrap();
    let mut buf = vec![0u8; 64 * 1024];
    let (negotiated, mut output) = loop {
        let n = tcp.read(&mut buf).unwrap();
        assert!(n > 0, "closed during the handshake");
        if let Some(outcome) = hs.receive(&buf[..n]).unwrap() {
            break accepted(Some(outcome));
        }
    };
    tcp.write_all(bytes).unwrap();
    loop {
        match tcp.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => output.extend_from_slice(&buf[..n]),
            // The server may reset after its close frame while our bytes are still unread.
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!("reading the server's answer: {e}"),
        }
    }
    (negotiated, output)
}

/// Through sansws's own HTTP/1.1 path, as the raw examples run it
/// (`Connection::server_upgrade`, accept, echo), in memory, with the example's settings:
/// every byte it sends after its 101.
fn through_raw_path(bytes: &[u8]) -> Vec<u8> {
    let (_, request) = client_handshake();
    let mut conn = Connection::server_upgrade(settings::config(), settings::handshake());
    conn.receive(&request);
    match conn.next_event() {
        Some(Ok(Event::UpgradeRequest)) => {}
        other => panic!("no upgrade request: {other:?}"),
    }
    let offered = conn.upgrade_request().unwrap().subprotocols.clone();
    conn.accept(settings::accept_options(&offered)).unwrap();
    conn.receive(bytes);
    while let Some(event) = conn.next_event() {
        if let Ok(event) = event {
            settings::echo(&mut conn, event);
        }
    }
    let out = conn.pending_output().to_vec();
    let head_end = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    out[head_end..].to_vec()
}

/// What a client sees of the server's bytes: its messages and close codes.
fn decode(negotiated: Negotiated, server_bytes: &[u8]) -> (Vec<String>, Vec<u16>) {
    let mut client = Connection::client(Config::default(), Box::new(|b: &mut [u8]| b.fill(1)))
        .after_handshake(negotiated, &[]);
    client.receive(server_bytes);
    let (mut texts, mut codes) = (Vec::new(), Vec::new());
    while let Some(event) = client.next_event() {
        match event.unwrap() {
            Event::Text(t) => texts.push(t.as_str().to_string()),
            Event::Close(frame) => codes.push(frame.map_or(1005, |f| u16::from(f.code))),
            other => panic!("unexpected {other:?}"),
        }
    }
    (texts, codes)
}

#[test]
fn hostile_input_gets_the_raw_paths_answer() {
    let server = EchoServer::start(&[]);
    for (name, bad, code) in cases() {
        let bytes = [frame(TEXT, GOOD.as_bytes(), None), bad].concat();
        let (negotiated, axum) = through_axum(server.port, &bytes);
        assert_eq!(
            negotiated.extension.as_ref().map(|e| e.name()),
            Some("permessage-deflate"),
            "{name}"
        );
        let raw = through_raw_path(&bytes);
        assert_eq!(axum, raw, "{name}: axum's bytes differ from the raw path's");
        let (texts, codes) = decode(negotiated, &axum);
        assert_eq!(
            texts,
            [GOOD],
            "{name}: the message before the bad input is echoed"
        );
        assert_eq!(codes, [code], "{name}: one close frame with the code");
    }
}

// ---- refusals ----

/// Sends `head` and returns the response head (status line and headers, lower-cased names).
fn refused(port: u16, head: &str) -> (u16, Vec<(String, String)>, String) {
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    tcp.write_all(head.as_bytes()).unwrap();
    let mut response = Vec::new();
    let _ = tcp.read_to_end(&mut response);
    let response = String::from_utf8(response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status = lines.next().unwrap()[9..12].parse().unwrap();
    let headers = lines
        .map(|l| {
            let (n, v) = l.split_once(':').unwrap();
            (n.to_ascii_lowercase(), v.trim().to_string())
        })
        .collect();
    (status, headers, body.to_string())
}

#[test]
fn refusals_are_sansws_answers_through_axum() {
    let server = EchoServer::start(&[]);
    let request = |extra: &str| {
        format!(
            "GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{extra}\r\n"
        )
    };
    let has = |headers: &[(String, String)], n: &str, v: &str| {
        headers.iter().any(|(hn, hv)| hn == n && hv == v)
    };

    // No version: 426 naming the one sansws speaks.
    let (status, headers, body) = refused(server.port, &request(""));
    assert_eq!(status, 426);
    assert!(has(&headers, "upgrade", "websocket"), "{headers:?}");
    assert!(has(&headers, "sec-websocket-version", "13"), "{headers:?}");
    assert!(has(&headers, "connection", "Upgrade, close"), "{headers:?}");
    assert_eq!(body, "Sec-WebSocket-Version must be 13\n");

    // A plain GET of the WebSocket route.
    let (status, _, body) = refused(
        server.port,
        "GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, 426);
    assert_eq!(body, "Upgrade header must name \"websocket\"\n");

    // A malformed subprotocol list: 400.
    let (status, headers, _) = refused(
        server.port,
        &request("Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: a b\r\n"),
    );
    assert_eq!(status, 400);
    assert!(has(&headers, "connection", "close"), "{headers:?}");

    // And the same request, well-formed, is accepted.
    let (status, headers, _) = {
        let mut tcp = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        tcp.write_all(
            request("Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat\r\n").as_bytes(),
        )
        .unwrap();
        let mut buf = [0u8; 4096];
        let n = tcp.read(&mut buf).unwrap();
        let head = String::from_utf8_lossy(&buf[..n]).into_owned();
        let status: u16 = head[9..12].parse().unwrap();
        (status, head.to_ascii_lowercase(), ())
    };
    assert_eq!(status, 101);
    assert!(
        headers.contains("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo="),
        "{headers}"
    );
    assert!(
        headers.contains("sec-websocket-protocol: chat"),
        "{headers}"
    );
}
