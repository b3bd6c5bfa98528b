//! Roles, connection states (RFC 6455 §4 and §7), and what the caller should do with the
//! transport.

/// Which end of the connection this is. The role decides masking only: a client masks what
/// it sends and refuses masked frames, a server the opposite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Role {
    /// The end that opened the connection.
    Client,
    /// The end that accepted it.
    Server,
}

/// Where a connection stands (RFC 6455 §4 and §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// The opening handshake runs inside the connection (made with
    /// [`server_upgrade`](crate::Connection::server_upgrade) or
    /// [`client_upgrade`](crate::Connection::client_upgrade)): no message may be sent yet.
    Connecting,
    /// Messages flow both ways.
    Open,
    /// We sent a close frame and wait for the peer's; we still receive.
    CloseSent,
    /// The peer sent a close frame and we have not answered yet (only with `auto_close` off).
    CloseReceived,
    /// The close handshake is over, the opening handshake was refused or failed, or the
    /// connection failed: nothing more is sent or received.
    Closed,
}

/// What the caller should do with the underlying transport (TCP connection, stream).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// Keep it open.
    Open,
    /// Write out the pending output, then close it. RFC 6455 §7.1.1: the server closes the TCP
    /// connection first, and either side does so after failing the connection.
    Close,
    /// Write out the pending output, then wait for the peer to close it (a client after a clean
    /// close handshake), reading and discarding; the close timeout turns this into
    /// [`Transport::Close`].
    AwaitPeerClose,
}
