//! Entropy sources: a client's mask keys come from its source, fresh for every frame and
//! drawn in batches (one call per 64 frames), and the operating system's source gives keys
//! nobody can predict: different per frame and per connection.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::decoded_frames;
use sansws::entropy::{Entropy, OsEntropy};
use sansws::{Config, Connection};

/// The mask keys of every frame `conn` has queued, after checking each payload unmasks to
/// what was sent.
fn keys_of(conn: &mut Connection, sent: &[u8]) -> Vec<[u8; 4]> {
    let wire = conn.pending_output().to_vec();
    conn.advance_output(wire.len());
    decoded_frames(&wire)
        .into_iter()
        .map(|(h, payload)| {
            assert_eq!(payload, sent);
            h.mask.expect("a client masks every frame")
        })
        .collect()
}

#[test]
fn os_entropy_keys_differ_per_frame_and_per_connection() {
    let mut a = Connection::client_with_os_entropy(Config::default());
    let mut b = Connection::client(Config::default(), Box::new(OsEntropy::new()));
    for conn in [&mut a, &mut b] {
        conn.send_binary(b"payload").unwrap();
        conn.send_binary(b"payload").unwrap();
    }
    let (ka, kb) = (keys_of(&mut a, b"payload"), keys_of(&mut b, b"payload"));
    // Two equal 32-bit keys from a good source: probability 2^-32 per pair.
    assert_ne!(ka[0], ka[1]);
    assert_ne!(ka[0], kb[0]);
    assert_ne!(kb[0], kb[1]);
}

#[test]
fn os_entropy_fills_whatever_length_is_asked() {
    let mut source = OsEntropy::default().clone();
    for len in [1usize, 16, 256, 1000] {
        let (mut x, mut y) = (vec![0u8; len], vec![0u8; len]);
        source.fill(&mut x);
        source.fill(&mut y);
        if len >= 16 {
            // 128 bits or more repeating, or all zero: probability 2^-128 or less.
            assert_ne!(x, y);
            assert!(x.iter().any(|&b| b != 0));
        }
    }
}

#[test]
fn a_closure_is_a_source_and_is_called_once_per_64_frames() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let mut next = 0u8;
    let source = move |dest: &mut [u8]| {
        counter.fetch_add(1, Ordering::Relaxed);
        for b in dest.iter_mut() {
            *b = next;
            next = next.wrapping_add(1);
        }
    };
    let mut client = Connection::client(Config::default(), Box::new(source));
    assert_eq!(
        calls.load(Ordering::Relaxed),
        0,
        "nothing drawn before a frame"
    );
    for _ in 0..65 {
        client.send_binary(b"x").unwrap();
    }
    let keys = keys_of(&mut client, b"x");
    assert_eq!(keys.len(), 65);
    // Consecutive bytes of the source, four per frame, in order.
    assert_eq!(keys[0], [0, 1, 2, 3]);
    assert_eq!(keys[1], [4, 5, 6, 7]);
    assert_eq!(keys[63], [252, 253, 254, 255]);
    assert_eq!(calls.load(Ordering::Relaxed), 2, "64 frames per call");
}
