//! The device-fleet backend (`fleet:<name>`): devices from a fleet file, reached over SSH
//! (src/ssh), or the machine the console runs on (`host: local`, `fleetdeck --local`): both
//! run their commands through one seam, `session::Session`. Facts are polled per device with its own interval and a backoff, at most
//! `concurrency` sessions at once; logs are `journalctl -f` or `tail -F` streamed over exec;
//! shells are russh PTYs; `AcceptHostKey` trusts an unknown host key, only the one whose
//! fingerprint the operator confirmed (audited by the app).
//!
//! Sandboxes are addressed as `DEVICE/SANDBOX` in a `ResourceKey` of kind Device (device names
//! never contain `/`), so the generic shell hand-off works unchanged.

//!
//! Files: `file` (the fleet file), `facts` (the facts script and its parser), `watch` (the
//! per-device pollers), `map` (devices → rows), `logs`, `exec` (commands and shells),
//! `actions` (manual update steps, rollout control, host keys, describe), `updates` (the
//! rollouts' link to a device), `run` (one command on many targets), `session` (how a device
//! runs commands: SSH or `local`), `local` (the local device's processes).

pub mod actions;
pub mod exec;
pub mod facts;
pub mod file;
pub mod forward;
pub mod local;
pub mod logs;
pub mod map;
pub mod run;
pub mod session;
pub mod timeline;
pub mod updates;
pub mod watch;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::{Notify, Semaphore};

use crate::backend::conn::Cached;
use crate::backend::report::log_task;
use crate::backend::{Backend, EventTx, ShellOpts, ShellSession, StreamId, TaskHandle};
use crate::model::{
    ActionOutcome, LogOpts, Resource, ResourceAction, ResourceKey, ResourceKind, SourceId,
};
use crate::rollout::engine::Updates;
use crate::ssh::Connection;
use crate::ssh::client::{self, Route, SshError, SshOptions, Target};
pub use facts::Facts;
pub use file::{DeviceSpec, FleetFile};
pub use map::row;
pub use session::Session;

static KINDS: &[ResourceKind] = &[
    ResourceKind::Device,
    ResourceKind::Rollout,
    ResourceKind::DeviceUpdate,
];

/// How a device answered its last poll.
#[derive(Debug, Clone)]
pub enum Conn {
    Connecting,
    Up,
    Down(SshError),
    /// Connected but the facts command failed.
    Error(String),
}

/// What the console knows about one device.
#[derive(Debug, Clone)]
pub struct DeviceStatus {
    pub conn: Conn,
    pub facts: Option<Facts>,
    pub updated: Option<jiff::Timestamp>,
}

/// One device of the fleet: its spec, how it is reached, and what the console knows of it.
pub struct Device {
    pub spec: DeviceSpec,
    pub route: Route,
    /// The device's SSH session, shared by polls, logs, commands and rollouts.
    conn: Cached<Arc<Connection>>,
    status: Mutex<DeviceStatus>,
    /// Bumped at every change of `status`: a watch remaps only the devices whose version
    /// moved since its last batch, not the whole fleet (docs/PERFORMANCE.md §22).
    version: AtomicU64,
    /// Poll now (a host key was just trusted, a session replaced).
    wake: Notify,
}

impl Device {
    /// The status, also after a panic elsewhere held its lock (each write is whole).
    fn lock_status(&self) -> std::sync::MutexGuard<'_, DeviceStatus> {
        self.status.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn status(&self) -> DeviceStatus {
        self.lock_status().clone()
    }

    fn is_up(&self) -> bool {
        matches!(self.lock_status().conn, Conn::Up)
    }

    /// The status's version: it moves whenever the status changes.
    fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }

    fn set_conn(&self, c: Conn) {
        if let Ok(mut s) = self.status.lock() {
            s.conn = c;
            self.version.fetch_add(1, Ordering::Release);
        }
    }

    /// Keep the outcome of one facts refresh.
    fn record(&self, result: Result<Facts, Conn>) {
        let mut s = self.lock_status();
        match result {
            Ok(f) => {
                s.conn = Conn::Up;
                s.facts = Some(f);
                s.updated = Some(jiff::Timestamp::now());
            }
            Err(c) => s.conn = c,
        }
        self.version.fetch_add(1, Ordering::Release);
    }
}

/// State shared by the backend and its tasks.
pub struct Inner {
    pub id: SourceId,
    pub file: FleetFile,
    pub opts: SshOptions,
    pub devices: Vec<Arc<Device>>,
    /// The devices' pollers while any watch of the devices runs ([`Inner::pollers`]).
    pollers: Mutex<std::sync::Weak<watch::Pollers>>,
}

impl Inner {
    pub fn device(&self, name: &str) -> Option<&Arc<Device>> {
        self.devices.iter().find(|d| d.spec.name == name)
    }

