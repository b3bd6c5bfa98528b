//! A broadcast chat server on the async stream (`sansws::stream`): the request's path names
//! the room (`ws://127.0.0.1:9004/lobby`), and every text message a member sends goes to
//! everyone in its room.
//!
//!     cargo run --release --features tokio --example tokio_chat -- 127.0.0.1:9004
//!
//! A member that reads slowly, or not at all, must not make the server keep every message
//! for it. Each member has a queue of at most `QUEUE` messages; a broadcast never waits for
//! it (`try_send`), and a member whose queue is full is evicted: it leaves the room and its
//! task closes the connection with 1013 (try again later). What the server holds for a member
//! is bounded by its queue and by the stream's high-water mark: the member's writer takes the
//! next message from its queue only once the stream accepted the previous one, which it does
//! while the connection's unsent output is below the mark.
//!
//! Each member's stream is split: a reader broadcasts what the member says, a writer sends it
//! what the room says. Both run in the member's task and both move the connection on, so
//! pings are answered and timers fire whichever of them is waiting.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use sansws::handshake::AcceptOptions;
use sansws::stream::{Message, Rejection, StreamBuilder, WebSocketStream};
use sansws::{CloseCode, CloseFrame, Config, Utf8Bytes};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{mpsc, oneshot};

/// Broadcasts waiting for one member: what the server keeps for a member at most.
const QUEUE: usize = 64;
/// The close code for an evicted member: 1013 (try again later) says the server would not
/// buffer more for it; 1008 (policy violation) would blame a message it sent.
const TOO_SLOW: CloseCode = CloseCode(1013);

/// A member, as its room sees it.
struct Seat {
    inbox: mpsc::Sender<Utf8Bytes>,
    /// Dropped when the member is evicted, which its task notices at once.
    _evict: oneshot::Sender<()>,
}

type Rooms = Arc<Mutex<HashMap<String, HashMap<u64, Seat>>>>;

/// Sends `text` to every member of `room`; evicts those whose queue is full. The text is
/// shared by all queues, not copied.
fn broadcast(rooms: &Rooms, room: &str, text: &Utf8Bytes) {
    let mut rooms = rooms.lock().unwrap();
    if let Some(members) = rooms.get_mut(room) {
        members.retain(|id, seat| match seat.inbox.try_send(text.clone()) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) => {
                eprintln!("member {id} of {room} is too slow: evicted");
                false
            }
            Err(TrySendError::Closed(_)) => false,
        });
    }
}

fn leave(rooms: &Rooms, room: &str, id: u64) {
    let mut rooms = rooms.lock().unwrap();
    if let Some(members) = rooms.get_mut(room) {
        members.remove(&id);
        if members.is_empty() {
            rooms.remove(room);
        }
    }
}

async fn member(ws: WebSocketStream<TcpStream>, rooms: Rooms, room: String, id: u64) {
    let (inbox_tx, mut inbox) = mpsc::channel::<Utf8Bytes>(QUEUE);
    let (evict, mut evicted) = oneshot::channel::<()>();
    rooms
        .lock()
        .unwrap()
        .entry(room.clone())
        .or_default()
        .insert(
            id,
            Seat {
                inbox: inbox_tx,
                _evict: evict,
            },
        );
    let (mut sink, mut stream) = ws.split();

    let evicted = {
        let reader = async {
            while let Some(message) = stream.next().await {
                match message {
                    Ok(Message::Text(text)) => broadcast(&rooms, &room, &text),
                    Ok(_) => {}
                    // The close frame for it is queued; the stream ends after it.
                    Err(e) => eprintln!("member {id}: {e}"),
                }
            }
        };
        // Returns once the member is evicted.
        let writer = async {
            loop {
                let text = tokio::select! {
                    _ = &mut evicted => return,
                    text = inbox.recv() => match text {
                        Some(text) => text,
                        None => return,
                    },
                };
                // Waits while the connection's unsent output is above the high-water mark;
                // an eviction ends the wait.
                tokio::select! {
                    sent = sink.send(Message::Text(text)) => if sent.is_err() {
                        // The connection is over: the reader sees its end.
                        return std::future::pending().await;
                    },
                    _ = &mut evicted => return,
                }
            }
        };
        tokio::select! {
            _ = reader => false,
            _ = writer => true,
        }
    };
    leave(&rooms, &room, id);
    if evicted {
        // 1013 right behind what is already on its way to the member (whatever the
        // high-water mark), then the end of the connection: the member's answer or the close
        // timeout, then the flush timeout at most.
        let mut ws = sink.reunite(stream).expect("the two halves of one stream");
        let too_slow = CloseFrame {
            code: TOO_SLOW,
            reason: "too slow".into(),
        };
        if let Err(e) = ws.close_with(Some(too_slow)).await {
            eprintln!("member {id}: {e}");
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9004".into());
    let builder = Arc::new(
        StreamBuilder::new()
            .config(
                Config::default()
                    .max_message_size(64 << 10)
                    .keepalive(Some(Duration::from_secs(30))),
            )
            .high_water(256 << 10),
    );
    let rooms: Rooms = Arc::default();
    let ids = AtomicU64::new(0);
    let listener = TcpListener::bind(&addr).await?;
    eprintln!("tokio_chat listening on ws://{addr}/<room>");
    loop {
        let (tcp, peer) = listener.accept().await?;
        tcp.set_nodelay(true)?;
        let (builder, rooms) = (builder.clone(), rooms.clone());
        let id = ids.fetch_add(1, Ordering::Relaxed);
        tokio::spawn(async move {
            let mut room = String::new();
            let accepted = builder.accept_with(tcp, |request| {
                room = request.target.trim_start_matches('/').to_string();
                if room.is_empty() {
                    return Err(Rejection::new(404).body("ws://host/<room>"));
                }
                Ok(AcceptOptions::new())
            });
            match tokio::time::timeout(Duration::from_secs(10), accepted).await {
                Ok(Ok(ws)) => member(ws, rooms, room, id).await,
                Ok(Err(e)) => eprintln!("{peer}: {e}"),
                Err(_) => eprintln!("{peer}: no upgrade request within 10 s"),
            }
        });
    }
}
