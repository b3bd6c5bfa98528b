//! permessage-deflate rules: negotiation on both sides (RFC 7692 §7.1), framing rules (§6),
//! the examples of §7.2.3, corrupt data and decompression bombs.

mod common;

use common::deflate::{negotiated, unhex};
use common::handshake::{header_of, offers_in};
use common::{close_code_in, drain, feed_chunked, frame, frames};
use sansws::extensions::deflate::{DeflateConfig, PerMessageDeflate};
use sansws::extensions::{Decoded, Extension, ExtensionError, ExtensionNegotiator, ExtensionOffer};
use sansws::{Config, Connection, Error, Event, ReceiveMode, SendError};

fn offers(header: &str) -> Vec<ExtensionOffer> {
    offers_in(header)
}

fn accept(config: DeflateConfig, header: &str) -> Option<String> {
    let offers = offers(header);
    let refs: Vec<&ExtensionOffer> = offers.iter().collect();
    PerMessageDeflate::new(config)
        .accept(&refs)
        .map(|(answer, _)| header_of(&[answer]))
}

#[test]
fn server_accepts_the_first_offer_it_can_honour() {
    let d = DeflateConfig::default();
    assert_eq!(
        accept(d, "permessage-deflate").as_deref(),
        Some("permessage-deflate")
    );
    assert_eq!(
        accept(d, "permessage-deflate; client_max_window_bits").as_deref(),
        Some("permessage-deflate"),
        "a bare client_max_window_bits needs no answer when the server is happy with 15"
    );
    assert_eq!(
        accept(
            d.client_max_window_bits(10),
            "permessage-deflate; client_max_window_bits"
        )
        .as_deref(),
        Some("permessage-deflate; client_max_window_bits=10")
    );
    assert_eq!(
        accept(
            d,
            "permessage-deflate; server_max_window_bits=10; server_no_context_takeover"
        )
        .as_deref(),
        Some("permessage-deflate; server_no_context_takeover; server_max_window_bits=10")
    );
    assert_eq!(
        accept(
            d.server_max_window_bits(9),
            "permessage-deflate; server_max_window_bits=12"
        )
        .as_deref(),
        Some("permessage-deflate; server_max_window_bits=9"),
        "the server may use less than the client allows"
    );
    assert_eq!(
        accept(d.client_no_context_takeover(true), "permessage-deflate").as_deref(),
        Some("permessage-deflate; client_no_context_takeover"),
        "a server may require client_no_context_takeover without an offer"
    );
    // The server never answers client_max_window_bits=8 (zlib cannot compress with a
    // 256-byte window; websockets refuses the answer): a configured 8 is asked for as 9, and
    // a client that offered 8 itself gets no parameter back (it keeps to its own 8).
    let eight = d.client_max_window_bits(8);
    for (offer, answer) in [
        (
            "permessage-deflate; client_max_window_bits",
            "permessage-deflate; client_max_window_bits=9",
        ),
        (
            "permessage-deflate; client_max_window_bits=12",
            "permessage-deflate; client_max_window_bits=9",
        ),
        (
            "permessage-deflate; client_max_window_bits=9",
            "permessage-deflate; client_max_window_bits=9",
        ),
        (
            "permessage-deflate; client_max_window_bits=8",
            "permessage-deflate",
        ),
        ("permessage-deflate", "permessage-deflate"),
    ] {
        assert_eq!(accept(eight, offer).as_deref(), Some(answer), "{offer}");
    }
    assert_eq!(
        accept(d, "permessage-deflate; client_max_window_bits=8").as_deref(),
        Some("permessage-deflate"),
        "not even when the client offered 8"
    );
    // The server's own window may be 8: our compressor keeps to it.
    assert_eq!(
        accept(d, "permessage-deflate; server_max_window_bits=8").as_deref(),
        Some("permessage-deflate; server_max_window_bits=8")
    );
    assert_eq!(
        accept(d.server_max_window_bits(8), "permessage-deflate").as_deref(),
        Some("permessage-deflate; server_max_window_bits=8")
    );
    // Invalid offers are declined, and the next one is taken.
    for bad in [
        "permessage-deflate; unknown=1",
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; server_max_window_bits=7",
        "permessage-deflate; server_max_window_bits=010",
        "permessage-deflate; server_max_window_bits",
        "permessage-deflate; client_max_window_bits=x",
        "permessage-deflate; server_no_context_takeover=1",
        "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        "permessage-deflate; client_max_window_bits; client_max_window_bits=10",
    ] {
        assert_eq!(accept(d, bad), None, "{bad}");
        assert_eq!(
            accept(d, &format!("{bad}, permessage-deflate")).as_deref(),
            Some("permessage-deflate"),
            "{bad}"
        );
    }
}

