//! Memory per idle connection on a server built on the async stream, measured the way a
//! server holds connections: one task per connection, parked in `next().await` after the
//! handshake and one 1 KiB message echoed, over real loopback TCP. The counting allocator
//! counts the server's thread only (a current-thread runtime: its tasks, sockets and I/O
//! driver live there); the clients run on a thread of their own. Each figure is a slope,
//! (live bytes with 300 connections - live bytes with 100) / 200, so the runtime's fixed
//! costs cancel out; the same is measured for bare TCP tasks and for tokio-websockets.
//!
//!     cargo test --release --all-features --test stream_memory -- --nocapture

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use sansws::handshake::ClientRequest;
use sansws::stream::{Message, StreamBuilder};
use sansws::Config;
use tokio::net::{TcpListener, TcpStream};

#[global_allocator]
static GLOBAL: common::counting::Counting = common::counting::Counting;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Server {
    /// A task parked on its accepted socket, no WebSocket: the baseline.
    Tcp,
    /// `sansws::stream`, default settings.
    Stream,
    /// `sansws::stream` after `release_buffers` once the echo went out.
    StreamReleased,
    /// `sansws::stream` with a keepalive (its timer is allocated).
    StreamKeepalive,
    /// tokio-websockets' server, default settings.
    TokioWebsockets,
}

/// Serves one connection of `kind`: each kind is its own future, so a task is only as large
/// as its kind needs.
async fn serve(kind: Server, tcp: TcpStream, ready: Arc<AtomicUsize>) {
    match kind {
        Server::Tcp => {
            tokio::spawn(async move {
                ready.fetch_add(1, Ordering::SeqCst);
                std::future::pending::<()>().await;
                drop(tcp);
            });
        }
        Server::Stream | Server::StreamReleased | Server::StreamKeepalive => {
            let builder = match kind {
                Server::StreamKeepalive => StreamBuilder::new()
                    .config(Config::default().keepalive(Some(Duration::from_secs(30)))),
                _ => StreamBuilder::new(),
            };
            tokio::spawn(async move {
                let mut ws = builder.accept(tcp).await.unwrap();
                let echo = ws.next().await.unwrap().unwrap();
                ws.send(echo).await.unwrap();
                if kind == Server::StreamReleased {
                    ws.connection_mut().release_buffers();
                }
                ready.fetch_add(1, Ordering::SeqCst);
                let _ = ws.next().await;
            });
        }
        Server::TokioWebsockets => {
            tokio::spawn(async move {
                let (_, mut ws) = tokio_websockets::ServerBuilder::new()
                    .accept(tcp)
                    .await
                    .unwrap();
                let echo = ws.next().await.unwrap().unwrap();
                ws.send(echo).await.unwrap();
                ready.fetch_add(1, Ordering::SeqCst);
                let _ = ws.next().await;
            });
        }
    }
}

/// Clients on a thread of their own: each connects, echoes one 1 KiB message unless the
/// server is bare TCP, and holds its connection until `stop` is dropped.
fn clients(addr: std::net::SocketAddr, n: usize, websocket: bool, stop: mpsc::Receiver<()>) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let mut held = Vec::new();
        for _ in 0..n {
            let tcp = TcpStream::connect(addr).await.unwrap();
            if !websocket {
                held.push(tokio::spawn(async move {
                    let _ = tcp.readable().await;
                }));
                continue;
            }
            let mut ws = sansws::stream::connect(tcp, &ClientRequest::new("localhost", "/"))
                .await
                .unwrap();
            ws.send(Message::binary(vec![3u8; 1024])).await.unwrap();
            ws.next().await.unwrap().unwrap();
            held.push(tokio::spawn(async move {
                let _ = ws.next().await;
            }));
        }
        // Blocks this thread (nothing else runs on it) until the measurement is done.
        let _ = stop.recv();
        drop(held);
    });
}

/// Live heap bytes on the server's thread with `n` idle connections of `kind`.
fn live_with(kind: Server, n: usize) -> usize {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let ready = Arc::new(AtomicUsize::new(0));
        let (stop, stopped) = mpsc::channel();
        let client_thread =
            std::thread::spawn(move || clients(addr, n, kind != Server::Tcp, stopped));
        let base = common::counting::live();
        for _ in 0..n {
            let (tcp, _) = listener.accept().await.unwrap();
            serve(kind, tcp, ready.clone()).await;
        }
        while ready.load(Ordering::SeqCst) < n {
            tokio::task::yield_now().await;
        }
        // Let every task reach its parked `next().await`.
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        let live = common::counting::live_since(base);
        drop(stop);
        client_thread.join().unwrap();
        live
    })
}

fn per_connection(kind: Server) -> f64 {
    let (small, large) = (100, 300);
    let a = live_with(kind, small);
    let b = live_with(kind, large);
    (b as f64 - a as f64) / (large - small) as f64
}

#[test]
fn idle_connection_memory() {
    let tcp = per_connection(Server::Tcp);
    let mut rows = Vec::new();
    for kind in [
        Server::Stream,
        Server::StreamReleased,
        Server::StreamKeepalive,
        Server::TokioWebsockets,
    ] {
        rows.push((kind, per_connection(kind) - tcp));
    }
    println!(
        "bytes per idle connection, server side, above a task holding the bare TCP socket \
         ({tcp:.0} bytes):"
    );
    for (kind, bytes) in &rows {
        println!("  {kind:?}: {bytes:.0}");
    }
    println!(
        "size_of WebSocketStream<TcpStream>: {} bytes",
        std::mem::size_of::<sansws::stream::WebSocketStream<TcpStream>>()
    );
    let get = |k| rows.iter().find(|(kind, _)| *kind == k).unwrap().1;
    // The stream owns no read buffer: what an idle connection holds beyond its task and the
    // connection's state is the receive and send buffers the connection keeps for reuse
    // (at most `buffer_keep` each, here about the size of the last message), and nothing
    // once they are released.
    assert!(
        get(Server::StreamReleased) < get(Server::Stream),
        "{rows:?}"
    );
    assert!(
        get(Server::Stream) - get(Server::StreamReleased) < 4096.0,
        "the buffers kept after a 1 KiB message: {rows:?}"
    );
}
