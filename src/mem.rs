//! Giving freed heap back to the system after a large snapshot.
//!
//! Decoding a big list (1,000 containers, 5,000 pods) briefly needs several MB for the engine's
//! objects, which are dropped once they are mapped to rows. glibc keeps freed memory inside its
//! arenas, so without a trim the process keeps the peak as RSS for the rest of its life
//! (docs/PERFORMANCE.md §14). `malloc_trim` returns the free pages of every arena (madvise), which
//! costs well under a millisecond at these sizes; the runtime calls it on the tick after a large
//! snapshot, not on every event.

/// Snapshots with at least this many rows are worth a trim afterwards.
pub const TRIM_AFTER_ROWS: usize = 256;

/// Return the allocator's free pages to the system. A no-op where the C library is not glibc.
#[allow(unsafe_code, reason = "the only way to call glibc's malloc_trim")]
pub fn trim() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        unsafe extern "C" {
            fn malloc_trim(pad: usize) -> i32;
        }
        // SAFETY: glibc's malloc_trim takes no pointers, only releases free pages, and is
        // thread-safe (it locks each arena); Rust's global allocator on this target is glibc's.
        unsafe {
            malloc_trim(0);
        }
    }
}
