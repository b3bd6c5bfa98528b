//! An echo server on a hand-written mio event loop: non-blocking sockets, partial writes,
//! backpressure through the pending-output count, and the close handshake timeout driven by
//! the loop's own clock. This is the shape of an epoll or io_uring integration.
//!
//!     cargo run --example mio_echo -- 127.0.0.1:9003

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::time::{Duration, Instant};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use sansws::handshake::{Accept, HandshakeConfig};
use sansws::{Config, Connection, Event, Transport};

const LISTENER: Token = Token(0);
/// Stop reading from a peer while this much output waits for it: a slow reader must not
/// make the server buffer without bound.
const HIGH_WATER: usize = 1 << 20;

struct Client {
    socket: TcpStream,
    conn: Connection,
}

/// Moves bytes for one connection until its socket would block. Returns false when the
/// connection is over and its socket should be dropped.
fn service(client: &mut Client, buf: &mut [u8], now: Duration) -> bool {
    let Client { socket, conn } = client;
    loop {
        let mut progress = false;
        // Read, unless the peer is not taking our output.
        if conn.output_len() < HIGH_WATER && conn.transport() != Transport::Close {
            match socket.read(buf) {
                Ok(0) => conn.receive_eof(),
                Ok(n) => {
                    conn.receive(&buf[..n]);
                    progress = true;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => progress = true,
                Err(_) => return false,
            }
        }
        while let Some(event) = conn.next_event() {
            match event {
                Ok(Event::UpgradeRequest) => {
                    let _ = conn.accept(Accept::new());
                }
                Ok(Event::Text(t)) => {
                    let _ = conn.send(sansws::MessageKind::Text, &t);
                }
                Ok(Event::Binary(b)) => {
                    let _ = conn.send_binary(&b);
                }
                Ok(_) => {}
                Err(e) => eprintln!("connection failed: {e}"),
            }
        }
        // Write what the socket takes; the rest waits for the next writable event.
        while conn.output_len() > 0 {
            match socket.write(conn.pending_output()) {
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
        if conn.transport() == Transport::Close && conn.output_len() == 0 {
            return false;
        }
        let _ = conn.poll_timeout(now);
        if !progress {
            return true;
        }
    }
}

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9003".into());
    let mut listener = TcpListener::bind(addr.parse().map_err(std::io::Error::other)?)?;
    let mut poll = Poll::new()?;
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    eprintln!("mio_echo listening on ws://{addr}");

    let origin = Instant::now();
    let mut clients: HashMap<Token, Client> = HashMap::new();
    let mut next = 1usize;
    let mut events = Events::with_capacity(256);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        // Sleep until the earliest connection deadline (close handshake timeout).
        let now = origin.elapsed();
        let deadline = clients
            .values_mut()
            .filter_map(|c| c.conn.poll_timeout(now))
            .min();
        poll.poll(&mut events, deadline.map(|d| d.saturating_sub(now)))?;
        let now = origin.elapsed();

        for event in events.iter() {
            if event.token() == LISTENER {
                loop {
                    match listener.accept() {
                        Ok((mut socket, _)) => {
                            let token = Token(next);
                            next += 1;
                            poll.registry().register(
                                &mut socket,
                                token,
                                Interest::READABLE | Interest::WRITABLE,
                            )?;
                            let conn = Connection::server_upgrade(
                                Config::default(),
                                HandshakeConfig::default(),
                            );
                            clients.insert(token, Client { socket, conn });
                        }
                        Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                        Err(e) => return Err(e),
                    }
                }
                continue;
            }
            let token = event.token();
            let alive = clients
                .get_mut(&token)
                .is_some_and(|c| service(c, &mut buf, now));
            if !alive {
                if let Some(mut c) = clients.remove(&token) {
                    let _ = poll.registry().deregister(&mut c.socket);
                }
            }
        }
        // Timers: fire what is due, then let those connections write or finish.
        let due: Vec<Token> = clients
            .iter_mut()
            .filter_map(|(t, c)| {
                c.conn
                    .poll_timeout(now)
                    .is_some_and(|d| d <= now)
                    .then_some(*t)
            })
            .collect();
        for token in due {
            let client = clients.get_mut(&token).expect("listed above");
            client.conn.handle_timeout(now);
            if !service(client, &mut buf, now) {
                if let Some(mut c) = clients.remove(&token) {
                    let _ = poll.registry().deregister(&mut c.socket);
                }
            }
        }
    }
}
