//! What a connection holds after a message must not depend on the message's size.
//!
//! A counting global allocator measures the live heap bytes of a client and a server (in one
//! process) after each has sent and received a 1 MiB and a 10 MiB message (random bytes, and
//! compressible text), with the output drained and the messages dropped. The bytes still held
//! must stay below a bound that does not mention the message (the codec's measured state plus
//! `buffer_keep` per reusable buffer), for both sizes, with compression off, with context
//! takeover, and without it. Run with `--nocapture` to see the table that
//! docs/memory.md reports. A second test leaves part of a following frame in the receiver
//! and part of the output unwritten in the sender, so the buffers are not empty when the
//! connections come to rest.

mod common;

use common::deflate::{negotiate, negotiated};
use common::{client_seeded, Rng};
use sansws::extensions::deflate::DeflateConfig;
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

/// Live bytes held by a client and a server after one message each way of `payload`: as the
/// connections left them, and after `release_buffers`. Also returns the fresh pair's bytes.
fn retained(mode: Mode, payload: &[u8], text: bool) -> (usize, usize, usize) {
    let base = common::counting::live();
    let (mut client, mut server) = pair(mode);
    let fresh = common::counting::live_since(base);
    if text {
        client
            .send_text(std::str::from_utf8(payload).unwrap())
            .unwrap();
    } else {
        client.send_binary(payload).unwrap();
    }
    assert_eq!(transfer(&mut client, &mut server), payload.len());
    server.send_binary(payload).unwrap();
    assert_eq!(transfer(&mut server, &mut client), payload.len());
    let held = common::counting::live_since(base);
    client.release_buffers();
    server.release_buffers();
    let released = common::counting::live_since(base);
    drop((client, server));
    (fresh, held, released)
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
fn retained_bytes_do_not_depend_on_message_size() {
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
    let keep = 64 * 1024;
    println!(
        "| mode | payload | fresh pair | after 1 MiB | after 10 MiB | after 1 MiB, released | after 10 MiB, released |"
    );
    println!("|---|---|---|---|---|---|---|");
    for mode in [Mode::Off, Mode::ContextTakeover, Mode::NoContextTakeover] {
        for (name, big, text) in [
            ("random", &random_10[..], false),
            ("text", text_10.as_bytes(), true),
        ] {
            let mut small_len = 1 << 20;
            while text && !text_10.is_char_boundary(small_len) {
                small_len -= 1;
            }
            let (fresh, one, one_released) = retained(mode, &big[..small_len], text);
            let (_, ten, ten_released) = retained(mode, big, text);
            println!(
                "| {mode:?} | {name} | {fresh} | {one} | {ten} | {one_released} | {ten_released} |"
            );
            // The bound does not mention the message: per connection, the codec state (with
            // context takeover) plus at most `keep` for each of its four reusable buffers
            // (input, output, deflate scratch, gathered message) plus small fixed state.
            // Whether a buffer of at most `keep` is kept depends on where reads ended, so
            // the two columns may differ by such buffers, never by anything sized by the
            // message.
            let codec = match mode {
                Mode::ContextTakeover => compressor + inflater,
                _ => 0,
            };
            let bound = fresh + 2 * (codec + 4 * keep + 1024);
            for held in [one, ten] {
                assert!(
                    held <= bound,
                    "{mode:?} {name}: {held} bytes held, bound {bound}"
                );
            }
            // After release_buffers, exactly the same for both sizes: the fixed state and,
            // with context takeover, the codec state, nothing else.
            assert_eq!(
                one_released, ten_released,
                "{mode:?} {name}: released pair holds bytes that depend on the message size"
            );
            assert!(
                one_released <= fresh + 2 * (codec + 1024),
                "{mode:?} {name}: {one_released} bytes held after release_buffers"
            );
        }
    }
}

/// Heap bytes a pair of connections holds whatever it exchanged: the client's entropy source
/// and its batch of mask keys, and small fixed state.
const FIXED: usize = 512;

/// Live bytes held after `payload` went client → server and was delivered, while the next
/// frame (60 KB) has only partly arrived at the server (`arrived` bytes of it) and the client
/// still has 10 KB of it unwritten: neither buffer is empty when the connections come to rest.
fn retained_mid_frame(payload: &[u8], arrived: usize) -> usize {
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
    client.advance_output(more);
    assert_eq!(received, payload.len());
    assert_eq!(client.pending_output_len(), unwritten);
    assert_eq!(server.pending_input_len(), arrived);
    let held = common::counting::live_since(base);
    // After release_buffers: exactly the bytes still pending, in allocations of their size.
    client.release_buffers();
    server.release_buffers();
    let released = common::counting::live_since(base);
    assert!(
        released <= arrived + unwritten + FIXED,
        "{released} bytes held after release_buffers with {arrived} + {unwritten} pending"
    );
    drop((client, server));
    held
}

#[test]
fn retained_bytes_do_not_depend_on_message_size_mid_frame() {
    let keep = 64 * 1024;
    let one_mib = vec![7u8; 1 << 20];
    let ten_mib = vec![7u8; 10 << 20];
    // At most keep / 2 bytes pending in each buffer: each holds at most `keep`.
    let one = retained_mid_frame(&one_mib, 20_000);
    let ten = retained_mid_frame(&ten_mib, 20_000);
    println!("20 KB of a frame buffered, 10 KB unwritten: {one} bytes held after 1 MiB, {ten} after 10 MiB");
    for held in [one, ten] {
        assert!(held <= 2 * keep + FIXED, "{held} bytes held");
    }
    // More than keep / 2 buffered: input holds at most twice max(keep, buffered).
    let one = retained_mid_frame(&one_mib, 50_000);
    let ten = retained_mid_frame(&ten_mib, 50_000);
    println!("50 KB of a frame buffered, 10 KB unwritten: {one} bytes held after 1 MiB, {ten} after 10 MiB");
    for held in [one, ten] {
        assert!(held <= 2 * keep + keep + FIXED, "{held} bytes held");
    }
}
