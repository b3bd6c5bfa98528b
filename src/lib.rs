//! sansws: a sans-IO WebSocket engine (RFC 6455) with permessage-deflate (RFC 7692).
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod connection;
pub mod entropy;
pub mod extensions;
pub mod handshake;
pub mod message;

pub use connection::close::{CloseCode, CloseFrame};
pub use message::MessageKind;
