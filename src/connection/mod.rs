//! Connection state: one implementation for both roles, closing, limits and errors.
//!
//! The [`Connection`] is driven from outside: [`receive`](Connection::receive) gives it bytes,
//! [`next_event`](Connection::next_event) decodes them into [`Event`](crate::Event)s (answering pings and
//! closes as configured), the `send_*` methods queue frames, and
//! [`pending_output`](Connection::pending_output) / [`advance_output`](Connection::advance_output)
//! hand the queued bytes to the transport at whatever pace it accepts them. Time enters only
//! through [`poll_timeout`](Connection::poll_timeout) and
//! [`handle_timeout`](Connection::handle_timeout), with the caller's clock.

pub mod close;
pub mod config;
pub mod error;
pub mod event;
pub mod state;

mod recv;
mod send;
mod timer;
mod upgrade;

use alloc::boxed::Box;
use alloc::string::String;
use bytes::BytesMut;

use crate::entropy::Entropy;
use crate::extensions::Extension;
use config::Config;
use error::Error;
use recv::Receiver;
use send::Sender;
use state::{Role, State, Transport};
use timer::Timers;
use upgrade::Phase;

/// A WebSocket connection after the opening handshake: bytes in, events and bytes out.
pub struct Connection {
    role: Role,
    config: Config,
    extension: Option<Box<dyn Extension>>,
    subprotocol: Option<String>,
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
    /// The failure not yet reported through `next_event`.
    pending_error: Option<Error>,
}

impl core::fmt::Debug for Connection {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Connection")
            .field("role", &self.role)
            .field("state", &self.state())
            .field("extension", &self.extension.as_ref().map(|e| e.name()))
            .field("buffered_input", &self.buffered_input())
            .field("pending_output", &self.output_len())
            .finish()
    }
}

impl Connection {
    fn new(role: Role, config: Config, entropy: Option<Box<dyn Entropy>>) -> Self {
        Self {
            role,
            extension: None,
            subprotocol: None,
            phase: Phase::Open,
            rx: Receiver::new(),
            tx: Sender::new(entropy),
            timers: Timers::default(),
            config,
            close_sent: false,
            close_received: false,
            failed: false,
            eof: false,
            pending_error: None,
        }
    }

    /// A server-side connection: expects masked frames, sends unmasked ones.
    pub fn server(config: Config) -> Self {
        Self::new(Role::Server, config, None)
    }

    /// A client-side connection that masks every frame with a fresh key from `entropy`.
    pub fn client(config: Config, entropy: Box<dyn Entropy>) -> Self {
        Self::new(Role::Client, config, Some(entropy))
    }

    /// A client-side connection with mask keys from [`OsEntropy`](crate::entropy::OsEntropy).
    #[cfg(feature = "std")]
    pub fn client_with_os_entropy(config: Config) -> Self {
        Self::client(config, Box::new(crate::entropy::OsEntropy::new()))
    }

    /// Installs the extension negotiated in the handshake (e.g. permessage-deflate). Call it
    /// before any frame is sent or received.
    pub fn set_extension(&mut self, extension: Box<dyn Extension>) {
        self.extension = Some(extension);
    }

    /// The negotiated extension, if any.
    pub fn extension(&self) -> Option<&dyn Extension> {
        self.extension.as_deref()
    }

