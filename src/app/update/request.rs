//! The path every resource action takes: read-only refusal, then its confirmation, then the effect.

use super::nav::open_kind;
use crate::app::effect::Effect;
use crate::app::state::*;
use crate::model::{Confirmation, ResourceAction, ResourceKind};

/// Read-only mode: say so and audit the refused attempt.
pub(super) fn refuse(
    state: &mut AppState,
    key: crate::model::ResourceKey,
    name: String,
    ra: ResourceAction,
    fx: &mut Vec<Effect>,
) {
    state.toast(
        format!("read-only mode: {} {name} refused", ra.name()),
        true,
    );
    fx.push(Effect::AuditRefused {
        key,
        name,
        action: ra,
    });
}

/// Run `ra` on the object, through read-only refusal and its confirmation first. `detail` is
/// a line the confirmation shows (the fingerprint being trusted, what an update does).
pub(super) fn request_action(
    state: &mut AppState,
    key: crate::model::ResourceKey,
    name: String,
    ra: ResourceAction,
    detail: Option<String>,
    fx: &mut Vec<Effect>,
) {
    let confirm = state.settings.config.confirm_destructive;
    if state.read_only && ra.is_mutating() {
        refuse(state, key, name, ra, fx);
        return;
    }
    match ra.confirmation(key.kind) {
        // Typing the name is never skipped: it guards whole stacks.
        Confirmation::TypeName => {
            state.mode = Mode::Confirm(Confirm {
                key,
                name,
                action: ra,
                typed: Some(Input::default()),
                detail,
                also: Vec::new(),
            })
        }
        Confirmation::YesNo if confirm => {
            state.mode = Mode::Confirm(Confirm {
                key,
                name,
                action: ra,
                typed: None,
                detail,
                also: Vec::new(),
            })
        }
        _ => act(state, key, name, ra, fx),
    }
}

/// [`request_action`] for `key` and the objects in `also` at once: one confirmation (its detail
/// names the others), then the action on each.
pub(super) fn request_action_for_all(
    state: &mut AppState,
    (key, name): (crate::model::ResourceKey, String),
    also: Vec<(crate::model::ResourceKey, String)>,
    ra: ResourceAction,
    fx: &mut Vec<Effect>,
) {
    let detail = (!also.is_empty()).then(|| {
        let names: Vec<&str> = also.iter().map(|(_, n)| n.as_str()).collect();
        format!("and {} more: {}", also.len(), names.join(", "))
    });
    let before = fx.len();
    request_action(state, key, name, ra.clone(), detail, fx);
    if let Mode::Confirm(c) = &mut state.mode {
        c.also = also;
    } else if fx[before..].iter().any(|e| matches!(e, Effect::Act { .. })) {
        // Not asked (confirmations off): the others go at once too.
        for (k, n) in also {
            act(state, k, n, ra.clone(), fx);
        }
    }
}

/// Emit the action. An update just started also opens the `:updates` view, so its progress
/// shows at once (the runtime starts the view's watch: it follows the navigation stack).
pub(super) fn act(
    state: &mut AppState,
    key: crate::model::ResourceKey,
    name: String,
    action: ResourceAction,
    fx: &mut Vec<Effect>,
) {
    let started_update = matches!(action, ResourceAction::StartUpdate(_));
    fx.push(Effect::Act { key, name, action });
    if started_update {
        open_kind(state, ResourceKind::DeviceUpdate, None);
    }
}
