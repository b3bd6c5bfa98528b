//! WebSockets over HTTP/2 (RFC 8441) between two sansws connections, carried by a real
//! HTTP/2 implementation: the h2 crate's server, with SETTINGS_ENABLE_CONNECT_PROTOCOL, and its
//! client, over loopback TCP. The extended CONNECT's fields are sansws's own
//! (`sansws::handshake::h2`), mapped to and from h2's `http` types; the WebSocket bytes go in
//! DATA frames under h2's flow control, and END_STREAM closes the stream (RFC 8441 §5).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use h2::server::SendResponse;
use h2::RecvStream;
use http::Request;
use sansws::entropy::OsEntropy;
use sansws::extensions::deflate::{DeflateConfig, PerMessageDeflate};
use sansws::handshake::{h2 as ws_h2, ClientOutcome, ClientRequest, HandshakeConfig};
use sansws::{CloseCode, CloseFrame, Config, Connection, Event, MessageKind};
use sansws_http_hosts::drive::Traffic;
use sansws_http_hosts::h2_fields::{
    request_fields, request_from_fields, response_fields, response_from_fields,
};
use sansws_http_hosts::h2_stream::drive_stream;
use sansws_http_hosts::settings;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::{timeout, Instant};

/// The origin the server admits (browsers send one; others may send none).
const ALLOWED_ORIGIN: &str = "https://allowed.example";

/// A bound against a hang, not a timing check: every test ends in well under a second.
const LIMIT: Duration = Duration::from_secs(60);

/// What the server did with one stream.
#[derive(Debug)]
enum Served {
    Refused(u16),
    WebSocket {
        subprotocol: Option<String>,
        extension: Option<String>,
        echoed: usize,
        close: Option<CloseFrame>,
        failure: Option<sansws::Error>,
    },
}

const GREETING: &str = "hello over HTTP/2 €";

/// One extended CONNECT stream on the server: sansws checks the request (answered with
/// `error_fields` if it fails), the application checks the origin (403), then the stream
/// runs an echo connection that greets first.
async fn serve_stream(request: Request<RecvStream>, mut respond: SendResponse<Bytes>) -> Served {
    let upgrade = match ws_h2::parse_request(request_fields(&request), &settings::handshake()) {
        Ok(upgrade) => upgrade,
        Err(error) => {
            let fields = ws_h2::error_fields(&error);
            let status = fields[0].1.parse().unwrap();
            respond
                .send_response(response_from_fields(&fields).unwrap(), true)
                .unwrap();
            return Served::Refused(status);
        }
    };
    if upgrade
        .origin
        .as_deref()
        .is_some_and(|o| o != ALLOWED_ORIGIN)
    {
        let fields = [(":status".to_string(), "403".to_string())];
        respond
            .send_response(response_from_fields(&fields).unwrap(), true)
            .unwrap();
        return Served::Refused(403);
    }
    let options = settings::accept_options(&upgrade.subprotocols);
    let accepted = upgrade.accept(options).unwrap();
    let send = respond
        .send_response(response_from_fields(&accepted.fields).unwrap(), false)
        .unwrap();
    let mut conn = Connection::server(settings::config()).after_handshake(accepted.negotiated, &[]);
    conn.send_text(GREETING).unwrap();
    let mut echoed = 0;
    let mut close = None;
    let (failure, _) = drive_stream(send, request.into_body(), &mut conn, |conn, event| {
        match &event {
            Event::Close(frame) => close = frame.clone(),
            Event::Text(_) | Event::Binary(_) => echoed += 1,
            _ => {}
        }
        settings::echo(conn, event);
    })
    .await
    .expect("the server's stream");
    Served::WebSocket {
        subprotocol: conn.subprotocol().map(String::from),
        extension: conn.extension().map(|e| e.name().to_string()),
        echoed,
        close,
        failure,
    }
}

/// An h2 server with extended CONNECT enabled on an ephemeral loopback port; what it did
/// with each stream arrives on the channel.
async fn start_server() -> (String, mpsc::UnboundedReceiver<Served>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let authority = listener.local_addr().unwrap().to_string();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut h2 = h2::server::Builder::new()
            .enable_connect_protocol()
            .handshake::<_, Bytes>(tcp)
            .await
            .unwrap();
        while let Some(stream) = h2.accept().await {
            let (request, respond) = stream.unwrap();
            let tx = tx.clone();
            tokio::spawn(async move {
                let _ = tx.send(serve_stream(request, respond).await);
            });
        }
    });
    (authority, rx)
}