    /// This end's role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The closing state.
    pub fn state(&self) -> State {
        if self.failed
            || self.timers.close_expired
            || (self.close_sent && self.close_received)
            || matches!(self.phase, Phase::Refused)
        {
            State::Closed
        } else if self.close_sent {
            State::CloseSent
        } else if self.close_received {
            State::CloseReceived
        } else {
            State::Open
        }
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

    /// Bytes received but not yet decoded into events.
    pub fn buffered_input(&self) -> usize {
        self.rx.buffered()
    }

    /// Gives back every buffer allocation now, keeping only the bytes still buffered (moved
    /// into allocations of exactly their size) and the extension's codec state. Call it when
    /// the connection goes idle (the transport had nothing to read and took all output): a
    /// server with many quiet connections then holds no buffer memory for them beyond that.
    /// The automatic rule (see [`Config::buffer_keep`]) keeps up to `buffer_keep` per buffer
    /// for reuse instead; this trades that for one allocation on the next read or send.
    pub fn release_buffers(&mut self) {
        self.rx.release();
        self.tx.release();
    }

    /// [`release_buffers`](Self::release_buffers), and the extension gives back its codec
    /// state too, keeping only what the next message needs (for permessage-deflate with
    /// context takeover: the peer's window, a few KiB, instead of about 362 KB of codec).
    /// The next message in either direction rebuilds the rest, transparently. A message in
    /// progress in one direction is finished first: that direction hibernates when it ends.
    /// Call it when the connection goes idle; waking costs less than one more small message
    /// (docs/performance.md).
    pub fn hibernate(&mut self) {
        self.release_buffers();
        if let Some(extension) = self.extension.as_mut() {
            extension.hibernate();
        }
    }

    /// Fails the connection: queues the close frame for `error` (once, if one may still be
    /// sent), stops reading and keeps the error for `next_event` to report.
    fn fail(&mut self, error: Error) {
        if self.failed {
            return;
        }
        let code = error.close_code();
        if !self.close_sent && code.is_valid_on_wire() {
            self.tx
                .write_close(self.role, Some(code), error.reason().as_bytes());
            self.close_sent = true;
        }
        self.failed = true;
        self.rx.shut(&self.config);
        self.pending_error = Some(error);
    }

    /// Whether frames are still read.
    fn reading(&self) -> bool {
        !self.failed && !self.close_received && !self.eof && !self.timers.close_expired
    }
}

/// Moves `buf`'s bytes into an allocation of exactly their size (none if empty).
pub(crate) fn release_buffer(buf: &mut BytesMut, allocated: &mut usize) {
    *buf = if buf.is_empty() {
        BytesMut::new()
    } else {
        BytesMut::from(&buf[..])
    };
    *allocated = buf.capacity();
}

/// Gives back memory a buffer no longer needs, so that what a connection holds between events
/// never depends on the size of an earlier message. Called at rest points (every decodable
/// event handed out, output taken), never per byte. Once its allocation grew past `keep`:
///
/// - an emptied buffer is released;
/// - a buffer that needs at most `keep / 2` bytes moves them into a fresh allocation of just
///   their size, so what it holds is then the same whatever came before;
/// - a buffer whose allocation exceeds `factor` times what it needs (`need`, at least its
///   length, at least `keep`) moves its bytes into a fresh allocation of just their size.
///
/// Each move copies less than half of `keep`, or less than `1/factor` of the allocation it
/// gives up, so the extra copying stays a fraction of the bytes that made the buffer grow.
/// `allocated` is the largest capacity seen since the buffer was last replaced.
pub(crate) fn settle_buffer(
    buf: &mut BytesMut,
    allocated: &mut usize,
    keep: usize,
    need: usize,
    factor: usize,
) {
    *allocated = (*allocated).max(buf.capacity());
    if *allocated <= keep {
        return;
    }
    let need = need.max(buf.len());
    if buf.is_empty() || need <= keep / 2 || *allocated > need.max(keep).saturating_mul(factor) {
        release_buffer(buf, allocated);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEEP: usize = 64 << 10;

    fn grown(len: usize, capacity: usize) -> (BytesMut, usize) {
        let mut buf = BytesMut::with_capacity(capacity);
        buf.extend_from_slice(&alloc::vec![7u8; len]);
        let allocated = buf.capacity();
        (buf, allocated)
    }

    #[test]
    fn a_buffer_within_keep_is_left_alone() {
        let (mut buf, mut allocated) = grown(0, KEEP);
        settle_buffer(&mut buf, &mut allocated, KEEP, 0, 2);
        assert_eq!(buf.capacity(), KEEP);
    }

    #[test]
    fn an_emptied_buffer_past_keep_is_released() {
        let (mut buf, mut allocated) = grown(0, 10 * KEEP);
        settle_buffer(&mut buf, &mut allocated, KEEP, 0, 2);
        assert_eq!((buf.capacity(), allocated), (0, 0));
    }

    #[test]
    fn a_few_bytes_left_in_a_large_buffer_move_to_an_allocation_of_their_size() {
        let (mut buf, mut allocated) = grown(1000, 10 * KEEP);
        settle_buffer(&mut buf, &mut allocated, KEEP, 0, 2);
        assert_eq!(&buf[..], &[7u8; 1000][..]);
        assert!(buf.capacity() < 2000, "{}", buf.capacity());
        // Once moved, settling again moves nothing (no repeated copying).
        let before = buf.as_ptr();
        settle_buffer(&mut buf, &mut allocated, KEEP, 0, 2);
        assert_eq!(buf.as_ptr(), before);
    }

    #[test]
    fn a_buffer_is_kept_while_its_allocation_is_in_proportion_to_its_need() {
        // 48 KiB held in 128 KiB: more than keep / 2, not more than twice the need.
        let (mut buf, mut allocated) = grown(48 << 10, 2 * KEEP);
        let before = buf.as_ptr();
        settle_buffer(&mut buf, &mut allocated, KEEP, 0, 2);
        assert_eq!(buf.as_ptr(), before, "kept");
        // The same bytes in 1 MiB: out of proportion, moved.
        let (mut buf, mut allocated) = grown(48 << 10, 16 * KEEP);
        settle_buffer(&mut buf, &mut allocated, KEEP, 0, 2);
        assert!(buf.capacity() < 2 * KEEP);
        // A need announced by the caller (a large frame arriving) keeps a large allocation.
        let (mut buf, mut allocated) = grown(48 << 10, 16 * KEEP);
        let before = buf.as_ptr();
        settle_buffer(&mut buf, &mut allocated, KEEP, 8 * KEEP, 2);
        assert_eq!(buf.as_ptr(), before, "kept for the frame that is arriving");
    }

    #[test]
    fn release_keeps_the_bytes_in_an_allocation_of_their_size() {
        let (mut buf, mut allocated) = grown(10, KEEP);
        release_buffer(&mut buf, &mut allocated);
        assert_eq!(&buf[..], &[7u8; 10][..]);
        assert!(buf.capacity() < 64);
        let (mut buf, mut allocated) = grown(0, KEEP);
        release_buffer(&mut buf, &mut allocated);
        assert_eq!(buf.capacity(), 0);
    }
}
