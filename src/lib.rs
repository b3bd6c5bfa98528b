//! sansws: a sans-IO WebSocket engine (RFC 6455) with permessage-deflate (RFC 7692).
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod connection;
pub mod entropy;
pub mod extensions;
pub mod frame;
pub mod handshake;
pub mod message;

pub use bytes;
pub use connection::close::{CloseCode, CloseFrame};
pub use connection::config::{Config, ReceiveMode};
pub use connection::error::{Error, SendError};
pub use connection::event::Event;
pub use connection::state::{Role, State, Transport};
pub use connection::Connection;
pub use message::MessageKind;
