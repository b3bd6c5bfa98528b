//! What the stream yields and the sink takes: whole messages and control frames.

use bytes::Bytes;

use crate::close::CloseFrame;
use crate::connection::Event;
use crate::utf8_bytes::Utf8Bytes;

/// A WebSocket message, as the stream hands it out and the sink takes it.
///
/// Received text and binary messages are views of the connection's receive buffer when they
/// arrived in one frame (no copy), like [`Event::Text`](crate::Event::Text).
///
/// ```
/// use sansws::stream::Message;
/// let text = Message::text("hello");
/// assert_eq!(text.as_text(), Some("hello"));
/// let data = Message::binary(vec![1, 2, 3]);
/// assert!(data.is_binary() && data.into_data().len() == 3);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A text message, validated UTF-8.
    Text(Utf8Bytes),
    /// A binary message.
    Binary(Bytes),
    /// A ping (at most 125 bytes). Received pings are already answered (with `auto_pong`, the
    /// default); send one to check that the peer is alive.
    Ping(Bytes),
    /// A pong (at most 125 bytes).
    Pong(Bytes),
    /// A close frame. Received: the peer's, already answered (with `auto_close`, the
    /// default); the stream ends once the closing handshake is over. Sent: starts the closing
    /// handshake (`None` sends 1000, normal closure, with no reason); the stream keeps
    /// yielding what the peer sends until its close arrives.
    Close(Option<CloseFrame>),
}

impl Message {
    /// A text message.
    pub fn text(text: impl Into<Utf8Bytes>) -> Self {
        Message::Text(text.into())
    }

    /// A binary message.
    pub fn binary(data: impl Into<Bytes>) -> Self {
        Message::Binary(data.into())
    }

    /// Whether this is a text message.
    pub fn is_text(&self) -> bool {
        matches!(self, Message::Text(_))
    }

    /// Whether this is a binary message.
    pub fn is_binary(&self) -> bool {
        matches!(self, Message::Binary(_))
    }

    /// Whether this is a close frame.
    pub fn is_close(&self) -> bool {
        matches!(self, Message::Close(_))
    }

    /// The text of a text message (one validation pass, see [`Utf8Bytes::as_str`]).
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Message::Text(text) => Some(text.as_str()),
            _ => None,
        }
    }

    /// The payload as bytes, shared, not copied (a close frame's reason; empty without one).
    pub fn into_data(self) -> Bytes {
        match self {
            Message::Text(text) => text.into_bytes(),
            Message::Binary(data) | Message::Ping(data) | Message::Pong(data) => data,
            Message::Close(frame) => frame.map(|f| f.reason.into_bytes()).unwrap_or_default(),
        }
    }

    /// The message an event carries; `None` for the events of the opening handshake and of
    /// a connection in stream mode, which the stream never runs.
    pub(super) fn from_event(event: Event) -> Option<Self> {
        match event {
            Event::Text(text) => Some(Message::Text(text)),
            Event::Binary(data) => Some(Message::Binary(data)),
            Event::Ping(data) => Some(Message::Ping(data)),
            Event::Pong(data) => Some(Message::Pong(data)),
            Event::Close(frame) => Some(Message::Close(frame)),
            Event::UpgradeRequest
            | Event::Open { .. }
            | Event::Refused(_)
            | Event::MessageStart { .. }
            | Event::MessageChunk(_)
            | Event::MessageEnd => None,
        }
    }
}

impl From<Utf8Bytes> for Message {
    fn from(text: Utf8Bytes) -> Self {
        Message::Text(text)
    }
}

impl From<Bytes> for Message {
    fn from(data: Bytes) -> Self {
        Message::Binary(data)
    }
}
