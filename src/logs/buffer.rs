//! The log view's memory: a bounded ring of sanitised lines, stored compactly.
//!
//! A line is a 24-byte record (time, where its text lies, its source's number, flags) in a
//! `VecDeque`, and its text and colour runs lie in the ring's blocks (`arena`): 100,000 lines
//! of 100 characters take about 12.5 MB with no allocation per line, where a `LogLine` per
//! line took 88 bytes plus a `String` of its own each (docs/PERFORMANCE.md §14).
use std::collections::VecDeque;
use std::sync::Arc;

use super::arena::{Placed, TextArena};
use super::line::LineRef;
use super::sources::SourceTable;
use crate::model::{LogLine, StyleRun};

/// How far back a late line may be moved to keep timestamp order. Streams of one source are
/// already ordered; this only absorbs the skew between interleaved sources, and bounds the cost
/// of a badly skewed clock to a constant per line.
const REORDER_WINDOW: usize = 4096;

/// One line of the ring. The text is `len` bytes at `start` in block `block` of the arena.
#[derive(Debug, Clone, Copy)]
struct Record {
    /// Unix nanoseconds; meaningful only with `HAS_TS`.
    ts: i64,
    block: u32,
    len: u32,
    /// The source's number in the ring's `SourceTable`, 0 for none.
    source: u32,
    start: u16,
    flags: u8,
}

// The size the memory figures are computed with: keep it in mind when adding a field.
const _: () = assert!(std::mem::size_of::<Record>() == 24);

const HAS_TS: u8 = 1;
const MARKER: u8 = 2;
/// The line has colour runs in its block (lets plain lines skip the search for them).
const STYLED: u8 = 4;

impl Record {
    fn ts(&self) -> Option<i64> {
        (self.flags & HAS_TS != 0).then_some(self.ts)
    }

    fn placed(&self) -> Placed {
        Placed {
            block: self.block,
            start: self.start,
        }
    }
}

/// Bounded ring buffer of log lines. When full, the oldest lines are dropped and counted, so
/// memory stays flat however long a `-f` runs (default capacity 100k lines).
#[derive(Debug)]
pub struct LogBuffer {
    records: VecDeque<Record>,
    text: TextArena,
    sources: SourceTable,
    cap: usize,
    dropped: u64,
}

impl LogBuffer {
    pub fn new(cap: usize) -> Self {
        LogBuffer {
            // Nothing reserved up front (a paused view's held lines are a second ring, mostly
            // empty): `reserve_for` grows it with the lines, to its cap and no further.
            records: VecDeque::new(),
            text: TextArena::default(),
            sources: SourceTable::default(),
            cap: cap.max(1),
            dropped: 0,
        }
    }

    /// Append a batch. A line with a timestamp older than the newest ones already held is
    /// inserted in timestamp order (multi-source views interleave); others are appended. The
    /// lines' own allocations are freed here: the ring keeps copies in its blocks.
    pub fn push_batch(&mut self, batch: Vec<LogLine>) {
        let records: Vec<Record> = batch
            .iter()
            .map(|l| {
                self.place(
                    l.ts,
                    l.source.as_ref(),
                    &l.text.text,
                    &l.text.runs,
                    l.marker,
                )
            })
            .collect();
        self.merge(records);
    }

    /// Move every line of `other` here (in its order, interleaved like a batch), leaving it
    /// empty: how a paused view's held lines join the ring.
    pub fn append(&mut self, other: &mut LogBuffer) {
        // In batch-sized steps: placing a whole held ring's text before the full ring drops
        // its oldest would hold both for a moment.
        const STEP: usize = 1000;
        let mut records = Vec::with_capacity(other.len().min(STEP));
        for line in other.iter() {
            let runs: Vec<StyleRun> = line.runs().collect();
            records.push(self.place(line.ts, line.source, line.text, &runs, line.marker));
            if records.len() == STEP {
                self.merge(std::mem::take(&mut records));
            }
        }
        other.clear();
        self.merge(records);
    }

    /// Copy a line's text into the blocks; its record, not yet in the ring.
    fn place(
        &mut self,
        ts: Option<i64>,
        source: Option<&Arc<str>>,
        text: &str,
        runs: &[StyleRun],
        marker: bool,
    ) -> Record {
        let text = at_most_u32(text);
        let placed = self.text.push(text, runs);
        let mut flags = 0;
        if ts.is_some() {
            flags |= HAS_TS;
        }
        if marker {
            flags |= MARKER;
        }
        if !runs.is_empty() {
            flags |= STYLED;
        }
        Record {
            ts: ts.unwrap_or(0),
            block: placed.block,
            len: text.len() as u32,
            source: self.sources.intern(source),
            start: placed.start,
            flags,
        }
    }

