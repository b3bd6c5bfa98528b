//! Why a handshake failed, and (on a server) which HTTP status answers it.

use alloc::string::String;

use crate::extensions::{HeaderError, NegotiationError};

/// A failed opening handshake. On a server every variant maps to the HTTP status to answer
/// with ([`status`](Self::status)); on a client it means the connection must not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The head (request line or status line plus headers) grew past the configured byte
    /// limit before it ended. 431.
    HeadTooLarge {
        /// The configured limit.
        limit: usize,
    },
    /// The head has more headers than the configured limit. 431.
    TooManyHeaders {
        /// The configured limit.
        limit: usize,
    },
    /// Not HTTP/1.x syntax (httparse's verdict or a non-UTF-8 field where text is needed). 400.
    Malformed(&'static str),
    /// The request method is not GET (HTTP/1.1) or CONNECT (HTTP/2, HTTP/3). 405.
    Method,
    /// HTTP/1.0 or older: the Upgrade mechanism needs HTTP/1.1. 400 (client: error).
    HttpVersion,
    /// No `Host` header, or more than one. 400.
    Host,
    /// The request target is neither origin-form (`/path?query`) nor absolute-form
    /// (`ws://host/path`, `http://host/path`, ...; RFC 9112 §3.2): `*`, authority-form,
    /// a relative path, an unknown scheme, an empty authority or one with userinfo. 400.
    InvalidTarget,
    /// The request announces a body (`Content-Length` other than 0, or any
    /// `Transfer-Encoding`). An upgrade request has none, and its bytes must never be read
    /// as frames. 400.
    RequestBody,
    /// Server: `Upgrade` does not contain `websocket` (e.g. a plain GET). Client: `Upgrade` is
    /// not exactly `websocket` (RFC 6455 §4.1). 426 with `Upgrade: websocket`.
    NotWebSocketUpgrade,
    /// `Connection` does not contain `upgrade`. 400.
    ConnectionNotUpgrade,
    /// `Sec-WebSocket-Version` is missing or not 13. 426 with `Upgrade: websocket` and
    /// `Sec-WebSocket-Version: 13` (over HTTP/2 and HTTP/3: 400, see
    /// [`h2::error_fields`](super::h2::error_fields)).
    UnsupportedVersion,
    /// `Sec-WebSocket-Key` is missing, repeated, or not base64 of 16 bytes. 400.
    InvalidKey,
    /// `Sec-WebSocket-Protocol` is not a comma-separated list of tokens (or, in a response,
    /// not exactly one token). 400.
    InvalidSubprotocol,
    /// `Sec-WebSocket-Extensions` does not parse. 400.
    InvalidExtensions(HeaderError),
    /// An HTTP/2 or HTTP/3 header field broke the rules of RFC 8441 / RFC 9113 §8
    /// (missing, repeated or unknown pseudo-header, upper-case name, connection-specific
    /// field, key/accept fields present). 400.
    InvalidH2Header(&'static str),
    /// Server, application error: the subprotocol chosen was not offered by the client. 500.
    SubprotocolNotOffered(String),
    /// An application-supplied header, host or request target cannot be written safely (a
    /// name that is not a token, a value with CR, LF or NUL, or a header the handshake itself
    /// writes, like `Upgrade`). 500.
    InvalidHeader(String),
    /// A configured extension negotiator produced an offer or answer that cannot be written
    /// as a header (a name or parameter value that is not a token). 500.
    InvalidNegotiatorOutput(HeaderError),
    /// Server, application error: a rejection with a status that does not refuse (only
    /// 300-599 may be used; 1xx and 2xx would tell the client something else). 500.
    InvalidStatus(u16),
    /// Client: `Sec-WebSocket-Accept` is missing or does not match the key sent.
    AcceptMismatch,
    /// Client: the server chose a subprotocol the client did not offer.
    UnrequestedSubprotocol(String),
    /// Client: the server answered an extension the client did not offer.
    UnrequestedExtension(String),
    /// Client: the server answered the same extension twice.
    DuplicateExtension(String),
    /// Client: the server accepted more than one extension (this one is the second). A
    /// connection runs at most one extension.
    MultipleExtensions(String),
    /// Client: the extension's negotiator refused the server's answer.
    Negotiation(NegotiationError),
    /// The transport ended in the middle of the request or response head.
    UnexpectedEof,
    /// The transport ended before any byte of the request or response arrived: a bare
    /// connect-and-close, such as a load balancer's health check or a port scan, rather than
    /// a broken handshake. Nothing is sent.
    NothingReceived,
    /// `receive` was called after the handshake already produced its outcome. 500.
    Finished,
    /// Server, application error: [`Connection::accept`](crate::Connection::accept) or
    /// [`reject`](crate::Connection::reject) was called while no upgrade request waits for a
    /// decision (none has arrived yet, it was already answered, or the connection was not
    /// made with [`Connection::server_upgrade`](crate::Connection::server_upgrade)). Nothing
    /// is sent and the connection is unchanged.
    NoPendingRequest,
}

impl HandshakeError {
    /// The HTTP status a server answers this error with.
    pub fn status(&self) -> u16 {
        use HandshakeError::*;
        match self {
            HeadTooLarge { .. } | TooManyHeaders { .. } => 431,
            Method => 405,
            NotWebSocketUpgrade | UnsupportedVersion => 426,
            SubprotocolNotOffered(_)
            | InvalidHeader(_)
            | InvalidNegotiatorOutput(_)
            | InvalidStatus(_)
            | Finished
            | NoPendingRequest => 500,
            _ => 400,
        }
    }

    /// Headers a server must add to the HTTP/1.1 error response for this error (RFC 6455
    /// §4.2.2, RFC 9110 §15.5.6 and §15.5.22). A response with `Upgrade` also carries
    /// `Connection: Upgrade, close` (RFC 9110 §7.8), which [`error_response`] adds.
    ///
    /// [`error_response`]: super::error_response
    pub fn response_headers(&self) -> &'static [(&'static str, &'static str)] {
        match self {
            HandshakeError::NotWebSocketUpgrade | HandshakeError::UnsupportedVersion => {
                &[("Upgrade", "websocket"), ("Sec-WebSocket-Version", "13")]
            }
            HandshakeError::Method => &[("Allow", "GET")],
            _ => &[],
        }
    }
}

