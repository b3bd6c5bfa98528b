//! Timers without a clock: the caller passes its own notion of "now" (any monotonic time
//! since an origin of its choosing, as a `Duration`), and the connection says when it next
//! needs to be woken up.
//!
//! Four timers exist:
//! - the close timeout: waiting for the peer's close frame, and for a client waiting for the
//!   server to close the transport;
//! - the keepalive: a ping after a quiet period, and giving up if the quiet goes on;
//! - the send timeout: output pending that the transport takes none of;
//! - the idle timer: buffers and codec given back once traffic stopped, and buffers cut down
//!   once per period while it goes on (the policy itself is in `crate::buffer`).
//!
//! A deadline is anchored at the first `poll_timeout` after the event that arms it: the
//! connection has no clock, and the events that arm a timer (a send, a received byte) do not
//! carry the time. So `poll_timeout` is not a pure query; call it after every batch of I/O, as
//! event loops do anyway. The send and idle timers record at each poll when they last saw
//! progress or traffic, and move their deadline only when it comes, so a busy connection hands
//! the caller a new deadline once per period rather than once per message.

use core::time::Duration;

use super::error::Error;
use super::nanos::Nanos;
use super::state::{State, Transport};
use super::Connection;
use crate::frame::OpCode;

#[derive(Debug)]
pub(super) struct Timers {
    close_deadline: Option<Nanos>,
    pub close_expired: bool,
    keepalive_deadline: Option<Nanos>,
    /// Bytes arrived since the keepalive deadline was last set.
    pub activity: bool,
    ping_outstanding: bool,
    send_deadline: Option<Nanos>,
    /// When the transport last took output (or output became pending), as of the last poll.
    output_taken_at: Nanos,
    idle_deadline: Option<Nanos>,
    /// Bytes arrived since the last poll (sent and written bytes are the sender's `busy`).
    pub busy: bool,
    /// When the connection last had traffic, as of the last poll.
    busy_at: Nanos,
    /// Everything was given back and nothing happened since: the idle timer needs no wake-up.
    resting: bool,
}

impl Default for Timers {
    fn default() -> Self {
        Self {
            close_deadline: None,
            close_expired: false,
            keepalive_deadline: None,
            activity: false,
            ping_outstanding: false,
            send_deadline: None,
            output_taken_at: Nanos::ZERO,
            idle_deadline: None,
            busy: false,
            busy_at: Nanos::ZERO,
            // A new connection holds nothing to give back.
            resting: true,
        }
    }
}

impl Timers {
    /// Everything was given back: no idle wake-up until traffic resumes.
    pub fn rest(&mut self) {
        self.busy = false;
        self.resting = true;
        self.idle_deadline = None;
    }
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
    ///
    /// A connection that gave everything back and has nothing pending asks for no wake-up
    /// beyond its keepalive, so many quiet connections cost their host no timer work.
    #[must_use = "the returned deadline is when handle_timeout must be called"]
    pub fn poll_timeout(&mut self, now: Duration) -> Option<Duration> {
        let now = Nanos::from(now);
        if self.close_timer_wanted() {
            if self.timers.close_deadline.is_none() {
                self.timers.close_deadline = self.config.close_timeout.map(|t| now.plus(t));
            }
        } else {
            self.timers.close_deadline = None;
        }
        match self.config.keepalive {
            Some(interval) if self.state() == State::Open => {
                if self.timers.activity || self.timers.keepalive_deadline.is_none() {
                    self.timers.activity = false;
                    self.timers.ping_outstanding = false;
                    self.timers.keepalive_deadline = Some(now.plus(interval));
                }
            }
            _ => self.timers.keepalive_deadline = None,
        }
        self.poll_send_timer(now);
        self.poll_idle_timer(now);
        [
            self.timers.close_deadline,
            self.timers.keepalive_deadline,
            self.timers.send_deadline,
            self.timers.idle_deadline,
        ]
        .into_iter()
        .flatten()
        .min()
        .map(Duration::from)
    }

