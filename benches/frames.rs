//! Frame codec throughput: server-side decoding of client-masked frames (whole messages as
//! events, input fed in 64 KiB reads), client-side encoding with masking (bytes/s and
//! messages/s), and unmasking alone.
//!
//!     cargo bench --bench frames

extern crate alloc; // for mask.rs, written for the no_std crate

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use sansws::{Config, Connection, Event, MessageKind};
use std::hint::black_box;

/// The crate's unmasking loop, which is crate-private: compiled into the bench from its
/// source file as it is (it depends on nothing), so it is measured alone without becoming
/// public API.
#[allow(dead_code, unused_imports)]
#[path = "../src/frame/mask.rs"]
mod mask;
use mask::apply_mask;

fn masked_client() -> Connection {
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    Connection::client(
        Config::default()
            .max_frame_size(64 << 20)
            .max_message_size(64 << 20),
        Box::new(move |dest: &mut [u8]| {
            for b in dest.iter_mut() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *b = x as u8;
            }
        }),
    )
}

/// Sends a message the way an application holding it would: text as a `&str` (typed, so not
/// validated again, as the peers' text messages are `String`s), binary as bytes. `text` is
/// `data` as a string, converted once outside the timed loop.
fn send_one(conn: &mut Connection, kind: MessageKind, data: &[u8], text: Option<&str>) {
    match (kind, text) {
        (MessageKind::Text, Some(text)) => conn.send_text(text).unwrap(),
        _ => conn.send(kind, data).unwrap(),
    }
}

fn payload(kind: MessageKind, size: usize) -> Vec<u8> {
    match kind {
        MessageKind::Text => "sansws ünïcode text "
            .bytes()
            .cycle()
            .take(size)
            .collect::<Vec<u8>>(),
        MessageKind::Binary => (0..size).map(|i| (i * 31 % 251) as u8).collect(),
    }
}

/// (label, kind, size, count): about 16 MiB of payload per iteration at most.
const ROWS: &[(&str, MessageKind, usize, usize)] = &[
    ("16B text", MessageKind::Text, 16, 100_000),
    ("16B binary", MessageKind::Binary, 16, 100_000),
    ("1KiB text", MessageKind::Text, 1024, 10_000),
    ("1KiB binary", MessageKind::Binary, 1024, 10_000),
    ("16KiB text", MessageKind::Text, 16 * 1024, 1_000),
    ("64KiB text", MessageKind::Text, 64 * 1024, 200),
    ("64KiB binary", MessageKind::Binary, 64 * 1024, 200),
    ("1MiB text", MessageKind::Text, 1 << 20, 16),
    ("1MiB binary", MessageKind::Binary, 1 << 20, 16),
];

/// What the server is given per `receive`: a socket-sized read.
const READ: usize = 64 << 10;

fn server() -> Connection {
    Connection::server(
        Config::default()
            .max_frame_size(64 << 20)
            .max_message_size(64 << 20),
    )
}

fn decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode_server");
    group.sample_size(10);
    for &(label, kind, size, count) in ROWS {
        let data = payload(kind, size);
        let text = String::from_utf8(data.clone()).ok();
        let mut client = masked_client();
        for _ in 0..count {
            send_one(&mut client, kind, &data, text.as_deref());
        }
        let wire = client.pending_output().to_vec();
        client.advance_output(wire.len());
        group.throughput(Throughput::Bytes((size * count) as u64));
        group.bench_with_input(BenchmarkId::new("bytes", label), &wire, |b, wire| {
            b.iter(|| {
                let mut server = server();
                let mut total = 0usize;
                for read in wire.chunks(READ) {
                    server.receive(read);
                    while let Some(ev) = server.next_event() {
                        match ev.unwrap() {
                            Event::Text(t) => total += t.len(),
                            Event::Binary(p) => total += p.len(),
                            _ => {}
                        }
                    }
                }
                assert_eq!(total, size * count);
                black_box(total)
            })
        });
        group.throughput(Throughput::Elements(count as u64));
        group.bench_with_input(BenchmarkId::new("messages", label), &wire, |b, wire| {
            b.iter(|| {
                let mut server = server();
                let mut n = 0usize;
                for read in wire.chunks(READ) {
                    server.receive(read);
                    while let Some(ev) = server.next_event() {
                        black_box(&ev);
                        n += 1;
                    }
                }
                assert_eq!(n, count);
            })
        });
    }
    group.finish();
}

fn encode(c: &mut Criterion) {
    let mut group = c.benchmark_group("encode_client");
    group.sample_size(10);
    for &(label, kind, size, count) in ROWS {
        let data = payload(kind, size);
        let text = String::from_utf8(data.clone()).ok();
        // The same loop, reported in messages/s and in bytes/s.
        for (unit, throughput) in [
            ("messages", Throughput::Elements(count as u64)),
            ("bytes", Throughput::Bytes((size * count) as u64)),
        ] {
            group.throughput(throughput);
            group.bench_function(BenchmarkId::new(unit, label), |b| {
                let mut client = masked_client();
                b.iter(|| {
                    for _ in 0..count {
                        send_one(&mut client, kind, &data, text.as_deref());
                    }
                    let n = client.pending_output_len();
                    black_box(client.pending_output());
                    client.advance_output(n);
                })
            });
        }
    }
    group.finish();
}

fn unmask(c: &mut Criterion) {
    let mut group = c.benchmark_group("unmask");
    for size in [16usize, 1024, 64 * 1024, 1 << 20] {
        let mut buf = vec![0x5au8; size];
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_function(BenchmarkId::from_parameter(size), |b| {
            b.iter(|| apply_mask(black_box(&mut buf), [1, 2, 3, 4], 1))
        });
    }
    group.finish();
}

criterion_group!(benches, decode, encode, unmask);
criterion_main!(benches);
