//! The timeline: what happened across every source, in one bounded ring (`:timeline`).
//!
//! Entries arrive from backends (`BackendEvent::Timeline`: Docker events, Kubernetes events,
//! device state changes) and from the audit log ([`audit`]); the ring keeps the newest
//! `capacity` of them by arrival, drops exact repeats (an engine replaying history after a
//! reconnect), and holds each entry's table row, built once, so the view never re-maps.

pub mod audit;
pub mod changes;

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashSet, VecDeque};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use crate::model::{
    Health, Resource, ResourceKey, ResourceKind, Severity, SourceId, TimelineEntry,
};

/// Entries kept by default: about 5 MB of rows, several hours of a busy fleet.
pub const DEFAULT_CAPACITY: usize = 10_000;

/// One entry and its row; `seq` (the row's key id) finds it again.
pub struct Kept {
    pub seq: u64,
    pub entry: TimelineEntry,
    pub row: Arc<Resource>,
    hash: u64,
}

/// The bounded ring of entries, oldest arrival first.
pub struct Timeline {
    capacity: usize,
    kept: VecDeque<Kept>,
    seen: HashSet<u64>,
    next_seq: u64,
    /// Entries arrived that the open views do not show yet, and when they were last shown:
    /// at thousands of entries a second, the views are refreshed at most every [`SHOW_EVERY`].
    pub unshown: bool,
    pub shown_at: Option<std::time::Instant>,
}

/// How often a flood of entries refreshes the timeline's views.
pub const SHOW_EVERY: std::time::Duration = std::time::Duration::from_millis(200);

impl Default for Timeline {
    fn default() -> Self {
        Timeline::new(DEFAULT_CAPACITY)
    }
}

impl Timeline {
    pub fn new(capacity: usize) -> Self {
        Timeline {
            capacity: capacity.max(1),
            // Grows as events come; reserving 4,096 entries up front cost 655 KB of every
            // console's RSS before the first event (docs/PERFORMANCE.md §14).
            kept: VecDeque::with_capacity(capacity.clamp(1, 64)),
            seen: HashSet::new(),
            next_seq: 0,
            unshown: false,
            shown_at: None,
        }
    }

    pub fn len(&self) -> usize {
        self.kept.len()
    }

    pub fn is_empty(&self) -> bool {
        self.kept.is_empty()
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Add an entry unless the ring holds the same one; the oldest arrival leaves when full.
    /// Returns whether it was added.
    pub fn push(&mut self, entry: TimelineEntry) -> bool {
        let hash = {
            let mut h = DefaultHasher::new();
            entry.hash(&mut h);
            h.finish()
        };
        if !self.seen.insert(hash) {
            return false;
        }
        if self.kept.len() == self.capacity
            && let Some(old) = self.kept.pop_front()
        {
            self.seen.remove(&old.hash);
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        let row = Arc::new(row(seq, &entry));
        self.kept.push_back(Kept {
            seq,
            entry,
            row,
            hash,
        });
        true
    }

    /// The kept entry whose row has key id `id` (the view's selected row).
    pub fn by_row_id(&self, id: &str) -> Option<&TimelineEntry> {
        let seq: u64 = id.parse().ok()?;
        let first = self.kept.front()?.seq;
        let i = usize::try_from(seq.checked_sub(first)?).ok()?;
        self.kept.get(i).map(|k| &k.entry)
    }

    pub fn entries(&self) -> impl Iterator<Item = &TimelineEntry> {
        self.kept.iter().map(|k| &k.entry)
    }

    pub fn rows(&self) -> Vec<Arc<Resource>> {
        self.kept.iter().map(|k| k.row.clone()).collect()
    }
}

/// How far back a starting console asks each engine to replay.
pub const REPLAY: jiff::SignedDuration = jiff::SignedDuration::from_hours(1);

/// The time a console started at `now` asks the engines' history from.
pub fn replay_since(now: jiff::Timestamp) -> jiff::Timestamp {
    now.checked_sub(REPLAY).unwrap_or(now)
}

/// The source the timeline's rows are listed under (each row's SOURCE cell names its own).
pub fn source() -> SourceId {
    SourceId::new("timeline")
}

/// The table row of an entry; `created` is the entry's time, so the view sorts newest first.
pub fn row(seq: u64, e: &TimelineEntry) -> Resource {
    let health = match e.severity {
        Severity::Info => Health::Ok,
        Severity::Warning => Health::Pending,
        Severity::Error => Health::Failed,
    };
    Resource {
        key: ResourceKey {
            source: source(),
            kind: ResourceKind::Timeline,
            id: seq.to_string(),
        },
        name: e.name.clone(),
        parent: None,
        health,
        cells: vec![
            String::new(),
            e.source.to_string(),
            e.severity.as_str().into(),
            e.kind.map(|k| k.name()).unwrap_or_default().into(),
            e.name.clone(),
            e.what.clone(),
            e.detail.clone(),
        ],
        created: Some(e.time),
        labels: Default::default(),
        facts: Default::default(),
    }
}

/// Entries newest first, for the CLI.
pub fn newest_first(mut entries: Vec<TimelineEntry>) -> Vec<TimelineEntry> {
    entries.sort_by(|a, b| b.time.cmp(&a.time).then_with(|| a.name.cmp(&b.name)));
    entries.dedup();
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(n: i64, what: &str) -> TimelineEntry {
        TimelineEntry {
            time: jiff::Timestamp::from_second(1_700_000_000 + n).unwrap(),
            source: SourceId::new("docker:local"),
            kind: Some(ResourceKind::Container),
            id: Some(format!("c{n}")),
            name: format!("web-{n}"),
            what: what.into(),
            detail: String::new(),
            severity: Severity::Info,
        }
    }

    #[test]
    fn keeps_the_newest_arrivals_and_drops_repeats() {
        let mut t = Timeline::new(3);
        for n in 0..5 {
            assert!(t.push(entry(n, "die")));
        }
        assert!(
            !t.push(entry(4, "die")),
            "a replayed entry is not kept twice"
        );
        assert!(t.push(entry(4, "kill")));
        assert_eq!(t.len(), 3);
        let names: Vec<_> = t.entries().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["web-3", "web-4", "web-4"]);
        // An evicted entry may come back (it is no longer shown).
        assert!(t.push(entry(0, "die")));
        let first = t.rows()[0].key.id.clone();
        assert_eq!(t.by_row_id(&first).unwrap().name, "web-4");
        assert_eq!(t.by_row_id("0"), None);
    }
}
