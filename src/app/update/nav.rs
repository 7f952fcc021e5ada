//! The navigation stack: opening, popping and refreshing views as data and scope change.

use crate::app::effect::Effect;
use crate::app::state::*;
use crate::logs::Matcher;
use crate::model::ResourceKind;

/// Drop every row and notice of `source` (its scope changed) and refresh the tables.
pub(super) fn forget_source(state: &mut AppState, source: &crate::model::SourceId) {
    for m in state.data.values_mut() {
        m.remove(source);
    }
    state.unavailable.retain(|(s, _), _| s != source);
    state.incomplete.retain(|(s, _), _| s != source);
    state.awaiting.retain(|(s, _), _| s != source);
    state.announcer.forget_source(source);
    let now = jiff::Timestamp::now();
    for &kind in crate::triage::KINDS {
        refresh_triage(state, kind, now);
    }
    for v in state.stack.iter_mut() {
        if let View::Table(t) = v {
            t.refresh(state.data.get(&t.kind), now);
        }
    }
    state.dirty = true;
}

/// Re-filter every open table of `kind` after its data changed, and its problems.
pub(super) fn refresh_tables(state: &mut AppState, kind: ResourceKind) {
    let now = jiff::Timestamp::now();
    refresh_triage(state, kind, now);
    let data = state.data.get(&kind);
    for v in state.stack.iter_mut() {
        if let View::Table(t) = v
            && t.kind == kind
        {
            t.refresh(data, now);
        }
    }
    state.dirty = true;
}

/// A batch of changes was applied to `kind`'s rows: apply it in place to every open table of
/// `kind` (no re-sort, issue #16), and recompute its problems.
pub(super) fn apply_to_tables(
    state: &mut AppState,
    kind: ResourceKind,
    changes: &[crate::app::store::Change],
) {
    if changes.is_empty() {
        return;
    }
    let now = jiff::Timestamp::now();
    refresh_triage(state, kind, now);
    let sources = source_count(state.data.get(&kind));
    for v in state.stack.iter_mut() {
        if let View::Table(t) = v
            && t.kind == kind
        {
            t.apply(changes, sources, now);
        }
    }
    state.dirty = true;
}

/// Stats stream only for the container selected in the table on screen.
pub(super) fn reconcile_stats(state: &mut AppState, fx: &mut Vec<Effect>) {
    let wanted = match state.top() {
        View::Table(t) if t.kind.spec().has_stats => t.selected_row().map(|r| r.key.clone()),
        _ => None,
    };
    let current = state.stats.as_ref().map(|s| s.key.clone());
    if wanted != current {
        state.stats = wanted.clone().map(|key| StatsView {
            key,
            latest: None,
            cpu: Default::default(),
            mem: Default::default(),
        });
        fx.push(Effect::Stats(wanted));
    }
}

/// Start a fresh navigation at `kind`'s table, like k9s; `filter` pre-fills the filter.
/// The runtime starts the watch of the new view (it follows the navigation stack).
pub(super) fn open_kind(state: &mut AppState, kind: ResourceKind, filter: Option<&str>) {
    let mut memo = crate::app::history::ViewMemo::new(kind);
    memo.filter = filter.map(str::to_string);
    // The view left keeps its filter and sort in the history (`[` shows it as it was).
    if let Some(left) = crate::app::last_view::current(state) {
        state.history.update_current(left);
    }
    state.history.push(memo.clone());
    show_memo(state, &memo);
}

/// A fresh stack at `memo`'s root view (kind, filter, sort), without touching the history.
pub(crate) fn show_memo(state: &mut AppState, memo: &crate::app::history::ViewMemo) {
    let kind = memo.kind;
    if kind == ResourceKind::Timeline {
        super::backend::show_timeline(state, true);
    }
    let mut view = TableView::new(kind, None);
    if let Some(arg) = &memo.filter
        && let Ok(Some(m)) = Matcher::parse(arg)
    {
        view.filter = Some((arg.to_string(), m));
    }
    let columns = kind.spec().columns.len();
    if memo.sort_column < columns {
        view.sort = memo.sort();
    }
    view.refresh(state.data.get(&kind), jiff::Timestamp::now());
    state.stack = vec![View::Table(view)];
    state.dirty = true;
}

