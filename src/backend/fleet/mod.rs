//! The device-fleet backend (`fleet:<name>`): devices from a fleet file, reached over SSH
//! (src/ssh). Facts are polled per device with its own interval and a backoff, at most
//! `concurrency` sessions at once; logs are `journalctl -f` or `tail -F` streamed over exec;
//! shells are russh PTYs; `AcceptHostKey` trusts an unknown host key, only the one whose
//! fingerprint the operator confirmed (audited by the app).
//!
//! Sandboxes are addressed as `DEVICE/SANDBOX` in a `ResourceKey` of kind Device (device names
//! never contain `/`), so the generic shell hand-off works unchanged.

pub mod facts;
pub mod file;
pub mod logs;
pub mod run;
pub mod updates;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail};
use async_trait::async_trait;
use tokio::sync::{Notify, Semaphore, mpsc};

use crate::backend::task::Backoff;
use crate::backend::{
    Backend, BackendEvent, EventTx, ShellOpts, ShellSession, StreamId, TaskHandle,
};
use crate::model::{
    ActionOutcome, Health, HostKeyProblem, HostKeyState, LogOpts, PassphraseNeeded, Resource,
    ResourceAction, ResourceKey, ResourceKind, RowFacts, SourceId, SourceStatus,
};
use crate::rollout::engine::{RolloutState, Updates};
use crate::ssh::client::{self, Route, SshError, SshOptions, Target};
use crate::ssh::{Connection, known_hosts};
pub use facts::Facts;
pub use file::{DeviceSpec, FleetFile};

static KINDS: &[ResourceKind] = &[
    ResourceKind::Device,
    ResourceKind::Rollout,
    ResourceKind::DeviceUpdate,
];

/// Facts output larger than this is cut (a misbehaving device cannot eat memory).
const FACTS_LIMIT: usize = 64 * 1024;
const FACTS_TIMEOUT: Duration = Duration::from_secs(20);

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

pub struct Device {
    pub spec: DeviceSpec,
    pub route: Route,
    conn: tokio::sync::Mutex<Option<Arc<Connection>>>,
    pub status: Mutex<DeviceStatus>,
    wake: Notify,
}

impl Device {
    fn status(&self) -> DeviceStatus {
        self.status
            .lock()
            .map(|s| s.clone())
            .unwrap_or_else(|e| e.into_inner().clone())
    }

    fn set_conn(&self, c: Conn) {
        if let Ok(mut s) = self.status.lock() {
            s.conn = c;
        }
    }
}

pub struct Inner {
    pub id: SourceId,
    pub file: FleetFile,
    pub opts: SshOptions,
    pub devices: Vec<Arc<Device>>,
}

impl Inner {
    pub fn device(&self, name: &str) -> Option<&Arc<Device>> {
        self.devices.iter().find(|d| d.spec.name == name)
    }

    /// The cached session of `dev`, connecting when there is none or it closed.
    pub async fn connection(&self, dev: &Device) -> Result<Arc<Connection>, SshError> {
        let mut slot = dev.conn.lock().await;
        if let Some(c) = slot.as_ref()
            && !c.is_closed()
        {
            return Ok(c.clone());
        }
        *slot = None;
        let c = Arc::new(client::connect(&dev.route, &self.opts).await?);
        *slot = Some(c.clone());
        Ok(c)
    }

    pub async fn forget(&self, dev: &Device) {
        *dev.conn.lock().await = None;
    }

    /// Run a shell command line on `dev`: (exit code, stdout+stderr).
    pub async fn run(
        &self,
        dev: &Device,
        cmd: &str,
        limit: usize,
    ) -> Result<(i64, String), String> {
        let conn = self.connection(dev).await.map_err(|e| {
            dev.set_conn(Conn::Down(e.clone()));
            e.to_string()
        })?;
        match client::exec(&conn, cmd, limit).await {
            Ok(out) => {
                let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
                text.push_str(&String::from_utf8_lossy(&out.stderr));
                Ok((out.code.map(i64::from).unwrap_or(-1), text))
            }
            Err(e) => {
                self.forget(dev).await;
                Err(e.to_string())
            }
        }
    }

