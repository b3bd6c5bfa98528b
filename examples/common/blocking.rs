//! A blocking driver for one connection over `std::net::TcpStream`, shared by the examples:
//! it moves bytes between the socket and the state machine, with the caller's clock for timers.
//!
//! With `SANSWS_HIBERNATE` set in the environment, the connection hibernates after every
//! message it echoes and whenever it waits for input (also in the middle of a message): the
//! conformance suite then checks that hibernation is transparent.
#![allow(dead_code)]

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use sansws::{Connection, Event, Transport};

/// Whether `SANSWS_HIBERNATE` asks for hibernation at every opportunity.
fn hibernating() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("SANSWS_HIBERNATE").is_some())
}

/// Runs `conn` over `stream` until the connection is over, calling `on_event` for each event
/// (which may send through the connection). Returns the error that failed the connection, if any.
pub fn drive(
    mut stream: TcpStream,
    conn: &mut Connection,
    mut on_event: impl FnMut(&mut Connection, Event),
) -> Option<sansws::Error> {
    let origin = Instant::now();
    let mut buf = vec![0u8; 64 * 1024];
    let mut failure = None;
    loop {
        // Handle everything already received.
        while let Some(event) = conn.next_event() {
            match event {
                Ok(event) => on_event(conn, event),
                Err(e) => failure = Some(e),
            }
        }
        // Write out what is pending.
        while conn.output_len() > 0 {
            match stream.write(conn.pending_output()) {
                Ok(0) | Err(_) => return failure,
                Ok(n) => conn.advance_output(n),
            }
        }
        match conn.transport() {
            Transport::Close => {
                let _ = stream.shutdown(Shutdown::Both);
                return failure;
            }
            Transport::Open | Transport::AwaitPeerClose => {}
        }
        if hibernating() {
            conn.hibernate();
        }
        // Wait for input, no longer than the connection's next deadline.
        let now = origin.elapsed();
        let timeout = conn
            .poll_timeout(now)
            .map(|d| d.saturating_sub(now).max(Duration::from_millis(1)));
        let _ = stream.set_read_timeout(timeout);
        match stream.read(&mut buf) {
            Ok(0) => {
                conn.receive_eof();
                if conn.transport() == Transport::AwaitPeerClose
                    || conn.state() == sansws::State::Closed
                {
                    return failure;
                }
            }
            Ok(n) => {
                conn.receive(&buf[..n]);
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                conn.handle_timeout(origin.elapsed());
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return failure,
        }
    }
}

/// Accepts an upgrade request and echoes every data message back (message mode).
pub fn echo(conn: &mut Connection, event: Event) {
    match event {
        Event::UpgradeRequest => {
            let _ = conn.accept(sansws::handshake::Accept::new());
        }
        Event::Text(t) => {
            let _ = conn.send(sansws::MessageKind::Text, &t);
        }
        Event::Binary(b) => {
            let _ = conn.send_binary(&b);
        }
        _ => return,
    }
    if hibernating() {
        conn.hibernate();
    }
}
