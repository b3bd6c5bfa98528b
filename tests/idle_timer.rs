//! The idle timer (`Config::idle_timeout`) on the test's clock: it runs only after traffic
//! (a connection that gave everything back asks for no wake-up), keeps its deadline while
//! traffic goes on (one new deadline per period, not per message), and once traffic stops
//! for the whole timeout it gives the buffers back and hibernates the extension, once. What
//! that leaves in memory is measured in tests/memory_retained.rs.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use common::{client_seeded, drain, feed_chunked, run_clock};
use sansws::extensions::{Decoded, Extension, ExtensionError};
use sansws::handshake::Negotiated;
use sansws::{Config, Connection, Event, MessageKind};

/// An extension that transforms nothing and counts how often it was told to hibernate.
struct Counted(Arc<AtomicUsize>);

impl Extension for Counted {
    fn name(&self) -> &str {
        "counted"
    }
    fn rsv_bits(&self) -> u8 {
        0
    }
    fn encode_start(&mut self, _: MessageKind, _: Option<usize>) -> u8 {
        0
    }
    fn encode(&mut self, _: &[u8], _: bool, _: &mut BytesMut) -> Result<(), ExtensionError> {
        unreachable!("encode_start transforms nothing")
    }
    fn decode_start(&mut self, _: u8) -> Result<bool, ExtensionError> {
        Ok(false)
    }
    fn decode(
        &mut self,
        _: &[u8],
        _: bool,
        _: &mut BytesMut,
        _: usize,
    ) -> Result<Decoded, ExtensionError> {
        unreachable!("decode_start transforms nothing")
    }
    fn hibernate(&mut self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// A server with the counting extension, and its hibernation count.
fn server(config: Config) -> (Connection, Arc<AtomicUsize>) {
    let count = Arc::new(AtomicUsize::new(0));
    let negotiated = Negotiated {
        subprotocol: None,
        extension: Some(Box::new(Counted(count.clone()))),
    };
    (
        Connection::server(config).after_handshake(negotiated, &[]),
        count,
    )
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// One message from `client` into `server`, echoed back and written out.
fn echo(client: &mut Connection, server: &mut Connection) {
    client.send_binary(&[5u8; 3000]).unwrap();
    let wire = drain(client);
    for event in feed_chunked(server, &wire, &[wire.len()]) {
        let Ok(Event::Binary(data)) = event else {
            panic!("{event:?}")
        };
        server.send_binary(&data).unwrap();
    }
    drain(server);
}

#[test]
fn only_traffic_arms_the_idle_timer() {
    let (mut server, hibernated) = server(Config::default());
    let mut client = client_seeded(Config::default(), 1);
    assert_eq!(
        server.poll_timeout(ms(0)),
        None,
        "a new connection holds nothing"
    );
    echo(&mut client, &mut server);
    assert_eq!(server.poll_timeout(ms(500)), Some(ms(1500)));
    assert_eq!(run_clock(&mut server, ms(500), ms(10_000)), None);
    assert_eq!(hibernated.load(Ordering::Relaxed), 1, "hibernated once");
    // Quiet: no more wake-ups, however long it stays quiet.
    assert_eq!(server.poll_timeout(ms(1_000_000)), None);
    // Traffic again: armed again, from then.
    echo(&mut client, &mut server);
    assert_eq!(server.poll_timeout(ms(2_000_000)), Some(ms(2_001_000)));
}

#[test]
fn busy_periods_keep_one_deadline_each_and_idle_comes_after_the_last_traffic() {
    let (mut server, hibernated) = server(Config::default());
    let mut client = client_seeded(Config::default(), 2);
    let mut deadlines = Vec::new();
    // A message every 100 ms for 3 s.
    let mut now = ms(0);
    while now <= ms(3000) {
        echo(&mut client, &mut server);
        if let Some(d) = run_clock(&mut server, now, now + ms(100)) {
            if deadlines.last() != Some(&d) {
                deadlines.push(d);
            }
        }
        now += ms(100);
    }
    assert_eq!(hibernated.load(Ordering::Relaxed), 0, "never while busy");
    // Each period's deadline stands until it comes, then moves a whole period on.
    assert!(deadlines.len() <= 4, "{deadlines:?}");
    assert!(
        deadlines.windows(2).all(|w| w[1] >= w[0] + ms(900)),
        "{deadlines:?}"
    );
    // Traffic stopped at 3 s (the last poll that saw it, 3.0 s): idle at 4.0 s, not before.
    run_clock(&mut server, now, ms(3999));
    assert_eq!(hibernated.load(Ordering::Relaxed), 0);
    run_clock(&mut server, ms(3999), ms(4000));
    assert_eq!(hibernated.load(Ordering::Relaxed), 1);
}

#[test]
fn no_idle_timeout_no_timer() {
    let (mut server, hibernated) = server(Config::default().idle_timeout(None));
    let mut client = client_seeded(Config::default(), 3);
    echo(&mut client, &mut server);
    assert_eq!(server.poll_timeout(ms(0)), None);
    server.handle_timeout(ms(1_000_000));
    assert_eq!(hibernated.load(Ordering::Relaxed), 0);
}

#[test]
fn a_host_that_hibernates_itself_gets_no_idle_wake_up() {
    let (mut server, hibernated) = server(Config::default());
    let mut client = client_seeded(Config::default(), 4);
    echo(&mut client, &mut server);
    server.hibernate();
    assert_eq!(hibernated.load(Ordering::Relaxed), 1);
    assert_eq!(
        server.poll_timeout(ms(0)),
        None,
        "nothing left to give back"
    );
}

#[test]
fn pending_bytes_survive_the_idle_timer() {
    // Half a message in, unwritten output out: both kept through the timer, and the message
    // completes afterwards.
    let (mut server, _) = server(Config::default());
    let mut client = client_seeded(Config::default(), 5);
    client.send_binary(&[9u8; 10_000]).unwrap();
    let wire = drain(&mut client);
    server.receive(&wire[..4000]);
    assert_eq!(server.next_event(), None);
    server.send_text("unwritten").unwrap();
    run_clock(&mut server, ms(0), ms(5000));
    assert_eq!(server.pending_input_len(), 4000 - 8);
    assert_eq!(&server.pending_output()[2..], b"unwritten");
    server.receive(&wire[4000..]);
    assert!(matches!(server.next_event(), Some(Ok(Event::Binary(b))) if b[..] == [9u8; 10_000]));
}
