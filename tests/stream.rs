//! The async stream (`sansws::stream`, feature `tokio`) over in-memory transports
//! (`tokio::io::duplex`): handshakes on both sides, messages and control frames both ways,
//! closing from either side, backpressure, the connection's timers on tokio's clock, and two
//! tasks sharing one stream. Timer tests run on tokio's paused clock: time moves only when
//! every task waits, so no test depends on how fast the machine is; a `timeout` around a test
//! body turns a hang into a failure instead of a stuck run.

mod common;

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use futures_util::{Sink, SinkExt, Stream, StreamExt};
use sansws::extensions::deflate::{DeflateConfig, PerMessageDeflate};
use sansws::handshake::{AcceptOptions, ClientRequest, HandshakeConfig, Negotiated};
use sansws::stream::{Message, Rejection, StreamBuilder, StreamError, WebSocketStream};
use sansws::{CloseCode, CloseFrame, Config, Error, Role, SendError, State};
use tokio::io::{duplex, AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio::time::{timeout, Instant};

/// Far longer than any test takes; on the paused clock a hang reaches it at once.
const HANG: Duration = Duration::from_secs(3600);

fn deflate() -> HandshakeConfig {
    HandshakeConfig::default().extension(Arc::new(PerMessageDeflate::new(DeflateConfig::default())))
}

/// A server and a client stream over one in-memory transport of `capacity` bytes each way,
/// both handshakes run by the streams.
async fn pair(
    server: StreamBuilder,
    client: StreamBuilder,
    capacity: usize,
) -> (WebSocketStream<DuplexStream>, WebSocketStream<DuplexStream>) {
    let (a, b) = duplex(capacity);
    let request = ClientRequest::new("example.com", "/chat");
    let (s, c) = tokio::join!(server.accept(a), client.connect(b, &request));
    (s.expect("server accepts"), c.expect("client connects"))
}

/// A server stream whose handshake is taken as done, and the raw other end of its transport.
fn server_after_handshake(
    builder: StreamBuilder,
    capacity: usize,
) -> (WebSocketStream<DuplexStream>, DuplexStream) {
    let (a, b) = duplex(capacity);
    let negotiated = Negotiated {
        subprotocol: None,
        extension: None,
    };
    (builder.after_handshake(a, Role::Server, negotiated, &[]), b)
}

/// Echoes data messages until the stream ends; returns everything it received.
async fn echo(mut ws: WebSocketStream<DuplexStream>) -> Vec<Result<Message, String>> {
    let mut seen = Vec::new();
    while let Some(message) = ws.next().await {
        match message {
            Ok(m) => {
                if m.is_text() || m.is_binary() {
                    ws.send(m.clone()).await.expect("echo");
                }
                seen.push(Ok(m));
            }
            Err(e) => seen.push(Err(e.to_string())),
        }
    }
    seen
}

fn close(code: u16, reason: &'static str) -> Message {
    Message::Close(Some(CloseFrame {
        code: CloseCode(code),
        reason: reason.into(),
    }))
}

#[tokio::test]
async fn messages_both_ways_with_deflate_then_the_client_closes() {
    let builder = StreamBuilder::new().handshake(deflate());
    let (server, mut client) = pair(builder.clone(), builder, 64 << 10).await;
    assert_eq!(
        client.connection().extension().map(|e| e.name()),
        Some("permessage-deflate")
    );
    let server = tokio::spawn(echo(server));

    let big = vec![7u8; 300_000];
    client.send(Message::text("hello")).await.unwrap();
    client.send(Message::binary(big.clone())).await.unwrap();
    client.send(Message::Ping("p".into())).await.unwrap();
    assert_eq!(
        client.next().await.unwrap().unwrap(),
        Message::text("hello")
    );
    assert_eq!(
        client.next().await.unwrap().unwrap(),
        Message::binary(big.clone())
    );
    assert_eq!(
        client.next().await.unwrap().unwrap(),
        Message::Pong("p".into())
    );

    // The close handshake: the server answers with the same code, the client sees it, then
    // the end of the stream once the server closed the transport.
    client.send(close(4000, "bye")).await.unwrap();
    assert_eq!(client.next().await.unwrap().unwrap(), close(4000, ""));
    assert!(client.next().await.is_none());
    assert_eq!(client.connection().state(), State::Closed);
    // Sending after the close is the connection's refusal.
    assert!(matches!(
        client.send(Message::text("late")).await,
        Err(StreamError::Send(SendError::Closed))
    ));

    let seen = server.await.unwrap();
    assert_eq!(
        seen,
        vec![
            Ok(Message::text("hello")),
            Ok(Message::binary(big)),
            Ok(Message::Ping("p".into())),
            Ok(close(4000, "bye")),
        ]
    );
}

#[tokio::test]
async fn sink_close_drives_the_closing_handshake_to_its_end() {
    let (mut server, client) = pair(StreamBuilder::new(), StreamBuilder::new(), 64 << 10).await;
    let client = tokio::spawn(echo(client));
    server.send(Message::text("first")).await.unwrap();
    assert_eq!(
        server.next().await.unwrap().unwrap(),
        Message::text("first")
    );
    // `close()` sends 1000, reads until the client's answer, and closes the transport.
    server.close().await.unwrap();
    assert_eq!(server.connection().state(), State::Closed);
    assert!(server.next().await.is_none());
    let seen = client.await.unwrap();
    assert_eq!(seen, vec![Ok(Message::text("first")), Ok(close(1000, ""))]);
}

#[tokio::test]
async fn close_none_sends_normal_closure() {
    let (mut server, client) = pair(StreamBuilder::new(), StreamBuilder::new(), 1 << 10).await;
    let client = tokio::spawn(echo(client));
    server.send(Message::Close(None)).await.unwrap();
    assert_eq!(server.next().await.unwrap().unwrap(), close(1000, ""));
    assert!(server.next().await.is_none());
    assert_eq!(client.await.unwrap(), vec![Ok(close(1000, ""))]);
}

#[tokio::test]
async fn the_upgrade_callback_chooses_a_subprotocol_or_rejects() {
    // Accepted with the subprotocol it picked.
    let (a, b) = duplex(4096);
    let request = ClientRequest::new("example.com", "/chat")
        .subprotocol("v1")
        .subprotocol("v2");
    let builder = StreamBuilder::new();
    let (server, client) = tokio::join!(
        builder.accept_with(a, |req| {
            assert_eq!(req.target, "/chat");
            Ok(AcceptOptions::new().subprotocol(req.subprotocols[1].clone()))
        }),
        builder.connect(b, &request)
    );
    assert_eq!(server.unwrap().connection().subprotocol(), Some("v2"));
    assert_eq!(client.unwrap().connection().subprotocol(), Some("v2"));

    // Rejected: the client sees the status, headers and the start of the body.
    let (a, b) = duplex(4096);
    let (server, client) = tokio::join!(
        builder.accept_with(a, |_| Err(Rejection::new(403)
            .header("X-Why", "origin")
            .body("no"))),
        builder.connect(b, &request)
    );
    assert!(
        matches!(server, Err(StreamError::Rejected(403))),
        "{server:?}"
    );
    match client {
        Err(StreamError::Refused(response)) => {
            assert_eq!(response.status, 403);
            assert!(response
                .headers
                .iter()
                .any(|h| h.name.eq_ignore_ascii_case("x-why")));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_bad_request_gets_its_http_error_and_the_handshake_error() {
    let (a, mut peer) = duplex(4096);
    let server = tokio::spawn(async move { StreamBuilder::new().accept(a).await.map(|_| ()) });
    peer.write_all(b"GET /chat HTTP/1.1\r\nHost: example.com\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    peer.read_to_end(&mut answer).await.unwrap();
    assert!(
        answer.starts_with(b"HTTP/1.1 4"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    match server.await.unwrap() {
        Err(StreamError::Protocol(Error::Handshake(_))) => {}
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn frames_sent_with_the_request_are_not_lost() {
    let (a, mut peer) = duplex(4096);
    let server = tokio::spawn(async move {
        let mut ws = StreamBuilder::new().accept(a).await.unwrap();
        ws.next().await.unwrap().unwrap()
    });
    let mut bytes = b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
        Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        .to_vec();
    bytes.extend(common::frame(0x81, b"pipelined", true));
    peer.write_all(&bytes).await.unwrap();
    assert_eq!(server.await.unwrap(), Message::text("pipelined"));
}

/// Polls the sink's `poll_ready` once with a waker that does nothing.
fn ready_now(ws: &mut WebSocketStream<DuplexStream>) -> bool {
    let mut cx = Context::from_waker(Waker::noop());
    matches!(Pin::new(ws).poll_ready(&mut cx), Poll::Ready(Ok(())))
}

#[tokio::test]
async fn the_sink_waits_while_output_is_above_the_high_water_mark() {
    let high_water = 16 << 10;
    let message = vec![1u8; 4 << 10];
    let (mut server, mut peer) =
        server_after_handshake(StreamBuilder::new().high_water(high_water), 8 << 10);
    // The peer reads nothing: the transport takes 8 KiB, then the output grows to the mark.
    let mut sent = 0;
    while ready_now(&mut server) {
        Pin::new(&mut server)
            .start_send(Message::binary(message.clone()))
            .unwrap();
        sent += 1;
        assert!(sent < 1000, "poll_ready never waited");
    }
    let pending = server.connection().pending_output_len();
    assert!(pending > high_water, "{pending}");
    assert!(pending <= high_water + message.len() + 4, "{pending}");

    // Once the peer reads, everything goes out.
    let total = sent * (message.len() + 4);
    let mut got = vec![0u8; total];
    let (flushed, read) = tokio::join!(server.flush(), peer.read_exact(&mut got));
    flushed.unwrap();
    read.unwrap();
    assert_eq!(server.connection().pending_output_len(), 0);
    assert!(ready_now(&mut server));
}

#[tokio::test(start_paused = true)]
async fn a_peer_that_pings_without_reading_stops_being_read() {
    let high_water = 4 << 10;
    // Without a send timeout, so that only the backpressure rule is at work: the next test has
    // the default one end the connection.
    let builder = StreamBuilder::new()
        .high_water(high_water)
        .config(Config::default().send_timeout(None));
    let (mut server, mut peer) = server_after_handshake(builder, 4 << 10);
    let ping = common::frame(0x89, &[0u8; 125], true);
    let mut written = 0usize;
    let flood = async {
        for _ in 0..100_000 {
            peer.write_all(&ping).await.unwrap();
            written += ping.len();
        }
    };
    let read_all = async { while server.next().await.is_some() {} };
    tokio::select! {
        _ = flood => panic!("the server read every ping (about 13 MB) without the peer reading a pong"),
        _ = read_all => panic!("the stream ended"),
        _ = tokio::time::sleep(HANG) => {}
    }
    // Reading stopped once the unsent pongs passed the mark: what waits is bounded by the mark
    // plus what one read of pings answers, whatever the peer keeps sending.
    let pending = server.connection().pending_output_len();
    assert!(pending <= high_water + (32 << 10), "{pending}");
    assert!(written < 1 << 20, "{written}");
}

#[tokio::test(start_paused = true)]
async fn the_send_timeout_ends_a_peer_that_pings_without_reading() {
    let send_timeout = Duration::from_secs(30);
    let builder = StreamBuilder::new()
        .high_water(4 << 10)
        .config(Config::default().send_timeout(Some(send_timeout)));
    let (mut server, mut peer) = server_after_handshake(builder, 4 << 10);
    let ping = common::frame(0x89, &[0u8; 125], true);
    let start = Instant::now();
    let flood = async {
        loop {
            peer.write_all(&ping).await.unwrap();
        }
    };
    let first_error = async {
        loop {
            match server.next().await {
                Some(Ok(_)) => {}
                other => return other,
            }
        }
    };
    let ended = tokio::select! {
        _ = flood => unreachable!("the flood only ends by panicking"),
        ended = first_error => ended,
        _ = tokio::time::sleep(HANG) => panic!("a peer that reads nothing was never dropped"),
    };
    assert!(
        matches!(ended, Some(Err(StreamError::Protocol(Error::SendTimeout)))),
        "{ended:?}"
    );
    // The pongs stopped moving at once, so the deadline is the send timeout after the first
    // write that was not taken (on tokio's paused clock, with no other timer in the way).
    let elapsed = start.elapsed();
    assert!(
        elapsed >= send_timeout && elapsed < send_timeout + Duration::from_secs(1),
        "{elapsed:?}"
    );
    assert!(server.next().await.is_none());
}

#[tokio::test(start_paused = true)]
async fn keepalive_fires_for_a_task_that_only_reads() {
    let keepalive = Duration::from_secs(1);
    let builder = StreamBuilder::new().config(Config::default().keepalive(Some(keepalive)));
    let (mut server, mut peer) = server_after_handshake(builder, 4096);
    let start = Instant::now();
    // The peer stays silent: a ping after 1 s, the failure after 2 s.
    let result = timeout(HANG, server.next()).await.unwrap();
    assert!(
        matches!(
            result,
            Some(Err(StreamError::Protocol(Error::KeepaliveTimeout)))
        ),
        "{result:?}"
    );
    assert_eq!(start.elapsed(), 2 * keepalive);
    assert!(server.next().await.is_none());
    let mut wire = Vec::new();
    peer.read_to_end(&mut wire).await.unwrap();
    assert_eq!(
        wire,
        [0x89, 0x00],
        "one ping, then the end of the transport"
    );
}

#[tokio::test(start_paused = true)]
async fn keepalive_fires_for_a_task_that_only_writes() {
    let keepalive = Duration::from_secs(1);
    let builder = StreamBuilder::new().config(Config::default().keepalive(Some(keepalive)));
    // The peer neither reads nor writes: sends soon wait on the high-water mark.
    let (mut server, _peer) = server_after_handshake(builder, 4096);
    let start = Instant::now();
    let failed = timeout(HANG, async {
        loop {
            if let Err(e) = server.send(Message::binary(vec![0u8; 16 << 10])).await {
                break e;
            }
        }
    })
    .await
    .unwrap();
    // The keepalive failed the connection while the task waited to send, and discarded the
    // output that could not go out: the next send is refused.
    assert!(
        matches!(failed, StreamError::Send(SendError::Closed)),
        "{failed:?}"
    );
    assert_eq!(start.elapsed(), 2 * keepalive);
    assert!(matches!(
        server.next().await,
        Some(Err(StreamError::Protocol(Error::KeepaliveTimeout)))
    ));
    assert!(server.next().await.is_none());
}

#[tokio::test(start_paused = true)]
async fn the_close_timeout_ends_a_stream_whose_peer_never_answers() {
    let close_timeout = Duration::from_secs(3);
    let builder = StreamBuilder::new().config(Config::default().close_timeout(Some(close_timeout)));
    let (mut server, mut peer) = server_after_handshake(builder, 4096);
    server.send(Message::Close(None)).await.unwrap();
    let start = Instant::now();
    assert!(timeout(HANG, server.next()).await.unwrap().is_none());
    assert_eq!(start.elapsed(), close_timeout);
    let mut wire = Vec::new();
    peer.read_to_end(&mut wire).await.unwrap();
    assert_eq!(
        wire,
        [0x88, 0x02, 0x03, 0xe8],
        "our close, then the end of the transport"
    );
}

#[tokio::test(start_paused = true)]
async fn output_the_peer_does_not_take_is_given_up_after_the_flush_timeout() {
    let flush_timeout = Duration::from_secs(2);
    let builder = StreamBuilder::new()
        .high_water(1 << 10)
        .flush_timeout(Some(flush_timeout));
    let (mut server, mut peer) = server_after_handshake(builder, 1024);
    // Output the peer never reads, then a protocol violation from it: 1002 is queued behind
    // that output, which cannot go out.
    server
        .feed(Message::binary(vec![0u8; 8 << 10]))
        .await
        .unwrap();
    peer.write_all(&common::frame(0x81, b"unmasked", false))
        .await
        .unwrap();
    let failure = server.next().await.unwrap().unwrap_err();
    assert_eq!(failure.close_code(), Some(CloseCode::PROTOCOL_ERROR));
    let start = Instant::now();
    let given_up = timeout(HANG, server.next()).await.unwrap();
    assert!(
        matches!(&given_up, Some(Err(StreamError::Io(e))) if e.kind() == std::io::ErrorKind::TimedOut),
        "{given_up:?}"
    );
    assert_eq!(start.elapsed(), flush_timeout);
    assert!(server.next().await.is_none());
}

#[tokio::test(start_paused = true)]
async fn a_split_stream_in_two_tasks_moves_both_ways() {
    // Small transports make every read and write wait often, in both tasks at once.
    let (server, client) = pair(StreamBuilder::new(), StreamBuilder::new(), 512).await;
    let (mut sink, mut stream) = server.split();
    let (to_writer, mut from_reader) = tokio::sync::mpsc::channel::<Message>(4);
    let reader = tokio::spawn(async move {
        while let Some(Ok(m)) = stream.next().await {
            if m.is_binary() && to_writer.send(m).await.is_err() {
                break;
            }
        }
    });
    let writer = tokio::spawn(async move {
        while let Some(m) = from_reader.recv().await {
            sink.send(m).await.unwrap();
        }
        sink.close().await
    });
    let n = 500usize;
    let (mut client_sink, mut client_stream) = client.split();
    let client_side = async {
        let send = async {
            for i in 0..n {
                client_sink
                    .feed(Message::binary(vec![i as u8; 1000]))
                    .await
                    .unwrap();
            }
            client_sink.flush().await.unwrap();
        };
        // Echoes are read while the client still sends.
        let receive = async {
            for i in 0..n {
                let m = client_stream.next().await.unwrap().unwrap();
                assert_eq!(m, Message::binary(vec![i as u8; 1000]));
            }
        };
        tokio::join!(send, receive);
        client_sink.send(Message::Close(None)).await.unwrap();
        assert!(matches!(
            client_stream.next().await,
            Some(Ok(Message::Close(_)))
        ));
        assert!(client_stream.next().await.is_none());
    };
    timeout(HANG, client_side).await.expect("no task starves");
    reader.await.unwrap();
    writer.await.unwrap().unwrap();
}

/// A transport that, like tokio's sockets, remembers one waker per direction: the last one
/// it was polled with. It takes no bytes until `writable` is set.
#[derive(Default)]
struct OneWakerTransport {
    writable: bool,
    write_waker: Option<Waker>,
    read_waker: Option<Waker>,
}

#[derive(Clone, Default)]
struct Shared(Arc<std::sync::Mutex<OneWakerTransport>>);

impl tokio::io::AsyncRead for Shared {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        _: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        self.0.lock().unwrap().read_waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl tokio::io::AsyncWrite for Shared {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let mut t = self.0.lock().unwrap();
        if t.writable {
            return Poll::Ready(Ok(buf.len()));
        }
        t.write_waker = Some(cx.waker().clone());
        Poll::Pending
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

struct Count(std::sync::atomic::AtomicUsize);

impl std::task::Wake for Count {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

fn counting_waker() -> (Arc<Count>, Waker) {
    let count = Arc::new(Count(Default::default()));
    (count.clone(), Waker::from(count))
}

#[tokio::test]
async fn a_reader_polling_after_a_waiting_writer_does_not_take_its_wake_up() {
    let transport = Shared::default();
    let negotiated = Negotiated {
        subprotocol: None,
        extension: None,
    };
    let mut ws =
        StreamBuilder::new().after_handshake(transport.clone(), Role::Server, negotiated, &[]);
    Pin::new(&mut ws)
        .start_send(Message::text("waits"))
        .unwrap();
    // The writing task waits for the transport...
    let (writer_woken, writer) = counting_waker();
    let flushed = Pin::new(&mut ws).poll_flush(&mut Context::from_waker(&writer));
    assert!(flushed.is_pending());
    // ...then the reading task polls, which also tries to write the pending output.
    let (reader_woken, reader) = counting_waker();
    assert!(Pin::new(&mut ws)
        .poll_next(&mut Context::from_waker(&reader))
        .is_pending());
    // The transport becomes writable and wakes the one waker it kept: both tasks hear it.
    let waker = {
        let mut t = transport.0.lock().unwrap();
        t.writable = true;
        t.write_waker.take().expect("a write waited")
    };
    waker.wake();
    assert_eq!(writer_woken.0.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(reader_woken.0.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert!(Pin::new(&mut ws)
        .poll_flush(&mut Context::from_waker(&writer))
        .is_ready());
}

/// A transport that writes vectored, as tokio's sockets do, taking at most `limit` bytes a
/// write, plain or vectored (so writes end inside chunks and across them), and counts its
/// vectored writes and the most slices one of them was given.
struct Vectored {
    inner: DuplexStream,
    limit: usize,
    writes: usize,
    most_slices: usize,
}

impl tokio::io::AsyncRead for Vectored {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for Vectored {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let n = buf.len().min(self.limit);
        Pin::new(&mut self.inner).poll_write(cx, &buf[..n])
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        slices: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let mut gathered = Vec::new();
        for slice in slices {
            let room = self.limit - gathered.len();
            gathered.extend_from_slice(&slice[..slice.len().min(room)]);
        }
        let n = std::task::ready!(Pin::new(&mut self.inner).poll_write(cx, &gathered))?;
        self.writes += 1;
        self.most_slices = self.most_slices.max(slices.len());
        Poll::Ready(Ok(n))
    }
    fn is_write_vectored(&self) -> bool {
        true
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Large messages, queued several at a time (by reference in a server, masked in a client),
/// go out whole and in order through vectored writes that stop anywhere.
#[tokio::test]
async fn queued_messages_go_out_whole_through_partial_vectored_writes() {
    for role in [Role::Server, Role::Client] {
        let peer_role = match role {
            Role::Server => Role::Client,
            Role::Client => Role::Server,
        };
        let (a, b) = duplex(8 << 10);
        let negotiated = || Negotiated {
            subprotocol: None,
            extension: None,
        };
        let transport = Vectored {
            inner: a,
            limit: 3001,
            writes: 0,
            most_slices: 0,
        };
        let mut writer = StreamBuilder::new().after_handshake(transport, role, negotiated(), &[]);
        let mut reader = StreamBuilder::new().after_handshake(b, peer_role, negotiated(), &[]);
        let text: String = "é-".repeat(40_000);
        let messages: Vec<Message> = (0..6u8)
            .flat_map(|i| {
                [
                    Message::binary(vec![i; 100_000 + usize::from(i)]),
                    Message::text(text.clone()),
                    Message::binary(vec![i; 10]),
                    Message::Ping(vec![i; 3].into()),
                ]
            })
            .collect();
        let send = async {
            for m in &messages {
                writer.feed(m.clone()).await.unwrap();
            }
            writer.flush().await.unwrap();
        };
        let receive = async {
            let mut got = Vec::new();
            while got.len() < messages.len() {
                got.push(reader.next().await.unwrap().unwrap());
            }
            got
        };
        let ((), got) = timeout(HANG, async { tokio::join!(send, receive) })
            .await
            .expect("everything arrives");
        assert_eq!(got, messages, "{role:?}");
        if role == Role::Server {
            // Payloads queued by reference: more than one chunk in a write. (A client
            // copies each masked frame into one chunk, written plainly.)
            let transport = writer.get_ref();
            assert!(transport.writes > 0, "no vectored write");
            assert!(transport.most_slices > 1, "one slice at a time");
        }
    }
}
