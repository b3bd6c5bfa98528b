//! sansws against tungstenite and tokio-websockets on the same in-memory input.
//!
//! Decoding: the same client-masked frames, as a server, every message consumed whole.
//! sansws is fed the input in 64 KiB reads, as an event loop reading a socket would (with
//! `buffer_keep` at 128 KiB, as the figures in docs/performance.md were first taken);
//! tungstenite reads it through `Read` from an in-memory cursor; tokio-websockets through
//! `AsyncRead` from an in-memory slice on a current-thread runtime (both read as much as their
//! buffers take). Encoding: client side with masking, each message handed to a transport that
//! takes every byte (see `encode`).
//!
//!     cargo bench --bench compare

use std::hint::black_box;
use std::io::{Cursor, Read, Write};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use futures_util::{SinkExt, StreamExt};
use sansws::{Config, Connection, Event, MessageKind};

const ROWS: &[(&str, MessageKind, usize, usize)] = &[
    ("16B text", MessageKind::Text, 16, 200_000),
    ("1KiB text", MessageKind::Text, 1024, 20_000),
    ("1KiB binary", MessageKind::Binary, 1024, 20_000),
    ("16KiB text", MessageKind::Text, 16 * 1024, 2_000),
    ("64KiB binary", MessageKind::Binary, 64 * 1024, 400),
    ("1MiB binary", MessageKind::Binary, 1 << 20, 32),
];

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
        MessageKind::Text => {
            // Multi-byte characters, cut on a character boundary, padded to the exact size.
            let mut t: String = "sansws text ünïcödé ".chars().cycle().take(size).collect();
            while t.len() > size {
                t.pop();
            }
            while t.len() < size {
                t.push(' ');
            }
            t.into_bytes()
        }
        MessageKind::Binary => (0..size).map(|i| (i * 31 % 251) as u8).collect(),
    }
}

/// What sansws is given per `receive`: a socket-sized read.
const READ: usize = 64 << 10;

fn limits() -> Config {
    Config::default()
        .max_frame_size(64 << 20)
        .max_message_size(64 << 20)
        .buffer_keep(2 * READ)
}

fn masked_wire(kind: MessageKind, data: &[u8], count: usize) -> Vec<u8> {
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let mut client = Connection::client(
        limits(),
        Box::new(move |d: &mut [u8]| {
            for b in d.iter_mut() {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                *b = (x >> 56) as u8;
            }
        }),
    );
    for _ in 0..count {
        client.send(kind, data).unwrap();
    }
    client.pending_output().to_vec()
}

/// An in-memory transport for tungstenite: reads from the input, discards writes.
struct Memory {
    input: Cursor<Vec<u8>>,
    output: Vec<u8>,
}

impl Read for Memory {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.input.read(buf)
    }
}

