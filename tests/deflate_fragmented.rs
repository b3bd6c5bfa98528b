//! Compressed messages split into many frames and chunks, through negotiated connections.

mod common;

use common::deflate::{deflate_pair, json, unhex, wire_messages};
use common::{drain, feed_chunked, frame, Rng};
use sansws::extensions::deflate::DeflateConfig;
use sansws::{Config, Event, MessageKind, ReceiveMode};

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
                Event::Text(t) => got.push(t.to_string()),
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
            let compressed = unhex(c);
            expected.push(unhex(m));
            let pieces: Vec<&[u8]> = if compressed.is_empty() {
                vec![&[][..]]
            } else {
                compressed.chunks(frame_size).collect()
            };
            for (i, piece) in pieces.iter().enumerate() {
                let first = if i == 0 { 0x42 } else { 0x00 };
                let fin = if i + 1 == pieces.len() { 0x80 } else { 0 };
                wire.extend(frame(first | fin, piece, true));
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

/// Our client's compressed messages (JSON up to 100 KB, and an empty one), each re-cut on
/// receive into frames of 1 to 3 bytes with empty continuation frames and pings in between,
/// fed to the server a byte at a time and in larger chunks, in both receive modes with a
/// small stream chunk size: every frame boundary falls somewhere inside a deflate block, and
/// the inflater is called with a few bytes and a few bytes of room at a time.
#[test]
fn compressed_messages_in_tiny_frames() {
    let (mut client, _) = deflate_pair(
        DeflateConfig::default(),
        DeflateConfig::default(),
        Config::default(),
    );
    let msgs: Vec<Vec<u8>> = [3000usize, 0, 100_000, 1, 20_000]
        .iter()
        .enumerate()
        .map(|(i, &n)| json(n, i * 1000))
        .collect();
    for m in &msgs {
        client.send_binary(m).unwrap();
    }
    let compressed = wire_messages(&drain(&mut client));
    let mut wire = Vec::new();
    let mut sizes = [1usize, 2, 3, 0].iter().cycle();
    for m in &compressed {
        assert!(m.compressed && m.frames == 1);
        let mut rest = &m.payload[..];
        let mut first = true;
        loop {
            let n = (*sizes.next().unwrap()).min(rest.len());
            let (piece, tail) = rest.split_at(n);
            rest = tail;
            let fin = if rest.is_empty() { 0x80 } else { 0 };
            let opcode = if first { 0x42 } else { 0x00 };
            wire.extend(frame(fin | opcode, piece, true));
            first = false;
            if fin != 0 {
                break;
            }
            if rest.len() % 7 == 0 {
                wire.extend(frame(0x89, b"p", true));
            }
        }
    }
    for mode in [ReceiveMode::Message, ReceiveMode::Stream] {
        for chunks in [&[1usize][..], &[5, 4096]] {
            let (_, mut server) = deflate_pair(
                DeflateConfig::default(),
                DeflateConfig::default(),
                Config::default().receive_mode(mode).stream_chunk_size(100),
            );
            let mut got = Vec::new();
            let mut cur = Vec::new();
            let mut pings = 0;
            for e in feed_chunked(&mut server, &wire, chunks) {
                match e.expect("no error") {
                    Event::Binary(b) => got.push(b.to_vec()),
                    Event::MessageStart { kind } => {
                        assert_eq!(kind, MessageKind::Binary);
                        cur.clear();
                    }
                    Event::MessageChunk(c) => {
                        assert!(!c.is_empty() && c.len() <= 100, "{}", c.len());
                        cur.extend_from_slice(&c);
                    }
                    Event::MessageEnd => got.push(std::mem::take(&mut cur)),
                    Event::Ping(_) => pings += 1,
                    other => panic!("{other:?}"),
                }
            }
            assert!(pings > 10);
            assert_eq!(got, msgs, "{mode:?} {chunks:?}");
        }
    }
}