    /// Put a batch's records in the ring. A line without a time stays where it came (and no
    /// later line moves before it); each run of timed lines between them is sorted and merged
    /// with the ring's newest lines that are later than its earliest, at most
    /// [`REORDER_WINDOW`] back. Merging a run at once, not line by line, keeps a multi-source
    /// flood cheap: four containers at full speed arrive in chunks some thousand lines apart,
    /// and moving each late line into place one at a time took the UI thread's whole core
    /// (docs/PERFORMANCE.md §18).
    fn merge(&mut self, records: Vec<Record>) {
        self.reserve_for(records.len());
        let mut rest = records.as_slice();
        while !rest.is_empty() {
            let timed = rest.iter().take_while(|r| r.ts().is_some()).count();
            if timed == 0 {
                self.make_room(1);
                self.records.push_back(rest[0]);
                rest = &rest[1..];
                continue;
            }
            let mut run = rest[..timed].to_vec();
            rest = &rest[timed..];
            // Stable: lines of one source with equal times keep their order.
            run.sort_by_key(|r| r.ts);
            self.make_room(run.len());
            let at = self.merge_point(run[0].ts);
            let later: Vec<Record> = self.records.drain(at..).collect();
            let (mut a, mut b) = (later.into_iter().peekable(), run.into_iter().peekable());
            loop {
                // On equal times the line already held goes first, as it came first. Every
                // held line here has a time: `merge_point` stops at one without.
                let take_held = match (a.peek(), b.peek()) {
                    (Some(x), Some(y)) => x.ts <= y.ts,
                    (Some(_), None) => true,
                    (None, Some(_)) => false,
                    (None, None) => break,
                };
                let next = if take_held { a.next() } else { b.next() };
                self.records.extend(next);
            }
            // A run longer than the whole ring: keep its newest.
            while self.records.len() > self.cap {
                self.drop_oldest();
            }
        }
    }

    /// Drop the oldest lines so that `incoming` more fit (as many as there are).
    fn make_room(&mut self, incoming: usize) {
        let over = (self.records.len() + incoming).saturating_sub(self.cap);
        for _ in 0..over.min(self.records.len()) {
            self.drop_oldest();
        }
    }

    fn drop_oldest(&mut self) {
        if let Some(old) = self.records.pop_front() {
            self.text.release(old.block);
            self.dropped += 1;
        }
    }

    /// Grow by doubling as a Vec would, but never past `cap`: left to itself the deque rounds up
    /// to the next power of two, 131,072 slots for the default 100,000-line ring, which held
    /// slots a full ring never uses (docs/PERFORMANCE.md §14).
    fn reserve_for(&mut self, incoming: usize) {
        let want = (self.records.len() + incoming).min(self.cap);
        let have = self.records.capacity();
        if want > have {
            let target = have.saturating_mul(2).max(want).min(self.cap);
            self.records.reserve_exact(target - self.records.len());
        }
    }

    /// Where a line stamped `ts` goes: after every held line that is not later, looking back
    /// at most [`REORDER_WINDOW`] lines and never past a line without a time.
    fn merge_point(&self, ts: i64) -> usize {
        let mut at = self.records.len();
        let floor = at.saturating_sub(REORDER_WINDOW);
        while at > floor {
            match self.records[at - 1].ts() {
                Some(prev) if prev > ts => at -= 1,
                _ => break,
            }
        }
        at
    }

    fn line(&self, r: &Record) -> LineRef<'_> {
        let at = r.placed();
        let runs = if r.flags & STYLED != 0 {
            self.text.runs(at, r.len)
        } else {
            &[]
        };
        LineRef::new(
            r.ts(),
            self.sources.name(r.source),
            self.text.text(at, r.len).unwrap_or(""),
            r.flags & MARKER != 0,
            runs,
            u32::from(r.start),
        )
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }
    /// The most lines the ring holds.
    pub fn capacity(&self) -> usize {
        self.cap
    }
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
    pub fn get(&self, i: usize) -> Option<LineRef<'_>> {
        self.records.get(i).map(|r| self.line(r))
    }
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = LineRef<'_>> + ExactSizeIterator {
        self.records.iter().map(|r| self.line(r))
    }
    /// Lines dropped from the front since the buffer was created (so indices can be re-based).
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Bytes the ring holds for its lines: the records' slots and the text blocks (not the
    /// colour runs, which only coloured lines have). What §14's figures are checked against.
    pub fn reserved_bytes(&self) -> usize {
        self.records.capacity() * std::mem::size_of::<Record>() + self.text.reserved()
    }

    /// Save the buffer as plain text: `[source] ` prefixes for interleaved views, RFC 3339
    /// timestamps when asked. Colours are not written (the text was sanitised on arrival).
    pub fn write_to(&self, w: &mut impl std::io::Write, timestamps: bool) -> std::io::Result<()> {
        for l in self.iter() {
            if timestamps
                && let Some(ts) =
                    l.ts.and_then(|n| jiff::Timestamp::from_nanosecond(n.into()).ok())
            {
                write!(w, "{ts} ")?;
            }
            if let Some(src) = l.source {
                write!(w, "[{src}] ")?;
            }
            writeln!(w, "{}", l.text)?;
        }
        w.flush()
    }

    pub fn clear(&mut self) {
        self.dropped += self.records.len() as u64;
        self.records.clear();
        self.text.clear();
        self.sources.clear();
    }
}

