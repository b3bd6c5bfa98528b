//! Timers without a clock: the caller passes its own notion of "now" (any monotonic time
//! since an origin of its choosing, as a `Duration`), and the connection says when it next
//! needs to be woken up.
//!
//! Two timers exist: the close timeout (waiting for the peer's close frame, and for a client
//! waiting for the server to close the transport) and the keepalive (a ping after a quiet
//! period, and giving up if the quiet goes on). A deadline is anchored at the first
//! `poll_timeout` after the event that arms it: the connection has no clock, and the events
//! that arm a timer (a send, a received byte) do not carry the time. So `poll_timeout` is not
//! a pure query; call it after every batch of I/O, as event loops do anyway.

use core::time::Duration;

use super::error::Error;
use super::state::{State, Transport};
use super::Connection;
use crate::frame::OpCode;

#[derive(Debug, Default)]
pub(super) struct Timers {
    close_deadline: Option<Duration>,
    pub close_expired: bool,
    keepalive_deadline: Option<Duration>,
    /// Bytes arrived since the keepalive deadline was last set.
    pub activity: bool,
    ping_outstanding: bool,
}

impl Connection {
    fn close_timer_wanted(&self) -> bool {
        !self.timers.close_expired
            && self.config.close_timeout.is_some()
            && (self.state() == State::CloseSent || self.transport() == Transport::AwaitPeerClose)
    }

    /// Starts the timers armed since the last call at `now`, then returns the earliest time
    /// at which [`handle_timeout`](Self::handle_timeout) must be called, or `None` if no timer
    /// runs. Times are on the caller's clock (`now` is the current time on it).
    ///
    /// Unlike a pure query, skipping this call leaves armed timers unstarted: call it after
    /// every batch of I/O, even when nothing seems pending. It is not pure because the
    /// connection has no clock of its own, and the events that arm a timer (a close frame
    /// sent, bytes received) happen in calls that carry no time.
    #[must_use = "the returned deadline is when handle_timeout must be called"]
    pub fn poll_timeout(&mut self, now: Duration) -> Option<Duration> {
        if self.close_timer_wanted() {
            if self.timers.close_deadline.is_none() {
                self.timers.close_deadline =
                    self.config.close_timeout.map(|t| now.saturating_add(t));
            }
        } else {
            self.timers.close_deadline = None;
        }
        match self.config.keepalive {
            Some(interval) if self.state() == State::Open => {
                if self.timers.activity || self.timers.keepalive_deadline.is_none() {
                    self.timers.activity = false;
                    self.timers.ping_outstanding = false;
                    self.timers.keepalive_deadline = Some(now.saturating_add(interval));
                }
            }
            _ => self.timers.keepalive_deadline = None,
        }
        match (self.timers.close_deadline, self.timers.keepalive_deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Fires the timers due at `now`:
    /// - a close timeout makes [`transport`](Self::transport) say [`Transport::Close`] and
    ///   stops reading (input that arrived before it is still decoded by
    ///   [`next_event`](Self::next_event));
    /// - a keepalive (which runs only while the connection is [`State::Open`]) sends a ping;
    /// - a keepalive whose previous ping met only silence fails the connection with
    ///   [`Error::KeepaliveTimeout`] (no close frame; pending output is discarded).
    pub fn handle_timeout(&mut self, now: Duration) {
        if self.timers.close_deadline.is_some_and(|d| d <= now) {
            self.timers.close_deadline = None;
            // Stop reading, but keep what already arrived: `next_event` still decodes it
            // (nothing the peer sent correctly is lost), and `state` says `Closed`.
            self.timers.close_expired = true;
        }
        if let (Some(deadline), Some(interval)) =
            (self.timers.keepalive_deadline, self.config.keepalive)
        {
            if deadline <= now {
                if self.timers.activity {
                    self.timers.activity = false;
                    self.timers.ping_outstanding = false;
                    self.timers.keepalive_deadline = Some(now.saturating_add(interval));
                } else if self.timers.ping_outstanding {
                    self.timers.keepalive_deadline = None;
                    self.fail(Error::KeepaliveTimeout);
                } else {
                    if !self.close_sent && !self.failed {
                        self.tx.write_control(OpCode::Ping, b"");
                    }
                    self.timers.ping_outstanding = true;
                    self.timers.keepalive_deadline = Some(now.saturating_add(interval));
                }
            }
        }
    }
}
