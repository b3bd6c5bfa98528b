//! Handshake configuration shared by both sides: resource limits and extension negotiators.

use alloc::sync::Arc;
use alloc::vec::Vec;

use crate::extensions::ExtensionNegotiator;

/// Limits and extensions for an opening handshake, server or client. Start from
/// [`HandshakeConfig::default`] (8 KiB heads, 64 headers, no extension) and change what you
/// need:
///
/// ```
/// # #[cfg(feature = "deflate")] {
/// use std::sync::Arc;
/// use sansws::extensions::deflate::{DeflateConfig, PerMessageDeflate};
/// use sansws::handshake::HandshakeConfig;
///
/// let config = HandshakeConfig::default()
///     .max_head_bytes(4096)
///     .extension(Arc::new(PerMessageDeflate::new(DeflateConfig::default())));
/// # let _ = config;
/// # }
/// ```
///
/// Negotiators are shared (`Arc`) so one configuration can serve many connections and the
/// handshake state can hold them without borrowing the configuration.
#[derive(Clone)]
pub struct HandshakeConfig {
    pub(crate) max_head_bytes: usize,
    pub(crate) max_headers: usize,
    pub(crate) extensions: Vec<Arc<dyn ExtensionNegotiator>>,
}

impl HandshakeConfig {
    /// The default configuration.
    pub fn new() -> Self {
        Self::default()
    }

    /// Largest HTTP head accepted: request or status line, headers and the blank line
    /// (default 8 KiB). Bytes beyond it are never buffered: the handshake fails with 431 once
    /// it is exceeded.
    #[must_use]
    pub fn max_head_bytes(mut self, bytes: usize) -> Self {
        self.max_head_bytes = bytes;
        self
    }

    /// Most header fields accepted (default 64); more fail the handshake with 431.
    #[must_use]
    pub fn max_headers(mut self, count: usize) -> Self {
        self.max_headers = count;
        self
    }

    /// Adds an extension negotiator: offered by a client, accepted by a server. A client
    /// offers them in the order added (its preference); a server follows the client's order,
    /// accepting the first offer one of its negotiators takes. A connection runs at most one
    /// extension.
    #[must_use]
    pub fn extension(mut self, negotiator: Arc<dyn ExtensionNegotiator>) -> Self {
        self.extensions.push(negotiator);
        self
    }
}

impl Default for HandshakeConfig {
    fn default() -> Self {
        Self {
            max_head_bytes: 8 * 1024,
            max_headers: 64,
            extensions: Vec::new(),
        }
    }
}

impl core::fmt::Debug for HandshakeConfig {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("HandshakeConfig")
            .field("max_head_bytes", &self.max_head_bytes)
            .field("max_headers", &self.max_headers)
            .field(
                "extensions",
                &self.extensions.iter().map(|n| n.name()).collect::<Vec<_>>(),
            )
            .finish()
    }
}
