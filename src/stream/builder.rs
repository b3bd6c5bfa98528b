//! Making a stream: the settings it runs with, and the opening handshake on either side, run
//! by the connection itself over the transport.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::future::poll_fn;
use core::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};

use super::error::StreamError;
use super::wakers::Side;
use super::websocket::{WebSocketStream, MAX_READ};
use crate::connection::{Config, Connection, Error, Event, ReceiveMode, Role};
use crate::handshake::{AcceptOptions, HandshakeConfig, Negotiated, UpgradeRequest};

/// The settings a [`WebSocketStream`] runs with, and the ways to make one: the server's
/// [`accept`](Self::accept) / [`accept_with`](Self::accept_with), the client's
/// [`connect`](Self::connect), and [`after_handshake`](Self::after_handshake) for a
/// handshake run elsewhere.
///
/// ```no_run
/// # async fn serve(tcp: tokio::net::TcpStream) -> Result<(), sansws::stream::StreamError> {
/// use futures_util::{SinkExt, StreamExt};
/// use sansws::stream::StreamBuilder;
/// use sansws::Config;
///
/// let mut ws = StreamBuilder::new()
///     .config(Config::default().max_message_size(1 << 20))
///     .accept(tcp)
///     .await?;
/// while let Some(message) = ws.next().await {
///     let message = message?;
///     if message.is_text() || message.is_binary() {
///         ws.send(message).await?;
///     }
/// }
/// # Ok(()) }
/// ```
///
/// The opening handshake has no timeout of its own: bound it as any other future
/// (`tokio::time::timeout(d, builder.accept(tcp))`).
#[derive(Debug, Clone)]
pub struct StreamBuilder {
    config: Config,
    handshake: HandshakeConfig,
    high_water: usize,
    flush_timeout: Option<Duration>,
}

impl Default for StreamBuilder {
    fn default() -> Self {
        Self {
            config: Config::default(),
            handshake: HandshakeConfig::default(),
            high_water: 64 << 10,
            flush_timeout: Some(Duration::from_secs(5)),
        }
    }
}

impl StreamBuilder {
    /// The defaults: [`Config::default`], [`HandshakeConfig::default`] (no extension), a
    /// 64 KiB high-water mark, a 5-second flush timeout.
    pub fn new() -> Self {
        Self::default()
    }

    /// The connection's settings (limits, keepalive, close timeout, buffer memory). The
    /// stream hands out whole messages, so the receive mode is always
    /// [`ReceiveMode::Message`].
    #[must_use]
    pub fn config(mut self, config: Config) -> Self {
        self.config = config.receive_mode(ReceiveMode::Message);
        self
    }

    /// The opening handshake's settings: limits, and the extensions offered (client) or
    /// accepted (server), such as permessage-deflate.
    #[must_use]
    pub fn handshake(mut self, handshake: HandshakeConfig) -> Self {
        self.handshake = handshake;
        self
    }

    /// Pending output above which the sink stops taking messages (default 64 KiB):
    /// `poll_ready` is pending until the transport took enough. A message larger than the
    /// mark is still taken whole when the output is below it. The same mark bounds the
    /// automatic replies (pongs) queued for a peer that does not read them: reading stops
    /// while more than this waits.
    #[must_use]
    pub fn high_water(mut self, bytes: usize) -> Self {
        self.high_water = bytes;
        self
    }

