//! The host's part of idle memory: the allocator. The connection gives back every buffer and
//! its codec once it is idle (`Config::idle_timeout`), but what the process's resident memory
//! does next is the allocator's choice, and glibc's malloc keeps most of it:
//!
//! - Large blocks come from `mmap` (returned when freed) only above a threshold that glibc
//!   raises to the size of any mapped block freed (up to 32 MiB, `mallopt(3)`): after one
//!   8 MiB message, later large buffers come from the heap. A fixed threshold keeps them
//!   mapped. Busy connections keep their buffers, so it costs no map and unmap per message.
//! - Freed heap memory between live blocks stays resident: thousands of connections that
//!   hibernate free their codecs' blocks (about 43 KB each) between the small blocks that
//!   stay (their windows, other connections' state), and `free` returns only the top of the
//!   heap. `malloc_trim(0)` returns every free page; the example servers call it every
//!   [`TRIM_EVERY`] (docs/memory.md, "The allocator").
//!
//! `SANSWS_MALLOC` chooses, to compare: `default` (neither), `threshold`, `trim`; unset, both.
//! A malloc setting the environment already makes (`MALLOC_MMAP_THRESHOLD_`,
//! `GLIBC_TUNABLES`) wins over the threshold. Other allocators and C libraries are left alone.
#![allow(dead_code)]

use std::time::Duration;

/// How often the example servers give free heap pages back.
pub const TRIM_EVERY: Duration = Duration::from_secs(2);

fn choice() -> String {
    std::env::var("SANSWS_MALLOC").unwrap_or_default()
}

/// Fixes glibc's mmap threshold at 128 KiB (its initial value), unless told otherwise.
pub fn fix_mmap_threshold() {
    if !matches!(choice().as_str(), "" | "threshold")
        || std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_some()
        || std::env::var_os("GLIBC_TUNABLES").is_some()
    {
        return;
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only sets a malloc parameter; called before any thread starts.
        let ok = unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024) };
        if ok != 1 {
            eprintln!("mallopt(M_MMAP_THRESHOLD) refused; malloc keeps its defaults");
        }
    }
}

/// Whether the server should call [`give_back_free_pages`] every [`TRIM_EVERY`].
pub fn trims() -> bool {
    cfg!(all(target_os = "linux", target_env = "gnu")) && matches!(choice().as_str(), "" | "trim")
}

/// Returns the heap's free pages to the system (glibc's `malloc_trim(0)`).
pub fn give_back_free_pages() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases memory malloc holds free.
    unsafe {
        libc::malloc_trim(0);
    }
}
