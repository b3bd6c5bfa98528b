//! The closing handshake (RFC 6455 §7), who closes the transport, and the caller-driven timers.

mod common;

use std::time::Duration;

use common::{client_seeded, drain, feed_chunked, frames};
use sansws::{CloseCode, Config, Connection, Error, Event, SendError, State, Transport};

/// `config` with only the close timeout and keepalive it sets: the send timeout and the idle
/// timer (tests/send_timeout.rs, tests/idle_timer.rs) would add deadlines of their own to the
/// ones these tests read.
fn only_close_timers(config: Config) -> Config {
    config.send_timeout(None).idle_timeout(None)
}

fn pair(config: Config) -> (Connection, Connection) {
    (
        client_seeded(config.clone(), 11),
        Connection::server(config),
    )
}

fn pump(from: &mut Connection, to: &mut Connection) -> Vec<Result<Event, Error>> {
    let wire = drain(from);
    feed_chunked(to, &wire, &[wire.len().max(1)])
}

#[test]
fn client_initiated_close_then_server_closes_transport_first() {
    let (mut client, mut server) = pair(Config::default());
    client.close(CloseCode::NORMAL, "bye").unwrap();
    assert_eq!(client.state(), State::CloseSent);
    assert_eq!(client.send_text("late"), Err(SendError::Closed));
    let events = pump(&mut client, &mut server);
    assert!(
        matches!(&events[..], [Ok(Event::Close(Some(f)))] if f.code == CloseCode::NORMAL && f.reason.as_str() == "bye")
    );
    assert_eq!(server.state(), State::Closed);
    assert_eq!(
        server.transport(),
        Transport::Close,
        "the server closes the TCP connection"
    );
    let events = pump(&mut server, &mut client);
    assert!(matches!(&events[..], [Ok(Event::Close(Some(f)))] if f.code == CloseCode::NORMAL));
    assert_eq!(client.state(), State::Closed);
    assert_eq!(
        client.transport(),
        Transport::AwaitPeerClose,
        "the client waits for the server"
    );
    // The server's TCP close arrives.
    client.receive_eof();
    assert_eq!(client.next_event(), None);
    assert_eq!(client.transport(), Transport::Close);
}

#[test]
fn data_keeps_flowing_to_the_closer_until_the_peer_closes() {
    let (mut client, mut server) = pair(Config::default());
    server.close(CloseCode::GOING_AWAY, "").unwrap();
    client.send_text("in flight").unwrap();
    let events = pump(&mut client, &mut server);
    assert_eq!(events, vec![Ok(Event::Text("in flight".into()))]);
    assert_eq!(server.state(), State::CloseSent);
    // The client gets the close and echoes its code.
    let events = pump(&mut server, &mut client);
    assert!(matches!(&events[..], [Ok(Event::Close(Some(f)))] if f.code == CloseCode::GOING_AWAY));
    let reply = drain(&mut client);
    assert_eq!(frames(&reply), vec![(0x8, true, vec![0x03, 0xe9])]);
    feed_chunked(&mut server, &reply, &[1]);
    assert_eq!(server.state(), State::Closed);
}

#[test]
fn manual_close_reply_when_auto_close_is_off() {
    let (mut client, mut server) = pair(Config::default().auto_close(false));
    client.close(CloseCode(4000), "app").unwrap();
    let events = pump(&mut client, &mut server);
    assert!(matches!(&events[..], [Ok(Event::Close(Some(f)))] if f.code == CloseCode(4000)));
    assert_eq!(server.state(), State::CloseReceived);
    assert_eq!(server.pending_output_len(), 0, "no automatic reply");
    server.send_text("a last word is allowed").unwrap();
    server.close(CloseCode(4000), "").unwrap();
    assert_eq!(server.state(), State::Closed);
    let out = frames(&drain(&mut server));
    assert_eq!(out.len(), 2);
}

#[test]
fn empty_close_is_answered_with_an_empty_close() {
    let mut server = Connection::server(Config::default());
    let mut raw = client_seeded(Config::default(), 5);
    raw.send_ping(b"").unwrap();
    let mut wire = drain(&mut raw);
    wire.extend([0x88, 0x80, 1, 2, 3, 4]);
    let events = feed_chunked(&mut server, &wire, &[2]);
    assert_eq!(
        events,
        vec![Ok(Event::Ping("".into())), Ok(Event::Close(None))]
    );
    assert_eq!(
        frames(&drain(&mut server)),
        vec![(0xA, true, vec![]), (0x8, true, vec![])]
    );
}

