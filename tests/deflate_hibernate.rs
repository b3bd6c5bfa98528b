//! Hibernation (`Connection::hibernate`) is transparent: whatever the window bits, with
//! context takeover or without, with the sent history kept or dropped and the received window
//! kept as it is or deflated, every message decodes as if the connection had never
//! hibernated.
//!
//! - What we send while hibernating after every message, or at random points (deterministic
//!   seeds, sometimes twice in a row, sometimes in the middle of a streamed message), is
//!   inflated by zlib enforcing the window (tests/peers/zlib_oracle.py), bits 8 to 15, and by
//!   our own receiver hibernating at random points too.
//! - What zlib compresses (tests/peers/zlib_compress.py, bits 9 to 15: zlib has no 8-bit raw
//!   deflate), with copies reaching almost to the oldest byte of the window, is received by a
//!   server and a client hibernating between and inside messages.
//! - Bad input after waking fails as before (1009 at the limit, 1007), after every message
//!   that came before it was delivered.
//! - Run with `--nocapture` for what dropping the sent history costs the first message after
//!   waking, and what a smaller client window costs a zlib peer's compression (the figures in
//!   docs/permessage-deflate.md).

mod common;

use common::deflate::{
    deflate_pair, json, json_generators, negotiated, wire_messages, zlib_accepts, zlib_compress,
};
use common::{close_code_in, drain, feed_chunked, frame, Rng};
use sansws::extensions::deflate::{DeflateConfig, PerMessageDeflate};
use sansws::extensions::{ExtensionNegotiator, ExtensionOffer};
use sansws::{Config, Connection, Error, Event, MessageKind, ReceiveMode};

/// When a connection hibernates.
#[derive(Clone, Copy, Debug)]
enum Schedule {
    /// At every point the test offers (after every message, every received chunk).
    Always,
    /// At random points (seeded): never, once or twice at each.
    Random(u64),
}

struct Hibernations {
    schedule: Schedule,
    rng: Rng,
}

impl Hibernations {
    fn new(schedule: Schedule, salt: u64) -> Self {
        let seed = match schedule {
            Schedule::Always => 1,
            Schedule::Random(seed) => seed,
        };
        Self {
            schedule,
            rng: Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ salt | 1),
        }
    }

    /// Hibernates `conn` as many times as the schedule says at this point.
    fn at(&mut self, conn: &mut Connection) {
        let times = match self.schedule {
            Schedule::Always => 1,
            Schedule::Random(_) => [0, 0, 1, 2][self.rng.below(4)],
        };
        for _ in 0..times {
            conn.hibernate();
        }
    }
}

const SCHEDULES: [Schedule; 2] = [Schedule::Always, Schedule::Random(7)];

/// Messages for a `bits`-bit window: JSON-like text that repeats earlier messages; a random
/// block sent twice in a row, so that the second copy reaches back almost to the oldest byte
/// of the window (zlib matches reach at most 2^bits − 262 bytes); a random block sent twice
/// with its repeat just outside the window (the sender must not refer to it); an empty
/// message; text longer than the window.
fn messages(bits: u8, rng: &mut Rng) -> Vec<Vec<u8>> {
    let w = 1usize << bits;
    let inside = rng.bytes(w.saturating_sub(270).max(w / 3));
    let outside = rng.bytes(w + 17);
    vec![
        json(700, 1),
        json(900, 2),
        inside.clone(),
        inside,
        json(300, 3),
        Vec::new(),
        outside.clone(),
        outside,
        json(2 * w + 5, 4),
        json(1000, 1),
        rng.text(200).into_bytes(),
        json(1500, 2),
    ]
}

