//! The Docker engine backend: containers, compose projects, images, volumes, networks.
//!
//! Construction never touches the network: the endpoint is resolved from config/env/contexts
//! (pure, see [`connect::resolve`]) and every connection is made inside a task or an async call,
//! so an unreachable daemon shows up as a `Reconnecting` status, never as a hang.
//!
//! Files: `connect` (endpoint resolution, client construction), `error` (human error text),
//! `watch` (snapshots on events), `list` + one mapper per kind, `logs`, `stats`, `exec`
//! (shell and exec), `actions` (act, describe).

pub mod actions;
mod capped;
pub mod connect;
pub mod containers;
pub mod error;
pub mod exec;
mod follow;
mod forward;
pub mod images;
pub mod inspect;
pub mod list;
pub mod logs;
pub mod networks;
mod paced;
pub mod projects;
pub mod stats;
pub mod swarm;
pub mod timeline;
mod tls_insecure;
pub mod util;
pub mod volumes;
pub mod watch;

use std::sync::Arc;

use anyhow::anyhow;
use async_trait::async_trait;
use bollard::query_parameters::InspectContainerOptions;

use crate::backend::conn::Cached;
use crate::backend::report::log_task;
use crate::backend::{Backend, EventTx, ShellOpts, ShellSession, StreamId, TaskHandle};
use crate::config::DockerSource;
use crate::model::{LogOpts, ResourceAction, ResourceKey, ResourceKind, SourceId};
pub use connect::{Connection, Endpoint, Origin, ResolveEnv, Resolved};

/// State shared by the backend and its tasks.
#[derive(Debug)]
pub struct Inner {
    pub id: SourceId,
    /// The resolution result; an error (unknown context...) is reported by every operation.
    pub resolved: Result<Resolved, String>,
    /// A negotiated client for one-shot calls (act, describe, exec...), made on first use and
    /// dropped after a transport error so the next call reconnects.
    cached: Cached<Connection>,
    /// `triage.recent_restart_secs`: how long a restarted container's row is not green. Set
    /// once after construction (an atomic, so the backend needs no builder for one number).
    recent_restart_secs: std::sync::atomic::AtomicU64,
}

impl Inner {
    pub fn recent_restart(&self) -> jiff::SignedDuration {
        let secs = self
            .recent_restart_secs
            .load(std::sync::atomic::Ordering::Relaxed);
        jiff::SignedDuration::from_secs(i64::try_from(secs).unwrap_or(i64::MAX))
    }

    /// A connected client plus its endpoint (for error texts), reusing the cached one.
    pub async fn connection(&self) -> Result<(Connection, Endpoint), String> {
        let resolved = self.resolved.as_ref().map_err(Clone::clone)?;
        let conn = self
            .cached
            .get_or_connect(|| connect::connect(&resolved.endpoint))
            .await?;
        Ok((conn, resolved.endpoint.clone()))
    }

    /// Drop the cached client when `e` means the engine went away (not "no such container").
    pub async fn forget_if_transport(&self, e: &bollard::errors::Error) {
        if error::is_transport_error(e) {
            self.forget_connection().await;
        }
    }

    /// Drop the cached client: the next caller connects and negotiates again.
    pub async fn forget_connection(&self) {
        self.cached.forget().await;
    }
}

/// A Docker engine as a fleetdeck source (`docker:local`, `docker:prod` ...).
#[derive(Debug, Clone)]
pub struct DockerBackend {
    inner: Arc<Inner>,
}

static KINDS: &[ResourceKind] = &[
    ResourceKind::Container,
    ResourceKind::Project,
    ResourceKind::Image,
    ResourceKind::Volume,
    ResourceKind::Network,
    ResourceKind::Stack,
    ResourceKind::Service,
    ResourceKind::Task,
    ResourceKind::Node,
    ResourceKind::Secret,
    ResourceKind::Config,
];

impl DockerBackend {
    /// Source `docker:<name>` resolved from `env` (see [`ResolveEnv`]).
    pub fn new(name: &str, env: &ResolveEnv) -> Self {
        Self::with_resolution(name, connect::resolve(env))
    }

    /// Source from a config entry, resolved against the real process environment.
    pub fn from_source(source: &DockerSource) -> Self {
        Self::new(&source.name, &ResolveEnv::from_process(source.host.clone()))
    }

    /// The default `docker:local` source, resolved like the docker CLI.
    pub fn local() -> Self {
        Self::new("local", &ResolveEnv::from_process(None))
    }

    /// A source with an already-resolved endpoint (or the resolution error to report).
    pub fn with_resolution(name: &str, resolved: Result<Resolved, String>) -> Self {
        if let Err(e) = &resolved {
            tracing::warn!(source = name, error = %e, "docker endpoint resolution failed");
        }
        DockerBackend {
            inner: Arc::new(Inner {
                id: SourceId::new(format!("docker:{name}")),
                resolved,
                cached: Cached::default(),
                recent_restart_secs: crate::triage::TriageConfig::default()
                    .recent_restart_secs
                    .into(),
            }),
        }
    }

    /// Use the config's `triage.recent_restart_secs` for the rows' colour.
    pub fn with_recent_restart(self, secs: u64) -> Self {
        self.inner
            .recent_restart_secs
            .store(secs, std::sync::atomic::Ordering::Relaxed);
        self
    }

