//! A blocking driver for one connection over `std::net::TcpStream`, shared by the examples and
//! the interoperability tests: it moves bytes between the socket and the state machine, with
//! the caller's clock for timers.
//!
//! With `SANSWS_HIBERNATE=every-message` in the environment, the connection hibernates after
//! every message it echoes and whenever it waits for input (also in the middle of a message),
//! instead of only when its idle timer says so: the conformance suite and the
//! interoperability tests then check that hibernation is transparent.
#![allow(dead_code)]

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use sansws::{Clock, Connection, Event, State, Transport};

/// Whether `SANSWS_HIBERNATE` asks for hibernation at every opportunity: `every-message`
/// (`1` is accepted too); unset, or `0`, leaves it to the idle timer. Any other value stops
/// the program, so a typo in CI cannot pass for a run that hibernated.
fn hibernating() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| match std::env::var("SANSWS_HIBERNATE").as_deref() {
        Err(_) | Ok("0") => false,
        Ok("every-message" | "1") => true,
        Ok(other) => panic!("SANSWS_HIBERNATE={other}: expected every-message or 0"),
    })
}

/// Runs `conn` over `stream` until the connection is over, calling `on_event` for each event
/// (which may send through the connection). Returns the error that failed the connection, if any.
pub fn drive(
    stream: TcpStream,
    conn: &mut Connection,
    on_event: impl FnMut(&mut Connection, Event),
) -> Option<sansws::Error> {
    drive_until(stream, conn, None, on_event).unwrap_or(None)
}

/// The deadline given to [`drive_until`] passed.
#[derive(Debug)]
pub struct TimedOut;

/// [`drive`], giving up with `Err(TimedOut)` once `deadline` (if any) passes.
pub fn drive_until(
    mut stream: TcpStream,
    conn: &mut Connection,
    deadline: Option<Instant>,
    mut on_event: impl FnMut(&mut Connection, Event),
) -> Result<Option<sansws::Error>, TimedOut> {
    let clock = Clock::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut failure = None;
    // Time left before the deadline (`None`: no deadline).
    let remaining = || match deadline.map(|d| d.saturating_duration_since(Instant::now())) {
        Some(left) if left.is_zero() => Err(TimedOut),
        left => Ok(left),
    };
    loop {
        // Handle everything already received.
        while let Some(event) = conn.next_event() {
            match event {
                Ok(event) => on_event(conn, event),
                Err(e) => failure = Some(e),
            }
        }
        // Write out what is pending.
        while conn.pending_output_len() > 0 {
            let _ = stream.set_write_timeout(remaining()?);
            match stream.write(conn.pending_output()) {
                Ok(0) => return Ok(failure),
                Ok(n) => conn.advance_output(n),
                Err(e)
                    if matches!(
                        e.kind(),
                        ErrorKind::Interrupted | ErrorKind::WouldBlock | ErrorKind::TimedOut
                    ) => {}
                Err(_) => return Ok(failure),
            }
        }
        if conn.transport() == Transport::Close {
            let _ = stream.shutdown(Shutdown::Both);
            return Ok(failure);
        }
        if hibernating() {
            conn.hibernate();
        }
        // Wait for input, no longer than the connection's next deadline (or ours).
        let next = clock.timeout(clock.poll_timeout(conn));
        let timeout = match (next, remaining()?) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let _ = stream.set_read_timeout(timeout.map(|t| t.max(Duration::from_millis(1))));
        match stream.read(&mut buf) {
            Ok(0) => {
                conn.receive_eof();
                if conn.transport() == Transport::AwaitPeerClose || conn.state() == State::Closed {
                    return Ok(failure);
                }
            }
            Ok(n) => conn.receive(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                clock.handle_timeout(conn);
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return Ok(failure),
        }
    }
}

/// Accepts an upgrade request and echoes every data message back (message mode).
pub fn echo(conn: &mut Connection, event: Event) {
    match event {
        Event::UpgradeRequest => {
            let _ = conn.accept(sansws::handshake::AcceptOptions::new());
        }
        Event::Text(text) => {
            let _ = conn.send_text(&text);
        }
        Event::Binary(data) => {
            let _ = conn.send_binary(&data);
        }
        _ => return,
    }
    if hibernating() {
        conn.hibernate();
    }
}
