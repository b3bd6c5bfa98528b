//! What a permessage-deflate endpoint wants: levels, thresholds, windows, context takeover.

/// permessage-deflate settings, for either side. Start from [`DeflateConfig::default`]
/// (full 32 KiB windows, context takeover both ways, level 1, every message compressed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeflateConfig {
    pub(crate) level: u8,
    pub(crate) threshold: usize,
    pub(crate) compress: bool,
    pub(crate) server_no_context_takeover: bool,
    pub(crate) client_no_context_takeover: bool,
    pub(crate) server_max_window_bits: u8,
    pub(crate) client_max_window_bits: u8,
    pub(crate) compress_idle_window: bool,
    pub(crate) keep_send_history: bool,
}

impl Default for DeflateConfig {
    fn default() -> Self {
        Self {
            level: 1,
            threshold: 0,
            compress: true,
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: 15,
            client_max_window_bits: 15,
            compress_idle_window: false,
            keep_send_history: false,
        }
    }
}

impl DeflateConfig {
    /// The default settings.
    pub fn new() -> Self {
        Self::default()
    }

    /// miniz_oxide compression level, 1 (fastest) to 9 (smallest); 0 sends stored blocks.
    #[must_use]
    pub fn level(mut self, level: u8) -> Self {
        self.level = level.min(9);
        self
    }

    /// Messages shorter than this many bytes are sent uncompressed (streamed messages, whose
    /// size is unknown, are always compressed). Default 0: compress everything.
    #[must_use]
    pub fn threshold(mut self, bytes: usize) -> Self {
        self.threshold = bytes;
        self
    }

    /// Compress outgoing messages at all (default on). Off still negotiates the extension
    /// and decompresses what the peer sends.
    #[must_use]
    pub fn compress_outgoing(mut self, on: bool) -> Self {
        self.compress = on;
        self
    }

    /// Server to client direction without context takeover: a client asks for it, a server
    /// imposes it on itself. Each message is then compressed alone.
    #[must_use]
    pub fn server_no_context_takeover(mut self, on: bool) -> Self {
        self.server_no_context_takeover = on;
        self
    }

    /// Client to server direction without context takeover: a client offers it, a server
    /// requires it of the client.
    #[must_use]
    pub fn client_no_context_takeover(mut self, on: bool) -> Self {
        self.client_no_context_takeover = on;
        self
    }

    /// The server's compression window, 2^bits bytes (8..=15): a client requests it, a
    /// server uses at most this much (and at most what the client requests).
    #[must_use]
    pub fn server_max_window_bits(mut self, bits: u8) -> Self {
        self.server_max_window_bits = bits.clamp(8, 15);
        self
    }

    /// The client's compression window, 2^bits bytes (8..=15): a client offers it, a server
    /// asks the client for at most this much when the client offered the parameter.
    ///
    /// Default 15: a server gives a bare offer no answer. A server with many idle
    /// connections should answer 12, as the example servers do: an idle connection keeps the
    /// client's window, 4 KiB instead of 32 KiB, at a small cost in a zlib client's
    /// compression ratio (see [`PerMessageDeflate`](super::PerMessageDeflate)).
    ///
    /// A server never answers `client_max_window_bits=8`: zlib cannot compress raw deflate
    /// with a 256-byte window, so zlib-based clients (Python's `websockets`, and most others)
    /// refuse that answer and the handshake would fail. A configured 8 is answered as 9, and
    /// a client that itself offers 8 gets an answer without the parameter (it keeps to its
    /// own 8; the server inflates any window). A client configured with 8 compresses with a
    /// 256-byte window, as it offers.
    #[must_use]
    pub fn client_max_window_bits(mut self, bits: u8) -> Self {
        self.client_max_window_bits = bits.clamp(8, 15);
        self
    }

    /// While the connection hibernates (`Connection::hibernate`), keep the inbound window
    /// deflated instead of as it is. Off by default: a 32 KiB window of text then takes
    /// about a fifth of its size, but hibernating costs a compression of it and waking an
    /// inflate, several times the cost of a small message (docs/memory.md has the figures).
    /// A window that does not deflate smaller is kept as it is.
    #[must_use]
    pub fn compress_idle_window(mut self, on: bool) -> Self {
        self.compress_idle_window = on;
        self
    }

    /// Keep what this end sent through hibernation (`Connection::hibernate`), so that the
    /// first message after waking may still refer to it. Off by default: hibernation then
    /// drops the compressor with its history (context takeover permits, never obliges, the
    /// sender to refer back), and the first message after waking starts from an empty
    /// window. On, the last 2^bits bytes sent are recorded as they are sent (a copy of each
    /// compressed message, and 2^bits bytes held while idle), and waking primes a fresh
    /// compressor with them.
    #[must_use]
    pub fn keep_send_history(mut self, on: bool) -> Self {
        self.keep_send_history = on;
        self
    }
}

/// Built through the public setters, so generated values keep their invariants (window bits
/// 8..=15, level at most 9), as a user's configuration would.
#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for DeflateConfig {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(DeflateConfig::new()
            .level(u.arbitrary()?)
            .threshold(u.int_in_range(0..=4096)?)
            .compress_outgoing(u.arbitrary()?)
            .server_no_context_takeover(u.arbitrary()?)
            .client_no_context_takeover(u.arbitrary()?)
            .server_max_window_bits(u.arbitrary()?)
            .client_max_window_bits(u.arbitrary()?)
            .compress_idle_window(u.arbitrary()?)
            .keep_send_history(u.arbitrary()?))
    }
}