    /// One facts refresh: connect (cached) and run the script once.
    async fn refresh(&self, dev: &Device) -> Result<Facts, Conn> {
        let conn = self.connection(dev).await.map_err(Conn::Down)?;
        let script = facts::script(&dev.spec.units, &dev.spec.update.failed_flag);
        let res =
            tokio::time::timeout(FACTS_TIMEOUT, client::exec(&conn, &script, FACTS_LIMIT)).await;
        match res {
            Ok(Ok(out)) if out.code == Some(0) => {
                Ok(facts::parse(&String::from_utf8_lossy(&out.stdout)))
            }
            Ok(Ok(out)) => Err(Conn::Error(format!(
                "facts script exited {}: {}",
                out.code
                    .map(|c| c.to_string())
                    .unwrap_or_else(|| "by signal".into()),
                crate::term::sanitize::sanitize_plain(
                    String::from_utf8_lossy(&out.stderr)
                        .lines()
                        .next()
                        .unwrap_or("")
                )
            ))),
            Ok(Err(e)) => {
                self.forget(dev).await;
                Err(Conn::Down(e))
            }
            Err(_) => {
                self.forget(dev).await;
                Err(Conn::Down(SshError::Timeout(FACTS_TIMEOUT.as_secs())))
            }
        }
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
                    wake: Notify::new(),
                })
            })
            .collect();
        let inner = Arc::new(Inner {
            id: SourceId::new(format!("fleet:{}", file.name)),
            file,
            opts,
            devices,
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
                let r = inner.refresh(&dev).await;
                let mut s = dev.status.lock().unwrap_or_else(|e| e.into_inner());
                match r {
                    Ok(f) => {
                        s.conn = Conn::Up;
                        s.facts = Some(f);
                        s.updated = Some(jiff::Timestamp::now());
                    }
                    Err(c) => s.conn = c,
                }
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

fn short_error(e: &SshError) -> String {
    match e {
        SshError::UnknownHostKey { fingerprint, .. } => format!("unknown key {fingerprint}"),
        SshError::ChangedHostKey { fingerprint, .. } => {
            format!("CHANGED key {fingerprint}")
        }
        SshError::RevokedHostKey { fingerprint, .. } => format!("REVOKED key {fingerprint}"),
        SshError::KnownHostsUnreadable { .. } => "known_hosts unreadable".into(),
        SshError::PassphraseNeeded { key } => format!("passphrase needed for {}", key.display()),
        SshError::BadPassphrase { .. } => "wrong passphrase".into(),
        SshError::AuthFailed { .. } => "auth failed".into(),
        SshError::Timeout(_) => "timeout".into(),
        SshError::Connect(t) => format!("unreachable: {t}"),
    }
}

/// The devices table's UPDATE cell (see the Device KindSpec).
const UPDATE_COLUMN: usize = 9;

/// One table row for `dev`.
pub fn row(source: &SourceId, dev: &Device) -> Resource {
    let st = dev.status();
    let spec = &dev.spec;
    let f = st.facts.clone().unwrap_or_default();
    let has = st.facts.is_some();
    let mut labels = BTreeMap::new();
    // What the console acts on (accept a key, ask a passphrase, pick a sandbox); the labels
    // below say the same for display and `-o json`.
    let mut row_facts = RowFacts {
        sandboxes: spec.sandboxes.iter().map(|s| s.name.clone()).collect(),
        ..Default::default()
    };
    if !spec.tags.is_empty() {
        labels.insert("tags".into(), spec.tags.join(","));
    }
    for t in &spec.tags {
        labels.insert(format!("tag.{t}"), String::new());
    }
    if !spec.groups.is_empty() {
        labels.insert("groups".into(), spec.groups.join(","));
    }
    labels.insert(
        "updater".into(),
        format!("{:?}", spec.updater).to_ascii_lowercase(),
    );
    if !spec.sandboxes.is_empty() {
        labels.insert(
            "sandboxes".into(),
            spec.sandboxes
                .iter()
                .map(|s| s.name.clone())
                .collect::<Vec<_>>()
                .join(","),
        );
    }
    let (state, health) = match &st.conn {
        Conn::Connecting => ("connecting".to_string(), Health::Pending),
        Conn::Up if f.failed => ("FAILED".into(), Health::Failed),
        Conn::Up if !f.units_ok() => ("degraded".into(), Health::Pending),
        Conn::Up => ("up".into(), Health::Ok),
        Conn::Error(e) => {
            labels.insert("error".into(), e.clone());
            ("error".into(), Health::Failed)
        }
        Conn::Down(e) => {
            labels.insert("error".into(), e.to_string());
            match e {
                SshError::UnknownHostKey { fingerprint, .. } => {
                    labels.insert("host_key".into(), "unknown".into());
                    labels.insert("fingerprint".into(), fingerprint.clone());
                    row_facts.host_key = Some(HostKeyProblem {
                        state: HostKeyState::Unknown,
                        fingerprint: fingerprint.clone(),
                    });
                }
                SshError::ChangedHostKey { fingerprint, .. } => {
                    labels.insert("host_key".into(), "changed".into());
                    labels.insert("fingerprint".into(), fingerprint.clone());
                    row_facts.host_key = Some(HostKeyProblem {
                        state: HostKeyState::Changed,
                        fingerprint: fingerprint.clone(),
                    });
                }
                SshError::RevokedHostKey { fingerprint, .. } => {
                    labels.insert("host_key".into(), "revoked".into());
                    labels.insert("fingerprint".into(), fingerprint.clone());
                    row_facts.host_key = Some(HostKeyProblem {
                        state: HostKeyState::Revoked,
                        fingerprint: fingerprint.clone(),
                    });
                }
                SshError::PassphraseNeeded { key } => {
                    let failures = crate::ssh::auth::passphrases().failures(key);
                    labels.insert("passphrase_needed".into(), key.display().to_string());
                    labels.insert("passphrase_failures".into(), failures.to_string());
                    row_facts.passphrase = Some(PassphraseNeeded {
                        key_path: key.display().to_string(),
                        failures,
                    });
                }
                _ => {}
            }
            (short_error(e), Health::Failed)
        }
    };
    let dest = dev.route.dest();
    let host = if dest.port == 22 {
        dest.host.clone()
    } else {
        format!("{}:{}", dest.host, dest.port)
    };
    let cells = vec![
        spec.name.clone(),
        state,
        host,
        f.os.clone(),
        f.kernel.clone(),
        f.uptime_secs.map(facts::human_uptime).unwrap_or_default(),
        f.load.clone(),
        f.disk_cell(),
        f.artifact.clone().unwrap_or_default(),
        f.update.clone().unwrap_or_default(),
        f.units_cell(),
        spec.tags.join(","),
    ];
    if has && !f.hostname.is_empty() {
        labels.insert("hostname".into(), f.hostname.clone());
    }
    Resource {
        key: ResourceKey {
            source: source.clone(),
            kind: ResourceKind::Device,
            id: spec.name.clone(),
        },
        name: spec.name.clone(),
        parent: None,
        health,
        cells,
        created: None,
        labels,
        facts: row_facts,
    }
}

/// The watch: one poller per device (bounded by a semaphore), snapshots on every change.
async fn watch(inner: Arc<Inner>, updates: Updates, tx: EventTx) {
    let _ = tx
        .send(BackendEvent::Status(
            inner.id.clone(),
            SourceStatus::Connecting,
        ))
        .await;
    let (ntx, mut nrx) = mpsc::channel::<usize>(1024);
    let sem = Arc::new(Semaphore::new(inner.file.concurrency));
    let mut tasks = tokio::task::JoinSet::new();
    for (i, dev) in inner.devices.iter().enumerate() {
        let (inner, dev, ntx, sem) = (inner.clone(), dev.clone(), ntx.clone(), sem.clone());
        tasks.spawn(poll_device(inner, dev, i, ntx, sem));
    }
    drop(ntx);
    // Rows at once (connecting), so the table never waits for the slowest device; then a
    // snapshot after every burst of answers.
    if send_snapshot(&inner, &updates, &tx).await.is_err() {
        return;
    }
    // A running update shows in the UPDATE column too: its changes count as news.
    let mut update_changes = updates.subscribe();
    loop {
        tokio::select! {
            answer = nrx.recv() => if answer.is_none() { return },
            changed = update_changes.changed() => if changed.is_err() { return },
        }
        // Coalesce a burst of answers (or progress lines) into one snapshot.
        tokio::time::sleep(Duration::from_millis(50)).await;
        while nrx.try_recv().is_ok() {}
        update_changes.borrow_and_update();
        if send_snapshot(&inner, &updates, &tx).await.is_err() {
            return;
        }
    }
}

async fn send_snapshot(inner: &Inner, updates: &Updates, tx: &EventTx) -> Result<(), ()> {
    let live = updates.live_steps();
    let rows: Vec<Resource> = inner
        .devices
        .iter()
        .map(|d| {
            let mut r = row(&inner.id, d);
            if let Some(step) = live.get(&d.spec.name) {
                r.cells[UPDATE_COLUMN] = step.clone();
            }
            r
        })
        .collect();
    let up = inner
        .devices
        .iter()
        .filter(|d| matches!(d.status().conn, Conn::Up))
        .count();
    let status = SourceStatus::Connected(format!("{up}/{} devices up", inner.devices.len()));
    tx.send(BackendEvent::Status(inner.id.clone(), status))
        .await
        .map_err(|_| ())?;
    tx.send(BackendEvent::Snapshot {
        source: inner.id.clone(),
        kind: ResourceKind::Device,
        resources: rows,
    })
    .await
    .map_err(|_| ())
}

async fn poll_device(
    inner: Arc<Inner>,
    dev: Arc<Device>,
    index: usize,
    notify: mpsc::Sender<usize>,
    sem: Arc<Semaphore>,
) {
    let mut backoff = Backoff::default();
    let mut pass = crate::ssh::auth::passphrases().subscribe();
    let interval = Duration::from_secs(dev.spec.facts_interval.max(1));
    loop {
        let result = {
            let Ok(_permit) = sem.acquire().await else {
                return;
            };
            inner.refresh(&dev).await
        };
        let delay = {
            let mut s = dev.status.lock().unwrap_or_else(|e| e.into_inner());
            match result {
                Ok(f) => {
                    s.conn = Conn::Up;
                    s.facts = Some(f);
                    s.updated = Some(jiff::Timestamp::now());
                    backoff.reset();
                    interval
                }
                Err(c) => {
                    // A known-bad host key does not fix itself quickly: poll it slowly.
                    let slow = matches!(
                        c,
                        Conn::Down(
                            SshError::ChangedHostKey { .. }
                                | SshError::RevokedHostKey { .. }
                                | SshError::KnownHostsUnreadable { .. }
                        )
                    );
                    s.conn = c;
                    if slow {
                        Backoff::MAX
                    } else {
                        backoff
                            .next_delay()
                            .min(interval.max(Duration::from_secs(5)))
                    }
                }
            }
        };
        if notify.send(index).await.is_err() {
            return;
        }
        let started = Instant::now();
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = dev.wake.notified() => {}
            _ = pass.changed() => {}
        }
        tracing::trace!(device = %dev.spec.name, waited = ?started.elapsed(), "refresh");
    }
}

/// `journalctl` or `tail` command for a device's log view.
pub fn log_command(spec: &DeviceSpec, opts: &LogOpts) -> String {
    let n = opts.tail.map(|n| n.to_string());
    if let Some(file) = &spec.log_file {
        let n = n.unwrap_or_else(|| "+1".into());
        let follow = if opts.follow { " -F" } else { "" };
        return format!("exec tail -n {n}{follow} {}", facts::sh_quote(file));
    }
    let mut cmd = String::from("exec journalctl --no-pager -o short-iso");
    if let Some(n) = &n {
        cmd.push_str(&format!(" -n {n}"));
    }
    if let Some(s) = opts.since_secs {
        let since = jiff::Timestamp::now().as_second() - i64::try_from(s).unwrap_or(0);
        cmd.push_str(&format!(" --since=@{since}"));
    }
    if opts.follow {
        cmd.push_str(" -f");
    }
    if let Some(u) = &spec.journal_unit {
        cmd.push_str(&format!(" -u {}", facts::sh_quote(u)));
    }
    cmd
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
                TaskHandle::spawn(watch(self.inner.clone(), self.updates.clone(), tx))
            }
            ResourceKind::Rollout | ResourceKind::DeviceUpdate => TaskHandle::spawn(
                updates::watch(self.updates.clone(), self.inner.clone(), kind, tx),
            ),
            _ => TaskHandle::none(),
        }
    }

    /// A console that starts picks up the rollouts a stopped one left running. The header
    /// names the fleet's size until the devices view polls them ("3/4 devices up").
    fn probe(&self, tx: EventTx) -> Option<TaskHandle> {
        // Detached: the rollouts must go on whatever becomes of the probe's handle.
        let updates = self.updates.clone();
        tokio::spawn(async move {
            let _ = tokio::task::spawn_blocking(move || updates.resume()).await;
        });
        let (id, n) = (self.inner.id.clone(), self.inner.devices.len());
        let updates = self.updates.clone();
        Some(TaskHandle::spawn(async move {
            let _ = tx
                .send(BackendEvent::Status(
                    id.clone(),
                    SourceStatus::Connected(format!("{n} devices")),
                ))
                .await;
            // Tell the console what quitting would interrupt, whenever that changes.
            let mut changes = updates.subscribe();
            let mut told = Vec::new();
            loop {
                let work = updates.work();
                if work != told {
                    let event = BackendEvent::Work {
                        source: id.clone(),
                        work: work.clone(),
                    };
                    if tx.send(event).await.is_err() {
                        return;
                    }
                    told = work;
                }
                if changes.changed().await.is_err() {
                    return;
                }
            }
        }))
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
        TaskHandle::spawn(logs::run(
            self.inner.clone(),
            target.clone(),
            opts,
            stream,
            tx,
        ))
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
        use crate::rollout::driver;
        let manual = matches!(
            action,
            ResourceAction::Commit
                | ResourceAction::Rollback
                | ResourceAction::ClearFailed
                | ResourceAction::Reboot
        );
        if !manual || target.kind == ResourceKind::Rollout {
            return self.act_plain(target, action).await.map(Into::into);
        }
        // An update row's id is `ROLLOUT/DEVICE`: its actions are the device's.
        let device_id = match target.kind {
            ResourceKind::DeviceUpdate => target.id.rsplit('/').next().unwrap_or(&target.id),
            _ => target.id.as_str(),
        };
        if self.updates.is_busy(device_id) {
            bail!("{device_id} is being updated by a rollout: pause or abort it, or wait");
        }
        let t = (updates::targets(&self.inner))(device_id)
            .ok_or_else(|| anyhow!("no device {device_id}"))?;
        if *action == ResourceAction::Reboot {
            return driver::reboot(&*t.link, &t.plan, self.updates.poll(), device_id)
                .await
                .map(Into::into)
                .map_err(|e| anyhow!(e));
        }
        let last = self.updates.latest(device_id);
        let done = driver::manual(&*t.link, &t.plan, device_id, action, last.as_ref())
            .await
            .map_err(|e| anyhow!(e))?;
        Ok(ActionOutcome {
            message: done.message,
            offer: done.reboot_needed.then_some(ResourceAction::Reboot),
        })
    }

    async fn describe(&self, target: &ResourceKey) -> anyhow::Result<String> {
        if matches!(
            target.kind,
            ResourceKind::Rollout | ResourceKind::DeviceUpdate
        ) {
            let doc = self
                .updates
                .describe(target.kind, &target.id)
                .ok_or_else(|| anyhow!("no update {}", target.id))?;
            return Ok(serde_saphyr::to_string(&doc)?);
        }
        let name = target.id.split('/').next().unwrap_or(&target.id);
        let dev = self
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
        let route: Vec<String> = dev
            .route
            .hops
            .iter()
            .map(|h| format!("{}@{}:{}", h.user, h.host, h.port))
            .collect();
        let doc = serde_json::json!({
            "device": dev.spec,
            "route": route,
            "state": state,
            "updated": st.updated.map(|t| t.to_string()),
            "facts": st.facts,
        });
        Ok(serde_saphyr::to_string(&doc)?)
    }

    async fn shell(&self, target: &ResourceKey, opts: &ShellOpts) -> anyhow::Result<ShellSession> {
        let (name, sandbox) = match target.id.split_once('/') {
            Some((d, s)) => (d, Some(s)),
            None => (target.id.as_str(), None),
        };
        let dev = self
            .inner
            .device(name)
            .ok_or_else(|| anyhow!("no device {name}"))?;
        match sandbox {
            None => {
                let conn = self.inner.connection(dev).await?;
                Ok(client::shell(conn, None, opts.cols, opts.rows).await?)
            }
            Some(sb) => {
                let sb = dev
                    .spec
                    .sandboxes
                    .iter()
                    .find(|s| s.name == sb)
                    .ok_or_else(|| anyhow!("{name} has no sandbox {sb}"))?;
                // A separate login as the sandbox's user.
                let route =
                    client::resolve(&target_of(&dev.spec, Some(&sb.user)), &self.inner.opts);
                let conn = Arc::new(client::connect(&route, &self.inner.opts).await?);
                Ok(client::shell(conn, sb.command.as_deref(), opts.cols, opts.rows).await?)
            }
        }
    }

    async fn exec(&self, target: &ResourceKey, cmd: &[String]) -> anyhow::Result<(i64, String)> {
        let dev = self
            .inner
            .device(&target.id)
            .ok_or_else(|| anyhow!("no device {}", target.id))?;
        if cmd.is_empty() {
            bail!("exec needs a command");
        }
        // Like ssh: the words are joined and the remote shell interprets them.
        self.inner
            .run(dev, &cmd.join(" "), run::OUTPUT_LIMIT)
            .await
            .map_err(|e| anyhow!(e))
    }
}

