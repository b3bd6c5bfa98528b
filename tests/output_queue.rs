//! The output queue and the zero-copy paths: payloads sent as `Bytes` (queued by reference
//! on a server, masked while copied on a client), prepared messages, vectored access to the
//! chunks, partial writes ending at every byte across chunks, and reads straight into the
//! connection's input buffer.

mod common;

use bytes::{Buf, Bytes, BytesMut};
use common::{client_seeded, drain, Rng};
use sansws::extensions::deflate::DeflateConfig;
use sansws::{Config, Connection, Event, MessageKind, PreparedMessage, Utf8Bytes};

/// Every event `conn` decodes from `wire`.
fn events(conn: &mut Connection, wire: &[u8]) -> Vec<Event> {
    conn.receive(wire);
    let mut out = Vec::new();
    while let Some(ev) = conn.next_event() {
        out.push(ev.unwrap());
    }
    out
}

/// A server's queue mixing copied frames and payloads queued by reference, and the events it
/// must produce at a client.
fn mixed_server() -> (Connection, Vec<Event>, Vec<u8>) {
    // Each just large enough to be queued by reference.
    let big1 = Bytes::from(Rng(7).bytes(2100));
    let big2 = Bytes::from("é€".repeat(420).into_bytes());
    let mut server = Connection::server(Config::default());
    server.send_text("hello").unwrap();
    server.send_binary_bytes(big1.clone()).unwrap();
    server.send_ping(b"p").unwrap();
    server
        .send_text_bytes(Utf8Bytes::try_from(big2.clone()).unwrap())
        .unwrap();
    server.send_binary(b"tail").unwrap();
    let expected = vec![
        Event::Text("hello".into()),
        Event::Binary(big1),
        Event::Ping(Bytes::from_static(b"p")),
        Event::Text(Utf8Bytes::try_from(big2).unwrap()),
        Event::Binary(Bytes::from_static(b"tail")),
    ];
    let mut copy = Connection::server(Config::default());
    copy.send_text("hello").unwrap();
    copy.send_binary(expected_payload(&expected[1])).unwrap();
    copy.send_ping(b"p").unwrap();
    copy.send(MessageKind::Text, expected_payload(&expected[3]))
        .unwrap();
    copy.send_binary(b"tail").unwrap();
    let wire = drain(&mut copy);
    (server, expected, wire)
}