    /// The cached session of `dev`, connecting when there is none or it closed.
    pub async fn connection(&self, dev: &Device) -> Result<Arc<Connection>, SshError> {
        dev.conn
            .get_or_connect_if(
                |c| !c.is_closed(),
                || async { Ok(Arc::new(client::connect(&dev.route, &self.opts).await?)) },
            )
            .await
    }

    /// How `dev` runs commands: its SSH session ([`Inner::connection`]), or processes on
    /// this machine for a `host: local` device. Every command path goes through here.
    pub async fn session(&self, dev: &Device) -> Result<Session, SshError> {
        if dev.spec.is_local() {
            return Ok(Session::Local);
        }
        self.connection(dev).await.map(Session::Ssh)
    }

    /// Drop `dev`'s session after a transport error: the next call connects again.
    pub async fn forget(&self, dev: &Device) {
        dev.conn.forget().await;
    }
}

/// A fleet file as a source.
#[derive(Clone)]
pub struct FleetBackend {
    pub inner: Arc<Inner>,
    /// Rollouts of this fleet (src/rollout), persisted under the state dir.
    updates: Updates,
}

impl FleetBackend {
    /// The fleet with its own `ssh_config:` when it names one; a config that cannot be read is
    /// logged and the process-wide one used (tests; [`FleetBackend::try_new`] refuses instead).
    pub fn new(file: FleetFile, opts: SshOptions) -> Self {
        let mut opts = opts;
        if let Some(cfg) = &file.ssh_config {
            match crate::ssh::config::SshConfig::load(cfg) {
                Ok(c) => opts.config = Arc::new(c),
                Err(e) => tracing::warn!("{e}"),
            }
        }
        Self::with_options(file, opts)
    }

    /// Like [`FleetBackend::new`], but a fleet whose `ssh_config:` cannot be used (too large,
    /// an Include loop) is an error naming the file: its devices would be reached with other
    /// settings than the ones written for them.
    pub fn try_new(
        file: FleetFile,
        opts: SshOptions,
    ) -> Result<Self, crate::ssh::files::FileError> {
        let mut opts = opts;
        if let Some(cfg) = &file.ssh_config {
            opts.config = Arc::new(crate::ssh::config::SshConfig::load(cfg)?);
        }
        Ok(Self::with_options(file, opts))
    }

    fn with_options(file: FleetFile, opts: SshOptions) -> Self {
        let devices = file
            .devices
            .iter()
            .map(|spec| {
                let route = client::resolve(&target_of(spec, None), &opts);
                Arc::new(Device {
                    spec: spec.clone(),
                    route,
                    conn: Default::default(),
                    status: Mutex::new(DeviceStatus {
                        conn: Conn::Connecting,
                        facts: None,
                        updated: None,
                    }),
                    version: AtomicU64::new(0),
                    wake: Notify::new(),
                })
            })
            .collect();
        let inner = Arc::new(Inner {
            id: SourceId::new(format!("fleet:{}", file.name)),
            file,
            opts,
            devices,
            pollers: Mutex::default(),
        });
        let updates = Updates::new(
            crate::config::paths::state_dir()
                .join("updates")
                .join(crate::rollout::state::file_name(&inner.file.name)),
            Some(crate::audit::AuditLog::default_location()),
            inner.id.clone(),
            updates::targets(&inner),
        );
        FleetBackend { inner, updates }
    }

    /// Keep this fleet's rollouts under `root` and audit their transitions to `audit`
    /// (tests, and the CLI when told where); `poll` paces reboot and appliance checks.
    pub fn with_update_store(
        mut self,
        root: std::path::PathBuf,
        audit: Option<crate::audit::AuditLog>,
        poll: Duration,
    ) -> Self {
        self.updates = Updates::new(
            root,
            audit,
            self.inner.id.clone(),
            updates::targets(&self.inner),
        )
        .with_poll(poll);
        self
    }

    pub fn updates(&self) -> &Updates {
        &self.updates
    }

    pub fn devices(&self) -> &[Arc<Device>] {
        &self.inner.devices
    }

    /// Refresh every device once (bounded by the fleet's concurrency) and return the rows:
    /// what `fleetdeck ls devices` prints.
    pub async fn gather(&self) -> Vec<Resource> {
        let sem = Arc::new(Semaphore::new(self.inner.file.concurrency));
        let mut tasks = tokio::task::JoinSet::new();
        for dev in &self.inner.devices {
            let (inner, dev, sem) = (self.inner.clone(), dev.clone(), sem.clone());
            tasks.spawn(async move {
                let Ok(_permit) = sem.acquire().await else {
                    return;
                };
                dev.record(inner.refresh(&dev).await);
            });
        }
        while tasks.join_next().await.is_some() {}
        self.rows()
    }

