//! The history of `:kind` jumps, as in k9s: `[` goes back, `]` forward, `-` toggles to the
//! view shown before. Each entry is a root view (kind, filter, sort); the view stack above a
//! root (drill-downs, logs, describe) is not kept — a jump starts a fresh stack, as before.

use serde::{Deserialize, Serialize};

use super::state::Sort;
use crate::model::ResourceKind;

/// Jumps kept; the oldest go first.
const MAX: usize = 50;

/// A root view as the history (and the remembered last view) keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewMemo {
    pub kind: ResourceKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    #[serde(default)]
    pub sort_column: usize,
    #[serde(default)]
    pub sort_descending: bool,
}

impl ViewMemo {
    pub fn new(kind: ResourceKind) -> Self {
        ViewMemo {
            kind,
            filter: None,
            sort_column: 0,
            sort_descending: false,
        }
    }

    pub fn sort(&self) -> Sort {
        Sort {
            column: self.sort_column,
            descending: self.sort_descending,
        }
    }
}

/// Root views in the order they were opened, and where the console is among them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct History {
    entries: Vec<ViewMemo>,
    pos: usize,
    /// Where `-` goes: the position shown before the last move.
    prev: Option<usize>,
}

impl History {
    /// A history holding only the start view.
    pub fn new(start: ViewMemo) -> Self {
        History {
            entries: vec![start],
            pos: 0,
            prev: None,
        }
    }

    pub fn current(&self) -> &ViewMemo {
        &self.entries[self.pos.min(self.entries.len() - 1)]
    }

    /// The current root view changed in place (its filter or sort): going back to it later
    /// shows it as it was left.
    pub fn update_current(&mut self, memo: ViewMemo) {
        if let Some(e) = self.entries.get_mut(self.pos) {
            *e = memo;
        }
    }

    /// A `:kind` jump: what was ahead of the current entry is dropped, as in a browser.
    pub fn push(&mut self, memo: ViewMemo) {
        self.entries.truncate(self.pos + 1);
        self.entries.push(memo);
        self.prev = Some(self.pos);
        self.pos = self.entries.len() - 1;
        if self.entries.len() > MAX {
            let cut = self.entries.len() - MAX;
            self.entries.drain(..cut);
            self.pos -= cut;
            self.prev = self.prev.and_then(|p| p.checked_sub(cut));
        }
    }

    /// `[`: the entry before, if any.
    pub fn back(&mut self) -> Option<&ViewMemo> {
        let to = self.pos.checked_sub(1)?;
        Some(self.go(to))
    }

    /// `]`: the entry after, if any.
    pub fn forward(&mut self) -> Option<&ViewMemo> {
        let to = self.pos + 1;
        (to < self.entries.len()).then(|| self.go(to))
    }

    /// `-`: the entry shown before the last move (pressed twice, back where it started).
    pub fn toggle(&mut self) -> Option<&ViewMemo> {
        let to = self
            .prev
            .filter(|&p| p < self.entries.len() && p != self.pos)?;
        Some(self.go(to))
    }

    fn go(&mut self, to: usize) -> &ViewMemo {
        self.prev = Some(self.pos);
        self.pos = to;
        &self.entries[to]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ResourceKind::*;

    fn kinds(h: &History) -> (Vec<ResourceKind>, ResourceKind) {
        (h.entries.iter().map(|e| e.kind).collect(), h.current().kind)
    }

    #[test]
    fn back_forward_and_toggle() {
        let mut h = History::new(ViewMemo::new(Container));
        assert!(h.back().is_none() && h.forward().is_none() && h.toggle().is_none());
        h.push(ViewMemo::new(Pod));
        h.push(ViewMemo::new(Device));
        assert_eq!(h.back().map(|m| m.kind), Some(Pod));
        assert_eq!(h.back().map(|m| m.kind), Some(Container));
        assert!(h.back().is_none());
        assert_eq!(h.forward().map(|m| m.kind), Some(Pod));
        // `-` toggles between the last two shown.
        assert_eq!(h.toggle().map(|m| m.kind), Some(Container));
        assert_eq!(h.toggle().map(|m| m.kind), Some(Pod));
        // A jump from the middle drops what was ahead.
        h.push(ViewMemo::new(Service));
        assert_eq!(kinds(&h), (vec![Container, Pod, Service], Service));
        assert!(h.forward().is_none());
        assert_eq!(h.toggle().map(|m| m.kind), Some(Pod));
    }

    #[test]
    fn a_left_view_keeps_its_filter_and_the_length_is_bounded() {
        let mut h = History::new(ViewMemo::new(Container));
        h.update_current(ViewMemo {
            filter: Some("web".into()),
            ..ViewMemo::new(Container)
        });
        h.push(ViewMemo::new(Pod));
        assert_eq!(h.back().and_then(|m| m.filter.clone()), Some("web".into()));
        for _ in 0..2 * MAX {
            h.push(ViewMemo::new(Image));
        }
        assert_eq!(h.entries.len(), MAX);
        assert!(h.toggle().is_some());
    }
}
