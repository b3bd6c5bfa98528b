//! An async echo server over tokio's TcpStream. The state machine is not async: each task
//! waits for whichever comes first of its socket becoming readable, its socket becoming
//! writable while output is pending, and the connection's next deadline, then moves bytes
//! without awaiting. permessage-deflate is offered to clients that ask for it (browsers and
//! most client libraries do).
//!
//!     cargo run --example tokio_echo -- 127.0.0.1:9002
//!
//! What a host must get right, shown here:
//! - **Writes never hide backpressure or block timers.** Output is written with
//!   `try_write_vectored` from `output_chunks()` (a large echoed payload is queued by
//!   reference, a chunk of its own, behind its header) and reported with `advance_output(n)`,
//!   which may end anywhere in any chunk: the bytes stay pending
//!   (and counted in `pending_output_len()`) until the socket took them, and a peer that does
//!   not read never holds the task in a write, so keepalive, the close timeout and the send
//!   timeout all fire.
//! - **One read buffer per thread**, not per connection: `receive` copies what it is given,
//!   so the buffer is free again as soon as it returns, and 10,000 quiet connections hold no
//!   read buffers.
//! - **Idle memory is the library's job**: `Config::idle_timeout` (1 s by default) gives back
//!   a quiet connection's buffers and hibernates its compression through the same deadline
//!   as the other timers; busy connections keep theirs, so steady traffic allocates nothing.
//!   The process's part is the allocator's: see `common/allocator.rs`.
//! - **The final flush is bounded**: once `transport()` says `Close`, pending output (a close
//!   frame) is written for at most `FINAL_FLUSH`, then the socket is dropped.
//! - **The close lingers**, as HTTP servers do: once the last output is written, the server
//!   shuts down its write side, then reads and discards what the peer still sends until end
//!   of stream, for at most `LINGER` (2 s). Closing the socket with input unread would make
//!   the kernel reset the connection, and the reset discards the close frame on the peer's
//!   side before it reads it. A peer that never took the output is dropped at once.

#[path = "common/allocator.rs"]
mod allocator;

use std::cell::RefCell;
use std::io::{ErrorKind, IoSlice};
use std::sync::Arc;
use std::time::Duration;

use sansws::extensions::deflate::{DeflateConfig, PerMessageDeflate};
use sansws::handshake::{AcceptOptions, HandshakeConfig};
use sansws::{Config, Connection, Event, Transport};
use tokio::io::{AsyncWriteExt, Interest};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

/// Stop reading from a peer while this much output waits for it: a slow reader must not make
/// the server buffer without bound.
const HIGH_WATER: usize = 1 << 20;
/// Chunks of output handed to one vectored write: a few large messages in flight, each a
/// header and a payload, fit.
const MAX_SLICES: usize = 16;
/// How long a connection that is over may take to write its last bytes.
const FINAL_FLUSH: Duration = Duration::from_secs(5);
/// How long a connection that is over reads and discards the peer's last bytes after shutting
/// down its write side, before its socket is dropped (see the header).
const LINGER: Duration = Duration::from_secs(2);

thread_local! {
    /// The one read buffer of this thread's tasks: 64 KiB, so a large message arrives in few
    /// reads.
    static READ_BUF: RefCell<Vec<u8>> = RefCell::new(vec![0; 64 * 1024]);
}

/// Reads what the socket has (once) into the thread's buffer and hands it to `conn`. A read
/// that does not fill the buffer has emptied the socket, so its readiness is cleared then:
/// the next wait is for epoll's next event, not one more read that would block (tokio's own
/// `poll_read` applies the same rule on epoll and kqueue). The read happens inside `try_io`
/// so that an event arriving meanwhile is not cleared with it.
fn read_some(stream: &TcpStream, conn: &mut Connection) -> std::io::Result<()> {
    READ_BUF.with_borrow_mut(|buf| {
        let mut received = None;
        let read = stream.try_io(Interest::READABLE, || {
            let n = stream.try_read(buf)?;
            received = Some(n);
            match n {
                n if n > 0 && n < buf.len() => Err(ErrorKind::WouldBlock.into()),
                _ => Ok(()),
            }
        });
        match (received, read) {
            (Some(0), _) => conn.receive_eof(),
            (Some(n), _) => conn.receive(&buf[..n]),
            (None, Err(e))
                if !matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) =>
            {
                return Err(e)
            }
            (None, _) => {}
        }
        Ok(())
    })
}