/// Feeds `wire` to `conn` in pieces of `piece` bytes, hibernating at the schedule's points
/// between pieces (so also inside messages and frames); returns the binary messages.
fn receive_hibernating(
    conn: &mut Connection,
    wire: &[u8],
    piece: usize,
    when: &mut Hibernations,
) -> Vec<Vec<u8>> {
    let mut got = Vec::new();
    for chunk in wire.chunks(piece) {
        conn.receive(chunk);
        while let Some(ev) = conn.next_event() {
            match ev {
                Ok(Event::Binary(b)) => got.push(b.to_vec()),
                other => panic!("{other:?}"),
            }
        }
        when.at(conn);
    }
    got
}

fn same_messages(got: &[Vec<u8>], expected: &[Vec<u8>], what: &str) {
    assert_eq!(got.len(), expected.len(), "{what}: message count");
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        assert!(
            g == e,
            "{what}: message {i} differs ({} bytes, expected {})",
            g.len(),
            e.len()
        );
    }
}

/// One sender (server or client) under a `bits`-bit window, hibernating on `schedule`.
fn sent_while_hibernating(
    from_server: bool,
    bits: u8,
    takeover: bool,
    keep_history: bool,
    schedule: Schedule,
) {
    let what = format!(
        "from {}, {bits} bits, takeover {takeover}, history kept {keep_history}, {schedule:?}",
        if from_server { "server" } else { "client" }
    );
    let sender_cfg = DeflateConfig::default().keep_send_history(keep_history);
    let (client_cfg, server_cfg) = if from_server {
        (
            DeflateConfig::default()
                .server_max_window_bits(bits)
                .server_no_context_takeover(!takeover),
            sender_cfg,
        )
    } else {
        (
            sender_cfg
                .client_max_window_bits(bits)
                .client_no_context_takeover(!takeover),
            DeflateConfig::default(),
        )
    };
    let (mut client, mut server) = deflate_pair(client_cfg, server_cfg, Config::default());
    let (sender, receiver) = if from_server {
        (&mut server, &mut client)
    } else {
        (&mut client, &mut server)
    };
    let mut rng = Rng(u64::from(bits) * 1_000_003 + u64::from(from_server));
    let msgs = messages(bits, &mut rng);
    let mut sender_sleeps = Hibernations::new(schedule, 1);
    let mut receiver_sleeps = Hibernations::new(schedule, 2);
    let mut pairs = Vec::new();
    let mut got = Vec::new();
    for (i, m) in msgs.iter().enumerate() {
        if i % 3 == 1 {
            // Streamed in three frames, hibernation asked for between them: the sending
            // direction waits for the message's end.
            let (a, b) = (m.len() / 3, 2 * m.len() / 3);
            sender.begin_message(MessageKind::Binary).unwrap();
            sender.send_chunk(&m[..a]).unwrap();
            sender_sleeps.at(sender);
            sender.send_chunk(&m[a..b]).unwrap();
            sender_sleeps.at(sender);
            sender.end_message(&m[b..]).unwrap();
        } else {
            sender.send_binary(m).unwrap();
        }
        let wire = drain(sender);
        let on_wire = wire_messages(&wire);
        assert_eq!(on_wire.len(), 1, "{what}");
        assert!(on_wire[0].compressed, "{what}");
        pairs.push((on_wire[0].payload.clone(), m.clone()));
        got.extend(receive_hibernating(
            receiver,
            &wire,
            1000 + i * 77,
            &mut receiver_sleeps,
        ));
        sender_sleeps.at(sender);
    }
    let (ok, said) = zlib_accepts(bits, &pairs);
    assert!(ok, "{what}: zlib says {said}");
    same_messages(&got, &msgs, &what);
}

#[test]
fn what_a_hibernating_server_sends_decodes_under_an_enforcing_zlib() {
    for bits in 8..=15 {
        for takeover in [true, false] {
            for keep_history in [false, true] {
                for schedule in SCHEDULES {
                    sent_while_hibernating(true, bits, takeover, keep_history, schedule);
                }
            }
        }
    }
}

#[test]
fn what_a_hibernating_client_sends_decodes_under_an_enforcing_zlib() {
    for bits in 8..=15 {
        for takeover in [true, false] {
            for keep_history in [false, true] {
                for schedule in SCHEDULES {
                    sent_while_hibernating(false, bits, takeover, keep_history, schedule);
                }
            }
        }
    }
}

