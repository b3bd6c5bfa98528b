//! Echo server on fastwebsockets: the HTTP upgrade through hyper (the crate's `upgrade`
//! feature, as its documentation shows), whole messages through `FragmentCollector`, one
//! current-thread tokio runtime, one task per connection, no compression (the crate has none),
//! messages up to 64 MiB, the limit sansws has by default.
//!
//!     fastwebsockets_echo 127.0.0.1:9301

use fastwebsockets::{upgrade, FragmentCollector, OpCode, WebSocketError};
use http_body_util::Empty;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use tokio::net::TcpListener;

async fn echo(upgraded: upgrade::UpgradeFut) -> Result<(), WebSocketError> {
    let mut ws = upgraded.await?;
    ws.set_max_message_size(64 << 20);
    let mut ws = FragmentCollector::new(ws);
    loop {
        let frame = ws.read_frame().await?;
        match frame.opcode {
            OpCode::Close => return Ok(()),
            OpCode::Text | OpCode::Binary => ws.write_frame(frame).await?,
            _ => {}
        }
    }
}

async fn upgrade_request(
    mut request: Request<Incoming>,
) -> Result<Response<Empty<Bytes>>, WebSocketError> {
    let (response, upgraded) = upgrade::upgrade(&mut request)?;
    tokio::spawn(async move {
        if let Err(e) = echo(upgraded).await {
            eprintln!("websocket: {e}");
        }
    });
    Ok(response)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9301".into());
    let listener = TcpListener::bind(&addr).await?;
    eprintln!("fastwebsockets_echo listening on ws://{addr}");
    loop {
        let (stream, peer) = listener.accept().await?;
        stream.set_nodelay(true)?;
        tokio::spawn(async move {
            let connection = http1::Builder::new()
                .serve_connection(
                    hyper_util::rt::TokioIo::new(stream),
                    service_fn(upgrade_request),
                )
                .with_upgrades();
            if let Err(e) = connection.await {
                eprintln!("{peer}: {e}");
            }
        });
    }
}
