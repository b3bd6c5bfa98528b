//! WebSockets over HTTP/3 (RFC 9220) between two sansws connections, carried by Cloudflare's
//! quiche (QUIC and HTTP/3, sans IO like sansws) over UDP on loopback, TLS checked against a
//! test CA. The server advertises SETTINGS_ENABLE_CONNECT_PROTOCOL; the client waits for it,
//! sends an extended CONNECT that sansws refuses (400 from `error_fields`), then one that is
//! accepted, and runs a WebSocket on that stream: messages both ways with permessage-deflate
//! under QUIC flow control, then a clean close, each side ending its half of the stream.
//!
//! quiche leaves the checking of request fields to the application (its `Event::Headers`
//! says so); here that is `sansws::handshake::h2::parse_request`, the same checks as over
//! HTTP/2.

use std::fs;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use quiche::h3::NameValue;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use sansws::entropy::OsEntropy;
use sansws::extensions::deflate::{DeflateConfig, PerMessageDeflate};
use sansws::handshake::h2 as ws_h2;
use sansws::handshake::{ClientOutcome, ClientRequest, HandshakeConfig, RefusedResponse};
use sansws::{CloseCode, CloseFrame, Config, Connection, Event, MessageKind, State, Transport};
use sansws_http_hosts::settings;
use tokio::net::UdpSocket;
use tokio::time::{timeout, Instant};

/// A bound against a hang, not a timing check: the test ends in about a second.
const LIMIT: Duration = Duration::from_secs(60);

/// H3_NO_ERROR (RFC 9114 §8.1), for closing the QUIC connection when done.
const H3_NO_ERROR: u64 = 0x100;

const GREETING: &str = "hello over HTTP/3 €";

struct Pki {
    ca: String,
    cert: String,
    key: String,
}

/// A test CA and a certificate for `localhost` it signs, as PEM files in `dir`.
fn pki(dir: &Path) -> Pki {
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "sansws h3 test CA");
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
    let mut server = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let key = KeyPair::generate().unwrap();
    let cert = server.signed_by(&key, &ca).unwrap();
    let write = |name: &str, pem: String| {
        let path = dir.join(name);
        fs::write(&path, pem).unwrap();
        path.to_str().unwrap().to_string()
    };
    Pki {
        ca: write("ca.pem", ca.pem()),
        cert: write("server.pem", cert.pem()),
        key: write("server.key", key.serialize_pem()),
    }
}

/// QUIC settings for both sides. Stream windows of 256 KiB make a megabyte message wait for
/// flow-control updates.
fn quic_config(pki: &Pki, server: bool) -> quiche::Config {
    let mut c = quiche::Config::new(quiche::PROTOCOL_VERSION).unwrap();
    c.set_application_protos(quiche::h3::APPLICATION_PROTOCOL)
        .unwrap();
    c.set_max_idle_timeout(30_000);
    c.set_max_recv_udp_payload_size(1350);
    c.set_max_send_udp_payload_size(1350);
    c.set_initial_max_data(1 << 20);
    c.set_initial_max_stream_data_bidi_local(256 << 10);
    c.set_initial_max_stream_data_bidi_remote(256 << 10);
    c.set_initial_max_stream_data_uni(256 << 10);
    c.set_initial_max_streams_bidi(16);
    c.set_initial_max_streams_uni(16);
    c.set_disable_active_migration(true);
    if server {
        c.load_cert_chain_from_pem_file(&pki.cert).unwrap();
        c.load_priv_key_from_pem_file(&pki.key).unwrap();
    } else {
        c.load_verify_locations_from_file(&pki.ca).unwrap();
        c.verify_peer(true);
    }
    c
}

/// A QUIC endpoint: its socket and connection, and the loop's two halves (send what QUIC
/// has, wait for a datagram or a timer).
struct Endpoint {
    socket: UdpSocket,
    local: SocketAddr,
    quic: quiche::Connection,
}

impl Endpoint {
    async fn flush(&mut self) {
        let mut out = [0u8; 1500];
        loop {
            match self.quic.send(&mut out) {
                Ok((n, info)) => {
                    self.socket.send_to(&out[..n], info.to).await.unwrap();
                }
                Err(quiche::Error::Done) => return,
                Err(e) => panic!("quic send: {e}"),
            }
        }
    }

