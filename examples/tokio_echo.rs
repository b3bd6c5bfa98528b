//! An async echo server over tokio's TcpStream. The state machine is not async: the task
//! feeds it what the socket read, drains its events, writes its output, and sleeps until the
//! connection's next deadline or the next read, whichever comes first. permessage-deflate is
//! offered to clients that ask for it (browsers and most client libraries do).
//!
//!     cargo run --example tokio_echo -- 127.0.0.1:9002

use std::sync::Arc;
use std::time::Duration;

use sansws::extensions::deflate::{DeflateConfig, PerMessageDeflate};
use sansws::handshake::{AcceptOptions, HandshakeConfig};
use sansws::{Config, Connection, Event, Transport};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

async fn serve(mut stream: TcpStream) -> std::io::Result<()> {
    let origin = Instant::now();
    let config = Config::default().keepalive(Some(Duration::from_secs(30)));
    let mut conn = Connection::server_upgrade(config, handshake_config());
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        while let Some(event) = conn.next_event() {
            match event {
                Ok(Event::UpgradeRequest) => {
                    let _ = conn.accept(AcceptOptions::new());
                }
                Ok(Event::Text(text)) => {
                    let _ = conn.send_text(&text);
                }
                Ok(Event::Binary(data)) => {
                    let _ = conn.send_binary(&data);
                }
                Ok(_) => {}
                Err(e) => eprintln!("connection failed: {e}"),
            }
        }
        // The bytes stay pending until the socket took them, so pending_output_len() remains
        // an honest backpressure signal while write_all waits.
        let pending = conn.pending_output_len();
        if pending > 0 {
            stream.write_all(conn.pending_output()).await?;
            conn.advance_output(pending);
        }
        if conn.transport() == Transport::Close {
            return stream.shutdown().await;
        }
        let deadline = conn.poll_timeout(origin.elapsed()).map(|d| origin + d);
        tokio::select! {
            read = stream.read(&mut buf) => match read? {
                0 => conn.receive_eof(),
                n => { conn.receive(&buf[..n]); }
            },
            _ = tokio::time::sleep_until(deadline.unwrap_or(origin)), if deadline.is_some() => {
                conn.handle_timeout(origin.elapsed());
            }
        }
    }
}

/// Accepts permessage-deflate (RFC 7692) when the client offers it; clients that offer nothing
/// get plain frames. A client's bare `client_max_window_bits` is answered with 12: a hibernated
/// connection then keeps 4 KiB of the client's window instead of 32 KiB, for 3% to 4% of a
/// zlib client's compression ratio (docs/memory.md). The same settings as `mio_echo`.
fn handshake_config() -> HandshakeConfig {
    let deflate = DeflateConfig::default().client_max_window_bits(12);
    HandshakeConfig::default().extension(Arc::new(PerMessageDeflate::new(deflate)))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9002".into());
    let listener = TcpListener::bind(&addr).await?;
    eprintln!("tokio_echo listening on ws://{addr}");
    loop {
        let (stream, peer) = listener.accept().await?;
        stream.set_nodelay(true)?;
        tokio::spawn(async move {
            if let Err(e) = serve(stream).await {
                eprintln!("{peer}: {e}");
            }
        });
    }
}
