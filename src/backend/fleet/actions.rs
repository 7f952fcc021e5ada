//! Device and rollout actions: the manual update steps (commit, rollback, clear the failed
//! flag, reboot) through the rollout driver, rollout control, starting a rollout, trusting
//! an unknown host key; and `describe` (a device, a rollout, one device's update).

use std::sync::Arc;

use anyhow::{anyhow, bail};

use super::{Conn, Device, FleetBackend, updates};
use crate::model::{ActionOutcome, ResourceAction, ResourceKey, ResourceKind, UpdateRequest};
use crate::rollout::driver::AtHold;
use crate::rollout::engine::RolloutState;
use crate::ssh::client::{self, SshError};
use crate::ssh::known_hosts;

/// Run `action` on a device, a rollout or one device's update.
pub(super) async fn act(
    b: &FleetBackend,
    target: &ResourceKey,
    action: &ResourceAction,
) -> anyhow::Result<ActionOutcome> {
    use crate::rollout::driver;
    let manual = matches!(
        action,
        ResourceAction::Commit
            | ResourceAction::Rollback
            | ResourceAction::ClearFailed
            | ResourceAction::Reboot
    );
    if !manual || target.kind == ResourceKind::Rollout {
        return act_plain(b, target, action).await.map(Into::into);
    }
    // An update row's id is `ROLLOUT/DEVICE`: its actions are the device's.
    let device_id = match target.kind {
        ResourceKind::DeviceUpdate => target.id.rsplit('/').next().unwrap_or(&target.id),
        _ => target.id.as_str(),
    };
    // A held device (`verified, waiting for commit`) is answered through its rollout.
    if matches!(action, ResourceAction::Commit | ResourceAction::Rollback)
        && let Some(rollout) = b.updates.held_in(device_id)
    {
        let answer = if *action == ResourceAction::Commit {
            AtHold::Commit
        } else {
            AtHold::RollBack
        };
        return b
            .updates
            .release(&rollout, Some(device_id), answer)
            .map(Into::into)
            .map_err(|e| anyhow!(e));
    }
    if let Some(rollout) = b.updates.driving(device_id) {
        bail!("{}", crate::rollout::engine::driven_by(device_id, &rollout));
    }
    let t =
        (updates::targets(&b.inner))(device_id).ok_or_else(|| anyhow!("no device {device_id}"))?;
    if *action == ResourceAction::Reboot {
        return driver::reboot(&*t.link, &t.plan, b.updates.poll(), device_id)
            .await
            .map(Into::into)
            .map_err(|e| anyhow!(e));
    }
    let last = b.updates.latest(device_id);
    let done = driver::manual(&*t.link, &t.plan, device_id, action, last.as_ref())
        .await
        .map_err(|e| anyhow!(e))?;
    if *action == ResourceAction::Rollback && done.nothing_in_progress {
        return Ok(go_back(b, device_id, done.message));
    }
    Ok(ActionOutcome {
        message: done.message,
        offer: done.reboot_needed.then_some(ResourceAction::Reboot),
    })
}

/// Nothing to roll back (the update was committed): offer an update back to the artifact
/// the device ran before, when a rollout of this fleet recorded where it came from. The
/// console confirms it like any update; the message names both artifacts.
fn go_back(b: &FleetBackend, device: &str, nothing: String) -> ActionOutcome {
    let Some(prev) = b.updates.previous_artifact(device) else {
        return ActionOutcome {
            message: format!(
                "{nothing}; fleetdeck has no recorded source of the artifact before this one to \
                 go back to (update it with U)"
            ),
            offer: None,
        };
    };
    ActionOutcome {
        message: format!(
            "{nothing}: it runs {} (committed). Go back to the previous artifact {} from {}?",
            prev.current, prev.name, prev.source
        ),
        offer: Some(ResourceAction::StartUpdate(UpdateRequest {
            artifact: prev.source,
            devices: vec![device.to_string()],
            ..UpdateRequest::EMPTY
        })),
    }
}

/// The device, rollout or device update as YAML.
pub(super) async fn describe(b: &FleetBackend, target: &ResourceKey) -> anyhow::Result<String> {
    if matches!(
        target.kind,
        ResourceKind::Rollout | ResourceKind::DeviceUpdate
    ) {
        let doc = b
            .updates
            .describe(target.kind, &target.id)
            .ok_or_else(|| anyhow!("no update {}", target.id))?;
        return Ok(serde_saphyr::to_string(&doc)?);
    }
    let name = target.id.split('/').next().unwrap_or(&target.id);
    let dev = b
        .inner
        .device(name)
        .ok_or_else(|| anyhow!("no device {name}"))?;
    let st = dev.status();
    let state = match &st.conn {
        Conn::Connecting => "connecting".to_string(),
        Conn::Up => "up".into(),
        Conn::Down(e) => e.to_string(),
        Conn::Error(e) => e.clone(),
    };
    let route: Vec<String> = if dev.spec.is_local() {
        vec![super::file::LOCAL_HOST.to_string()]
    } else {
        dev.route
            .hops
            .iter()
            .map(|h| format!("{}@{}:{}", h.user, h.host, h.port))
            .collect()
    };
    let doc = serde_json::json!({
        "device": dev.spec,
        "route": route,
        "state": state,
        "updated": st.updated.map(|t| t.to_string()),
        "facts": st.facts,
    });
    Ok(serde_saphyr::to_string(&doc)?)
}

