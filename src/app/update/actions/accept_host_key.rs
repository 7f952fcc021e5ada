//! `A` on a device: trust the unknown host key the last poll saw, after the device's name is
//! typed. The dialog shows the fingerprint and the action carries it, so the backend trusts
//! that key and no other (a key switched after the poll is refused). Without an unknown key
//! there is nothing to accept; a changed or revoked key is never accepted.

use super::{RowAction, Selection};
use crate::app::effect::Effect;
use crate::app::state::AppState;
use crate::app::update::request::request_action;
use crate::model::{Capability, HostKeyState, ResourceAction};

pub(in crate::app::update) struct AcceptHostKey;

impl RowAction for AcceptHostKey {
    fn needs(&self) -> Capability {
        Capability::Act(ResourceAction::AcceptHostKey(String::new()))
    }

    fn start(&self, state: &mut AppState, on: &Selection, fx: &mut Vec<Effect>) {
        let row = &on.row;
        let problem = row.facts.host_key.as_ref();
        let fp = problem
            .filter(|p| p.state == HostKeyState::Unknown)
            .map(|p| p.fingerprint.clone());
        // Read-only mode refuses (and audits) the attempt even without a key to accept.
        let Some(fp) = fp.or_else(|| state.read_only.then(String::new)) else {
            let why = match problem.map(|p| p.state) {
                Some(HostKeyState::Changed) => {
                    "its host key CHANGED; fleetdeck never accepts a changed key"
                }
                Some(HostKeyState::Revoked) => "its host key is REVOKED",
                _ => "no unknown host key is recorded for it (yet)",
            };
            state.toast(format!("{}: {why}", row.name), true);
            return;
        };
        let detail = format!("Presented key: {fp}");
        let ra = ResourceAction::AcceptHostKey(fp);
        request_action(
            state,
            row.key.clone(),
            row.name.clone(),
            ra,
            Some(detail),
            fx,
        );
    }
}
