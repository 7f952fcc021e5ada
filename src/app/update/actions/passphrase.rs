//! A device whose key needs a passphrase: the masked prompt.

use crate::app::state::*;

/// A device needs a key's passphrase: ask once per (key, failed attempts), when no other
/// dialog is open. A wrong answer raises the failure count, so the question comes again.
pub(in crate::app::update) fn ask_passphrase(
    state: &mut AppState,
    rows: &[crate::model::Resource],
) {
    if !matches!(state.mode, Mode::Normal) {
        return;
    }
    for r in rows {
        let Some(path) = r.labels.get("passphrase_needed") else {
            continue;
        };
        let failures = r
            .labels
            .get("passphrase_failures")
            .cloned()
            .unwrap_or_default();
        if state.asked_passphrases.insert((path.clone(), failures)) {
            state.mode = Mode::Secret(SecretPrompt {
                key_path: path.clone(),
                input: Input::default(),
            });
            state.dirty = true;
            return;
        }
    }
}