/// Every action but the manual update ones ([`act`]).
async fn act_plain(
    b: &FleetBackend,
    target: &ResourceKey,
    action: &ResourceAction,
) -> anyhow::Result<String> {
    if *action == ResourceAction::ClearFinished {
        return b.updates.clear_finished().await.map_err(|e| anyhow!(e));
    }
    if target.kind == ResourceKind::Rollout && *action == ResourceAction::Commit {
        // `c` on a rollout commits every device it holds before commit.
        return b
            .updates
            .release(&target.id, None, AtHold::Commit)
            .map_err(|e| anyhow!(e));
    }
    if target.kind == ResourceKind::Rollout {
        let wish = match action {
            ResourceAction::Pause => RolloutState::Paused,
            ResourceAction::Activate => RolloutState::Running,
            ResourceAction::AbortDeployment => RolloutState::Aborted,
            other => bail!("{} is not available for rollouts", other.name()),
        };
        return b
            .updates
            .control(&target.id, wish)
            .await
            .map_err(|e| anyhow!(e));
    }
    if let ResourceAction::StartUpdate(req) = action {
        let id = b.updates.start(req).await.map_err(|e| anyhow!(e))?;
        return Ok(format!("rollout {id} started: {}", req.label()));
    }
    let dev = b
        .inner
        .device(&target.id)
        .ok_or_else(|| anyhow!("no device {}", target.id))?;
    match action {
        ResourceAction::AcceptHostKey(confirmed) => {
            accept_host_key(b, dev, &target.id, confirmed).await
        }
        other => bail!("{} is not available for devices", other.name()),
    }
}
/// Trust `dev`'s unknown host key, but only the key whose fingerprint the operator saw in
/// the dialog (`confirmed`). The device is asked again now, and a different key presented
/// now (a MITM switching keys after the poll) is refused with both fingerprints: the check
/// and the write concern the same key, the one of this very handshake.
async fn accept_host_key(
    b: &FleetBackend,
    dev: &Device,
    name: &str,
    confirmed: &str,
) -> anyhow::Result<String> {
    if confirmed.is_empty() {
        bail!("no host key fingerprint was confirmed for {name}; nothing trusted");
    }
    if dev.spec.is_local() {
        bail!("{name} is this machine (host: local): it has no SSH host key");
    }
    b.inner.forget(dev).await;
    match client::connect(&dev.route, &b.inner.opts).await {
        Ok(c) => {
            dev.conn.put(Arc::new(c)).await;
            dev.wake.notify_one();
            bail!("the host key of {name} is already trusted")
        }
        Err(SshError::UnknownHostKey {
            host,
            port,
            fingerprint,
            key,
        }) => {
            if fingerprint != confirmed {
                let e = SshError::UnknownHostKey {
                    host,
                    port,
                    fingerprint: fingerprint.clone(),
                    key,
                };
                // The row shows the key presented now, for a decision about that one.
                dev.set_conn(Conn::Down(e));
                dev.wake.notify_one();
                bail!(
                    "refused: {name} now presents {fingerprint}, not the {confirmed} you \
                     confirmed; nothing was trusted"
                );
            }
            // The hop whose key is unknown: the device or one of its jump hosts.
            let hop = dev
                .route
                .hops
                .iter()
                .find(|h| known_hosts::host_port(&h.key_name, h.port) == host)
                .unwrap_or(dev.route.dest());
            let file = b
                .inner
                .file
                .known_hosts
                .clone()
                .or_else(|| dev.spec.known_hosts.first().cloned())
                .unwrap_or_else(|| b.inner.opts.user_known_hosts.clone());
            known_hosts::learn(&file, &hop.key_name, hop.port, &key)
                .map_err(|e| anyhow!("write {}: {e}", file.display()))?;
            dev.wake.notify_one();
            Ok(format!(
                "trusted {fingerprint} for {} in {}",
                known_hosts::host_port(&hop.key_name, hop.port),
                file.display()
            ))
        }
        Err(e @ SshError::ChangedHostKey { .. }) => Err(anyhow!(
            "refused: {e} (you confirmed {confirmed}). fleetdeck never replaces a changed key"
        )),
        Err(e) => {
            dev.set_conn(Conn::Down(e.clone()));
            dev.wake.notify_one();
            bail!("the host key is not unknown: {e}")
        }
    }
}
