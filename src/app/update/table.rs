//! Keys on a table: movement, filter, sort, drill-down and describe; every other key is a row
//! action (`actions/`), started here once the kind registry says it applies.

use crossterm::event::KeyEvent;

use super::actions;
use super::describe::open_describe;
use super::input::{Edited, edit};
use super::logs::open_logs;
use super::nav::{forget_source, open_timeline_entry, pop_view, refresh_top};
use crate::app::action::Action;
use crate::app::effect::Effect;
use crate::app::state::*;
use crate::logs::Matcher;
use crate::model::ResourceAction;

pub(super) fn on_filter_key(state: &mut AppState, input: Input, key: KeyEvent) -> Mode {
    let (mode, text) = match edit(input, key) {
        Edited::Open(i) => {
            let t = i.text.clone();
            (Mode::Filter(i), Some(t))
        }
        Edited::Cancel => (Mode::Normal, None),
        Edited::Submit(t) => (Mode::Normal, Some(t)),
    };
    let mut error = None;
    if let View::Table(t) = state.top_mut() {
        t.filter = match text.as_deref().map(Matcher::parse) {
            Some(Ok(Some(m))) => Some((text.clone().unwrap_or_default(), m)),
            Some(Err(e)) => {
                error = Some(e);
                t.filter.take()
            }
            _ => None,
        };
    }
    refresh_top(state);
    if let (Some(e), Mode::Normal) = (error, &mode) {
        state.toast(e, true);
    }
    mode
}

pub(super) fn move_selection(t: &mut TableView, action: Action, page: usize) -> bool {
    let last = t.rows.len().saturating_sub(1);
    let target = match action {
        Action::Up => t.selected.saturating_sub(1),
        Action::Down => (t.selected + 1).min(last),
        Action::PageUp => t.selected.saturating_sub(page),
        Action::PageDown => (t.selected + page).min(last),
        Action::Top => 0,
        Action::Bottom => last,
        _ => return false,
    };
    t.select(target);
    true
}

/// A triage row stands for the resource it names: that resource's current row.
fn opened_row(state: &AppState) -> Option<std::sync::Arc<crate::model::Resource>> {
    let View::Table(t) = state.top() else {
        return None;
    };
    let target = t.selected_row()?.facts.opens.as_deref()?;
    state
        .data
        .get(&target.kind)?
        .get(&target.source)?
        .iter()
        .find(|r| &r.key == target)
        .cloned()
}

pub(super) fn on_table_action(state: &mut AppState, action: Action, fx: &mut Vec<Effect>) {
    let opened = opened_row(state);
    let View::Table(t) = state.top_mut() else {
        return;
    };
    if move_selection(t, action, 10) {
        return;
    }
    let kind = t.kind;
    let spec = kind.spec();
    let selected = t.selected_row().cloned();
    match action {
        Action::Back => {
            if t.filter.take().is_some() {
                refresh_top(state);
            } else {
                pop_view(state, fx);
            }
        }
        // Opens empty, as in k9s: typing starts a new filter (the footer shows the old one
        // until the first key replaces it); Esc or an empty Enter clears it.
        Action::Filter => state.mode = Mode::Filter(Input::default()),
        Action::SortNext | Action::SortPrev | Action::SortReverse => {
            let n = spec.columns.len();
            match action {
                Action::SortNext => t.sort.column = (t.sort.column + 1) % n,
                Action::SortPrev => t.sort.column = (t.sort.column + n - 1) % n,
                _ => t.sort.descending = !t.sort.descending,
            }
            let msg = format!(
                "sorted by {}{}",
                spec.columns[t.sort.column].name,
                if t.sort.descending { " ↓" } else { "" }
            );
            refresh_top(state);
            state.toast(msg, false);
        }
        Action::Enter => {
            let Some(row) = selected else { return };
            if kind == crate::model::ResourceKind::Timeline {
                open_timeline_entry(state, &row.key.id);
            } else if let Some(target) = row.facts.opens.as_deref() {
                // A triage row: the resource in its own view, selected there.
                let mut view = TableView::new(target.kind, None);
                view.selected_key = Some(target.clone());
                view.refresh(state.data.get(&target.kind), jiff::Timestamp::now());
                state.stack.push(View::Table(view));
            } else if let Some(child) = spec.drill {
                let mut view = TableView::new(child, Some(row.name.clone()));
                view.refresh(state.data.get(&child), jiff::Timestamp::now());
                state.stack.push(View::Table(view));
            } else if kind.offers(&ResourceAction::Switch) {
                // A context or namespace: it becomes the source's scope; the old rows go now,
                // the new scope's arrive with its watches.
                forget_source(state, &row.key.source);
                state.sources.insert(
                    row.key.source.clone(),
                    crate::model::SourceStatus::Connecting,
                );
                state.toast(
                    format!("{} {}", kind.name().trim_end_matches('s'), row.name),
                    false,
                );
                fx.push(Effect::Switch(row.key.clone()));
            } else if spec.has_logs {
                open_logs(state, &row, fx);
            } else {
                open_describe(state, &row, fx);
            }
        }
        // Columns, one at a time; the draw clamps to the last column (ui/columns.rs).
        Action::Left => t.hscroll = t.hscroll.saturating_sub(1),
        Action::Right => t.hscroll = (t.hscroll + 1).min(spec.columns.len()),
        Action::Describe => {
            if let Some(row) = opened.or(selected) {
                open_describe(state, &row, fx);
            }
        }
        // The rest act on the selected row; each one's unit says where it applies (asked of
        // the kind registry), how it starts and what it does with an answer.
        _ => {
            let Some(unit) = actions::unit(action) else {
                return;
            };
            // From triage, every action of the resource's kind works on the resource.
            let Some(row) = opened.or(selected) else {
                return;
            };
            let kind = row.key.kind;
            let on = match t.kind {
                // The triage table's rows are not the resource's kind: no group of them.
                crate::model::ResourceKind::Triage => actions::Selection {
                    row,
                    filtered: None,
                },
                _ => actions::Selection::of(t, row),
            };
            if !kind.has(&unit.needs()) {
                state.toast(unit.unavailable(kind.spec()), true);
                return;
            }
            unit.start(state, &on, fx);
        }
    }
}
