//! A device whose SSH key needs a passphrase: not a key press but a row fact. The masked prompt
//! opens by itself; the answer goes to the connection layer, which retries at once.

use crate::app::effect::{Effect, Secret};
use crate::app::state::{AppState, Input, Mode, SecretPrompt};
use crate::model::Resource;

/// Ask once per (key, failed attempts), when no other dialog is open. A wrong answer raises
/// the failure count, so the question comes again.
pub(in crate::app::update) fn ask_passphrase(state: &mut AppState, rows: &[Resource]) {
    if !matches!(state.mode, Mode::Normal) {
        return;
    }
    for need in rows.iter().filter_map(|r| r.facts.passphrase.as_ref()) {
        if state
            .asked_passphrases
            .insert((need.key_path.clone(), need.failures))
        {
            state.mode = Mode::Secret(SecretPrompt {
                key_path: need.key_path.clone(),
                input: Input::default(),
            });
            state.dirty = true;
            return;
        }
    }
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