impl FleetBackend {
    /// Every action but the manual update ones ([`Backend::act_outcome`]).
    async fn act_plain(
        &self,
        target: &ResourceKey,
        action: &ResourceAction,
    ) -> anyhow::Result<String> {
        if target.kind == ResourceKind::Rollout {
            let wish = match action {
                ResourceAction::Pause => RolloutState::Paused,
                ResourceAction::Activate => RolloutState::Running,
                ResourceAction::AbortDeployment => RolloutState::Aborted,
                other => bail!("{} is not available for rollouts", other.name()),
            };
            return self
                .updates
                .control(&target.id, wish)
                .await
                .map_err(|e| anyhow!(e));
        }
        if let ResourceAction::StartUpdate(req) = action {
            let id = self.updates.start(req).await.map_err(|e| anyhow!(e))?;
            return Ok(format!("rollout {id} started: {}", req.label()));
        }
        let dev = self
            .inner
            .device(&target.id)
            .ok_or_else(|| anyhow!("no device {}", target.id))?;
        match action {
            ResourceAction::AcceptHostKey(confirmed) => {
                self.accept_host_key(dev, &target.id, confirmed).await
            }
            other => bail!("{} is not available for devices", other.name()),
        }
    }
}

impl FleetBackend {
    /// Trust `dev`'s unknown host key, but only the key whose fingerprint the operator saw in
    /// the dialog (`confirmed`). The device is asked again now, and a different key presented
    /// now (a MITM switching keys after the poll) is refused with both fingerprints: the check
    /// and the write concern the same key, the one of this very handshake.
    async fn accept_host_key(
        &self,
        dev: &Device,
        name: &str,
        confirmed: &str,
    ) -> anyhow::Result<String> {
        if confirmed.is_empty() {
            bail!("no host key fingerprint was confirmed for {name}; nothing trusted");
        }
        self.inner.forget(dev).await;
        match client::connect(&dev.route, &self.inner.opts).await {
            Ok(c) => {
                *dev.conn.lock().await = Some(Arc::new(c));
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
                let file = self
                    .inner
                    .file
                    .known_hosts
                    .clone()
                    .or_else(|| dev.spec.known_hosts.first().cloned())
                    .unwrap_or_else(|| self.inner.opts.user_known_hosts.clone());
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(yaml: &str) -> DeviceSpec {
        FleetFile::from_yaml(yaml, std::path::Path::new("/f/x.yaml"))
            .unwrap()
            .devices
            .remove(0)
    }

    #[test]
    fn log_commands() {
        let follow = LogOpts {
            follow: true,
            tail: Some(100),
            since_secs: None,
            previous: false,
        };
        let j = spec("devices:\n  - {name: a, journal_unit: appliance}\n");
        assert_eq!(
            log_command(&j, &follow),
            "exec journalctl --no-pager -o short-iso -n 100 -f -u 'appliance'"
        );
        let whole = spec("devices:\n  - {name: a}\n");
        let all = LogOpts {
            follow: false,
            tail: None,
            since_secs: None,
            previous: false,
        };
        assert_eq!(
            log_command(&whole, &all),
            "exec journalctl --no-pager -o short-iso"
        );
        let f = spec("devices:\n  - {name: a, log_file: \"/var/log/it's.log\"}\n");
        assert_eq!(
            log_command(&f, &follow),
            r"exec tail -n 100 -F '/var/log/it'\''s.log'"
        );
        assert_eq!(
            log_command(&f, &all),
            r"exec tail -n +1 '/var/log/it'\''s.log'"
        );
    }
}