pub(super) fn refresh_top(state: &mut AppState) {
    let now = jiff::Timestamp::now();
    let AppState { stack, data, .. } = state;
    if let Some(View::Table(t)) = stack.last_mut() {
        t.refresh(data.get(&t.kind), now);
    }
}

pub(super) fn pop_view(state: &mut AppState, fx: &mut Vec<Effect>) {
    if state.stack.len() > 1 {
        if let Some(View::Logs(_)) = state.stack.pop() {
            fx.push(Effect::CloseLogs);
        }
        refresh_top(state);
    }
}

/// Enter on a timeline entry: the resource's own view, on top of the timeline (Esc comes
/// back), with its row selected (found by key id, else by name among the rows known; a row
/// not listed yet is found when its list arrives, or filtered for by name).
pub(super) fn open_timeline_entry(state: &mut AppState, row_id: &str) {
    let Some(e) = state.timeline.by_row_id(row_id) else {
        return;
    };
    let Some(kind) = e.kind else {
        state.toast(format!("{}: no view lists it", e.name), true);
        return;
    };
    let (source, name) = (e.source.clone(), e.name.clone());
    let id = e.id.clone().or_else(|| {
        state
            .data
            .get(&kind)
            .and_then(|m| m.get(&source))
            .and_then(|rows| rows.iter().find(|r| r.name == name))
            .map(|r| r.key.id.clone())
    });
    let mut view = TableView::new(kind, None);
    let key = id.map(|id| crate::model::ResourceKey { source, kind, id });
    if key.is_none()
        && let Ok(Some(m)) = Matcher::parse(&name)
    {
        view.filter = Some((name, m));
    }
    view.refresh(state.data.get(&kind), jiff::Timestamp::now());
    if let Some(key) = key {
        match view.rows.iter().position(|r| r.key == key) {
            Some(i) => view.select(i),
            // Selected when its list arrives (`TableView::refresh` follows `selected_key`).
            None => view.selected_key = Some(key),
        }
    }
    state.stack.push(View::Table(view));
    state.dirty = true;
}

/// Recompute `kind`'s problems (only that row store) and, when they changed, the triage rows.
/// Toast a problem that is new since the stores were first loaded, unless `:triage` is on
/// top (see `triage::announce`). Runs on every refresh of a triage kind, changed or not, so a
/// store's first complete list is taken in as known.
fn announce(state: &mut AppState, kind: ResourceKind) {
    if !crate::triage::KINDS.contains(&kind) {
        return;
    }
    let sources: Vec<(crate::model::SourceId, bool)> = state
        .data
        .get(&kind)
        .into_iter()
        .flat_map(|m| m.keys())
        .map(|s| {
            let loading = state
                .incomplete
                .get(&(s.clone(), kind))
                .is_some_and(|n| n.loading);
            (s.clone(), loading)
        })
        .collect();
    let Some(a) = state.announcer.update(&state.triage, kind, &sources) else {
        return;
    };
    let on_triage = matches!(state.top(), View::Table(t) if t.kind == ResourceKind::Triage);
    if !on_triage {
        state.toast(a.text, a.critical);
    }
}

fn refresh_triage(state: &mut AppState, kind: ResourceKind, now: jiff::Timestamp) {
    let cfg = &state.settings.config.triage;
    let changed = state
        .triage
        .kind_changed(kind, state.data.get(&kind), cfg, now);
    announce(state, kind);
    if !changed {
        return;
    }
    let rows: Vec<_> = state
        .triage
        .problems()
        .into_iter()
        .map(|p| std::sync::Arc::new(p.to_row()))
        .collect();
    let mut by_source = SourceRows::new();
    if !rows.is_empty() {
        by_source.insert(crate::model::SourceId::new("triage"), rows.into());
    }
    state.data.insert(ResourceKind::Triage, by_source);
    let data = state.data.get(&ResourceKind::Triage);
    for v in state.stack.iter_mut() {
        if let View::Table(t) = v
            && t.kind == ResourceKind::Triage
        {
            t.refresh(data, now);
        }
    }
}
