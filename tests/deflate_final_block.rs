//! A peer may end its DEFLATE stream inside a message (a block with BFINAL set, RFC 1951
//! §3.2.3); the next message then starts a new stream. The shortest case ends it inside the
//! 4-byte tail the receiver appends (RFC 7692 §7.2.2): a payload of the one byte 0x01 is the
//! header of a final stored block whose LEN and NLEN are the tail's `00 00 ff ff`, so the
//! message is empty. What follows decodes, awake or after hibernation.

mod common;

use common::deflate::deflate_pair;
use common::{frame, pump};
use sansws::extensions::deflate::DeflateConfig;
use sansws::{Config, Event};

#[test]
fn a_stream_ended_by_the_tail_is_an_empty_message_and_the_next_starts_afresh() {
    for hibernate in [false, true] {
        let (mut client, mut server) = deflate_pair(
            DeflateConfig::default(),
            DeflateConfig::default(),
            Config::default(),
        );
        server.receive(&frame(0xC1, &[0x01], true));
        assert_eq!(server.next_event(), Some(Ok(Event::Text("".into()))));
        if hibernate {
            server.hibernate();
        }
        for text in ["hello hello hello", "hello again, hello"] {
            client.send_text(text).unwrap();
            pump(&mut client, &mut server);
            assert_eq!(
                server.next_event(),
                Some(Ok(Event::Text(text.into()))),
                "hibernated: {hibernate}"
            );
        }
        assert_eq!(server.next_event(), None);
    }
}

#[test]
fn a_final_block_inside_the_payload_then_more_data_in_a_new_stream() {
    // "a" as a final fixed-Huffman block (zlib's raw deflate of b"a", BFINAL=1), then the
    // one-byte final-stored-block header: two streams in one message, and the tail ends the
    // second.
    let (_client, mut server) = deflate_pair(
        DeflateConfig::default(),
        DeflateConfig::default(),
        Config::default(),
    );
    let payload = [0x4B, 0x04, 0x00, 0x01];
    server.receive(&frame(0xC1, &payload, true));
    assert_eq!(server.next_event(), Some(Ok(Event::Text("a".into()))));
}

#[test]
fn the_window_of_a_finished_stream_survives_hibernation() {
    // Message 1: "hello hello" as one final block (Python: zlib.compressobj(9, DEFLATED, -15),
    // compress + flush()): the stream ends inside the message. Message 2: "hello hello" as a
    // single back-reference into the window message 1 left (compressobj with
    // zdict=b"hello hello", Z_SYNC_FLUSH, tail removed). Context takeover keeps the window
    // across the stream's end; hibernation keeps it too.
    let first = [0xCB, 0x48, 0xCD, 0xC9, 0xC9, 0x57, 0xC8, 0x00, 0x91, 0x00];
    let second = [0xCA, 0x40, 0x30, 0x01, 0x00];
    for hibernate in [false, true] {
        let (_client, mut server) = deflate_pair(
            DeflateConfig::default(),
            DeflateConfig::default(),
            Config::default(),
        );
        server.receive(&frame(0xC1, &first, true));
        assert_eq!(
            server.next_event(),
            Some(Ok(Event::Text("hello hello".into())))
        );
        if hibernate {
            server.hibernate();
        }
        server.receive(&frame(0xC1, &second, true));
        assert_eq!(
            server.next_event(),
            Some(Ok(Event::Text("hello hello".into()))),
            "hibernated: {hibernate}"
        );
    }
}

#[test]
fn hibernating_after_any_short_message_changes_no_event() {
    // Whatever state a peer's (possibly non-conforming) message leaves the inflater in, at a
    // block boundary, inside a block or after an error, hibernating before the next message
    // changes nothing the application sees. Message 2 is "hello" (zlib raw deflate,
    // Z_SYNC_FLUSH, tail removed).
    let second = frame(0xC2, &[0xCA, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00], true);
    let mut payloads: Vec<Vec<u8>> = (0..=255u8).map(|b| vec![b]).collect();
    for b in 0..=255u8 {
        for c in [0x00, 0x04, 0x80, 0xFF] {
            payloads.push(vec![b, c]);
        }
    }
    for payload in payloads {
        let run = |hibernate: bool| {
            let (_client, mut server) = deflate_pair(
                DeflateConfig::default(),
                DeflateConfig::default(),
                Config::default(),
            );
            server.receive(&frame(0xC2, &payload, true));
            let mut events: Vec<_> = std::iter::from_fn(|| server.next_event()).collect();
            if hibernate {
                server.hibernate();
            }
            server.receive(&second);
            events.extend(std::iter::from_fn(|| server.next_event()));
            events
        };
        assert_eq!(run(true), run(false), "payload {payload:02x?}");
    }
}