/// Priming a fresh compressor with the kept history must not move the full flushes that
/// bound its matches at 11 to 14 bits: they fall every 2^bits input bytes counted since the
/// compressor was made, so after a first message of 1.75 × 2^bits bytes the last 0.75 ×
/// 2^bits are what may still be referred to. The connection hibernates; the next message is
/// 0.5 × 2^bits new bytes and then those 0.75 × 2^bits again, 1.25 × 2^bits back: beyond
/// the window, so never a match (zlib enforcing the window says so), although the
/// primed compressor holds them.
#[test]
fn priming_keeps_the_window_bound() {
    for bits in 8..=15u8 {
        for from_server in [true, false] {
            let w = 1usize << bits;
            let keep = DeflateConfig::default().keep_send_history(true);
            let (mut client, mut server) = if from_server {
                deflate_pair(
                    DeflateConfig::default().server_max_window_bits(bits),
                    keep,
                    Config::default(),
                )
            } else {
                deflate_pair(
                    keep.client_max_window_bits(bits),
                    DeflateConfig::default(),
                    Config::default(),
                )
            };
            let sender = if from_server {
                &mut server
            } else {
                &mut client
            };
            let mut rng = Rng(u64::from(bits) + 99);
            let first = rng.bytes(w + 3 * w / 4);
            let mut second = rng.bytes(w / 2);
            second.extend_from_slice(&first[w..]);
            let mut pairs = Vec::new();
            for m in [&first, &second] {
                sender.send_binary(m).unwrap();
                let on_wire = wire_messages(&drain(sender));
                pairs.push((on_wire[0].payload.clone(), m.clone()));
                sender.hibernate();
            }
            let (ok, said) = zlib_accepts(bits, &pairs);
            assert!(
                ok,
                "{bits} bits, from server {from_server}: zlib says {said}"
            );
        }
    }
}

/// A connection receiving from a zlib peer that compresses with a `bits`-bit window.
fn receiver_of_zlib(to_server: bool, bits: u8, takeover: bool, cfg: DeflateConfig) -> Connection {
    if to_server {
        let mut offer =
            ExtensionOffer::new("permessage-deflate").with_param("client_max_window_bits", None);
        if !takeover {
            offer = offer.with_param("client_no_context_takeover", None);
        }
        let (answer, ext) = PerMessageDeflate::new(cfg.client_max_window_bits(bits))
            .accept(&[&offer])
            .unwrap();
        if bits < 15 {
            let value = bits.to_string();
            assert!(
                answer
                    .params
                    .iter()
                    .any(|p| p.name == "client_max_window_bits"
                        && p.value.as_deref() == Some(value.as_str())),
                "{answer:?}"
            );
        }
        Connection::server(Config::default()).after_handshake(negotiated(ext), &[])
    } else {
        let neg = PerMessageDeflate::new(
            cfg.server_max_window_bits(bits)
                .server_no_context_takeover(!takeover),
        );
        let mut answer = ExtensionOffer::new("permessage-deflate");
        if !takeover {
            answer = answer.with_param("server_no_context_takeover", None);
        }
        if bits < 15 {
            answer = answer.with_param("server_max_window_bits", Some(bits.to_string()));
        }
        let ext = neg.confirm(&answer).expect("a valid answer");
        common::client_seeded(Config::default(), 5).after_handshake(negotiated(ext), &[])
    }
}

