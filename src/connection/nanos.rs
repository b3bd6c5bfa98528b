//! A time or a span on the caller's clock, to the nanosecond, in 8 bytes where a `Duration`
//! takes 16: a connection holds six times and four timeouts, and an idle server holds many
//! connections.

use core::num::NonZeroU64;
use core::time::Duration;

/// Nanoseconds, stored one above their count so that `Option<Nanos>` is 8 bytes too. Values
/// past `u64::MAX - 1` nanoseconds (584 years) saturate, which no deadline can tell apart
/// from never.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Nanos(NonZeroU64);

impl Nanos {
    pub const ZERO: Nanos = Nanos(NonZeroU64::MIN);

    /// `self + span`, saturating.
    pub fn plus(self, span: Nanos) -> Nanos {
        Nanos(self.0.saturating_add(span.0.get() - 1))
    }
}

impl From<Duration> for Nanos {
    fn from(time: Duration) -> Self {
        let count = u64::try_from(time.as_nanos()).unwrap_or(u64::MAX);
        Nanos(NonZeroU64::MIN.saturating_add(count))
    }
}

impl From<Nanos> for Duration {
    fn from(time: Nanos) -> Self {
        Duration::from_nanos(time.0.get() - 1)
    }
}

impl core::fmt::Debug for Nanos {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        Duration::from(*self).fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_saturates() {
        for d in [
            Duration::ZERO,
            Duration::from_nanos(1),
            Duration::from_secs(86_400 * 365),
        ] {
            assert_eq!(Duration::from(Nanos::from(d)), d);
        }
        let max = Nanos::from(Duration::MAX);
        assert_eq!(Duration::from(max), Duration::from_nanos(u64::MAX - 1));
        assert_eq!(max.plus(Nanos::from(Duration::from_secs(1))), max);
        let a = Nanos::from(Duration::from_millis(1500));
        let b = Nanos::from(Duration::from_millis(250));
        assert_eq!(Duration::from(a.plus(b)), Duration::from_millis(1750));
        assert_eq!(a.plus(Nanos::ZERO), a);
        assert!(b < a && Nanos::ZERO < b);
    }
}
