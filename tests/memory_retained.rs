//! What an idle connection holds must not depend on the size of the messages it carried.
//!
//! A counting global allocator measures the live heap bytes of a client and a server (in one
//! process) after each has sent and received a 1 MiB and a 10 MiB message (random bytes, and
//! compressible text), with the output drained and the messages dropped: first while busy
//! (the buffers keep what the traffic used, by design), then after the idle timer fired on
//! the test's clock (`poll_timeout` / `handle_timeout`, no sleeping). Idle, the pair must hold
//! exactly the same for both sizes, and no more than the hibernated codec state (the peer's
//! window with context takeover) and small fixed state. Run with `--nocapture` to see the
//! table that docs/memory.md reports. A second test leaves part of a following frame in the
//! receiver and part of the output unwritten in the sender, so the buffers are not empty when
//! the timer fires: what stays is those bytes, in allocations of their size.

mod common;

use common::deflate::{negotiate, negotiated};
use common::{client_seeded, Rng};
use sansws::extensions::deflate::DeflateConfig;
use std::time::Duration;

use sansws::{Config, Connection, Event};

#[global_allocator]
static GLOBAL: common::counting::Counting = common::counting::Counting;

#[derive(Clone, Copy, Debug)]
enum Mode {
    Off,
    ContextTakeover,
    NoContextTakeover,
}

fn pair(mode: Mode) -> (Connection, Connection) {
    let config = Config::default()
        .max_frame_size(32 << 20)
        .max_message_size(32 << 20);
    let client = client_seeded(config.clone(), 1);
    let server = Connection::server(config);
    let deflate = match mode {
        Mode::Off => return (client, server),
        Mode::ContextTakeover => DeflateConfig::default(),
        Mode::NoContextTakeover => DeflateConfig::default()
            .server_no_context_takeover(true)
            .client_no_context_takeover(true),
    };
    let (client_ext, server_ext) = negotiate(deflate, deflate).expect("accepted");
    (
        client.after_handshake(negotiated(client_ext), &[]),
        server.after_handshake(negotiated(server_ext), &[]),
    )
}

/// Moves `from`'s output into `to` in 64 KiB reads and returns the one message received.
fn transfer(from: &mut Connection, to: &mut Connection) -> usize {
    let mut received = 0;
    while from.pending_output_len() > 0 {
        let n = from.pending_output_len().min(64 * 1024);
        to.receive(&from.pending_output()[..n]);
        from.advance_output(n);
        while let Some(ev) = to.next_event() {
            match ev.expect("no error") {
                Event::Binary(b) => received += b.len(),
                Event::Text(t) => received += t.len(),
                other => panic!("{other:?}"),
            }
        }
    }
    received
}

/// Fires the idle timer of `conn`, which must be the only timer due within its period
/// (default 1 s) after traffic at time `at` on the test's clock. Returns the time it fired.
fn go_idle(conn: &mut Connection, at: Duration) -> Duration {
    let deadline = conn
        .poll_timeout(at)
        .expect("the idle timer runs after traffic");
    assert_eq!(
        deadline,
        at + Duration::from_secs(1),
        "the idle timer's period"
    );
    conn.handle_timeout(deadline);
    deadline
}

/// Live bytes held by a client and a server after one message each way of `payload`: busy
/// (as the traffic left them), after the idle timer fired, and (busy again, from a second
/// pair) after `release_buffers` alone. Also returns the fresh pair's bytes.
struct Held {
    fresh: usize,
    busy: usize,
    idle: usize,
    released: usize,
}

fn exchange(client: &mut Connection, server: &mut Connection, payload: &[u8], text: bool) {
    if text {
        client
            .send_text(std::str::from_utf8(payload).unwrap())
            .unwrap();
    } else {
        client.send_binary(payload).unwrap();
    }
    assert_eq!(transfer(client, server), payload.len());
    server.send_binary(payload).unwrap();
    assert_eq!(transfer(server, client), payload.len());
}

fn retained(mode: Mode, payload: &[u8], text: bool) -> Held {
    let base = common::counting::live();
    let (mut client, mut server) = pair(mode);
    let fresh = common::counting::live_since(base);
    exchange(&mut client, &mut server, payload, text);
    let busy = common::counting::live_since(base);
    let at = Duration::from_secs(7);
    go_idle(&mut client, at);
    go_idle(&mut server, at);
    let idle = common::counting::live_since(base);
    assert_eq!(
        client.poll_timeout(at * 2),
        None,
        "nothing more to give back"
    );
    assert_eq!(
        server.poll_timeout(at * 2),
        None,
        "nothing more to give back"
    );
    drop((client, server));

    let base = common::counting::live();
    let (mut client, mut server) = pair(mode);
    exchange(&mut client, &mut server, payload, text);
    client.release_buffers();
    server.release_buffers();
    let released = common::counting::live_since(base);
    drop((client, server));
    Held {
        fresh,
        busy,
        idle,
        released,
    }
}

