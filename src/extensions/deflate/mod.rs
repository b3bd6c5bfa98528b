//! permessage-deflate (RFC 7692) on miniz_oxide: negotiation on both sides, streaming
//! compression and decompression frame by frame, windows below 15 bits honoured for real,
//! and codec state that never holds an earlier message.
//!
//! ```
//! use std::sync::Arc;
//! use sansws::extensions::deflate::{DeflateConfig, PerMessageDeflate};
//! use sansws::handshake::HandshakeConfig;
//!
//! let deflate = PerMessageDeflate::new(DeflateConfig::default().threshold(64));
//! let handshake = HandshakeConfig::default().with_extension(Arc::new(deflate));
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
pub use extension::DeflateExtension;
pub use negotiate::PerMessageDeflate;
