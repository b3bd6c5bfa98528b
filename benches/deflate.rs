//! permessage-deflate costs.
//!
//! - `deflate_send` / `deflate_receive`: 64 JSON-like messages of 100 B, 1 KiB, 16 KiB and
//!   64 KiB per iteration, compressed (a server sends) and decompressed (a server receives),
//!   with context takeover and without. Throughput is in MB/s of message bytes; the
//!   per-message time is the iteration time / 64. `miniz_direct` is miniz_oxide called on the
//!   same data (level 1, a sync flush per message, no framing): the baseline for the framing
//!   overhead. Receiving feeds pre-built wire bytes to one long-lived connection, so building
//!   connections is outside the timed loop (the same bytes can be fed again and again: the
//!   compressor started afresh, so they never refer to anything before their first byte).
//! - `deflate_window`: one 1 MiB JSON-like message sent under each window size (8–11 bits:
//!   run-length matches only; 12–14: a full flush every 2^N input bytes; 15: neither), and
//!   miniz_oxide alone on the same 1 MiB in steps of 4 KiB down to 256 bytes, each step ended
//!   by a sync flush or a full flush: what ending a block costs, and what a full flush (which
//!   clears the hash tables) adds to it.
//!
//! - `deflate_wake`: the first 1 KiB message after `Connection::hibernate` (receiving: the
//!   inflater rebuilt from the window kept as it is or deflated; sending: a fresh compressor,
//!   primed with the kept history or not) against an ordinary one, at 15 bits with a full
//!   window; and what `hibernate` itself costs. Only the message (or the hibernation) is
//!   timed.
//!
//! ```text
//! cargo bench --bench deflate
//! cargo bench --bench deflate -- deflate_window
//! ```

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use miniz_oxide::deflate::core::{
    compress_to_output, create_comp_flags_from_zip_params, CompressorOxide, TDEFLFlush,
};
use miniz_oxide::inflate::stream::{inflate, InflateState};
use miniz_oxide::{DataFormat, MZFlush};
use sansws::extensions::deflate::{DeflateConfig, PerMessageDeflate};
use sansws::extensions::{ExtensionNegotiator, ExtensionOffer};
use sansws::handshake::Negotiated;
use sansws::{Config, Connection, Event};
use std::hint::black_box;

fn json(size: usize, seed: usize) -> Vec<u8> {
    let mut s = String::new();
    let mut i = seed;
    while s.len() < size {
        s.push_str(&format!(
            "{{\"id\":{i},\"user\":\"user{}\",\"score\":{},\"tags\":[\"a\",\"b\"]}},",
            i % 97,
            i * 7 % 1000
        ));
        i += 1;
    }
    s.truncate(size);
    s.into_bytes()
}

/// A client and a server with permessage-deflate negotiated from `client_cfg` (what the
/// client asks for) and `server_cfg`.
fn negotiated(client_cfg: DeflateConfig, server_cfg: DeflateConfig) -> (Connection, Connection) {
    let client_neg = PerMessageDeflate::new(client_cfg);
    let offers = client_neg.offers();
    let refs: Vec<&ExtensionOffer> = offers.iter().collect();
    let (answer, server_ext) = PerMessageDeflate::new(server_cfg).accept(&refs).unwrap();
    let config = Config::default().max_message_size(4 << 20);
    let installed = |extension| Negotiated {
        subprotocol: None,
        extension: Some(extension),
    };
    let client = Connection::client(config.clone(), Box::new(|b: &mut [u8]| b.fill(0x3c)))
        .after_handshake(installed(client_neg.confirm(&answer).unwrap()), &[]);
    let server = Connection::server(config).after_handshake(installed(server_ext), &[]);
    (client, server)
}

fn pair(no_context_takeover: bool) -> (Connection, Connection) {
    let cfg = DeflateConfig::default()
        .server_no_context_takeover(no_context_takeover)
        .client_no_context_takeover(no_context_takeover);
    negotiated(cfg, cfg)
}

const SIZES: &[usize] = &[100, 1024, 16 * 1024, 64 * 1024];
const BATCH: usize = 64;

