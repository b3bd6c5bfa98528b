//! Why a stream, a send or an opening handshake failed: the core's typed errors, unchanged,
//! beside the transport's and the handshake outcomes that end an `accept` or a `connect`.

use alloc::boxed::Box;
use std::io;

use crate::connection::{Error, SendError};
use crate::handshake::RefusedResponse;

/// What the stream, the sink or an opening handshake reports.
#[derive(Debug)]
#[non_exhaustive]
pub enum StreamError {
    /// The connection failed: the peer broke the protocol (its close code, [`Error::close_code`],
    /// was sent), the opening handshake failed, the transport ended before the closing
    /// handshake, or the keepalive met silence. Exactly the error the connection reported.
    Protocol(Error),
    /// The connection refused a message given to the sink (after a close, a control frame
    /// over 125 bytes, ...); nothing was queued.
    Send(SendError),
    /// Client: the server answered the upgrade with another status (a redirect, 401, 404, ...).
    Refused(Box<RefusedResponse>),
    /// Server: the upgrade callback rejected the request with this status; the response was
    /// sent and the transport closed.
    Rejected(u16),
    /// The transport failed, or did not take the last output within the flush timeout
    /// ([`io::ErrorKind::TimedOut`]).
    Io(io::Error),
}

impl StreamError {
    /// The close code the connection sent for this error, if it is a protocol error (1006,
    /// never sent, for the errors that end a connection without a close frame).
    pub fn close_code(&self) -> Option<crate::close::CloseCode> {
        match self {
            StreamError::Protocol(e) => Some(e.close_code()),
            _ => None,
        }
    }
}

impl core::fmt::Display for StreamError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            StreamError::Protocol(e) => write!(f, "connection failed: {e}"),
            StreamError::Send(e) => write!(f, "send refused: {e}"),
            StreamError::Refused(r) => write!(f, "the server refused the upgrade: {}", r.status),
            StreamError::Rejected(status) => write!(f, "upgrade rejected with {status}"),
            StreamError::Io(e) => write!(f, "transport: {e}"),
        }
    }
}

impl std::error::Error for StreamError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StreamError::Protocol(e) => Some(e),
            StreamError::Send(e) => Some(e),
            StreamError::Io(e) => Some(e),
            StreamError::Refused(_) | StreamError::Rejected(_) => None,
        }
    }
}

impl From<io::Error> for StreamError {
    fn from(e: io::Error) -> Self {
        StreamError::Io(e)
    }
}

impl From<Error> for StreamError {
    fn from(e: Error) -> Self {
        StreamError::Protocol(e)
    }
}

impl From<SendError> for StreamError {
    fn from(e: SendError) -> Self {
        StreamError::Send(e)
    }
}

/// Lets `?` carry a stream error out of a function returning `io::Result` (a task body next to
/// other I/O): transport errors come back as they were, the rest as `io::ErrorKind::Other`.
impl From<StreamError> for io::Error {
    fn from(e: StreamError) -> Self {
        match e {
            StreamError::Io(e) => e,
            other => io::Error::other(other),
        }
    }
}
