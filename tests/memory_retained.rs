//! What a connection holds after a message must not depend on the message's size.
//!
//! A counting global allocator measures the live heap bytes of a client and a server (in one
//! process) after each has sent and received a 1 MiB and a 10 MiB message (random bytes, and
//! compressible text), with the output drained and the messages dropped. The bytes still held
//! must be the same for both sizes, and below a documented bound, with compression off, with
//! context takeover, and without it. Run with `--nocapture` to see the table that
//! docs/memory.md reports.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{client_seeded, Rng};
use sansws::extensions::deflate::{DeflateConfig, PerMessageDeflate};
use sansws::extensions::{ExtensionNegotiator, ExtensionOffer};
use sansws::{Config, Connection, Event};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator and only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            LIVE.fetch_add(new_size, Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

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
    let mut client = client_seeded(config.clone(), 1);
    let mut server = Connection::server(config);
    let deflate = match mode {
        Mode::Off => return (client, server),
        Mode::ContextTakeover => DeflateConfig::default(),
        Mode::NoContextTakeover => DeflateConfig::default()
            .server_no_context_takeover(true)
            .client_no_context_takeover(true),
    };
    let client_neg = PerMessageDeflate::new(deflate);
    let server_neg = PerMessageDeflate::new(deflate);
    let offers = client_neg.offers();
    let refs: Vec<&ExtensionOffer> = offers.iter().collect();
    let (answer, server_ext) = server_neg.accept(&refs).unwrap();
    client.set_extension(client_neg.confirm(&answer).unwrap());
    server.set_extension(server_ext);
    (client, server)
}

/// Moves `from`'s output into `to` in 64 KiB reads and returns the one message received.
fn transfer(from: &mut Connection, to: &mut Connection) -> usize {
    let mut received = 0;
    while from.output_len() > 0 {
        let n = from.output_len().min(64 * 1024);
        to.receive(&from.pending_output()[..n]);
        from.advance_output(n);
        while let Some(ev) = to.next_event() {
            match ev.expect("no error") {
                Event::Binary(b) | Event::Text(b) => received += b.len(),
                other => panic!("{other:?}"),
            }
        }
    }
    received
}

/// Live bytes held by a client and a server after one message each way of `payload`.
fn retained(mode: Mode, payload: &[u8], text: bool) -> (usize, usize) {
    let base = LIVE.load(Ordering::SeqCst);
    let (mut client, mut server) = pair(mode);
    let fresh = LIVE.load(Ordering::SeqCst) - base;
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
    let held = LIVE.load(Ordering::SeqCst) - base;
    drop((client, server));
    (fresh, held)
}

/// Heap bytes of miniz_oxide's codec state, measured: (compressor, inflater).
fn codec_sizes() -> (usize, usize) {
    use miniz_oxide::deflate::core::{create_comp_flags_from_zip_params, CompressorOxide};
    use miniz_oxide::inflate::stream::InflateState;
    let base = LIVE.load(Ordering::SeqCst);
    let c = Box::new(CompressorOxide::new(create_comp_flags_from_zip_params(
        1, -15, 0,
    )));
    let compressor = LIVE.load(Ordering::SeqCst) - base;
    drop(c);
    let base = LIVE.load(Ordering::SeqCst);
    let i = InflateState::new_boxed(miniz_oxide::DataFormat::Raw);
    let inflater = LIVE.load(Ordering::SeqCst) - base;
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
    // Bound: the codec state (measured here, not assumed) plus two idle buffers' allowance.
    let keep = 64 * 1024;
    println!(
        "| mode | payload | fresh pair (bytes) | after 1 MiB (bytes) | after 10 MiB (bytes) |"
    );
    println!("|---|---|---|---|---|");
    for mode in [Mode::Off, Mode::ContextTakeover, Mode::NoContextTakeover] {
        for (name, big, text) in [
            ("random", &random_10[..], false),
            ("text", text_10.as_bytes(), true),
        ] {
            let mut small_len = 1 << 20;
            while text && !text_10.is_char_boundary(small_len) {
                small_len -= 1;
            }
            let (fresh, one) = retained(mode, &big[..small_len], text);
            let (_, ten) = retained(mode, big, text);
            println!("| {mode:?} | {name} | {fresh} | {one} | {ten} |");
            assert_eq!(
                one, ten,
                "{mode:?} {name}: held bytes depend on the message size"
            );
            let codec = match mode {
                Mode::ContextTakeover => 2 * (compressor + inflater),
                _ => 0,
            };
            assert!(
                one <= fresh + codec + 4 * keep,
                "{mode:?} {name}: {one} bytes held"
            );
        }
    }
}