impl core::fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        use HandshakeError::*;
        match self {
            HeadTooLarge { limit } => write!(f, "header block larger than {limit} bytes"),
            TooManyHeaders { limit } => write!(f, "more than {limit} headers"),
            Malformed(why) => write!(f, "malformed HTTP: {why}"),
            Method => f.write_str("method must be GET (CONNECT for HTTP/2 and HTTP/3)"),
            HttpVersion => f.write_str("HTTP/1.1 or later is required"),
            Host => f.write_str("exactly one Host header is required"),
            InvalidTarget => f.write_str(
                "the request target must be a path (/chat) or an absolute ws, wss, http or https URI",
            ),
            RequestBody => f.write_str("an upgrade request must not have a body"),
            NotWebSocketUpgrade => f.write_str("Upgrade header must name \"websocket\""),
            ConnectionNotUpgrade => f.write_str("Connection header must contain \"upgrade\""),
            UnsupportedVersion => f.write_str("Sec-WebSocket-Version must be 13"),
            InvalidKey => f.write_str("Sec-WebSocket-Key must be base64 of 16 bytes, sent once"),
            InvalidSubprotocol => f.write_str("malformed Sec-WebSocket-Protocol header"),
            InvalidExtensions(e) => write!(f, "{e}"),
            InvalidH2Header(why) => write!(f, "invalid extended CONNECT header: {why}"),
            SubprotocolNotOffered(p) => {
                write!(f, "subprotocol {p:?} was not offered by the client")
            }
            InvalidHeader(h) => write!(f, "header {h:?} cannot be written safely"),
            InvalidNegotiatorOutput(e) => write!(f, "extension negotiator output: {e}"),
            InvalidStatus(s) => write!(f, "status {s} does not refuse a handshake (use 300-599)"),
            AcceptMismatch => f.write_str("Sec-WebSocket-Accept missing or wrong"),
            UnrequestedSubprotocol(p) => {
                write!(f, "server chose subprotocol {p:?}, which was not offered")
            }
            UnrequestedExtension(e) => {
                write!(f, "server accepted extension {e:?}, which was not offered")
            }
            DuplicateExtension(e) => write!(f, "server answered extension {e:?} twice"),
            MultipleExtensions(e) => write!(
                f,
                "server accepted extension {e:?} besides another one; at most one may run"
            ),
            Negotiation(e) => write!(f, "{e}"),
            UnexpectedEof => f.write_str("the transport ended in the middle of the handshake"),
            NothingReceived => {
                f.write_str("the transport ended before any handshake byte arrived")
            }
            Finished => f.write_str("the handshake has already finished"),
            NoPendingRequest => f.write_str("no upgrade request is waiting for a decision"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for HandshakeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            HandshakeError::InvalidExtensions(e) | HandshakeError::InvalidNegotiatorOutput(e) => {
                Some(e)
            }
            HandshakeError::Negotiation(e) => Some(e),
            _ => None,
        }
    }
}
