//! Mender server backend (`mender:<name>`): devices (device auth + inventory), deployments with
//! per-status counts, a deployment's per-device statuses and their deployment logs, through the
//! management API with a personal access token.
//!
//! Mender has no push channel: an open view is polled every [`POLL`] while it is open
//! (`watch`), with exponential backoff on errors and Retry-After honoured on 429. Every list
//! is read to its end ([`paging`]); one that cannot be is shown with a note saying so.
//!
//! Files: `client` (HTTPS, token, status → [`client::ApiError`]), `body` (bounded JSON
//! reading), `paging` + `link` (lists read to their end), `watch` (the refresh loop of a view,
//! and the probe), one lister per kind (`devices`, `deployments`, `deployment_devices`) over
//! `map` (objects → rows), `logs` (a device's deployment log), `actions` (act, describe),
//! `error` (texts for what only the operator can fix), `timeline` (deployment transitions).

mod actions;
mod body;
pub mod client;
mod deployment_devices;
mod deployments;
mod devices;
mod error;
pub mod link;
mod logs;
pub mod map;
pub mod paging;
mod timeline;
mod watch;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{anyhow, bail};
use async_trait::async_trait;

use self::client::{Api, Token};
use crate::backend::report::log_task;
use crate::backend::{Backend, EventTx, ShellOpts, ShellSession, StreamId, TaskHandle};
use crate::config::MenderSource;
use crate::model::{LogOpts, ResourceAction, ResourceKey, ResourceKind, SourceId};

pub use self::deployment_devices::NEWEST as DEPLOYMENT_DEVICES_NEWEST;
pub use self::deployments::HISTORY_EVERY;

/// How often an open view is refreshed.
pub const POLL: Duration = Duration::from_secs(5);

/// v1 deployments: detail, statistics, per-device lists, logs, create, abort (and the list
/// itself on servers without the v2 one).
pub const DEPLOYMENTS: &str = "/api/management/v1/deployments/deployments";
/// The v2 deployments list (filters by status, id, creation time).
pub const DEPLOYMENTS_V2: &str = "/api/management/v2/deployments/deployments";
pub const DEVAUTH: &str = "/api/management/v2/devauth/devices";
pub const INVENTORY: &str = "/api/management/v1/inventory/devices";

static KINDS: &[ResourceKind] = &[
    ResourceKind::MenderDevice,
    ResourceKind::MenderDeployment,
    ResourceKind::MenderDeploymentDevice,
];

#[derive(Debug)]
pub struct Inner {
    pub id: SourceId,
    pub api: Api,
    /// The environment variable the token came from, named in "unauthorized" messages.
    pub token_env: String,
    pub poll: Duration,
    /// The server has no v2 deployments list (it answered 404): use v1's.
    v1_deployments: AtomicBool,
}

#[derive(Debug, Clone)]
pub struct MenderBackend {
    inner: Arc<Inner>,
}

impl MenderBackend {
    /// From the config: the token is read from `token_env` now.
    pub fn from_source(src: &MenderSource) -> Self {
        let token = std::env::var(&src.token_env)
            .ok()
            .filter(|t| !t.trim().is_empty())
            .map(|t| Token::new(t.trim()));
        Self::new(src, token)
    }

    /// With the token given (tests, or a caller that read it elsewhere).
    pub fn new(src: &MenderSource, token: Option<Token>) -> Self {
        MenderBackend {
            inner: Arc::new(Inner {
                id: SourceId::new(format!("mender:{}", src.name)),
                api: Api::new(&src.url, token),
                token_env: src.token_env.clone(),
                poll: POLL,
                v1_deployments: AtomicBool::new(false),
            }),
        }
    }

    /// Poll more often (tests).
    // A builder step: nothing holds a clone of `inner` before the backend starts.
    #[allow(clippy::expect_used, reason = "called before the backend is shared")]
    pub fn with_poll(mut self, poll: Duration) -> Self {
        // Only ever called on a backend just made, before any task holds `inner`.
        match Arc::get_mut(&mut self.inner) {
            Some(inner) => inner.poll = poll,
            None => tracing::warn!(source = %self.inner.id, "poll interval not changed: in use"),
        }
        self
    }

    pub fn inner(&self) -> &Arc<Inner> {
        &self.inner
    }
}

