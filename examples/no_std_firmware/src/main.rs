//! The image QEMU runs (`run-qemu.sh`): the recorded session over semihosting, then the heap
//! and stack high-water marks; exits non-zero on any mismatch. On the host the same binary
//! prints the same transcript, and `--record FILE` writes the server's output for
//! `peer/record.py` to verify.
#![cfg_attr(target_os = "none", no_std, no_main)]

use sansws_no_std_firmware::session;

/// Room for the server's output (the echoes are compressed: well under this).
const WIRE_SIZE: usize = 8 * 1024;

#[cfg(target_os = "none")]
mod image {
    use core::fmt::Write;

    // Also linked for its single-core critical section, which the heap's lock uses.
    use cortex_m::asm;
    use cortex_m_rt::entry;
    use cortex_m_semihosting::{debug, hio};
    use sansws_no_std_firmware::heap;

    use super::{session, WIRE_SIZE};

    #[entry]
    fn main() -> ! {
        let mut out = Semihosting(hio::hstdout().ok());
        let _ = writeln!(
            out,
            "sansws firmware: server on QEMU mps2-an386 (Cortex-M4)"
        );
        let mut wire = [0u8; WIRE_SIZE];
        let outcome = session::run(&mut wire, Some(session::SERVER_BYTES), &mut out);
        let _ = writeln!(out, "info: output {} bytes", outcome.written);
        let _ = writeln!(
            out,
            "info: heap peak {} bytes of {}",
            outcome.heap_peak,
            heap::HEAP_SIZE
        );
        let _ = writeln!(out, "info: stack peak {} bytes", stack_used());
        let passed = outcome.mismatches == 0;
        let _ = writeln!(out, "{}", if passed { "PASS" } else { "FAIL" });
        exit(passed)
    }

    /// Ends the run: QEMU stops at the semihosting exit, with status 0 or 1.
    fn exit(passed: bool) -> ! {
        let status = if passed {
            debug::EXIT_SUCCESS
        } else {
            debug::EXIT_FAILURE
        };
        debug::exit(status);
        // Reached only on a board without a debugger attached: wait here.
        loop {
            asm::wfi();
        }
    }

    /// Bytes of stack ever used: cortex-m-rt painted the stack (from `_stack_end` up to
    /// `_stack_start`) with `STACK_PAINT_VALUE` at reset; the lowest overwritten word is the
    /// deepest the stack reached.
    fn stack_used() -> usize {
        extern "C" {
            static _stack_start: u32;
            static _stack_end: u32;
        }
        let top = core::ptr::addr_of!(_stack_start) as usize;
        let mut at = core::ptr::addr_of!(_stack_end) as usize;
        // SAFETY: the words between the two linker symbols are RAM reserved for the stack,
        // aligned and always readable (unused ones still hold the paint).
        while at < top
            && unsafe { core::ptr::read_volatile(at as *const u32) }
                == cortex_m_rt::STACK_PAINT_VALUE
        {
            at += 4;
        }
        top - at
    }

    /// Semihosting stdout as a `core::fmt::Write`.
    struct Semihosting(Option<hio::HostStream>);

    impl Write for Semihosting {
        fn write_str(&mut self, s: &str) -> core::fmt::Result {
            match &mut self.0 {
                Some(stream) => stream.write_all(s.as_bytes()).map_err(|_| core::fmt::Error),
                None => Ok(()),
            }
        }
    }

    #[panic_handler]
    fn panic(info: &core::panic::PanicInfo) -> ! {
        if let Ok(mut stream) = hio::hstdout() {
            let _ = writeln!(stream, "PANIC: {info}");
        }
        exit(false)
    }
}

#[cfg(not(target_os = "none"))]
fn main() {
    use std::fmt::Write as _;

    let record = match std::env::args().nth(1).as_deref() {
        Some("--record") => Some(std::env::args().nth(2).expect("--record FILE")),
        None => None,
        Some(other) => panic!("unknown argument {other}; usage: firmware [--record FILE]"),
    };
    let mut transcript = String::with_capacity(16 * 1024);
    let _ = writeln!(transcript, "sansws firmware: server on the host");
    let mut wire = vec![0u8; WIRE_SIZE];
    let expected = record.is_none().then_some(session::SERVER_BYTES);
    let outcome = session::run(&mut wire, expected, &mut transcript);
    print!("{transcript}");
    println!("info: heap peak {} bytes", outcome.heap_peak);
    if let Some(path) = record {
        std::fs::write(&path, &wire[..outcome.written]).expect("write the recorded output");
    }
    if outcome.mismatches != 0 {
        println!("FAIL");
        std::process::exit(1);
    }
    println!("PASS");
}
