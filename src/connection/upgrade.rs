//! The connection from its first byte: the opening handshake runs inside the same object
//! (bytes in, events and bytes out), then frames follow with nothing lost in between.
//!
//! A server made with [`Connection::server_upgrade`] yields [`Event::UpgradeRequest`] once a
//! valid request arrived; the application inspects it with
//! [`upgrade_request`](Connection::upgrade_request) and answers with
//! [`accept`](Connection::accept) or [`reject`](Connection::reject). A client made with
//! [`Connection::client_upgrade`] has its request queued as output and yields
//! [`Event::Open`] or [`Event::Refused`] when the response arrives. Callers that run the
//! handshake themselves use [`Connection::after_handshake`] instead.

use alloc::boxed::Box;
use alloc::string::String;
use bytes::BytesMut;

use super::config::Config;
use super::error::{Error, SendError};
use super::event::Event;
use super::Connection;
use crate::entropy::Entropy;
use crate::handshake::{
    error_response, AcceptOptions, ClientHandshake, ClientOutcome, ClientRequest, HandshakeConfig,
    HandshakeError, Negotiated, ServerHandshake, UpgradeRequest,
};

/// Where the opening handshake stands.
pub(super) enum Phase {
    /// Frames flow.
    Open,
    /// Server: reading the upgrade request.
    ReadingRequest(Box<ServerHandshake>),
    /// Server: a valid request waits for the application's decision.
    Deciding(Box<UpgradeRequest>),
    /// Client: reading the server's response.
    ReadingResponse(Box<ClientHandshake>),
    /// The handshake failed or was refused: the transport is to be closed.
    Refused,
}

impl Connection {
    /// A server connection that starts at the upgrade request's first byte: it yields
    /// [`Event::UpgradeRequest`] once a valid request arrived, and frames flow once
    /// [`accept`](Self::accept)ed.
    pub fn server_upgrade(config: Config, handshake: HandshakeConfig) -> Self {
        let mut conn = Self::server(config);
        conn.phase = Phase::ReadingRequest(Box::new(ServerHandshake::new(handshake)));
        conn
    }

    /// A client connection that starts with its upgrade request (already queued as output)
    /// and opens when a valid `101` response arrives. Mask keys and the handshake key come
    /// from `entropy`.
    pub fn client_upgrade(
        config: Config,
        handshake: &HandshakeConfig,
        request: &ClientRequest,
        mut entropy: Box<dyn Entropy>,
    ) -> Result<Self, HandshakeError> {
        let (state, bytes) = ClientHandshake::new(request, handshake, entropy.as_mut())?;
        let mut conn = Self::client(config, entropy);
        conn.tx.write_raw(&bytes);
        conn.phase = Phase::ReadingResponse(Box::new(state));
        Ok(conn)
    }

    /// Installs the result of a handshake run elsewhere (HTTP/1.1 through
    /// [`crate::handshake`], or HTTP/2-3 extended CONNECT) and the bytes that followed it
    /// (over HTTP/2-3: stream data that arrived with the headers, if any), before any frame
    /// is sent or received. This is the one way to give a connection made with
    /// [`server`](Self::server) or [`client`](Self::client) its subprotocol and extension.
    #[must_use]
    pub fn after_handshake(mut self, negotiated: Negotiated, leftover: &[u8]) -> Self {
        self.subprotocol = negotiated.subprotocol.map(String::into_boxed_str);
        self.extension = negotiated.extension;
        self.receive(leftover);
        self
    }

    /// The subprotocol agreed in the handshake.
    pub fn subprotocol(&self) -> Option<&str> {
        self.subprotocol.as_deref()
    }

    /// Server: the request waiting for [`accept`](Self::accept) or [`reject`](Self::reject).
    pub fn upgrade_request(&self) -> Option<&UpgradeRequest> {
        match &self.phase {
            Phase::Deciding(request) => Some(request),
            _ => None,
        }
    }

    /// Server: accepts the waiting request; the `101` response is queued as output, the
    /// negotiated extension installed, and frames the client pipelined are decoded next.
    /// Fails with [`HandshakeError::NoPendingRequest`] (and changes nothing) unless an
    /// [`Event::UpgradeRequest`] is waiting for a decision. An invalid choice (a subprotocol
    /// the client did not offer, a header that cannot be written) queues the 500 response and
    /// ends the connection like a rejection.
    pub fn accept(&mut self, options: AcceptOptions) -> Result<(), HandshakeError> {
        let request = match core::mem::replace(&mut self.phase, Phase::Refused) {
            Phase::Deciding(request) => request,
            other => {
                self.phase = other;
                return Err(HandshakeError::NoPendingRequest);
            }
        };
        match request.accept(options) {
            Ok(accepted) => {
                self.tx.write_raw(&accepted.response);
                self.open_with(accepted.negotiated, accepted.leftover);
                Ok(())
            }
            Err(error) => {
                // Like a rejection: the error response goes out, nothing more is read.
                self.tx.write_raw(&error_response(&error));
                self.end_handshake();
                Err(error)
            }
        }
    }