    /// Where this source points and why, for the header ("unix:///var/run/docker.sock · default socket").
    pub fn resolved(&self) -> Result<&Resolved, &str> {
        self.inner.resolved.as_ref().map_err(String::as_str)
    }

    async fn connection(&self) -> anyhow::Result<(Connection, Endpoint)> {
        self.inner.connection().await.map_err(|e| anyhow!(e))
    }

    /// Pass a one-shot call's result through, dropping the cached client on any error: a
    /// reconnect costs one `/version` call, and a daemon restart between calls then costs at
    /// most one failed call instead of a stale client forever.
    async fn after<T>(&self, r: anyhow::Result<T>) -> anyhow::Result<T> {
        if r.is_err() {
            self.inner.cached.forget().await;
        }
        r
    }
}

#[async_trait]
impl Backend for DockerBackend {
    fn id(&self) -> &SourceId {
        &self.inner.id
    }

    fn endpoint(&self) -> Option<String> {
        self.resolved().ok().map(|r| r.endpoint.to_string())
    }

    async fn forward(
        &self,
        target: &ResourceKey,
        port: u16,
    ) -> anyhow::Result<Arc<dyn crate::backend::forward::Connector>> {
        if target.kind != ResourceKind::Container {
            anyhow::bail!("only containers have ports to forward here");
        }
        let r = forward::connector(&self.inner, target, port).await;
        self.after(r).await
    }

    fn kinds(&self) -> &'static [ResourceKind] {
        KINDS
    }

    fn watch(&self, kind: ResourceKind, tx: EventTx) -> TaskHandle {
        TaskHandle::spawn(watch::run(Arc::clone(&self.inner), kind, tx))
    }

    fn timeline(
        &self,
        since: jiff::Timestamp,
        until: Option<jiff::Timestamp>,
        tx: EventTx,
    ) -> Option<TaskHandle> {
        let inner = Arc::clone(&self.inner);
        // Swarm tasks send no events: their list is their history (a task watch of its own;
        // on an engine that is no swarm manager it only looks again now and then).
        let report = crate::backend::report::Reporter::new(inner.id.clone(), tx.clone());
        let mut unsent = crate::timeline::changes::Unsent::default();
        let tasks = crate::timeline::changes::from_watch(
            |tx| self.watch(ResourceKind::Task, tx),
            report,
            until.is_some(),
            move |rows| unsent.only_new(swarm::timeline::task_entries(rows, since, until)),
        );
        Some(TaskHandle::spawn(async move {
            timeline::run(inner, since, until, tx).await;
            // One pass (the CLI): the task list's entries too, then end.
            tasks.join().await;
        }))
    }

    fn logs(
        &self,
        target: &ResourceKey,
        opts: LogOpts,
        stream: StreamId,
        tx: EventTx,
    ) -> TaskHandle {
        let (inner, target) = (Arc::clone(&self.inner), target.clone());
        log_task(stream, tx, move |tx| async move {
            logs::stream_logs(&inner, &target, &opts, stream, &tx).await
        })
    }

    fn stats(&self, target: &ResourceKey, tx: EventTx) -> Option<TaskHandle> {
        (target.kind == ResourceKind::Container)
            .then(|| TaskHandle::spawn(stats::run(Arc::clone(&self.inner), target.clone(), tx)))
    }

    async fn act(&self, target: &ResourceKey, action: &ResourceAction) -> anyhow::Result<String> {
        let (conn, endpoint) = self.connection().await?;
        let r = actions::act(&conn.docker, &endpoint, target, action).await;
        self.after(r).await
    }

    async fn describe(&self, target: &ResourceKey) -> anyhow::Result<String> {
        let (conn, endpoint) = self.connection().await?;
        let r = actions::describe(&conn.docker, &endpoint, target).await;
        self.after(r).await
    }

    async fn shell(&self, target: &ResourceKey, opts: &ShellOpts) -> anyhow::Result<ShellSession> {
        let (conn, endpoint) = self.connection().await?;
        let docker = &conn.docker;
        let container = match target.kind {
            ResourceKind::Container => target.id.clone(),
            ResourceKind::Task => {
                let r = swarm::actions::task_container(docker, &endpoint, &target.id).await;
                self.after(r).await?
            }
            _ => return Err(anyhow!("only containers and tasks have a shell")),
        };
        let name = match docker
            .inspect_container(&container, None::<InspectContainerOptions>)
            .await
        {
            Ok(info) => info
                .name
                .as_deref()
                .map(|n| crate::term::sanitize::sanitize_plain(n.trim_start_matches('/')))
                .unwrap_or_else(|| container.clone()),
            Err(e) => {
                return self
                    .after(Err(anyhow!(error::human_error(&endpoint, &e))))
                    .await;
            }
        };
        let r = exec::shell(docker, &endpoint, &container, &name, opts).await;
        self.after(r).await
    }

    async fn exec(&self, target: &ResourceKey, cmd: &[String]) -> anyhow::Result<(i64, String)> {
        if target.kind != ResourceKind::Container {
            return Err(anyhow!("exec needs a container"));
        }
        if cmd.is_empty() {
            return Err(anyhow!("exec needs a command"));
        }
        let (conn, endpoint) = self.connection().await?;
        let r = exec::run_collect(&conn.docker, &endpoint, &target.id, cmd).await;
        let (code, out) = self.after(r).await?;
        Ok((code, String::from_utf8_lossy(&out).into_owned()))
    }
}
