//! Which of a table's columns are on screen. A narrow table drops its lowest-priority columns
//! (`Column::priority`: ports, IPs, OS, images first) instead of squeezing every column to a
//! few cells; ←/→ scroll the columns one at a time, with the first kept column (the name)
//! pinned, so every column stays reachable (like k9s and oxker).

use crate::model::Column;
use crate::model::priority::KEEP;

/// Width of a kept column (`KEEP`) that is not cut while others can still go: a state or a
/// reason ("Exited (137) 5 minutes ago", "CrashLoopBackOff") is what the row is read for.
const KEEP_WHOLE: usize = 32;
/// The pinned name keeps this much of its text while other columns can go.
pub const NAME_KEEP: usize = 24;

/// The columns shown, in their declared order, and how many are off screen on each side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    pub columns: Vec<usize>,
    /// Off screen to the left (← shows them).
    pub left: usize,
    /// Off screen to the right, or dropped for priority when not scrolled (→ shows them).
    pub right: usize,
    /// The scroll position actually used (clamped to what can scroll).
    pub hscroll: usize,
}

impl Shown {
    pub fn hidden(&self) -> usize {
        self.left + self.right
    }
}

/// The pinned column: the first one that is never dropped (a pod's NAME, not its NAMESPACE),
/// else the first.
pub fn pinned(columns: &[Column]) -> usize {
    columns.iter().position(|c| c.priority == KEEP).unwrap_or(0)
}

/// The cells column `i` needs before lower-priority columns are dropped for it; `desired` is
/// its natural width (header, hint and the widest cell on screen).
pub fn need(columns: &[Column], i: usize, desired: usize, pinned: usize) -> usize {
    let c = &columns[i];
    let header = crate::ui::text::width(c.name);
    let floor = if i == pinned {
        NAME_KEEP
    } else if c.priority == KEEP {
        KEEP_WHOLE
    } else {
        header.max(usize::from(c.min_width))
    };
    desired.min(floor.max(header))
}

fn fits(widths: &[usize], total: usize) -> bool {
    let spacing = widths.len().saturating_sub(1);
    widths.iter().sum::<usize>() + spacing <= total
}

/// Choose the columns for `total` cells. `desired[i]` is column `i`'s natural width;
/// `hscroll` 0 is the priority view (lowest priority dropped first), `k > 0` shows the pinned
/// column and then the other columns from the `k`-th on, as many as fit.
pub fn choose(columns: &[Column], desired: &[usize], total: usize, hscroll: usize) -> Shown {
    let n = columns.len();
    let pin = pinned(columns);
    let need: Vec<usize> = (0..n).map(|i| need(columns, i, desired[i], pin)).collect();
    // The priority view: drop the lowest priority (the rightmost of equals) until the rest fit.
    let mut kept: Vec<usize> = (0..n).collect();
    loop {
        let widths: Vec<usize> = kept.iter().map(|&i| need[i]).collect();
        if fits(&widths, total) {
            break;
        }
        let Some(pos) = kept
            .iter()
            .enumerate()
            .filter(|&(_, &i)| i != pin && columns[i].priority != KEEP)
            .max_by_key(|&(pos, &i)| (columns[i].priority, pos))
            .map(|(pos, _)| pos)
        else {
            break;
        };
        kept.remove(pos);
    }
    // A wide column dropped late may have made room for a narrow one dropped before it.
    for i in 0..n {
        if kept.contains(&i) {
            continue;
        }
        let mut with: Vec<usize> = kept.iter().map(|&k| need[k]).collect();
        with.push(need[i]);
        if fits(&with, total) {
            kept.push(i);
            kept.sort_unstable();
        }
    }
    let dropped = n - kept.len();
    if dropped == 0 {
        return Shown {
            columns: kept,
            left: 0,
            right: 0,
            hscroll: 0,
        };
    }
    // The others, in order, from the `k-1`-th on (k = 1 starts with the first column the
    // priority view may have dropped).
    let others: Vec<usize> = (0..n).filter(|&i| i != pin).collect();
    let window = |start: usize| -> Vec<usize> {
        let mut shown = vec![pin];
        let mut used = need[pin];
        for &i in &others[start..] {
            // At least one column besides the name, however narrow the table.
            if shown.len() > 1 && used + 1 + need[i] > total {
                break;
            }
            used += 1 + need[i];
            shown.push(i);
        }
        shown.sort_unstable();
        shown
    };
    // The furthest scroll: the first start from which every remaining column is on screen.
    let last_start = (0..others.len())
        .find(|&s| window(s).len() == 1 + others.len() - s)
        .unwrap_or(others.len().saturating_sub(1));
    let hscroll = hscroll.min(last_start + 1);
    if hscroll == 0 {
        return Shown {
            columns: kept,
            left: 0,
            right: dropped,
            hscroll: 0,
        };
    }
    let start = hscroll - 1;
    let shown = window(start);
    let right = others.len() - start - (shown.len() - 1);
    Shown {
        columns: shown,
        left: start,
        right,
        hscroll,
    }
}

/// Shrink columns to fit `total`: first the columns that may be dropped, widest first, down to
/// what they need (`needs`), then the kept ones (`keep`: a state, a reason, the name) down to
/// theirs, and only then everything as [`fit`] does. So a pod's name stays whole while its
/// node is cut.
pub fn fit_needs(widths: &mut [usize], needs: &[usize], keep: &[bool], total: usize) {
    let budget = total.saturating_sub(widths.len().saturating_sub(1));
    for kept in [false, true] {
        while widths.iter().sum::<usize>() > budget {
            let Some((i, w)) = widths
                .iter()
                .copied()
                .enumerate()
                .filter(|&(i, w)| keep[i] == kept && w > needs[i])
                .max_by_key(|&(_, w)| w)
            else {
                break;
            };
            let excess = widths.iter().sum::<usize>() - budget;
            widths[i] = w - excess.min(w - needs[i]).min((w / 4).max(1));
        }
    }
}

