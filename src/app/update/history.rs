//! `-`, `[` and `]`: moving through the `:kind` jumps (`app::history`), and the view restored
//! at start (`app::last_view`).

use super::nav::show_memo;
use crate::app::action::Action;
use crate::app::effect::Effect;
use crate::app::history::{History, ViewMemo};
use crate::app::state::{AppState, View};

/// A history key: shows the entry it leads to, or says there is none. False for other actions.
pub(super) fn on_history_action(
    state: &mut AppState,
    action: Action,
    fx: &mut Vec<Effect>,
) -> bool {
    if !matches!(
        action,
        Action::PreviousView | Action::HistoryBack | Action::HistoryForward
    ) {
        return false;
    }
    // The view left is shown as it was when it comes back.
    if let Some(left) = crate::app::last_view::current(state) {
        state.history.update_current(left);
    }
    let to = match action {
        Action::PreviousView => state.history.toggle(),
        Action::HistoryBack => state.history.back(),
        _ => state.history.forward(),
    }
    .cloned();
    match to {
        Some(memo) => {
            // A log view under the jump stops streaming (the runtime keeps one log stream).
            if state.stack.iter().any(|v| matches!(v, View::Logs(_))) {
                fx.push(Effect::CloseLogs);
            }
            show_memo(state, &memo);
        }
        None => {
            let what = match action {
                Action::HistoryForward => "no later view (] goes forward after [)",
                _ => "no earlier view: :kind jumps are kept here",
            };
            state.toast(what, false);
        }
    }
    true
}

/// Start on `memo` (the remembered last view): its kind, filter and sort, a fresh history.
pub fn restore_view(state: &mut AppState, memo: &ViewMemo) {
    state.history = History::new(memo.clone());
    show_memo(state, memo);
}
