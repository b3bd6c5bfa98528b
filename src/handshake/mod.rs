//! The opening handshake, sans IO: HTTP/1.1 Upgrade (RFC 6455 §4) on both sides and extended
//! CONNECT over HTTP/2 and HTTP/3 (RFC 8441, RFC 9220).
//!
//! Nothing here reads or writes a socket. A side is fed the bytes (or header fields) that
//! arrived and answers with bytes (or fields) to send, and finally with a [`Negotiated`]
//! result plus any bytes that followed the handshake, which belong to the connection.
//!
//! Server, HTTP/1.1:
//! ```
//! use sansws::handshake::{AcceptOptions, HandshakeConfig, ServerHandshake};
//! let mut hs = ServerHandshake::new(HandshakeConfig::default());
//! let input = b"GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n\
//!     Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
//!     Sec-WebSocket-Version: 13\r\n\r\n";
//! match hs.receive(input) {
//!     Ok(None) => { /* read more */ }
//!     Ok(Some(request)) => {
//!         let accepted = request.accept(AcceptOptions::new()).unwrap();
//!         // write accepted.response, then run the connection with
//!         // accepted.negotiated, feeding it accepted.leftover first
//!         # assert!(accepted.response.starts_with(b"HTTP/1.1 101"));
//!     }
//!     Err(rejection) => { /* write rejection.response, close */ }
//! }
//! ```
//!
//! Server, HTTP/1.1, when another HTTP stack (hyper, axum, ...) parsed the request:
//! [`UpgradeRequest::from_parts`] applies the same checks to its method, target and header
//! pairs, [`UpgradeRequest::accept_headers`] answers with the `101` headers as pairs, and
//! [`error_parts`] gives a refusal as status, headers and body.
//!
//! Client, HTTP/1.1:
//! ```
//! use sansws::handshake::{ClientHandshake, ClientOutcome, ClientRequest, HandshakeConfig};
//! let mut entropy = |buf: &mut [u8]| buf.fill(7); // use OsEntropy or a real RNG
//! let request = ClientRequest::new("example.com", "/chat").subprotocol("chat");
//! let (mut hs, bytes) = ClientHandshake::new(&request, &HandshakeConfig::default(), &mut entropy).unwrap();
//! // write `bytes`, then feed what the server sends:
//! # let response = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
//! match hs.receive(response) {
//!     Ok(None) => { /* read more */ }
//!     Ok(Some(ClientOutcome::Accepted(accepted))) => { /* accepted.negotiated, accepted.leftover */ }
//!     Ok(Some(ClientOutcome::Refused(refused))) => assert_eq!(refused.status, 404),
//!     Err(error) => { /* not a valid WebSocket answer: close */ }
//! }
//! ```

mod accept;
mod client;
mod config;
mod error;
pub mod h2;
mod http;
mod negotiate;
mod options;
mod outcome;
mod parts;
mod response;
mod server;
mod target;

pub use accept::{accept_value, generate_key, is_valid_key, WEBSOCKET_GUID};
pub use client::ClientHandshake;
pub use config::HandshakeConfig;
pub use error::HandshakeError;
pub use http::{Header, HeaderList};
pub use options::{AcceptOptions, ClientRequest};
pub use outcome::{ClientAccepted, ClientOutcome, Negotiated, RefusedResponse};
pub use response::{error_parts, error_response, reject_response, ErrorParts};
pub use server::{
    AcceptedHeaders, RequestRejection, ServerAccepted, ServerHandshake, UpgradeRequest,
};
