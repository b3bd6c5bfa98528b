//! Random messages and fragmentations sent by one end and received by the other, in random
//! chunkings, in both receive modes and both directions; and every byte boundary for a
//! fixed sequence of frames.

mod common;

use common::{client_seeded, drain, feed_chunked, Rng};
use sansws::{Config, Connection, Event, MessageKind, ReceiveMode};

#[derive(Debug, Clone, PartialEq)]
enum Sent {
    Message(MessageKind, Vec<u8>),
    Ping(Vec<u8>),
}

/// Sends a random script from `tx`; returns what was sent.
fn send_random(tx: &mut Connection, rng: &mut Rng, count: usize) -> Vec<Sent> {
    let mut sent = Vec::new();
    for _ in 0..count {
        if rng.below(5) == 0 {
            let n = rng.below(126);
            let p = rng.bytes(n);
            tx.send_ping(&p).unwrap();
            sent.push(Sent::Ping(p));
            continue;
        }
        let len = match rng.below(10) {
            0 => 0,
            1..=6 => rng.below(200),
            7 | 8 => rng.below(70_000),
            _ => rng.below(300_000),
        };
        let (kind, data) = if rng.below(2) == 0 {
            (MessageKind::Text, rng.text(len / 2).into_bytes())
        } else {
            (MessageKind::Binary, rng.bytes(len))
        };
        if rng.below(3) == 0 {
            // Streamed in fragments, with pings in between, text split anywhere.
            tx.begin_message(kind).unwrap();
            let mut pos = 0;
            while pos < data.len() {
                let n = (1 + rng.below(data.len() / 3 + 1)).min(data.len() - pos);
                tx.send_chunk(&data[pos..pos + n]).unwrap();
                pos += n;
                if rng.below(4) == 0 {
                    let n = rng.below(10);
                    let p = rng.bytes(n);
                    tx.send_ping(&p).unwrap();
                    sent.push(Sent::Ping(p));
                }
            }
            tx.end_message(b"").unwrap();
        } else {
            tx.send(kind, &data).unwrap();
        }
        sent.push(Sent::Message(kind, data));
    }
    sent
}

/// Turns received events into the same shape as the sent script.
fn received(events: Vec<Result<Event, sansws::Error>>) -> Vec<Sent> {
    let mut out = Vec::new();
    let mut streaming: Option<(MessageKind, Vec<u8>)> = None;
    for ev in events {
        match ev.expect("no error") {
            Event::Text(t) => out.push(Sent::Message(MessageKind::Text, t.as_bytes().to_vec())),
            Event::Binary(b) => out.push(Sent::Message(MessageKind::Binary, b.to_vec())),
            Event::MessageStart { kind } => streaming = Some((kind, Vec::new())),
            Event::MessageChunk(c) => streaming.as_mut().expect("started").1.extend_from_slice(&c),
            Event::MessageEnd => {
                let (k, d) = streaming.take().expect("started");
                if k == MessageKind::Text {
                    assert!(std::str::from_utf8(&d).is_ok());
                }
                out.push(Sent::Message(k, d));
            }
            Event::Ping(p) => out.push(Sent::Ping(p.to_vec())),
            other => panic!("unexpected {other:?}"),
        }
    }
    out
}

#[test]
fn client_to_server_random_messages_and_chunkings() {
    for seed in 1..=12u64 {
        let mut rng = Rng(seed * 0x9E37_79B9);
        let mut client = client_seeded(Config::default(), seed);
        let sent = send_random(&mut client, &mut rng, 40);
        let wire = drain(&mut client);
        let sizes: Vec<usize> = (0..16).map(|_| 1 + rng.below(5000)).collect();
        for mode in [ReceiveMode::Message, ReceiveMode::Stream] {
            let mut server = Connection::server(Config::default().receive_mode(mode));
            let got = received(feed_chunked(&mut server, &wire, &sizes));
            assert_eq!(got, sent, "seed {seed} mode {mode:?}");
        }
    }
}