/// Heap bytes of miniz_oxide's codec state, measured: (compressor, inflater).
fn codec_sizes() -> (usize, usize) {
    use miniz_oxide::deflate::core::{create_comp_flags_from_zip_params, CompressorOxide};
    use miniz_oxide::inflate::core::DecompressorOxide;
    let base = common::counting::live();
    let c = Box::new(CompressorOxide::new(create_comp_flags_from_zip_params(
        1, -15, 0,
    )));
    let compressor = common::counting::live_since(base);
    drop(c);
    // The receiving half: miniz_oxide's decoder tables and a 32 KiB window, in one box.
    let base = common::counting::live();
    let i = Box::new((DecompressorOxide::new(), [0u8; 32 * 1024]));
    let inflater = common::counting::live_since(base);
    drop(i);
    (compressor, inflater)
}

#[test]
fn idle_bytes_do_not_depend_on_message_size() {
    let (compressor, inflater) = codec_sizes();
    println!("codec state: compressor {compressor} bytes, inflater {inflater} bytes");
    let mut rng = Rng(42);
    let random_10 = rng.bytes(10 << 20);
    let text_10: String = (0..)
        .map(|i| {
            format!(
                "{{\"id\":{i},\"user\":\"name{}\",\"active\":true}} ",
                i % 1000
            )
        })
        .take_while({
            let mut len = 0;
            move |s: &String| {
                len += s.len();
                len <= 10 << 20
            }
        })
        .collect();
    println!(
        "| mode | payload | fresh pair | busy after 1 MiB | busy after 10 MiB | idle after 1 MiB | idle after 10 MiB | `release_buffers` after 10 MiB |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for mode in [Mode::Off, Mode::ContextTakeover, Mode::NoContextTakeover] {
        for (name, big, text) in [
            ("random", &random_10[..], false),
            ("text", text_10.as_bytes(), true),
        ] {
            let mut small_len = 1 << 20;
            while text && !text_10.is_char_boundary(small_len) {
                small_len -= 1;
            }
            let one = retained(mode, &big[..small_len], text);
            let ten = retained(mode, big, text);
            println!(
                "| {mode:?} | {name} | {} | {} | {} | {} | {} | {} |",
                one.fresh, one.busy, ten.busy, one.idle, ten.idle, ten.released
            );
            // Busy, the buffers keep what the traffic used: at least the message once.
            assert!(
                one.busy >= 1 << 20 && ten.busy >= 10 << 20,
                "{mode:?} {name}: busy buffers were given back ({}, {})",
                one.busy,
                ten.busy
            );
            // Idle: the same whatever the message, and nothing but the hibernated codec
            // state: per connection, the peer's window with context takeover (the last
            // 2^15 bytes it sent) and the extension's own small state.
            assert_eq!(
                one.idle, ten.idle,
                "{mode:?} {name}: the idle pair holds bytes that depend on the message size"
            );
            let window = match mode {
                Mode::ContextTakeover => 1 << 15,
                _ => 0,
            };
            assert!(
                one.idle <= one.fresh + 2 * (window + 512),
                "{mode:?} {name}: {} bytes held once idle",
                one.idle
            );
            // `release_buffers` alone keeps the codec awake, nothing else.
            let codec = match mode {
                Mode::ContextTakeover => compressor + inflater,
                _ => 0,
            };
            assert!(
                ten.released <= one.fresh + 2 * (codec + 1024),
                "{mode:?} {name}: {} bytes held after release_buffers",
                ten.released
            );
        }
    }
}

/// Heap bytes a pair of connections holds whatever it exchanged: the client's entropy source
/// and its batch of mask keys, and small fixed state.
const FIXED: usize = 512;

