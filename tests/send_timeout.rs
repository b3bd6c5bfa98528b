//! The send-progress deadline (`Config::send_timeout`): output pending and not taken by the
//! transport for that long fails the connection with `Error::SendTimeout`, queues no close
//! frame (a peer that does not read would never see it), discards the stale output and makes
//! `transport()` say `Close`; a slow reader that keeps taking bytes is never cut. Times are fed
//! by the test (`poll_timeout` / `handle_timeout`), never slept.

mod common;

use std::time::Duration;

use common::{client_seeded, drain, feed_chunked, run_clock};
use sansws::{CloseCode, Config, Connection, Error, Event, State, Transport};

const TIMEOUT: Duration = Duration::from_secs(30);

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

#[test]
fn the_default_is_thirty_seconds() {
    let mut server = Connection::server(Config::default().idle_timeout(None));
    server.send_binary(&[1u8; 1000]).unwrap();
    assert_eq!(server.poll_timeout(secs(100)), Some(secs(100) + TIMEOUT));
}

#[test]
fn output_that_is_never_taken_fails_the_connection_and_is_discarded() {
    let mut server = Connection::server(Config::default());
    server.send_binary(&vec![7u8; 1 << 20]).unwrap();
    let queued = server.pending_output_len();
    // Part of it is written at once, then the peer stops reading.
    server.advance_output(64 << 10);
    // The idle timer gives the buffers back after 1 s (the pending bytes stay); the send
    // timeout fires 30 s after the transport last took something.
    assert_eq!(run_clock(&mut server, secs(0), secs(29)), Some(TIMEOUT));
    assert_eq!(server.pending_output_len(), queued - (64 << 10));
    assert!(server.is_open(), "not yet");
    assert_eq!(run_clock(&mut server, secs(29), secs(31)), None);
    assert_eq!(server.next_event(), Some(Err(Error::SendTimeout)));
    assert_eq!(server.next_event(), None, "reported once");
    assert_eq!(
        server.pending_output_len(),
        0,
        "stale output discarded, no close frame"
    );
    assert_eq!(server.state(), State::Closed);
    assert_eq!(server.transport(), Transport::Close);
    assert_eq!(Error::SendTimeout.close_code(), CloseCode::ABNORMAL);
    // Nothing more is queued or read.
    assert!(server.send_text("late").is_err());
    assert_eq!(server.pending_output_len(), 0);
}

#[test]
fn a_slow_reader_that_keeps_taking_bytes_is_never_cut() {
    let mut server = Connection::server(Config::default());
    server.send_binary(&vec![7u8; 4096]).unwrap();
    // One byte every 29 s for an hour and more of the test's clock: each take moves the
    // deadline, and it never passes.
    let mut now = secs(0);
    let mut taken = 0;
    while server.pending_output_len() > 0 && now < secs(4 * 3600) {
        let next = run_clock(&mut server, now, now + secs(29)).expect("the send timeout runs");
        assert_eq!(next, now + TIMEOUT, "30 s from the last byte taken");
        now += secs(29);
        server.advance_output(1);
        taken += 1;
    }
    assert!(taken > 100, "{taken}");
    assert_eq!(server.next_event(), None, "no error");
    assert!(server.is_open());
    // Once it stops taking bytes, it is cut 30 s later.
    run_clock(&mut server, now, now + secs(31));
    assert_eq!(server.next_event(), Some(Err(Error::SendTimeout)));
}

#[test]
fn a_peer_that_never_reads_our_close_frame_is_dropped_too() {
    // The connection failed on a protocol error: its close frame is queued, and the peer
    // takes nothing. The send timeout discards it, so a host that writes until the output is
    // drained before closing the transport is not held forever.
    let (mut client, mut server) = (
        client_seeded(Config::default(), 3),
        Connection::server(Config::default()),
    );
    client.send_text("fine").unwrap();
    let mut wire = drain(&mut client);
    wire.extend_from_slice(&[0x83, 0x80, 0, 0, 0, 0]); // reserved opcode 3
    let events = feed_chunked(&mut server, &wire, &[wire.len()]);
    assert_eq!(events.len(), 2);
    assert_eq!(events[1], Err(Error::ReservedOpcode(3)));
    assert!(server.pending_output_len() > 0, "its close frame");
    assert_eq!(server.transport(), Transport::Close);
    run_clock(&mut server, secs(0), secs(31));
    assert_eq!(server.pending_output_len(), 0, "given up");
    assert_eq!(
        server.next_event(),
        None,
        "the first error was the one reported"
    );
}

#[test]
fn no_output_no_timer_and_none_waits_forever() {
    let mut server = Connection::server(Config::default().idle_timeout(None));
    assert_eq!(server.poll_timeout(secs(5)), None, "nothing pending");
    server.send_text("x").unwrap();
    assert_eq!(server.poll_timeout(secs(5)), Some(secs(35)));
    drain(&mut server);
    assert_eq!(server.poll_timeout(secs(6)), None, "taken: disarmed");

    let mut patient = Connection::server(Config::default().send_timeout(None).idle_timeout(None));
    patient.send_text("x").unwrap();
    assert_eq!(patient.poll_timeout(secs(0)), None);
    patient.handle_timeout(secs(100_000));
    assert!(patient.is_open());
    assert_eq!(patient.pending_output_len(), 3);
}

#[test]
fn output_queued_behind_stale_output_does_not_restart_the_clock() {
    // A peer that sends but never reads: our pongs pile up. New output is not progress.
    let mut server = Connection::server(Config::default().idle_timeout(None));
    let mut client = client_seeded(Config::default(), 9);
    let mut now = secs(0);
    let failed_at = loop {
        client.send_ping(b"are you there").unwrap();
        let wire = drain(&mut client);
        let events = feed_chunked(&mut server, &wire, &[wire.len()]);
        if events.contains(&Err(Error::SendTimeout)) {
            break now;
        }
        assert!(matches!(events[..], [Ok(Event::Ping(_))]), "{events:?}");
        run_clock(&mut server, now, now + secs(5));
        now += secs(5);
        assert!(now < secs(60), "never failed");
    };
    // The first pong was queued at 0 s and the timeout fired at 30 s, though a pong was
    // queued every 5 s: the ping that arrived then found the connection failed.
    assert_eq!(failed_at, secs(30));
    assert_eq!(server.pending_output_len(), 0);
}
