//! Allocations in steady state, counted by a global allocator: receiving small messages
//! allocates nothing per message (the payload is a view of the input buffer), whatever the
//! read size; a stream of large messages reuses the input buffer instead of growing a new one
//! per message; sending allocates nothing per message once the output buffer has grown; an
//! echo of 64 KiB and 1 MiB messages, both directions, with and without permessage-deflate,
//! allocates nothing per message while the idle timer runs on the test's clock (busy
//! connections keep their buffers); and a frame header alone never causes an allocation sized
//! by the length it announces.

mod common;

use std::time::Duration;

use common::{client_seeded, drain};
use sansws::extensions::deflate::DeflateConfig;
use sansws::{Config, Connection, Event, MessageKind, ReceiveMode};

#[global_allocator]
static GLOBAL: common::counting::Counting = common::counting::Counting;

const MESSAGES: usize = 10_000;

fn count<R>(f: impl FnOnce() -> R) -> (usize, R) {
    let before = common::counting::allocations();
    let r = f();
    (common::counting::allocations() - before, r)
}

/// Receives `wire` in reads of `read` bytes, dropping each event; returns the messages seen.
fn receive_all(server: &mut Connection, wire: &[u8], read: usize) -> usize {
    let mut n = 0;
    for chunk in wire.chunks(read) {
        server.receive(chunk);
        while let Some(ev) = server.next_event() {
            match ev.unwrap() {
                Event::Text(_) | Event::Binary(_) => n += 1,
                other => panic!("{other:?}"),
            }
        }
    }
    n
}

#[test]
fn receiving_small_messages_allocates_nothing_per_message() {
    // Any read size: the input buffer settles at a size it reuses; payloads are views of it.
    for read in [4096usize, 16 << 10, 32 << 10, 64 << 10, 256 << 10] {
        for (kind, size) in [(MessageKind::Text, 16usize), (MessageKind::Binary, 1024)] {
            let payload = vec![b'a'; size];
            let mut client = client_seeded(Config::default(), 5);
            for _ in 0..2 * MESSAGES {
                client.send(kind, &payload).unwrap();
            }
            let wire = drain(&mut client);
            let half = wire.len() / 2;
            let mut server = Connection::server(Config::default());
            // Warm up on the first half, count the second.
            receive_all(&mut server, &wire[..half], read);
            let (allocs, n) = count(|| receive_all(&mut server, &wire[half..], read));
            println!(
                "receive {size} B {kind:?} in {read} B reads: {allocs} allocations for {n} messages"
            );
            assert!(n >= MESSAGES - 1);
            assert_eq!(allocs, 0, "{size} B {kind:?} in {read} B reads");
        }
    }
}

#[test]
fn a_stream_of_large_messages_reuses_the_input_buffer() {
    // 1 MiB binary messages in 64 KiB reads: once the buffer has grown for the first one, the
    // next ones arrive in the same allocation (the payloads are dropped before the next read).
    let config = Config::default()
        .max_frame_size(4 << 20)
        .max_message_size(4 << 20);
    let payload = vec![0x5a_u8; 1 << 20];
    let mut client = client_seeded(config.clone(), 11);
    for _ in 0..40 {
        client.send_binary(&payload).unwrap();
    }
    let wire = drain(&mut client);
    let mut server = Connection::server(config);
    // Warm up to the middle of a frame, so that the counted part starts with a partial
    // frame in the buffer, as a socket's reads do.
    let warm = wire.len() / 4 + 1000;
    let warm_n = receive_all(&mut server, &wire[..warm], 64 * 1024);
    let (allocs, n) = count(|| receive_all(&mut server, &wire[warm..], 64 * 1024));
    println!("receive 1 MiB messages in 64 KiB reads: {allocs} allocations for {n} messages");
    assert_eq!(warm_n + n, 40);
    assert!(
        allocs <= 2,
        "{allocs} allocations for {n} large messages: the buffer was not reused"
    );
}

