//! Errors: what the peer did wrong (each mapped to the close code that answers it), and
//! what the caller asked for that cannot be done.

use crate::close::CloseCode;
use crate::extensions::ExtensionError;
use crate::frame::HeaderDecodeError;
use crate::handshake::HandshakeError;
use crate::message::MessageError;

/// Why the connection failed, each reason with the close code that answers it.
///
/// The close code ([`Error::close_code`]) goes to the peer in a close frame, sent once, and the
/// connection then refuses further input. Three kinds send no close frame: the transport ended
/// ([`UnexpectedEof`](Self::UnexpectedEof)), the peer fell silent
/// ([`KeepaliveTimeout`](Self::KeepaliveTimeout)) or stopped taking output
/// ([`SendTimeout`](Self::SendTimeout)), all of which also discard pending output since
/// nothing more can reach the peer, and the opening handshake failed
/// ([`Handshake`](Self::Handshake)), where a server's HTTP error response may be pending.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A reserved opcode (3–7, 0xB–0xF). 1002.
    ReservedOpcode(u8),
    /// RSV bits that no negotiated extension claims, or on a control or continuation frame. 1002.
    ReservedBits(u8),
    /// A server received an unmasked frame. 1002.
    UnmaskedFrame,
    /// A client received a masked frame. 1002.
    MaskedFrame,
    /// A 64-bit payload length with the top bit set. 1002.
    LengthOverflow,
    /// A control frame with FIN clear. 1002.
    FragmentedControlFrame,
    /// A control frame longer than 125 bytes. 1002.
    ControlFrameTooLong,
    /// A continuation frame with no message in progress. 1002.
    UnexpectedContinuation,
    /// A new text or binary frame while a fragmented message is in progress. 1002.
    ExpectedContinuation,
    /// A close frame with a 1-byte payload. 1002.
    InvalidClosePayload,
    /// A close code that may not appear on the wire. 1002.
    InvalidCloseCode(u16),
    /// Text or a close reason that is not UTF-8. 1007.
    InvalidUtf8,
    /// A frame longer than `max_frame_size`. 1009.
    FrameTooLarge,
    /// A message longer than `max_message_size` (after decompression). 1009.
    MessageTooLarge,
    /// The negotiated extension refused the data (corrupt compressed data: 1007).
    Extension(ExtensionError),
    /// The transport ended before the close handshake finished. Reported as 1006: no close
    /// frame is sent, and pending output is discarded.
    UnexpectedEof,
    /// Nothing arrived within the keepalive time after a ping. Reported as 1006: no close frame
    /// is sent, and pending output is discarded.
    KeepaliveTimeout,
    /// Output was pending and the transport took none of it within the send timeout
    /// ([`Config::send_timeout`](crate::Config::send_timeout)). Reported as 1006: no close
    /// frame could reach a peer that does not read, so none is queued, and pending output is
    /// discarded.
    SendTimeout,
    /// The opening handshake failed (no close frame: the connection never opened). A server
    /// has queued the HTTP error response for a bad request; nothing is queued when the input
    /// ended before the request or response was complete.
    Handshake(HandshakeError),
}

impl Error {
    /// The close code this error answers the peer with, or 1006 (never sent on the wire) for
    /// the errors that send nothing.
    pub fn close_code(&self) -> CloseCode {
        match self {
            Error::InvalidUtf8 => CloseCode::INVALID_PAYLOAD,
            Error::FrameTooLarge | Error::MessageTooLarge => CloseCode::MESSAGE_TOO_BIG,
            Error::Extension(e) => e.code,
            Error::UnexpectedEof
            | Error::KeepaliveTimeout
            | Error::SendTimeout
            | Error::Handshake(_) => CloseCode::ABNORMAL,
            _ => CloseCode::PROTOCOL_ERROR,
        }
    }

