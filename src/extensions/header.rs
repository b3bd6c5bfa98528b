//! The `Sec-WebSocket-Extensions` header grammar (RFC 6455 §9.1, RFC 7230 tokens and quoted strings).
//! (stub: being written)

use alloc::string::String;
use alloc::vec::Vec;

use super::ExtensionOffer;

/// A malformed `Sec-WebSocket-Extensions` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderError {
    /// Byte offset of the problem in the header value.
    pub offset: usize,
    /// What was expected there.
    pub reason: &'static str,
}

/// Parses one header value into extension offers, in order.
pub fn parse_extensions(_value: &str) -> Result<Vec<ExtensionOffer>, HeaderError> {
    Err(HeaderError {
        offset: 0,
        reason: "not yet implemented",
    })
}

/// Formats offers as a header value.
pub fn format_extensions(_offers: &[ExtensionOffer]) -> String {
    String::new()
}