fn compress(c: &mut Criterion) {
    let mut group = c.benchmark_group("deflate_send");
    group.sample_size(10);
    for &size in SIZES {
        let msgs: Vec<Vec<u8>> = (0..BATCH).map(|i| json(size, i * 13)).collect();
        group.throughput(Throughput::BytesDecimal((size * BATCH) as u64));
        for (label, nct) in [("context_takeover", false), ("no_context_takeover", true)] {
            group.bench_function(BenchmarkId::new(label, size), |b| {
                let (_, mut server) = pair(nct);
                b.iter(|| {
                    for m in &msgs {
                        server.send_binary(m).unwrap();
                    }
                    let n = server.pending_output_len();
                    black_box(server.pending_output());
                    server.advance_output(n);
                })
            });
        }
        group.bench_function(BenchmarkId::new("miniz_direct", size), |b| {
            let mut c = Box::new(CompressorOxide::new(create_comp_flags_from_zip_params(
                1, -15, 0,
            )));
            let mut out = Vec::with_capacity(size * 2);
            b.iter(|| {
                for m in &msgs {
                    out.clear();
                    compress_to_output(&mut c, m, TDEFLFlush::Sync, |b| {
                        out.extend_from_slice(b);
                        true
                    });
                    black_box(&out);
                }
            })
        });
    }
    group.finish();
}

fn decompress(c: &mut Criterion) {
    let mut group = c.benchmark_group("deflate_receive");
    group.sample_size(10);
    for &size in SIZES {
        let msgs: Vec<Vec<u8>> = (0..BATCH).map(|i| json(size, i * 13)).collect();
        group.throughput(Throughput::BytesDecimal((size * BATCH) as u64));
        for (label, nct) in [("context_takeover", false), ("no_context_takeover", true)] {
            let (mut client, mut server) = pair(nct);
            for m in &msgs {
                client.send_binary(m).unwrap();
            }
            let wire = client.pending_output().to_vec();
            client.advance_output(wire.len());
            group.bench_function(BenchmarkId::new(label, size), |b| {
                b.iter(|| {
                    server.receive(&wire);
                    let mut n = 0;
                    while let Some(ev) = server.next_event() {
                        if let Event::Binary(p) = ev.unwrap() {
                            n += p.len();
                        }
                    }
                    assert_eq!(n, size * BATCH);
                })
            });
        }
        // The same messages as raw deflate, each with its 00 00 ff ff, inflated by
        // miniz_oxide alone into a reused buffer.
        let mut c = Box::new(CompressorOxide::new(create_comp_flags_from_zip_params(
            1, -15, 0,
        )));
        let compressed: Vec<Vec<u8>> = msgs
            .iter()
            .map(|m| {
                let mut out = Vec::new();
                compress_to_output(&mut c, m, TDEFLFlush::Sync, |b| {
                    out.extend_from_slice(b);
                    true
                });
                out
            })
            .collect();
        group.bench_function(BenchmarkId::new("miniz_direct", size), |b| {
            let mut state = InflateState::new_boxed(DataFormat::Raw);
            let mut out = vec![0u8; size + 1024];
            b.iter(|| {
                state.reset(DataFormat::Raw);
                for m in &compressed {
                    let r = inflate(&mut state, m, &mut out, MZFlush::None);
                    assert_eq!((r.bytes_consumed, r.bytes_written), (m.len(), size));
                    black_box(&out);
                }
            })
        });
    }
    group.finish();
}

fn window(c: &mut Criterion) {
    let mut group = c.benchmark_group("deflate_window");
    group.sample_size(10);
    let text = json(1 << 20, 0);
    group.throughput(Throughput::BytesDecimal(text.len() as u64));
    for bits in [9u8, 11, 12, 13, 14, 15] {
        group.bench_function(BenchmarkId::new("send_1MiB", bits), |b| {
            let (_, mut server) = negotiated(
                DeflateConfig::default().server_max_window_bits(bits),
                DeflateConfig::default(),
            );
            b.iter(|| {
                server.send_binary(&text).unwrap();
                let n = server.pending_output_len();
                black_box(server.pending_output());
                server.advance_output(n);
            })
        });
    }
    // miniz_oxide alone, level 1, the 1 MiB in steps of `step` bytes, each ended by a sync
    // or a full flush: what ending a block costs, and what a full flush adds to it.
    let steps: [(&str, TDEFLFlush, usize); 6] = [
        ("miniz_sync_every", TDEFLFlush::Sync, 4096),
        ("miniz_full_every", TDEFLFlush::Full, 4096),
        ("miniz_full_every", TDEFLFlush::Full, 2048),
        ("miniz_full_every", TDEFLFlush::Full, 1024),
        ("miniz_full_every", TDEFLFlush::Full, 512),
        ("miniz_full_every", TDEFLFlush::Full, 256),
    ];
    for (label, flush, step) in steps {
        group.bench_function(BenchmarkId::new(label, step), |b| {
            let mut c = Box::new(CompressorOxide::new(create_comp_flags_from_zip_params(
                1, -15, 0,
            )));
            let mut out = Vec::with_capacity(text.len());
            b.iter(|| {
                out.clear();
                for piece in text.chunks(step) {
                    compress_to_output(&mut c, piece, flush, |b| {
                        out.extend_from_slice(b);
                        true
                    });
                }
                black_box(&out);
            })
        });
    }
    group.finish();
}

