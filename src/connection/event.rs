//! What the connection hands the caller: events decoded from the peer's bytes.

use alloc::boxed::Box;
use alloc::string::String;
use bytes::Bytes;

use crate::close::CloseFrame;
use crate::handshake::RefusedResponse;
use crate::message::MessageKind;
use crate::utf8_bytes::Utf8Bytes;

/// One thing the peer said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Server started with [`Connection::server_upgrade`](crate::Connection::server_upgrade):
    /// a valid upgrade request arrived. Look at it with
    /// [`upgrade_request`](crate::Connection::upgrade_request), then call
    /// [`accept`](crate::Connection::accept) or [`reject`](crate::Connection::reject).
    UpgradeRequest,
    /// Client started with [`Connection::client_upgrade`](crate::Connection::client_upgrade):
    /// the server accepted; frames flow from here on.
    Open {
        /// The subprotocol the server chose.
        subprotocol: Option<String>,
    },
    /// Client: the server refused the upgrade with another status (a redirect, 401, 404, ...).
    /// The connection is over; [`transport`](crate::Connection::transport) says to close.
    Refused(Box<RefusedResponse>),
    /// A whole text message ([`ReceiveMode::Message`](crate::ReceiveMode::Message)), validated
    /// as UTF-8: read it as a `&str` ([`Utf8Bytes::as_str`], or through `Deref`), one SIMD pass.
    ///
    /// A message that arrived in one frame is a view of the receive buffer it was split from
    /// (no copy), and keeps that buffer's allocation alive until it is dropped: copy what you
    /// keep for long (a chat backlog), or the allocation stays pinned.
    Text(Utf8Bytes),
    /// A whole binary message ([`ReceiveMode::Message`](crate::ReceiveMode::Message)). Like
    /// [`Text`](Self::Text), a view that pins the receive buffer it was split from.
    Binary(Bytes),
    /// A data message begins ([`ReceiveMode::Stream`](crate::ReceiveMode::Stream)).
    MessageStart {
        /// Text or binary.
        kind: MessageKind,
    },
    /// The next piece of the current message (stream mode). For text, the concatenation of
    /// the chunks is valid UTF-8, but a chunk may end inside a code point.
    MessageChunk(Bytes),
    /// The current message ended, and (for text) was valid UTF-8 to its end (stream mode).
    MessageEnd,
    /// A ping; with `auto_pong` on, the pong is already queued.
    Ping(Bytes),
    /// A pong.
    Pong(Bytes),
    /// The peer's close frame (`None` when it carried no status code). With `auto_close` on,
    /// the answer is already queued; see [`Connection::transport`](crate::Connection::transport)
    /// for when to close the transport.
    Close(Option<CloseFrame>),
}