    /// Waits for datagrams (and takes all that arrived), QUIC's timer, or `also` (the
    /// WebSocket's next deadline), whichever comes first.
    async fn wait(&mut self, also: Option<Instant>) {
        let quic_deadline = self.quic.timeout().map(|t| Instant::now() + t);
        let deadline = match (quic_deadline, also) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let mut buf = [0u8; 65535];
        tokio::select! {
            got = self.socket.recv_from(&mut buf) => {
                let (n, from) = got.unwrap();
                self.receive(&mut buf[..n], from);
                while let Ok((n, from)) = self.socket.try_recv_from(&mut buf) {
                    self.receive(&mut buf[..n], from);
                }
            }
            _ = tokio::time::sleep_until(deadline.unwrap_or_else(Instant::now)), if deadline.is_some() => {}
        }
        if quic_deadline.is_some_and(|d| d <= Instant::now()) {
            self.quic.on_timeout();
        }
    }

    fn receive(&mut self, datagram: &mut [u8], from: SocketAddr) {
        let info = quiche::RecvInfo {
            from,
            to: self.local,
        };
        match self.quic.recv(datagram, info) {
            Ok(_) | Err(quiche::Error::Done) => {}
            Err(e) => panic!("quic recv: {e}"),
        }
    }
}

/// A sansws connection on one HTTP/3 request stream: output goes out as QUIC flow control
/// lets it (the rest stays pending in the connection), input comes in on `Data`, the peer's
/// FIN is the end of input, and our FIN follows the connection's `Transport::Close`.
struct WebSocketStream {
    id: u64,
    conn: Connection,
    origin: Instant,
    ended: bool,
    peer_ended: bool,
}

impl WebSocketStream {
    fn new(id: u64, conn: Connection) -> Self {
        Self {
            id,
            conn,
            origin: Instant::now(),
            ended: false,
            peer_ended: false,
        }
    }

    fn on_data(&mut self, h3: &mut quiche::h3::Connection, quic: &mut quiche::Connection) {
        let mut buf = [0u8; 32 * 1024];
        loop {
            match h3.recv_body(quic, self.id, &mut buf) {
                Ok(n) => self.conn.receive(&buf[..n]),
                Err(quiche::h3::Error::Done) => return,
                Err(e) => panic!("recv_body: {e}"),
            }
        }
    }

    fn on_finished(&mut self) {
        self.peer_ended = true;
        self.conn.receive_eof();
    }

    /// Writes what the connection has for the stream, FIN once it says to close, and
    /// returns the WebSocket's next deadline.
    fn write(
        &mut self,
        h3: &mut quiche::h3::Connection,
        quic: &mut quiche::Connection,
    ) -> Option<Instant> {
        if self
            .conn
            .poll_timeout(self.origin.elapsed())
            .is_some_and(|d| d <= self.origin.elapsed())
        {
            self.conn.handle_timeout(self.origin.elapsed());
        }
        while self.conn.pending_output_len() > 0 {
            match h3.send_body(quic, self.id, self.conn.pending_output(), false) {
                Ok(0) | Err(quiche::h3::Error::Done) => break,
                Ok(n) => self.conn.advance_output(n),
                Err(e) => panic!("send_body: {e}"),
            }
        }
        if self.conn.transport() == Transport::Close
            && self.conn.pending_output_len() == 0
            && !self.ended
        {
            match h3.send_body(quic, self.id, &[], true) {
                Ok(_) => self.ended = true,
                Err(quiche::h3::Error::Done) => {}
                Err(e) => panic!("send_body fin: {e}"),
            }
        }
        self.conn
            .poll_timeout(self.origin.elapsed())
            .map(|at| self.origin + at)
    }

    fn done(&self) -> bool {
        self.ended && self.peer_ended
    }
}

/// Reads and drops data on a stream that carries no WebSocket (a refused request's stream
/// ends with an empty DATA frame and FIN).
fn discard_body(h3: &mut quiche::h3::Connection, quic: &mut quiche::Connection, id: u64) {
    let mut buf = [0u8; 4096];
    while let Ok(n) = h3.recv_body(quic, id, &mut buf) {
        assert_eq!(
            n, 0,
            "stream {id} carries no WebSocket, but {n} bytes came on it"
        );
    }
}

fn headers(fields: &[(String, String)]) -> Vec<quiche::h3::Header> {
    fields
        .iter()
        .map(|(n, v)| quiche::h3::Header::new(n.as_bytes(), v.as_bytes()))
        .collect()
}

