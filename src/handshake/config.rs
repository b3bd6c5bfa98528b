//! Handshake configuration shared by both sides: resource limits and extension negotiators.

use alloc::sync::Arc;
use alloc::vec::Vec;

use crate::extensions::ExtensionNegotiator;

/// Limits and extensions for an opening handshake, server or client.
///
/// Negotiators are shared (`Arc`) so one configuration can serve many connections and the
/// handshake state can hold them without borrowing the configuration.
#[derive(Clone)]
pub struct HandshakeConfig {
    /// Largest HTTP head accepted, request or status line plus headers plus the blank line.
    /// Bytes beyond it are never buffered: the handshake fails with 431 once it is exceeded.
    /// Default 8 KiB.
    pub max_head_bytes: usize,
    /// Most header fields accepted. Default 64.
    pub max_headers: usize,
    /// Extensions to offer (client) or accept (server), in order of preference.
    pub extensions: Vec<Arc<dyn ExtensionNegotiator>>,
}

impl HandshakeConfig {
    /// Default limit on the head size.
    pub const DEFAULT_MAX_HEAD_BYTES: usize = 8 * 1024;
    /// Default limit on the number of headers.
    pub const DEFAULT_MAX_HEADERS: usize = 64;

    /// Adds an extension negotiator (builder style).
    pub fn with_extension(mut self, negotiator: Arc<dyn ExtensionNegotiator>) -> Self {
        self.extensions.push(negotiator);
        self
    }
}

impl Default for HandshakeConfig {
    fn default() -> Self {
        Self {
            max_head_bytes: Self::DEFAULT_MAX_HEAD_BYTES,
            max_headers: Self::DEFAULT_MAX_HEADERS,
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
