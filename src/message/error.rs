//! What the message layer refuses. The connection maps each to its close code
//! (`From<MessageError> for Error`), so this layer never names the connection's vocabulary.

/// A violation found while assembling a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MessageError {
    /// A continuation frame with no message in progress.
    UnexpectedContinuation,
    /// A new text or binary frame while a fragmented message is in progress.
    ExpectedContinuation,
    /// Text that is not UTF-8.
    InvalidUtf8,
    /// A message longer than the limit.
    MessageTooLarge,
}