#[test]
fn a_frame_header_alone_allocates_nothing_sized_by_its_length() {
    // A masked binary frame announcing 16 MiB (the default max_frame_size), of which only 100
    // bytes arrive: nothing may be allocated for the announced length.
    let mut frame = vec![0x82, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4];
    frame[2..10].copy_from_slice(&(16u64 << 20).to_be_bytes());
    frame.extend_from_slice(&[0u8; 100]);
    for mode in [ReceiveMode::Message, ReceiveMode::Stream] {
        let mut server = Connection::server(Config::default().receive_mode(mode));
        common::counting::reset_largest();
        for b in frame.chunks(7) {
            server.receive(b);
            while let Some(ev) = server.next_event() {
                assert!(
                    matches!(ev, Ok(Event::MessageStart { .. } | Event::MessageChunk(_))),
                    "{ev:?}"
                );
            }
        }
        let largest = common::counting::largest();
        println!("{mode:?}: largest allocation {largest} bytes after a 16 MiB header");
        assert!(largest < 4096, "{mode:?}: allocated {largest} bytes");
    }
}

#[test]
fn sending_allocates_nothing_per_message_once_the_buffer_has_grown() {
    for role_client in [false, true] {
        let mut conn = if role_client {
            client_seeded(Config::default(), 9)
        } else {
            Connection::server(Config::default())
        };
        let payload = [7u8; 100];
        let mut batch = || {
            for _ in 0..100 {
                conn.send_binary(&payload).unwrap();
            }
            let n = conn.pending_output_len();
            conn.advance_output(n);
        };
        batch();
        let (allocs, _) = count(|| {
            for _ in 0..MESSAGES / 100 {
                batch();
            }
        });
        println!("send (client: {role_client}): {allocs} allocations for {MESSAGES} messages");
        assert_eq!(allocs, 0, "client: {role_client}");
    }
}

/// Moves `from`'s output to `to` in writes and reads of 64 KiB and returns the one message
/// delivered.
fn carry(from: &mut Connection, to: &mut Connection) -> bytes::Bytes {
    let mut got = None;
    while from.pending_output_len() > 0 {
        let n = from.pending_output().len().min(64 << 10);
        to.receive(&from.pending_output()[..n]);
        from.advance_output(n);
        take_message(to, &mut got);
    }
    got.expect("the message arrived")
}

/// Fires whatever timer of `conn` is due at `now` (the idle timer's periods, here).
fn tick(conn: &mut Connection, now: Duration) {
    if conn.poll_timeout(now).is_some_and(|d| d <= now) {
        conn.handle_timeout(now);
    }
}

/// One round trip: `origin` sends `payload`, `echo` receives it and sends it back, `origin`
/// receives the echo. Each received payload is dropped before the next send, as an echo
/// server does once it queued the reply.
fn round_trip(origin: &mut Connection, echo: &mut Connection, payload: &[u8]) {
    origin.send_binary(payload).unwrap();
    let got = carry(origin, echo);
    assert_eq!(got.len(), payload.len());
    echo.send_binary(&got).unwrap();
    drop(got);
    let back = carry(echo, origin);
    assert_eq!(back.len(), payload.len());
}

#[test]
fn an_echo_of_large_messages_allocates_nothing_per_message() {
    let config = Config::default()
        .max_frame_size(4 << 20)
        .max_message_size(4 << 20);
    for size in [64 << 10, 1 << 20] {
        for deflate in [false, true] {
            for client_first in [true, false] {
                // JSON-like text compresses as traffic does; without deflate any bytes do.
                let payload = common::deflate::json(size, 3);
                let (mut client, mut server) = if deflate {
                    common::deflate::deflate_pair(
                        DeflateConfig::default(),
                        DeflateConfig::default(),
                        config.clone(),
                    )
                } else {
                    (
                        client_seeded(config.clone(), 3),
                        Connection::server(config.clone()),
                    )
                };
                // 50 ms of the test's clock per round trip: the idle timer (1 s) ends a busy
                // period every 20 round trips, and must not take the buffers away.
                let mut now = Duration::ZERO;
                let mut rounds = |n: usize, client: &mut Connection, server: &mut Connection| {
                    for _ in 0..n {
                        if client_first {
                            round_trip(client, server, &payload);
                        } else {
                            round_trip(server, client, &payload);
                        }
                        now += Duration::from_millis(50);
                        tick(client, now);
                        tick(server, now);
                    }
                };
                rounds(30, &mut client, &mut server);
                let (allocs, _) = count(|| rounds(50, &mut client, &mut server));
                println!(
                    "echo {size} B, deflate {deflate}, client first {client_first}: \
                     {allocs} allocations for 50 round trips (2.5 s of busy periods)"
                );
                assert_eq!(
                    allocs, 0,
                    "{size} B, deflate {deflate}, client first {client_first}"
                );
            }
        }
    }
}

