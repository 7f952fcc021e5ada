//! `:run CMD`: a fleet command on the selected or all shown devices, always confirmed.

use crate::app::effect::Effect;
use crate::app::state::*;
use crate::model::{ResourceAction, ResourceKind};

/// `:run CMD`: on the selected device, or on every device the table shows when it is filtered
/// (`:devices prod` then `:run uptime` runs on the prod devices). Always confirmed.
pub(super) fn request_run(state: &mut AppState, command: &str) {
    let command = command.trim();
    if command.is_empty() {
        state.toast(
            "usage: :run COMMAND (on the selected device, or all shown when filtered)",
            true,
        );
        return;
    }
    let View::Table(t) = state.top() else {
        state.toast(":run works from the device table (:devices)", true);
        return;
    };
    if t.kind != ResourceKind::Device {
        state.toast(":run works from the device table (:devices)", true);
        return;
    }
    let targets: Vec<(crate::model::ResourceKey, String)> = if t.filter.is_some() {
        t.rows
            .iter()
            .map(|r| (r.key.clone(), r.name.clone()))
            .collect()
    } else {
        t.selected_row()
            .map(|r| vec![(r.key.clone(), r.name.clone())])
            .unwrap_or_default()
    };
    if targets.is_empty() {
        state.toast("no device to run on", true);
        return;
    }
    if state.read_only {
        state.toast(format!("read-only mode: run `{command}` refused"), true);
        state.pending_refusals = targets
            .into_iter()
            .map(|(key, name)| (key, name, ResourceAction::Run(command.to_string())))
            .collect();
        return;
    }
    state.mode = Mode::ConfirmRun(RunConfirm {
        targets,
        command: command.to_string(),
    });
}

pub(super) fn start_run(state: &mut AppState, c: RunConfirm, fx: &mut Vec<Effect>) {
    if state.read_only {
        state.toast(format!("read-only mode: run `{}` refused", c.command), true);
        for (key, name) in c.targets {
            fx.push(Effect::AuditRefused {
                key,
                name,
                action: ResourceAction::Run(c.command.clone()),
            });
        }
        return;
    }
    let mut view = TableView::new(ResourceKind::RunResult, None);
    view.refresh(
        state.data.get(&ResourceKind::RunResult),
        jiff::Timestamp::now(),
    );
    state.stack.push(View::Table(view));
    state.toast(
        format!("running `{}` on {} device(s)", c.command, c.targets.len()),
        false,
    );
    fx.push(Effect::RunCommand {
        targets: c.targets,
        command: c.command,
    });
}
