//! sansws the way firmware uses it: no `std`, a fixed 96 KiB heap, bytes from a radio or UART
//! driver in, bytes to it out. `cargo build --target thumbv7em-none-eabihf` builds it for a
//! Cortex-M4F; `cargo test` runs the same code on the host with the same fixed heap.
#![no_std]

extern crate alloc;

use core::alloc::{GlobalAlloc, Layout};
use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicBool, Ordering};

use embedded_alloc::LlffHeap as Heap;
use sansws::{Config, Connection, Event};

static HEAP: Heap = Heap::empty();
const HEAP_SIZE: usize = 96 * 1024;

/// The global allocator: the fixed heap, given its memory on first use (firmware would do
/// this in its reset handler; doing it lazily lets the host test harness allocate too).
struct FixedHeap;

#[global_allocator]
static ALLOCATOR: FixedHeap = FixedHeap;

fn init_heap() {
    static mut MEMORY: [MaybeUninit<u8>; HEAP_SIZE] = [MaybeUninit::uninit(); HEAP_SIZE];
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
        unsafe { HEAP.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { HEAP.dealloc(ptr, layout) }
    }
}

/// Bytes still free in the fixed heap.
pub fn heap_free() -> usize {
    HEAP.free()
}

/// A tiny echo device: feeds `input` (as a driver would, in small pieces) to a server-side
/// connection with small limits and writes the replies into `out`. Returns the bytes written.
pub fn echo_device(input: &[u8], out: &mut [u8]) -> usize {
    let config = Config::default().max_frame_size(4096).max_message_size(4096).buffer_keep(1024);
    let mut conn = Connection::server(config);
    let mut written = 0;
    for piece in input.chunks(16) {
        conn.receive(piece);
        while let Some(event) = conn.next_event() {
            let _ = match event {
                Ok(Event::Text(t)) => conn.send_text(&t),
                Ok(Event::Binary(b)) => conn.send_binary(&b),
                _ => Ok(()),
            };
        }
        let pending = conn.pending_output();
        let n = pending.len().min(out.len() - written);
        out[written..written + n].copy_from_slice(&pending[..n]);
        conn.advance_output(n);
        written += n;
    }
    written
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;

    #[test]
    fn echoes_within_a_fixed_heap_and_gives_the_memory_back() {
        let before = heap_free();
        // RFC 6455 §5.7: a masked "Hello", then a masked ping, twice.
        let frame = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
        let mut input = [0u8; 22];
        input[..11].copy_from_slice(&frame);
        input[11..].copy_from_slice(&frame);
        let mut out = [0u8; 64];
        let n = echo_device(&input, &mut out);
        assert_eq!(&out[..n], b"\x81\x05Hello\x81\x05Hello");
        assert_eq!(heap_free(), before, "everything the connection allocated was freed");
    }
}