/// Shrink the widest columns until everything fits `total` (with one space between columns).
/// Column 0 of `widths` (the pinned name) does not shrink below `keep` (its text, up to
/// `NAME_KEEP`) before every other column is as narrow as it gets, so a name stays readable on
/// a narrow terminal (a rollout id on an 80-column `:rollouts`).
pub fn fit(widths: &mut [usize], total: usize, pinned: usize, keep: usize) {
    let spacing = widths.len().saturating_sub(1);
    let budget = total.saturating_sub(spacing);
    let mut keep = keep.clamp(3, NAME_KEEP);
    while widths.iter().sum::<usize>() > budget {
        let floor = |i: usize| if i == pinned { keep } else { 3 };
        let Some((i, w)) = widths
            .iter()
            .copied()
            .enumerate()
            .filter(|&(i, w)| w > floor(i))
            .max_by_key(|&(_, w)| w)
        else {
            if keep > 3 {
                // Everything else is as narrow as it gets: now the name shrinks too.
                keep = 3;
                continue;
            }
            break;
        };
        let excess = widths.iter().sum::<usize>() - budget;
        widths[i] = w - excess.min(w - floor(i)).min((w / 4).max(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ResourceKind;

    fn names(kind: ResourceKind, s: &Shown) -> Vec<&'static str> {
        s.columns
            .iter()
            .map(|&i| kind.spec().columns[i].name)
            .collect()
    }

    fn natural(kind: ResourceKind) -> Vec<usize> {
        kind.spec()
            .columns
            .iter()
            .map(|c| crate::ui::text::width(c.name).max(usize::from(c.min_width)))
            .collect()
    }

    #[test]
    fn every_kind_has_a_column_that_is_never_dropped() {
        for k in ResourceKind::all() {
            assert!(k.spec().columns.iter().any(|c| c.priority == KEEP), "{k:?}");
        }
    }

    #[test]
    fn a_wide_table_shows_everything() {
        let k = ResourceKind::Container;
        let s = choose(k.spec().columns, &natural(k), 200, 0);
        assert_eq!(s.columns.len(), k.spec().columns.len());
        assert_eq!(s.hidden(), 0);
        // Nothing to scroll to.
        assert_eq!(choose(k.spec().columns, &natural(k), 200, 3).hscroll, 0);
    }

    #[test]
    fn a_narrow_table_drops_ports_and_images_first_and_keeps_the_state() {
        let k = ResourceKind::Container;
        let mut desired = natural(k);
        desired[3] = 26; // "Exited (137) 5 minutes ago"
        let s = choose(k.spec().columns, &desired, 60, 0);
        let shown = names(k, &s);
        assert!(!shown.contains(&"PORTS"), "{shown:?}");
        assert!(!shown.contains(&"IMAGE"), "{shown:?}");
        for kept in ["NAME", "STATE", "STATUS"] {
            assert!(shown.contains(&kept), "{shown:?}");
        }
        assert_eq!((s.left, s.right), (0, k.spec().columns.len() - shown.len()));
    }

    #[test]
    fn scrolling_reaches_every_column_with_the_name_pinned() {
        let k = ResourceKind::MenderDeployment;
        let cols = k.spec().columns;
        let desired = natural(k);
        let mut seen = std::collections::BTreeSet::new();
        let mut last = None;
        for h in 0..40 {
            let s = choose(cols, &desired, 60, h);
            assert_eq!(s.columns[0], 0, "the name is pinned");
            let w: Vec<usize> = s.columns.iter().map(|&i| desired[i]).collect();
            assert!(fits(&w, 60) || s.columns.len() == 2, "{s:?}");
            seen.extend(s.columns.iter().copied());
            if last == Some(s.hscroll) {
                // Clamped at the end: the last column is on screen, nothing more to the right.
                assert_eq!(s.right, 0);
                assert!(s.columns.contains(&(cols.len() - 1)));
                break;
            }
            last = Some(s.hscroll);
        }
        assert_eq!(seen.len(), cols.len(), "every column was shown");
    }

    #[test]
    fn a_pod_pins_its_name_not_its_namespace() {
        let k = ResourceKind::Pod;
        assert_eq!(k.spec().columns[pinned(k.spec().columns)].name, "NAME");
        let s = choose(k.spec().columns, &natural(k), 40, 2);
        assert_eq!(names(k, &s)[0], "NAME");
        assert!(!names(k, &s).contains(&"NAMESPACE"));
    }

    #[test]
    fn fit_shrinks_widest_first() {
        let mut w = vec![10, 40, 5];
        fit(&mut w, 32, 0, 0);
        assert!(w.iter().sum::<usize>() <= 30);
        assert_eq!(w[0], 10);
        assert_eq!(w[2], 5);
    }

    #[test]
    fn fit_keeps_the_name_readable() {
        // 12 columns on 80 cells: the 15-cell name stays whole.
        let mut w = vec![15, 22, 23, 7, 7, 7, 4, 6, 11, 8, 10, 4];
        fit(&mut w, 80, 0, 15);
        assert!(w.iter().sum::<usize>() <= 69, "{w:?}");
        assert_eq!(w[0], 15);
        // Far too narrow: the name shrinks too, never below 3.
        let mut w = vec![30, 10, 10];
        fit(&mut w, 12, 0, 30);
        assert!(w.iter().all(|&x| x >= 3), "{w:?}");
    }
}