fn confirm(config: DeflateConfig, answer: &str) -> Result<Box<dyn Extension>, String> {
    let answer = offers(answer).remove(0);
    PerMessageDeflate::new(config)
        .confirm(&answer)
        .map_err(|e| e.reason)
}

#[test]
fn client_checks_the_answer_against_its_offers() {
    let d = DeflateConfig::default();
    let sent = header_of(&PerMessageDeflate::new(d).offers());
    assert_eq!(sent, "permessage-deflate; client_max_window_bits");
    assert!(confirm(d, "permessage-deflate").is_ok());
    assert!(confirm(d, "permessage-deflate; client_max_window_bits=9").is_ok());
    assert!(confirm(
        d,
        "permessage-deflate; server_max_window_bits=10; server_no_context_takeover"
    )
    .is_ok());
    assert!(confirm(d, "permessage-deflate; client_no_context_takeover").is_ok());
    for bad in [
        "permessage-deflate; client_max_window_bits",
        "permessage-deflate; unknown",
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
    ] {
        assert!(confirm(d, bad).is_err(), "{bad}");
    }
    // A client that asked for a small server window refuses a larger one, but accepts an
    // answer to its plain fallback offer.
    let small = d.server_max_window_bits(10).client_max_window_bits(12);
    let sent = header_of(&PerMessageDeflate::new(small).offers());
    assert_eq!(sent, "permessage-deflate; server_max_window_bits=10; client_max_window_bits=12, permessage-deflate; client_max_window_bits=12");
    assert!(confirm(small, "permessage-deflate; server_max_window_bits=9").is_ok());
    assert!(
        confirm(small, "permessage-deflate; client_max_window_bits=13").is_err(),
        "above the offered value"
    );
    assert!(confirm(small, "permessage-deflate; client_max_window_bits=12").is_ok());
    // A client configured with 8 offers 8, and takes an answer without the parameter (what
    // our server answers to it).
    let eight = d.client_max_window_bits(8);
    let sent = header_of(&PerMessageDeflate::new(eight).offers());
    assert_eq!(sent, "permessage-deflate; client_max_window_bits=8");
    assert!(confirm(eight, "permessage-deflate").is_ok());
    assert!(confirm(eight, "permessage-deflate; client_max_window_bits=8").is_ok());
    assert!(confirm(eight, "permessage-deflate; client_max_window_bits=9").is_err());
}

fn deflate_server(mode: ReceiveMode, max_message: usize) -> Connection {
    let answer = offers("permessage-deflate").remove(0);
    let refs = [&answer];
    let (_, ext) = PerMessageDeflate::new(DeflateConfig::default())
        .accept(&refs)
        .unwrap();
    Connection::server(
        Config::default()
            .receive_mode(mode)
            .max_message_size(max_message),
    )
    .after_handshake(negotiated(ext), &[])
}