fn pairs(list: &[quiche::h3::Header]) -> Vec<(Vec<u8>, Vec<u8>)> {
    list.iter()
        .map(|h| (h.name().to_vec(), h.value().to_vec()))
        .collect()
}

/// What the server did.
#[derive(Debug, Default)]
struct ServerSaw {
    refused: Vec<u16>,
    echoed: usize,
    close: Option<CloseFrame>,
    extension: Option<String>,
    subprotocol: Option<String>,
    failure: Option<sansws::Error>,
    websocket_done: bool,
}

async fn server(socket: UdpSocket, pki: Arc<Pki>) -> ServerSaw {
    let local = socket.local_addr().unwrap();
    let mut config = quic_config(&pki, true);
    let mut buf = [0u8; 65535];
    let (n, from) = socket.recv_from(&mut buf).await.unwrap();
    let scid = quiche::ConnectionId::from_ref(&[0x5e; 16]);
    let quic = quiche::accept(&scid, None, local, from, &mut config).unwrap();
    let mut ep = Endpoint {
        socket,
        local,
        quic,
    };
    ep.receive(&mut buf[..n], from);
    let mut h3_config = quiche::h3::Config::new().unwrap();
    h3_config.enable_extended_connect(true);
    let mut h3: Option<quiche::h3::Connection> = None;
    let mut ws: Option<WebSocketStream> = None;
    let mut saw = ServerSaw::default();
    loop {
        if h3.is_none() && ep.quic.is_established() {
            h3 = Some(quiche::h3::Connection::with_transport(&mut ep.quic, &h3_config).unwrap());
        }
        let mut deadline = None;
        if let Some(h3) = h3.as_mut() {
            loop {
                match h3.poll(&mut ep.quic) {
                    Ok((id, quiche::h3::Event::Headers { list, .. })) => {
                        match ws_h2::parse_request(pairs(&list), &settings::handshake()) {
                            Err(error) => {
                                let fields = ws_h2::error_fields(&error);
                                h3.send_response(&mut ep.quic, id, &headers(&fields), true)
                                    .unwrap();
                                saw.refused.push(fields[0].1.parse().unwrap());
                            }
                            Ok(upgrade) => {
                                let options = settings::accept_options(&upgrade.subprotocols);
                                let accepted = upgrade.accept(options).unwrap();
                                h3.send_response(
                                    &mut ep.quic,
                                    id,
                                    &headers(&accepted.fields),
                                    false,
                                )
                                .unwrap();
                                let mut conn = Connection::server(settings::config())
                                    .after_handshake(accepted.negotiated, &[]);
                                conn.send_text(GREETING).unwrap();
                                ws = Some(WebSocketStream::new(id, conn));
                            }
                        }
                    }
                    Ok((id, quiche::h3::Event::Data)) => match ws.as_mut() {
                        Some(ws) if ws.id == id => ws.on_data(h3, &mut ep.quic),
                        _ => discard_body(h3, &mut ep.quic, id),
                    },
                    Ok((id, quiche::h3::Event::Finished)) => {
                        if let Some(ws) = ws.as_mut().filter(|ws| ws.id == id) {
                            ws.on_finished();
                        }
                    }
                    Ok((id, event)) => panic!("stream {id}: unexpected {event:?}"),
                    Err(quiche::h3::Error::Done) => break,
                    Err(e) => panic!("h3 poll: {e}"),
                }
            }
            if let Some(ws) = ws.as_mut() {
                while let Some(event) = ws.conn.next_event() {
                    match event {
                        Ok(Event::Close(frame)) => saw.close = frame,
                        Ok(event @ (Event::Text(_) | Event::Binary(_))) => {
                            saw.echoed += 1;
                            settings::echo(&mut ws.conn, event);
                        }
                        Ok(_) => {}
                        Err(e) => saw.failure = Some(e),
                    }
                }
                deadline = ws.write(h3, &mut ep.quic);
                if ws.done() && !saw.websocket_done {
                    saw.websocket_done = true;
                    saw.extension = ws.conn.extension().map(|e| e.name().to_string());
                    saw.subprotocol = ws.conn.subprotocol().map(String::from);
                    // The server learns last that the stream is over (the client's FIN):
                    // it closes the QUIC connection.
                    ep.quic.close(true, H3_NO_ERROR, b"done").unwrap();
                }
            }
        }
        ep.flush().await;
        if ep.quic.is_closed() {
            return saw;
        }
        ep.wait(deadline).await;
    }
}

