//! An async WebSocket for tokio (feature `tokio`): [`WebSocketStream`], a `futures`
//! [`Stream`](futures_core::Stream) of [`Message`]s and a [`Sink`](futures_sink::Sink) of
//! them, over any `AsyncRead + AsyncWrite + Unpin` transport (a `TcpStream`, a TLS stream, an
//! HTTP server's upgraded connection).
//!
//! It is a host for the sans-IO [`Connection`](crate::Connection), written to the
//! [guide](crate::guide)'s contract: the connection does the protocol (handshake, framing,
//! permessage-deflate, limits, close codes), the stream moves bytes and keeps time on tokio's
//! clock. Errors are the connection's own ([`StreamError::Protocol`] carries a
//! [`crate::Error`], with its close code).
//!
//! ```no_run
//! use futures_util::{SinkExt, StreamExt};
//! use sansws::handshake::ClientRequest;
//! use sansws::stream::{self, Message};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! // Server: accept, then echo.
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:9002").await?;
//! let (tcp, _) = listener.accept().await?;
//! let mut ws = stream::accept(tcp).await?;
//! while let Some(message) = ws.next().await {
//!     match message? {
//!         m @ (Message::Text(_) | Message::Binary(_)) => ws.send(m).await?,
//!         _ => {} // pings are answered, closes too; the stream ends after the close
//!     }
//! }
//!
//! // Client: connect over a TCP stream of your own.
//! let tcp = tokio::net::TcpStream::connect("127.0.0.1:9002").await?;
//! let mut ws = stream::connect(tcp, &ClientRequest::new("127.0.0.1:9002", "/")).await?;
//! ws.send(Message::text("hello")).await?;
//! let echo = ws.next().await;
//! ws.close().await?;
//! # let _ = echo; Ok(()) }
//! ```
//!
//! [`StreamBuilder`] sets the connection's configuration, the handshake's (permessage-deflate
//! is an extension there), the sink's high-water mark and the flush timeout.

mod builder;
mod error;
mod message;
mod wakers;
mod websocket;

pub use builder::{Rejection, StreamBuilder};
pub use error::StreamError;
pub use message::Message;
pub use websocket::WebSocketStream;

use tokio::io::{AsyncRead, AsyncWrite};

/// Server: [`StreamBuilder::accept`] with the default settings (no extension).
pub async fn accept<S>(io: S) -> Result<WebSocketStream<S>, StreamError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    StreamBuilder::new().accept(io).await
}

/// Client: [`StreamBuilder::connect`] with the default settings (no extension).
#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
pub async fn connect<S>(
    io: S,
    request: &crate::handshake::ClientRequest,
) -> Result<WebSocketStream<S>, StreamError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    StreamBuilder::new().connect(io, request).await
}