/// Live bytes held, busy and then after the idle timer fired, after `payload` went client →
/// server and was delivered, while the next frame (60 KB) has only partly arrived at the
/// server (`arrived` bytes of it) and the client still has 10 KB of it unwritten: neither
/// buffer is empty when the timer fires.
fn retained_mid_frame(payload: &[u8], arrived: usize) -> (usize, usize) {
    let base = common::counting::live();
    let (mut client, mut server) = pair(Mode::Off);
    client.send_binary(payload).unwrap();
    client.send_binary(&vec![1u8; 60_000]).unwrap();
    let unwritten = 10_000;
    // The second frame is 8 bytes of header (16-bit length, mask key) and 60,000 of payload;
    // the server gets the header and `arrived` bytes of payload.
    let stop_at = 60_000 - arrived;
    let mut received = 0;
    while client.pending_output_len() > stop_at {
        let n = (client.pending_output_len() - stop_at).min(64 * 1024);
        server.receive(&client.pending_output()[..n]);
        client.advance_output(n);
        while let Some(ev) = server.next_event() {
            match ev.expect("no error") {
                Event::Binary(b) => received += b.len(),
                other => panic!("{other:?}"),
            }
        }
    }
    // The transport took some more output but the server has not seen it yet.
    let more = client.pending_output_len() - unwritten;
    let in_flight = client.pending_output()[..more].to_vec();
    client.advance_output(more);
    assert_eq!(received, payload.len());
    assert_eq!(client.pending_output_len(), unwritten);
    assert_eq!(server.pending_input_len(), arrived);
    let busy = common::counting::live_since(base) - in_flight.capacity();
    let at = Duration::from_secs(3);
    let fired = go_idle(&mut client, at);
    go_idle(&mut server, at);
    // The test's own copy of the bytes in flight is not the connections'.
    let idle = common::counting::live_since(base) - in_flight.capacity();
    // Exactly the bytes still pending, in allocations of their size.
    assert!(
        idle <= arrived + unwritten + FIXED,
        "{idle} bytes held once idle with {arrived} + {unwritten} pending"
    );
    // Nothing was lost: the rest of the frame completes the message.
    assert_eq!(client.pending_output_len(), unwritten);
    assert_eq!(server.pending_input_len(), arrived);
    // The client's unwritten output keeps its send timeout running, nothing else.
    assert_eq!(
        client.poll_timeout(fired),
        Some(at + Duration::from_secs(30))
    );
    assert_eq!(server.poll_timeout(fired), None);
    let rest = client.pending_output().to_vec();
    client.advance_output(rest.len());
    server.receive(&in_flight);
    server.receive(&rest);
    assert!(matches!(server.next_event(), Some(Ok(Event::Binary(b))) if b.len() == 60_000));
    drop((client, server));
    (busy, idle)
}

#[test]
fn idle_bytes_mid_frame_are_the_pending_bytes() {
    let one_mib = vec![7u8; 1 << 20];
    let ten_mib = vec![7u8; 10 << 20];
    for arrived in [20_000, 50_000] {
        let (busy_one, one) = retained_mid_frame(&one_mib, arrived);
        let (busy_ten, ten) = retained_mid_frame(&ten_mib, arrived);
        println!(
            "{arrived} B of a frame buffered, 10 KB unwritten: busy {busy_one} / {busy_ten}, \
             idle {one} / {ten} bytes after 1 / 10 MiB"
        );
        assert_eq!(one, ten);
    }
}

/// A connection that carried one 16 MiB message and then stays busy with small ones gives the
/// large buffers back within two periods of the idle timer (the period that carried the large
/// message keeps them; the next one, which needed 1 KiB, cuts them down), and the small
/// traffic then runs in buffers of its own size.
#[test]
fn a_busy_connection_gives_back_what_an_old_large_message_grew() {
    let big = vec![3u8; 16 << 20];
    let small = vec![4u8; 1024];
    let mut held = Vec::with_capacity(40);
    let base = common::counting::live();
    let (mut client, mut server) = pair(Mode::Off);
    let step = Duration::from_millis(100);
    let mut now = Duration::ZERO;
    for i in 0..40 {
        let payload = if i == 0 { &big } else { &small };
        exchange(&mut client, &mut server, payload, false);
        for conn in [&mut client, &mut server] {
            common::run_clock(conn, now, now + step);
        }
        now += step;
        held.push(common::counting::live_since(base));
    }
    println!(
        "pair after a 16 MiB exchange then 1 KiB ones every 100 ms: {} bytes at 0.1 s, {} at 1 s, {} at 2 s, {} at 4 s",
        held[0], held[9], held[19], held[39]
    );
    assert!(held[0] >= 4 * (16 << 20), "busy keeps: {}", held[0]);
    // By 2 s (two whole periods) every buffer is back to what 1 KiB messages need: at most
    // `buffer_keep` each.
    let keep = 64 << 10;
    for (i, &h) in held.iter().enumerate().skip(20) {
        assert!(
            h <= 8 * keep + FIXED,
            "{h} bytes held at {} ms",
            (i + 1) * 100
        );
    }
}