    /// Server: refuses the waiting request with an HTTP response of `status`, extra headers
    /// and a body; [`transport`](Self::transport) then says to close. Fails with
    /// [`HandshakeError::NoPendingRequest`] unless an [`Event::UpgradeRequest`] is waiting for
    /// a decision, and with the reason the response cannot be written (a status outside
    /// 300-599, an unsafe header), in both cases changing nothing.
    pub fn reject(
        &mut self,
        status: u16,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<(), HandshakeError> {
        let Phase::Deciding(request) = &self.phase else {
            return Err(HandshakeError::NoPendingRequest);
        };
        let response = request.reject(status, headers, body)?;
        self.tx.write_raw(&response);
        self.end_handshake();
        Ok(())
    }

    /// The opening handshake ended without a connection: nothing more is read or sent.
    fn end_handshake(&mut self) {
        self.phase = Phase::Refused;
        self.failed = true;
        self.rx.shut();
    }

    /// Frames start: install what was negotiated; handshake leftovers come before anything
    /// received since.
    fn open_with(&mut self, negotiated: Negotiated, mut leftover: BytesMut) {
        self.phase = Phase::Open;
        self.subprotocol = negotiated.subprotocol.map(String::into_boxed_str);
        self.extension = negotiated.extension;
        leftover.extend_from_slice(&self.rx.take_input());
        self.rx.set_input(leftover);
    }

    pub(super) fn handshaking(&self) -> bool {
        !matches!(self.phase, Phase::Open)
    }

    pub(super) fn check_open_for_send(&self) -> Result<(), SendError> {
        if self.handshaking() {
            Err(SendError::Handshaking)
        } else {
            Ok(())
        }
    }

    /// Runs the handshake on the bytes received so far. If the transport's read side ended
    /// before the request or response head did, the handshake fails with
    /// [`HandshakeError::UnexpectedEof`], or [`HandshakeError::NothingReceived`] when not a
    /// byte arrived (no response is queued: the peer stopped sending).
    pub(super) fn poll_handshake(&mut self) -> Option<Result<Event, Error>> {
        match &mut self.phase {
            Phase::Open | Phase::Deciding(_) | Phase::Refused => None,
            Phase::ReadingRequest(hs) => {
                let input = self.rx.take_input();
                match hs.receive(&input) {
                    Ok(None) if self.eof => {
                        let started = hs.started();
                        self.refuse(eof_error(started))
                    }
                    Ok(None) => None,
                    Ok(Some(request)) => {
                        self.phase = Phase::Deciding(Box::new(request));
                        Some(Ok(Event::UpgradeRequest))
                    }
                    Err(rejection) => {
                        self.tx.write_raw(&rejection.response);
                        self.refuse(rejection.error)
                    }
                }
            }
            Phase::ReadingResponse(hs) => {
                let input = self.rx.take_input();
                match hs.receive(&input) {
                    Ok(None) if self.eof => {
                        let started = hs.started();
                        self.refuse(eof_error(started))
                    }
                    Ok(None) => None,
                    Ok(Some(ClientOutcome::Accepted(accepted))) => {
                        self.open_with(accepted.negotiated, accepted.leftover);
                        let subprotocol: Option<String> =
                            self.subprotocol.as_deref().map(String::from);
                        Some(Ok(Event::Open { subprotocol }))
                    }
                    Ok(Some(ClientOutcome::Refused(refused))) => {
                        self.end_handshake();
                        Some(Ok(Event::Refused(Box::new(refused))))
                    }
                    Err(error) => self.refuse(error),
                }
            }
        }
    }

    fn refuse(&mut self, error: HandshakeError) -> Option<Result<Event, Error>> {
        self.phase = Phase::Refused;
        self.fail_now(Error::Handshake(error))
    }
}

/// The error for a transport that ended during the handshake: a bare connect-and-close when
/// not a byte arrived, a broken handshake otherwise.
fn eof_error(started: bool) -> HandshakeError {
    if started {
        HandshakeError::UnexpectedEof
    } else {
        HandshakeError::NothingReceived
    }
}