/// `<deployment id>/<device id>` of a MenderDeploymentDevice key.
fn split_deployment_device(id: &str) -> anyhow::Result<(&str, &str)> {
    id.split_once('/')
        .ok_or_else(|| anyhow!("not a deployment device id: {id}"))
}

/// Path segments come from the server or the user: keep them to safe characters.
fn seg(s: &str) -> anyhow::Result<&str> {
    if s.is_empty()
        || !s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
    {
        bail!("unexpected id `{s}`");
    }
    Ok(s)
}

impl Inner {
    /// The header's text for this server ("Mender hosted.mender.io").
    fn server_text(&self) -> String {
        let base = self.api.base();
        let host = base.split("://").nth(1).unwrap_or(base);
        format!("Mender {host}")
    }

    fn v1_deployments(&self) -> bool {
        self.v1_deployments.load(Ordering::Relaxed)
    }

    fn use_v1_deployments(&self) {
        if !self.v1_deployments.swap(true, Ordering::Relaxed) {
            tracing::info!(source = %self.id, "mender: no v2 deployments list, using v1");
        }
    }
}

#[async_trait]
impl Backend for MenderBackend {
    fn id(&self) -> &SourceId {
        &self.inner.id
    }

    fn kinds(&self) -> &'static [ResourceKind] {
        KINDS
    }

    fn watch(&self, kind: ResourceKind, tx: EventTx) -> TaskHandle {
        TaskHandle::spawn(watch::run(self.inner.clone(), kind, tx))
    }

    /// Deployment transitions, from a deployments watch of its own (Mender has no event
    /// stream): creations and ends with the server's times (replayed), and from the second
    /// list on, status changes and devices failing while a deployment runs.
    fn timeline(
        &self,
        since: jiff::Timestamp,
        until: Option<jiff::Timestamp>,
        tx: EventTx,
    ) -> Option<TaskHandle> {
        let report = crate::backend::report::Reporter::new(self.inner.id.clone(), tx);
        let mut unsent = crate::timeline::changes::Unsent::default();
        let mut seen = timeline::Seen::new();
        Some(crate::timeline::changes::from_watch(
            |tx| self.watch(ResourceKind::MenderDeployment, tx),
            report,
            until.is_some(),
            move |rows| {
                let mut out = unsent.only_new(timeline::listed(rows, since, until));
                out.extend(timeline::changes(&mut seen, rows, jiff::Timestamp::now()));
                out
            },
        ))
    }

    /// The deployment log of one device in one deployment (no follow: Mender stores it whole).
    fn logs(
        &self,
        target: &ResourceKey,
        _opts: LogOpts,
        stream: StreamId,
        tx: EventTx,
    ) -> TaskHandle {
        let (inner, key) = (self.inner.clone(), target.clone());
        log_task(stream, tx, move |tx| async move {
            logs::send_log(&inner, &key, stream, &tx).await
        })
    }

    fn stats(&self, _target: &ResourceKey, _tx: EventTx) -> Option<TaskHandle> {
        None
    }

    fn endpoint(&self) -> Option<String> {
        Some(self.inner.api.base().to_string())
    }

    fn probe(&self, tx: EventTx) -> Option<TaskHandle> {
        Some(TaskHandle::spawn(watch::probe(self.inner.clone(), tx)))
    }

    async fn act(&self, target: &ResourceKey, action: &ResourceAction) -> anyhow::Result<String> {
        self.inner.act(target, action).await
    }

    async fn describe(&self, target: &ResourceKey) -> anyhow::Result<String> {
        self.inner.describe(target).await
    }

    async fn shell(
        &self,
        _target: &ResourceKey,
        _opts: &ShellOpts,
    ) -> anyhow::Result<ShellSession> {
        bail!("Mender devices have no shell here (use a fleet source over SSH)")
    }

    async fn exec(&self, _target: &ResourceKey, _cmd: &[String]) -> anyhow::Result<(i64, String)> {
        bail!("exec is not available on a Mender server source")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_are_checked() {
        assert!(seg("0c13a0e6-6b63-49b8-be8f-4bd3d3cd1e1b").is_ok());
        assert!(seg("../x").is_err());
        assert!(seg("").is_err());
    }
}
