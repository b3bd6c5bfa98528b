//! An echo server on a hand-written mio event loop: non-blocking sockets, partial writes,
//! backpressure through the pending-output count, one read buffer for every connection, and
//! every timer driven by the loop's own clock, kept in a heap ordered by deadline so that a
//! turn of the loop touches only the connections that had I/O or are due. This is the shape of
//! an epoll or io_uring integration. permessage-deflate is offered to clients that ask for it,
//! as in `tokio_echo`. Quiet connections give their buffers back and hibernate through the
//! library's idle timer (`Config::idle_timeout`), one of the deadlines in the heap.
//!
//!     cargo run --example mio_echo -- 127.0.0.1:9003
//!
//! Three timers keep a connection from holding the server forever, each settable through an
//! environment variable (seconds, fractions allowed):
//!
//! - `MIO_ECHO_KEEPALIVE` (30): the library's keepalive (`Config::keepalive`). After this long
//!   without input the connection pings; if the ping meets silence for as long again, the
//!   connection fails and its socket is dropped.
//! - `MIO_ECHO_HANDSHAKE_TIMEOUT` (10): a connection that has not completed the opening
//!   handshake this long after the TCP accept is dropped. The library has no clock, so this
//!   deadline is the loop's: it is kept beside the connection, not in it.
//! - `MIO_ECHO_MAX_LIFETIME` (600): this long after the TCP accept, the server closes the
//!   connection itself with 1001 (going away), as servers do to rebalance load or roll out a
//!   new version. The client should answer the close frame; if it does not within the
//!   library's close timeout (5 s by default), the socket is dropped anyway.
//!
//! A connection that is over with its last output written (a close frame, or a rejection of a
//! bad request) closes lingeringly, as HTTP servers do: the server shuts down its write side,
//! then reads and discards what the peer still sends until end of stream, for at most
//! `LINGER` (2 s). Closing the socket with input unread would make the kernel reset the
//! connection, and the reset discards the close frame on the peer's side before it reads it.
//! A peer that stopped reading (our output met the send timeout) is still dropped at once.

