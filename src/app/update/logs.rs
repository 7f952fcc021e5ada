//! The log view: opening a stream, scrolling, follow/pause/wrap, search, history, save.

use crossterm::event::KeyEvent;

use super::input::{Edited, edit};
use super::nav::pop_view;
use crate::app::action::Action;
use crate::app::effect::Effect;
use crate::app::state::*;
use crate::logs::Matcher;
use crate::model::LogOpts;

pub(super) fn on_search_key(state: &mut AppState, input: Input, key: KeyEvent) -> Mode {
    match edit(input, key) {
        Edited::Open(i) => Mode::Search(i),
        Edited::Cancel => Mode::Normal,
        Edited::Submit(text) => {
            let parsed = Matcher::parse(&text);
            match parsed {
                Err(e) => state.toast(e, true),
                Ok(m) => {
                    if let View::Logs(l) = state.top_mut() {
                        l.search = m.map(|m| (text, m));
                        l.current_match = None;
                        // Start from the newest line and go back, as in `less +G` then `?`.
                        jump_to_match(l, false);
                    }
                }
            }
            Mode::Normal
        }
    }
}

/// Move the current match to the next (forward) or previous match, wrapping around.
pub(super) fn jump_to_match(l: &mut LogView, forward: bool) {
    let Some((_, m)) = &l.search else { return };
    let len = l.buffer.len();
    if len == 0 {
        return;
    }
    let start = l.current_match.unwrap_or(if forward { len - 1 } else { 0 });
    let found = (1..=len)
        .map(|step| {
            if forward {
                (start + step) % len
            } else {
                (start + len - step % len) % len
            }
        })
        .find(|&i| l.buffer.get(i).is_some_and(|line| m.is_match(line.text)));
    if let Some(i) = found {
        l.current_match = Some(i);
        l.follow = false;
        // Centre the match in the last known page.
        let displayed = l.displayed();
        let pos = displayed.iter().position(|&d| d == i).unwrap_or(0);
        l.top = pos.saturating_sub(l.page / 2);
    }
}

pub(super) fn open_logs(state: &mut AppState, row: &crate::model::Resource, fx: &mut Vec<Effect>) {
    let cfg = &state.settings.config.logs;
    let opts = LogOpts {
        follow: true,
        tail: Some(cfg.tail),
        since_secs: None,
        previous: false,
    };
    let stream = state.next_stream;
    state.next_stream += 1;
    let mut view = LogView::new(
        row.name.clone(),
        row.key.clone(),
        stream,
        opts.clone(),
        cfg.buffer_lines,
    );
    view.timestamps = cfg.timestamps;
    view.wrap = cfg.wrap;
    state.stack.push(View::Logs(Box::new(view)));
    fx.push(Effect::OpenLogs {
        stream,
        target: row.key.clone(),
        opts,
    });
}

pub(super) fn on_logs_action(state: &mut AppState, action: Action, fx: &mut Vec<Effect>) {
    let next_stream = state.next_stream;
    let default_tail = state.settings.config.logs.tail;
    let View::Logs(l) = state.top_mut() else {
        return;
    };
    let shown = l.displayed().len();
    let page = l.page.max(1);
    let max_top = shown.saturating_sub(page);
    match action {
        Action::Back => {
            if l.search.take().is_some() {
                l.current_match = None;
                l.matches_only = false;
            } else {
                pop_view(state, fx);
            }
        }
        Action::Up | Action::PageUp => {
            let by = if action == Action::Up { 1 } else { page };
            let from = if l.follow { max_top } else { l.top };
            l.top = from.saturating_sub(by);
            l.follow = false;
        }
        Action::Down | Action::PageDown => {
            let by = if action == Action::Down { 1 } else { page };
            l.top = (l.top + by).min(max_top);
            l.follow = l.top >= max_top;
        }
        Action::Top => {
            l.top = 0;
            l.follow = false;
        }
        Action::Bottom => l.follow = true,
        Action::Left => l.hscroll = l.hscroll.saturating_sub(8),
        Action::Right if !l.wrap => l.hscroll = l.hscroll.saturating_add(8),
        Action::ToggleFollow => {
            l.follow = !l.follow;
            if !l.follow {
                l.top = max_top;
            }
        }
        Action::ToggleTimestamps => l.timestamps = !l.timestamps,
        Action::ToggleWrap => {
            l.wrap = !l.wrap;
            l.hscroll = 0;
        }
        Action::TogglePause => {
            l.paused = !l.paused;
            if !l.paused {
                l.buffer.append(&mut l.held);
            }
        }
        // Opens empty (the footer shows the search in force); Esc keeps it.
        Action::Search => state.mode = Mode::Search(Input::default()),
        Action::SearchNext => jump_to_match(l, true),
        Action::SearchPrev => jump_to_match(l, false),
        Action::ToggleMatchesOnly => {
            if l.search.is_some() {
                l.matches_only = !l.matches_only;
                l.follow = true;
            } else {
                state.toast("search first (/) to show only matching lines", true);
            }
        }
        Action::Save => {
            let stamp = jiff::Timestamp::now().strftime("%Y%m%d-%H%M%S").to_string();
            let safe: String = l
                .title
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            state.mode = Mode::SavePath(Input {
                text: format!("fleetdeck-{safe}-{stamp}.log"),
            });
        }
        Action::TogglePrevious => {
            l.opts.previous = !l.opts.previous;
            let label = if l.opts.previous {
                "previous container"
            } else {
                "current container"
            };
            reopen_logs(l, next_stream, fx);
            state.next_stream += 1;
            state.toast(format!("logs: {label}"), false);
        }
        Action::SinceCycle => {
            l.since_step = (l.since_step + 1) % SINCE_STEPS.len();
            let (since, label) = SINCE_STEPS[l.since_step];
            l.opts = match since {
                None => LogOpts {
                    since_secs: None,
                    tail: Some(default_tail),
                    ..l.opts.clone()
                },
                Some(0) => LogOpts {
                    since_secs: None,
                    tail: None,
                    ..l.opts.clone()
                },
                Some(s) => LogOpts {
                    since_secs: Some(s),
                    tail: None,
                    ..l.opts.clone()
                },
            };
            reopen_logs(l, next_stream, fx);
            state.next_stream += 1;
            state.toast(format!("history: {label}"), false);
        }
        _ => {}
    }
}

/// Restart the stream under a new id (so late lines of the old one are ignored) with `l.opts`.
pub(super) fn reopen_logs(l: &mut LogView, stream: crate::backend::StreamId, fx: &mut Vec<Effect>) {
    l.stream = stream;
    l.buffer.clear();
    l.held.clear();
    l.ended = None;
    l.note = None;
    l.current_match = None;
    l.follow = true;
    fx.push(Effect::OpenLogs {
        stream,
        target: l.target.clone(),
        opts: l.opts.clone(),
    });
}
