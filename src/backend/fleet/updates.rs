//! The fleet's side of updates (src/rollout): a [`DeviceLink`] over the device's
//! [`super::Session`] (its SSH session, or local processes for `host: local`), the rollout
//! store of this fleet, and the `:rollouts` / `:updates` snapshots.

use std::path::Path;
use std::sync::{Arc, Weak};
use std::time::Duration;

use async_trait::async_trait;

use super::facts::sh_quote;
use super::{Device, Inner};
use crate::backend::report::{Reporter, log_ended, log_lines};
use crate::backend::{EventTx, StreamId};
use crate::model::{LogLine, LogOpts, ResourceKind, StyledText};
use crate::rollout::driver::Plan;
use crate::rollout::engine::{DeviceTarget, Targets, Updates};
use crate::rollout::link::{DeviceLink, LineSplitter};

/// Output kept from one command (an updater's answer is short; a flood is cut).
const OUTPUT_LIMIT: usize = 64 * 1024;

/// One device as the rollout driver sees it; the same for SSH and local devices.
pub struct FleetLink {
    inner: Arc<Inner>,
    dev: Arc<Device>,
}

impl FleetLink {
    /// The command as the device runs it: through `sudo -n sh -c` when the fleet file says
    /// `sudo: true` (never prompts: a missing sudo rule fails with sudo's own message).
    fn wrap(&self, cmd: &str) -> String {
        if self.dev.spec.update.sudo {
            format!("sudo -n sh -c {}", sh_quote(cmd))
        } else {
            cmd.to_string()
        }
    }
}

#[async_trait]
impl DeviceLink for FleetLink {
    async fn run(&self, cmd: &str, timeout: Duration) -> Result<(i64, String), String> {
        let cmd = self.wrap(cmd);
        match tokio::time::timeout(timeout, self.inner.run(&self.dev, &cmd, OUTPUT_LIMIT)).await {
            Ok(r) => r,
            Err(_) => {
                self.inner.forget(&self.dev).await;
                Err(format!("no answer within {}s", timeout.as_secs()))
            }
        }
    }

    async fn stream(
        &self,
        cmd: &str,
        line: &mut (dyn for<'a> FnMut(&'a str) + Send),
    ) -> Result<i64, String> {
        let conn = self
            .inner
            .session(&self.dev)
            .await
            .map_err(|e| e.to_string())?;
        let mut split = LineSplitter::default();
        let code = conn
            .exec_each(&self.wrap(cmd), &mut |data: &[u8]| split.push(data, line))
            .await
            .map_err(|e| e.to_string());
        split.flush(line);
        Ok(code?.map(i64::from).unwrap_or(-1))
    }

    async fn upload(
        &self,
        local: &Path,
        remote: &str,
        progress: &mut (dyn FnMut(u8) + Send),
    ) -> Result<(), String> {
        let file = tokio::fs::File::open(local)
            .await
            .map_err(|e| format!("{}: {e}", local.display()))?;
        let size = file.metadata().await.map(|m| m.len()).unwrap_or(0).max(1);
        let conn = self
            .inner
            .session(&self.dev)
            .await
            .map_err(|e| e.to_string())?;
        let (q, tmp) = (sh_quote(remote), sh_quote(&format!("{remote}.part")));
        let cmd = self.wrap(&format!(
            "mkdir -p \"$(dirname {q})\" && cat > {tmp} && mv -f {tmp} {q}"
        ));
        let mut last = 0u8;
        let (code, out) = conn
            .exec_with_input(&cmd, file, &mut |sent| {
                let p = u8::try_from(sent.saturating_mul(100) / size).unwrap_or(100);
                if p != last {
                    last = p;
                    progress(p);
                }
            })
            .await
            .map_err(|e| e.to_string())?;
        match code {
            Some(0) => Ok(()),
            c => Err(format!(
                "writing {remote} exited {}: {}",
                c.map(|c| c.to_string())
                    .unwrap_or_else(|| "by signal".into()),
                out.trim()
            )),
        }
    }

    async fn disconnect(&self) {
        self.inner.forget(&self.dev).await;
    }
}

/// How the fleet's devices are found by the rollouts (weak: the store must not keep the
/// backend alive).
pub fn targets(inner: &Arc<Inner>) -> Targets {
    let weak: Weak<Inner> = Arc::downgrade(inner);
    Arc::new(move |name: &str| {
        let inner = weak.upgrade()?;
        let dev = inner.device(name)?.clone();
        let plan = Plan {
            updater: dev.spec.updater,
            custom: dev.spec.custom_updater.clone(),
            settings: dev.spec.update.clone(),
        };
        Some(DeviceTarget {
            link: Arc::new(FleetLink { inner, dev }),
            plan,
        })
    })
}

/// Snapshots of `:rollouts` or `:updates` now and after every change (at most 10 a second).
pub async fn watch(updates: Updates, inner: Arc<Inner>, kind: ResourceKind, tx: EventTx) {
    let report = Reporter::new(inner.id.clone(), tx);
    let mut changes = updates.subscribe();
    {
        let u = updates.clone();
        let _ = tokio::task::spawn_blocking(move || u.load()).await;
    }
    loop {
        let (rollouts, devices) = updates.rows(jiff::Timestamp::now());
        let resources = if kind == ResourceKind::Rollout {
            rollouts
        } else {
            devices
        };
        if report.snapshot(kind, resources).await.is_err() {
            return;
        }
        // Elapsed times move while something runs: a snapshot each second even without news;
        // nothing at all while idle.
        if updates.any_running() {
            let _ = tokio::time::timeout(Duration::from_secs(1), changes.changed()).await;
        } else if changes.changed().await.is_err() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `l` on a device update: what its updater printed and its steps, then (following) new
/// lines until the update ends.
pub async fn logs(updates: Updates, id: String, opts: LogOpts, stream: StreamId, tx: EventTx) {
    let Some((history, _)) = updates.output(&id, 0) else {
        let error = format!("no update {id} in this console");
        return log_ended(&tx, stream, Ok(Some(error))).await;
    };
    let mut changes = updates.subscribe();
    let mut sent = opts.tail.map_or(0, |n| history.len().saturating_sub(n));
    loop {
        let Some((lines, done)) = updates.output(&id, sent) else {
            return;
        };
        if !lines.is_empty() {
            sent += lines.len();
            let lines = lines
                .into_iter()
                .map(|(ts, text)| LogLine {
                    ts: i64::try_from(ts.as_nanosecond()).ok(),
                    source: None,
                    text: StyledText {
                        text,
                        runs: Vec::new(),
                    },
                    marker: false,
                })
                .collect();
            if log_lines(&tx, stream, lines).await.is_err() {
                return;
            }
        }
        if done || !opts.follow {
            return log_ended(&tx, stream, Ok(None)).await;
        }
        if changes.changed().await.is_err() {
            return;
        }
    }
}