#[test]
fn rfc7692_examples() {
    // §7.2.3.1: "Hello" in one compressed frame; §7.2.3.2: the same in two fragments;
    // §7.2.3.3: a stored block; §7.2.3.2 with context takeover: the second "Hello".
    let mut server = deflate_server(ReceiveMode::Message, 1 << 20);
    let mut wire = frame(0xc1, &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00], true);
    wire.extend(frame(0x41, &[0xf2, 0x48, 0xcd], true));
    wire.extend(frame(0x80, &[0xc9, 0xc9, 0x07, 0x00], true));
    wire.extend(frame(0xc1, &[0xf2, 0x00, 0x11, 0x00, 0x00], true));
    let events = feed_chunked(&mut server, &wire, &[1]);
    assert_eq!(
        events,
        vec![
            Ok(Event::Text("Hello".into())),
            Ok(Event::Text("Hello".into())),
            Ok(Event::Text("Hello".into()))
        ]
    );
    let mut server = deflate_server(ReceiveMode::Message, 1 << 20);
    let wire = frame(
        0xc1,
        &[
            0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
        ],
        true,
    );
    assert_eq!(
        feed_chunked(&mut server, &wire, &[3]),
        vec![Ok(Event::Text("Hello".into()))]
    );
    // Our compressor writes §7.2.3.1's bytes for "Hello"; the second "Hello" refers back to
    // the first (a different but equally valid encoding from the RFC's `f2 00 11 00 00`).
    server.send_text("Hello").unwrap();
    server.send_text("Hello").unwrap();
    let wire = drain(&mut server);
    let out = frames(&wire);
    assert_eq!(out[0].2, [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]);
    assert!(out[1].2.len() < out[0].2.len(), "{:x?}", out[1].2);
    let offer = offers("permessage-deflate").remove(0);
    let mut client = common::client_seeded(Config::default(), 3).after_handshake(
        negotiated(
            PerMessageDeflate::new(DeflateConfig::default())
                .confirm(&offer)
                .unwrap(),
        ),
        &[],
    );
    assert_eq!(
        feed_chunked(&mut client, &wire, &[1]),
        vec![
            Ok(Event::Text("Hello".into())),
            Ok(Event::Text("Hello".into()))
        ]
    );
    // An empty message compresses to a single 0x00 (§7.2.3.6).
    server.send_binary(b"").unwrap();
    assert_eq!(frames(&drain(&mut server))[0].2, [0x00]);
    // §7.2.3.4: "Hello" in a block with BFINAL set, then 0x00 (an empty stored block's header,
    // which the appended 00 00 ff ff completes). A §7.2.3.1 message follows on the same
    // connection: the stream that ended is replaced by a new one, not poisoned.
    let mut server = deflate_server(ReceiveMode::Message, 1 << 20);
    let mut wire = frame(
        0xc1,
        &[0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00],
        true,
    );
    wire.extend(frame(
        0xc1,
        &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00],
        true,
    ));
    for chunks in [&[1usize][..], &[3], &[1000]] {
        let mut server = deflate_server(ReceiveMode::Message, 1 << 20);
        assert_eq!(
            feed_chunked(&mut server, &wire, chunks),
            vec![
                Ok(Event::Text("Hello".into())),
                Ok(Event::Text("Hello".into()))
            ],
            "{chunks:?}"
        );
    }
    // The exact bytes of the RFC's example, as a server would receive them unmasked (here on
    // a client, which must not see a mask).
    let offer = offers("permessage-deflate").remove(0);
    let mut client = common::client_seeded(Config::default(), 5).after_handshake(
        negotiated(
            PerMessageDeflate::new(DeflateConfig::default())
                .confirm(&offer)
                .unwrap(),
        ),
        &[],
    );
    assert_eq!(
        feed_chunked(
            &mut client,
            &[0xc1, 0x08, 0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00],
            &[1]
        ),
        vec![Ok(Event::Text("Hello".into()))]
    );
    let _ = &mut server;
}

/// A peer that ends each message with BFINAL and leaves out the empty stored block that
/// §7.2.1 asks for: the stream ends exactly at the end of the payload, so the appended
/// `00 00 ff ff` would only start a stored block that never ends. It is dropped, and the next
/// message (here §7.2.3.1's) starts a new stream.
#[test]
fn bfinal_at_the_end_of_the_payload() {
    let bfinal = [0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
    let sync = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
    for mode in [ReceiveMode::Message, ReceiveMode::Stream] {
        for chunks in [&[1usize][..], &[2, 5], &[1000]] {
            let mut wire = frame(0xc1, &bfinal, true);
            wire.extend(frame(0xc1, &sync, true));
            wire.extend(frame(0xc1, &bfinal, true));
            wire.extend(frame(0xc1, &bfinal, true));
            // Fragmented: BFINAL at the end of the first frame, the message ends with an
            // empty frame; then BFINAL at the end of the last frame after a split block.
            wire.extend(frame(0x41, &bfinal, true));
            wire.extend(frame(0x80, &[], true));
            wire.extend(frame(0x41, &bfinal[..3], true));
            wire.extend(frame(0x80, &bfinal[3..], true));
            wire.extend(frame(0xc1, &sync, true));
            let mut server = deflate_server(mode, 1 << 20);
            let texts = texts(feed_chunked(&mut server, &wire, chunks));
            assert_eq!(texts, vec!["Hello"; 7], "{mode:?} {chunks:?}");
        }
    }
}

/// Data after a BFINAL block in the same message is a new DEFLATE stream (zlib's output for
/// Z_FINISH, then a fresh compressor's sync-flushed output), in one frame or split anywhere.
#[test]
fn a_new_stream_after_bfinal_in_the_same_message() {
    let script = r#"
import zlib
def fin(m):
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return c.compress(m) + c.flush(zlib.Z_FINISH)
def sync(m):
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    d = c.compress(m) + c.flush(zlib.Z_SYNC_FLUSH)
    assert d.endswith(b"\x00\x00\xff\xff")
    return d[:-4]
a = b"Hello, " * 30
b = b"World! " * 40
print((fin(a) + sync(b)).hex())
print((fin(a) + fin(b)).hex())
print((fin(a) + fin(b) + b"\x00").hex())
print((fin(a) + b"\x00" + b"\x00\x00\xff\xff" + sync(b)).hex())
"#;
    let out = std::process::Command::new("python3")
        .args(["-c", script])
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected = format!("{}{}", "Hello, ".repeat(30), "World! ".repeat(40));
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let payload = unhex(line);
        for frame_size in [1usize, 3, 1000] {
            for mode in [ReceiveMode::Message, ReceiveMode::Stream] {
                let mut wire = Vec::new();
                let pieces: Vec<&[u8]> = payload.chunks(frame_size).collect();
                for (i, piece) in pieces.iter().enumerate() {
                    let first = if i == 0 { 0x41 } else { 0x00 };
                    let fin = if i + 1 == pieces.len() { 0x80 } else { 0 };
                    wire.extend(frame(first | fin, piece, true));
                }
                wire.extend(frame(
                    0xc1,
                    &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00],
                    true,
                ));
                let mut server = deflate_server(mode, 1 << 20);
                let texts = texts(feed_chunked(&mut server, &wire, &[7]));
                assert_eq!(
                    texts,
                    vec![expected.clone(), "Hello".to_string()],
                    "{line} {frame_size} {mode:?}"
                );
            }
        }
    }
}

