//! Echo server for the Autobahn|Testsuite on the async stream (`sansws::stream`): one tokio
//! task per connection, the same limits and permessage-deflate settings as
//! `autobahn_server.rs` (`examples/common/settings.rs`).
//!
//!     cargo run --release --features tokio --example autobahn_stream_server -- 127.0.0.1:9001
//!
//! With `SANSWS_HIBERNATE` set in the environment (`SANSWS_HIBERNATE=1`), the connection
//! hibernates after every message it echoes (`Connection::hibernate`, through
//! `connection_mut`): its buffers are given back and the permessage-deflate codec is rebuilt
//! from the kept window for the next message, so the suite runs against a connection that
//! allocates again for each one.

#[path = "common/settings.rs"]
mod settings;

use futures_util::{SinkExt, StreamExt};
use sansws::stream::{Message, StreamBuilder, StreamError, WebSocketStream};
use tokio::net::{TcpListener, TcpStream};

async fn serve(
    builder: &StreamBuilder,
    tcp: TcpStream,
    hibernate: bool,
) -> Result<(), StreamError> {
    let mut ws: WebSocketStream<TcpStream> = builder.accept(tcp).await?;
    while let Some(message) = ws.next().await {
        match message {
            Ok(m @ (Message::Text(_) | Message::Binary(_))) => {
                ws.send(m).await?;
                if hibernate {
                    ws.connection_mut().hibernate();
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
    let hibernate = std::env::var_os("SANSWS_HIBERNATE").is_some();
    let builder = StreamBuilder::new()
        .config(settings::config())
        .handshake(settings::handshake());
    let listener = TcpListener::bind(&addr).await?;
    eprintln!(
        "autobahn_stream_server listening on {addr} (hibernate after every message: {hibernate})"
    );
    loop {
        let (tcp, peer) = listener.accept().await?;
        tcp.set_nodelay(true)?;
        let builder = builder.clone();
        tokio::spawn(async move {
            if let Err(e) = serve(&builder, tcp, hibernate).await {
                eprintln!("{peer}: {e}");
            }
        });
    }
}