    /// How long the last output may take to reach the peer once the connection is over
    /// (after a failure, a refused handshake, or the closing handshake) before it is given
    /// up and the transport closed (default 5 s). `None` waits for as long as it takes.
    #[must_use]
    pub fn flush_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.flush_timeout = timeout;
        self
    }

    fn stream<S>(&self, io: S, conn: Connection) -> WebSocketStream<S> {
        // Reads of at most half of what a buffer keeps: a read then always fits beside a
        // partial frame without growing the input buffer past it (see `Config::buffer_keep`).
        let read_size = (self.config.buffer_keep / 2).clamp(1 << 10, MAX_READ);
        WebSocketStream::new(io, conn, self.high_water, self.flush_timeout, read_size)
    }

    /// Server: reads the upgrade request from `io` and accepts it (no subprotocol, the
    /// extensions the handshake configuration accepts), or fails with the handshake's error
    /// after answering a bad request with its HTTP error response.
    pub async fn accept<S>(&self, io: S) -> Result<WebSocketStream<S>, StreamError>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        self.accept_with(io, |_| Ok(AcceptOptions::new())).await
    }

    /// Server: reads the upgrade request from `io`, and lets `decide` look at it (target,
    /// origin, headers, offered subprotocols) and accept it with [`AcceptOptions`] (a
    /// subprotocol, extra headers) or refuse it with a [`Rejection`] (the response is sent,
    /// then [`StreamError::Rejected`] returned).
    ///
    /// ```no_run
    /// # async fn serve(tcp: tokio::net::TcpStream) -> Result<(), sansws::stream::StreamError> {
    /// use sansws::handshake::AcceptOptions;
    /// use sansws::stream::{Rejection, StreamBuilder};
    ///
    /// let ws = StreamBuilder::new()
    ///     .accept_with(tcp, |request| {
    ///         if request.target != "/chat" {
    ///             return Err(Rejection::new(404));
    ///         }
    ///         match request.subprotocols.iter().any(|p| p == "chat.v1") {
    ///             true => Ok(AcceptOptions::new().subprotocol("chat.v1")),
    ///             false => Err(Rejection::new(400).body("subprotocol chat.v1 required")),
    ///         }
    ///     })
    ///     .await?;
    /// # let _ = ws; Ok(()) }
    /// ```
    pub async fn accept_with<S, F>(
        &self,
        io: S,
        decide: F,
    ) -> Result<WebSocketStream<S>, StreamError>
    where
        S: AsyncRead + AsyncWrite + Unpin,
        F: FnOnce(&UpgradeRequest) -> Result<AcceptOptions, Rejection>,
    {
        let conn = Connection::server_upgrade(self.config.clone(), self.handshake.clone());
        let mut ws = self.stream(io, conn);
        let mut decide = Some(decide);
        loop {
            match poll_fn(|cx| ws.poll_event(Side::Read, cx)).await {
                Some(Ok(Event::UpgradeRequest)) => {}
                // A server connection yields nothing else before the request.
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(finish(&mut ws, e).await),
                None => return Err(StreamError::Protocol(Error::UnexpectedEof)),
            }
            let (Some(request), Some(decide)) = (ws.connection().upgrade_request(), decide.take())
            else {
                continue;
            };
            let outcome = match decide(request) {
                Ok(options) => ws.connection_mut().accept(options),
                Err(rejection) => {
                    let status = rejection.status;
                    let headers: Vec<(&str, &str)> = rejection
                        .headers
                        .iter()
                        .map(|(n, v)| (n.as_str(), v.as_str()))
                        .collect();
                    let refused = ws
                        .connection_mut()
                        .reject(status, &headers, &rejection.body);
                    match refused {
                        Ok(()) => {
                            poll_fn(|cx| ws.poll_end(Side::Read, cx)).await;
                            return Err(StreamError::Rejected(status));
                        }
                        // A rejection that cannot be written: answer 500 instead.
                        Err(e) => {
                            let _ = ws.connection_mut().reject(500, &[], b"");
                            Err(e)
                        }
                    }
                }
            };
            if let Err(e) = outcome {
                return Err(finish(&mut ws, Error::Handshake(e)).await);
            }
            // The 101 response goes out now, so the caller learns of a dead transport here.
            poll_fn(|cx| ws.poll_write_all(Side::Read, cx)).await?;
            return Ok(ws);
        }
    }

    /// Client: sends the upgrade request for `request` over `io` and waits for the answer:
    /// the stream once the server switched protocols, [`StreamError::Refused`] with its
    /// response when it answered another status, or the handshake's error. Mask keys and the
    /// handshake key come from [`OsEntropy`](crate::entropy::OsEntropy). The subprotocol
    /// chosen is `ws.connection().subprotocol()`.
    #[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
    pub async fn connect<S>(
        &self,
        io: S,
        request: &crate::handshake::ClientRequest,
    ) -> Result<WebSocketStream<S>, StreamError>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let conn = Connection::client_upgrade(
            self.config.clone(),
            &self.handshake,
            request,
            Box::new(crate::entropy::OsEntropy::new()),
        )
        .map_err(|e| StreamError::Protocol(Error::Handshake(e)))?;
        let mut ws = self.stream(io, conn);
        loop {
            match poll_fn(|cx| ws.poll_event(Side::Read, cx)).await {
                Some(Ok(Event::Open { .. })) => return Ok(ws),
                Some(Ok(Event::Refused(response))) => {
                    poll_fn(|cx| ws.poll_end(Side::Read, cx)).await;
                    return Err(StreamError::Refused(response));
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(finish(&mut ws, e).await),
                None => return Err(StreamError::Protocol(Error::UnexpectedEof)),
            }
        }
    }

    /// A stream over `io` for a connection whose handshake ran elsewhere (an HTTP server's
    /// upgrade, HTTP/2 extended CONNECT): `negotiated` is its result and `leftover` the bytes
    /// that followed it. A client masks with keys from
    /// [`OsEntropy`](crate::entropy::OsEntropy).
    #[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
    pub fn after_handshake<S>(
        &self,
        io: S,
        role: Role,
        negotiated: Negotiated,
        leftover: &[u8],
    ) -> WebSocketStream<S> {
        let conn = match role {
            Role::Server => Connection::server(self.config.clone()),
            Role::Client => Connection::client_with_os_entropy(self.config.clone()),
        };
        self.stream(io, conn.after_handshake(negotiated, leftover))
    }
}

/// Sends what the failed handshake queued (a server's HTTP error response), closes the
/// transport (both bounded by the flush timeout), and returns `error` for the caller.
async fn finish<S>(ws: &mut WebSocketStream<S>, error: impl Into<StreamError>) -> StreamError
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    poll_fn(|cx| ws.poll_end(Side::Read, cx)).await;
    error.into()
}

/// A server's refusal of an upgrade request: the HTTP status (300-599), extra headers and a
/// body, sent by [`StreamBuilder::accept_with`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Rejection {
    /// A refusal with `status` (403 for a bad origin, 401 with `WWW-Authenticate`, a redirect
    /// with `Location`, ...), no extra headers and an empty body.
    pub fn new(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Adds a response header: the name a token, the value without control bytes other than
    /// HTAB (a header that cannot be written makes the server answer 500 instead).
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The response body.
    #[must_use]
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// The status.
    pub fn status(&self) -> u16 {
        self.status
    }
}
