//! The connection: one state machine for both roles, from the opening handshake to the end of
//! the closing handshake, and the vocabulary it speaks (configuration, events, errors, states).
//! Private submodules; the crate root re-exports what is public.

mod config;
mod error;
mod event;
mod nanos;
mod output;
mod prepared;
mod recv;
mod send;
mod state;
mod timer;
mod upgrade;

pub use config::{Config, ReceiveMode};
pub use error::{Error, SendError};
pub use event::Event;
pub use output::OutputBuf;
pub use prepared::PreparedMessage;
pub use state::{Role, State, Transport};

use alloc::boxed::Box;

use crate::entropy::Entropy;
use crate::extensions::Extension;
use recv::Receiver;
use send::{Masking, Sender};
use timer::Timers;
use upgrade::Phase;

/// A WebSocket connection, either role: bytes in, events and bytes out.
///
/// It starts at the first byte of the opening handshake (with
/// [`server_upgrade`](Self::server_upgrade) / [`client_upgrade`](Self::client_upgrade)) or at
/// the first frame after a handshake run elsewhere ([`server`](Self::server) /
/// [`client`](Self::client) and [`after_handshake`](Self::after_handshake)).
///
/// It is driven from outside: [`receive`](Self::receive) gives it bytes,
/// [`next_event`](Self::next_event) decodes them into [`Event`]s (answering pings and closes as
/// configured), the `send_*` methods queue frames, and
/// [`pending_output`](Self::pending_output) / [`advance_output`](Self::advance_output) hand the
/// queued bytes to the transport at whatever pace it accepts them. Time enters only through
/// [`poll_timeout`](Self::poll_timeout) and [`handle_timeout`](Self::handle_timeout), with the
/// caller's clock. The [guide](crate::guide) has the whole contract.
pub struct Connection {
    role: Role,
    config: Config,
    extension: Option<Box<dyn Extension>>,
    subprotocol: Option<Box<str>>,
    phase: Phase,
    rx: Receiver,
    tx: Sender,
    timers: Timers,
    close_sent: bool,
    close_received: bool,
    /// The connection failed or timed out: nothing more is read or written.
    failed: bool,
    /// The transport's read side ended.
    eof: bool,
    /// The failure not yet reported through `next_event` (boxed: only a failed connection
    /// holds one).
    pending_error: Option<Box<Error>>,
}

impl core::fmt::Debug for Connection {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Connection")
            .field("role", &self.role)
            .field("state", &self.state())
            .field("extension", &self.extension.as_ref().map(|e| e.name()))
            .field("pending_input_len", &self.pending_input_len())
            .field("pending_output_len", &self.pending_output_len())
            .finish()
    }
}

impl Connection {
    fn new(config: Config, masking: Masking) -> Self {
        Self {
            role: masking.role(),
            extension: None,
            subprotocol: None,
            phase: Phase::Open,
            rx: Receiver::new(),
            tx: Sender::new(masking),
            timers: Timers::default(),
            config,
            close_sent: false,
            close_received: false,
            failed: false,
            eof: false,
            pending_error: None,
        }
    }

    /// A server-side connection whose handshake ran elsewhere: expects masked frames, sends
    /// unmasked ones. Install the handshake's result with
    /// [`after_handshake`](Self::after_handshake).
    pub fn server(config: Config) -> Self {
        Self::new(config, Masking::Server)
    }

    /// A client-side connection whose handshake ran elsewhere; it masks every frame with a
    /// fresh key from `entropy`. Install the handshake's result with
    /// [`after_handshake`](Self::after_handshake).
    pub fn client(config: Config, entropy: Box<dyn Entropy>) -> Self {
        Self::new(config, Masking::client(entropy))
    }