#[test]
fn auto_pong_can_be_turned_off_and_nothing_follows_a_close() {
    let (mut client, mut server) = pair(Config::default().auto_pong(false));
    client.send_ping(b"x").unwrap();
    assert_eq!(
        pump(&mut client, &mut server),
        vec![Ok(Event::Ping("x".into()))]
    );
    assert_eq!(server.pending_output_len(), 0);
    let (mut client, mut server) = pair(Config::default());
    server.close(CloseCode::NORMAL, "").unwrap();
    drain(&mut server);
    client.send_ping(b"x").unwrap();
    assert_eq!(
        pump(&mut client, &mut server),
        vec![Ok(Event::Ping("x".into()))]
    );
    assert_eq!(
        server.pending_output_len(),
        0,
        "no pong after our close frame"
    );
    assert_eq!(server.send_pong(b""), Err(SendError::Closed));
    assert_eq!(server.close(CloseCode::NORMAL, ""), Err(SendError::Closed));
}

#[test]
fn close_arguments_are_checked() {
    let mut server = Connection::server(Config::default());
    for code in [1004u16, 1005, 1006, 1015, 999, 5000] {
        assert_eq!(
            server.close(CloseCode(code), ""),
            Err(SendError::InvalidCloseCode(code))
        );
    }
    assert_eq!(
        server.close(CloseCode::NORMAL, &"x".repeat(124)),
        Err(SendError::ControlFrameTooLong)
    );
    assert_eq!(
        server.send_ping(&[0; 126]),
        Err(SendError::ControlFrameTooLong)
    );
    assert_eq!(server.pending_output_len(), 0);
    server.close(CloseCode::NORMAL, &"x".repeat(123)).unwrap();
    assert_eq!(frames(&drain(&mut server))[0].2.len(), 125);
}

#[test]
fn close_timeout_uses_the_callers_clock() {
    let mut server = Connection::server(only_close_timers(
        Config::default().close_timeout(Some(Duration::from_secs(5))),
    ));
    assert_eq!(
        server.poll_timeout(Duration::from_secs(100)),
        None,
        "no timer while open"
    );
    server.close(CloseCode::NORMAL, "").unwrap();
    assert_eq!(
        server.poll_timeout(Duration::from_secs(100)),
        Some(Duration::from_secs(105))
    );
    assert_eq!(
        server.poll_timeout(Duration::from_secs(103)),
        Some(Duration::from_secs(105)),
        "deadline kept"
    );
    server.handle_timeout(Duration::from_secs(104));
    assert_eq!(server.state(), State::CloseSent);
    server.handle_timeout(Duration::from_secs(105));
    assert_eq!(server.state(), State::Closed);
    assert_eq!(server.transport(), Transport::Close);
    assert_eq!(server.poll_timeout(Duration::from_secs(106)), None);
}

#[test]
fn client_gives_up_waiting_for_the_server_to_close_the_transport() {
    let (mut client, mut server) = pair(only_close_timers(Config::default()));
    client.close(CloseCode::NORMAL, "").unwrap();
    pump(&mut client, &mut server);
    pump(&mut server, &mut client);
    assert_eq!(client.transport(), Transport::AwaitPeerClose);
    let deadline = client.poll_timeout(Duration::ZERO).expect("timer armed");
    client.handle_timeout(deadline);
    assert_eq!(client.transport(), Transport::Close);
}

#[test]
fn keepalive_pings_then_gives_up_on_silence() {
    let interval = Duration::from_secs(10);
    let mut server = Connection::server(only_close_timers(
        Config::default().keepalive(Some(interval)),
    ));
    assert_eq!(server.poll_timeout(Duration::ZERO), Some(interval));
    server.handle_timeout(interval);
    assert_eq!(
        frames(&drain(&mut server)),
        vec![(0x9, true, vec![])],
        "a ping after a quiet interval"
    );
    // An answer resets the clock.
    let mut client = client_seeded(Config::default(), 1);
    client.send_pong(b"").unwrap();
    assert_eq!(
        pump(&mut client, &mut server),
        vec![Ok(Event::Pong("".into()))]
    );
    assert_eq!(server.poll_timeout(interval * 2), Some(interval * 3));
    server.handle_timeout(interval * 3);
    assert_eq!(frames(&drain(&mut server)).len(), 1, "second ping");
    assert_eq!(server.poll_timeout(interval * 3), Some(interval * 4));
    server.handle_timeout(interval * 4);
    assert_eq!(server.next_event(), Some(Err(Error::KeepaliveTimeout)));
    assert_eq!(server.transport(), Transport::Close);
    assert_eq!(
        server.pending_output_len(),
        0,
        "nothing is sent to a silent peer"
    );
}