/// An h2 client connection, once the server's SETTINGS allowed extended CONNECT (RFC 8441
/// §4: a client must not send one before).
async fn connect(authority: &str) -> h2::client::SendRequest<Bytes> {
    let tcp = TcpStream::connect(authority).await.unwrap();
    let (send_request, connection) = h2::client::handshake(tcp).await.unwrap();
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let mut send_request = send_request.ready().await.unwrap();
    let deadline = Instant::now() + LIMIT;
    while !send_request.is_extended_connect_protocol_enabled() {
        assert!(
            Instant::now() < deadline,
            "the server never enabled extended CONNECT"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
        send_request = send_request.ready().await.unwrap();
    }
    send_request
}

fn client_handshake() -> HandshakeConfig {
    HandshakeConfig::default().extension(Arc::new(PerMessageDeflate::new(DeflateConfig::default())))
}

/// The client's messages: compressible text from 0 bytes to 1 MiB (past h2's 64 KiB initial
/// window, so flow control paces it), incompressible binary, and the empty binary.
fn messages() -> Vec<(MessageKind, Vec<u8>)> {
    let words = ["alpha ", "beta ", "γάμμα ", "€ ", "{\"id\": 7} ", "null "];
    let text = |n: usize| -> Vec<u8> {
        let s: String = (0..)
            .map(|i| words[i * 7 % words.len()])
            .take_while({
                let mut len = 0;
                move |w: &&str| {
                    len += w.len();
                    len <= n
                }
            })
            .collect();
        s.into_bytes()
    };
    let mut x = 0x2545_f491u32;
    let mut random = |n: usize| -> Vec<u8> {
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect()
    };
    vec![
        (MessageKind::Text, Vec::new()),
        (MessageKind::Text, text(100)),
        (MessageKind::Binary, random(5000)),
        (MessageKind::Text, text(70_000)),
        (MessageKind::Binary, random(256 << 10)),
        (MessageKind::Text, text(1 << 20)),
        (MessageKind::Binary, Vec::new()),
    ]
}

/// The client side: sends `request` as an extended CONNECT and, if accepted, sends the
/// messages one at a time, checks each echo, and closes with 1000.
async fn client(
    send_request: &mut h2::client::SendRequest<Bytes>,
    request: ClientRequest,
    tamper: impl FnOnce(&mut Vec<(String, String)>),
) -> Result<(Connection, Vec<Vec<u8>>, Option<sansws::Error>, Traffic), (u16, Vec<(String, String)>)>
{
    let (mut hs, mut fields) =
        ws_h2::client_request(&request, "http", &client_handshake()).unwrap();
    tamper(&mut fields);
    let (response, send) = send_request
        .send_request(request_from_fields(&fields).unwrap(), false)
        .unwrap();
    let response = response.await.unwrap();
    let accepted = match hs.response(response_fields(&response)).unwrap() {
        Some(ClientOutcome::Accepted(accepted)) => accepted,
        Some(ClientOutcome::Refused(refused)) => {
            let headers = refused
                .headers
                .iter()
                .map(|h| {
                    (
                        h.name.clone(),
                        String::from_utf8_lossy(&h.value).into_owned(),
                    )
                })
                .collect();
            return Err((refused.status, headers));
        }
        None => panic!("h2 hands out final responses only"),
    };
    let mut conn = Connection::client(
        Config::default().max_message_size(8 << 20),
        Box::new(OsEntropy::new()),
    )
    .after_handshake(accepted.negotiated, &accepted.leftover);
    let script = messages();
    let mut received = Vec::new();
    let mut next = 0;
    let (failure, traffic) = drive_stream(send, response.into_body(), &mut conn, |conn, event| {
        let data = match event {
            Event::Text(text) => text.into_bytes(),
            Event::Binary(data) => data,
            _ => return,
        };
        received.push(data.to_vec());
        // The greeting came first; then each echo asks for the next message.
        if next < script.len() {
            let (kind, data) = &script[next];
            conn.send(*kind, data).unwrap();
            next += 1;
        } else {
            conn.close(CloseCode::NORMAL, "done").unwrap();
        }
    })
    .await
    .expect("the client's stream");
    Ok((conn, received, failure, traffic))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_over_h2_with_deflate_and_a_clean_close() {
    timeout(LIMIT, async {
        let (authority, mut served) = start_server().await;
        let mut send_request = connect(&authority).await;
        let request = ClientRequest::new(authority.as_str(), "/chat?room=h2")
            .origin(ALLOWED_ORIGIN)
            .subprotocol("nope")
            .subprotocol("chat");
        let (conn, received, failure, traffic) = client(&mut send_request, request, |_| {})
            .await
            .expect("accepted");

        // The client: the greeting, then every message back unchanged, then a clean close.
        assert_eq!(failure, None);
        let script = messages();
        assert_eq!(received.len(), 1 + script.len());
        assert_eq!(received[0], GREETING.as_bytes());
        for (i, ((_, sent), back)) in script.iter().zip(&received[1..]).enumerate() {
            assert!(
                sent == back,
                "message {i}: {} bytes sent, {} back",
                sent.len(),
                back.len()
            );
        }
        assert_eq!(conn.subprotocol(), Some("chat"));
        assert_eq!(
            conn.extension().map(|e| e.name()),
            Some("permessage-deflate")
        );
        assert_eq!(conn.state(), sansws::State::Closed);
        // Compression happened on the wire, not only in the handshake: the compressible
        // megabyte and more went out in well under half its size.
        let payload: usize = script.iter().map(|(_, d)| d.len()).sum();
        assert!(
            (traffic.sent as usize) < payload / 2,
            "{} bytes on the stream for {payload} bytes of messages",
            traffic.sent
        );

        // The server: the same negotiation, every message echoed, the client's close.
        match served.recv().await.unwrap() {
            Served::WebSocket {
                subprotocol,
                extension,
                echoed,
                close,
                failure,
            } => {
                assert_eq!(subprotocol.as_deref(), Some("chat"));
                assert_eq!(extension.as_deref(), Some("permessage-deflate"));
                assert_eq!(echoed, script.len());
                let close = close.expect("a close frame with a code");
                assert_eq!(
                    (close.code, close.reason.as_str()),
                    (CloseCode::NORMAL, "done")
                );
                assert_eq!(failure, None);
            }
            other => panic!("{other:?}"),
        }
    })
    .await
    .expect("the test finished");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_reach_the_client() {
    timeout(LIMIT, async {
        let (authority, mut served) = start_server().await;
        let mut send_request = connect(&authority).await;

        // A request sansws refuses (a version it does not speak): `error_fields` answers 400
        // and names version 13.
        let request = ClientRequest::new(authority.as_str(), "/chat");
        let refused = client(&mut send_request, request, |fields| {
            for (name, value) in fields.iter_mut() {
                if name == "sec-websocket-version" {
                    *value = "8".into();
                }
            }
        })
        .await
        .map(|_| ())
        .expect_err("refused");
        assert_eq!(refused.0, 400);
        assert!(
            refused
                .1
                .contains(&("sec-websocket-version".into(), "13".into())),
            "{:?}",
            refused.1
        );
        assert!(matches!(served.recv().await.unwrap(), Served::Refused(400)));

        // A request the application refuses (a foreign origin): 403.
        let request =
            ClientRequest::new(authority.as_str(), "/chat").origin("https://evil.example");
        let refused = client(&mut send_request, request, |_| {})
            .await
            .map(|_| ())
            .expect_err("refused");
        assert_eq!(refused.0, 403);
        assert!(matches!(served.recv().await.unwrap(), Served::Refused(403)));

        // The same HTTP/2 connection still carries a WebSocket afterwards.
        let request = ClientRequest::new(authority.as_str(), "/chat").origin(ALLOWED_ORIGIN);
        let (_, received, failure, _) = client(&mut send_request, request, |_| {})
            .await
            .expect("accepted");
        assert_eq!(failure, None);
        assert_eq!(received.len(), 1 + messages().len());
        assert!(matches!(
            served.recv().await.unwrap(),
            Served::WebSocket { failure: None, .. }
        ));
    })
    .await
    .expect("the test finished");
}
