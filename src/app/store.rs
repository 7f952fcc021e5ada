//! The rows the console holds: one source's rows of one kind, replaced whole by a snapshot or
//! changed in place by a batch of changes (`BackendEvent::Changes`, issue #16).
//!
//! Order is arrival order and means nothing (tables sort their own view of the rows); what a
//! batch of changes needs is to find a row by id, so the store keeps an index by id, built on
//! the first batch: a source that only ever sends snapshots (Docker, fleets) pays nothing for it.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::backend::changes::RowChanges;
use crate::model::{Resource, SourceId};

/// Every source's rows of one kind.
pub type SourceRows = BTreeMap<SourceId, RowStore>;

/// One row's change as a table needs it: the row it had (to find and remove) and the row it
/// has now (to insert). `old` None: a new row; `new` None: a removed one.
#[derive(Debug, Clone)]
pub struct Change {
    pub old: Option<Arc<Resource>>,
    pub new: Option<Arc<Resource>>,
}

/// One source's rows of one kind.
#[derive(Debug, Default, Clone)]
pub struct RowStore {
    rows: Vec<Arc<Resource>>,
    /// Position of each row in `rows` by `key.id`; None until the first batch of changes.
    at: Option<HashMap<String, usize>>,
}

impl RowStore {
    /// Apply a batch of changes in place: the changes as tables apply them (an id nobody had
    /// removed changes nothing and is left out). Linear in the batch, not in the rows (once
    /// the index exists).
    pub fn apply(&mut self, changes: RowChanges) -> Vec<Change> {
        let rows = &mut self.rows;
        let at = self.at.get_or_insert_with(|| {
            rows.iter()
                .enumerate()
                .map(|(i, r)| (r.key.id.clone(), i))
                .collect()
        });
        let mut out = Vec::with_capacity(changes.len());
        for id in changes.removed {
            let Some(i) = at.remove(&id) else {
                continue;
            };
            let old = rows.swap_remove(i);
            // The last row moved into the hole.
            if let Some(moved) = rows.get(i)
                && let Some(slot) = at.get_mut(&moved.key.id)
            {
                *slot = i;
            }
            out.push(Change {
                old: Some(old),
                new: None,
            });
        }
        // A batch names each id once (`RowTracker` sends it so); should one name an id twice,
        // the last row wins, so no table ever shows a row twice.
        let mut upserted = changes.upserted;
        if upserted.len() > 1 {
            let mut seen = std::collections::HashSet::with_capacity(upserted.len());
            let mut last_first: Vec<Resource> = upserted
                .into_iter()
                .rev()
                .filter(|r| seen.insert(r.key.id.clone()))
                .collect();
            last_first.reverse();
            upserted = last_first;
        }
        for row in upserted {
            let row = Arc::new(row);
            let old = match at.get(&row.key.id) {
                Some(&i) => Some(std::mem::replace(&mut rows[i], Arc::clone(&row))),
                None => {
                    at.insert(row.key.id.clone(), rows.len());
                    rows.push(Arc::clone(&row));
                    None
                }
            };
            out.push(Change {
                old,
                new: Some(row),
            });
        }
        out
    }

    pub fn rows(&self) -> &[Arc<Resource>] {
        &self.rows
    }
}

impl From<Vec<Arc<Resource>>> for RowStore {
    fn from(rows: Vec<Arc<Resource>>) -> Self {
        RowStore { rows, at: None }
    }
}

impl From<Vec<Resource>> for RowStore {
    fn from(rows: Vec<Resource>) -> Self {
        rows.into_iter().map(Arc::new).collect::<Vec<_>>().into()
    }
}

impl std::ops::Deref for RowStore {
    type Target = [Arc<Resource>];
    fn deref(&self) -> &[Arc<Resource>] {
        &self.rows
    }
}

impl AsRef<[Arc<Resource>]> for RowStore {
    fn as_ref(&self) -> &[Arc<Resource>] {
        &self.rows
    }
}

impl<'a> IntoIterator for &'a RowStore {
    type Item = &'a Arc<Resource>;
    type IntoIter = std::slice::Iter<'a, Arc<Resource>>;
    fn into_iter(self) -> Self::IntoIter {
        self.rows.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::changes::tests::row;

    fn ids(s: &RowStore) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = s
            .iter()
            .map(|r| (r.key.id.clone(), r.cells[0].clone()))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn changes_replace_add_and_remove_rows_by_id() {
        let mut s = RowStore::from(vec![row("a", "1"), row("b", "1"), row("c", "1")]);
        let applied = s.apply(RowChanges {
            upserted: vec![row("c", "2"), row("d", "1")],
            removed: vec!["a".into(), "nope".into()],
        });
        assert_eq!(applied.len(), 3, "the unknown id is left out");
        assert_eq!(
            ids(&s),
            [
                ("b".to_string(), "1".to_string()),
                ("c".to_string(), "2".to_string()),
                ("d".to_string(), "1".to_string())
            ]
        );
        let c = applied
            .iter()
            .find(|c| c.new.as_ref().is_some_and(|r| r.key.id == "c"))
            .unwrap();
        assert_eq!(c.old.as_ref().unwrap().cells[0], "1", "the row it replaced");
        // The index followed the swap: a later batch still finds every row.
        s.apply(RowChanges {
            upserted: vec![],
            removed: vec!["b".into(), "c".into(), "d".into()],
        });
        assert!(s.is_empty());
    }

    #[test]
    fn an_id_named_twice_in_a_batch_is_one_row_the_last() {
        let mut s = RowStore::from(vec![row("a", "1")]);
        let applied = s.apply(RowChanges {
            upserted: vec![row("b", "1"), row("a", "2"), row("b", "2")],
            removed: vec![],
        });
        assert_eq!(applied.len(), 2);
        assert_eq!(
            ids(&s),
            [
                ("a".to_string(), "2".to_string()),
                ("b".to_string(), "2".to_string())
            ]
        );
    }
}
