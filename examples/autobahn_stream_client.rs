//! The client side of the Autobahn|Testsuite on the async stream (`sansws::stream`): asks the
//! fuzzing server for its case count, runs every case echoing each message, then asks it to
//! write the reports. Same limits and permessage-deflate settings as `autobahn_client.rs`.
//!
//!     AUTOBAHN_URL=ws://127.0.0.1:9001 cargo run --release --features tokio --example autobahn_stream_client
//!
//! `SANSWS_HIBERNATE=1`: as in `autobahn_stream_server.rs`.

#[path = "common/settings.rs"]
mod settings;

use futures_util::{SinkExt, StreamExt};
use sansws::handshake::ClientRequest;
use sansws::stream::{Message, StreamBuilder, StreamError};
use tokio::net::TcpStream;

/// Runs one connection to `path`, echoing data messages when `echo`, and returns the last
/// text message received.
async fn run(
    builder: &StreamBuilder,
    host: &str,
    path: &str,
    echo: bool,
    hibernate: bool,
) -> Result<Option<String>, StreamError> {
    let tcp = TcpStream::connect(host).await?;
    tcp.set_nodelay(true)?;
    let mut ws = builder
        .connect(tcp, &ClientRequest::new(host, path))
        .await?;
    let mut last_text = None;
    while let Some(message) = ws.next().await {
        match message {
            Ok(m @ (Message::Text(_) | Message::Binary(_))) => {
                if let Some(text) = m.as_text() {
                    last_text = Some(text.to_string());
                }
                if echo {
                    ws.send(m).await?;
                    if hibernate {
                        ws.connection_mut().hibernate();
                    }
                }
            }
            Ok(_) => {}
            Err(e) => eprintln!("{path}: {e}"),
        }
    }
    Ok(last_text)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), StreamError> {
    let url = std::env::var("AUTOBAHN_URL").unwrap_or_else(|_| "ws://127.0.0.1:9001".into());
    let agent = std::env::var("AUTOBAHN_AGENT").unwrap_or_else(|_| "sansws".into());
    let hibernate = std::env::var_os("SANSWS_HIBERNATE").is_some();
    let host = url
        .trim_start_matches("ws://")
        .trim_end_matches('/')
        .to_string();
    let builder = StreamBuilder::new()
        .config(settings::config())
        .handshake(settings::handshake());

    let count: usize = run(&builder, &host, "/getCaseCount", false, false)
        .await?
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(0);
    eprintln!("autobahn_stream_client: {count} cases");
    for case in 1..=count {
        let path = format!("/runCase?case={case}&agent={agent}");
        if let Err(e) = run(&builder, &host, &path, true, hibernate).await {
            eprintln!("{path}: {e}");
        }
    }
    run(
        &builder,
        &host,
        &format!("/updateReports?agent={agent}"),
        false,
        false,
    )
    .await?;
    Ok(())
}
