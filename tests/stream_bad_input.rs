//! Hostile input through the async stream gets the same answer as through the raw
//! connection: the message before it echoed, then one close frame with the same code, and the
//! same typed error handed to the application (through the stream as
//! `StreamError::Protocol`). Each case runs the whole path: an HTTP upgrade that negotiates
//! permessage-deflate, a good message, then the bad bytes.

mod common;

use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use sansws::entropy::Entropy;
use sansws::extensions::deflate::{DeflateConfig, PerMessageDeflate};
use sansws::handshake::{AcceptOptions, ClientHandshake, ClientRequest, HandshakeConfig};
use sansws::stream::{Message, StreamBuilder, StreamError};
use sansws::{Config, Connection, Error, Event};
use tokio::io::{duplex, AsyncReadExt, AsyncWriteExt};

use common::deflate::{negotiate, negotiated};
use common::{client_seeded, drain, frame, frames};

const LIMIT: usize = 1 << 20;
const GOOD: &str = "before the bad input";

fn config() -> Config {
    Config::default()
        .max_frame_size(LIMIT)
        .max_message_size(LIMIT)
}

fn handshake() -> HandshakeConfig {
    HandshakeConfig::default().extension(Arc::new(PerMessageDeflate::new(DeflateConfig::default())))
}

/// The client's upgrade request, offering permessage-deflate.
fn request() -> Vec<u8> {
    let mut entropy = |buf: &mut [u8]| buf.fill(9);
    let entropy: &mut dyn Entropy = &mut entropy;
    ClientHandshake::new(
        &ClientRequest::new("example.com", "/"),
        &handshake(),
        entropy,
    )
    .unwrap()
    .1
}

/// A compressed binary message of `size` zero bytes, as a client that negotiated
/// permessage-deflate with the default parameters sends it: a few KB on the wire.
fn compressed_zeros(size: usize) -> Vec<u8> {
    let (client_ext, _) = negotiate(DeflateConfig::default(), DeflateConfig::default()).unwrap();
    let mut client =
        client_seeded(Config::default(), 5).after_handshake(negotiated(client_ext), &[]);
    client.send_binary(&vec![0u8; size]).unwrap();
    drain(&mut client)
}

/// The answer to the good message and then the bad bytes: the text messages the server sent
/// (decoded by a client with the same permessage-deflate parameters: the echo is compressed)
/// and the code of its one close frame.
fn answer(wire: &[u8]) -> (Vec<String>, Option<u16>) {
    assert!(
        wire.starts_with(b"HTTP/1.1 101"),
        "{}",
        String::from_utf8_lossy(wire)
    );
    let end = wire.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let closes = frames(&wire[end..])
        .into_iter()
        .filter(|(op, _, _)| *op == 0x8)
        .count();
    assert!(closes <= 1, "one close frame at most, not {closes}");
    let (client_ext, _) = negotiate(DeflateConfig::default(), DeflateConfig::default()).unwrap();
    let mut client = client_seeded(config(), 3).after_handshake(negotiated(client_ext), &[]);
    client.receive(&wire[end..]);
    let mut texts = Vec::new();
    let mut code = None;
    while let Some(event) = client.next_event() {
        match event.expect("the server's frames are valid") {
            Event::Text(text) => texts.push(text.to_string()),
            Event::Close(frame) => code = frame.map(|f| f.code.0),
            other => panic!("{other:?}"),
        }
    }
    (texts, code)
}

/// The raw connection, driven by hand in memory: its bytes on the wire and its error.
fn through_connection(bad: &[u8]) -> (Vec<u8>, Error) {
    let mut conn = Connection::server_upgrade(config(), handshake());
    let mut wire = Vec::new();
    let mut error = None;
    for input in [request(), frame(0x81, GOOD.as_bytes(), true), bad.to_vec()] {
        conn.receive(&input);
        while let Some(event) = conn.next_event() {
            match event {
                Ok(Event::UpgradeRequest) => conn.accept(AcceptOptions::new()).unwrap(),
                Ok(Event::Text(text)) => conn.send_text(&text).unwrap(),
                Ok(_) => {}
                Err(e) => error = Some(e),
            }
        }
        wire.extend(drain(&mut conn));
    }
    (wire, error.expect("the connection failed"))
}

/// The stream, over an in-memory transport, echoing as an application would: the bytes the
/// peer read until the server closed the transport, and the error the application saw.
async fn through_stream(bad: &[u8]) -> (Vec<u8>, StreamError) {
    let (server_io, mut peer) = duplex(1 << 20);
    let server = tokio::spawn(async move {
        let builder = StreamBuilder::new().config(config()).handshake(handshake());
        let mut ws = builder.accept(server_io).await.unwrap();
        let mut error = None;
        while let Some(message) = ws.next().await {
            match message {
                Ok(m @ Message::Text(_)) => ws.send(m).await.unwrap(),
                Ok(_) => {}
                Err(e) => error = Some(e),
            }
        }
        error.expect("the stream reported the failure")
    });
    let mut input = request();
    input.extend(frame(0x81, GOOD.as_bytes(), true));
    input.extend(bad);
    peer.write_all(&input).await.unwrap();
    let mut wire = Vec::new();
    peer.read_to_end(&mut wire).await.unwrap();
    (wire, server.await.unwrap())
}

async fn same_answer(name: &str, bad: Vec<u8>, code: u16) {
    let (raw_wire, raw_error) = through_connection(&bad);
    let (stream_wire, stream_error) = through_stream(&bad).await;
    let raw = answer(&raw_wire);
    let streamed = answer(&stream_wire);
    assert_eq!(
        raw,
        (vec![GOOD.to_string()], Some(code)),
        "{name}: raw connection"
    );
    assert_eq!(
        streamed, raw,
        "{name}: the stream answers as the connection does"
    );
    match stream_error {
        StreamError::Protocol(e) => assert_eq!(e, raw_error, "{name}"),
        other => panic!("{name}: {other:?}"),
    }
}

#[tokio::test]
async fn an_oversized_frame_gets_1009() {
    // A header announcing one byte over the limit, and nothing after it.
    let mut header = frame(0x82, &[], true);
    header[1] = 0x80 | 127;
    header.splice(2..2, ((LIMIT + 1) as u64).to_be_bytes());
    same_answer("oversized frame", header, 1009).await;
}

#[tokio::test]
async fn invalid_utf8_gets_1007() {
    same_answer("invalid UTF-8", frame(0x81, b"hi\xed\xa0\x80", true), 1007).await;
}

#[tokio::test]
async fn a_deflate_bomb_gets_1009() {
    // 8 MiB of zeros in a few KB: inflating stops at the 1 MiB limit.
    let bomb = compressed_zeros(8 << 20);
    assert!(bomb.len() < 100_000, "{}", bomb.len());
    same_answer("deflate bomb", bomb, 1009).await;
}

#[tokio::test]
async fn corrupt_compressed_data_gets_1007() {
    same_answer(
        "corrupt deflate",
        frame(0xc2, &[0xff, 0xff, 0xff, 0x00, 0x13], true),
        1007,
    )
    .await;
}
