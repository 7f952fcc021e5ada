//! Giving freed heap back to the system after a large snapshot.
//!
//! Decoding a big list (1,000 containers, 5,000 pods) briefly needs several MB for the engine's
//! objects, which are dropped once they are mapped to rows. glibc keeps freed memory inside its
//! arenas, so without a trim the process keeps the peak as RSS for the rest of its life
//! (docs/PERFORMANCE.md §14). `malloc_trim` returns the free pages of every arena (madvise), which
//! costs around a millisecond at these sizes; the runtime calls it on the tick after a large
//! snapshot, or after a followed stream replaced a good part of the log ring, not on every event.

use crate::backend::BackendEvent;

/// Snapshots with at least this many rows are worth a trim afterwards.
pub const TRIM_AFTER_ROWS: usize = 256;
/// Rows changed in batches (`BackendEvent::Changes`) since the last trim that make another
/// worth it: under 200 pod events a second, one trim every minute or so.
pub const TRIM_AFTER_CHANGED_ROWS: usize = 10_000;
/// Log lines received since the last trim that make another worth it (half the default ring):
/// lines are decoded on the tokio workers and dropped on the loop's thread, so freed lines pile
/// up in the workers' arenas while a flood replaces the ring.
pub const TRIM_AFTER_LINES: usize = 50_000;

/// Decides when the heap is worth trimming: fed every backend event, asked on every tick.
#[derive(Debug, Default)]
pub struct TrimPolicy {
    large_snapshot: bool,
    lines: usize,
    changed_rows: usize,
}

impl TrimPolicy {
    pub fn saw(&mut self, ev: &BackendEvent) {
        match ev {
            BackendEvent::Snapshot { resources, .. } => self.saw_snapshot(resources.len()),
            BackendEvent::Changes { changes, .. } => self.saw_changes(changes.len()),
            BackendEvent::LogLines { lines, .. } => self.saw_lines(lines.len()),
            _ => {}
        }
    }

    fn saw_snapshot(&mut self, rows: usize) {
        self.large_snapshot |= rows >= TRIM_AFTER_ROWS;
    }

    /// Rows replaced one batch at a time add up: the old rows are freed on the loop's
    /// thread, the new ones were decoded on the workers'.
    fn saw_changes(&mut self, rows: usize) {
        self.changed_rows = self.changed_rows.saturating_add(rows);
        self.large_snapshot |= self.changed_rows >= TRIM_AFTER_CHANGED_ROWS;
    }

    fn saw_lines(&mut self, lines: usize) {
        self.lines = self.lines.saturating_add(lines);
    }

    /// True (and reset) when a trim is due.
    pub fn take_due(&mut self) -> bool {
        let due = self.large_snapshot || self.lines >= TRIM_AFTER_LINES;
        if due {
            *self = TrimPolicy::default();
        }
        due
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_snapshot_is_not_worth_a_trim_a_large_one_is() {
        let mut p = TrimPolicy::default();
        p.saw_snapshot(10);
        assert!(!p.take_due());
        p.saw_snapshot(TRIM_AFTER_ROWS);
        assert!(p.take_due());
        assert!(!p.take_due(), "reset after a trim");
    }

    #[test]
    fn changed_rows_count_up_to_a_trim() {
        let mut p = TrimPolicy::default();
        p.saw_changes(TRIM_AFTER_CHANGED_ROWS - 1);
        assert!(!p.take_due());
        p.saw_changes(1);
        assert!(p.take_due());
        p.saw_changes(TRIM_AFTER_CHANGED_ROWS - 1);
        assert!(!p.take_due(), "counted from the last trim");
    }

    #[test]
    fn lines_count_up_to_a_trim() {
        let mut p = TrimPolicy::default();
        for _ in 0..TRIM_AFTER_LINES / 1000 - 1 {
            p.saw_lines(1000);
        }
        assert!(!p.take_due());
        p.saw_lines(1000);
        assert!(p.take_due());
    }

    #[test]
    fn trimming_is_harmless() {
        let v: Vec<Vec<u8>> = (0..1000).map(|i| vec![0u8; 1000 + i]).collect();
        drop(v);
        trim();
        trim();
    }
}
