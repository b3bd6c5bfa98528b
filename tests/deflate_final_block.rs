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