/// An empty payload with RSV1 is not DEFLATE output (an empty message compresses to `00`,
/// §7.2.3.6; with the tail appended it is a stored block cut short): 1007 at once, in both
/// receive modes, whether the message has one frame or several empty ones.
#[test]
fn an_empty_compressed_payload_fails_with_1007() {
    let hello = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
    for mode in [ReceiveMode::Message, ReceiveMode::Stream] {
        for message in [
            frame(0xc1, &[], true),
            [frame(0x41, &[], true), frame(0x80, &[], true)].concat(),
            [
                frame(0x41, &[], true),
                frame(0x00, &[], true),
                frame(0x80, &[], true),
            ]
            .concat(),
        ] {
            let mut wire = message.clone();
            wire.extend(frame(0xc1, &hello, true));
            let mut server = deflate_server(mode, 1 << 20);
            let events = feed_chunked(&mut server, &wire, &[1000]);
            let before_error: Vec<_> = events
                .iter()
                .take_while(|e| e.is_ok())
                .filter(|e| {
                    matches!(
                        e,
                        Ok(Event::Text(_) | Event::MessageChunk(_) | Event::MessageEnd)
                    )
                })
                .collect();
            assert!(before_error.is_empty(), "{mode:?}: {events:?}");
            assert!(
                matches!(events.last(), Some(Err(Error::Extension(e))) if e.code.0 == 1007),
                "{mode:?}: {events:?}"
            );
            assert_eq!(close_code_in(&drain(&mut server)), Some(1007), "{mode:?}");
        }
        // Empty frames around real data are fine: only the message as a whole may not be
        // empty.
        let mut wire = [
            frame(0x41, &[], true),
            frame(0x00, &hello[..2], true),
            frame(0x00, &[], true),
            frame(0x80, &hello[2..], true),
        ]
        .concat();
        wire.extend(frame(0xc1, &hello, true));
        let mut server = deflate_server(mode, 1 << 20);
        let texts = texts(feed_chunked(&mut server, &wire, &[1]));
        assert_eq!(texts, vec!["Hello"; 2], "{mode:?}");
    }
}

/// The texts of the messages in `events` (whole or streamed), panicking on an error.
fn texts(events: Vec<Result<Event, Error>>) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    for e in events {
        match e.expect("no error") {
            Event::Text(t) => out.push(t.to_string()),
            Event::MessageStart { .. } => cur.clear(),
            Event::MessageChunk(c) => cur.extend_from_slice(&c),
            Event::MessageEnd => out.push(String::from_utf8(std::mem::take(&mut cur)).unwrap()),
            other => panic!("{other:?}"),
        }
    }
    out
}

#[test]
fn rsv1_rules() {
    // On a continuation frame, on a control frame, and without negotiation: 1002.
    for wire in [
        [frame(0x01, b"a", true), frame(0xc0, b"b", true)].concat(),
        frame(0xc9, b"", true),
    ] {
        let mut server = deflate_server(ReceiveMode::Message, 1 << 20);
        let events = feed_chunked(&mut server, &wire, &[100]);
        assert_eq!(events, vec![Err(Error::ReservedBits(0x40))]);
        assert_eq!(close_code_in(&drain(&mut server)), Some(1002));
    }
    let mut plain = Connection::server(Config::default());
    let events = feed_chunked(
        &mut plain,
        &frame(0xc1, &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00], true),
        &[100],
    );
    assert_eq!(events, vec![Err(Error::ReservedBits(0x40))]);
    // Uncompressed messages stay legal with the extension on, in both directions.
    let mut server = deflate_server(ReceiveMode::Message, 1 << 20);
    assert_eq!(
        feed_chunked(&mut server, &frame(0x81, b"plain", true), &[2]),
        vec![Ok(Event::Text("plain".into()))]
    );
}

