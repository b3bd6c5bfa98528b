//! A small broadcast server on plain std threads, the kind of program a newcomer writes
//! first: one thread per connection, a shared list of members, every text message sent to
//! everyone.
//!
//!     cargo run --example std_chat -- 127.0.0.1:9004
//!
//! A member that reads slowly, or not at all, must not make the server keep every message for
//! it. Each member has a queue of at most `QUEUE` messages; a broadcast never waits for it
//! (`try_send`), and a member whose queue is full is evicted: it leaves the room and its
//! thread closes the connection with 1013. A member's thread takes broadcasts from its queue
//! only while its socket keeps up, so the queue fills when the member falls behind, and the
//! server keeps at most `QUEUE` messages (shared with the other members' queues) and about
//! `HIGH_WATER` bytes of output for it.
//!
//! A thread cannot wait on a socket and a channel at once. Each one waits on its queue, so
//! broadcasts go out as they arrive (a thread asleep in a socket read would let its queue
//! fill during a burst, and be evicted for it), and looks at its socket, which does not block,
//! at least every `TICK`: a member's own messages are noticed within `TICK`. An event loop
//! (as in `mio_echo.rs`) or async tasks (`tokio::select!`, as in `tokio_echo.rs`) can wait
//! on both.

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sansws::handshake::{AcceptOptions, HandshakeConfig};
use sansws::{CloseCode, Config, Connection, Event, Transport, Utf8Bytes};

/// Broadcasts waiting for one member: what the server keeps for a member at most.
const QUEUE: usize = 64;
/// A member takes no more broadcasts from its queue while this much output waits for its
/// socket; the queue then fills up, and the member is evicted.
const HIGH_WATER: usize = 256 << 10;
/// How often a member's thread looks at its socket when no broadcast wakes it up.
const TICK: Duration = Duration::from_millis(50);
/// The close code for an evicted member: 1013 (try again later) says the server would not
/// buffer more for it, which it may retry; 1008 (policy violation) would blame a message the
/// member sent, and it sent nothing wrong.
const TOO_SLOW: CloseCode = CloseCode(1013);

/// A member, as the room sees it.
struct Seat {
    inbox: SyncSender<Utf8Bytes>,
    /// Set when the inbox was found full; the member's thread then closes the connection.
    evicted: Arc<AtomicBool>,
}

type Room = Arc<Mutex<Vec<Seat>>>;

fn broadcast(room: &Room, text: Utf8Bytes) {
    room.lock()
        .unwrap()
        .retain(|seat| match seat.inbox.try_send(text.clone()) {
            Ok(()) => true,
            // Too far behind: out of the room.
            Err(TrySendError::Full(_)) => {
                seat.evicted.store(true, Ordering::Relaxed);
                false
            }
            // The member's thread has ended.
            Err(TrySendError::Disconnected(_)) => false,
        });
}

fn member(
    mut stream: TcpStream,
    room: Room,
    inbox: Receiver<Utf8Bytes>,
    evicted: Arc<AtomicBool>,
) -> std::io::Result<()> {
    // Reads and writes return at once (WouldBlock) instead of waiting: the thread waits on
    // its inbox instead, so a broadcast is forwarded as soon as it arrives.
    stream.set_nonblocking(true)?;
    stream.set_write_timeout(Some(TICK))?; // for the one blocking write, below
    let origin = Instant::now();
    // Chat lines are small: a 64 KiB message limit bounds what each queued broadcast can hold
    // (the default, 64 MiB, is for servers that expect large messages).
    let config = Config::default()
        .max_message_size(64 << 10)
        .max_frame_size(64 << 10);
    let mut conn = Connection::server_upgrade(config, HandshakeConfig::default());
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        let mut idle = true;
        match stream.read(&mut buf) {
            Ok(0) => conn.receive_eof(),
            Ok(n) => {
                conn.receive(&buf[..n]);
                idle = false;
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => idle = false,
            Err(e) => return Err(e),
        }
        while let Some(event) = conn.next_event() {
            match event {
                Ok(Event::UpgradeRequest) => {
                    let _ = conn.accept(AcceptOptions::new());
                }
                Ok(Event::Text(text)) => broadcast(&room, text),
                Ok(_) => {}
                Err(e) => eprintln!("member left with an error: {e}"),
            }
        }
        if evicted.swap(false, Ordering::Relaxed) {
            eprintln!("member evicted: {QUEUE} messages behind");
            // The close frame goes out after what is already queued; if the peer does not
            // answer it, the close timeout below ends the connection.
            if conn.close(TOO_SLOW, "too slow, messages dropped").is_err() {
                return Ok(());
            }
        }
        // Forward broadcasts, taking them from the queue only while the socket keeps up.
        loop {
            while conn.pending_output_len() < HIGH_WATER {
                let Ok(text) = inbox.try_recv() else { break };
                // Not open yet, or closing: the message is dropped for this member.
                let _ = conn.send_text(&text);
            }
            if conn.pending_output_len() == 0 {
                break;
            }
            match stream.write(conn.pending_output()) {
                Ok(n) => conn.advance_output(n),
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        // The close timeout, on this thread's clock.
        let now = origin.elapsed();
        if conn
            .poll_timeout(now)
            .is_some_and(|deadline| deadline <= now)
        {
            conn.handle_timeout(now);
        }
        if conn.transport() != Transport::Open {
            // Write what the socket takes now, then close it.
            let _ = stream.write_all(conn.pending_output());
            return Ok(());
        }
        if idle {
            // Nothing came in: wait for the next broadcast, TICK at most.
            if conn.pending_output_len() < HIGH_WATER {
                match inbox.recv_timeout(TICK) {
                    Ok(text) => {
                        let _ = conn.send_text(&text);
                    }
                    Err(RecvTimeoutError::Timeout) => {}
                    // Evicted: no more broadcasts will come.
                    Err(RecvTimeoutError::Disconnected) => std::thread::sleep(TICK),
                }
            } else {
                // The peer is behind, and nothing is taken from the queue until it catches up
                // (the queue fills meanwhile, and a full queue evicts): wait on the socket
                // instead, with a write that blocks until the peer makes room, TICK at most.
                stream.set_nonblocking(false)?;
                let written = stream.write(conn.pending_output());
                stream.set_nonblocking(true)?;
                match written {
                    Ok(n) => conn.advance_output(n),
                    Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
        }
    }
}

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9004".into());
    let listener = TcpListener::bind(&addr)?;
    eprintln!("std_chat listening on ws://{addr}");
    let room: Room = Arc::default();
    for stream in listener.incoming() {
        let stream = stream?;
        let (inbox, rx) = sync_channel(QUEUE);
        let evicted = Arc::new(AtomicBool::new(false));
        room.lock().unwrap().push(Seat {
            inbox,
            evicted: evicted.clone(),
        });
        let room = room.clone();
        std::thread::spawn(move || {
            if let Err(e) = member(stream, room, rx, evicted) {
                eprintln!("member: {e}");
            }
        });
    }
    Ok(())
}
