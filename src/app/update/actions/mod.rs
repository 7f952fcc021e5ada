//! Row actions as units. Each key that acts on the selected row has one [`RowAction`]: where it
//! applies (the [`Capability`] it needs, answered by the kind registry), how it starts (a
//! dialog, or the backend action through its confirmation) and, for the ones that ask, what
//! it does with the answer. The table handler knows no kind and no action in particular.
//!
//! - `view.rs` — logs and shell: open a view or a session.
//! - `plain.rs` — every plain backend action (start, stop, rollback, commit, reboot ...).
//! - `scale.rs`, `create_deployment.rs`, `update.rs` — a prompt for the argument, then confirmed.
//! - `sandbox.rs` — a picker, then a shell. `accept_host_key.rs` — a typed confirmation.
//! - `preflight.rs` — the update dialog's warnings and skipped devices; commit/rollback
//!   refused before asking on a device a rollout drives.
//! - `passphrase.rs` — not a key: a device that needs a key's passphrase asks for it.

use std::sync::Arc;

use crate::app::action::Action;
use crate::app::effect::Effect;
use crate::app::state::{AppState, PromptFor, TableView};
use crate::model::{Capability, KindSpec, Resource, ResourceAction, ResourceKind};

pub(super) mod accept_host_key;
pub(super) mod create_deployment;
pub(super) mod forward;
pub(super) mod passphrase;
pub(super) mod plain;
pub(super) mod preflight;
pub(super) mod sandbox;
pub(super) mod scale;
pub(super) mod update;
pub(super) mod view;

/// One action on the selected row.
pub(super) trait RowAction {
    /// Where it applies: what the row's kind must offer ([`KindSpec::has`]).
    fn needs(&self) -> Capability;

    /// What to tell the operator on a kind that does not offer it.
    fn unavailable(&self, spec: &KindSpec) -> String {
        let what = match self.needs() {
            Capability::Act(a) => a.name(),
            Capability::Logs => "logs",
            Capability::Shell => "shell",
            Capability::Sandboxes => "sandbox",
        };
        format!("{what} is not available for {}", spec.title.to_lowercase())
    }

    /// How it starts on `on` (whose kind offers it): a dialog, or the action through its
    /// read-only refusal and confirmation.
    fn start(&self, state: &mut AppState, on: &Selection, fx: &mut Vec<Effect>);
}

/// The unit of a key action, if it acts on the selected row.
pub(super) fn unit(action: Action) -> Option<Box<dyn RowAction>> {
    Some(match action {
        Action::Logs => Box::new(view::Logs),
        Action::Shell => Box::new(view::Shell),
        Action::Sandbox => Box::new(sandbox::Sandbox),
        Action::Scale => Box::new(scale::Scale),
        Action::CreateDeployment => Box::new(create_deployment::CreateDeployment),
        Action::Update => Box::new(update::Update),
        Action::AcceptHostKey => Box::new(accept_host_key::AcceptHostKey),
        Action::PortForward => Box::new(forward::PortForward),
        other => Box::new(plain::resource_action(other).map(plain::Plain)?),
    })
}

/// Does `action` do anything on a table of `kind`? Help, the footer hints and keys bound to
/// several actions ask this; actions that are not row actions (movement, filter) apply anywhere.
pub fn applies(kind: ResourceKind, action: Action) -> bool {
    unit(action).is_none_or(|u| kind.has(&u.needs()))
}

/// The selected row, and the rows a group action is for.
pub(super) struct Selection {
    pub row: Arc<Resource>,
    /// The rows the table shows when it is filtered: a deployment or an update is for all of
    /// them (those of the selection's source).
    pub filtered: Option<Vec<Arc<Resource>>>,
}

impl Selection {
    pub fn of(t: &TableView, row: Arc<Resource>) -> Selection {
        Selection {
            filtered: t.filter.is_some().then(|| t.rows.clone()),
            row,
        }
    }

    /// The devices a deployment or an update is for: every row the table shows of the
    /// selection's source when it is filtered, else the selection; and how to name them
    /// ("gw-1", "3 devices").
    pub fn targets(&self) -> (Vec<String>, String) {
        let row = &self.row;
        let devices: Vec<String> = match &self.filtered {
            Some(rows) => rows
                .iter()
                .filter(|r| r.key.source == row.key.source)
                .map(|r| r.key.id.clone())
                .collect(),
            None => vec![row.key.id.clone()],
        };
        let name = if devices.len() == 1 {
            row.name.clone()
        } else {
            format!("{} devices", devices.len())
        };
        (devices, name)
    }
}

/// What a prompt's answer does: the backend action it asks for (then confirmed) and a line for
/// the confirmation; or why the answer is not one (the prompt stays open and says so).
pub(super) fn answer(
    purpose: &PromptFor,
    text: &str,
) -> Result<(ResourceAction, Option<String>), String> {
    match purpose {
        PromptFor::Scale => scale::answer(text),
        PromptFor::Deployment(devices) => create_deployment::answer(text, devices),
        PromptFor::Update(devices) => update::answer(text, devices),
        PromptFor::Forward => forward::answer(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every backend action a kind lists has a key that starts it (Switch is Enter), and every
    /// row action applies somewhere: the registry and the units cannot drift apart.
    #[test]
    fn the_registry_and_the_units_agree() {
        for kind in ResourceKind::all() {
            for offered in kind.spec().actions {
                if *offered == ResourceAction::Switch {
                    continue;
                }
                let started_by = Action::ALL.iter().find(|a| {
                    unit(**a).is_some_and(|u| u.needs() == Capability::Act(offered.clone()))
                });
                assert!(
                    started_by.is_some(),
                    "{kind:?} offers `{}` but no key starts it",
                    offered.name()
                );
            }
        }
        for a in Action::ALL {
            if unit(*a).is_some() {
                assert!(
                    ResourceKind::all().any(|k| applies(k, *a)),
                    "`{}` applies to no kind",
                    a.name()
                );
            }
        }
    }

    #[test]
    fn applies_reads_the_registry() {
        let only = |a: Action| -> Vec<ResourceKind> {
            ResourceKind::all().filter(|k| applies(*k, a)).collect()
        };
        assert_eq!(only(Action::Sandbox), vec![ResourceKind::Device]);
        assert_eq!(
            only(Action::CreateDeployment),
            vec![ResourceKind::MenderDevice]
        );
        assert_eq!(only(Action::Update), vec![ResourceKind::Device]);
        assert!(applies(ResourceKind::Service, Action::Scale));
        assert!(!applies(ResourceKind::Container, Action::Scale));
        // Not row actions: everywhere.
        assert!(applies(ResourceKind::Image, Action::Filter));
        assert!(applies(ResourceKind::Image, Action::Describe));
    }
}