impl Write for Memory {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.output.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn sansws_decode(wire: &[u8]) -> usize {
    let mut server = Connection::server(limits());
    let mut total = 0;
    for read in wire.chunks(READ) {
        server.receive(read);
        while let Some(ev) = server.next_event() {
            match ev.unwrap() {
                // One &str view per message, as an application reading the text takes.
                Event::Text(t) => total += black_box(t.as_str()).len(),
                Event::Binary(p) => total += black_box(p).len(),
                _ => {}
            }
        }
    }
    total
}

fn tungstenite_decode(wire: &[u8]) -> usize {
    use tungstenite::protocol::{Role, WebSocket, WebSocketConfig};
    let config = WebSocketConfig::default()
        .max_message_size(Some(64 << 20))
        .max_frame_size(Some(64 << 20));
    let mem = Memory {
        input: Cursor::new(wire.to_vec()),
        output: Vec::new(),
    };
    let mut ws = WebSocket::from_raw_socket(mem, Role::Server, Some(config));
    let mut total = 0;
    while let Ok(msg) = ws.read() {
        total += black_box(msg).len();
    }
    total
}

fn tokio_websockets_decode(rt: &tokio::runtime::Runtime, wire: &[u8]) -> usize {
    rt.block_on(async {
        let io = tokio::io::join(wire, tokio::io::sink());
        let mut ws = tokio_websockets::ServerBuilder::new()
            .limits(tokio_websockets::Limits::default().max_payload_len(Some(64 << 20)))
            .serve(io);
        let mut total = 0;
        while let Some(Ok(msg)) = ws.next().await {
            total += black_box(msg).as_payload().len();
        }
        total
    })
}

fn decode(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("compare_decode");
    group.sample_size(10);
    for &(label, kind, size, count) in ROWS {
        let data = payload(kind, size);
        let wire = masked_wire(kind, &data, count);
        // Every library must see every message, once, outside the timed loop.
        assert_eq!(sansws_decode(&wire), size * count);
        assert_eq!(tungstenite_decode(&wire), size * count);
        assert_eq!(tokio_websockets_decode(&rt, &wire), size * count);
        group.throughput(Throughput::Bytes((size * count) as u64));
        group.bench_with_input(BenchmarkId::new("sansws", label), &wire, |b, w| {
            b.iter(|| sansws_decode(w))
        });
        group.bench_with_input(BenchmarkId::new("tungstenite", label), &wire, |b, w| {
            b.iter(|| tungstenite_decode(w))
        });
        group.bench_with_input(
            BenchmarkId::new("tokio-websockets", label),
            &wire,
            |b, w| b.iter(|| tokio_websockets_decode(&rt, w)),
        );
    }
    group.finish();
}

/// A transport that takes every byte written and keeps none (for encoding).
#[derive(Default)]
struct Discard {
    written: usize,
}

impl Write for Discard {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.written += black_box(buf).len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Read for Discard {
    fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
        Ok(0)
    }
}

/// Encoding: each library builds client frames (masked) and hands them to a transport that
/// takes everything, message by message (sansws: `pending_output` / `advance_output`; the
/// peers: write and flush), so every library reuses its own buffers as a real sender would.
fn encode(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("compare_encode");
    group.sample_size(10);
    for &(label, kind, size, count) in ROWS {
        let data = payload(kind, size);
        let text = String::from_utf8(data.clone()).ok();
        group.throughput(Throughput::Bytes((size * count) as u64));
        group.bench_function(BenchmarkId::new("sansws", label), |b| {
            let mut client = Connection::client_with_os_entropy(limits());
            let mut transport = Discard::default();
            b.iter(|| {
                for _ in 0..count {
                    send_one(&mut client, kind, &data, text.as_deref());
                    let n = transport.write(client.pending_output()).unwrap();
                    client.advance_output(n);
                }
                black_box(transport.written)
            })
        });
        group.bench_function(BenchmarkId::new("tungstenite", label), |b| {
            use tungstenite::protocol::{Role, WebSocket};
            use tungstenite::Message;
            let mut ws = WebSocket::from_raw_socket(Discard::default(), Role::Client, None);
            b.iter(|| {
                for _ in 0..count {
                    let m = match &text {
                        Some(t) if kind == MessageKind::Text => Message::text(t.as_str()),
                        _ => Message::binary(data.clone()),
                    };
                    ws.write(m).unwrap();
                    ws.flush().unwrap();
                }
                black_box(ws.get_ref().written)
            })
        });
        group.bench_function(BenchmarkId::new("tokio-websockets", label), |b| {
            let mut ws = tokio_websockets::ClientBuilder::new()
                .take_over(tokio::io::join(tokio::io::empty(), tokio::io::sink()));
            b.iter(|| {
                rt.block_on(async {
                    for _ in 0..count {
                        let m = match &text {
                            Some(t) if kind == MessageKind::Text => {
                                tokio_websockets::Message::text(t.clone())
                            }
                            _ => tokio_websockets::Message::binary(data.clone()),
                        };
                        ws.send(m).await.unwrap();
                    }
                })
            })
        });
    }
    group.finish();
}

criterion_group!(benches, decode, encode);
criterion_main!(benches);
