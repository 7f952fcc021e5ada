//! A device whose SSH key needs a passphrase: not a key press but a row fact. The masked prompt
//! opens by itself; the answer goes to the connection layer, which retries at once.

use crate::app::effect::{Effect, Secret};
use crate::app::state::{AppState, Input, Mode, SecretPrompt};
use crate::model::Resource;

/// Ask once per (key, failed attempts), when no other dialog is open. A wrong answer raises
/// the failure count, so the question comes again. A device's row travels only when it
/// changes, so a question that arrives while the operator is busy (command bar, a dialog)
/// waits for the next moment with no dialog open ([`ask_waiting`]) instead of being lost.
pub(in crate::app::update) fn ask_passphrase(state: &mut AppState, rows: &[Resource]) {
    for need in rows.iter().filter_map(|r| r.facts.passphrase.as_deref()) {
        let asked = state
            .asked_passphrases
            .contains(&(need.key_path.clone(), need.failures));
        if !asked && !state.waiting_passphrases.contains(need) {
            state.waiting_passphrases.push(need.clone());
        }
    }
    ask_waiting(state);
}

/// The first waiting question, if no other dialog is open.
pub(in crate::app::update) fn ask_waiting(state: &mut AppState) {
    if !matches!(state.mode, Mode::Normal) || state.waiting_passphrases.is_empty() {
        return;
    }
    let need = state.waiting_passphrases.remove(0);
    state
        .asked_passphrases
        .insert((need.key_path.clone(), need.failures));
    state.mode = Mode::Secret(SecretPrompt {
        key_path: need.key_path,
        input: Input::default(),
    });
    state.dirty = true;
}

/// The answer: handed to the connection layer (never logged: [`Secret`]).
pub(in crate::app::update) fn answered(
    state: &mut AppState,
    p: SecretPrompt,
    text: String,
    fx: &mut Vec<Effect>,
) {
    state.toast(format!("trying the passphrase for {}", p.key_path), false);
    fx.push(Effect::ProvidePassphrase {
        key_path: p.key_path.into(),
        passphrase: Secret(text),
    });
}
