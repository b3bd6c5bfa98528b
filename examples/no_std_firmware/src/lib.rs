//! sansws the way firmware uses it: no `std`, a fixed heap, bytes from a radio or UART driver
//! in, bytes to it out. The session in [`session`] is what the QEMU image (`src/main.rs`,
//! `run-qemu.sh`) runs; `cargo test` runs the same code on the host with the same fixed heap.
#![no_std]

extern crate alloc;

pub mod heap;
pub mod session;

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::String;
    use std::vec::Vec;

    #[test]
    fn the_recorded_session_passes_on_the_host_and_frees_the_heap() {
        // Allocated before the session, so the transcript itself does not count as its heap.
        let mut transcript = String::with_capacity(16 * 1024);
        let mut wire = [0u8; 8 * 1024];
        let outcome = session::run(&mut wire, Some(session::SERVER_BYTES), &mut transcript);
        assert_eq!(outcome.mismatches, 0, "{transcript}");
        assert_eq!(&wire[..outcome.written], session::SERVER_BYTES);
        // The steps of the transcript the QEMU image prints (run-qemu.sh compares that one),
        // without its first line (which names the machine) and its last (the verdict).
        let expected: Vec<&str> = include_str!("../expected-transcript.txt").lines().collect();
        let steps: Vec<&str> = transcript.lines().collect();
        assert_eq!(steps, expected[1..expected.len() - 1]);
    }
}
