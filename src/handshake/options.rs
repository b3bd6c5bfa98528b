//! What the application asks of a handshake, on either transport: the client's request and the
//! server's decision to accept. Both are built with consuming setters named after what they set.

use alloc::string::String;
use alloc::vec::Vec;

/// What a client asks for. Extension offers come from the configuration's negotiators.
///
/// ```
/// use sansws::handshake::ClientRequest;
/// let request = ClientRequest::new("example.com", "/chat?room=1")
///     .origin("https://example.com")
///     .subprotocol("chat")
///     .header("Authorization", "Bearer t0k3n");
/// # let _ = request;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRequest {
    /// The authority: host, and port when not the scheme's default (`Host`, `:authority`).
    pub(crate) host: String,
    /// The request target: path and query; an empty one means `/`.
    pub(crate) target: String,
    pub(crate) origin: Option<String>,
    /// Most preferred first.
    pub(crate) subprotocols: Vec<String>,
    pub(crate) headers: Vec<(String, String)>,
}

impl ClientRequest {
    /// A request for `target` (path and query, `/chat?room=1`; empty means `/`) on `host` (the
    /// authority: host, and port when not the scheme's default).
    pub fn new(host: impl Into<String>, target: impl Into<String>) -> Self {
        Self {
            host: host.into(),
            target: target.into(),
            origin: None,
            subprotocols: Vec::new(),
            headers: Vec::new(),
        }
    }

    /// Sends `Origin`, for clients that act on behalf of a web origin.
    #[must_use]
    pub fn origin(mut self, origin: impl Into<String>) -> Self {
        self.origin = Some(origin.into());
        self
    }

    /// Offers a subprotocol (a token); call it once per subprotocol, most preferred first.
    #[must_use]
    pub fn subprotocol(mut self, protocol: impl Into<String>) -> Self {
        self.subprotocols.push(protocol.into());
        self
    }

    /// Adds a request header (e.g. `Authorization`, `Cookie`): the name a token, the value
    /// without control bytes other than HTAB (surrounding spaces and tabs are trimmed).
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub(crate) fn path(&self) -> &str {
        if self.target.is_empty() {
            "/"
        } else {
            &self.target
        }
    }
}

/// A server's decision to accept an upgrade request, with its choices. The default accepts
/// with no subprotocol and no extra headers; extensions are negotiated by the configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AcceptOptions {
    pub(crate) subprotocol: Option<String>,
    pub(crate) headers: Vec<(String, String)>,
}

impl AcceptOptions {
    /// Accept with no subprotocol and no extra headers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Chooses a subprotocol; it must be one the client offered.
    #[must_use]
    pub fn subprotocol(mut self, protocol: impl Into<String>) -> Self {
        self.subprotocol = Some(protocol.into());
        self
    }

    /// Adds a response header (e.g. `Set-Cookie`): the name a token, the value without control
    /// bytes other than HTAB (surrounding spaces and tabs are trimmed).
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}
