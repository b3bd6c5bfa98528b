//! Timers for std users who drive a connection by hand: the connection keeps time on a
//! `Duration` timeline whose origin the caller chooses, and event loops wait on `Instant`s.
//! [`Clock`] fixes the origin once and converts both ways, so a loop never mixes the two.

use core::time::Duration;
use std::time::Instant;

use crate::connection::Connection;

/// The origin of a connection's timeline, as an [`Instant`]: converts the connection's
/// deadlines to instants and the time now to the `Duration` the connection expects.
///
/// One clock can serve any number of connections (it is a copyable `Instant`); what matters is
/// that each connection always hears times from the same origin.
///
/// ```
/// use sansws::{Clock, Config, Connection};
/// use std::time::Duration;
///
/// let clock = Clock::new();
/// let mut conn = Connection::server(Config::default().keepalive(Some(Duration::from_secs(30))));
/// // After each batch of I/O: when to wake up next, as an Instant.
/// let wake_at = clock.poll_timeout(&mut conn);
/// assert!(wake_at.is_some());
/// // ... a socket read with `clock.timeout(wake_at)` as its timeout, then:
/// clock.handle_timeout(&mut conn);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    origin: Instant,
}

impl Default for Clock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock {
    /// A clock whose timeline starts now.
    pub fn new() -> Self {
        Self::starting_at(Instant::now())
    }

    /// A clock whose timeline starts at `origin`.
    pub fn starting_at(origin: Instant) -> Self {
        Self { origin }
    }

    /// The instant the timeline starts at.
    pub fn origin(&self) -> Instant {
        self.origin
    }

    /// The time now on the timeline (what `poll_timeout` and `handle_timeout` take).
    pub fn now(&self) -> Duration {
        self.since_origin(Instant::now())
    }

    /// `instant` on the timeline; an instant before the origin is its start.
    pub fn since_origin(&self, instant: Instant) -> Duration {
        instant.saturating_duration_since(self.origin)
    }

    /// The instant of a point on the timeline, `None` if it does not fit in an `Instant`
    /// (a deadline too far away to matter).
    pub fn instant_at(&self, at: Duration) -> Option<Instant> {
        self.origin.checked_add(at)
    }

    /// [`Connection::poll_timeout`] with the time now, its deadline as an instant: when to
    /// call [`handle_timeout`](Self::handle_timeout) next (`None`: no timer runs). Call it
    /// after every batch of I/O, as `poll_timeout` asks.
    #[must_use = "the returned instant is when handle_timeout must be called"]
    pub fn poll_timeout(&self, conn: &mut Connection) -> Option<Instant> {
        conn.poll_timeout(self.now())
            .and_then(|at| self.instant_at(at))
    }

    /// [`Connection::handle_timeout`] with the time now.
    pub fn handle_timeout(&self, conn: &mut Connection) {
        conn.handle_timeout(self.now());
    }

    /// How long to wait from now for `deadline` (as returned by
    /// [`poll_timeout`](Self::poll_timeout)): `None` to wait without a bound, zero once it
    /// passed. The shape of a socket read timeout or a poll timeout; mind that some of them
    /// (`set_read_timeout`) refuse zero, which means "due now".
    pub fn timeout(&self, deadline: Option<Instant>) -> Option<Duration> {
        deadline.map(|d| d.saturating_duration_since(Instant::now()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connection::Config;

    #[test]
    fn converts_both_ways() {
        let origin = Instant::now();
        let clock = Clock::starting_at(origin);
        let later = origin + Duration::from_millis(1500);
        assert_eq!(clock.since_origin(later), Duration::from_millis(1500));
        assert_eq!(clock.instant_at(Duration::from_millis(1500)), Some(later));
        // Before the origin is the start of the timeline.
        assert_eq!(
            Clock::starting_at(later).since_origin(origin),
            Duration::ZERO
        );
        assert_eq!(clock.instant_at(Duration::MAX), None);
        assert!(clock.now() <= clock.since_origin(Instant::now()));
    }

    #[test]
    fn deadlines_come_back_as_instants_on_the_same_origin() {
        let clock = Clock::new();
        let keepalive = Duration::from_secs(30);
        let mut conn = Connection::server(Config::default().keepalive(Some(keepalive)));
        let before = Instant::now();
        let deadline = clock.poll_timeout(&mut conn).expect("the keepalive runs");
        let after = Instant::now();
        assert!(deadline >= before + keepalive && deadline <= after + keepalive);
        let wait = clock.timeout(Some(deadline)).unwrap();
        assert!(wait <= keepalive);
        assert_eq!(clock.timeout(None), None);
        assert_eq!(clock.timeout(Some(before)), Some(Duration::ZERO));
        // Nothing is due yet: handling the time now changes nothing.
        clock.handle_timeout(&mut conn);
        assert!(conn.pending_output().is_empty());
    }
}