#[path = "common/allocator.rs"]
mod allocator;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::io::{ErrorKind, IoSlice, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use sansws::extensions::deflate::{DeflateConfig, PerMessageDeflate};
use sansws::handshake::{AcceptOptions, HandshakeConfig};
use sansws::{CloseCode, Config, Connection, Event, State, Transport};

const LISTENER: Token = Token(0);
/// Stop reading from a peer while this much output waits for it: a slow reader must not
/// make the server buffer without bound.
const HIGH_WATER: usize = 1 << 20;
/// Chunks of output handed to one vectored write: a few large messages in flight, each a
/// header and a payload, fit.
const MAX_SLICES: usize = 16;
/// How long a connection that is over reads and discards the peer's last bytes after shutting
/// down its write side, before its socket is dropped (see the header).
const LINGER: Duration = Duration::from_secs(2);

/// The timers' settings, read once at startup.
struct Timeouts {
    keepalive: Duration,
    handshake: Duration,
    max_lifetime: Duration,
}

/// `name` from the environment in seconds, or `default` if it is unset or not a duration.
fn seconds_from_env(name: &str, default: u64) -> Duration {
    std::env::var(name)
        .ok()
        .and_then(|v| Duration::try_from_secs_f64(v.parse().ok()?).ok())
        .unwrap_or(Duration::from_secs(default))
}

struct Client {
    socket: TcpStream,
    peer: SocketAddr,
    conn: Connection,
    /// When the opening handshake must be done by, on the loop's clock; `None` once it is.
    handshake_deadline: Option<Duration>,
    /// When the server starts closing the connection; `None` once it did.
    close_at: Option<Duration>,
    /// The deadline this client has in the loop's heap (entries that differ are stale).
    scheduled: Option<Duration>,
    /// Set once the connection is over and its write side shut down: until then the peer's
    /// last bytes are read and discarded, then the socket is dropped (`LINGER`).
    linger_until: Option<Duration>,
}

impl Client {
    /// The earliest of the connection's own deadline (keepalive, close timeout, send timeout,
    /// idle timer) and the loop's deadlines for it.
    fn next_deadline(&mut self, now: Duration) -> Option<Duration> {
        if self.linger_until.is_some() {
            return self.linger_until;
        }
        [
            self.conn.poll_timeout(now),
            self.handshake_deadline,
            self.close_at,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Fires whatever is due at `now`. Returns false when the socket should be dropped.
    fn on_timer(&mut self, buf: &mut [u8], now: Duration) -> bool {
        if let Some(until) = self.linger_until {
            // Lingering: drain what arrived; at the deadline, drop whatever is left.
            return until > now && service(self, buf, now);
        }
        if self.handshake_deadline.is_some_and(|d| d <= now) {
            // The request may have arrived without being read yet (a long turn of the loop
            // handles timers after other sockets' events): read it before judging.
            if !service(self, buf, now) {
                return false;
            }
            if self.linger_until.is_some() {
                return true; // rejected, or over: its own deadline now
            }
            if self.handshake_deadline.is_some() {
                eprintln!("{}: no opening handshake in time, dropped", self.peer);
                return false;
            }
        }
        if self.close_at.is_some_and(|d| d <= now) {
            self.close_at = None;
            eprintln!("{}: lifetime reached, closing with 1001", self.peer);
            // Starts the close handshake; the connection's close timeout runs from here.
            let _ = self
                .conn
                .close(CloseCode::GOING_AWAY, "connection lifetime reached");
        }
        let closing = self.conn.state() == State::CloseSent;
        self.conn.handle_timeout(now);
        if self.conn.transport() == Transport::Close {
            // Our close frame, a keepalive ping or our output met only silence: the peer
            // stopped responding, so its socket is dropped, even with output it never took.
            let why = match self.conn.next_event() {
                Some(Err(e)) => e.to_string(),
                _ if closing => "close frame unanswered".to_string(),
                _ => "timed out".to_string(),
            };
            eprintln!("{}: {why}, dropped", self.peer);
            return false;
        }
        service(self, buf, now)
    }
}

/// Reads and discards what the socket has until it would block. Returns false at end of
/// stream or on an error: the socket can be dropped without a reset.
fn discard_input(socket: &mut TcpStream, buf: &mut [u8]) -> bool {
    loop {
        match socket.read(buf) {
            Ok(0) => return false,
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock => return true,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
}

/// Moves bytes for one connection until its socket would block. Returns false when the
/// connection is over and its socket should be dropped. A connection that is over with its
/// output written lingers first (`LINGER`); `now` is when that starts.
fn service(client: &mut Client, buf: &mut [u8], now: Duration) -> bool {
    let Client {
        socket,
        conn,
        handshake_deadline,
        close_at,
        linger_until,
        ..
    } = client;
    if linger_until.is_some() {
        return discard_input(socket, buf);
    }
    // Whether a read came back shorter than the buffer: the socket was emptied, and epoll
    // (edge-triggered) reports the next bytes as a new event, so reading again before it
    // would only be told to wait (tokio applies the same rule on epoll and kqueue).
    let mut drained = false;
    loop {
        let mut progress = false;
        // Read, unless the socket was emptied or the peer is not taking our output.
        if !drained
            && conn.pending_output_len() < HIGH_WATER
            && conn.transport() != Transport::Close
        {
            match socket.read(buf) {
                Ok(0) => conn.receive_eof(),
                Ok(n) => {
                    conn.receive(&buf[..n]);
                    progress = true;
                    drained = n < buf.len();
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => progress = true,
                Err(_) => return false,
            }
        }
        while let Some(event) = conn.next_event() {
            match event {
                Ok(Event::UpgradeRequest) => {
                    if conn.accept(AcceptOptions::new()).is_ok() {
                        *handshake_deadline = None;
                    }
                }
                Ok(Event::Text(t)) => {
                    let _ = conn.send_text_bytes(t);
                }
                Ok(Event::Binary(b)) => {
                    let _ = conn.send_binary_bytes(b);
                }
                Ok(_) => {}
                Err(e) => eprintln!("connection failed: {e}"),
            }
        }
        // Write what the socket takes; the rest waits for the next writable event.
        while conn.pending_output_len() > 0 {
            // One vectored write of the queued chunks (an echoed payload is queued by
            // reference, a chunk of its own behind its header).
            let written = {
                let mut chunks: [&[u8]; MAX_SLICES] = [&[]; MAX_SLICES];
                let n = conn.output_chunks(&mut chunks);
                socket.write_vectored(&chunks.map(IoSlice::new)[..n])
            };
            match written {
                Ok(0) => return false,
                Ok(n) => {
                    conn.advance_output(n);
                    progress = true;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
        if conn.transport() == Transport::Close && conn.pending_output_len() == 0 {
            // Everything written: close lingeringly, so that input still on its way does not
            // make the kernel reset the connection and lose our last output (see the header).
            *linger_until = Some(now.saturating_add(LINGER));
            *handshake_deadline = None;
            *close_at = None;
            return socket.shutdown(Shutdown::Write).is_ok() && discard_input(socket, buf);
        }
        if !progress {
            // Nothing to read and nothing left to write: wait for the next readiness event.
            // Buffers stay: the idle timer gives them back once the connection stays quiet.
            return true;
        }
    }
}

/// The loop's timers: one entry per client for its earliest deadline, in a min-heap. A
/// deadline that moves later keeps its entry (it fires early, finds nothing due, and the
/// client is scheduled again); one that moves earlier gets a new entry, and the old one is
/// skipped when it comes up (lazy invalidation). So the heap holds about one entry per
/// client, and a busy client touches it about once per deadline, not once per message.
#[derive(Default)]
struct Timers {
    heap: BinaryHeap<Reverse<(Duration, Token)>>,
}

impl Timers {
    /// Puts `client`'s next deadline in the heap if it is earlier than the one there.
    fn schedule(&mut self, token: Token, client: &mut Client, now: Duration) {
        match client.next_deadline(now) {
            Some(d) if client.scheduled.is_none_or(|s| d < s) => {
                client.scheduled = Some(d);
                self.heap.push(Reverse((d, token)));
            }
            Some(_) => {}
            None => client.scheduled = None,
        }
    }

    /// The earliest live deadline, dropping stale entries on the way.
    fn next(&mut self, clients: &HashMap<Token, Client>) -> Option<Duration> {
        while let Some(&Reverse((d, token))) = self.heap.peek() {
            if clients.get(&token).is_some_and(|c| c.scheduled == Some(d)) {
                return Some(d);
            }
            self.heap.pop();
        }
        None
    }

    /// Takes the next client whose deadline is due at `now`.
    fn pop_due(&mut self, clients: &mut HashMap<Token, Client>, now: Duration) -> Option<Token> {
        let d = self.next(clients)?;
        if d > now {
            return None;
        }
        let Reverse((_, token)) = self.heap.pop().expect("peeked");
        if let Some(client) = clients.get_mut(&token) {
            client.scheduled = None;
        }
        Some(token)
    }
}

/// Accepts permessage-deflate (RFC 7692) when the client offers it; clients that offer nothing
/// get plain frames. A client's bare `client_max_window_bits` is answered with 12: a hibernated
/// connection then keeps 4 KiB of the client's window instead of 32 KiB, for 3% to 4% of a
/// zlib client's compression ratio (docs/memory.md). The same settings as `tokio_echo`.
fn handshake_config() -> HandshakeConfig {
    let deflate = DeflateConfig::default().client_max_window_bits(12);
    HandshakeConfig::default().extension(Arc::new(PerMessageDeflate::new(deflate)))
}

fn main() -> std::io::Result<()> {
    allocator::fix_mmap_threshold();
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9003".into());
    let timeouts = Timeouts {
        keepalive: seconds_from_env("MIO_ECHO_KEEPALIVE", 30),
        handshake: seconds_from_env("MIO_ECHO_HANDSHAKE_TIMEOUT", 10),
        max_lifetime: seconds_from_env("MIO_ECHO_MAX_LIFETIME", 600),
    };
    let mut listener = TcpListener::bind(addr.parse().map_err(std::io::Error::other)?)?;
    let mut poll = Poll::new()?;
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    eprintln!("mio_echo listening on ws://{addr}");

    // The loop's clock: every deadline, the library's included, is a Duration since `origin`.
    let origin = Instant::now();
    let mut clients: HashMap<Token, Client> = HashMap::new();
    let mut timers = Timers::default();
    let mut next = 1usize;
    let mut events = Events::with_capacity(256);
    // One read buffer for every connection: `receive` copies what it is given.
    let mut buf = vec![0u8; 64 * 1024];
    // When the heap's free pages next go back to the system (common/allocator.rs).
    let mut next_trim = allocator::trims().then_some(allocator::TRIM_EVERY);
    loop {
        // Sleep until the earliest deadline of any connection (or of the allocator's trim).
        let now = origin.elapsed();
        let deadline = [timers.next(&clients), next_trim]
            .into_iter()
            .flatten()
            .min();
        poll.poll(&mut events, deadline.map(|d| d.saturating_sub(now)))?;
        let now = origin.elapsed();
        if let Some(at) = next_trim.filter(|&at| at <= now) {
            allocator::give_back_free_pages();
            next_trim =
                Some(at.max(now.saturating_sub(allocator::TRIM_EVERY)) + allocator::TRIM_EVERY);
        }

        for event in events.iter() {
            if event.token() == LISTENER {
                loop {
                    match listener.accept() {
                        Ok((mut socket, peer)) => {
                            let token = Token(next);
                            next += 1;
                            // Small messages go out at once, not after the peer's delayed ACK.
                            socket.set_nodelay(true)?;
                            poll.registry().register(
                                &mut socket,
                                token,
                                Interest::READABLE | Interest::WRITABLE,
                            )?;
                            let config = Config::default().keepalive(Some(timeouts.keepalive));
                            let conn = Connection::server_upgrade(config, handshake_config());
                            let mut client = Client {
                                socket,
                                peer,
                                conn,
                                handshake_deadline: Some(now.saturating_add(timeouts.handshake)),
                                close_at: Some(now.saturating_add(timeouts.max_lifetime)),
                                scheduled: None,
                                linger_until: None,
                            };
                            timers.schedule(token, &mut client, now);
                            clients.insert(token, client);
                        }
                        Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                        Err(e) => return Err(e),
                    }
                }
                continue;
            }
            let token = event.token();
            let Some(client) = clients.get_mut(&token) else {
                continue;
            };
            if service(client, &mut buf, now) {
                timers.schedule(token, client, now);
            } else if let Some(mut c) = clients.remove(&token) {
                let _ = poll.registry().deregister(&mut c.socket);
            }
        }
        // Timers: fire what is due, then let those connections write or finish.
        while let Some(token) = timers.pop_due(&mut clients, now) {
            let client = clients.get_mut(&token).expect("live entries only");
            if client.on_timer(&mut buf, now) {
                timers.schedule(token, client, now);
            } else if let Some(mut c) = clients.remove(&token) {
                let _ = poll.registry().deregister(&mut c.socket);
            }
        }
    }
}