fn client_handshake() -> HandshakeConfig {
    HandshakeConfig::default().extension(Arc::new(PerMessageDeflate::new(DeflateConfig::default())))
}

fn messages() -> Vec<(MessageKind, Vec<u8>)> {
    let text = |n: usize| {
        "alpha beta γάμμα € {\"id\": 7} null "
            .repeat(n / 32)
            .into_bytes()
    };
    let random = |n: usize, seed: u32| {
        let mut x = seed;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect::<Vec<u8>>()
    };
    vec![
        (MessageKind::Text, Vec::new()),
        (MessageKind::Binary, random(5000, 3)),
        (MessageKind::Text, text(70_000)),
        (MessageKind::Binary, random(300 << 10, 5)),
        (MessageKind::Text, text(1 << 20)),
        (MessageKind::Binary, Vec::new()),
    ]
}

/// What the client saw.
#[derive(Debug, Default)]
struct ClientSaw {
    refused: Option<RefusedResponse>,
    received: Vec<Vec<u8>>,
    extension: Option<String>,
    subprotocol: Option<String>,
    state: Option<State>,
    failure: Option<sansws::Error>,
}

async fn client(socket: UdpSocket, server: SocketAddr, pki: Arc<Pki>) -> ClientSaw {
    let local = socket.local_addr().unwrap();
    let mut config = quic_config(&pki, false);
    let scid = quiche::ConnectionId::from_ref(&[0xc1; 16]);
    let quic = quiche::connect(Some("localhost"), &scid, local, server, &mut config).unwrap();
    let mut ep = Endpoint {
        socket,
        local,
        quic,
    };
    let h3_config = quiche::h3::Config::new().unwrap();
    let mut h3: Option<quiche::h3::Connection> = None;
    let authority = format!("localhost:{}", server.port());
    let script = messages();
    let mut saw = ClientSaw::default();
    // The request sansws will refuse: a version it does not speak.
    let mut refused_request: Option<(u64, ws_h2::H2ClientHandshake)> = None;
    let mut request: Option<(u64, ws_h2::H2ClientHandshake)> = None;
    let mut ws: Option<WebSocketStream> = None;
    let mut next = 0;
    loop {
        if h3.is_none() && ep.quic.is_established() {
            h3 = Some(quiche::h3::Connection::with_transport(&mut ep.quic, &h3_config).unwrap());
        }
        let mut deadline = None;
        if let Some(h3) = h3.as_mut() {
            loop {
                match h3.poll(&mut ep.quic) {
                    Ok((id, quiche::h3::Event::Headers { list, .. })) => {
                        let pending = [&mut refused_request, &mut request]
                            .into_iter()
                            .find(|r| r.as_ref().is_some_and(|(rid, _)| *rid == id))
                            .expect("a response to a request we sent");
                        let (_, hs) = pending.as_mut().unwrap();
                        match hs.response(pairs(&list)).unwrap() {
                            Some(ClientOutcome::Refused(r)) => {
                                saw.refused = Some(r);
                                // Our half of the refused stream ends too.
                                let _ = h3.send_body(&mut ep.quic, id, &[], true);
                            }
                            Some(ClientOutcome::Accepted(a)) => {
                                let mut conn = Connection::client(
                                    Config::default().max_message_size(8 << 20),
                                    Box::new(OsEntropy::new()),
                                )
                                .after_handshake(a.negotiated, &a.leftover);
                                let (kind, data) = &script[0];
                                conn.send(*kind, data).unwrap();
                                next = 1;
                                ws = Some(WebSocketStream::new(id, conn));
                            }
                            None => {}
                        }
                    }
                    Ok((id, quiche::h3::Event::Data)) => match ws.as_mut() {
                        Some(ws) if ws.id == id => ws.on_data(h3, &mut ep.quic),
                        _ => discard_body(h3, &mut ep.quic, id),
                    },
                    Ok((id, quiche::h3::Event::Finished)) => {
                        if let Some(ws) = ws.as_mut().filter(|ws| ws.id == id) {
                            ws.on_finished();
                        }
                    }
                    Ok((id, event)) => panic!("stream {id}: unexpected {event:?}"),
                    Err(quiche::h3::Error::Done) => break,
                    Err(e) => panic!("h3 poll: {e}"),
                }
            }
            // RFC 9220 §3: extended CONNECT only once the server's SETTINGS allowed it.
            if refused_request.is_none() && h3.extended_connect_enabled_by_peer() {
                let r = ClientRequest::new(authority.as_str(), "/chat");
                let (hs, mut fields) =
                    ws_h2::client_request(&r, "https", &client_handshake()).unwrap();
                for (name, value) in fields.iter_mut() {
                    if name == "sec-websocket-version" {
                        *value = "8".into();
                    }
                }
                let id = h3
                    .send_request(&mut ep.quic, &headers(&fields), false)
                    .unwrap();
                refused_request = Some((id, hs));
            }
            if request.is_none() && saw.refused.is_some() {
                let r = ClientRequest::new(authority.as_str(), "/chat?room=h3")
                    .subprotocol("nope")
                    .subprotocol("chat");
                let (hs, fields) = ws_h2::client_request(&r, "https", &client_handshake()).unwrap();
                let id = h3
                    .send_request(&mut ep.quic, &headers(&fields), false)
                    .unwrap();
                request = Some((id, hs));
            }
            if let Some(ws) = ws.as_mut() {
                while let Some(event) = ws.conn.next_event() {
                    let data = match event {
                        Ok(Event::Text(text)) => text.into_bytes(),
                        Ok(Event::Binary(data)) => data,
                        Ok(_) => continue,
                        Err(e) => {
                            saw.failure = Some(e);
                            continue;
                        }
                    };
                    saw.received.push(data.to_vec());
                    // The greeting, then one echo per message: the next message, or the close.
                    if saw.received.len() > 1 {
                        if next < script.len() {
                            let (kind, data) = &script[next];
                            ws.conn.send(*kind, data).unwrap();
                            next += 1;
                        } else {
                            ws.conn.close(CloseCode::NORMAL, "done").unwrap();
                        }
                    }
                }
                deadline = ws.write(h3, &mut ep.quic);
                if ws.done() && saw.state.is_none() {
                    saw.state = Some(ws.conn.state());
                    saw.extension = ws.conn.extension().map(|e| e.name().to_string());
                    saw.subprotocol = ws.conn.subprotocol().map(String::from);
                }
            }
        }
        ep.flush().await;
        if ep.quic.is_closed() {
            return saw;
        }
        ep.wait(deadline).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_over_h3_with_deflate_a_refusal_and_a_clean_close() {
    let dir = std::env::temp_dir().join(format!("sansws-h3-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    let pki = Arc::new(pki(&dir));
    let server_socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let server_addr = server_socket.local_addr().unwrap();
    let client_socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let (server, client) = timeout(LIMIT, async {
        tokio::join!(
            tokio::spawn(server(server_socket, pki.clone())),
            tokio::spawn(client(client_socket, server_addr, pki.clone())),
        )
    })
    .await
    .expect("the test finished");
    let (server, client) = (server.unwrap(), client.unwrap());
    let _ = fs::remove_dir_all(&dir);

    // The refused request: 400 from error_fields, naming version 13, seen by both.
    let refused = client.refused.expect("the first request was refused");
    assert_eq!(refused.status, 400);
    assert!(
        refused
            .headers
            .iter()
            .any(|h| h.name == "sec-websocket-version" && h.value == b"13"),
        "{refused:?}"
    );
    assert_eq!(server.refused, [400]);

    // The WebSocket: greeting, every message back unchanged, a clean close on both sides.
    let script = messages();
    assert_eq!(client.failure, None);
    assert_eq!(client.received.len(), 1 + script.len());
    assert_eq!(client.received[0], GREETING.as_bytes());
    for (i, ((_, sent), back)) in script.iter().zip(&client.received[1..]).enumerate() {
        assert!(
            sent == back,
            "message {i}: {} bytes sent, {} back",
            sent.len(),
            back.len()
        );
    }
    assert_eq!(client.state, Some(State::Closed));
    assert_eq!(client.extension.as_deref(), Some("permessage-deflate"));
    assert_eq!(client.subprotocol.as_deref(), Some("chat"));
    assert!(server.websocket_done);
    assert_eq!(server.failure, None);
    assert_eq!(server.echoed, script.len());
    assert_eq!(server.extension.as_deref(), Some("permessage-deflate"));
    assert_eq!(server.subprotocol.as_deref(), Some("chat"));
    let close = server.close.expect("a close frame with a code");
    assert_eq!(
        (close.code, close.reason.as_str()),
        (CloseCode::NORMAL, "done")
    );
}