#[test]
fn transport_end_before_close_is_abnormal() {
    let (mut client, mut server) = pair(Config::default());
    client.send_text("partial").unwrap();
    let wire = drain(&mut client);
    server.receive(&wire[..4]);
    server.receive_eof();
    assert_eq!(server.next_event(), Some(Err(Error::UnexpectedEof)));
    assert_eq!(Error::UnexpectedEof.close_code(), CloseCode::ABNORMAL);
    assert_eq!(server.pending_output_len(), 0, "1006 is never sent");
    assert_eq!(server.transport(), Transport::Close);
}

#[test]
fn partial_writes_and_backpressure() {
    let mut server = Connection::server(Config::default());
    server.send_binary(&[1u8; 1000]).unwrap();
    server.send_text("tail").unwrap();
    let total = server.pending_output_len();
    assert_eq!(total, 4 + 1000 + 2 + 4);
    let mut written = Vec::new();
    while server.pending_output_len() > 0 {
        let n = server.pending_output().len().min(333);
        written.extend_from_slice(&server.pending_output()[..n]);
        server.advance_output(n);
    }
    let f = frames(&written);
    assert_eq!(f.len(), 2);
    assert_eq!(f[1].2, b"tail");
    server.send_text("again").unwrap();
    assert_eq!(&drain(&mut server)[2..], b"again");
    assert_eq!(server.pending_output_len(), 0);
}

#[test]
fn input_that_arrived_before_a_close_timeout_is_still_decoded() {
    let (mut client, mut server) = pair(only_close_timers(Config::default()));
    server.close(CloseCode::NORMAL, "").unwrap();
    let deadline = server
        .poll_timeout(Duration::ZERO)
        .expect("close timer armed");
    // The peer's message arrives, but the caller fires the timer before decoding it.
    client.send_text("late but whole").unwrap();
    let wire = drain(&mut client);
    server.receive(&wire);
    assert_eq!(server.pending_input_len(), wire.len());
    server.handle_timeout(deadline);
    assert_eq!(server.state(), State::Closed);
    assert_eq!(server.transport(), Transport::Close);
    assert_eq!(
        server.next_event(),
        Some(Ok(Event::Text("late but whole".into()))),
        "nothing the peer sent correctly is lost"
    );
    assert_eq!(server.next_event(), None);
    server.receive(b"\x81");
    assert_eq!(
        server.pending_input_len(),
        0,
        "no more input after the timeout"
    );
}

#[test]
fn keepalive_does_not_run_during_the_opening_handshake() {
    use sansws::entropy::OsEntropy;
    use sansws::handshake::{ClientRequest, HandshakeConfig};
    let interval = Duration::from_secs(1);
    let config = only_close_timers(Config::default().keepalive(Some(interval)));
    let mut server = Connection::server_upgrade(config.clone(), HandshakeConfig::default());
    server.receive(b"GET / HTTP/1.1\r\nHost: x\r\n");
    assert_eq!(server.next_event(), None);
    assert_eq!(
        server.poll_timeout(Duration::ZERO),
        None,
        "no keepalive yet"
    );
    server.handle_timeout(interval * 5);
    assert_eq!(server.pending_output_len(), 0, "no ping ahead of the 101");

    let mut client = Connection::client_upgrade(
        config,
        &HandshakeConfig::default(),
        &ClientRequest::new("x", "/"),
        Box::new(OsEntropy::new()),
    )
    .unwrap();
    let request_len = client.pending_output_len();
    assert_eq!(client.poll_timeout(Duration::ZERO), None);
    client.handle_timeout(interval * 5);
    assert_eq!(
        client.pending_output_len(),
        request_len,
        "only the upgrade request"
    );
    assert_eq!(
        client.next_event(),
        None,
        "no keepalive failure mid-handshake"
    );
}
