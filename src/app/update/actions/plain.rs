//! Every backend action a key stands for without an argument (start, stop, restart, kill,
//! remove, redeploy, rollback, drain, pause, activate, abort, commit, clear failed, reboot):
//! refused in read-only mode, confirmed as its `Confirmation` says, then run. What it offers
//! next (a rollback's reboot) comes back with its result and is asked in a dialog
//! (`Msg::ActionDone`).

use super::{RowAction, Selection};
use crate::app::action::Action;
use crate::app::effect::Effect;
use crate::app::state::AppState;
use crate::app::update::request::{request_action, request_action_for_all};
use crate::model::{Capability, Resource, ResourceAction, ResourceKey};

pub(in crate::app::update) struct Plain(pub ResourceAction);

impl RowAction for Plain {
    fn needs(&self) -> Capability {
        Capability::Act(self.0.clone())
    }

    fn start(&self, state: &mut AppState, on: &Selection, fx: &mut Vec<Effect>) {
        let (key, name) = (on.row.key.clone(), on.row.name.clone());
        if let Some(why) = super::preflight::refusal(&on.row, &self.0) {
            state.toast(why, true);
            return;
        }
        let also = held_others(&self.0, on);
        if also.is_empty() {
            request_action(state, key, name, self.0.clone(), None, fx);
        } else {
            request_action_for_all(state, (key, name), also, self.0.clone(), fx);
        }
    }
}

/// `c` on a held device of a filtered table commits every held device the table shows (of the
/// same source): the filter is the selection, as it is for an update. Empty otherwise.
fn held_others(action: &ResourceAction, on: &Selection) -> Vec<(ResourceKey, String)> {
    let held = |r: &Resource| {
        r.facts
            .update_guard
            .as_ref()
            .is_some_and(|g| g.held && g.rollout.is_some())
    };
    match (action, &on.filtered) {
        (ResourceAction::Commit, Some(rows)) if held(&on.row) => rows
            .iter()
            .filter(|r| r.key != on.row.key && r.key.source == on.row.key.source && held(r))
            .map(|r| (r.key.clone(), r.name.clone()))
            .collect(),
        _ => Vec::new(),
    }
}

/// The backend action a key action stands for, when it is a plain one (no argument, no dialog
/// of its own).
pub(in crate::app::update) fn resource_action(action: Action) -> Option<ResourceAction> {
    Some(match action {
        Action::Start => ResourceAction::Start,
        Action::Stop => ResourceAction::Stop,
        Action::Restart => ResourceAction::Restart,
        Action::Kill => ResourceAction::Kill,
        Action::Remove => ResourceAction::Remove,
        Action::Redeploy => ResourceAction::Redeploy,
        Action::Rollback => ResourceAction::Rollback,
        Action::Drain => ResourceAction::Drain,
        Action::PauseNode => ResourceAction::Pause,
        Action::Activate => ResourceAction::Activate,
        Action::AbortDeployment => ResourceAction::AbortDeployment,
        Action::Commit => ResourceAction::Commit,
        Action::ClearFailed => ResourceAction::ClearFailed,
        Action::Reboot => ResourceAction::Reboot,
        Action::CloseForward => ResourceAction::CloseForward,
        Action::ClearFinished => ResourceAction::ClearFinished,
        _ => return None,
    })
}