/// What zlib compresses, received by a connection that hibernates between and inside
/// messages: every third message comes in three frames.
fn received_from_zlib(
    to_server: bool,
    bits: u8,
    level: u8,
    takeover: bool,
    compress_idle_window: bool,
    schedule: Schedule,
) {
    let what = format!(
        "to {}, {bits} bits, level {level}, takeover {takeover}, window deflated \
         {compress_idle_window}, {schedule:?}",
        if to_server { "server" } else { "client" }
    );
    let cfg = DeflateConfig::default().compress_idle_window(compress_idle_window);
    let mut receiver = receiver_of_zlib(to_server, bits, takeover, cfg);
    let mut rng = Rng(u64::from(bits) * 7_919 + u64::from(level));
    let msgs = messages(bits, &mut rng);
    let compressed = zlib_compress(bits, level, 8, takeover, &msgs);
    let mut wire = Vec::new();
    for (i, c) in compressed.iter().enumerate() {
        if i % 3 == 2 {
            let (a, b) = (c.len() / 3, 2 * c.len() / 3);
            wire.extend(frame(0x42, &c[..a], to_server));
            wire.extend(frame(0x00, &c[a..b], to_server));
            wire.extend(frame(0x80, &c[b..], to_server));
        } else {
            wire.extend(frame(0xc2, c, to_server));
        }
    }
    let mut sleeps = Hibernations::new(schedule, 3);
    let got = receive_hibernating(&mut receiver, &wire, 777, &mut sleeps);
    same_messages(&got, &msgs, &what);
}

#[test]
fn a_hibernating_receiver_inflates_what_zlib_compresses() {
    for bits in 9..=15 {
        for takeover in [true, false] {
            for compress_idle_window in [false, true] {
                for schedule in SCHEDULES {
                    for to_server in [true, false] {
                        let level = if to_server { 9 } else { 1 };
                        received_from_zlib(
                            to_server,
                            bits,
                            level,
                            takeover,
                            compress_idle_window,
                            schedule,
                        );
                    }
                }
            }
        }
    }
}

/// A server that received `count` JSON messages from our client and hibernated after each.
fn hibernated_server(
    mode: ReceiveMode,
    compress_idle_window: bool,
) -> (Connection, Vec<u8>, Vec<Vec<u8>>) {
    let config = Config::default()
        .receive_mode(mode)
        .max_message_size(1 << 20);
    let (mut client, server) = deflate_pair(
        DeflateConfig::default(),
        DeflateConfig::default().compress_idle_window(compress_idle_window),
        config,
    );
    let msgs: Vec<Vec<u8>> = (0..5).map(|i| json(3000 + i * 100, i)).collect();
    for m in &msgs {
        client.send_binary(m).unwrap();
    }
    (server, drain(&mut client), msgs)
}

/// Feeds all of `wire` at once and takes one event at a time, hibernating after each (the
/// bytes of the next messages are buffered meanwhile); stream-mode chunks are joined.
fn events_hibernating_after_each(conn: &mut Connection, wire: &[u8]) -> Vec<Result<Event, Error>> {
    conn.receive(wire);
    let mut events = Vec::new();
    while let Some(ev) = conn.next_event() {
        events.push(ev);
        conn.hibernate();
    }
    events
}

/// The messages in `events` (stream mode: chunks joined at each `MessageEnd`).
fn delivered(events: &[Result<Event, Error>]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut current = Vec::new();
    for e in events {
        match e {
            Ok(Event::Binary(b)) => out.push(b.to_vec()),
            Ok(Event::MessageChunk(c)) => current.extend_from_slice(c),
            Ok(Event::MessageEnd) => out.push(std::mem::take(&mut current)),
            _ => {}
        }
    }
    out
}