    /// A short reason for the close frame and logs.
    pub fn reason(&self) -> &'static str {
        match self {
            Error::ReservedOpcode(_) => "reserved opcode",
            Error::ReservedBits(_) => "reserved bits set",
            Error::UnmaskedFrame => "unmasked frame from client",
            Error::MaskedFrame => "masked frame from server",
            Error::LengthOverflow => "payload length overflow",
            Error::FragmentedControlFrame => "fragmented control frame",
            Error::ControlFrameTooLong => "control frame too long",
            Error::UnexpectedContinuation => "continuation without a message",
            Error::ExpectedContinuation => "expected a continuation frame",
            Error::InvalidClosePayload => "invalid close payload",
            Error::InvalidCloseCode(_) => "invalid close code",
            Error::InvalidUtf8 => "invalid UTF-8",
            Error::FrameTooLarge => "frame too large",
            Error::MessageTooLarge => "message too large",
            Error::Extension(e) => e.reason,
            Error::UnexpectedEof => "transport closed before the close handshake",
            Error::KeepaliveTimeout => "no answer to a keepalive ping",
            Error::SendTimeout => "the peer took no output within the send timeout",
            Error::Handshake(_) => "opening handshake failed",
        }
    }
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Error::ReservedOpcode(op) => {
                write!(f, "reserved opcode {op:#x} (close {})", self.close_code())
            }
            Error::ReservedBits(b) => write!(
                f,
                "reserved bits {b:#04x} set (close {})",
                self.close_code()
            ),
            Error::InvalidCloseCode(c) => {
                write!(f, "invalid close code {c} (close {})", self.close_code())
            }
            Error::Handshake(e) => write!(f, "opening handshake failed: {e}"),
            Error::Extension(e) => write!(f, "extension failed: {e}"),
            Error::UnexpectedEof | Error::KeepaliveTimeout | Error::SendTimeout => {
                write!(f, "{} (no close frame sent)", self.reason())
            }
            _ => write!(f, "{} (close {})", self.reason(), self.close_code()),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Handshake(e) => Some(e),
            Error::Extension(e) => Some(e),
            _ => None,
        }
    }
}

impl From<MessageError> for Error {
    fn from(e: MessageError) -> Self {
        match e {
            MessageError::UnexpectedContinuation => Error::UnexpectedContinuation,
            MessageError::ExpectedContinuation => Error::ExpectedContinuation,
            MessageError::InvalidUtf8 => Error::InvalidUtf8,
            MessageError::MessageTooLarge => Error::MessageTooLarge,
        }
    }
}

impl From<HeaderDecodeError> for Error {
    fn from(e: HeaderDecodeError) -> Self {
        match e {
            HeaderDecodeError::ReservedOpcode(op) => Error::ReservedOpcode(op),
            HeaderDecodeError::LengthOverflow => Error::LengthOverflow,
        }
    }
}

/// A send that the connection refused; nothing was written.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendError {
    /// A close frame was already sent (or the connection failed): nothing may follow it.
    Closed,
    /// The opening handshake has not completed.
    Handshaking,
    /// A streamed message is in progress; finish it before starting another data message.
    MessageInProgress,
    /// `send_chunk` or `end_message` without `begin_message`.
    NoMessageInProgress,
    /// Control frame payloads are limited to 125 bytes (close: code + 123 bytes of reason).
    ControlFrameTooLong,
    /// Text that is not valid UTF-8: a whole message sent with
    /// [`send`](crate::Connection::send) as [`MessageKind::Text`](crate::MessageKind::Text),
    /// or a streamed text fragment that can no longer become valid (or ends inside a code
    /// point).
    InvalidUtf8,
    /// This close code may not be sent (1004–1006, 1015, and codes outside 1000–4999).
    InvalidCloseCode(u16),
    /// The extension failed to encode the message.
    Extension(ExtensionError),
}

impl core::fmt::Display for SendError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SendError::Closed => f.write_str("the connection is closing or closed"),
            SendError::Handshaking => f.write_str("the opening handshake has not completed"),
            SendError::MessageInProgress => f.write_str("a streamed message is in progress"),
            SendError::NoMessageInProgress => f.write_str("no streamed message is in progress"),
            SendError::ControlFrameTooLong => f.write_str("control frame payload over 125 bytes"),
            SendError::InvalidUtf8 => f.write_str("text is not valid UTF-8"),
            SendError::InvalidCloseCode(c) => write!(f, "close code {c} may not be sent"),
            SendError::Extension(e) => write!(f, "extension failed: {e}"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for SendError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SendError::Extension(e) => Some(e),
            _ => None,
        }
    }
}
