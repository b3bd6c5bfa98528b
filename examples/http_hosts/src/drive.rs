//! One connection over any tokio byte stream (an upgraded hyper connection, TLS, TCP): the
//! loop of docs/integration.md as a `select!` over a read, a write of the pending output and
//! the connection's next deadline, so that timers fire while a write waits and the pending
//! output stays the backpressure signal until the stream has taken it.

use std::io;
use std::time::Duration;

use sansws::{Connection, Event, Transport};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;

/// Reads in pieces of half of `Config::buffer_keep`'s default, so steady traffic reuses the
/// receive buffer instead of growing it.
const READ_CHUNK: usize = 32 * 1024;

/// Reading pauses while this much output waits: a peer that sends without reading cannot
/// make the connection queue its echoes without bound.
const MAX_PENDING_OUTPUT: usize = 1 << 20;

/// How long the last bytes (the close frame) may take to leave once the connection says to
/// close; a peer that stops reading cannot hold the task longer.
const FINAL_FLUSH: Duration = Duration::from_secs(5);

/// What went over the stream, for callers that check compression took place.
#[derive(Debug, Default, Clone, Copy)]
pub struct Traffic {
    /// Bytes written to the stream.
    pub sent: u64,
    /// Bytes read from the stream.
    pub received: u64,
}

/// Runs `conn` over `io` until the connection is over, calling `on_event` for each event (it
/// may send through the connection). Returns the error that failed the connection, if any,
/// and what crossed the stream; an I/O error of the stream itself ends the run with `Err`.
pub async fn drive<IO>(
    io: IO,
    conn: &mut Connection,
    mut on_event: impl FnMut(&mut Connection, Event),
) -> io::Result<(Option<sansws::Error>, Traffic)>
where
    IO: AsyncRead + AsyncWrite,
{
    let origin = Instant::now();
    let (mut rd, mut wr) = tokio::io::split(io);
    let mut buf = vec![0u8; READ_CHUNK];
    let mut failure = None;
    let mut traffic = Traffic::default();
    let mut eof = false;
    let mut unflushed = false;
    loop {
        while let Some(event) = conn.next_event() {
            match event {
                Ok(event) => on_event(conn, event),
                Err(e) => failure = Some(e),
            }
        }
        if conn.transport() == Transport::Close {
            let flush = async {
                while conn.pending_output_len() > 0 {
                    let n = wr.write(conn.pending_output()).await?;
                    if n == 0 {
                        return Err(io::ErrorKind::WriteZero.into());
                    }
                    traffic.sent += n as u64;
                    conn.advance_output(n);
                }
                wr.shutdown().await
            };
            // A stream that fails or stalls now only loses bytes of a connection that is over.
            let _ = tokio::time::timeout(FINAL_FLUSH, flush).await;
            return Ok((failure, traffic));
        }
        let deadline = conn.poll_timeout(origin.elapsed()).map(|at| origin + at);
        let pending = conn.pending_output_len();
        let output = conn.pending_output();
        tokio::select! {
            read = rd.read(&mut buf), if !eof && pending < MAX_PENDING_OUTPUT => match read? {
                0 => {
                    eof = true;
                    conn.receive_eof();
                }
                n => {
                    traffic.received += n as u64;
                    conn.receive(&buf[..n]);
                }
            },
            // Write while output is pending, then flush: a stream may hold what it accepted
            // (TLS records in rustls, for one) until it is flushed.
            wrote = async {
                if !output.is_empty() {
                    wr.write(output).await.map(Some)
                } else {
                    wr.flush().await.map(|()| None)
                }
            }, if pending > 0 || unflushed => match wrote? {
                Some(0) => return Err(io::ErrorKind::WriteZero.into()),
                Some(n) => {
                    traffic.sent += n as u64;
                    conn.advance_output(n);
                    unflushed = true;
                }
                None => unflushed = false,
            },
            _ = tokio::time::sleep_until(deadline.unwrap_or(origin)), if deadline.is_some() => {
                conn.handle_timeout(origin.elapsed());
            }
            // The stream ended, nothing is left to write or flush and no timer is armed: a
            // client that waited for the server's close has it.
            else => return Ok((failure, traffic)),
        }
    }
}
