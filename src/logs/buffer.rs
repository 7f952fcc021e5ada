//! The log view's memory: a bounded ring of sanitised lines.
use std::collections::VecDeque;

use crate::model::LogLine;

/// How far back a late line may be moved to keep timestamp order. Streams of one source are
/// already ordered; this only absorbs the skew between interleaved sources, and bounds the cost
/// of a badly skewed clock to a constant per line.
const REORDER_WINDOW: usize = 4096;

/// Bounded ring buffer of log lines. When full, the oldest lines are dropped and counted, so
/// memory stays flat however long a `-f` runs (default capacity 100k lines).
#[derive(Debug)]
pub struct LogBuffer {
    lines: VecDeque<LogLine>,
    cap: usize,
    dropped: u64,
}

impl LogBuffer {
    pub fn new(cap: usize) -> Self {
        LogBuffer {
            lines: VecDeque::with_capacity(cap.clamp(1, 4096)),
            cap: cap.max(1),
            dropped: 0,
        }
    }

    /// Append a batch. A line with a timestamp older than the newest ones already held is
    /// inserted in timestamp order (multi-source views interleave); others are appended.
    pub fn push_batch(&mut self, batch: Vec<LogLine>) {
        self.reserve_for(batch.len());
        for line in batch {
            if self.lines.len() == self.cap {
                self.lines.pop_front();
                self.dropped += 1;
            }
            let at = self.insert_position(line.ts);
            if at == self.lines.len() {
                self.lines.push_back(line);
            } else {
                self.lines.insert(at, line);
            }
        }
    }

    /// Grow by doubling as a Vec would, but never past `cap`: left to itself the deque rounds up
    /// to the next power of two, 131,072 slots for the default 100,000-line ring, which held
    /// 2.7 MB of slots a full ring never uses (docs/PERFORMANCE.md §14).
    fn reserve_for(&mut self, incoming: usize) {
        let want = (self.lines.len() + incoming).min(self.cap);
        let have = self.lines.capacity();
        if want > have {
            let target = have.saturating_mul(2).max(want).min(self.cap);
            self.lines.reserve_exact(target - self.lines.len());
        }
    }

    fn insert_position(&self, ts: Option<i64>) -> usize {
        let Some(ts) = ts else {
            return self.lines.len();
        };
        let mut at = self.lines.len();
        let floor = at.saturating_sub(REORDER_WINDOW);
        while at > floor {
            match self.lines[at - 1].ts {
                Some(prev) if prev > ts => at -= 1,
                _ => break,
            }
        }
        at
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }
    pub fn get(&self, i: usize) -> Option<&LogLine> {
        self.lines.get(i)
    }
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &LogLine> + ExactSizeIterator {
        self.lines.iter()
    }
    /// Lines dropped from the front since the buffer was created (so indices can be re-based).
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Save the buffer as plain text: `[source] ` prefixes for interleaved views, RFC 3339
    /// timestamps when asked. Colours are not written (the text was sanitised on arrival).
    pub fn write_to(&self, w: &mut impl std::io::Write, timestamps: bool) -> std::io::Result<()> {
        for l in &self.lines {
            if timestamps
                && let Some(ts) =
                    l.ts.and_then(|n| jiff::Timestamp::from_nanosecond(n.into()).ok())
            {
                write!(w, "{ts} ")?;
            }
            if let Some(src) = &l.source {
                write!(w, "[{src}] ")?;
            }
            writeln!(w, "{}", l.text.text)?;
        }
        w.flush()
    }

    pub fn clear(&mut self) {
        self.dropped += self.lines.len() as u64;
        self.lines.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::StyledText;

    fn line(ts: Option<i64>, text: &str) -> LogLine {
        LogLine {
            ts,
            source: None,
            text: StyledText {
                text: text.into(),
                runs: vec![],
            },
            marker: false,
        }
    }

    fn texts(b: &LogBuffer) -> Vec<&str> {
        b.iter().map(|l| l.text.text.as_str()).collect()
    }

    #[test]
    fn bounded_and_counts_drops() {
        let mut b = LogBuffer::new(3);
        b.push_batch((0..5).map(|i| line(None, &i.to_string())).collect());
        assert_eq!(texts(&b), vec!["2", "3", "4"]);
        assert_eq!(b.dropped(), 2);
    }

    #[test]
    fn a_full_ring_holds_no_slots_beyond_its_cap() {
        let mut b = LogBuffer::new(10_000);
        for chunk in 0..30 {
            b.push_batch(
                (0..500)
                    .map(|i| line(None, &(chunk * 500 + i).to_string()))
                    .collect(),
            );
        }
        assert_eq!(b.len(), 10_000);
        assert_eq!(b.lines.capacity(), 10_000);
        assert_eq!(b.get(0).map(|l| l.text.text.as_str()), Some("5000"));
    }

    #[test]
    fn interleaves_by_timestamp() {
        let mut b = LogBuffer::new(10);
        b.push_batch(vec![line(Some(1), "a1"), line(Some(3), "a3")]);
        b.push_batch(vec![
            line(Some(2), "b2"),
            line(Some(4), "b4"),
            line(None, "x"),
        ]);
        assert_eq!(texts(&b), vec!["a1", "b2", "a3", "b4", "x"]);
    }

    #[test]
    fn writes_plain_text_with_optional_timestamps() {
        let mut b = LogBuffer::new(10);
        let mut l = line(Some(1_700_000_000_000_000_000), "hello");
        l.source = Some("web".into());
        b.push_batch(vec![l]);
        let mut out = Vec::new();
        b.write_to(&mut out, true).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "2023-11-14T22:13:20Z [web] hello\n"
        );
    }
}
