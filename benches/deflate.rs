//! permessage-deflate costs: per-message time for JSON-like messages of 100 B, 1 KiB, 16 KiB
//! and 64 KiB, compressing (server sends) and decompressing (server receives), with context
//! takeover and without; and miniz_oxide called directly on the same data (level 1, sync
//! flush) as the baseline for the framing overhead.
//!
//!     cargo bench --bench deflate

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use miniz_oxide::deflate::core::{
    compress_to_output, create_comp_flags_from_zip_params, CompressorOxide, TDEFLFlush,
};
use sansws::extensions::deflate::{DeflateConfig, PerMessageDeflate};
use sansws::extensions::{ExtensionNegotiator, ExtensionOffer};
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

fn pair(no_context_takeover: bool) -> (Connection, Connection) {
    let cfg = DeflateConfig::default()
        .server_no_context_takeover(no_context_takeover)
        .client_no_context_takeover(no_context_takeover);
    let client_neg = PerMessageDeflate::new(cfg);
    let offers = client_neg.offers();
    let refs: Vec<&ExtensionOffer> = offers.iter().collect();
    let (answer, server_ext) = PerMessageDeflate::new(cfg).accept(&refs).unwrap();
    let mut client = Connection::client(Config::default(), Box::new(|b: &mut [u8]| b.fill(0x3c)));
    client.set_extension(client_neg.confirm(&answer).unwrap());
    let mut server = Connection::server(Config::default());
    server.set_extension(server_ext);
    (client, server)
}

const SIZES: &[usize] = &[100, 1024, 16 * 1024, 64 * 1024];
const BATCH: usize = 64;

fn compress(c: &mut Criterion) {
    let mut group = c.benchmark_group("deflate_send");
    group.sample_size(10);
    for &size in SIZES {
        let msgs: Vec<Vec<u8>> = (0..BATCH).map(|i| json(size, i * 13)).collect();
        group.throughput(Throughput::Elements(BATCH as u64));
        for (label, nct) in [("context_takeover", false), ("no_context_takeover", true)] {
            group.bench_function(BenchmarkId::new(label, size), |b| {
                let (_, mut server) = pair(nct);
                b.iter(|| {
                    for m in &msgs {
                        server.send_binary(m).unwrap();
                    }
                    let n = server.output_len();
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
        group.throughput(Throughput::Elements(BATCH as u64));
        for (label, nct) in [("context_takeover", false), ("no_context_takeover", true)] {
            let (mut client, _) = pair(nct);
            for m in &msgs {
                client.send_binary(m).unwrap();
            }
            let wire = client.take_output();
            group.bench_function(BenchmarkId::new(label, size), |b| {
                b.iter(|| {
                    let (_, mut server) = pair(nct);
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
    }
    group.finish();
}

criterion_group!(benches, compress, decompress);
criterion_main!(benches);
