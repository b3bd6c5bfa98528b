//! Broadcast: one 1 MiB binary message to 1,000 server connections, queued on all of them
//! (every receiver slow: nothing written yet), then written out to a sink that copies each
//! byte into one reused 256 KiB buffer (as a socket write copies into the kernel).
//! Peak heap (a counting allocator) and time, for:
//!
//! - sansws `PreparedMessage` (`send_prepared`: the payload queued by reference);
//! - sansws `send_binary(&[u8])` (the payload copied into each connection);
//! - tungstenite, `write` of `Message::Binary` on each connection, then `flush` each.
//!
//! Prints the figures of several runs and their medians; asserts nothing about time.
//! `cargo bench --bench broadcast`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::io::{Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

use sansws::bytes::Bytes;
use sansws::{Config, Connection, PreparedMessage};

struct Peak;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator and only counts.
unsafe impl GlobalAlloc for Peak {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let live = LIVE.fetch_add(layout.size(), Relaxed) + layout.size();
            PEAK.fetch_max(live, Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_sub(layout.size(), Relaxed);
            let live = LIVE.fetch_add(new_size, Relaxed) + new_size;
            PEAK.fetch_max(live, Relaxed);
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Peak = Peak;

const CONNECTIONS: usize = 1_000;
const SIZE: usize = 1 << 20;
const RUNS: usize = 3;

/// A transport that takes every byte and keeps none, copying each into a fixed 256 KiB
/// buffer as a socket write copies into the kernel, so that every case pays for reading the
/// bytes it writes.
#[derive(Default)]
struct Discard {
    written: usize,
}

thread_local! {
    static SOCKET_BUFFER: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0; 256 << 10]);
}

impl Read for Discard {
    fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
        Err(std::io::ErrorKind::WouldBlock.into())
    }
}

impl Write for Discard {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        SOCKET_BUFFER.with_borrow_mut(|socket| {
            for piece in buf.chunks(socket.len()) {
                socket[..piece.len()].copy_from_slice(piece);
                black_box(&socket[..]);
            }
        });
        self.written += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Peak heap above the live bytes at the start, and the time, of `f`.
fn measure(f: impl FnOnce() -> usize) -> (usize, Duration) {
    let base = LIVE.load(Relaxed);
    PEAK.store(base, Relaxed);
    let start = Instant::now();
    let written = f();
    let elapsed = start.elapsed();
    assert!(written >= CONNECTIONS * SIZE);
    (PEAK.load(Relaxed) - base, elapsed)
}

/// Writes every connection's output to a sink, vectored, 256 KiB per write at most.
fn write_all(conns: &mut [Connection]) -> usize {
    let mut sink = Discard::default();
    for conn in conns.iter_mut() {
        while conn.pending_output_len() > 0 {
            let mut chunks: [&[u8]; 8] = [&[]; 8];
            let n = conn.output_chunks(&mut chunks);
            let mut budget = 256 << 10;
            for chunk in &chunks[..n] {
                let m = chunk.len().min(budget);
                sink.write_all(&chunk[..m]).unwrap();
                budget -= m;
            }
            conn.advance_output((256 << 10) - budget);
        }
    }
    sink.written
}

fn servers() -> Vec<Connection> {
    (0..CONNECTIONS)
        .map(|_| Connection::server(Config::default()))
        .collect()
}

fn sansws_prepared(payload: &Bytes) -> (usize, Duration) {
    let mut conns = servers();
    let r = measure(|| {
        let message = PreparedMessage::binary(payload.clone());
        for conn in &mut conns {
            conn.send_prepared(&message).unwrap();
        }
        write_all(&mut conns)
    });
    drop(conns);
    r
}

fn sansws_copying(payload: &Bytes) -> (usize, Duration) {
    let mut conns = servers();
    let r = measure(|| {
        for conn in &mut conns {
            conn.send_binary(payload).unwrap();
        }
        write_all(&mut conns)
    });
    drop(conns);
    r
}

fn tungstenite(payload: &Bytes) -> (usize, Duration) {
    use tungstenite::protocol::{Role, WebSocket};
    use tungstenite::Message;
    let mut conns: Vec<_> = (0..CONNECTIONS)
        .map(|_| WebSocket::from_raw_socket(Discard::default(), Role::Server, None))
        .collect();
    let r = measure(|| {
        for ws in &mut conns {
            ws.write(Message::Binary(payload.clone())).unwrap();
        }
        let mut written = 0;
        for ws in &mut conns {
            ws.flush().unwrap();
            written += ws.get_ref().written;
        }
        written
    });
    drop(conns);
    r
}

fn median<T: Copy + Ord>(mut v: Vec<T>) -> T {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let payload = Bytes::from(vec![0x5a; SIZE]);
    type Case = fn(&Bytes) -> (usize, Duration);
    let cases: [(&str, Case); 3] = [
        ("sansws send_prepared", sansws_prepared),
        ("sansws send_binary (copy)", sansws_copying),
        ("tungstenite write+flush", tungstenite),
    ];
    println!(
        "broadcast of {} KiB to {CONNECTIONS} connections, {RUNS} runs (interleaved)",
        SIZE >> 10
    );
    let mut results: Vec<(Vec<usize>, Vec<Duration>)> = vec![(vec![], vec![]); cases.len()];
    for run in 0..RUNS {
        for (i, (name, case)) in cases.iter().enumerate() {
            let (peak, time) = case(&payload);
            println!(
                "  run {run}: {name:<28} peak heap {:>9.1} MiB  time {:>8.1} ms",
                peak as f64 / (1 << 20) as f64,
                time.as_secs_f64() * 1e3
            );
            results[i].0.push(peak);
            results[i].1.push(time);
        }
    }
    println!("medians:");
    let base_time = median(results[0].1.clone());
    for ((name, _), (peaks, times)) in cases.iter().zip(results) {
        let t = median(times);
        println!(
            "  {name:<28} peak heap {:>9.1} MiB  time {:>8.1} ms  ({:.2}x the time of send_prepared)",
            median(peaks) as f64 / (1 << 20) as f64,
            t.as_secs_f64() * 1e3,
            t.as_secs_f64() / base_time.as_secs_f64()
        );
    }
}
