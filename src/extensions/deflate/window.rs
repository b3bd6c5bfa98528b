//! What a hibernated connection keeps of its inbound direction: the last bytes the peer may
//! still refer to, and where its decoder stood between blocks.
//!
//! With context takeover the peer's next message may copy from up to 2^bits bytes back
//! (`bits` is the window the peer compresses with), so exactly the last
//! `min(2^bits, bytes inflated)` bytes are kept, in an allocation of their size, as they are
//! or deflated (configurable: the plain form wakes with a copy, the deflated one is about
//! five times smaller on text and wakes with an inflate). A message ends at a block
//! boundary, so a fresh decoder resumes there: the boundary state holds the 0 to 7 bits of
//! the last byte that belong to the next block (none when the peer sync-flushes, as RFC 7692
//! asks).

use alloc::boxed::Box;
use alloc::vec::Vec;
use miniz_oxide::inflate::core::{BlockBoundaryState, DecompressorOxide};

use super::compress::deflate_whole;
use super::decompress::{inflate_whole, WINDOW};

/// The inbound window of a hibernated connection.
pub(crate) struct SavedWindow {
    /// The window's bytes, as they are or as one raw-deflate stream.
    bytes: Box<[u8]>,
    /// The window's length (of the plain bytes).
    len: usize,
    compressed: bool,
    /// Where the decoder stood; `None` if it was before its stream's first block.
    boundary: Option<BlockBoundaryState>,
}

impl SavedWindow {
    /// Keeps `older` followed by `newer` (the window's two pieces when it wraps).
    pub fn new(
        older: &[u8],
        newer: &[u8],
        boundary: Option<BlockBoundaryState>,
        compressed: bool,
    ) -> Self {
        let len = older.len() + newer.len();
        // Kept as they are when deflating does not make them smaller (random data).
        let deflated = if compressed && len > 0 {
            deflate_whole(&[older, newer])
        } else {
            None
        };
        let compressed = deflated.is_some();
        let bytes = deflated.unwrap_or_else(|| {
            let mut v = Vec::with_capacity(len);
            v.extend_from_slice(older);
            v.extend_from_slice(newer);
            v.into_boxed_slice()
        });
        Self {
            bytes,
            len,
            compressed,
            boundary,
        }
    }

    /// A decoder positioned where the saved one stood.
    pub fn decoder(&self) -> DecompressorOxide {
        match &self.boundary {
            Some(state) => DecompressorOxide::from_block_boundary_state(state),
            None => DecompressorOxide::new(),
        }
    }

    /// Whether the saved decoder was before its stream's first block.
    pub fn is_fresh(&self) -> bool {
        self.boundary.is_none()
    }

    /// Writes the window's bytes to the front of `window`; returns how many, or `None` if
    /// the deflated form does not inflate to them.
    pub fn write_into(&self, window: &mut [u8; WINDOW]) -> Option<usize> {
        if self.compressed {
            inflate_whole(&self.bytes, window, self.len)
        } else {
            window.get_mut(..self.len)?.copy_from_slice(&self.bytes);
            Some(self.len)
        }
    }

    /// Heap bytes held.
    #[cfg(test)]
    pub fn held(&self) -> usize {
        self.bytes.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_forms_give_back_the_same_bytes() {
        let older: Vec<u8> = (0..3000u32).map(|i| (i % 251) as u8).collect();
        let newer = b"tail of the window".repeat(20);
        for compressed in [false, true] {
            let saved = SavedWindow::new(&older, &newer, None, compressed);
            let mut window = Box::new([0u8; WINDOW]);
            assert_eq!(
                saved.write_into(&mut window),
                Some(older.len() + newer.len())
            );
            assert_eq!(&window[..older.len()], &older[..]);
            assert_eq!(&window[older.len()..][..newer.len()], &newer[..]);
            if compressed {
                assert!(saved.held() < 1000, "{}", saved.held());
            } else {
                assert_eq!(saved.held(), older.len() + newer.len());
            }
        }
        let empty = SavedWindow::new(&[], &[], None, true);
        assert_eq!(empty.held(), 0);
        assert_eq!(empty.write_into(&mut Box::new([1u8; WINDOW])), Some(0));
    }
}
