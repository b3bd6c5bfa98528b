//! An async client over tokio's TcpStream: connects, sends each line of standard input as a
//! text message (or the arguments after the URL, if any), prints what comes back, and closes.
//!
//!     cargo run --example tokio_client -- ws://127.0.0.1:9002/ hello world

use sansws::entropy::OsEntropy;
use sansws::handshake::{ClientRequest, HandshakeConfig};
use sansws::{CloseCode, Config, Connection, Event, Transport};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args.next().unwrap_or_else(|| "ws://127.0.0.1:9002/".into());
    let rest = url.strip_prefix("ws://").ok_or("only ws:// URLs")?;
    let (host, path) = rest
        .split_once('/')
        .map_or((rest, "/".to_string()), |(h, p)| (h, format!("/{p}")));
    let mut messages: Vec<String> = args.collect();
    if messages.is_empty() {
        let mut lines = BufReader::new(tokio::io::stdin()).lines();
        while let Some(line) = lines.next_line().await? {
            messages.push(line);
        }
    }

    let mut stream = TcpStream::connect(host).await?;
    stream.set_nodelay(true)?;
    let request = ClientRequest::new(host, path);
    let mut conn = Connection::client_upgrade(
        Config::default(),
        &HandshakeConfig::default(),
        &request,
        Box::new(OsEntropy::new()),
    )?;
    let mut buf = vec![0u8; 16 * 1024];
    let mut expected = messages.len();
    loop {
        while let Some(event) = conn.next_event() {
            match event? {
                Event::Open { .. } => {
                    for m in &messages {
                        conn.send_text(m)?;
                    }
                    if expected == 0 {
                        conn.close(CloseCode::NORMAL, "done")?;
                    }
                }
                Event::Refused(r) => return Err(format!("server answered {}", r.status).into()),
                Event::Text(text) => {
                    println!("{text}");
                    // Messages may still arrive after the close went out (a server that
                    // greets first, say): count down once, close once.
                    if expected > 0 {
                        expected -= 1;
                        if expected == 0 {
                            conn.close(CloseCode::NORMAL, "done")?;
                        }
                    }
                }
                Event::Close(frame) => eprintln!("closed: {frame:?}"),
                _ => {}
            }
        }
        // Output is a queue of chunks: write each, then report it.
        while conn.pending_output_len() > 0 {
            let chunk = conn.pending_output();
            stream.write_all(chunk).await?;
            let n = chunk.len();
            conn.advance_output(n);
        }
        if conn.transport() == Transport::Close {
            return Ok(());
        }
        match stream.read(&mut buf).await? {
            0 => {
                conn.receive_eof();
                if conn.transport() != Transport::Open {
                    return Ok(());
                }
            }
            n => {
                conn.receive(&buf[..n]);
            }
        }
    }
}
