//! Sources of randomness for client mask keys and handshake keys.
//!
//! The crate never reaches for randomness on its own: a client connection is given an
//! [`Entropy`] source. With the `std` feature, [`OsEntropy`] is a ready-made one.

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

/// An entropy source seeded by the operating system (through `std`'s randomly keyed
/// `RandomState`) that derives each output block as a keyed hash of a counter, so outputs
/// reveal nothing about the key or about later outputs.
#[cfg(feature = "std")]
#[derive(Debug, Clone)]
pub struct OsEntropy {
    state: std::collections::hash_map::RandomState,
    counter: u64,
}

#[cfg(feature = "std")]
impl OsEntropy {
    /// A new source with a fresh OS-provided key.
    pub fn new() -> Self {
        Self {
            state: std::collections::hash_map::RandomState::new(),
            counter: 0,
        }
    }
}

#[cfg(feature = "std")]
impl Default for OsEntropy {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(feature = "std")]
impl Entropy for OsEntropy {
    fn fill(&mut self, dest: &mut [u8]) {
        use core::hash::{BuildHasher, Hasher};
        for chunk in dest.chunks_mut(8) {
            let mut h = self.state.build_hasher();
            h.write_u64(self.counter);
            self.counter = self.counter.wrapping_add(1);
            let block = h.finish().to_le_bytes();
            chunk.copy_from_slice(&block[..chunk.len()]);
        }
    }
}
