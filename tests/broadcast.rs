//! A prepared message broadcast to 1,000 connections holds its payload once: the heap grows
//! by the connections' small bookkeeping, not by 1,000 copies of the payload (counted by a
//! global allocator). The figures against tungstenite are in benches/broadcast.rs.

mod common;

use bytes::Bytes;
use sansws::{Config, Connection, Event, PreparedMessage};

#[global_allocator]
static GLOBAL: common::counting::Counting = common::counting::Counting;

const CONNECTIONS: usize = 1_000;
const SIZE: usize = 1 << 20;

#[test]
fn a_broadcast_holds_the_payload_once() {
    let payload = Bytes::from(vec![0x5a; SIZE]);
    let mut conns: Vec<Connection> = (0..CONNECTIONS)
        .map(|_| Connection::server(Config::default()))
        .collect();
    let base = common::counting::live();
    let message = PreparedMessage::binary(payload.clone());
    for conn in &mut conns {
        conn.send_prepared(&message).unwrap();
    }
    let gained = common::counting::live_since(base);
    println!("{CONNECTIONS} connections hold {SIZE} B each in {gained} B of new heap");
    assert!(conns.iter().all(|c| c.pending_output_len() > SIZE));
    // Less than one more copy of the payload in all: each connection adds a header and the
    // queue's bookkeeping (about 200 bytes), none adds the payload.
    assert!(gained < SIZE, "{gained} B for {CONNECTIONS} connections");
    assert!(
        gained / CONNECTIONS < 512,
        "{} B per connection",
        gained / CONNECTIONS
    );
    // And what they queued is the message.
    let mut client = common::client_seeded(Config::default(), 1);
    client.receive(&common::drain(&mut conns[CONNECTIONS - 1]));
    assert_eq!(client.next_event(), Some(Ok(Event::Binary(payload))));
}
