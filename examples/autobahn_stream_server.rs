//! Echo server for the Autobahn|Testsuite on the async stream (`sansws::stream`): one tokio
//! task per connection, the same limits and permessage-deflate settings as
//! `autobahn_server.rs` (`examples/common/settings.rs`).
//!
//!     cargo run --release --features tokio --example autobahn_stream_server -- 127.0.0.1:9001
//!
//! `SANSWS_HIBERNATE=every-message` gives back the connection's buffers after every message
//! it echoes (`Connection::release_buffers`), so the suite runs against a connection that
//! allocates again for each one.

#[path = "common/settings.rs"]
mod settings;

use futures_util::{SinkExt, StreamExt};
use sansws::stream::{Message, StreamBuilder, StreamError, WebSocketStream};
use tokio::net::{TcpListener, TcpStream};

async fn serve(builder: &StreamBuilder, tcp: TcpStream, release: bool) -> Result<(), StreamError> {
    let mut ws: WebSocketStream<TcpStream> = builder.accept(tcp).await?;
    while let Some(message) = ws.next().await {
        match message {
            Ok(m @ (Message::Text(_) | Message::Binary(_))) => {
                ws.send(m).await?;
                if release {
                    ws.connection_mut().release_buffers();
                }
            }
            Ok(_) => {}
            // The close frame for it is queued: keep polling until the stream ends.
            Err(e) => eprintln!("connection failed: {e}"),
        }
    }
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9001".into());
    let release = std::env::var("SANSWS_HIBERNATE").is_ok_and(|v| v == "every-message");
    let builder = StreamBuilder::new()
        .config(settings::config())
        .handshake(settings::handshake());
    let listener = TcpListener::bind(&addr).await?;
    eprintln!("autobahn_stream_server listening on {addr} (release buffers after every message: {release})");
    loop {
        let (tcp, peer) = listener.accept().await?;
        tcp.set_nodelay(true)?;
        let builder = builder.clone();
        tokio::spawn(async move {
            if let Err(e) = serve(&builder, tcp, release).await {
                eprintln!("{peer}: {e}");
            }
        });
    }
}