/// All of `conn`'s pending output, taken.
fn take(conn: &mut Connection) -> Vec<u8> {
    let out = conn.pending_output().to_vec();
    conn.advance_output(out.len());
    out
}

/// Waking from hibernation: the first 1 KiB message after `Connection::hibernate` against an
/// ordinary one, at 15 bits, after 20 messages of 2 KiB filled the window. Only the message
/// is timed (`iter_custom`): the hibernation before it is not, and has rows of its own.
fn wake(c: &mut Criterion) {
    use std::time::{Duration, Instant};
    let mut group = c.benchmark_group("deflate_wake");
    group.sample_size(10);
    let history: Vec<Vec<u8>> = (0..20).map(|i| json(2048, i * 37)).collect();
    let msg = json(1024, 20 * 37);
    // A client and a server that exchanged the 20 messages each way.
    let warmed = |server_cfg: DeflateConfig| {
        let (mut client, mut server) = negotiated(DeflateConfig::default(), server_cfg);
        for m in &history {
            client.send_binary(m).unwrap();
            server.receive(&take(&mut client));
            while server.next_event().is_some() {}
            server.send_binary(m).unwrap();
            client.receive(&take(&mut server));
            while client.next_event().is_some() {}
        }
        (client, server)
    };
    let receive_rows = [
        ("receive_ordinary", false, false),
        ("receive_after_hibernate_window_as_is", true, false),
        ("receive_after_hibernate_window_deflated", true, true),
    ];
    for (label, hibernate, deflated) in receive_rows {
        let (mut client, mut server) =
            warmed(DeflateConfig::default().compress_idle_window(deflated));
        // A message from a fresh compressor refers to nothing before it, so the same bytes
        // can be received again and again.
        let (mut fresh, _) = negotiated(DeflateConfig::default(), DeflateConfig::default());
        fresh.send_binary(&msg).unwrap();
        let wire = take(&mut fresh);
        drop(take(&mut client));
        group.bench_function(label, |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    if hibernate {
                        server.hibernate();
                    }
                    let t = Instant::now();
                    server.receive(&wire);
                    let ev = server.next_event();
                    total += t.elapsed();
                    assert!(matches!(ev, Some(Ok(Event::Binary(ref p))) if p.len() == msg.len()));
                }
                total
            })
        });
    }
    let send_rows = [
        ("send_ordinary", false, false),
        ("send_after_hibernate_history_dropped", true, false),
        ("send_after_hibernate_history_kept", true, true),
    ];
    for (label, hibernate, keep) in send_rows {
        let (_, mut server) = warmed(DeflateConfig::default().keep_send_history(keep));
        group.bench_function(label, |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    if hibernate {
                        server.hibernate();
                    }
                    let t = Instant::now();
                    server.send_binary(&msg).unwrap();
                    total += t.elapsed();
                    let n = server.pending_output_len();
                    black_box(server.pending_output());
                    server.advance_output(n);
                }
                total
            })
        });
    }
    // What hibernate() itself costs, right after a message woke the codec.
    for (label, deflated) in [
        ("hibernate_window_as_is", false),
        ("hibernate_window_deflated", true),
    ] {
        let (mut client, mut server) =
            warmed(DeflateConfig::default().compress_idle_window(deflated));
        let (mut fresh, _) = negotiated(DeflateConfig::default(), DeflateConfig::default());
        fresh.send_binary(&msg).unwrap();
        let wire = take(&mut fresh);
        drop(take(&mut client));
        group.bench_function(label, |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    server.receive(&wire);
                    black_box(server.next_event());
                    let t = Instant::now();
                    server.hibernate();
                    total += t.elapsed();
                }
                total
            })
        });
    }
    group.finish();
}

criterion_group!(benches, compress, decompress, window, wake);
criterion_main!(benches);
