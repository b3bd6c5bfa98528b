//! An async echo server on the stream type (`sansws::stream`): one tokio task per connection,
//! `next().await` and `send(message).await`. The stream answers pings and closes, applies
//! backpressure and runs the connection's timers; permessage-deflate is accepted when a client
//! offers it. The same program as the peers' echo servers in the end-to-end benchmark.
//!
//!     cargo run --release --features tokio --example tokio_stream_echo -- 127.0.0.1:9002

use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use sansws::extensions::deflate::{DeflateConfig, PerMessageDeflate};
use sansws::handshake::HandshakeConfig;
use sansws::stream::{StreamBuilder, StreamError};
use tokio::net::{TcpListener, TcpStream};

async fn serve(builder: &StreamBuilder, tcp: TcpStream) -> Result<(), StreamError> {
    let mut ws = builder.accept(tcp).await?;
    while let Some(message) = ws.next().await {
        let message = message?;
        if message.is_text() || message.is_binary() {
            ws.send(message).await?;
        }
    }
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9002".into());
    // The connection's defaults (16 MiB frames, 64 MiB messages, no keepalive), and
    // permessage-deflate for clients that offer it.
    let builder = Arc::new(
        StreamBuilder::new().handshake(
            HandshakeConfig::default()
                .extension(Arc::new(PerMessageDeflate::new(DeflateConfig::default()))),
        ),
    );
    let listener = TcpListener::bind(&addr).await?;
    eprintln!("tokio_stream_echo listening on ws://{addr}");
    loop {
        let (tcp, peer) = listener.accept().await?;
        tcp.set_nodelay(true)?;
        let builder = builder.clone();
        tokio::spawn(async move {
            if let Err(e) = serve(&builder, tcp).await {
                eprintln!("{peer}: {e}");
            }
        });
    }
}
