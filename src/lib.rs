//! sansws: a sans-IO WebSocket engine (RFC 6455) with permessage-deflate (RFC 7692).
//!
//! A [`Connection`] is a state machine: [`receive`](Connection::receive) gives it the bytes
//! your transport read, [`next_event`](Connection::next_event) decodes them into [`Event`]s,
//! the `send_*` methods queue frames, and [`pending_output`](Connection::pending_output) /
//! [`advance_output`](Connection::advance_output) hand the queued bytes to your transport at
//! its own pace. It never touches a socket, a thread, a clock or global state; time enters
//! through [`poll_timeout`](Connection::poll_timeout) and
//! [`handle_timeout`](Connection::handle_timeout) with your clock. The crate is `no_std` +
//! `alloc` and forbids `unsafe`.
//!
//! A server accepting a connection and echoing a message, with in-memory byte buffers in
//! place of sockets (a client connection plays the browser):
//!
//! ```
//! use sansws::entropy::OsEntropy;
//! use sansws::handshake::{AcceptOptions, ClientRequest, HandshakeConfig};
//! use sansws::{Config, Connection, Event};
//!
//! // The server starts at the first byte of the HTTP upgrade request.
//! let mut server = Connection::server_upgrade(Config::default(), HandshakeConfig::default());
//! // The client's request is queued as its first output.
//! let request = ClientRequest::new("example.com", "/chat");
//! let mut client = Connection::client_upgrade(
//!     Config::default(), &HandshakeConfig::default(), &request, Box::new(OsEntropy::new()),
//! ).unwrap();
//!
//! // "Network": move everything one side wrote to the other side.
//! fn pump(from: &mut Connection, to: &mut Connection) {
//!     let n = from.pending_output_len();
//!     to.receive(from.pending_output());
//!     from.advance_output(n);
//! }
//!
//! pump(&mut client, &mut server);
//! assert_eq!(server.next_event(), Some(Ok(Event::UpgradeRequest)));
//! assert_eq!(server.upgrade_request().unwrap().target, "/chat");
//! server.accept(AcceptOptions::new()).unwrap(); // queues "HTTP/1.1 101 Switching Protocols"
//!
//! pump(&mut server, &mut client);
//! assert_eq!(client.next_event(), Some(Ok(Event::Open { subprotocol: None })));
//! client.send_text("hello").unwrap();
//!
//! // The server echoes every text message.
//! pump(&mut client, &mut server);
//! while let Some(event) = server.next_event() {
//!     match event.unwrap() {
//!         Event::Text(text) => server.send_text(&text).unwrap(), // text is a Utf8Bytes
//!         other => panic!("unexpected {other:?}"),
//!     }
//! }
//! pump(&mut server, &mut client);
//! assert_eq!(client.next_event(), Some(Ok(Event::Text("hello".into()))));
//! ```
//!
//! Where to go next:
//! - the [guide]: driving a connection from an event loop, what to call in what order, and
//!   what happens if you don't;
//! - [`Connection`] for the whole API, [`Event`] for what it hands out (text as [`Utf8Bytes`],
//!   validated, readable as a `&str` without copying);
//! - [`handshake`] for running the opening handshake separately (HTTP/1.1, or extended
//!   CONNECT over HTTP/2 and HTTP/3);
//! - [`extensions::deflate`] for permessage-deflate (mind its memory cost with context
//!   takeover, stated there).
//!
//! Features: `std` (default: [`entropy::OsEntropy`], `std::error::Error` impls, [`Clock`]
//! for timers on `Instant`s), `deflate` (default: permessage-deflate on miniz_oxide),
//! `tokio` (`sansws::stream`: an async `Stream` + `Sink` of messages over any tokio
//! transport), `arbitrary` (`Arbitrary` impls for fuzzing your integration).
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

// Layers, bottom up; a module imports only from the layers below it (docs/architecture.md,
// checked by scripts/check-layers.sh). Vocabulary and buffers first.
mod buffer;
mod close;
pub mod entropy;
mod http_token;
mod utf8_bytes;
// The frame codec, message assembly, extensions, the handshake, the connection.
mod connection;
pub mod extensions;
pub mod frame;
pub mod handshake;
mod message;
// Hosts above the connection, for std and tokio users; nothing below imports them.
#[cfg(feature = "std")]
mod clock;
#[cfg(feature = "tokio")]
pub mod stream;

#[doc = include_str!("../docs/integration.md")]
pub mod guide {}

pub use bytes;
#[cfg(feature = "std")]
pub use clock::Clock;
pub use close::{CloseCode, CloseFrame};
pub use connection::{
    Config, Connection, Error, Event, ReceiveMode, Role, SendError, State, Transport,
};
pub use message::MessageKind;
pub use utf8_bytes::{Utf8Bytes, Utf8Error};

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
