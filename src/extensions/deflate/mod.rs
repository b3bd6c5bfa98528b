//! permessage-deflate (RFC 7692) on miniz_oxide: negotiation on both sides, streaming
//! compression and decompression frame by frame, windows below 15 bits honoured for real,
//! and codec state that never holds an earlier message.
//!
//! Its cost is memory: with context takeover (the default) a connection keeps up to about
//! 363 KB of codec state between messages; see [`PerMessageDeflate`] for the figures and how
//! to trade them away.
//!
//! ```
//! use std::sync::Arc;
//! use sansws::extensions::deflate::{DeflateConfig, PerMessageDeflate};
//! use sansws::handshake::HandshakeConfig;
//!
//! let deflate = PerMessageDeflate::new(DeflateConfig::default().threshold(64));
//! let handshake = HandshakeConfig::default().extension(Arc::new(deflate));
//! # let _ = handshake;
//! ```

mod compress;
mod config;
mod decompress;
mod extension;
mod history;
mod negotiate;
mod params;
mod window;

pub use config::DeflateConfig;
pub use negotiate::PerMessageDeflate;
