//! A small blocking broadcast server, the kind of program a newcomer writes first: one
//! thread per connection, a shared list of channels, every text message sent to everyone.
//!
//!     cargo run --example std_chat -- 127.0.0.1:9004
//!
//! Each connection thread waits on its socket with a short read timeout and, between reads,
//! forwards whatever other connections broadcast.

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sansws::bytes::Bytes;
use sansws::handshake::{Accept, HandshakeConfig};
use sansws::{Config, Connection, Event, Transport};

type Room = Arc<Mutex<Vec<Sender<Bytes>>>>;

fn broadcast(room: &Room, text: Bytes) {
    // Members whose thread ended are dropped from the room.
    room.lock()
        .unwrap()
        .retain(|member| member.send(text.clone()).is_ok());
}

fn member(mut stream: TcpStream, room: Room, inbox: Receiver<Bytes>) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_millis(50)))?;
    let mut conn = Connection::server_upgrade(Config::default(), HandshakeConfig::default());
    let mut buf = [0u8; 8192];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => conn.receive_eof(),
            Ok(n) => {
                conn.receive(&buf[..n]);
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) => return Err(e),
        }
        while let Some(event) = conn.next_event() {
            match event {
                Ok(Event::UpgradeRequest) => {
                    let _ = conn.accept(Accept::new());
                }
                Ok(Event::Text(text)) => broadcast(&room, text),
                Ok(_) => {}
                Err(e) => eprintln!("member left with an error: {e}"),
            }
        }
        while let Ok(text) = inbox.try_recv() {
            // Not open yet, or closing: the message is dropped for this member.
            let _ = conn.send(sansws::MessageKind::Text, &text);
        }
        stream.write_all(conn.pending_output())?;
        let n = conn.output_len();
        conn.advance_output(n);
        if conn.transport() != Transport::Open {
            return Ok(());
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
        let (tx, rx) = channel();
        room.lock().unwrap().push(tx);
        let room = room.clone();
        std::thread::spawn(move || {
            if let Err(e) = member(stream, room, rx) {
                eprintln!("member: {e}");
            }
        });
    }
    Ok(())
}