fn expected_payload(ev: &Event) -> &[u8] {
    match ev {
        Event::Binary(b) => b,
        Event::Text(t) => t.as_bytes(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_large_payload_sent_as_bytes_is_queued_by_reference() {
    let payload = Bytes::from(vec![3u8; 100_000]);
    let mut server = Connection::server(Config::default());
    server.send_binary_bytes(payload.clone()).unwrap();
    // 100,000 bytes take the 64-bit length form: a 10-byte header.
    assert_eq!(server.pending_output_len(), 10 + payload.len());
    assert_eq!(
        server.pending_output(),
        &[0x82, 127, 0, 0, 0, 0, 0, 0x01, 0x86, 0xa0]
    );
    let mut chunks: [&[u8]; 4] = [&[]; 4];
    let n = server.output_chunks(&mut chunks);
    assert_eq!(n, 2, "the header, then the caller's bytes");
    assert_eq!(
        chunks[1].as_ptr(),
        payload.as_ptr(),
        "the payload is not copied"
    );
}

#[test]
fn the_queue_writes_the_same_bytes_as_copying_sends() {
    let (mut server, expected, wire) = mixed_server();
    assert_eq!(server.pending_output_len(), wire.len());
    let mut chunks: [&[u8]; 16] = [&[]; 16];
    let n = server.output_chunks(&mut chunks);
    assert!(n >= 4, "copied and shared chunks alternate: {n}");
    assert_eq!(chunks[..n].concat(), wire);
    let got = drain(&mut server);
    assert_eq!(got, wire);
    let mut client = client_seeded(Config::default(), 1);
    assert_eq!(events(&mut client, &got), expected);
}

#[test]
fn a_write_may_end_at_any_byte_across_chunks() {
    let (_, expected, wire) = mixed_server();
    for first in 0..=wire.len() {
        let (mut server, _, _) = mixed_server();
        // One vectored write of `first` bytes, then writes of the next chunk at a time.
        let mut written = Vec::new();
        {
            let mut chunks: [&[u8]; 16] = [&[]; 16];
            let n = server.output_chunks(&mut chunks);
            let all = chunks[..n].concat();
            written.extend_from_slice(&all[..first]);
        }
        server.advance_output(first);
        assert_eq!(server.pending_output_len(), wire.len() - first);
        while server.pending_output_len() > 0 {
            let chunk = server.pending_output();
            assert!(!chunk.is_empty());
            // Half the chunk, at most: a partial write inside every chunk too.
            let n = chunk.len().div_ceil(2);
            written.extend_from_slice(&chunk[..n]);
            server.advance_output(n);
        }
        assert_eq!(written, wire, "first write {first}");
    }
    let mut client = client_seeded(Config::default(), 1);
    assert_eq!(events(&mut client, &wire), expected);
}

#[test]
fn the_output_is_a_buf_for_vectored_writes() {
    let (mut server, _, wire) = mixed_server();
    let mut written = Vec::new();
    let mut buf = server.output_buf();
    assert_eq!(buf.remaining(), wire.len());
    while buf.has_remaining() {
        let mut slices = [std::io::IoSlice::new(&[]); 3];
        let n = buf.chunks_vectored(&mut slices);
        assert!(n > 0);
        // A "transport" that takes 1000 bytes of the slices at a time.
        let mut take = 1000;
        for s in &slices[..n] {
            let m = s.len().min(take);
            written.extend_from_slice(&s[..m]);
            take -= m;
        }
        buf.advance(1000 - take);
    }
    assert_eq!(written, wire);
    assert_eq!(server.pending_output_len(), 0);
}

#[test]
fn a_client_masks_bytes_while_copying_them() {
    // Same seed, same keys: the zero-copy path writes what the copying one writes.
    let payload = Bytes::from(Rng(3).bytes(70_000));
    let mut a = client_seeded(Config::default(), 11);
    let mut b = client_seeded(Config::default(), 11);
    a.send_binary_bytes(payload.clone()).unwrap();
    b.send_binary(&payload).unwrap();
    let wire = drain(&mut a);
    assert_eq!(wire, drain(&mut b));
    let mut server = Connection::server(Config::default());
    assert_eq!(events(&mut server, &wire), vec![Event::Binary(payload)]);
}

#[test]
fn sending_bytes_is_refused_as_sending_a_slice_is() {
    let mut server = Connection::server(Config::default());
    server.begin_message(MessageKind::Binary).unwrap();
    assert_eq!(
        server.send_binary_bytes(Bytes::from_static(&[0; 4096])),
        Err(sansws::SendError::MessageInProgress)
    );
    let prepared = PreparedMessage::binary(Bytes::from_static(b"x"));
    assert_eq!(
        server.send_prepared(&prepared),
        Err(sansws::SendError::MessageInProgress)
    );
    assert_eq!(
        PreparedMessage::new(MessageKind::Text, Bytes::from_static(b"\xff")).err(),
        Some(sansws::SendError::InvalidUtf8)
    );
}

#[test]
fn a_prepared_message_reaches_every_kind_of_connection() {
    let text: String = Rng(5).text(40_000);
    let prepared = PreparedMessage::text(Utf8Bytes::from(text.clone()));
    let small = PreparedMessage::binary(Bytes::from_static(b"small"));
    let expected = vec![
        Event::Text(Utf8Bytes::from(text)),
        Event::Binary(Bytes::from_static(b"small")),
    ];
    // Servers queue it by reference.
    for _ in 0..3 {
        let mut server = Connection::server(Config::default());
        server.send_prepared(&prepared).unwrap();
        server.send_prepared(&small).unwrap();
        let mut chunks: [&[u8]; 4] = [&[]; 4];
        let n = server.output_chunks(&mut chunks);
        assert_eq!(chunks[1].as_ptr(), prepared.payload().as_ptr());
        assert_eq!(n, 3);
        let wire = drain(&mut server);
        let mut client = client_seeded(Config::default(), 2);
        assert_eq!(events(&mut client, &wire), expected);
    }
    // Clients mask it, each with its own keys.
    let mut wires = Vec::new();
    for seed in [1, 2] {
        let mut client = client_seeded(Config::default(), seed);
        client.send_prepared(&prepared).unwrap();
        client.send_prepared(&small).unwrap();
        let wire = drain(&mut client);
        let mut server = Connection::server(Config::default());
        assert_eq!(events(&mut server, &wire), expected);
        wires.push(wire);
    }
    assert_ne!(wires[0], wires[1]);
    // A connection with permessage-deflate compresses it with its own context.
    let (mut client, mut server) = common::deflate::deflate_pair(
        DeflateConfig::default(),
        DeflateConfig::default(),
        Config::default(),
    );
    for _ in 0..2 {
        server.send_prepared(&prepared).unwrap();
        server.send_prepared(&small).unwrap();
        let wire = drain(&mut server);
        assert!(wire.len() < 40_000, "compressed: {}", wire.len());
        assert_eq!(events(&mut client, &wire), expected);
    }
}

#[test]
fn reads_land_in_the_connections_own_buffer() {
    let mut rng = Rng(9);
    let text = rng.text(100_000);
    let mut client = client_seeded(Config::default(), 4);
    client.send_text(&text).unwrap();
    client.send_binary(b"after").unwrap();
    let wire = drain(&mut client);
    let mut server = Connection::server(Config::default());
    let mut got = Vec::new();
    for piece in wire.chunks(777) {
        let mut room = server.receive_buffer(piece.len());
        assert!(room.is_empty() && room.capacity() >= piece.len());
        let at = room.as_ptr();
        room.extend_from_slice(piece); // what a read into a `BufMut` does
        assert_eq!(room.as_ptr(), at, "no reallocation within the room given");
        server.receive_owned(room);
        while let Some(ev) = server.next_event() {
            got.push(ev.unwrap());
        }
    }
    assert_eq!(
        got,
        vec![
            Event::Text(Utf8Bytes::from(text)),
            Event::Binary(Bytes::from_static(b"after"))
        ]
    );
}

/// A read that found nothing hands its room back empty (an async read that was pending):
/// the room rejoins the buffer, so the next read gets the same room, and the bytes held
/// (part of a large frame) are neither moved nor copied.
#[test]
fn room_handed_back_empty_is_the_next_reads_room() {
    let mut client = client_seeded(Config::default(), 4);
    client.send_binary(&vec![5u8; 300_000]).unwrap();
    let wire = drain(&mut client);
    let mut server = Connection::server(Config::default());
    let mut fed = 0;
    let mut got = Vec::new();
    while fed < wire.len() {
        let room = server.receive_buffer(32 << 10);
        let (at, capacity) = (room.as_ptr(), room.capacity());
        server.receive_owned(room); // nothing read
        let mut room = server.receive_buffer(32 << 10);
        assert_eq!(
            (room.as_ptr(), room.capacity()),
            (at, capacity),
            "after {fed} bytes"
        );
        let piece = &wire[fed..wire.len().min(fed + room.capacity().min(20_000))];
        room.extend_from_slice(piece);
        fed += piece.len();
        server.receive_owned(room);
        while let Some(ev) = server.next_event() {
            got.push(ev.unwrap());
        }
    }
    assert_eq!(got, vec![Event::Binary(Bytes::from(vec![5u8; 300_000]))]);
}

#[test]
fn an_owned_buffer_is_adopted_or_copied() {
    let mut client = client_seeded(Config::default(), 4);
    client.send_text("one").unwrap();
    client.send_text("two").unwrap();
    let wire = drain(&mut client);
    let mut server = Connection::server(Config::default());
    // Nothing held: adopted. Then the rest of the first frame and the second frame: joined.
    server.receive_owned(BytesMut::from(&wire[..5]));
    assert!(server.next_event().is_none());
    server.receive_owned(BytesMut::from(&wire[5..]));
    server.receive_owned(BytesMut::new());
    let got: Vec<_> = std::iter::from_fn(|| server.next_event().map(Result::unwrap)).collect();
    assert_eq!(
        got,
        vec![Event::Text("one".into()), Event::Text("two".into())]
    );
}

/// A server and a client with permessage-deflate, the server's side configured by `server`.
fn deflate_pair_with(server: DeflateConfig) -> (Connection, Connection) {
    common::deflate::deflate_pair(DeflateConfig::default(), server, Config::default())
}

#[test]
fn a_prepared_message_is_compressed_once_per_form() {
    let text = String::from_utf8(common::deflate::json(50_000, 9)).unwrap();
    let mut prepared = PreparedMessage::text(Utf8Bytes::from(text.clone()));
    // Three configurations of the sending side: two share a form, one bounds the window.
    let configs = [
        DeflateConfig::default(),
        DeflateConfig::default().keep_send_history(true),
        DeflateConfig::default().server_max_window_bits(10),
    ];
    let mut pairs: Vec<_> = configs.iter().cloned().map(deflate_pair_with).collect();
    for (_, server) in &pairs {
        prepared.compress_for(server).unwrap();
    }
    for (i, (client, server)) in pairs.iter_mut().enumerate() {
        // A message before (a context to forget), the broadcast, one after, hibernation, one
        // more: each decodes as sent.
        let before = format!("{{\"before\": {i}, \"text\": \"{}\"}}", &text[..300]);
        server.send_text(&before).unwrap();
        server.send_prepared(&prepared).unwrap();
        let wire = drain(server);
        // (Run-length matches only at 10 bits: a poor ratio, but compressed.)
        assert!(
            wire.len() < text.len() * 3 / 4,
            "compressed: {}",
            wire.len()
        );
        let mut got = events(client, &wire);
        server.send_text(&before).unwrap();
        server.hibernate();
        server.send_text(&before).unwrap();
        got.extend(events(client, &drain(server)));
        let before = Event::Text(Utf8Bytes::from(before));
        assert_eq!(
            got,
            vec![
                before.clone(),
                Event::Text(Utf8Bytes::from(text.clone())),
                before.clone(),
                before
            ],
            "configuration {i}"
        );
    }
    // The server queued the prepared compressed bytes by reference: the same bytes for the
    // first two configurations, other bytes for the bounded window.
    let mut sent = Vec::new();
    for (_, server) in pairs.iter_mut() {
        server.send_prepared(&prepared).unwrap();
        let mut chunks: [&[u8]; 4] = [&[]; 4];
        assert_eq!(server.output_chunks(&mut chunks), 2);
        sent.push(chunks[1].as_ptr());
        drain(server);
    }
    assert_eq!(sent[0], sent[1]);
    assert_ne!(sent[0], sent[2]);
}

#[test]
fn a_connection_whose_form_was_not_prepared_compresses_the_message_itself() {
    let text = String::from_utf8(common::deflate::json(20_000, 2)).unwrap();
    let prepared = PreparedMessage::text(Utf8Bytes::from(text.clone()));
    // A client (masks what it sends) and a server, neither prepared for.
    let (mut client, mut server) = deflate_pair_with(DeflateConfig::default());
    for _ in 0..2 {
        client.send_prepared(&prepared).unwrap();
        let wire = drain(&mut client);
        assert!(wire.len() < text.len() / 2);
        assert_eq!(
            events(&mut server, &wire),
            vec![Event::Text(Utf8Bytes::from(text.clone()))]
        );
    }
    // A client prepared for: the shared bytes, masked while copied.
    let mut prepared = prepared;
    prepared.compress_for(&client).unwrap();
    client.send_prepared(&prepared).unwrap();
    client.send_text("after").unwrap();
    let got = events(&mut server, &drain(&mut client));
    assert_eq!(
        got,
        vec![
            Event::Text(Utf8Bytes::from(text)),
            Event::Text("after".into())
        ]
    );
    // A sender that does not compress sends it as it is.
    let (mut client, mut server) =
        deflate_pair_with(DeflateConfig::default().compress_outgoing(false));
    let mut small = PreparedMessage::binary(Bytes::from_static(&[1; 3000]));
    small.compress_for(&server).unwrap();
    server.send_prepared(&small).unwrap();
    let wire = drain(&mut server);
    assert_eq!(wire.len(), 3004);
    assert_eq!(
        events(&mut client, &wire),
        vec![Event::Binary(Bytes::from_static(&[1; 3000]))]
    );
}
