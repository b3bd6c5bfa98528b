//! One connection over an HTTP/2 stream of the h2 crate (RFC 8441 §5): DATA frames carry the
//! WebSocket bytes, END_STREAM stands for closing the TCP connection. The loop is the one of
//! [`drive`](crate::drive::drive), with h2's flow control in place of a socket's buffer: the
//! output goes out as the peer grants capacity (what is not granted stays pending in the
//! connection, where `pending_output_len` measures it), and received data is released to the
//! peer's window once the connection has taken it.

use std::future::poll_fn;
use std::time::Duration;

use bytes::Bytes;
use h2::{Reason, RecvStream, SendStream};
use sansws::{Connection, Event, Transport};
use tokio::time::Instant;

use crate::drive::Traffic;

/// Reading pauses while this much output waits for flow-control capacity.
const MAX_PENDING_OUTPUT: usize = 1 << 20;

/// How long the last bytes and the peer's END_STREAM may take once the connection is over;
/// then the stream is reset.
const FINAL_WAIT: Duration = Duration::from_secs(5);

/// Waits until the peer's window lets at least one byte go, and says how many may.
async fn capacity(send: &mut SendStream<Bytes>) -> Result<usize, h2::Error> {
    loop {
        let available = send.capacity();
        if available > 0 {
            return Ok(available);
        }
        match poll_fn(|cx| send.poll_capacity(cx)).await {
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(e),
            None => return Err(Reason::STREAM_CLOSED.into()),
        }
    }
}

/// Runs `conn` over one HTTP/2 stream until both sides ended it, calling `on_event` for each
/// event. Returns the error that failed the connection, if any, and the stream's traffic; an
/// error of the stream itself (a reset, a broken HTTP/2 connection) ends the run with `Err`.
pub async fn drive_stream(
    mut send: SendStream<Bytes>,
    mut recv: RecvStream,
    conn: &mut Connection,
    mut on_event: impl FnMut(&mut Connection, Event),
) -> Result<(Option<sansws::Error>, Traffic), h2::Error> {
    let origin = Instant::now();
    let mut failure = None;
    let mut traffic = Traffic::default();
    let mut ended = false;
    let mut peer_ended = false;
    let mut give_up: Option<Instant> = None;
    loop {
        while let Some(event) = conn.next_event() {
            match event {
                Ok(event) => on_event(conn, event),
                Err(e) => failure = Some(e),
            }
        }
        let pending = conn.pending_output_len();
        if conn.transport() == Transport::Close {
            if pending == 0 && !ended {
                send.send_data(Bytes::new(), true)?;
                ended = true;
            }
            give_up.get_or_insert(Instant::now() + FINAL_WAIT);
        }
        if ended && peer_ended {
            return Ok((failure, traffic));
        }
        let deadline = conn.poll_timeout(origin.elapsed()).map(|at| origin + at);
        if pending > 0 && !ended {
            send.reserve_capacity(pending);
        }
        tokio::select! {
            data = recv.data(), if !peer_ended && pending < MAX_PENDING_OUTPUT => match data {
                Some(data) => {
                    let data = data?;
                    traffic.received += data.len() as u64;
                    conn.receive(&data);
                    recv.flow_control().release_capacity(data.len())?;
                }
                None => {
                    peer_ended = true;
                    conn.receive_eof();
                }
            },
            granted = capacity(&mut send), if pending > 0 && !ended => {
                let n = granted?.min(pending);
                let chunk = Bytes::copy_from_slice(&conn.pending_output()[..n]);
                send.send_data(chunk, false)?;
                traffic.sent += n as u64;
                conn.advance_output(n);
            }
            _ = tokio::time::sleep_until(deadline.unwrap_or(origin)), if deadline.is_some() => {
                conn.handle_timeout(origin.elapsed());
            }
            _ = tokio::time::sleep_until(give_up.unwrap_or(origin)), if give_up.is_some() => {
                send.send_reset(Reason::CANCEL);
                return Ok((failure, traffic));
            }
            // Cannot happen (a stream the peer ended makes the connection close), but a loop
            // with nothing to wait for must not spin.
            else => {
                send.send_reset(Reason::CANCEL);
                return Ok((failure, traffic));
            }
        }
    }
}