    /// [`client`](Self::client) with mask keys from [`OsEntropy`](crate::entropy::OsEntropy).
    #[cfg(all(
        feature = "std",
        not(all(target_arch = "wasm32", target_os = "unknown"))
    ))]
    pub fn client_with_os_entropy(config: Config) -> Self {
        Self::client(config, Box::new(crate::entropy::OsEntropy::new()))
    }

    /// The negotiated extension, if any.
    pub fn extension(&self) -> Option<&dyn Extension> {
        self.extension.as_deref()
    }

    /// This end's role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Where the connection stands: the opening handshake, open, closing or closed.
    pub fn state(&self) -> State {
        if self.failed
            || self.timers.close_expired
            || (self.close_sent && self.close_received)
            || matches!(self.phase, Phase::Refused)
        {
            State::Closed
        } else if self.handshaking() {
            State::Connecting
        } else if self.close_sent {
            State::CloseSent
        } else if self.close_received {
            State::CloseReceived
        } else {
            State::Open
        }
    }

    /// Whether messages flow both ways: the opening handshake is over and no close frame was
    /// sent or received ([`State::Open`]). Sends are refused before
    /// ([`SendError::Handshaking`]) and after our close ([`SendError::Closed`]).
    pub fn is_open(&self) -> bool {
        self.state() == State::Open
    }

    /// What to do with the transport now. Check it after each batch of events and sends.
    pub fn transport(&self) -> Transport {
        if self.state() != State::Closed {
            return if self.eof {
                Transport::Close
            } else {
                Transport::Open
            };
        }
        if self.role == Role::Server || self.failed || self.eof || self.timers.close_expired {
            Transport::Close
        } else {
            Transport::AwaitPeerClose
        }
    }

    /// How many received bytes are not yet decoded into events: the receive-side
    /// backpressure signal (stop reading the transport while it is large).
    pub fn pending_input_len(&self) -> usize {
        self.rx.buffered()
    }

    /// Gives back every buffer allocation now, keeping only the bytes still buffered (moved
    /// into allocations of exactly their size) and the extension's codec state. The idle
    /// timer ([`Config::idle_timeout`]) does this and [`hibernate`](Self::hibernate) by
    /// itself once traffic stops; call it for a connection you know is idle sooner, or when
    /// the timer is off. The next read or send allocates again.
    pub fn release_buffers(&mut self) {
        self.rx.release();
        self.tx.release();
    }

    /// [`release_buffers`](Self::release_buffers), and the extension gives back its codec
    /// state too, keeping only what the next message needs (for permessage-deflate with
    /// context takeover: the peer's window, a few KiB, instead of about 362 KB of codec).
    /// The next message in either direction rebuilds the rest, transparently. A message in
    /// progress in one direction is finished first: that direction hibernates when it ends.
    ///
    /// The idle timer ([`Config::idle_timeout`], 1 s by default) calls it once traffic
    /// stops, so most hosts never need to. Call it yourself when you know sooner that the
    /// connection goes quiet (a host without timers, or one that hibernates right after the
    /// last message of a burst); waking costs less than one more small message
    /// (docs/performance.md). The idle timer then asks for no wake-up until traffic resumes.
    pub fn hibernate(&mut self) {
        self.release_buffers();
        if let Some(extension) = self.extension.as_mut() {
            extension.hibernate();
        }
        self.tx.busy = false;
        self.timers.rest();
    }

    /// Fails the connection: queues the close frame for `error` (once, if one may still be
    /// sent), stops reading and keeps the error for `next_event` to report. An error that
    /// sends nothing because the peer is gone, silent or not reading
    /// ([`Error::UnexpectedEof`], [`Error::KeepaliveTimeout`], [`Error::SendTimeout`]) also
    /// discards pending output: nothing more is to reach the peer, so the transport can be
    /// closed at once.
    fn fail(&mut self, error: Error) {
        if self.failed {
            return;
        }
        let code = error.close_code();
        if !self.close_sent && code.is_valid_on_wire() {
            self.tx.write_close(Some(code), error.reason().as_bytes());
            self.close_sent = true;
        }
        if matches!(
            error,
            Error::UnexpectedEof | Error::KeepaliveTimeout | Error::SendTimeout
        ) {
            self.tx.discard();
        }
        self.failed = true;
        self.rx.shut();
        self.pending_error = Some(Box::new(error));
    }

    /// Fails the connection and hands out the error at once (for `next_event`).
    fn fail_now(&mut self, error: Error) -> Option<Result<Event, Error>> {
        self.fail(error);
        self.pending_error.take().map(|e| Err(*e))
    }

    /// Whether frames are still read.
    fn reading(&self) -> bool {
        !self.failed && !self.close_received && !self.eof && !self.timers.close_expired
    }
}

#[cfg(all(test, target_pointer_width = "64"))]
mod tests {
    /// The value itself is a large part of what an idle connection costs without compression
    /// (docs/memory.md): growing it should be a decision, not an accident.
    #[test]
    fn connection_stays_small() {
        let size = core::mem::size_of::<super::Connection>();
        assert!(size <= 504, "Connection is {size} bytes");
    }
}