#[test]
fn socket_sized_reads_several_before_the_events_are_taken() {
    // Reads that end inside large frames and carry the next ones, given one to three at a time
    // before the events are taken, copied in or read into the connection's buffer: the bytes
    // after a frame's end are kept apart from it and must come back in order.
    for seed in 1..=6u64 {
        let mut rng = Rng(seed * 0x2545_F491);
        let mut client = client_seeded(Config::default(), seed);
        let sent = send_random(&mut client, &mut rng, 40);
        let wire = drain(&mut client);
        for mode in [ReceiveMode::Message, ReceiveMode::Stream] {
            let mut server = Connection::server(Config::default().receive_mode(mode));
            let mut events = Vec::new();
            let mut pos = 0;
            while pos < wire.len() {
                for _ in 0..1 + rng.below(3) {
                    let n = [65_536, 100_000, 9_000, 300_000][rng.below(4)].min(wire.len() - pos);
                    if rng.below(2) == 0 {
                        server.receive(&wire[pos..pos + n]);
                    } else {
                        // Read into the connection's own buffer, as a host's `read_buf` does.
                        let mut room = server.receive_buffer(n);
                        room.extend_from_slice(&wire[pos..pos + n]);
                        server.receive_owned(room);
                    }
                    pos += n;
                }
                while let Some(ev) = server.next_event() {
                    events.push(ev);
                }
            }
            assert_eq!(received(events), sent, "seed {seed} mode {mode:?}");
            assert_eq!(server.pending_input_len(), 0);
        }
    }
}

#[test]
fn server_to_client_random_messages() {
    for seed in 1..=6u64 {
        let mut rng = Rng(seed * 0x1234_5677);
        let mut server = Connection::server(Config::default());
        let sent = send_random(&mut server, &mut rng, 30);
        let wire = drain(&mut server);
        let mut client = client_seeded(Config::default().receive_mode(ReceiveMode::Stream), seed);
        let got = received(feed_chunked(&mut client, &wire, &[1, 2, 3, 1000, 7]));
        assert_eq!(got, sent);
    }
}

#[test]
fn every_byte_boundary_gives_the_same_events() {
    let mut client = client_seeded(Config::default(), 7);
    client.send_text("héllo wörld €𝄞").unwrap();
    client.send_ping(b"p").unwrap();
    client.begin_message(MessageKind::Text).unwrap();
    client.send_chunk("κόσ".as_bytes()).unwrap();
    client.send_pong(b"").unwrap();
    client.send_chunk(&"με".as_bytes()[..1]).unwrap();
    client.end_message(&"με".as_bytes()[1..]).unwrap();
    client.send_binary(&[7u8; 300]).unwrap();
    client.send_binary(&[9u8; 70_000]).unwrap();
    let wire = drain(&mut client);
    for mode in [ReceiveMode::Message, ReceiveMode::Stream] {
        let config = Config::default().receive_mode(mode);
        let whole = received(
            feed_chunked(
                &mut Connection::server(config.clone()),
                &wire,
                &[wire.len()],
            )
            .into_iter()
            .filter(|e| !matches!(e, Ok(Event::Pong(_))))
            .collect(),
        );
        assert_eq!(whole.len(), 5);
        // Every split point into two pieces, plus byte by byte.
        for cut in (0..wire.len())
            .step_by(if wire.len() > 2000 { 97 } else { 1 })
            .chain(0..200)
        {
            let mut server = Connection::server(config.clone());
            let mut events = Vec::new();
            for part in [&wire[..cut], &wire[cut..]] {
                server.receive(part);
                while let Some(e) = server.next_event() {
                    events.push(e);
                }
            }
            let events = events
                .into_iter()
                .filter(|e| !matches!(e, Ok(Event::Pong(_))))
                .collect();
            assert_eq!(received(events), whole, "cut {cut} mode {mode:?}");
        }
        let bytewise = feed_chunked(&mut Connection::server(config), &wire, &[1]);
        let bytewise = bytewise
            .into_iter()
            .filter(|e| !matches!(e, Ok(Event::Pong(_))))
            .collect();
        assert_eq!(received(bytewise), whole);
    }
}

#[test]
fn single_frame_messages_are_views_of_the_receive_buffer() {
    let mut client = client_seeded(Config::default(), 3);
    client.send_binary(&[5u8; 4096]).unwrap();
    client.send_binary(&[6u8; 100]).unwrap();
    let wire = drain(&mut client);
    let mut server = Connection::server(Config::default());
    server.receive(&wire);
    let Some(Ok(Event::Binary(a))) = server.next_event() else {
        panic!()
    };
    let Some(Ok(Event::Binary(b))) = server.next_event() else {
        panic!()
    };
    assert!(a.iter().all(|&x| x == 5) && b.iter().all(|&x| x == 6));
    // The second payload starts right after the first one's bytes and the second frame's
    // 6-byte header (2 bytes + mask key) in the same buffer: neither was copied out.
    assert_eq!(b.as_ptr() as usize, a.as_ptr() as usize + a.len() + 6);
}
