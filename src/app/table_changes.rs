//! A table kept current under a batch of changes without sorting it again (issue #16): rows
//! replaced or removed are found by binary search and taken out, new rows are merged in at
//! their places, the filter is applied to the changed rows only, and the selection stays on
//! its object while rows move around it. Cost per batch: O(k log n) comparisons and one
//! O(n) pass over the pointers (no O(n log n) sort, no pass over the cells). A new sort, filter
//! or complete list still goes through `TableView::refresh`.

use std::cmp::Ordering;
use std::sync::Arc;

use super::state::{RowOrder, TableView};
use super::store::Change;
use crate::model::Resource;

/// Up to this many incoming rows are inserted one by one; more are merged in one pass.
const INSERT_ONE_BY_ONE: usize = 8;

impl TableView {
    /// Apply a batch of changes of this table's kind (`sources`: sources with rows now).
    pub fn apply(&mut self, changes: &[Change], sources: usize, now: jiff::Timestamp) {
        self.sources = sources;
        if changes.is_empty() {
            return;
        }
        let order = RowOrder::new(self.kind, self.sort, now);
        // The selected row before the batch, and the change to its object if there is one.
        let before: Option<Arc<Resource>> = self
            .selected_row()
            .filter(|r| Some(&r.key) == self.selected_key.as_ref())
            .cloned();
        let touched: Option<&Change> = self.selected_key.as_ref().and_then(|key| {
            changes.iter().find(|c| {
                c.old
                    .as_ref()
                    .or(c.new.as_ref())
                    .is_some_and(|r| &r.key == key)
            })
        });

        self.take_out(changes, &order);
        self.put_in(changes, &order, now);

        // Where the selected object is now; when it left the table, the row in its place.
        let target = match touched {
            Some(c) => c.new.clone().filter(|r| self.shows(r, now)),
            None => before.clone(),
        };
        let found = target.and_then(|r| self.position(&r, &order));
        let left = touched.and_then(|c| c.old.as_ref()).or(before.as_ref());
        self.selected = match (found, left) {
            (Some(i), _) => i,
            (None, Some(old)) => self
                .rows
                .partition_point(|x| order.cmp(x, old) == Ordering::Less),
            (None, None) => self.selected,
        };
        self.selected = self.selected.min(self.rows.len().saturating_sub(1));
        self.selected_key = self.rows.get(self.selected).map(|r| r.key.clone());
    }

    /// Remove the rows the batch replaces or removes (those the table shows), in one pass.
    fn take_out(&mut self, changes: &[Change], order: &RowOrder) {
        let mut out: Vec<usize> = changes
            .iter()
            .filter_map(|c| c.old.as_ref())
            .filter_map(|old| self.position(old, order))
            .collect();
        if out.is_empty() {
            return;
        }
        out.sort_unstable();
        out.dedup();
        let mut out = out.into_iter().peekable();
        let mut i = 0;
        self.rows.retain(|_| {
            let drop = out.peek() == Some(&i);
            if drop {
                out.next();
            }
            i += 1;
            !drop
        });
    }

    /// Insert the batch's new rows that pass the filter at their sorted places.
    fn put_in(&mut self, changes: &[Change], order: &RowOrder, now: jiff::Timestamp) {
        let mut incoming: Vec<Arc<Resource>> = changes
            .iter()
            .filter_map(|c| c.new.as_ref())
            .filter(|r| self.shows(r, now))
            .cloned()
            .collect();
        let place = |rows: &[Arc<Resource>], r: &Resource| {
            rows.partition_point(|x| order.cmp(x, r) == Ordering::Less)
        };
        if incoming.len() <= INSERT_ONE_BY_ONE {
            for r in incoming {
                let at = place(&self.rows, &r);
                self.rows.insert(at, r);
            }
            return;
        }
        incoming.sort_by(|a, b| order.cmp(a, b));
        let rows = std::mem::take(&mut self.rows);
        let mut merged = Vec::with_capacity(rows.len() + incoming.len());
        let mut start = 0;
        for r in incoming {
            let at = start + place(&rows[start..], &r);
            merged.extend_from_slice(&rows[start..at]);
            merged.push(r);
            start = at;
        }
        merged.extend_from_slice(&rows[start..]);
        self.rows = merged;
    }

