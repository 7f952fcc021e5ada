//! Key presses: ctrl-c, then the open dialog or input line, else the keymap's action.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::actions::applies;
use super::command_bar::on_command_key;
use super::dialogs;
use super::logs::on_search_key;
use super::on_action;
use super::table::on_filter_key;
use crate::app::effect::Effect;
use crate::app::state::{AppState, Mode, View};
use crate::config::KeyContext;

pub(super) fn context_of(view: &View) -> KeyContext {
    match view {
        View::Table(_) => KeyContext::Table,
        View::Logs(_) => KeyContext::Logs,
        View::Describe(_) => KeyContext::Describe,
    }
}

pub(super) fn on_key(state: &mut AppState, key: KeyEvent, fx: &mut Vec<Effect>) {
    // ctrl-c always quits, whatever the keymap says: an operator must never be trapped.
    if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
        state.quit = true;
        return;
    }
    // The open dialog is taken out while its key is handled and put back (or replaced by
    // what its answer opened) by the handler's result.
    let mode = std::mem::replace(&mut state.mode, Mode::Normal);
    state.mode = match mode {
        Mode::Normal => {
            on_normal_key(state, key, fx);
            return;
        }
        Mode::Command(input) => on_command_key(state, input, key),
        Mode::Filter(input) => on_filter_key(state, input, key),
        Mode::Search(input) => on_search_key(state, input, key),
        Mode::SavePath(input) => dialogs::save_path(input, key, fx),
        Mode::Confirm(c) => dialogs::confirm(state, c, key, fx),
        Mode::Prompt(p) => dialogs::prompt(state, p, key, fx),
        Mode::Pick(p) => dialogs::pick(p, key, fx),
        Mode::Secret(p) => dialogs::secret(state, p, key, fx),
        Mode::ConfirmRun(c) => dialogs::confirm_run(state, c, key, fx),
        Mode::ConfirmQuit(work) => dialogs::confirm_quit(state, work, key, fx),
        Mode::Help { scroll } => dialogs::help(state, scroll, key),
    };
}

/// No dialog open: the keymap's action for the view on top.
fn on_normal_key(state: &mut AppState, key: KeyEvent, fx: &mut Vec<Effect>) {
    let ctx = context_of(state.top());
    let actions = state.settings.keymap.lookup_all(ctx, &key);
    // A key bound to several actions runs the first that applies to this table's kind.
    let action = match state.top() {
        View::Table(t) => actions
            .iter()
            .find(|a| applies(t.kind, **a))
            .or(actions.first())
            .copied(),
        _ => actions.first().copied(),
    };
    match action {
        Some(action) => on_action(state, action, fx),
        None => super::unbound::hint(state, &key),
    }
}
