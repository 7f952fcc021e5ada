//! `A` on a device: trusting the unknown host key the last poll saw.

use super::super::request::request_action;
use crate::app::effect::Effect;
use crate::app::state::*;
use crate::model::ResourceAction;

/// `A` on a device: the dialog shows the fingerprint of the unknown key the last poll saw, and
/// the action carries it, so the backend trusts that key and no other (a key switched after
/// the poll is refused). Without an unknown key there is nothing to accept.
pub(in crate::app::update) fn accept_host_key(
    state: &mut AppState,
    row: &crate::model::Resource,
    fx: &mut Vec<Effect>,
) {
    let fp = row
        .labels
        .get("fingerprint")
        .filter(|_| row.labels.get("host_key").map(String::as_str) == Some("unknown"));
    let Some(fp) = fp.cloned().or_else(|| state.read_only.then(String::new)) else {
        let why = match row.labels.get("host_key").map(String::as_str) {
            Some("changed") => "its host key CHANGED; fleetdeck never accepts a changed key",
            Some("revoked") => "its host key is REVOKED",
            _ => "no unknown host key is recorded for it (yet)",
        };
        state.toast(format!("{}: {why}", row.name), true);
        return;
    };
    let detail = format!("Presented key: {fp}");
    let ra = ResourceAction::AcceptHostKey(fp);
    request_action(state, row.key.clone(), row.name.clone(), ra, fx);
    if let Mode::Confirm(c) = &mut state.mode {
        c.detail = Some(detail);
    }
}