    /// The rows as they are now.
    pub fn rows(&self) -> Vec<Resource> {
        self.inner
            .devices
            .iter()
            .map(|d| row(&self.inner.id, d))
            .collect()
    }
}

fn target_of(spec: &DeviceSpec, user: Option<&str>) -> Target {
    Target {
        host: spec.host.clone(),
        user: user.map(String::from).or(spec.user.clone()),
        port: spec.port,
        identity_files: spec.identity_files.clone(),
        known_hosts: spec.known_hosts.clone(),
    }
}

#[async_trait]
impl Backend for FleetBackend {
    fn id(&self) -> &SourceId {
        &self.inner.id
    }

    fn kinds(&self) -> &'static [ResourceKind] {
        KINDS
    }

    fn watch(&self, kind: ResourceKind, tx: EventTx) -> TaskHandle {
        match kind {
            ResourceKind::Device => {
                TaskHandle::spawn(watch::devices(self.inner.clone(), self.updates.clone(), tx))
            }
            ResourceKind::Rollout | ResourceKind::DeviceUpdate => TaskHandle::spawn(
                updates::watch(self.updates.clone(), self.inner.clone(), kind, tx),
            ),
            _ => TaskHandle::none(),
        }
    }

    /// Device state and artifact changes, seen by a devices watch of its own (devices have
    /// no event stream; nothing to replay: history starts with the console).
    fn timeline(
        &self,
        _since: jiff::Timestamp,
        until: Option<jiff::Timestamp>,
        tx: EventTx,
    ) -> Option<TaskHandle> {
        // The CLI: a one-off poll has no "before" to compare with.
        if until.is_some() {
            return None;
        }
        let report = crate::backend::report::Reporter::new(self.inner.id.clone(), tx);
        let mut seen = std::collections::HashMap::new();
        Some(crate::timeline::changes::from_watch(
            |tx| self.watch(ResourceKind::Device, tx),
            report,
            false,
            move |rows| timeline::changes(&mut seen, rows, jiff::Timestamp::now()),
        ))
    }

    /// A console that starts picks up the rollouts a stopped one left running. The header
    /// names the fleet's size until the devices view polls them ("3/4 devices up").
    fn probe(&self, tx: EventTx) -> Option<TaskHandle> {
        // Detached: the rollouts must go on whatever becomes of the probe's handle.
        let updates = self.updates.clone();
        tokio::spawn(async move {
            let _ = tokio::task::spawn_blocking(move || updates.resume()).await;
        });
        Some(TaskHandle::spawn(watch::probe(
            self.inner.clone(),
            self.updates.clone(),
            tx,
        )))
    }

    fn logs(
        &self,
        target: &ResourceKey,
        opts: LogOpts,
        stream: StreamId,
        tx: EventTx,
    ) -> TaskHandle {
        if target.kind == ResourceKind::DeviceUpdate {
            return TaskHandle::spawn(updates::logs(
                self.updates.clone(),
                target.id.clone(),
                opts,
                stream,
                tx,
            ));
        }
        let (inner, target) = (self.inner.clone(), target.clone());
        log_task(stream, tx, move |tx| async move {
            logs::stream_logs(&inner, &target, &opts, stream, &tx).await
        })
    }

    fn stats(&self, _target: &ResourceKey, _tx: EventTx) -> Option<TaskHandle> {
        None
    }

    async fn act(&self, target: &ResourceKey, action: &ResourceAction) -> anyhow::Result<String> {
        self.act_outcome(target, action).await.map(|o| o.message)
    }

    /// The manual update actions (commit, rollback, clear the failed flag, reboot) run here:
    /// a rollback of software the device booted offers the reboot that brings the old back.
    async fn act_outcome(
        &self,
        target: &ResourceKey,
        action: &ResourceAction,
    ) -> anyhow::Result<ActionOutcome> {
        actions::act(self, target, action).await
    }

    async fn describe(&self, target: &ResourceKey) -> anyhow::Result<String> {
        actions::describe(self, target).await
    }

    async fn shell(&self, target: &ResourceKey, opts: &ShellOpts) -> anyhow::Result<ShellSession> {
        exec::shell(&self.inner, target, opts).await
    }

    async fn exec(&self, target: &ResourceKey, cmd: &[String]) -> anyhow::Result<(i64, String)> {
        exec::exec(&self.inner, target, cmd).await
    }

    fn local_shell(&self, target: &ResourceKey) -> Option<std::process::Command> {
        exec::local_shell(&self.inner, target)
    }

    async fn forward(
        &self,
        target: &ResourceKey,
        port: u16,
    ) -> anyhow::Result<Arc<dyn crate::backend::forward::Connector>> {
        forward::connector(&self.inner, target, port)
    }
}