#[test]
fn a_bomb_after_waking_stops_at_the_limit() {
    // 100 MiB of zeros, compressed by zlib to about 100 KB; the limit is 1 MiB. A new zlib
    // stream starts at a block boundary, so it is a valid continuation of the peer's stream.
    let script = "import zlib,sys; c=zlib.compressobj(9,zlib.DEFLATED,-15); d=c.compress(bytes(100<<20))+c.flush(zlib.Z_SYNC_FLUSH); sys.stdout.buffer.write(d[:-4])";
    let out = std::process::Command::new("python3")
        .args(["-c", script])
        .output()
        .expect("python3 runs");
    let bomb = out.stdout;
    assert!(bomb.len() < 200_000, "{}", bomb.len());
    for mode in [ReceiveMode::Message, ReceiveMode::Stream] {
        for compressed in [false, true] {
            let (mut server, mut wire, msgs) = hibernated_server(mode, compressed);
            wire.extend(frame(0xc2, &bomb, true));
            let events = events_hibernating_after_each(&mut server, &wire);
            assert_eq!(delivered(&events), msgs, "{mode:?} {compressed}");
            let bomb_bytes: usize = events
                .iter()
                .rev()
                .take_while(|e| !matches!(e, Ok(Event::MessageEnd)))
                .map(|e| match e {
                    Ok(Event::MessageChunk(c)) => c.len(),
                    _ => 0,
                })
                .sum();
            assert!(bomb_bytes <= 1 << 20, "{mode:?}: {bomb_bytes}");
            assert_eq!(
                events.last(),
                Some(&Err(Error::MessageTooLarge)),
                "{mode:?} {compressed}"
            );
            assert_eq!(close_code_in(&drain(&mut server)), Some(1009));
        }
    }
}

#[test]
fn corrupt_data_after_waking_closes_with_1007() {
    for mode in [ReceiveMode::Message, ReceiveMode::Stream] {
        for compressed in [false, true] {
            let (mut server, mut wire, msgs) = hibernated_server(mode, compressed);
            wire.extend(frame(0xc2, &[0xff, 0xff, 0xff, 0x00, 0x13], true));
            let events = events_hibernating_after_each(&mut server, &wire);
            assert_eq!(delivered(&events), msgs, "{mode:?} {compressed}");
            assert!(
                matches!(events.last(), Some(Err(Error::Extension(e))) if e.code.0 == 1007),
                "{mode:?} {compressed}: {:?}",
                events.last()
            );
            assert_eq!(close_code_in(&drain(&mut server)), Some(1007));
        }
    }
}

/// Hibernating a connection that has nothing to give back (no message yet, no context
/// takeover, no extension), or again and again, changes nothing.
#[test]
fn hibernating_with_nothing_held_is_harmless() {
    for takeover in [true, false] {
        let cfg = DeflateConfig::default()
            .server_no_context_takeover(!takeover)
            .client_no_context_takeover(!takeover);
        let (mut client, mut server) = deflate_pair(cfg, cfg, Config::default());
        for _ in 0..3 {
            client.hibernate();
            server.hibernate();
        }
        for i in 0..4 {
            let m = json(500 + i, i);
            client.send_binary(&m).unwrap();
            client.hibernate();
            let events = feed_chunked(&mut server, &drain(&mut client), &[100]);
            assert_eq!(delivered(&events), vec![m.clone()]);
            server.hibernate();
            server.send_binary(&m).unwrap();
            server.hibernate();
            let events = feed_chunked(&mut client, &drain(&mut server), &[100]);
            assert_eq!(delivered(&events), vec![m]);
        }
    }
    let mut plain = Connection::server(Config::default());
    plain.hibernate();
    let events = feed_chunked(&mut plain, &frame(0x82, b"abc", true), &[2]);
    assert_eq!(delivered(&events), vec![b"abc".to_vec()]);
}