/// Decodes what `to` received; the one message expected goes into `got`.
fn take_message(to: &mut Connection, got: &mut Option<bytes::Bytes>) {
    while let Some(ev) = to.next_event() {
        match ev.unwrap() {
            Event::Binary(b) => {
                assert!(got.is_none(), "one message at a time");
                *got = Some(b);
            }
            other => panic!("{other:?}"),
        }
    }
}

/// [`carry`] through the zero-copy input path: each read lands in the receiver's own buffer
/// ([`Connection::receive_buffer`]), up to 64 KiB at a time, from a vectored "write" of the
/// sender's chunks.
fn carry_into(from: &mut Connection, to: &mut Connection) -> bytes::Bytes {
    let mut got = None;
    while from.pending_output_len() > 0 {
        let mut room = to.receive_buffer(64 << 10);
        let mut chunks: [&[u8]; 8] = [&[]; 8];
        let n = from.output_chunks(&mut chunks);
        for chunk in &chunks[..n] {
            // What a read into the room does: at most its capacity, and 64 KiB.
            let m = chunk.len().min(room.capacity().min(64 << 10) - room.len());
            room.extend_from_slice(&chunk[..m]);
        }
        let written = room.len();
        to.receive_owned(room);
        from.advance_output(written);
        take_message(to, &mut got);
    }
    got.expect("the message arrived")
}

#[test]
fn the_zero_copy_paths_allocate_nothing_per_message() {
    // Sends of `Bytes` (queued by reference by a server, masked while copied by a client),
    // the received payload echoed back as it is, reads straight into the input buffer, and a
    // prepared message: for every size, both directions.
    let config = Config::default()
        .max_frame_size(4 << 20)
        .max_message_size(4 << 20);
    for size in [16usize, 1 << 10, 64 << 10, 1 << 20] {
        for client_first in [true, false] {
            let payload = bytes::Bytes::from(common::deflate::json(size, 5));
            let prepared = sansws::PreparedMessage::binary(payload.clone());
            let mut client = client_seeded(config.clone(), 8);
            let mut server = Connection::server(config.clone());
            let mut now = Duration::ZERO;
            let mut rounds = |n: usize, client: &mut Connection, server: &mut Connection| {
                for i in 0..n {
                    let (origin, echo) = if client_first {
                        (&mut *client, &mut *server)
                    } else {
                        (&mut *server, &mut *client)
                    };
                    if i % 2 == 0 {
                        origin.send_binary_bytes(payload.clone()).unwrap();
                    } else {
                        origin.send_prepared(&prepared).unwrap();
                    }
                    let got = carry_into(origin, echo);
                    assert_eq!(got.len(), size);
                    echo.send_binary_bytes(got).unwrap();
                    let back = carry_into(echo, origin);
                    assert_eq!(back.len(), size);
                    now += Duration::from_millis(50);
                    tick(client, now);
                    tick(server, now);
                }
            };
            rounds(30, &mut client, &mut server);
            let (allocs, _) = count(|| rounds(50, &mut client, &mut server));
            println!(
                "zero-copy echo {size} B, client first {client_first}: \
                 {allocs} allocations for 50 round trips"
            );
            assert_eq!(allocs, 0, "{size} B, client first {client_first}");
        }
    }
}
