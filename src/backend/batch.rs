//! Log lines travel to the UI in batches: 1,000 lines, or 15 ms after the first pending one.
//! A source printing 50k lines/s then costs the UI ~50 messages/s, and the bounded channel
//! pushes back on the producer instead of growing memory. Shared by every backend's logs.

use std::time::Duration;

use tokio::time::Instant;

use super::{EventTx, StreamId};
use crate::model::LogLine;

pub const BATCH_LINES: usize = 1000;
pub const BATCH_DELAY: Duration = Duration::from_millis(15);

pub use super::report::Gone;

/// Accumulates lines and decides when a batch is due.
pub struct Batcher {
    stream: StreamId,
    pending: Vec<LogLine>,
    first_at: Option<Instant>,
}

impl Batcher {
    pub fn new(stream: StreamId) -> Self {
        Batcher {
            stream,
            pending: Vec::with_capacity(BATCH_LINES),
            first_at: None,
        }
    }

    pub fn push(&mut self, line: LogLine) {
        if self.pending.is_empty() {
            self.first_at = Some(Instant::now());
        }
        self.pending.push(line);
    }

    /// A full batch is waiting.
    pub fn is_full(&self) -> bool {
        self.pending.len() >= BATCH_LINES
    }

    /// When the pending lines must go out at the latest.
    pub fn deadline(&self) -> Option<Instant> {
        self.first_at.map(|t| t + BATCH_DELAY)
    }

    /// Wait for the deadline (forever when nothing is pending): a `select!` arm.
    pub async fn due(&self) {
        match self.deadline() {
            Some(d) => tokio::time::sleep_until(d).await,
            None => std::future::pending().await,
        }
    }

    /// Send what is pending, in a vector of its exact size: a batch cut by the 15 ms deadline
    /// holds a few lines, and a fresh 1,000-slot vector (88 KB) for each of them could keep
    /// megabytes of empty slots in the channel. `pending` keeps its slots for the next batch.
    pub async fn flush(&mut self, tx: &EventTx) -> Result<(), Gone> {
        self.first_at = None;
        if self.pending.is_empty() {
            return Ok(());
        }
        let lines: Vec<LogLine> = self.pending.drain(..).collect();
        super::report::log_lines(tx, self.stream, lines).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_batch_goes_out_at_its_size_and_the_slots_stay() {
        let (tx, mut rx) = tokio::sync::mpsc::channel(4);
        let mut b = Batcher::new(7);
        for _ in 0..3 {
            b.push(LogLine::default());
        }
        b.flush(&tx).await.ok();
        match rx.recv().await {
            Some(super::super::BackendEvent::LogLines { stream, lines }) => {
                assert_eq!((stream, lines.len(), lines.capacity()), (7, 3, 3));
            }
            other => panic!("a batch expected, got {other:?}"),
        }
        assert!(
            b.pending.capacity() >= BATCH_LINES,
            "kept for the next batch"
        );
        assert!(b.deadline().is_none());
    }
}