#[test]
fn corrupt_data_closes_with_1007() {
    let mut server = deflate_server(ReceiveMode::Message, 1 << 20);
    let events = feed_chunked(
        &mut server,
        &frame(0xc2, &[0xff, 0xff, 0xff, 0x00, 0x13], true),
        &[100],
    );
    assert!(
        matches!(&events[..], [Err(Error::Extension(e))] if e.code.0 == 1007),
        "{events:?}"
    );
    assert_eq!(close_code_in(&drain(&mut server)), Some(1007));
}

#[test]
fn decompression_bomb_stops_at_the_limit() {
    // 100 MiB of zeros, compressed by zlib to about 100 KB; the limit is 1 MiB.
    let script = "import zlib,sys; c=zlib.compressobj(9,zlib.DEFLATED,-15); d=c.compress(bytes(100<<20))+c.flush(zlib.Z_SYNC_FLUSH); sys.stdout.buffer.write(d[:-4])";
    let out = std::process::Command::new("python3")
        .args(["-c", script])
        .output()
        .expect("python3 runs");
    let bomb = out.stdout;
    assert!(bomb.len() < 200_000, "{}", bomb.len());
    for mode in [ReceiveMode::Message, ReceiveMode::Stream] {
        let mut server = deflate_server(mode, 1 << 20);
        let events = feed_chunked(&mut server, &frame(0xc2, &bomb, true), &[65536]);
        let delivered: usize = events
            .iter()
            .map(|e| match e {
                Ok(Event::MessageChunk(c)) => c.len(),
                _ => 0,
            })
            .sum();
        assert!(delivered <= 1 << 20, "{mode:?}: {delivered}");
        assert_eq!(
            events.last(),
            Some(&Err(Error::MessageTooLarge)),
            "{mode:?}"
        );
        assert_eq!(close_code_in(&drain(&mut server)), Some(1009));
    }
}

/// An extension that fails its first encode after writing part of its output, then copies
/// payloads through.
struct FailsOnce {
    failed: bool,
}

impl Extension for FailsOnce {
    fn name(&self) -> &str {
        "fails-once"
    }
    fn rsv_bits(&self) -> u8 {
        0x40
    }
    fn encode_start(&mut self, _kind: sansws::MessageKind, _size_hint: Option<usize>) -> u8 {
        0x40
    }
    fn encode(
        &mut self,
        payload: &[u8],
        _fin: bool,
        out: &mut bytes::BytesMut,
    ) -> Result<(), ExtensionError> {
        if !self.failed {
            self.failed = true;
            out.extend_from_slice(b"STALE");
            return Err(ExtensionError {
                code: sansws::CloseCode::INTERNAL_ERROR,
                reason: "failed on purpose",
            });
        }
        out.extend_from_slice(payload);
        Ok(())
    }
    fn decode_start(&mut self, _rsv: u8) -> Result<bool, ExtensionError> {
        Ok(false)
    }
    fn decode(
        &mut self,
        input: &[u8],
        _fin: bool,
        out: &mut bytes::BytesMut,
        _max_out: usize,
    ) -> Result<Decoded, ExtensionError> {
        out.extend_from_slice(input);
        Ok(Decoded {
            consumed: input.len(),
            done: true,
        })
    }
}

/// An extension error on the send path leaves nothing behind: what the extension wrote
/// before failing is not sent in front of the next message. Whole and streamed messages.
#[test]
fn an_encode_error_leaves_no_stale_output() {
    for streamed in [false, true] {
        let mut server = Connection::server(Config::default())
            .after_handshake(negotiated(Box::new(FailsOnce { failed: false })), &[]);
        if streamed {
            server.begin_message(sansws::MessageKind::Binary).unwrap();
            assert!(matches!(
                server.send_chunk(b"one"),
                Err(SendError::Extension(_))
            ));
            server.end_message(b"two").unwrap();
        } else {
            assert!(matches!(
                server.send_binary(b"one"),
                Err(SendError::Extension(_))
            ));
            server.send_binary(b"two").unwrap();
        }
        let out = frames(&drain(&mut server));
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].2, b"two", "streamed {streamed}");
    }
}
