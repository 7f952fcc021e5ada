//! The one place state changes. Pure apart from reading the clock: returns effects for the
//! runtime to perform, so every interaction is unit-testable without a terminal or an engine.
//!
//! This file dispatches; each concern has its file: `keys` (a key press), `dialogs` and
//! `input` (open dialogs and input lines), `table`/`logs`/`describe` (each view's keys), `nav`
//! (the view stack), `backend` (backend events), `command_bar` and `run` (`:` commands),
//! `request` (refusal, confirmation, then the effect of every backend action) and `actions/`
//! (one unit per row action). docs/ARCHITECTURE.md has the map.

mod actions;
mod backend;
mod command_bar;
mod copy;
mod describe;
mod dialogs;
mod history;
mod input;
mod keys;
mod logs;
mod nav;
mod request;
mod run;
mod table;
mod unbound;

use crossterm::event::{Event, KeyEventKind};

use super::action::Action;
use super::effect::Effect;
use super::msg::Msg;
use super::state::*;

pub use actions::applies;
use backend::on_backend;
use command_bar::request_quit;
pub use command_bar::{completions, cycle_list};
use describe::on_describe_action;
pub use history::restore_view;
use keys::on_key;
use logs::on_logs_action;
use nav::{forget_source, reconcile_stats};
use table::on_table_action;

pub fn update(state: &mut AppState, msg: Msg) -> Vec<Effect> {
    let mut fx = Vec::new();
    match msg {
        Msg::Term(Event::Key(key)) if key.kind != KeyEventKind::Release => {
            on_key(state, key, &mut fx);
            // A key may have closed the dialog a passphrase question waited behind.
            actions::passphrase::ask_waiting(state);
            state.dirty = true;
        }
        Msg::Action(action) => {
            if matches!(state.mode, Mode::Normal) {
                on_action(state, action, &mut fx);
            }
            state.dirty = true;
        }
        Msg::Term(Event::Resize(..)) => state.dirty = true,
        Msg::Term(_) => {}
        Msg::Backend(ev) => on_backend(state, ev),
        Msg::ActionDone {
            key,
            name,
            result,
            offer,
            ..
        } => match (result, offer) {
            // A follow-up the action offers is asked for, unless the user is busy elsewhere.
            (Ok(text), Some(next)) if matches!(state.mode, Mode::Normal) => {
                state.mode = Mode::Confirm(Confirm {
                    key,
                    name,
                    action: next,
                    typed: None,
                    detail: Some(text),
                    also: Vec::new(),
                });
                state.dirty = true;
            }
            (Ok(text), _) => state.toast(text, false),
            (Err(text), _) => state.toast(text, true),
        },
        Msg::Described { key, result } => {
            for v in state.stack.iter_mut() {
                if let View::Describe(d) = v
                    && d.key == key
                {
                    d.text = Some(result.clone());
                }
            }
            state.dirty = true;
        }
        Msg::ShellDone(result) | Msg::Saved(result) => match result {
            Ok(text) => state.toast(text, false),
            Err(text) => state.toast(text, true),
        },
        Msg::SourceSwitched { old, new } => {
            if old != new {
                state.sources.remove(&old);
                forget_source(state, &old);
            }
            state
                .sources
                .entry(new)
                .or_insert(crate::model::SourceStatus::Connecting);
            state.dirty = true;
        }
        Msg::Tick => on_tick(state),
    }
    for (key, name, action) in std::mem::take(&mut state.pending_refusals) {
        fx.push(Effect::AuditRefused { key, name, action });
    }
    reconcile_stats(state, &mut fx);
    if state.quit {
        fx.push(Effect::Quit);
    }
    fx
}

fn on_tick(state: &mut AppState) {
    backend::show_timeline(state, true);
    if state
        .toast
        .as_ref()
        .is_some_and(|t| t.until <= std::time::Instant::now())
    {
        state.toast = None;
        state.dirty = true;
    }
    // Ages change as time passes: redraw each second while a young row shows seconds,
    // otherwise once a minute. No other idle redraws.
    if let View::Table(t) = state.top() {
        let now = jiff::Timestamp::now();
        let young = t.rows.iter().any(|r| {
            r.created
                .is_some_and(|c| now.as_second() - c.as_second() < 120)
        });
        if young || now.as_second() % 60 == 0 {
            state.dirty = true;
        }
    }
    // A first list still awaited: its note turns from "loading…" into "no answer … after Ns".
    if let View::Table(t) = state.top()
        && state.awaiting.keys().any(|(_, k)| *k == t.kind)
    {
        state.dirty = true;
    }
}

fn on_action(state: &mut AppState, action: Action, fx: &mut Vec<Effect>) {
    match action {
        Action::Quit => request_quit(state),
        Action::Help => state.mode = Mode::Help { scroll: 0 },
        Action::Command => state.mode = Mode::Command(Input::default()),
        _ => {}
    }
    if matches!(action, Action::Quit | Action::Help | Action::Command)
        || history::on_history_action(state, action, fx)
        || copy::on_copy_action(state, action, fx)
    {
        return;
    }
    match state.top() {
        View::Table(_) => on_table_action(state, action, fx),
        View::Logs(_) => on_logs_action(state, action, fx),
        View::Describe(_) => on_describe_action(state, action),
    }
}