/// What the first message after waking costs in size when the sent history was dropped,
/// against keeping it and never hibernating: 20 JSON-like messages of 2,000 bytes (not 2 KiB:
/// at 12 bits only what followed the last full flush, every 4 KiB, may be referred to, and
/// 20 × 2 KiB ends exactly on one), then the connection hibernates and sends one more of
/// 1 KiB or 2 KiB. Both generators: repetitive records, and varied event records. Sizes
/// are deterministic.
#[test]
fn first_message_after_waking_with_and_without_the_sent_history() {
    println!("text | bits | next message | never hibernated | history kept | history dropped");
    for (name, text) in json_generators() {
        for bits in [15u8, 12] {
            for next in [1024usize, 2048] {
                let mut sizes = Vec::new();
                for (hibernate, keep) in [(false, false), (true, true), (true, false)] {
                    let (mut client, mut server) = deflate_pair(
                        DeflateConfig::default().server_max_window_bits(bits),
                        DeflateConfig::default().keep_send_history(keep),
                        Config::default(),
                    );
                    for i in 0..20 {
                        server.send_binary(&text(2000, i * 37)).unwrap();
                    }
                    drop(feed_chunked(&mut client, &drain(&mut server), &[65536]));
                    if hibernate {
                        server.hibernate();
                    }
                    let m = text(next, 20 * 37);
                    server.send_binary(&m).unwrap();
                    let wire = drain(&mut server);
                    sizes.push(wire_messages(&wire)[0].payload.len());
                    assert_eq!(
                        delivered(&feed_chunked(&mut client, &wire, &[4096])),
                        vec![m]
                    );
                }
                println!(
                    "{name} | {bits} | {next} B | {} B | {} B | {} B ({:.2}x kept)",
                    sizes[0],
                    sizes[1],
                    sizes[2],
                    sizes[2] as f64 / sizes[1] as f64
                );
                // With the history kept, the message compresses about as if the connection
                // had never hibernated. At 15 bits, dropping the history makes it larger; at
                // 12 it may make it smaller (a fresh compressor's first full flush comes
                // 4 KiB later, not inside this message).
                if bits == 15 {
                    assert!(
                        sizes[1] < sizes[2],
                        "{name}, bits {bits}, {next}: {sizes:?}"
                    );
                }
                assert!(
                    sizes[1] * 10 <= sizes[0] * 11,
                    "{name}, bits {bits}, {next}: {sizes:?}"
                );
            }
        }
    }
}

/// What the server's answer to a bare `client_max_window_bits` costs: the ratio of a
/// client's compression, as the server receives it, of 20 JSON-like messages of 2 KiB with
/// context takeover, under 9, 12 and 15 bits: zlib at level 6 with memLevel 8 (as browsers
/// use it) and memLevel 5 (as Python's `websockets` does), and our own client at level 1.
/// Both generators; the server inflates each stream.
#[test]
fn what_a_smaller_client_window_costs_the_peers_ratio() {
    println!(
        "text | client_max_window_bits | zlib 6, memLevel 8 | zlib 6, memLevel 5 | sansws level 1"
    );
    for (name, text) in json_generators() {
        let msgs: Vec<Vec<u8>> = (0..20).map(|i| text(2048, i * 37)).collect();
        let total: usize = msgs.iter().map(Vec::len).sum();
        for bits in [9u8, 12, 15] {
            let mut ratios = Vec::new();
            for mem_level in [8, 5] {
                let compressed = zlib_compress(bits, 6, mem_level, true, &msgs);
                let mut server = receiver_of_zlib(true, bits, true, DeflateConfig::default());
                let wire: Vec<u8> = compressed
                    .iter()
                    .flat_map(|c| frame(0xc2, c, true))
                    .collect();
                let got = delivered(&feed_chunked(&mut server, &wire, &[65536]));
                same_messages(&got, &msgs, &format!("{name}, {bits} bits"));
                let size: usize = compressed.iter().map(Vec::len).sum();
                ratios.push(total as f64 / size as f64);
            }
            let (mut client, mut server) = deflate_pair(
                DeflateConfig::default().client_max_window_bits(bits),
                DeflateConfig::default().client_max_window_bits(bits),
                Config::default(),
            );
            for m in &msgs {
                client.send_binary(m).unwrap();
            }
            let wire = drain(&mut client);
            let ours: usize = wire_messages(&wire).iter().map(|m| m.payload.len()).sum();
            let got = delivered(&feed_chunked(&mut server, &wire, &[65536]));
            same_messages(&got, &msgs, &format!("{name}, {bits} bits, ours"));
            println!(
                "{name} | {bits} | {:.2}x | {:.2}x | {:.2}x",
                ratios[0],
                ratios[1],
                total as f64 / ours as f64
            );
        }
    }
}