    /// The send timeout runs while output is pending, from when it became pending or the
    /// transport last took some of it.
    fn poll_send_timer(&mut self, now: Nanos) {
        let taken = core::mem::take(&mut self.tx.taken);
        match self.config.send_timeout {
            Some(timeout) if self.tx.pending() > 0 => {
                if taken || self.timers.send_deadline.is_none() {
                    self.timers.output_taken_at = now;
                }
                if self.timers.send_deadline.is_none() {
                    self.timers.send_deadline = Some(now.plus(timeout));
                }
            }
            _ => self.timers.send_deadline = None,
        }
    }

    /// The idle timer runs from the first traffic after the connection last gave everything
    /// back, until it does so again.
    fn poll_idle_timer(&mut self, now: Nanos) {
        let busy = core::mem::take(&mut self.timers.busy) | core::mem::take(&mut self.tx.busy);
        if busy {
            self.timers.busy_at = now;
            self.timers.resting = false;
        }
        match self.config.idle_timeout {
            Some(timeout) if !self.timers.resting => {
                if self.timers.idle_deadline.is_none() {
                    self.timers.idle_deadline = Some(self.timers.busy_at.plus(timeout));
                }
            }
            _ => self.timers.idle_deadline = None,
        }
    }

    /// Fires the timers due at `now`:
    /// - a close timeout makes [`transport`](Self::transport) say [`Transport::Close`] and
    ///   stops reading (input that arrived before it is still decoded by
    ///   [`next_event`](Self::next_event));
    /// - a keepalive (which runs only while the connection is [`State::Open`]) sends a ping;
    /// - a keepalive whose previous ping met only silence fails the connection with
    ///   [`Error::KeepaliveTimeout`] (no close frame; pending output is discarded);
    /// - a send timeout (output pending, none of it taken for
    ///   [`Config::send_timeout`](crate::Config::send_timeout)) fails the connection with
    ///   [`Error::SendTimeout`] (no close frame; pending output is discarded);
    /// - the idle timer, after [`Config::idle_timeout`](crate::Config::idle_timeout) without
    ///   traffic, gives back every buffer allocation and hibernates the extension, as
    ///   [`hibernate`](Self::hibernate) does; while traffic goes on, it cuts down once per
    ///   period a buffer much larger than the period needed.
    pub fn handle_timeout(&mut self, now: Duration) {
        let now = Nanos::from(now);
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
                    self.timers.keepalive_deadline = Some(now.plus(interval));
                } else if self.timers.ping_outstanding {
                    self.timers.keepalive_deadline = None;
                    self.fail(Error::KeepaliveTimeout);
                } else {
                    if !self.close_sent && !self.failed {
                        self.tx.write_control(OpCode::Ping, b"");
                    }
                    self.timers.ping_outstanding = true;
                    self.timers.keepalive_deadline = Some(now.plus(interval));
                }
            }
        }
        if let (Some(deadline), Some(timeout)) =
            (self.timers.send_deadline, self.config.send_timeout)
        {
            if deadline <= now {
                if core::mem::take(&mut self.tx.taken) {
                    self.timers.output_taken_at = now;
                }
                let expires = self.timers.output_taken_at.plus(timeout);
                if expires <= now {
                    self.timers.send_deadline = None;
                    self.fail(Error::SendTimeout);
                    // Already failed (its close frame unread): the output goes all the same.
                    self.tx.discard();
                } else {
                    self.timers.send_deadline = Some(expires);
                }
            }
        }
        if let (Some(deadline), Some(timeout)) =
            (self.timers.idle_deadline, self.config.idle_timeout)
        {
            if deadline <= now {
                if core::mem::take(&mut self.timers.busy) | core::mem::take(&mut self.tx.busy) {
                    self.timers.busy_at = now;
                }
                let idle_at = self.timers.busy_at.plus(timeout);
                if idle_at <= now {
                    self.hibernate();
                } else {
                    // Busy through the period: cut down what it did not need.
                    let keep = self.config.buffer_keep;
                    self.rx.trim(keep);
                    self.tx.trim(keep);
                    self.timers.idle_deadline = Some(idle_at);
                }
            }
        }
    }
}
