//! A global allocator for the allocation and memory tests: forwards to the system allocator
//! and counts, per thread (so tests running in parallel do not count each other), the number
//! of allocations, the bytes allocated, the largest single allocation and the live bytes.
//! A test binary installs it with
//! `#[global_allocator] static GLOBAL: common::counting::Counting = common::counting::Counting;`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

pub struct Counting;

thread_local! {
    // Const-initialised Cells need no allocation and no destructor, so the allocator may
    // use them.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
    static BYTES: Cell<usize> = const { Cell::new(0) };
    static LARGEST: Cell<usize> = const { Cell::new(0) };
    static LIVE: Cell<isize> = const { Cell::new(0) };
}

/// An allocation (or reallocation) of `size` bytes that changes the live bytes by `delta`.
fn allocated(size: usize, delta: isize) {
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
    let _ = BYTES.try_with(|c| c.set(c.get() + size));
    let _ = LARGEST.try_with(|c| c.set(c.get().max(size)));
    let _ = LIVE.try_with(|c| c.set(c.get() + delta));
}

// SAFETY: forwards to the system allocator and only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            allocated(layout.size(), layout.size() as isize);
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            allocated(layout.size(), layout.size() as isize);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        let _ = LIVE.try_with(|c| c.set(c.get() - layout.size() as isize));
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            allocated(new_size, new_size as isize - layout.size() as isize);
        }
        p
    }
}

/// Allocations and reallocations made by this thread so far.
pub fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

/// Bytes allocated (reallocations count their new size) by this thread so far.
pub fn bytes_allocated() -> usize {
    BYTES.with(Cell::get)
}

/// The largest single allocation since [`reset_largest`].
pub fn largest() -> usize {
    LARGEST.with(Cell::get)
}

/// Starts a new [`largest`] measurement.
pub fn reset_largest() {
    LARGEST.with(|c| c.set(0));
}

/// A reading of this thread's live heap bytes. The count can start below zero (a thread may
/// free what another allocated), so compare readings with [`live_since`].
pub fn live() -> usize {
    LIVE.with(Cell::get) as usize
}

/// Live bytes gained since the reading `base`.
pub fn live_since(base: usize) -> usize {
    live().wrapping_sub(base)
}
