//! Which key actions apply to which kind, and the backend action a key stands for.

use crate::app::action::Action;
use crate::model::{ResourceAction, ResourceKind, UpdateRequest};

pub(super) mod accept_host_key;
pub(super) mod passphrase;
pub(super) mod update;

/// Does `action` do anything on a table of `kind`? Help and footer hints list only these.
pub fn applies(kind: ResourceKind, action: Action) -> bool {
    let spec = kind.spec();
    match action {
        Action::Logs => spec.has_logs,
        Action::Shell => spec.has_shell,
        Action::Scale => kind.offers(&ResourceAction::Scale(0)),
        Action::Sandbox => kind == ResourceKind::Device,
        Action::CreateDeployment => kind == ResourceKind::MenderDevice,
        Action::Update => kind.offers(&ResourceAction::StartUpdate(UpdateRequest::EMPTY)),
        a => match resource_action(a) {
            Some(ra) => kind.offers(&ra),
            None => true,
        },
    }
}

/// Upper bound of a scale dialog: a typo of 30000 instead of 3 should not reach the cluster.
pub(in crate::app::update) const MAX_REPLICAS: u64 = 1000;

/// The backend action a key action stands for, when it is one.
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
        // The fingerprint comes from the row ([`accept_host_key`]).
        Action::AcceptHostKey => ResourceAction::AcceptHostKey(String::new()),
        Action::AbortDeployment => ResourceAction::AbortDeployment,
        Action::Commit => ResourceAction::Commit,
        Action::ClearFailed => ResourceAction::ClearFailed,
        Action::Reboot => ResourceAction::Reboot,
        _ => return None,
    })
}
