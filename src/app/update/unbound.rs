//! A key the keymap does not bind in this view says so, briefly, and where the keys are:
//! "x: no action here — ? lists the keys". Modifier keys alone and lock/media keys say nothing.

use crossterm::event::{KeyCode, KeyEvent};

use super::keys::context_of;
use crate::app::action::Action;
use crate::app::state::AppState;
use crate::config::{KeyChord, KeyContext};

pub(super) fn hint(state: &mut AppState, key: &KeyEvent) {
    if silent(key.code) {
        return;
    }
    let label = KeyChord::from_event(key).label();
    let keymap = &state.settings.keymap;
    let help = keymap
        .keys_for(context_of(state.top()), Action::Help)
        .into_iter()
        .next()
        .or_else(|| {
            keymap
                .keys_for(KeyContext::Global, Action::Help)
                .into_iter()
                .next()
        });
    let text = match help {
        Some(h) => format!("{label}: no action here — {h} lists the keys"),
        None => format!("{label}: no action here"),
    };
    state.toast(text, false);
}

/// Keys that are not a request: a modifier pressed alone (kitty keyboard protocol), lock keys,
/// media keys.
fn silent(code: KeyCode) -> bool {
    matches!(
        code,
        KeyCode::Modifier(_)
            | KeyCode::Media(_)
            | KeyCode::CapsLock
            | KeyCode::NumLock
            | KeyCode::ScrollLock
            | KeyCode::PrintScreen
            | KeyCode::Pause
            | KeyCode::Menu
            | KeyCode::KeypadBegin
            | KeyCode::Null
    )
}
