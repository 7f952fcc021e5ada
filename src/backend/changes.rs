//! Changes to a kind's rows instead of the whole list (issue #16): what a watch sends between
//! two complete lists, and what it remembers to compute them.
//!
//! Why: a watch of 20,000 pods under 200 events/s used to send the whole list every ~200 ms;
//! the UI cloned, re-sorted and re-filtered 20,000 rows each time, and the watch's store, the
//! lists in flight and the table were three copies of the rows. Now the first complete list
//! (and every relist) is still a [`BackendEvent::Snapshot`](super::BackendEvent::Snapshot);
//! between two, the watch sends [`RowChanges`] and the UI applies them in place. The watch
//! keeps only which row ids each object has ([`RowTracker`]), never the rows: the UI holds them.
//!
//! Rows are matched by `ResourceKey::id` (unique within a source and kind). One engine object
//! may be several rows (a pod's containers); the tracker turns an object's change into row
//! changes, including the rows it no longer has.

use std::collections::HashMap;
use std::time::Duration;

use crate::model::Resource;

/// The longest a change waits to be sent, however large the list.
pub const GATHER_MAX: Duration = Duration::from_millis(250);

/// How long changes gather before a watch sends them: `floor`, or 1 ms per `rows_per_ms` rows
/// when that is longer, at most [`GATHER_MAX`]. Why it grows: each batch costs the UI a pass over
/// the kind's rows for triage and a frame, whatever its size, so a large busy list sends a few
/// larger batches a second rather than many small ones; a change still shows within a quarter
/// of a second. Kubernetes (events arrive in bursts: 20 ms, 1 ms per 100 objects) and device
/// fleets (answers arrive one by one over a wave: 50 ms, 1 ms per 4 devices) use it.
pub fn gather_window(rows: usize, floor: Duration, rows_per_ms: usize) -> Duration {
    let grown = Duration::from_millis((rows / rows_per_ms.max(1)) as u64);
    grown.clamp(floor, GATHER_MAX.max(floor))
}

/// What changed in one source's rows of one kind since the last list or changes it sent.
/// Each row id appears at most once (in `upserted` or in `removed`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RowChanges {
    /// Rows that came or changed; each replaces the row of the same id, if any.
    pub upserted: Vec<Resource>,
    /// Ids of rows that are gone (deleted objects, rows an object no longer has). An id the
    /// receiver does not know is ignored.
    pub removed: Vec<String>,
}

impl RowChanges {
    pub fn is_empty(&self) -> bool {
        self.upserted.is_empty() && self.removed.is_empty()
    }

    /// Rows touched (upserted or removed).
    pub fn len(&self) -> usize {
        self.upserted.len() + self.removed.len()
    }

    /// Apply to a plain list: a replaced row keeps its place, a new row goes at the end.
    /// Linear per change: for the CLI, tests and timeline feeds that keep a small list; the
    /// console's tables apply changes with an index (`app::store`).
    pub fn apply_to(self, rows: &mut Vec<Resource>) {
        if !self.removed.is_empty() {
            let gone: std::collections::HashSet<&str> =
                self.removed.iter().map(String::as_str).collect();
            rows.retain(|r| !gone.contains(r.key.id.as_str()));
        }
        for row in self.upserted {
            match rows.iter_mut().find(|r| r.key.id == row.key.id) {
                Some(slot) => *slot = row,
                None => rows.push(row),
            }
        }
    }
}

/// The ids of one object's rows. Most objects are one row whose id is the object's own id;
/// those cost no allocation beyond the map's key.
#[derive(Debug, Clone, PartialEq, Eq)]
enum RowIds {
    Own,
    Ids(Vec<String>),
}

impl RowIds {
    fn of(object: &str, rows: &[Resource]) -> Self {
        match rows {
            [one] if one.key.id == object => RowIds::Own,
            _ => RowIds::Ids(rows.iter().map(|r| r.key.id.clone()).collect()),
        }
    }

    fn for_each(&self, object: &str, mut f: impl FnMut(&str)) {
        match self {
            RowIds::Own => f(object),
            RowIds::Ids(ids) => ids.iter().for_each(|id| f(id)),
        }
    }
}

/// A watch's memory between lists: the row ids of every object it listed, and the row changes
/// not sent yet, coalesced by row id (a pod modified five times in a debounce window is sent
/// once, as it is now).
#[derive(Debug, Default)]
pub struct RowTracker {
    objects: HashMap<String, RowIds>,
    /// Row id → its new row, or None when it is gone.
    pending: HashMap<String, Option<Resource>>,
}

impl RowTracker {
    /// A complete list (`object id → its rows`) replaces everything known: returns the rows to
    /// send as a snapshot. Changes not sent yet are dropped: the snapshot carries the truth,
    /// including objects deleted while the watch was away.
    pub fn relist(&mut self, objects: HashMap<String, Vec<Resource>>) -> Vec<Resource> {
        self.pending.clear();
        self.objects.clear();
        self.objects.reserve(objects.len());
        let mut rows = Vec::with_capacity(objects.len());
        for (object, object_rows) in objects {
            let ids = RowIds::of(&object, &object_rows);
            self.objects.insert(object, ids);
            rows.extend(object_rows);
        }
        self.objects.shrink_to_fit();
        rows
    }

