//! The update dialog's pre-flight check (#15): before the y/n, each device's row says what an
//! update would run into — the failed flag, unreachable, a rollout already driving it, a Mender
//! daemon managing the client. Each is a warning line naming the devices, and those devices
//! are skipped: the request carries them with the reason, the rollout records them `skipped`
//! (shown in :updates) and never starts them. Why here and not in the engine only: the
//! operator decides with the warnings in front of them, instead of a start that fails at once.

use crate::app::state::AppState;
use crate::model::{ResourceAction, ResourceKey, ResourceKind, SkippedDevice, UpdateGuard};

/// One reason to skip, in the order the dialog lists them: (warning head, reason recorded).
fn reasons(g: &UpdateGuard) -> Option<(String, String)> {
    if let Some(r) = &g.rollout {
        return Some((
            format!("already being updated by rollout {r}"),
            format!("already being updated by rollout {r}"),
        ));
    }
    if let Some(why) = &g.unreachable {
        return Some((
            "unreachable".into(),
            format!("unreachable at the start ({why})"),
        ));
    }
    if let Some(flag) = &g.failed_flag {
        return Some((
            "failed flag set (clear it with C first)".into(),
            format!("the failed flag {flag} is set: clear it first (C)"),
        ));
    }
    if let Some(d) = &g.mender_daemon {
        return Some((
            format!("managed by its Mender server ({d}): deploy through the server"),
            format!(
                "managed by its Mender server ({d} is running): deploy through the server \
                 (:mdevices, U) or stop the daemon"
            ),
        ));
    }
    None
}

/// Check an update request against the devices' rows before it is confirmed: the request
/// with its skipped devices, and the dialog's detail with a `⚠` line per reason. Err when
/// every device would be skipped (the prompt stays open and says why).
pub(in crate::app::update) fn check(
    state: &AppState,
    key: &ResourceKey,
    action: ResourceAction,
    detail: Option<String>,
) -> Result<(ResourceAction, Option<String>), String> {
    let ResourceAction::StartUpdate(mut req) = action else {
        return Ok((action, detail));
    };
    let rows = state
        .data
        .get(&ResourceKind::Device)
        .and_then(|by| by.get(&key.source));
    // (warning head, devices) in first-seen order.
    let mut warnings: Vec<(String, Vec<String>)> = Vec::new();
    for device in &req.devices {
        let guard = rows
            .and_then(|rs| rs.iter().find(|r| &r.key.id == device))
            .and_then(|r| r.facts.update_guard.as_deref());
        let Some((head, reason)) = guard.and_then(reasons) else {
            continue;
        };
        match warnings.iter_mut().find(|(h, _)| *h == head) {
            Some((_, ds)) => ds.push(device.clone()),
            None => warnings.push((head, vec![device.clone()])),
        }
        req.skip.push(SkippedDevice {
            device: device.clone(),
            reason,
        });
    }
    if req.skip.is_empty() {
        return Ok((ResourceAction::StartUpdate(req), detail));
    }
    let lines: Vec<String> = warnings
        .iter()
        .map(|(head, ds)| format!("⚠ {head}, skipped: {}", ds.join(", ")))
        .collect();
    if req.skip.len() == req.devices.len() {
        return Err(format!(
            "nothing to update: {}",
            lines.join("; ").replace("⚠ ", "")
        ));
    }
    let mut text = lines.join("\n");
    if let Some(d) = detail {
        text.push('\n');
        text.push_str(&d);
    }
    Ok((ResourceAction::StartUpdate(req), Some(text)))
}

/// Commit and rollback by hand on a device a rollout drives are refused before the y/n, with
/// the way out (a held device is answered through its rollout, so it is asked as usual).
pub(in crate::app::update) fn refusal(
    row: &crate::model::Resource,
    action: &ResourceAction,
) -> Option<String> {
    if !matches!(action, ResourceAction::Commit | ResourceAction::Rollback) {
        return None;
    }
    let g = row.facts.update_guard.as_ref()?;
    let rollout = g.rollout.as_ref().filter(|_| !g.held)?;
    Some(crate::rollout::engine::driven_by(&row.name, rollout))
}
