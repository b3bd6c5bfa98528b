//! The framing examples of RFC 6455 §5.7, byte for byte, in both directions.

mod common;

use common::{client_with_key, drain, feed_chunked};
use sansws::{Config, Connection, Event};

const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];
const MASKED_HELLO: &[u8] = &[
    0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
];

#[test]
fn single_frame_unmasked_text() {
    let mut client = client_with_key(Config::default(), KEY);
    let ev = feed_chunked(
        &mut client,
        &[0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f],
        &[100],
    );
    assert_eq!(ev, vec![Ok(Event::Text("Hello".into()))]);
    let mut server = Connection::server(Config::default());
    server.send_text("Hello").unwrap();
    assert_eq!(
        drain(&mut server),
        [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]
    );
}

#[test]
fn single_frame_masked_text() {
    let mut server = Connection::server(Config::default());
    assert_eq!(
        feed_chunked(&mut server, MASKED_HELLO, &[100]),
        vec![Ok(Event::Text("Hello".into()))]
    );
    let mut client = client_with_key(Config::default(), KEY);
    client.send_text("Hello").unwrap();
    assert_eq!(drain(&mut client), MASKED_HELLO);
}

#[test]
fn fragmented_unmasked_text() {
    let wire = [0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f];
    let mut client = client_with_key(Config::default(), KEY);
    assert_eq!(
        feed_chunked(&mut client, &wire, &[1]),
        vec![Ok(Event::Text("Hello".into()))]
    );
    let mut server = Connection::server(Config::default());
    server.begin_message(sansws::MessageKind::Text).unwrap();
    server.send_chunk(b"Hel").unwrap();
    server.end_message(b"lo").unwrap();
    assert_eq!(drain(&mut server), wire);
}

#[test]
fn unmasked_ping_and_masked_pong() {
    let mut client = client_with_key(Config::default(), KEY);
    let ev = feed_chunked(
        &mut client,
        &[0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f],
        &[3],
    );
    assert_eq!(ev, vec![Ok(Event::Ping("Hello".into()))]);
    assert_eq!(
        drain(&mut client),
        [0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]
    );
}

#[test]
fn binary_256_and_64k_unmasked() {
    for (len, head) in [
        (256usize, vec![0x82, 0x7E, 0x01, 0x00]),
        (65536, vec![0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0]),
    ] {
        let payload: Vec<u8> = (0..len).map(|i| i as u8).collect();
        let mut server = Connection::server(Config::default());
        server.send_binary(&payload).unwrap();
        let wire = drain(&mut server);
        assert_eq!(&wire[..head.len()], &head[..]);
        assert_eq!(&wire[head.len()..], &payload[..]);
        let mut client = client_with_key(Config::default(), KEY);
        assert_eq!(
            feed_chunked(&mut client, &wire, &[1000]),
            vec![Ok(Event::Binary(payload.into()))]
        );
    }
}
