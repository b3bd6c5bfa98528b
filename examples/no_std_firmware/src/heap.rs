//! The global allocator: a fixed-size linked-list heap over a static array, with a high-water
//! mark, so a run can say how much of the heap the connection needed at most.

use core::alloc::{GlobalAlloc, Layout};
use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use embedded_alloc::LlffHeap as Heap;
#[cfg(not(target_os = "none"))]
extern crate std;

/// Bytes reserved for the heap. permessage-deflate with context takeover keeps miniz_oxide's
/// compressor (about 320 KB) and inflater (about 43 KB) for the connection's lifetime, so the
/// heap is sized for those plus buffers.
pub const HEAP_SIZE: usize = 512 * 1024;

static HEAP: Heap = Heap::empty();
static PEAK: AtomicUsize = AtomicUsize::new(0);
static mut MEMORY: [MaybeUninit<u8>; HEAP_SIZE] = [MaybeUninit::uninit(); HEAP_SIZE];

/// The fixed heap, given its memory on first use (firmware could do this in its reset
/// handler; doing it lazily lets the host test harness allocate too).
struct FixedHeap;

#[global_allocator]
static ALLOCATOR: FixedHeap = FixedHeap;

fn init_heap() {
    static INIT: AtomicBool = AtomicBool::new(false);
    if !INIT.swap(true, Ordering::AcqRel) {
        // SAFETY: runs once (guarded above); MEMORY is used by nothing else.
        unsafe { HEAP.init(core::ptr::addr_of_mut!(MEMORY) as usize, HEAP_SIZE) }
    }
}

// SAFETY: forwards to the heap, which is initialised before its first use.
unsafe impl GlobalAlloc for FixedHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        init_heap();
        let ptr = unsafe { HEAP.alloc(layout) };
        PEAK.fetch_max(HEAP.used(), Ordering::Relaxed);
        // On the host only, what the fixed heap cannot serve comes from the system allocator,
        // so a failing test can still report (formatting a panic's backtrace needs more than
        // the heap holds). The image has no such fallback: there, running out is an error.
        #[cfg(not(target_os = "none"))]
        if ptr.is_null() {
            return unsafe { std::alloc::System.alloc(layout) };
        }
        ptr
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        #[cfg(not(target_os = "none"))]
        if !in_heap(ptr) {
            return unsafe { std::alloc::System.dealloc(ptr, layout) };
        }
        unsafe { HEAP.dealloc(ptr, layout) }
    }
}

/// Whether `ptr` points into the fixed heap's memory.
#[cfg(not(target_os = "none"))]
fn in_heap(ptr: *mut u8) -> bool {
    let start = core::ptr::addr_of!(MEMORY) as usize;
    (start..start + HEAP_SIZE).contains(&(ptr as usize))
}

/// Bytes of the heap in use now.
pub fn used() -> usize {
    HEAP.used()
}

/// The most bytes in use at once since the last [`reset_peak`].
pub fn peak() -> usize {
    PEAK.load(Ordering::Relaxed)
}

/// Starts a new high-water mark from what is in use now.
pub fn reset_peak() {
    PEAK.store(HEAP.used(), Ordering::Relaxed);
}