    /// Where `row` (by key) is in the table, if it is shown: a binary search by the table's
    /// order. A row not at its sorted place is looked for among the shown rows only when its
    /// parent could show it (a filter reading the clock, an age cell, may have let it in then
    /// and not now): never a scan of the kind's rows.
    fn position(&self, row: &Resource, order: &RowOrder) -> Option<usize> {
        match self.rows.binary_search_by(|x| order.cmp(x, row)) {
            Ok(i) if self.rows[i].key == row.key => Some(i),
            _ if self.parent.is_some() && row.parent != self.parent => None,
            _ => self.rows.iter().position(|x| x.key == row.key),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::state::{Sort, SourceRows};
    use crate::app::store::RowStore;
    use crate::backend::changes::RowChanges;
    use crate::logs::Matcher;
    use crate::model::{ResourceKey, ResourceKind, SourceId};

    const NAME: usize = 1;
    const STATUS: usize = 3;
    const RESTARTS: usize = 4;

    fn pod(name: &str, status: &str, restarts: u32) -> Resource {
        let mut cells = vec![String::new(); ResourceKind::Pod.spec().columns.len()];
        cells[0] = "shop".into();
        cells[NAME] = name.into();
        cells[STATUS] = status.into();
        cells[RESTARTS] = restarts.to_string();
        Resource {
            key: ResourceKey {
                source: SourceId::new("kube:test"),
                kind: ResourceKind::Pod,
                id: format!("shop/{name}"),
            },
            name: name.into(),
            parent: None,
            health: Default::default(),
            cells,
            created: None,
            labels: Default::default(),
            facts: Default::default(),
        }
    }

    fn now() -> jiff::Timestamp {
        jiff::Timestamp::from_second(1_800_000_000).unwrap()
    }

    /// A pods table over one source's rows, and the data it was built from.
    fn table(rows: Vec<Resource>) -> (TableView, SourceRows) {
        let data = SourceRows::from([(SourceId::new("kube:test"), RowStore::from(rows))]);
        let mut t = TableView::new(ResourceKind::Pod, None);
        t.refresh(Some(&data), now());
        (t, data)
    }

    /// Apply `changes` to the store and in place to `t`, then check `t` against a table built
    /// from scratch (same sort, filter and rows); answers the shown names.
    fn apply(t: &mut TableView, data: &mut SourceRows, changes: RowChanges) -> Vec<String> {
        let store = data.values_mut().next().unwrap();
        let applied = store.apply(changes);
        t.apply(&applied, 1, now());
        let mut fresh = TableView::new(t.kind, t.parent.clone());
        fresh.sort = t.sort;
        fresh.filter = t.filter.clone();
        fresh.refresh(Some(data), now());
        let keys = |t: &TableView| t.rows.iter().map(|r| r.key.clone()).collect::<Vec<_>>();
        assert_eq!(keys(t), keys(&fresh), "in place = sorted from scratch");
        names(t)
    }

    fn names(t: &TableView) -> Vec<String> {
        t.rows.iter().map(|r| r.name.clone()).collect()
    }

    fn selected(t: &TableView) -> &str {
        &t.selected_row().unwrap().name
    }

    #[test]
    fn insert_modify_delete_keep_the_order() {
        let (mut t, mut data) = table(vec![
            pod("web-1", "Running", 0),
            pod("web-3", "Running", 0),
            pod("web-10", "Running", 0),
        ]);
        assert_eq!(names(&t), ["web-1", "web-3", "web-10"]);
        let got = apply(
            &mut t,
            &mut data,
            RowChanges {
                upserted: vec![pod("web-2", "Pending", 0), pod("web-3", "Failed", 1)],
                removed: vec!["shop/web-1".into()],
            },
        );
        assert_eq!(got, ["web-2", "web-3", "web-10"]);
        assert_eq!(
            t.rows[1].cells[STATUS], "Failed",
            "the new row, not the old"
        );

        // Sorted by restarts, descending: a modified row moves to its new place.
        t.sort = Sort {
            column: RESTARTS,
            descending: true,
        };
        t.refresh(Some(&data), now());
        assert_eq!(names(&t), ["web-3", "web-10", "web-2"]);
        let got = apply(
            &mut t,
            &mut data,
            RowChanges {
                upserted: vec![pod("web-2", "Running", 7)],
                removed: vec![],
            },
        );
        assert_eq!(got, ["web-2", "web-3", "web-10"]);
    }

    #[test]
    fn a_large_batch_is_merged_in_the_same_order() {
        let (mut t, mut data) = table(
            (0..200)
                .map(|i| pod(&format!("p{i}"), "Running", i % 7))
                .collect(),
        );
        t.sort = Sort {
            column: RESTARTS,
            descending: false,
        };
        t.refresh(Some(&data), now());
        let upserted = (0..100)
            .map(|i| pod(&format!("p{}", i * 3), "Running", (i * 5) % 11))
            .chain((200..240).map(|i| pod(&format!("p{i}"), "Pending", i % 3)))
            .collect();
        let removed = (0..50).map(|i| format!("shop/p{}", i * 4 + 1)).collect();
        apply(&mut t, &mut data, RowChanges { upserted, removed });
        let store = data.values().next().unwrap();
        assert_eq!(t.rows.len(), store.len());
        assert!(t.rows.len() > 200, "{} rows", t.rows.len());
    }

    #[test]
    fn the_filter_applies_to_changed_rows() {
        let (mut t, mut data) = table(vec![
            pod("web-1", "Running", 0),
            pod("web-2", "CrashLoopBackOff", 3),
            pod("api-1", "Running", 0),
        ]);
        let m = Matcher::parse("crash").unwrap().unwrap();
        t.filter = Some(("crash".into(), m));
        t.refresh(Some(&data), now());
        assert_eq!(names(&t), ["web-2"]);
        let got = apply(
            &mut t,
            &mut data,
            RowChanges {
                // web-1 starts crashing, web-2 recovers, a new crashing pod comes.
                upserted: vec![
                    pod("web-1", "CrashLoopBackOff", 1),
                    pod("web-2", "Running", 3),
                    pod("db-0", "CrashLoopBackOff", 9),
                ],
                removed: vec![],
            },
        );
        assert_eq!(got, ["db-0", "web-1"]);
    }

    #[test]
    fn the_selected_object_stays_selected_while_rows_move_around_it() {
        let (mut t, mut data) = table(
            (1..=5)
                .map(|i| pod(&format!("web-{i}"), "Running", 0))
                .collect(),
        );
        t.select(2);
        assert_eq!(selected(&t), "web-3");
        // Rows come and go before it, and it changes itself.
        apply(
            &mut t,
            &mut data,
            RowChanges {
                upserted: vec![
                    pod("api-1", "Running", 0),
                    pod("api-2", "Running", 0),
                    pod("web-3", "Pending", 1),
                ],
                removed: vec!["shop/web-1".into()],
            },
        );
        assert_eq!(selected(&t), "web-3");
        assert_eq!(t.selected, 3);
        assert_eq!(t.selected_row().unwrap().cells[STATUS], "Pending");
        // Rows after it change: it stays where it is.
        apply(
            &mut t,
            &mut data,
            RowChanges {
                upserted: vec![pod("web-9", "Running", 0)],
                removed: vec!["shop/web-5".into()],
            },
        );
        assert_eq!((selected(&t), t.selected), ("web-3", 3));
        // It is deleted: the row that takes its place is selected.
        apply(
            &mut t,
            &mut data,
            RowChanges {
                upserted: vec![],
                removed: vec!["shop/web-3".into()],
            },
        );
        assert_eq!(selected(&t), "web-4");
        assert_eq!(t.selected_key.as_ref().unwrap().id, "shop/web-4");
    }

    #[test]
    fn a_selected_row_the_filter_now_hides_gives_the_selection_to_its_neighbour() {
        let (mut t, mut data) = table(vec![
            pod("a", "Running", 0),
            pod("b", "Running", 0),
            pod("c", "Running", 0),
        ]);
        let m = Matcher::parse("running").unwrap().unwrap();
        t.filter = Some(("running".into(), m));
        t.refresh(Some(&data), now());
        t.select(1);
        apply(
            &mut t,
            &mut data,
            RowChanges {
                upserted: vec![pod("b", "Failed", 1)],
                removed: vec![],
            },
        );
        assert_eq!(names(&t), ["a", "c"]);
        assert_eq!(selected(&t), "c");
    }

    #[test]
    fn a_relist_that_drops_objects_replaces_the_rows() {
        let (mut t, mut data) = table(vec![
            pod("a", "Running", 0),
            pod("b", "Running", 0),
            pod("c", "Running", 0),
        ]);
        t.select(1);
        apply(
            &mut t,
            &mut data,
            RowChanges {
                upserted: vec![pod("d", "Running", 0)],
                removed: vec![],
            },
        );
        // The watch was away; b and d were deleted meanwhile: the relist is a snapshot.
        data.insert(
            SourceId::new("kube:test"),
            RowStore::from(vec![pod("a", "Running", 0), pod("c", "Running", 0)]),
        );
        t.refresh(Some(&data), now());
        assert_eq!(names(&t), ["a", "c"]);
        // Changes after the relist apply to the new list (the store's index is rebuilt).
        let got = apply(
            &mut t,
            &mut data,
            RowChanges {
                upserted: vec![pod("e", "Running", 0)],
                removed: vec!["shop/a".into(), "shop/b".into()],
            },
        );
        assert_eq!(got, ["c", "e"]);
    }

    #[test]
    fn a_drilled_in_table_takes_only_its_parents_rows() {
        let child = |name: &str, parent: &str| {
            let mut r = pod(name, "Running", 0);
            r.parent = Some(parent.into());
            r
        };
        let data = SourceRows::from([(
            SourceId::new("kube:test"),
            RowStore::from(vec![child("web-1", "web"), child("api-1", "api")]),
        )]);
        let mut data = data;
        let mut t = TableView::new(ResourceKind::Pod, Some("web".into()));
        t.refresh(Some(&data), now());
        let got = apply(
            &mut t,
            &mut data,
            RowChanges {
                upserted: vec![child("web-2", "web"), child("api-2", "api")],
                removed: vec!["shop/api-1".into()],
            },
        );
        assert_eq!(got, ["web-1", "web-2"]);
    }

    /// Many random batches (a small linear congruential generator: no dependency), each
    /// checked against a table sorted from scratch by `apply`.
    #[test]
    fn random_batches_match_a_table_sorted_from_scratch() {
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = |n: u64| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) % n
        };
        let statuses = ["Running", "Pending", "CrashLoopBackOff", "Completed"];
        let (mut t, mut data) = table(
            (0..300)
                .map(|i| pod(&format!("p-{i}"), "Running", 0))
                .collect(),
        );
        for round in 0..60 {
            if round % 20 == 0 {
                t.sort = Sort {
                    column: [NAME, STATUS, RESTARTS][round / 20],
                    descending: round % 40 == 0,
                };
                t.refresh(Some(&data), now());
            }
            let k = 1 + next(40) as usize;
            let upserted = (0..k)
                .map(|_| {
                    let i = next(400);
                    pod(
                        &format!("p-{i}"),
                        statuses[next(4) as usize],
                        next(20) as u32,
                    )
                })
                .collect::<Vec<_>>();
            let removed = (0..next(10))
                .map(|_| format!("shop/p-{}", next(400)))
                .filter(|id| !upserted.iter().any(|r| &r.key.id == id))
                .collect();
            // One row per id in a batch, as a watch sends them.
            let mut seen = std::collections::HashSet::new();
            let upserted = upserted
                .into_iter()
                .filter(|r| seen.insert(r.key.id.clone()))
                .collect();
            let before = t.selected_key.clone();
            apply(&mut t, &mut data, RowChanges { upserted, removed });
            if let Some(key) = before
                && t.rows.iter().any(|r| r.key == key)
            {
                assert_eq!(t.selected_key.as_ref(), Some(&key), "round {round}");
            }
        }
    }
}
