//! What a hibernated permessage-deflate connection holds, counted by a global allocator.
//!
//! 1,000 server connections in one process, each after 20 JSON-like messages of 2 KiB each
//! way (the client sends, the server echoes), then `hibernate()`; the clients are dropped.
//! The live heap bytes gained, divided by 1,000, are what each server connection holds.
//! Inbound windows of 9, 12 and 15 bits (the server's answer to the client's bare
//! `client_max_window_bits`), the window kept as it is or deflated, the sent history
//! dropped or kept. Run with `--nocapture` for the table in docs/memory.md:
//!
//! ```sh
//! cargo test --release --test memory_hibernate -- --nocapture --test-threads 1
//! ```
//!
//! A second test shows a message in progress keeping its direction's codec until it ends.

mod common;

use common::deflate::{deflate_pair, json_events, json_generators};
use sansws::extensions::deflate::DeflateConfig;
use sansws::{Config, Connection, Event, MessageKind};

#[global_allocator]
static GLOBAL: common::counting::Counting = common::counting::Counting;

/// 1,000 as measured for docs/memory.md (in release); a debug build, 20 times slower,
/// checks the same bounds on 100.
const CONNECTIONS: usize = if cfg!(debug_assertions) { 100 } else { 1000 };

/// Moves all of `from`'s output to `to` and returns the messages delivered.
fn transfer(from: &mut Connection, to: &mut Connection) -> usize {
    let mut delivered = 0;
    while from.pending_output_len() > 0 {
        let n = from.pending_output_len().min(16 * 1024);
        to.receive(&from.pending_output()[..n]);
        from.advance_output(n);
        while let Some(ev) = to.next_event() {
            match ev.expect("no error") {
                Event::Text(_) | Event::Binary(_) => delivered += 1,
                other => panic!("{other:?}"),
            }
        }
    }
    delivered
}

/// Heap bytes held per hibernated server connection (and per connection before
/// hibernating, for comparison).
fn per_connection(server_cfg: DeflateConfig, msgs: &[Vec<u8>]) -> (usize, usize) {
    let mut servers = Vec::with_capacity(CONNECTIONS);
    let base = common::counting::live();
    let mut awake = 0;
    for i in 0..CONNECTIONS {
        let (mut client, mut server) =
            deflate_pair(DeflateConfig::default(), server_cfg, Config::default());
        for m in msgs {
            client.send_binary(m).unwrap();
            assert_eq!(transfer(&mut client, &mut server), 1);
            server.send_binary(m).unwrap();
            assert_eq!(transfer(&mut server, &mut client), 1);
        }
        drop(client);
        if i == 0 {
            awake = common::counting::live_since(base);
        }
        server.hibernate();
        servers.push(server);
    }
    let held = common::counting::live_since(base) / CONNECTIONS;
    drop(servers);
    (held, awake)
}

#[test]
fn a_hibernated_connection_holds_its_peers_window() {
    println!(
        "(Connection itself: {} bytes, wherever the caller keeps it)",
        std::mem::size_of::<Connection>()
    );
    println!("| text | inbound window | window kept | sent history | awake | hibernated |");
    println!("|---|---|---|---|---|---|");
    for (name, text) in json_generators() {
        let msgs: Vec<Vec<u8>> = (0..20).map(|i| text(2048, i * 37)).collect();
        for bits in [9u8, 12, 15] {
            for (compressed, keep_history) in [(false, false), (true, false), (false, true)] {
                if keep_history && bits != 15 {
                    continue;
                }
                let cfg = DeflateConfig::default()
                    .client_max_window_bits(bits)
                    .compress_idle_window(compressed)
                    .keep_send_history(keep_history);
                let (held, awake) = per_connection(cfg, &msgs);
                println!(
                    "| {name} | {bits} bits | {} | {} | {awake} | {held} |",
                    if compressed { "deflated" } else { "as it is" },
                    if keep_history { "kept" } else { "dropped" },
                );
                // The inbound window (2^bits bytes, at most, after 40 KiB received), the sent
                // history if kept (32 KiB: the server sends with 15 bits), and a few hundred
                // bytes of extension state; nothing of the 362 KB of codec.
                let window = 1usize << bits;
                let history = if keep_history { 32 * 1024 } else { 0 };
                let bound = if compressed { window / 2 } else { window } + history + 512;
                assert!(
                    held <= bound,
                    "{name}, {bits} bits, deflated {compressed}: {held} > {bound}"
                );
                if !compressed {
                    assert!(held >= window + history, "{name}, {bits} bits: {held}");
                }
                assert!(awake > 300_000, "the codec was awake before: {awake}");
            }
        }
    }
}

/// A direction with a message in progress keeps its codec through `hibernate()` and gives
/// it back when the message ends; the other direction hibernates at once.
#[test]
fn a_message_in_progress_hibernates_at_its_end() {
    let (mut client, mut server) = deflate_pair(
        DeflateConfig::default(),
        DeflateConfig::default(),
        Config::default(),
    );
    let m = json_events(2048, 1);
    for _ in 0..20 {
        client.send_binary(&m).unwrap();
        transfer(&mut client, &mut server);
        server.send_binary(&m).unwrap();
        transfer(&mut server, &mut client);
    }
    // The client stays awake (its codec state is counted in the base); only the server
    // hibernates.
    server.hibernate();
    client.release_buffers();
    let base = common::counting::live();

    // Sending: the compressor (about 319 KB) is made for the first frame and kept through
    // hibernate() until the message ends.
    server.begin_message(MessageKind::Binary).unwrap();
    server.send_chunk(&m[..1000]).unwrap();
    server.hibernate();
    let sending = common::counting::live_since(base);
    server.send_chunk(&m[1000..1500]).unwrap();
    server.end_message(&m[1500..]).unwrap();
    transfer(&mut server, &mut client);
    server.release_buffers();
    client.release_buffers();
    let sent = common::counting::live_since(base);
    assert!(
        sending > 300_000,
        "compressor held while sending: {sending}"
    );
    assert!(
        sent < 1000,
        "compressor given back at the message's end: {sent}"
    );

    // Receiving: the first of two frames wakes the inflater: its tables (about 11 KB) and a
    // 32 KiB window made from the 32 KiB kept; it is kept through hibernate() until the last
    // frame, and then reduced to the 32 KiB again.
    client.begin_message(MessageKind::Binary).unwrap();
    client.send_chunk(&m[..1000]).unwrap();
    assert_eq!(transfer(&mut client, &mut server), 0);
    server.hibernate();
    let receiving = common::counting::live_since(base);
    client.end_message(&m[1000..]).unwrap();
    assert_eq!(transfer(&mut client, &mut server), 1);
    server.release_buffers();
    client.release_buffers();
    let received = common::counting::live_since(base);
    let tables = std::mem::size_of::<miniz_oxide::inflate::core::DecompressorOxide>();
    assert!(
        receiving > tables,
        "inflater held while receiving: {receiving}"
    );
    assert!(
        received < 1000,
        "inflater given back at the message's end: {received}"
    );
}
