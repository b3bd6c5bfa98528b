//! Compressed messages split into many frames and chunks, through negotiated connections.

mod common;

use std::sync::Arc;

use common::{drain, feed_chunked, Rng};
use sansws::extensions::deflate::{DeflateConfig, PerMessageDeflate};
use sansws::extensions::ExtensionNegotiator;
use sansws::extensions::ExtensionOffer;
use sansws::{Config, Connection, Event, MessageKind, ReceiveMode};

/// A client and a server with permessage-deflate negotiated from the given configurations.
pub fn deflate_pair(
    client_cfg: DeflateConfig,
    server_cfg: DeflateConfig,
    config: Config,
) -> (Connection, Connection) {
    let client_neg = PerMessageDeflate::new(client_cfg);
    let server_neg = PerMessageDeflate::new(server_cfg);
    let offers = client_neg.offers();
    let refs: Vec<&ExtensionOffer> = offers.iter().collect();
    let (answer, server_ext) = server_neg.accept(&refs).expect("accepted");
    let client_ext = client_neg.confirm(&answer).expect("confirmed");
    let mut client = common::client_seeded(config.clone(), 77);
    client.set_extension(client_ext);
    let mut server = Connection::server(config);
    server.set_extension(server_ext);
    let _ = Arc::new(0);
    (client, server)
}

#[test]
fn fragmented_compressed_messages_round_trip() {
    let mut rng = Rng(5);
    for mode in [ReceiveMode::Message, ReceiveMode::Stream] {
        let (mut client, mut server) = deflate_pair(
            DeflateConfig::default(),
            DeflateConfig::default(),
            Config::default().receive_mode(mode),
        );
        let mut sent = Vec::new();
        for i in 0..50 {
            let text = rng.text(100 + i * 50);
            client.begin_message(MessageKind::Text).unwrap();
            for chunk in text.as_bytes().chunks(256) {
                client.send_chunk(chunk).unwrap();
            }
            client.end_message(b"").unwrap();
            sent.push(text);
        }
        let wire = drain(&mut client);
        let events = feed_chunked(&mut server, &wire, &[1000, 7, 3000]);
        let mut got = Vec::new();
        let mut cur = Vec::new();
        for e in events {
            match e.expect("no error") {
                Event::Text(t) => got.push(String::from_utf8(t.to_vec()).unwrap()),
                Event::MessageStart { .. } => cur.clear(),
                Event::MessageChunk(c) => cur.extend_from_slice(&c),
                Event::MessageEnd => got.push(String::from_utf8(std::mem::take(&mut cur)).unwrap()),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(got, sent, "{mode:?}");
    }
}

/// Python's zlib compresses (as Autobahn and most peers do), the payload is cut into frames
/// at arbitrary points, and the inflater meets frame ends in the middle of deflate blocks and
/// output buffers that fill exactly.
#[test]
fn peer_compressed_messages_cut_anywhere() {
    let script = r#"
import sys, zlib
c = zlib.compressobj(6, zlib.DEFLATED, -15)
out = []
for i in range(20):
    msg = (("message %d " % i) * (50 + 40 * i)).encode()
    data = c.compress(msg) + c.flush(zlib.Z_SYNC_FLUSH)
    assert data.endswith(b"\x00\x00\xff\xff")
    out.append(data[:-4].hex() + ":" + msg.hex())
print("\n".join(out))
"#;
    let output = std::process::Command::new("python3")
        .args(["-c", script])
        .output()
        .expect("python3 runs");
    assert!(output.status.success());
    let lines = String::from_utf8(output.stdout).unwrap();
    for frame_size in [1usize, 7, 256, 1000] {
        let (mut client, mut server) = deflate_pair(
            DeflateConfig::default(),
            DeflateConfig::default(),
            Config::default(),
        );
        let _ = &mut client;
        let mut wire = Vec::new();
        let mut expected = Vec::new();
        for line in lines.lines() {
            let (c, m) = line.split_once(':').unwrap();
            let compressed = hex(c);
            expected.push(hex(m));
            let pieces: Vec<&[u8]> = if compressed.is_empty() {
                vec![&[][..]]
            } else {
                compressed.chunks(frame_size).collect()
            };
            for (i, piece) in pieces.iter().enumerate() {
                let first = if i == 0 { 0x42 } else { 0x00 };
                let fin = if i + 1 == pieces.len() { 0x80 } else { 0 };
                wire.extend(common::frame(first | fin, piece, true));
            }
        }
        let events = feed_chunked(&mut server, &wire, &[4096]);
        let got: Vec<Vec<u8>> = events
            .into_iter()
            .map(|e| match e.expect("no error") {
                Event::Binary(b) => b.to_vec(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(got, expected, "frame size {frame_size}");
    }
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}