/// Writes pending output until the socket would block or nothing is left.
fn write_some(stream: &TcpStream, conn: &mut Connection) -> std::io::Result<()> {
    while conn.pending_output_len() > 0 {
        let written = {
            let mut chunks: [&[u8]; MAX_SLICES] = [&[]; MAX_SLICES];
            let n = conn.output_chunks(&mut chunks);
            stream.try_write_vectored(&chunks.map(IoSlice::new)[..n])
        };
        match written {
            Ok(0) => return Err(ErrorKind::WriteZero.into()),
            Ok(n) => conn.advance_output(n),
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Reads and discards what the peer sends until end of stream.
async fn discard_until_eof(stream: &TcpStream) -> std::io::Result<()> {
    loop {
        stream.readable().await?;
        let n = READ_BUF.with_borrow_mut(|buf| match stream.try_read(buf) {
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => Ok(1),
            read => read,
        })?;
        if n == 0 {
            return Ok(());
        }
    }
}

async fn serve(mut stream: TcpStream) -> std::io::Result<()> {
    let origin = Instant::now();
    let config = Config::default().keepalive(Some(Duration::from_secs(30)));
    let mut conn = Connection::server_upgrade(config, handshake_config());
    // When the connection said the transport should close: the final flush's deadline.
    let mut flush_until: Option<Instant> = None;
    // Whether a deadline ended the connection (keepalive, close or send timeout): the peer
    // stopped responding or reading, so its socket is not kept to linger.
    let mut timed_out = false;
    // One timer for the connection's deadlines, moved only when the deadline moves: the
    // deadlines change about once a second, messages far more often, and arming a fresh
    // timer per turn of the loop would cost a timer-wheel insert and removal per message.
    let timer = tokio::time::sleep_until(origin);
    tokio::pin!(timer);
    let mut armed: Option<Instant> = None;
    loop {
        while let Some(event) = conn.next_event() {
            match event {
                Ok(Event::UpgradeRequest) => {
                    let _ = conn.accept(AcceptOptions::new());
                }
                // Echoed as received, without a copy (unless compressed).
                Ok(Event::Text(text)) => {
                    let _ = conn.send_text_bytes(text);
                }
                Ok(Event::Binary(data)) => {
                    let _ = conn.send_binary_bytes(data);
                }
                Ok(_) => {}
                Err(e) => eprintln!("connection failed: {e}"),
            }
        }
        write_some(&stream, &mut conn)?;
        let closing = conn.transport() == Transport::Close;
        if closing {
            if conn.pending_output_len() == 0 {
                if timed_out {
                    return stream.shutdown().await;
                }
                break; // everything written: the lingering close below
            }
            let until = *flush_until.get_or_insert_with(|| Instant::now() + FINAL_FLUSH);
            if Instant::now() >= until {
                return Ok(()); // dropped with output the peer never took
            }
        }
        let reading = !closing && conn.pending_output_len() < HIGH_WATER;
        let writing = conn.pending_output_len() > 0;
        let deadline = match (conn.poll_timeout(origin.elapsed()), flush_until) {
            (Some(d), Some(f)) => Some((origin + d).min(f)),
            (d, f) => d.map(|d| origin + d).or(f),
        };
        if deadline != armed {
            if let Some(at) = deadline {
                timer.as_mut().reset(at);
            }
            armed = deadline;
        }
        tokio::select! {
            ready = stream.readable(), if reading => {
                ready?;
                read_some(&stream, &mut conn)?;
            }
            ready = stream.writable(), if writing => {
                ready?;
                write_some(&stream, &mut conn)?;
            }
            () = &mut timer, if deadline.is_some() => {
                armed = None; // fired: armed again next turn, even for the same instant
                conn.handle_timeout(origin.elapsed());
                timed_out = conn.transport() == Transport::Close;
            }
            else => return Ok(()),
        }
    }
    // Shut down the write side, then drain the peer's last bytes (see the header): dropping
    // the socket with input unread would reset the connection and lose our close frame.
    stream.shutdown().await?;
    let _ = tokio::time::timeout(LINGER, discard_until_eof(&stream)).await;
    Ok(())
}

/// Accepts permessage-deflate (RFC 7692) when the client offers it; clients that offer nothing
/// get plain frames. A client's bare `client_max_window_bits` is answered with 12: a hibernated
/// connection then keeps 4 KiB of the client's window instead of 32 KiB, for 3% to 4% of a
/// zlib client's compression ratio (docs/memory.md). The same settings as `mio_echo`.
fn handshake_config() -> HandshakeConfig {
    let deflate = DeflateConfig::default().client_max_window_bits(12);
    HandshakeConfig::default().extension(Arc::new(PerMessageDeflate::new(deflate)))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    allocator::fix_mmap_threshold();
    if allocator::trims() {
        tokio::spawn(async {
            let mut every = tokio::time::interval(allocator::TRIM_EVERY);
            loop {
                every.tick().await;
                allocator::give_back_free_pages();
            }
        });
    }
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9002".into());
    let listener = TcpListener::bind(&addr).await?;
    eprintln!("tokio_echo listening on ws://{addr}");
    loop {
        let (stream, peer) = listener.accept().await?;
        stream.set_nodelay(true)?;
        tokio::spawn(async move {
            if let Err(e) = serve(stream).await {
                eprintln!("{peer}: {e}");
            }
        });
    }
}
