//! Backend events: rows, notes, statuses, log lines and stats arriving from the sources.

use crate::backend::BackendEvent;

use super::actions::passphrase::ask_passphrase;
use super::nav::{apply_to_tables, refresh_tables};
use crate::app::state::*;
use crate::model::{LogLine, ResourceKind};

pub(super) fn on_backend(state: &mut AppState, ev: BackendEvent) {
    match ev {
        BackendEvent::Status(source, status) => {
            state.sources.insert(source, status);
            state.dirty = true;
        }
        BackendEvent::Work { source, work } => {
            if work.is_empty() {
                state.work.remove(&source);
            } else {
                state.work.insert(source, work);
            }
        }
        BackendEvent::Unavailable {
            source,
            kind,
            reason,
        } => {
            if let Some(m) = state.data.get_mut(&kind) {
                m.remove(&source);
            }
            state.incomplete.remove(&(source.clone(), kind));
            state.awaiting.remove(&(source.clone(), kind));
            state.unavailable.insert((source, kind), reason);
            refresh_tables(state, kind);
        }
        BackendEvent::Incomplete {
            source,
            kind,
            resources,
            note,
            loading,
        } => {
            state.unavailable.remove(&(source.clone(), kind));
            state.awaiting.remove(&(source.clone(), kind));
            state.incomplete.insert(
                (source.clone(), kind),
                ListNote {
                    text: note,
                    loading,
                },
            );
            if let Some(resources) = resources {
                let entry = state.data.entry(kind).or_default();
                entry.insert(source, resources.into());
            }
            refresh_tables(state, kind);
        }
        BackendEvent::Snapshot {
            source,
            kind,
            resources,
        } => {
            state.unavailable.remove(&(source.clone(), kind));
            state.incomplete.remove(&(source.clone(), kind));
            state.awaiting.remove(&(source.clone(), kind));
            if kind == ResourceKind::Device {
                ask_passphrase(state, &resources);
            }
            let entry = state.data.entry(kind).or_default();
            entry.insert(source, resources.into());
            refresh_tables(state, kind);
        }
        BackendEvent::Changes {
            source,
            kind,
            changes,
        } => {
            // Changes apply to a list this console holds; without one (dropped as unavailable,
            // or its scope changed) they mean nothing, and the watch's next list comes whole.
            if !state
                .data
                .get(&kind)
                .is_some_and(|m| m.contains_key(&source))
            {
                return;
            }
            // Asked before the rows move into the store (no copy of them): the devices view
            // sends a batch like this after every burst of answers.
            if kind == ResourceKind::Device {
                ask_passphrase(state, &changes.upserted);
            }
            let Some(store) = state.data.get_mut(&kind).and_then(|m| m.get_mut(&source)) else {
                return;
            };
            let applied = store.apply(changes);
            apply_to_tables(state, kind, &applied);
        }
        BackendEvent::LogLines { stream, lines } => {
            let is_top = matches!(state.top(), View::Logs(l) if l.stream == stream);
            if let Some(l) = log_view_mut(state, stream) {
                for line in &lines {
                    if let Some(src) = &line.source
                        && !l.prefixes.contains_key(src)
                    {
                        let n = l.prefixes.len();
                        l.prefixes.insert(src.clone(), n);
                    }
                }
                take_lines(l, lines);
                state.dirty |= is_top;
            }
        }
        BackendEvent::LogNote { stream, note } => {
            let is_top = matches!(state.top(), View::Logs(l) if l.stream == stream);
            if let Some(l) = log_view_mut(state, stream) {
                l.note = note;
                state.dirty |= is_top;
            }
        }
        BackendEvent::LogEnded { stream, error } => {
            if let Some(l) = log_view_mut(state, stream) {
                l.note = None;
                l.ended = Some(error.clone().unwrap_or_else(|| "stream ended".into()));
            }
            if let Some(e) = error {
                state.toast(format!("logs: {e}"), true);
            }
            state.dirty = true;
        }
        BackendEvent::Timeline(entries) => {
            for e in entries {
                state.timeline.unshown |= state.timeline.push(e);
            }
            show_timeline(state, false);
        }
        BackendEvent::Stats { key, sample } => {
            if let Some(s) = state.stats.as_mut()
                && s.key == key
            {
                s.latest = Some(sample);
                push_bounded(&mut s.cpu, (sample.cpu_percent * 100.0).round() as u64);
                push_bounded(&mut s.mem, sample.mem_bytes);
                state.dirty = true;
            }
        }
    }
}

/// Give the open timeline views the ring's rows: at once, unless they were refreshed less
/// than `SHOW_EVERY` ago (then the next tick does it; `force`: now).
pub(super) fn show_timeline(state: &mut AppState, force: bool) {
    let t = &mut state.timeline;
    let due = force
        || t.shown_at
            .is_none_or(|at| at.elapsed() >= crate::timeline::SHOW_EVERY);
    if !t.unshown || !due {
        return;
    }
    t.unshown = false;
    t.shown_at = Some(std::time::Instant::now());
    let rows = t.rows();
    let data = state.data.entry(ResourceKind::Timeline).or_default();
    data.insert(crate::timeline::source(), rows.into());
    refresh_tables(state, ResourceKind::Timeline);
}

pub(super) fn push_bounded(q: &mut std::collections::VecDeque<u64>, v: u64) {
    if q.len() == STATS_HISTORY {
        q.pop_front();
    }
    q.push_back(v);
}

pub(super) fn log_view_mut(state: &mut AppState, stream: u64) -> Option<&mut LogView> {
    state.stack.iter_mut().find_map(|v| match v {
        View::Logs(l) if l.stream == stream => Some(l.as_mut()),
        _ => None,
    })
}

/// New lines for a log view: held while paused, else into the ring. Scrolled back (not
/// following), the view keeps showing the lines it showed while a full ring drops its oldest:
/// `top` moves back with them, and the current match, a ring index, too (or goes with its line).
fn take_lines(l: &mut LogView, lines: Vec<LogLine>) {
    if l.paused {
        l.held.push_batch(lines);
        return;
    }
    // With only matches shown, `top` counts shown lines: those of the lines about to leave.
    let leaving = (l.buffer.len() + lines.len()).saturating_sub(l.buffer.capacity());
    let shown_leaving = match (&l.search, l.matches_only) {
        (Some((_, m)), true) if !l.follow && leaving > 0 => Some(
            l.buffer
                .iter()
                .take(leaving)
                .filter(|line| m.is_match(line.text))
                .count(),
        ),
        _ => None,
    };
    let before = l.buffer.dropped();
    l.buffer.push_batch(lines);
    let gone = usize::try_from(l.buffer.dropped() - before).unwrap_or(usize::MAX);
    if !l.follow {
        l.top = l.top.saturating_sub(shown_leaving.unwrap_or(gone));
    }
    l.current_match = l.current_match.and_then(|i| i.checked_sub(gone));
}
