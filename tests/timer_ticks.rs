//! A host that drives the timers by calling `handle_timeout` on its own tick, without calling
//! `poll_timeout` in between, sees the same behaviour as one that polls: traffic since the
//! last deadline counts as activity for the keepalive, output the transport took counts as
//! progress for the send timeout, and traffic keeps the idle timer from giving buffers back.
//! Times are the test's, never slept.

mod common;

use std::time::Duration;

use common::{drain, frame, frames};
use sansws::{CloseCode, Config, Connection, Error};

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn only(config: Config) -> Config {
    config.idle_timeout(None).send_timeout(None).keepalive(None)
}

#[test]
fn keepalive_counts_traffic_between_ticks_as_activity() {
    let mut server = Connection::server(only(Config::default()).keepalive(Some(secs(10))));
    assert_eq!(server.poll_timeout(secs(0)), Some(secs(10)));
    server.receive(&frame(0x81, b"hi", true));
    assert!(server.next_event().is_some());
    // The deadline passes with traffic since: no ping, the next check is a period later.
    server.handle_timeout(secs(10));
    assert_eq!(
        server.pending_output_len(),
        0,
        "no ping while the peer talks"
    );
    // A silent period: a ping. Another: the peer is gone.
    server.handle_timeout(secs(20));
    let out = drain(&mut server);
    assert_eq!(frames(&out), vec![(0x9, true, vec![])]);
    assert!(server.is_open());
    server.handle_timeout(secs(30));
    assert_eq!(server.next_event(), Some(Err(Error::KeepaliveTimeout)));
}

#[test]
fn no_keepalive_ping_follows_a_close_frame() {
    let mut server = Connection::server(only(Config::default()).keepalive(Some(secs(10))));
    assert_eq!(server.poll_timeout(secs(0)), Some(secs(10)));
    server.close(CloseCode::NORMAL, "bye").unwrap();
    server.handle_timeout(secs(10));
    let ops: Vec<u8> = frames(&drain(&mut server)).iter().map(|f| f.0).collect();
    assert_eq!(ops, vec![0x8], "the close frame is the last frame");
}

#[test]
fn send_timeout_counts_output_taken_between_ticks_as_progress() {
    let mut server = Connection::server(only(Config::default()).send_timeout(Some(secs(30))));
    server.send_binary(&[7u8; 1000]).unwrap();
    let queued = server.pending_output_len();
    assert_eq!(server.poll_timeout(secs(0)), Some(secs(30)));
    server.advance_output(10); // the transport took some at 20 s
    server.handle_timeout(secs(30));
    assert!(server.is_open(), "progress was made");
    assert_eq!(server.next_event(), None);
    assert_eq!(server.pending_output_len(), queued - 10);
    // Then nothing for a whole timeout after the tick that noticed the progress.
    server.handle_timeout(secs(59));
    assert!(server.is_open());
    server.handle_timeout(secs(60));
    assert_eq!(server.next_event(), Some(Err(Error::SendTimeout)));
    assert_eq!(server.pending_output_len(), 0);
}

#[test]
fn idle_timer_waits_for_a_quiet_period_between_ticks() {
    let mut server = Connection::server(only(Config::default()).idle_timeout(Some(secs(1))));
    server.receive(&frame(0x82, &[1; 100], true));
    assert!(server.next_event().is_some());
    assert_eq!(server.poll_timeout(secs(0)), Some(secs(1)));
    server.receive(&frame(0x82, &[2; 100], true));
    assert!(server.next_event().is_some());
    // Busy through the period: the buffers are cut down, not given back, and the timer runs
    // on from the tick.
    server.handle_timeout(secs(1));
    assert_eq!(server.poll_timeout(secs(1)), Some(secs(2)));
    // A quiet period: everything is given back and no further wake-up is needed.
    server.handle_timeout(secs(2));
    assert_eq!(server.poll_timeout(secs(2)), None);
    // Traffic after the rest works as before.
    server.receive(&frame(0x82, &[3; 100], true));
    assert!(matches!(server.next_event(), Some(Ok(_))));
}

#[test]
fn a_frame_half_arrived_survives_the_idle_timer_busy_or_quiet() {
    let payload: Vec<u8> = (0..64 * 1024).map(|i| (i % 251) as u8).collect();
    let wire = frame(0x82, &payload, true);
    let half = wire.len() / 2;
    for quiet in [false, true] {
        let mut server = Connection::server(only(Config::default()).idle_timeout(Some(secs(1))));
        server.receive(&wire[..half / 2]);
        assert_eq!(server.next_event(), None);
        assert_eq!(server.poll_timeout(secs(0)), Some(secs(1)));
        if !quiet {
            // More of the frame arrives within the period: it is busy, buffers are cut down
            // to what the frame needs rather than given back.
            server.receive(&wire[half / 2..half]);
            assert_eq!(server.next_event(), None);
        }
        server.handle_timeout(secs(1));
        let from = if quiet { half / 2 } else { half };
        server.receive(&wire[from..]);
        assert_eq!(
            server.next_event(),
            Some(Ok(sansws::Event::Binary(payload.clone().into()))),
            "quiet: {quiet}"
        );
    }
}

#[test]
fn a_tick_before_any_deadline_changes_nothing() {
    let mut server = Connection::server(
        only(Config::default())
            .keepalive(Some(secs(10)))
            .idle_timeout(Some(secs(20))),
    );
    server.receive(&frame(0x81, b"hi", true));
    assert!(server.next_event().is_some());
    assert_eq!(server.poll_timeout(secs(0)), Some(secs(10)));
    // A spurious wake-up (or another timer's deadline) at 5 s.
    server.handle_timeout(secs(5));
    assert_eq!(server.pending_output_len(), 0, "no ping yet");
    assert!(server.is_open());
    assert_eq!(
        server.poll_timeout(secs(5)),
        Some(secs(10)),
        "deadlines unchanged"
    );
    server.handle_timeout(secs(10));
    assert_eq!(frames(&drain(&mut server)), vec![(0x9, true, vec![])]);
}