/// A line's length is kept in 32 bits: a longer text (impossible from the splitters, which
/// cut lines at 64 KiB) is cut at the last character that fits.
fn at_most_u32(text: &str) -> &str {
    let mut end = text.len().min(u32::MAX as usize);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.get(..end).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::Matcher;
    use crate::logs::arena::BLOCK;
    use crate::model::StyledText;
    use ratatui::style::{Color, Style};

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

    fn red(start: u32, end: u32) -> StyleRun {
        StyleRun {
            start,
            end,
            style: Style::default().fg(Color::Red),
        }
    }

    fn texts(b: &LogBuffer) -> Vec<&str> {
        b.iter().map(|l| l.text).collect()
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
        assert_eq!(b.records.capacity(), 10_000);
        assert_eq!(b.get(0).map(|l| l.text), Some("5000"));
    }

    #[test]
    fn wraps_around_many_times_and_stays_the_same_size() {
        let mut b = LogBuffer::new(1_000);
        let text = |i: usize| format!("{i} {}", "w".repeat(i % 150));
        let mut sizes = Vec::new();
        for round in 0..20 {
            b.push_batch(
                (round * 700..(round + 1) * 700)
                    .map(|i| line(None, &text(i)))
                    .collect(),
            );
            sizes.push(b.reserved_bytes());
        }
        let newest = 20 * 700;
        let want: Vec<String> = (newest - 1_000..newest).map(text).collect();
        assert_eq!(texts(&b), want);
        assert_eq!(b.dropped(), (newest - 1_000) as u64);
        // Once full, blocks are recycled: the ring's size no longer grows.
        assert!(
            sizes[3..].iter().all(|&s| s <= sizes[2] + BLOCK),
            "{sizes:?}"
        );
        assert!(
            b.text.blocks() <= 3,
            "{} blocks for ~80 KB",
            b.text.blocks()
        );
    }

    #[test]
    fn drops_oldest_across_block_boundaries() {
        // Two lines per block: every other drop frees a block.
        let big = |c: char| c.to_string().repeat(30_000);
        let mut b = LogBuffer::new(3);
        for (n, c) in "abcdefg".chars().enumerate() {
            b.push_batch(vec![line(Some(n as i64), &big(c))]);
            assert!(
                b.text.blocks() <= 3,
                "after {c}: {} blocks",
                b.text.blocks()
            );
        }
        let got: Vec<char> = b.iter().filter_map(|l| l.text.chars().next()).collect();
        assert_eq!(got, vec!['e', 'f', 'g']);
        assert!(b.iter().all(|l| l.text.len() == 30_000));
        assert_eq!(b.dropped(), 4);
        assert_eq!(
            b.iter().map(|l| l.ts).collect::<Vec<_>>(),
            vec![Some(4), Some(5), Some(6)]
        );
    }

    #[test]
    fn a_line_longer_than_a_block_survives_its_neighbours() {
        let mut b = LogBuffer::new(3);
        let long = "L".repeat(3 * BLOCK);
        b.push_batch(vec![line(None, "a"), line(None, &long), line(None, "c")]);
        b.push_batch(vec![line(None, "d")]);
        assert_eq!(texts(&b), vec![long.as_str(), "c", "d"]);
        b.push_batch(vec![line(None, "e")]);
        assert_eq!(texts(&b), vec!["c", "d", "e"]);
        assert!(
            b.text.reserved() <= 3 * BLOCK,
            "the long line's block was freed"
        );
    }

    #[test]
    fn search_sees_the_kept_lines_and_not_the_dropped_ones() {
        let mut b = LogBuffer::new(50);
        b.push_batch(
            (0..120)
                .map(|i| {
                    let level = if i % 10 == 0 { "ERROR" } else { "info" };
                    line(None, &format!("{level} request {i}"))
                })
                .collect(),
        );
        let m = Matcher::parse("error").ok().flatten();
        let Some(m) = m else { panic!("a matcher") };
        let found: Vec<&str> = b.iter().map(|l| l.text).filter(|t| m.is_match(t)).collect();
        assert_eq!(
            found,
            vec![
                "ERROR request 70",
                "ERROR request 80",
                "ERROR request 90",
                "ERROR request 100",
                "ERROR request 110"
            ]
        );
        assert!(b.get(50).is_none());
        assert_eq!(b.get(49).map(|l| l.text), Some("info request 119"));
    }

    #[test]
    fn multi_byte_text_and_its_colours_come_back_whole() {
        let mut b = LogBuffer::new(1_000);
        // Sized so some lines end a block exactly near its end: none may be split.
        let samples = ["grüße 🚀 naïve", "日本語のログ", "ǅ e\u{301}", "€"];
        let mut lines = Vec::new();
        for i in 0..800 {
            let s = samples[i % samples.len()];
            let text = format!("{s} {}", "ü".repeat(i % 97));
            let split = s.char_indices().nth(2).map_or(s.len(), |(at, _)| at) as u32;
            let mut l = line(Some(i as i64), &text);
            l.text.runs = vec![red(0, split)];
            lines.push(l);
        }
        b.push_batch(lines.clone());
        assert!(b.text.blocks() > 1);
        for (got, want) in b.iter().zip(&lines) {
            assert_eq!(got.text, want.text.text);
            assert_eq!(got.runs().collect::<Vec<_>>(), want.text.runs);
            assert_eq!(got.to_line(), *want);
        }
    }

    #[test]
    fn markers_sources_and_runs_survive_interleaving() {
        let web: Arc<str> = "web-1".into();
        let db: Arc<str> = "db-1".into();
        let mut b = LogBuffer::new(10);
        let mut a1 = line(Some(10), "a1 red");
        a1.source = Some(web.clone());
        a1.text.runs = vec![red(3, 6)];
        let mut a3 = line(Some(30), "a3");
        a3.source = Some(web.clone());
        b.push_batch(vec![a1.clone(), a3.clone()]);
        let mut mark = line(Some(20), "── restarted 11:00:22 ──");
        mark.source = Some(db.clone());
        mark.marker = true;
        b.push_batch(vec![mark.clone()]);
        let got: Vec<LogLine> = b.iter().map(|l| l.to_line()).collect();
        assert_eq!(got, vec![a1, mark, a3]);
        assert_eq!(
            b.get(1).map(|l| (l.marker, l.source.map(|s| &**s))),
            Some((true, Some("db-1")))
        );
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
    fn a_batch_of_several_sources_merges_as_line_by_line_insertion_would() {
        // Two sources' chunks in one batch, a line without a time as a barrier, equal times
        // keeping their arrival order, and a ring that is full.
        let mut b = LogBuffer::new(8);
        b.push_batch(vec![
            line(Some(1), "a1"),
            line(Some(5), "a5"),
            line(Some(6), "a6"),
        ]);
        b.push_batch(vec![
            line(Some(4), "b4"),
            line(Some(5), "b5"),
            line(Some(2), "c2"),
            line(None, "x"),
            line(Some(3), "d3"),
            line(Some(7), "a7"),
        ]);
        assert_eq!(
            texts(&b),
            vec!["c2", "b4", "a5", "b5", "a6", "x", "d3", "a7"]
        );
        assert_eq!(b.dropped(), 1, "a1 made room");
        // A run longer than the ring keeps its newest lines.
        b.push_batch((10..30).map(|t| line(Some(t), &t.to_string())).collect());
        assert_eq!(
            texts(&b),
            vec!["22", "23", "24", "25", "26", "27", "28", "29"]
        );
        assert_eq!(b.dropped() + b.len() as u64, 29);
    }

    #[test]
    fn a_paused_views_lines_join_in_order() {
        let mut b = LogBuffer::new(4);
        let mut held = LogBuffer::new(4);
        b.push_batch(vec![line(Some(1), "a"), line(Some(2), "b")]);
        let mut c = line(Some(3), "c");
        c.text.runs = vec![red(0, 1)];
        held.push_batch(vec![c.clone(), line(Some(4), "d"), line(Some(5), "e")]);
        b.append(&mut held);
        assert!(held.is_empty());
        assert_eq!(texts(&b), vec!["b", "c", "d", "e"]);
        assert_eq!(b.get(1).map(|l| l.to_line()), Some(c));
    }

    #[test]
    fn a_hundred_thousand_lines_cost_their_text_and_a_few_bytes_each() {
        let mut b = LogBuffer::new(100_000);
        for batch in 0..150 {
            b.push_batch(
                (0..1_000)
                    .map(|i| {
                        let n = batch * 1_000 + i;
                        line(
                            Some(n),
                            &format!(
                                "{n:>8} GET /api/v1/items/{n} HTTP/1.1 200 1234 {}",
                                "x".repeat(40)
                            ),
                        )
                    })
                    .collect(),
            );
        }
        let text: usize = b.iter().map(|l| l.text.len()).sum();
        let per_line = (b.reserved_bytes() - text) as f64 / 100_000.0;
        assert!(
            per_line < 32.0,
            "{per_line:.1} bytes per line beyond the text"
        );
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