    /// `object` came or changed and now has `rows` (a row it no longer has is removed).
    pub fn upsert(&mut self, object: String, rows: Vec<Resource>) {
        let ids = RowIds::of(&object, &rows);
        if let Some(old) = self.objects.get(&object)
            && *old != ids
        {
            old.for_each(&object, |id| {
                if !rows.iter().any(|r| r.key.id == id) {
                    self.pending.insert(id.to_string(), None);
                }
            });
        }
        for row in rows {
            self.pending.insert(row.key.id.clone(), Some(row));
        }
        self.objects.insert(object, ids);
    }

    /// `object` is gone, with all its rows.
    pub fn remove(&mut self, object: &str) {
        if let Some(old) = self.objects.remove(object) {
            old.for_each(object, |id| {
                self.pending.insert(id.to_string(), None);
            });
        }
    }

    /// Changes are waiting to be sent.
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Objects known (for the debounce, which grows with the list).
    pub fn objects(&self) -> usize {
        self.objects.len()
    }

    /// Drop the changes not sent (the receiver dropped the rows, e.g. the kind became
    /// unavailable; the next list is sent whole).
    pub fn forget_pending(&mut self) {
        self.pending = HashMap::new();
    }

    /// The changes not sent yet; the tracker starts a new batch.
    pub fn take(&mut self) -> RowChanges {
        let mut changes = RowChanges::default();
        for (id, row) in std::mem::take(&mut self.pending) {
            match row {
                Some(row) => changes.upserted.push(row),
                None => changes.removed.push(id),
            }
        }
        changes
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::{ResourceKey, ResourceKind, SourceId};

    /// A row with one cell, for the tests of the tracker and of the UI's row store.
    pub(crate) fn row(id: &str, cell: &str) -> Resource {
        Resource {
            key: ResourceKey {
                source: SourceId::new("kube:test"),
                kind: ResourceKind::PodContainer,
                id: id.into(),
            },
            name: id.into(),
            parent: None,
            health: Default::default(),
            cells: vec![cell.into()],
            created: None,
            labels: Default::default(),
            facts: Default::default(),
        }
    }

    fn sorted(mut c: RowChanges) -> (Vec<(String, String)>, Vec<String>) {
        c.removed.sort();
        let mut up: Vec<(String, String)> = c
            .upserted
            .iter()
            .map(|r| (r.key.id.clone(), r.cells[0].clone()))
            .collect();
        up.sort();
        (up, c.removed)
    }

    fn listed() -> RowTracker {
        let mut t = RowTracker::default();
        let rows = t.relist(HashMap::from([
            (
                "ns/a".to_string(),
                vec![row("ns/a/app", "1"), row("ns/a/side", "1")],
            ),
            ("ns/b".to_string(), vec![row("ns/b", "1")]),
        ]));
        assert_eq!(rows.len(), 3);
        assert!(!t.has_pending());
        t
    }

    #[test]
    fn an_objects_rows_are_upserted_and_the_ones_it_lost_removed() {
        let mut t = listed();
        // The pod lost its sidecar and the app container changed.
        t.upsert("ns/a".into(), vec![row("ns/a/app", "2")]);
        let (up, removed) = sorted(t.take());
        assert_eq!(up, [("ns/a/app".to_string(), "2".to_string())]);
        assert_eq!(removed, ["ns/a/side"]);
        assert!(!t.has_pending(), "a batch is sent once");
    }

    #[test]
    fn a_deleted_object_removes_all_its_rows_and_changes_coalesce() {
        let mut t = listed();
        t.upsert("ns/b".into(), vec![row("ns/b", "2")]);
        t.upsert("ns/b".into(), vec![row("ns/b", "3")]);
        t.remove("ns/a");
        t.upsert("ns/c".into(), vec![row("ns/c", "1")]);
        let (up, removed) = sorted(t.take());
        assert_eq!(
            up,
            [
                ("ns/b".to_string(), "3".to_string()),
                ("ns/c".to_string(), "1".to_string())
            ]
        );
        assert_eq!(removed, ["ns/a/app", "ns/a/side"]);
        assert_eq!(t.objects(), 2);
    }

    #[test]
    fn deleted_and_created_again_in_one_batch_is_an_upsert() {
        let mut t = listed();
        t.remove("ns/b");
        t.upsert("ns/b".into(), vec![row("ns/b", "new")]);
        let (up, removed) = sorted(t.take());
        assert_eq!(up, [("ns/b".to_string(), "new".to_string())]);
        assert!(removed.is_empty());
    }

    #[test]
    fn a_relist_drops_pending_changes_and_knows_only_the_new_list() {
        let mut t = listed();
        t.upsert("ns/b".into(), vec![row("ns/b", "2")]);
        let rows = t.relist(HashMap::from([(
            "ns/c".to_string(),
            vec![row("ns/c", "1")],
        )]));
        assert_eq!(rows.len(), 1);
        assert!(!t.has_pending());
        // An object of the old list is unknown now: deleting it sends nothing.
        t.remove("ns/a");
        assert!(t.take().is_empty());
    }

    #[test]
    fn changes_apply_to_a_plain_list() {
        let mut rows = vec![row("a", "1"), row("b", "1"), row("c", "1")];
        RowChanges {
            upserted: vec![row("b", "2"), row("d", "1")],
            removed: vec!["a".into(), "unknown".into()],
        }
        .apply_to(&mut rows);
        let got: Vec<(&str, &str)> = rows
            .iter()
            .map(|r| (r.key.id.as_str(), r.cells[0].as_str()))
            .collect();
        assert_eq!(got, [("b", "2"), ("c", "1"), ("d", "1")]);
    }
}
