//! Sources of randomness for client mask keys and handshake keys.
//!
//! The crate never reaches for randomness on its own: a client connection is given an
//! [`Entropy`] source. With the `std` feature, `OsEntropy` is a ready-made one.

/// A source of unpredictable bytes (RFC 6455 §5.3 asks for a strong source of entropy:
/// a peer must not be able to predict the next mask key).
pub trait Entropy: Send {
    /// Fills `dest` with unpredictable bytes.
    fn fill(&mut self, dest: &mut [u8]);
}

impl<F: FnMut(&mut [u8]) + Send> Entropy for F {
    fn fill(&mut self, dest: &mut [u8]) {
        self(dest)
    }
}

/// The operating system's random number generator (`getrandom`, `std` feature; not on
/// wasm32-unknown-unknown, which has none: give a client your host's source there).
///
/// Each fill is one system call. A client connection draws mask keys in batches (64 frames'
/// worth at a time), so the call's cost is shared across frames.
///
/// # Panics
///
/// `fill` panics if the operating system's generator fails, which it does not once the
/// system has booted; there is no weaker source to fall back on.
#[cfg(all(
    feature = "std",
    not(all(target_arch = "wasm32", target_os = "unknown"))
))]
#[derive(Debug, Clone, Default)]
pub struct OsEntropy {
    _private: (),
}

#[cfg(all(
    feature = "std",
    not(all(target_arch = "wasm32", target_os = "unknown"))
))]
impl OsEntropy {
    /// The operating system's generator.
    pub fn new() -> Self {
        Self::default()
    }
}

#[cfg(all(
    feature = "std",
    not(all(target_arch = "wasm32", target_os = "unknown"))
))]
impl Entropy for OsEntropy {
    fn fill(&mut self, dest: &mut [u8]) {
        getrandom::fill(dest).expect("the operating system's random number generator failed");
    }
}

#[cfg(all(
    test,
    feature = "std",
    not(all(target_arch = "wasm32", target_os = "unknown"))
))]
mod tests {
    use super::*;

    #[test]
    fn os_entropy_fills_every_byte_differently_each_time() {
        let mut e = OsEntropy::new();
        let (mut a, mut b) = ([0u8; 64], [0u8; 64]);
        e.fill(&mut a);
        e.fill(&mut b);
        // 64 random bytes are all zero, or repeat, with probability 2^-512.
        assert_ne!(a, [0u8; 64]);
        assert_ne!(a, b);
    }
}
