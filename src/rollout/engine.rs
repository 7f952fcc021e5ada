//! Group rollouts: update many devices with at most N at once, stop starting new ones after K
//! failures (or X %), pause/resume/abort, and show every device's step.
//!
//! On disk, under the fleet's update dir: `<rollout id>/rollout.json` (what was asked and the
//! rollout's state) and `<rollout id>/devices/<device>.json` (one record per device, written
//! before each step is acted on), plus two kinds of locks (owner.rs): `<rollout id>/owner.lock`,
//! held for as long as a process drives the rollout — another console or `fleetdeck update`
//! only shows it, live from disk, and takes it over when the owner is gone — and
//! `locks/<device>.lock`, held while a process drives that device, so two rollouts never drive
//! one device at once. A driver re-reads the device's record after taking its lock, and the
//! store refuses a transition from a record that is no longer the one on disk.

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use super::driver::{self, AtHold, Plan};
use super::journal::{Journal, Publish};
use super::link::DeviceLink;
use super::owner::{self, Busy, Held};
use super::state::{StateStore, Step, UpdateRecord, file_name};
use crate::audit::AuditLog;
use crate::model::{
    FailureLimit, Health, Labels, Resource, ResourceKey, ResourceKind, SourceId, UpdateRequest,
};

/// The most rollouts the views list (newest first); older ones stay on disk.
const SHOWN_ROLLOUTS: usize = 20;
/// How often a rollout another process drives is re-read from disk.
const OBSERVE_EVERY: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RolloutState {
    Running,
    /// Starts no new devices; running ones finish.
    Paused,
    /// The operator aborted: running devices finish, no new ones start.
    Aborting,
    /// Stopped for good by the operator.
    Aborted,
    /// The failure limit was reached.
    Stopped,
    Done,
}

impl RolloutState {
    pub fn is_final(self) -> bool {
        matches!(
            self,
            RolloutState::Aborted | RolloutState::Stopped | RolloutState::Done
        )
    }
}

/// What was asked, and where the rollout stands (`rollout.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RolloutSpec {
    pub id: String,
    pub artifact: String,
    pub devices: Vec<String>,
    pub parallel: usize,
    pub max_failures: FailureLimit,
    pub created: jiff::Timestamp,
    pub state: RolloutState,
    /// Devices stop at `verified, waiting for commit` until the operator commits them.
    #[serde(default)]
    pub hold_before_commit: bool,
}

/// Pending, running, succeeded, failed, rolled back (and held, skipped).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub pending: usize,
    /// Includes the held ones.
    pub running: usize,
    pub succeeded: usize,
    pub failed: usize,
    pub rolled_back: usize,
    /// Verified, waiting for the operator's commit.
    pub held: usize,
    /// Left out by the pre-flight check.
    pub skipped: usize,
}

impl Counts {
    pub fn of<'a>(records: impl IntoIterator<Item = &'a UpdateRecord>) -> Counts {
        let mut c = Counts::default();
        for r in records {
            match r.step {
                Step::Pending => c.pending += 1,
                Step::Committed => c.succeeded += 1,
                Step::Failed => c.failed += 1,
                Step::RolledBack => c.rolled_back += 1,
                Step::Skipped => c.skipped += 1,
                Step::Held => {
                    c.held += 1;
                    c.running += 1;
                }
                _ => c.running += 1,
            }
        }
        c
    }

    /// Devices that count against the failure limit.
    pub fn failures(&self) -> usize {
        self.failed + self.rolled_back
    }
}

impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} pending, {} running, {} succeeded, {} failed, {} rolled back",
            self.pending, self.running, self.succeeded, self.failed, self.rolled_back
        )?;
        if self.held > 0 {
            write!(f, ", {} waiting for commit", self.held)?;
        }
        if self.skipped > 0 {
            write!(f, ", {} skipped", self.skipped)?;
        }
        Ok(())
    }
}

/// How to reach and update one device of the fleet.
pub struct DeviceTarget {
    pub link: Arc<dyn DeviceLink>,
    pub plan: Plan,
}

/// Looks a device up by name (None: not in the fleet).
pub type Targets = Arc<dyn Fn(&str) -> Option<DeviceTarget> + Send + Sync>;

struct Entry {
    spec: RolloutSpec,
    records: BTreeMap<String, UpdateRecord>,
    /// Running/Paused/Aborted wishes of the operator, for the rollout's task.
    control: Option<watch::Sender<RolloutState>>,
    /// Failure limit reached: no new devices start.
    stopping: bool,
    /// Another process drives this rollout: this one only shows it (from disk).
    owned_elsewhere: Option<Busy>,
    /// What each device's updater printed, and its steps (the update's log view), bounded.
    output: BTreeMap<String, Vec<(jiff::Timestamp, String)>>,
    /// The operator's answers to held devices (commit or roll back), until their driver
    /// takes them.
    release: BTreeMap<String, AtHold>,
}

/// Lines kept per device update for its log view.
const OUTPUT_LINES: usize = 2000;

struct Shared {
    root: PathBuf,
    audit: Option<AuditLog>,
    source: SourceId,
    targets: Targets,
    poll: Duration,
    entries: Mutex<BTreeMap<String, Entry>>,
    version: watch::Sender<u64>,
    /// Read from disk once; a caller that comes while another reads waits for it (an
    /// `AtomicBool` set before reading let `resume` see no rollouts and drive none when the
    /// `:updates` watch happened to load first).
    loaded: std::sync::Once,
    resumed: AtomicBool,
}

/// The rollouts of one fleet. Cheap to clone.
#[derive(Clone)]
pub struct Updates {
    shared: Arc<Shared>,
}

impl Updates {
    /// `root`: this fleet's update dir; `audit`: where transitions are recorded.
    pub fn new(root: PathBuf, audit: Option<AuditLog>, source: SourceId, targets: Targets) -> Self {
        Updates {
            shared: Arc::new(Shared {
                root,
                audit,
                source,
                targets,
                poll: Duration::from_secs(2),
                entries: Mutex::new(BTreeMap::new()),
                version: watch::channel(0).0,
                loaded: std::sync::Once::new(),
                resumed: AtomicBool::new(false),
            }),
        }
    }

    /// Check devices this often while they reboot (tests and benches go faster). Only before
    /// the store is shared: a clone keeps the poll it was made with.
    pub fn with_poll(mut self, poll: Duration) -> Self {
        if let Some(s) = Arc::get_mut(&mut self.shared) {
            s.poll = poll;
        }
        self
    }

    pub fn root(&self) -> &Path {
        &self.shared.root
    }

    /// How often devices are checked while they reboot.
    pub fn poll(&self) -> Duration {
        self.shared.poll
    }

    /// Changes bump this counter.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.shared.version.subscribe()
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Entry>> {
        self.shared
            .entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    fn bump(&self) {
        self.shared.version.send_modify(|v| *v += 1);
    }

    /// Read what is on disk once (blocking: call from a blocking-safe place or accept the
    /// small cost at first use); problems are logged and the rest loads.
    pub fn load(&self) {
        self.shared.loaded.call_once(|| self.load_now());
    }

    fn load_now(&self) {
        let Ok(dirs) = std::fs::read_dir(&self.shared.root) else {
            return;
        };
        let mut found = BTreeMap::new();
        for d in dirs.flatten() {
            if let Some((spec, records)) = self.read_rollout(&d.path()) {
                found.insert(
                    spec.id.clone(),
                    Entry {
                        spec,
                        records,
                        control: None,
                        stopping: false,
                        owned_elsewhere: None,
                        output: BTreeMap::new(),
                        release: BTreeMap::new(),
                    },
                );
            }
        }
        let mut entries = self.entries();
        for (id, e) in found {
            entries.entry(id).or_insert(e);
        }
        drop(entries);
        self.bump();
    }

    /// One rollout as it is on disk (blocking).
    fn read_rollout(&self, dir: &Path) -> Option<(RolloutSpec, BTreeMap<String, UpdateRecord>)> {
        let path = dir.join("rollout.json");
        let text = std::fs::read(&path).ok()?;
        let spec: RolloutSpec = match serde_json::from_slice(&text) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!("{}: {e}", path.display());
                return None;
            }
        };
        let (recs, errors) = self.store(&spec.id).load_all();
        for e in errors {
            tracing::warn!("{e}");
        }
        let records = recs.into_iter().map(|r| (r.device.clone(), r)).collect();
        Some((spec, records))
    }

    /// Replace this process's copy of rollout `id` by what is on disk (blocking).
    fn refresh(&self, id: &str) {
        let Some((spec, records)) = self.read_rollout(&self.shared.root.join(id)) else {
            return;
        };
        if let Some(e) = self.entries().get_mut(id) {
            e.spec = spec;
            e.records = records;
        }
        self.bump();
    }

    fn store(&self, id: &str) -> StateStore {
        StateStore::new(self.shared.root.join(id).join("devices"))
    }

    fn save_spec(&self, spec: &RolloutSpec) -> Result<(), String> {
        let dir = self.shared.root.join(&spec.id);
        let write = || -> std::io::Result<()> {
            crate::fsx::private_dir_all(&dir)?;
            // A temp name of this process's own: never shared with another writer.
            let tmp = dir.join(format!("rollout.json.{}.tmp", std::process::id()));
            let body = serde_json::to_vec_pretty(spec).map_err(std::io::Error::other)?;
            {
                use std::io::Write;
                let mut f = crate::fsx::private_file()
                    .write(true)
                    .create(true)
                    .truncate(true)
                    .open(&tmp)?;
                f.write_all(&body)?;
                f.sync_all()?;
            }
            std::fs::rename(&tmp, dir.join("rollout.json"))?;
            std::fs::File::open(&dir)?.sync_all()
        };
        write().map_err(|e| format!("{}: {e}", dir.display()))
    }

    /// Pick up rollouts a stopped console left running (once per process). A rollout another
    /// live process drives is only shown, from disk, until that process is gone.
    pub fn resume(&self) {
        if self.shared.resumed.swap(true, Ordering::SeqCst) {
            return;
        }
        self.load();
        let ids: Vec<String> = self
            .entries()
            .values()
            .filter(|e| !e.spec.state.is_final() && e.control.is_none())
            .map(|e| e.spec.id.clone())
            .collect();
        for id in ids {
            match self.claim(&id) {
                Ok(Ok(held)) => {
                    tracing::info!(rollout = %id, "resuming");
                    self.refresh(&id);
                    self.spawn_run(&id, held);
                }
                Ok(Err(busy)) => {
                    tracing::info!(rollout = %id, "driven by {busy}: showing it");
                    self.observe(&id, busy);
                }
                Err(e) => tracing::warn!(rollout = %id, "{e}"),
            }
        }
    }

    /// The rollout's owner lock.
    fn claim(&self, id: &str) -> Result<Result<Held, Busy>, String> {
        owner::try_lock(&self.shared.root.join(id).join("owner.lock"))
    }

    /// Show a rollout another process drives: re-read it from disk every second; take it over
    /// when that process is gone (its lock free), never before.
    fn observe(&self, id: &str, busy: Busy) {
        if let Some(e) = self.entries().get_mut(id) {
            e.owned_elsewhere = Some(busy);
        }
        self.bump();
        let weak: Weak<Shared> = Arc::downgrade(&self.shared);
        let id = id.to_string();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(OBSERVE_EVERY).await;
                let Some(shared) = weak.upgrade() else { return };
                let this = Updates { shared };
                let (t, i) = (this.clone(), id.clone());
                let Ok((claimed, ended)) = tokio::task::spawn_blocking(move || {
                    t.refresh(&i);
                    let ended = t.entries().get(&i).is_none_or(|e| e.spec.state.is_final());
                    (t.claim(&i), ended)
                })
                .await
                else {
                    return;
                };
                match claimed {
                    Ok(Ok(held)) => {
                        if let Some(e) = this.entries().get_mut(&id) {
                            e.owned_elsewhere = None;
                        }
                        if !ended {
                            tracing::info!(rollout = %id, "its owner is gone: taking it over");
                            // Read again under the lock: the owner may have written last words.
                            let (t, i) = (this.clone(), id.clone());
                            let _ = tokio::task::spawn_blocking(move || t.refresh(&i)).await;
                            this.spawn_run(&id, held);
                        }
                        this.bump();
                        return;
                    }
                    Ok(Err(_)) if ended => {
                        // The owner is finishing up: nothing left to take over.
                        if let Some(e) = this.entries().get_mut(&id) {
                            e.owned_elsewhere = None;
                        }
                        this.bump();
                        return;
                    }
                    Ok(Err(_)) => {}
                    Err(e) => tracing::warn!(rollout = %id, "{e}"),
                }
            }
        });
    }

    /// Devices some unfinished rollout of this process is updating.
    fn busy(&self, entries: &BTreeMap<String, Entry>) -> Vec<String> {
        entries
            .values()
            .filter(|e| !e.spec.state.is_final())
            .flat_map(|e| e.records.values())
            .filter(|r| !r.step.is_final())
            .map(|r| r.device.clone())
            .collect()
    }

    /// Start a rollout; its id.
    pub async fn start(&self, req: &UpdateRequest) -> Result<String, String> {
        if req.devices.is_empty() {
            return Err("no devices to update".into());
        }
        if req.artifact.trim().is_empty() {
            return Err("which artifact? (a URL or a local file)".into());
        }
        let skipped = |d: &String| req.skip.iter().any(|s| &s.device == d);
        let started: Vec<&String> = req.devices.iter().filter(|d| !skipped(d)).collect();
        if started.is_empty() {
            return Err("nothing to update: every device is skipped".into());
        }
        for d in started.iter().copied() {
            match (self.shared.targets)(d) {
                None => return Err(format!("{d} is not in this fleet")),
                Some(t) if t.plan.updater == crate::backend::fleet::file::UpdaterKind::None => {
                    return Err(format!(
                        "{d} has no updater: set `updater: mender|appliance|custom` in the fleet file"
                    ));
                }
                Some(_) => {}
            }
        }
        // Nothing starts unaudited: the journal audits every transition (issue 11, M1).
        if let Some(audit) = self.shared.audit.clone() {
            tokio::task::spawn_blocking(move || audit.check_writable())
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| format!("update refused: {e}"))?;
        }
        let (spec, records, held) = {
            let mut entries = self.entries();
            let busy = self.busy(&entries);
            if let Some(d) = started.iter().find(|d| busy.contains(d)) {
                return Err(format!("{d} is already being updated by a running rollout"));
            }
            let now = jiff::Timestamp::now();
            let (id, held) = self.reserve_id(&entries, now)?;
            let spec = RolloutSpec {
                id: id.clone(),
                artifact: req.artifact.trim().to_string(),
                devices: req.devices.clone(),
                parallel: req.parallel.clamp(1, 256),
                max_failures: req.max_failures,
                created: now,
                state: RolloutState::Running,
                hold_before_commit: req.hold_before_commit,
            };
            // Reserve the devices before the files exist; the skipped ones are final at once,
            // with the pre-flight check's reason (shown in :updates).
            let records: Vec<UpdateRecord> = req
                .devices
                .iter()
                .map(|d| {
                    let mut r = pending(d, &spec);
                    if let Some(s) = req.skip.iter().find(|s| &s.device == d) {
                        r.step = Step::Skipped;
                        r.reason = Some(s.reason.clone());
                    }
                    r
                })
                .collect();
            entries.insert(
                id,
                Entry {
                    spec: spec.clone(),
                    records: records
                        .iter()
                        .map(|r| (r.device.clone(), r.clone()))
                        .collect(),
                    control: None,
                    stopping: false,
                    owned_elsewhere: None,
                    output: BTreeMap::new(),
                    release: BTreeMap::new(),
                },
            );
            (spec, records, held)
        };
        let (this, s) = (self.clone(), spec.clone());
        let written = tokio::task::spawn_blocking(move || {
            this.save_spec(&s)?;
            this.store(&s.id)
                .save_all(&records)
                .map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r);
        if let Err(e) = written {
            self.entries().remove(&spec.id);
            return Err(format!("cannot record the rollout: {e}"));
        }
        self.spawn_run(&spec.id, held);
        self.bump();
        Ok(spec.id)
    }

    /// A new rollout's id (its start second, `-2`, `-3`... when taken), reserved across
    /// processes by creating its directory (`mkdir` fails when another process got there
    /// first), and its owner lock. Called with the entries locked: quick syscalls only.
    fn reserve_id(
        &self,
        entries: &BTreeMap<String, Entry>,
        now: jiff::Timestamp,
    ) -> Result<(String, Held), String> {
        let root = &self.shared.root;
        crate::fsx::private_dir_all(root)
            .map_err(|e| format!("cannot record the rollout: {}: {e}", root.display()))?;
        let base = now.strftime("%Y%m%d-%H%M%S").to_string();
        for n in 1..1000 {
            let id = if n == 1 {
                base.clone()
            } else {
                format!("{base}-{n}")
            };
            if entries.contains_key(&id) {
                continue;
            }
            let dir = root.join(&id);
            match std::os::unix::fs::DirBuilderExt::mode(&mut std::fs::DirBuilder::new(), 0o700)
                .create(&dir)
            {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return Err(format!("cannot record the rollout: {}: {e}", dir.display()));
                }
            }
            return match self.claim(&id)? {
                Ok(held) => Ok((id, held)),
                Err(busy) => Err(format!("rollout {id} was just taken by {busy}")),
            };
        }
        Err("cannot record the rollout: no free id for this second".into())
    }

    /// Pause (no new devices), resume, or abort (no new devices, for good).
    pub async fn control(&self, id: &str, wish: RolloutState) -> Result<String, String> {
        let spec = {
            let mut entries = self.entries();
            let e = entries
                .get_mut(id)
                .ok_or_else(|| format!("no rollout {id}"))?;
            if e.spec.state.is_final() {
                return Err(format!("rollout {id} has ended ({:?})", e.spec.state).to_lowercase());
            }
            if e.spec.state == RolloutState::Aborting {
                return Err(format!("rollout {id} is being aborted"));
            }
            if let Some(busy) = e.owned_elsewhere {
                return Err(format!(
                    "rollout {id} is driven by {busy}: pause or abort it there"
                ));
            }
            let wish = match wish {
                RolloutState::Aborted => RolloutState::Aborting,
                w => w,
            };
            e.spec.state = wish;
            if let Some(c) = &e.control {
                // Even before the rollout's task subscribed.
                c.send_replace(wish);
            }
            e.spec.clone()
        };
        let this = self.clone();
        let s = spec.clone();
        tokio::task::spawn_blocking(move || this.save_spec(&s))
            .await
            .map_err(|e| e.to_string())??;
        self.bump();
        Ok(match wish {
            RolloutState::Paused => {
                format!("rollout {id} paused: running devices finish, no new ones start")
            }
            RolloutState::Running => format!("rollout {id} resumed"),
            _ => format!("rollout {id} aborted: running devices finish, no new ones start"),
        })
    }

    /// Rollouts this process drives that have devices left to update: what quitting would
    /// interrupt.
    pub fn work(&self) -> Vec<crate::model::Work> {
        self.entries()
            .values()
            .filter(|e| e.control.is_some() && !e.spec.state.is_final())
            .filter_map(|e| {
                let c = Counts::of(e.records.values());
                // Devices held before commit keep their slots: when they fill them, nothing
                // starts until the operator commits.
                let starting = if e.spec.state == RolloutState::Running
                    && !e.stopping
                    && c.held < e.spec.parallel
                {
                    c.pending
                } else {
                    0
                };
                // A held device waits on disk: quitting interrupts nothing there.
                let moving = c.running - c.held;
                (moving + starting > 0).then(|| crate::model::Work {
                    key: ResourceKey {
                        source: self.shared.source.clone(),
                        kind: ResourceKind::Rollout,
                        id: e.spec.id.clone(),
                    },
                    summary: format!("{moving} device(s) mid-update, {starting} to start"),
                })
            })
            .collect()
    }

    /// Is any device update under way (the views' elapsed times move)?
    pub fn any_running(&self) -> bool {
        self.entries().values().any(|e| !e.spec.state.is_final())
    }

    /// Devices mid-update and where they are ("installing 40%"), for the devices table.
    pub fn live_steps(&self) -> std::collections::HashMap<String, String> {
        self.entries()
            .values()
            .filter(|e| !e.spec.state.is_final())
            .flat_map(|e| e.records.values())
            .filter(|r| !r.step.is_final() && r.step != Step::Pending)
            .map(|r| {
                let text = match r.percent {
                    Some(p) if r.step != Step::Rebooting => format!("{} {p}%", r.step.label()),
                    _ => r.step.label().to_string(),
                };
                (r.device.clone(), text)
            })
            .collect()
    }

    /// The newest update of `device` that got past `pending` (what a manual commit or
    /// rollback must know: did the device reboot since that install?).
    pub fn latest(&self, device: &str) -> Option<UpdateRecord> {
        self.entries()
            .values()
            .filter_map(|e| e.records.get(device))
            // A skipped device was never touched: its record says nothing about the device.
            .filter(|r| !matches!(r.step, Step::Pending | Step::Skipped))
            .max_by_key(|r| r.started)
            .cloned()
    }

    /// Is `device` being driven by a rollout right now?
    pub fn is_busy(&self, device: &str) -> bool {
        self.busy(&self.entries()).iter().any(|d| d == device)
    }

    /// Drive rollout `id` in this process, holding its owner lock until it ends.
    fn spawn_run(&self, id: &str, owner: Held) {
        let (tx, _) = watch::channel(RolloutState::Running);
        {
            let mut entries = self.entries();
            let Some(e) = entries.get_mut(id) else { return };
            tx.send_replace(e.spec.state);
            e.control = Some(tx.clone());
        }
        let this = self.clone();
        let id = id.to_string();
        tokio::spawn(async move {
            this.run(id, tx.subscribe()).await;
            drop(owner);
        });
    }

    fn publisher(&self, id: &str) -> Publish {
        let weak: Weak<Shared> = Arc::downgrade(&self.shared);
        let id = id.to_string();
        Arc::new(move |rec: &UpdateRecord| {
            let Some(shared) = weak.upgrade() else { return };
            let this = Updates { shared };
            if let Some(e) = this.entries().get_mut(&id) {
                // The log view: every new step and every new output line, in order.
                let before = e.records.get(&rec.device);
                let mut lines = Vec::new();
                if before.is_none_or(|b| b.step != rec.step) {
                    let why = match (&rec.reason, rec.step) {
                        (Some(r), Step::Failed | Step::RolledBack | Step::RollingBack) => {
                            format!(": {r}")
                        }
                        _ => String::new(),
                    };
                    lines.push(format!("── {}{why}", rec.step.label()));
                }
                if !rec.last_line.is_empty() && before.is_none_or(|b| b.last_line != rec.last_line)
                {
                    lines.push(rec.last_line.clone());
                }
                if !lines.is_empty() {
                    let out = e.output.entry(rec.device.clone()).or_default();
                    let now = jiff::Timestamp::now();
                    out.extend(lines.into_iter().map(|l| (now, l)));
                    if out.len() > OUTPUT_LINES {
                        out.drain(..out.len() - OUTPUT_LINES);
                    }
                }
                e.records.insert(rec.device.clone(), rec.clone());
            }
            this.bump();
        })
    }

    /// Output lines of one device update (`ROLLOUT/DEVICE`) from `from` on, and whether the
    /// update has ended. None: no such update.
    pub fn output(&self, id: &str, from: usize) -> Option<(Vec<(jiff::Timestamp, String)>, bool)> {
        let (rollout, device) = id.rsplit_once('/')?;
        let entries = self.entries();
        let e = entries.get(rollout)?;
        let done = e.records.get(device)?.step.is_final() || e.spec.state.is_final();
        let lines = e
            .output
            .get(device)
            .map(|o| o.iter().skip(from).cloned().collect())
            .unwrap_or_default();
        Some((lines, done))
    }

    async fn run(self, id: String, mut control: watch::Receiver<RolloutState>) {
        let Some((spec, records)) = self
            .entries()
            .get(&id)
            .map(|e| (e.spec.clone(), e.records.clone()))
        else {
            return;
        };
        let total = spec.devices.len();
        let mut queue: VecDeque<String> = spec
            .devices
            .iter()
            .filter(|d| records.get(*d).is_none_or(|r| r.step == Step::Pending))
            .cloned()
            .collect();
        let mut running = tokio::task::JoinSet::new();
        // Devices a stopped console left mid-update continue first (they count as running).
        for r in records
            .values()
            .filter(|r| !r.step.is_final() && r.step != Step::Pending)
        {
            running.spawn(self.clone().drive_one(id.clone(), r.clone()));
        }
        let end = loop {
            let wish = *control.borrow_and_update();
            let counts = Counts::of(
                self.entries()
                    .get(&id)
                    .map(|e| e.records.values())
                    .into_iter()
                    .flatten(),
            );
            let limit = spec.max_failures.reached(counts.failures(), total);
            if limit
                && let Some(e) = self.entries().get_mut(&id)
                && !e.stopping
            {
                e.stopping = true;
                self.bump();
            }
            if wish == RolloutState::Running && !limit {
                while running.len() < spec.parallel
                    && let Some(d) = queue.pop_front()
                {
                    let rec = self
                        .entries()
                        .get(&id)
                        .and_then(|e| e.records.get(&d).cloned())
                        .unwrap_or_else(|| pending(&d, &spec));
                    running.spawn(self.clone().drive_one(id.clone(), rec));
                }
            }
            if running.is_empty() {
                if queue.is_empty() {
                    break RolloutState::Done;
                }
                if limit {
                    break RolloutState::Stopped;
                }
                if wish == RolloutState::Aborting {
                    break RolloutState::Aborted;
                }
            }
            tokio::select! {
                Some(_) = running.join_next(), if !running.is_empty() => {}
                changed = control.changed() => {
                    if changed.is_err() && running.is_empty() {
                        break RolloutState::Aborted;
                    }
                }
            }
        };
        let spec = {
            let mut entries = self.entries();
            let Some(e) = entries.get_mut(&id) else {
                return;
            };
            e.spec.state = end;
            e.control = None;
            e.spec.clone()
        };
        let this = self.clone();
        if let Ok(Err(e)) = tokio::task::spawn_blocking(move || this.save_spec(&spec)).await {
            tracing::warn!("{e}");
        }
        self.bump();
    }

    async fn drive_one(self, id: String, mut rec: UpdateRecord) {
        let publish = self.publisher(&id);
        let journal = Journal::new(
            self.store(&id),
            self.shared.audit.clone(),
            self.shared.source.as_str(),
            publish.clone(),
        );
        let Some(target) = (self.shared.targets)(&rec.device) else {
            rec.step = Step::Failed;
            rec.reason = Some(format!("{} is no longer in the fleet", rec.device));
            let _ = journal.save(&rec).await;
            return;
        };
        // One driver per device across processes.
        let _lock = loop {
            match self.lock(&rec.device) {
                Ok(l) => break l,
                Err(e) => {
                    rec.last_line = e;
                    publish(&rec);
                    tokio::time::sleep(Duration::from_secs(5)).await;
                }
            }
        };
        // Whatever this process read before the lock may be stale: the record on disk is the
        // truth (another process may have driven the device meanwhile).
        let (store, device) = (self.store(&id), rec.device.clone());
        match tokio::task::spawn_blocking(move || store.load(&device)).await {
            Ok(Ok(Some(disk))) if disk != rec => {
                rec = disk;
                publish(&rec);
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!("{e}"),
            Err(e) => tracing::warn!("{e}"),
        }
        if rec.step.is_final() {
            return;
        }
        let hold = self
            .entries()
            .get(&id)
            .is_some_and(|e| e.spec.hold_before_commit);
        let mut at_hold = if hold { AtHold::Wait } else { AtHold::Commit };
        loop {
            driver::drive(
                &*target.link,
                &target.plan,
                self.shared.poll,
                &journal,
                &mut rec,
                at_hold,
            )
            .await;
            if rec.step != Step::Held {
                return;
            }
            // Held: the device keeps its slot (a canary with -p 1 holds the whole rollout)
            // until the operator answers; the held step is on disk, so a restart holds again.
            at_hold = self.answer_to_hold(&id, &rec.device).await;
        }
    }

    /// Wait for the operator's answer to a held device: commit or roll back (an aborted
    /// rollout rolls its held devices back, like an aborted Mender deployment).
    async fn answer_to_hold(&self, id: &str, device: &str) -> AtHold {
        let mut changes = self.subscribe();
        loop {
            {
                let mut entries = self.entries();
                let Some(e) = entries.get_mut(id) else {
                    return AtHold::Wait;
                };
                if let Some(answer) = e.release.remove(device) {
                    return answer;
                }
                if matches!(e.spec.state, RolloutState::Aborting | RolloutState::Aborted) {
                    return AtHold::RollBack;
                }
            }
            if changes.changed().await.is_err() {
                return AtHold::Wait;
            }
        }
    }

    /// The operator's commit (`AtHold::Commit`) or rollback of held devices: `device` in
    /// rollout `rollout`, or every held device of the rollout when `device` is None. Err when
    /// nothing there is held.
    pub fn release(
        &self,
        rollout: &str,
        device: Option<&str>,
        answer: AtHold,
    ) -> Result<String, String> {
        let mut entries = self.entries();
        let e = entries
            .get_mut(rollout)
            .ok_or_else(|| format!("no rollout {rollout}"))?;
        if let Some(busy) = e.owned_elsewhere {
            return Err(format!(
                "rollout {rollout} is driven by {busy}: answer its held devices there"
            ));
        }
        let held: Vec<String> = e
            .records
            .values()
            .filter(|r| r.step == Step::Held && device.is_none_or(|d| d == r.device))
            .map(|r| r.device.clone())
            .collect();
        if held.is_empty() {
            return Err(match device {
                Some(d) => format!("{d} is not waiting for a commit in rollout {rollout}"),
                None => format!("no device of rollout {rollout} is waiting for a commit"),
            });
        }
        for d in &held {
            e.release.insert(d.clone(), answer);
        }
        drop(entries);
        self.bump();
        let verb = if answer == AtHold::RollBack {
            "rolling back"
        } else {
            "committing"
        };
        Ok(match held.as_slice() {
            [one] => format!("{verb} {one} (rollout {rollout})"),
            many => format!("{verb} {} held devices (rollout {rollout})", many.len()),
        })
    }

    /// The rollout holding `device` at `verified, waiting for commit`, if one does.
    pub fn held_in(&self, device: &str) -> Option<String> {
        self.entries()
            .values()
            .filter(|e| !e.spec.state.is_final())
            .find(|e| e.records.get(device).is_some_and(|r| r.step == Step::Held))
            .map(|e| e.spec.id.clone())
    }

    /// The unfinished rollout updating `device` (not pending, not final), if one is.
    pub fn driving(&self, device: &str) -> Option<String> {
        self.entries()
            .values()
            .filter(|e| !e.spec.state.is_final())
            .find(|e| e.records.get(device).is_some_and(|r| !r.step.is_final()))
            .map(|e| e.spec.id.clone())
    }

    /// "Go back" after a commit: the artifact `device` ran before its newest committed
    /// update, as a source fleetdeck can install again (the URL or file an earlier committed
    /// update of this device installed it from). (previous name, its source, current name).
    pub fn previous_artifact(&self, device: &str) -> Option<PreviousArtifact> {
        let entries = self.entries();
        let mut committed: Vec<&UpdateRecord> = entries
            .values()
            .filter_map(|e| e.records.get(device))
            .filter(|r| r.step == Step::Committed)
            .collect();
        committed.sort_by_key(|r| std::cmp::Reverse(r.changed));
        let newest = committed.first()?;
        let name = newest.previous.clone()?;
        let from = committed
            .iter()
            .skip(1)
            .find(|r| r.installed.as_deref() == Some(name.as_str()))?;
        Some(PreviousArtifact {
            name,
            source: from.artifact.clone(),
            current: newest
                .installed
                .clone()
                .unwrap_or_else(|| newest.artifact.clone()),
        })
    }

    /// Delete finished rollouts from the journal (their directories) and from the views.
    /// Never a running one, nor one another process drives. How many went.
    pub async fn clear_finished(&self) -> Result<String, String> {
        let ids: Vec<String> = self
            .entries()
            .values()
            .filter(|e| {
                e.spec.state.is_final() && e.control.is_none() && e.owned_elsewhere.is_none()
            })
            .map(|e| e.spec.id.clone())
            .collect();
        if ids.is_empty() {
            return Err("no finished rollout to clear".into());
        }
        let root = self.shared.root.clone();
        let (gone, failed) = {
            let ids = ids.clone();
            tokio::task::spawn_blocking(move || {
                let mut gone = Vec::new();
                let mut failed = Vec::new();
                for id in ids {
                    let dir = root.join(&id);
                    // Only a rollout nobody drives: its owner lock must be free.
                    match owner::try_lock(&dir.join("owner.lock")) {
                        Ok(Ok(held)) => {
                            let removed = std::fs::remove_dir_all(&dir);
                            drop(held);
                            match removed {
                                Ok(()) => gone.push(id),
                                Err(e) => failed.push(format!("{}: {e}", dir.display())),
                            }
                        }
                        Ok(Err(busy)) => failed.push(format!("{id}: driven by {busy}")),
                        Err(e) => failed.push(e),
                    }
                }
                (gone, failed)
            })
            .await
            .map_err(|e| e.to_string())?
        };
        {
            let mut entries = self.entries();
            for id in &gone {
                entries.remove(id);
            }
        }
        self.bump();
        let rows = if gone.len() == 1 {
            "rollout"
        } else {
            "rollouts"
        };
        match failed.as_slice() {
            [] => Ok(format!("cleared {} finished {rows}", gone.len())),
            _ => Err(format!(
                "cleared {} finished {rows}; not cleared: {}",
                gone.len(),
                failed.join("; ")
            )),
        }
    }

    /// How many finished rollouts (and their device rows) `clear_finished` would delete.
    pub fn finished(&self) -> (usize, usize) {
        self.entries()
            .values()
            .filter(|e| {
                e.spec.state.is_final() && e.control.is_none() && e.owned_elsewhere.is_none()
            })
            .fold((0, 0), |(r, d), e| (r + 1, d + e.records.len()))
    }

    fn lock(&self, device: &str) -> Result<Held, String> {
        let path = self
            .shared
            .root
            .join("locks")
            .join(format!("{}.lock", file_name(device)));
        match owner::try_lock(&path)? {
            Ok(held) => Ok(held),
            Err(busy) => Err(format!("waiting: {busy} is updating this device")),
        }
    }

    /// `d` on a rollout (its request, state and counts) or on one device's update (`ROLLOUT/DEVICE`).
    pub fn describe(&self, kind: ResourceKind, id: &str) -> Option<serde_json::Value> {
        let entries = self.entries();
        match kind {
            ResourceKind::Rollout => {
                let e = entries.get(id)?;
                let (state, _) = state_text(e);
                Some(serde_json::json!({
                    "rollout": e.spec,
                    "state": state,
                    "counts": Counts::of(e.records.values()).to_string(),
                }))
            }
            _ => {
                let (rollout, device) = id.rsplit_once('/')?;
                serde_json::to_value(entries.get(rollout)?.records.get(device)?).ok()
            }
        }
    }

    /// Where the rollout stands (cheap: no records copied).
    pub fn state(&self, id: &str) -> Option<RolloutState> {
        self.entries().get(id).map(|e| e.spec.state)
    }

    /// The rollout with this id, its records and counts (the CLI's progress).
    pub fn snapshot(&self, id: &str) -> Option<(RolloutSpec, Vec<UpdateRecord>)> {
        self.entries()
            .get(id)
            .map(|e| (e.spec.clone(), e.records.values().cloned().collect()))
    }

    /// Rows for `:rollouts` and `:updates`.
    pub fn rows(&self, now: jiff::Timestamp) -> (Vec<Resource>, Vec<Resource>) {
        let entries = self.entries();
        let mut rollouts = Vec::new();
        let mut updates = Vec::new();
        for e in entries.values().rev().take(SHOWN_ROLLOUTS) {
            rollouts.push(rollout_row(&self.shared.source, e));
            for r in e.records.values() {
                let mut row = update_row(&self.shared.source, r, now);
                // Commit and rollback by hand are refused before asking while a rollout
                // drives the device (a held one is answered through its rollout).
                if !e.spec.state.is_final() && !r.step.is_final() {
                    row.facts.update_guard = Some(Box::new(crate::model::UpdateGuard {
                        rollout: Some(e.spec.id.clone()),
                        held: r.step == Step::Held,
                        ..Default::default()
                    }));
                }
                updates.push(row);
            }
        }
        (rollouts, updates)
    }
}

/// Why a commit or rollback by hand is refused on a device a rollout drives, and the way
/// out. The console says it before asking (from the row's facts), the backend again if asked.
pub fn driven_by(device: &str, rollout: &str) -> String {
    format!(
        "{device} is being updated by rollout {rollout}: pause (P) or abort (x) it in :rollouts, \
         or wait"
    )
}

/// The artifact a device ran before its newest committed update, and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviousArtifact {
    /// Its name (`show-artifact` before that update).
    pub name: String,
    /// The URL or file an earlier committed update installed it from.
    pub source: String,
    /// What the device runs now.
    pub current: String,
}

/// A device's record before its update starts.
fn pending(device: &str, spec: &RolloutSpec) -> UpdateRecord {
    let mut r = UpdateRecord::new(device, &spec.artifact);
    r.rollout = spec.id.clone();
    r
}

fn state_text(e: &Entry) -> (String, Health) {
    let counts = Counts::of(e.records.values());
    let bad = counts.failures() > 0;
    if let Some(busy) = e.owned_elsewhere
        && !e.spec.state.is_final()
    {
        let by = busy
            .pid
            .map(|p| format!("pid {p}"))
            .unwrap_or("another process".into());
        return (
            format!("{:?} by {by}", e.spec.state).to_lowercase(),
            Health::Pending,
        );
    }
    match e.spec.state {
        RolloutState::Running if e.stopping => ("stopping (failure limit)".into(), Health::Failed),
        RolloutState::Running | RolloutState::Paused if counts.held > 0 => (
            format!(
                "{}, {} waiting for commit",
                if e.spec.state == RolloutState::Paused {
                    "paused"
                } else {
                    "running"
                },
                counts.held
            ),
            Health::Pending,
        ),
        RolloutState::Running => (
            "running".into(),
            if bad { Health::Failed } else { Health::Pending },
        ),
        RolloutState::Paused => ("paused".into(), Health::Pending),
        RolloutState::Aborting => ("aborting".into(), Health::Stopped),
        RolloutState::Aborted => ("aborted".into(), Health::Stopped),
        RolloutState::Stopped => ("stopped (failure limit)".into(), Health::Failed),
        RolloutState::Done if bad => ("done".into(), Health::Failed),
        RolloutState::Done => ("done".into(), Health::Ok),
    }
}

fn rollout_row(source: &SourceId, e: &Entry) -> Resource {
    let c = Counts::of(e.records.values());
    let (state, health) = state_text(e);
    let mut labels = Labels::new();
    labels.insert("summary".into(), c.to_string());
    Resource {
        key: ResourceKey {
            source: source.clone(),
            kind: ResourceKind::Rollout,
            id: e.spec.id.clone(),
        },
        name: e.spec.id.clone(),
        parent: None,
        health,
        cells: vec![
            e.spec.id.clone(),
            e.spec.artifact.clone(),
            state,
            e.spec.devices.len().to_string(),
            c.pending.to_string(),
            c.running.to_string(),
            c.succeeded.to_string(),
            c.failed.to_string(),
            c.rolled_back.to_string(),
            e.spec.parallel.to_string(),
            e.spec.max_failures.to_string(),
            String::new(),
        ],
        created: Some(e.spec.created),
        labels,
        facts: Default::default(),
    }
}

/// `██████░░░░ 60%`
pub fn gauge(percent: Option<u8>) -> String {
    match percent {
        None => String::new(),
        Some(p) => {
            let p = p.min(100);
            let full = usize::from(p) / 10;
            format!("{}{} {p}%", "█".repeat(full), "░".repeat(10 - full))
        }
    }
}

/// `42s`, `3m05s`, `1h02m`.
pub fn elapsed(secs: i64) -> String {
    let s = secs.max(0);
    match s {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m{:02}s", s / 60, s % 60),
        s => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

fn update_row(source: &SourceId, r: &UpdateRecord, now: jiff::Timestamp) -> Resource {
    let end = if r.step.is_final() { r.changed } else { now };
    let health = match r.step {
        Step::Committed => Health::Ok,
        Step::Failed | Step::RolledBack => Health::Failed,
        Step::Pending => Health::Unknown,
        Step::Skipped => Health::Stopped,
        _ => Health::Pending,
    };
    let mut labels = Labels::new();
    labels.insert("rollout".into(), r.rollout.clone());
    if let Some(reason) = &r.reason {
        labels.insert("reason".into(), reason.clone());
    }
    if let Some(p) = &r.previous {
        labels.insert("previous".into(), p.clone());
    }
    if let Some(i) = &r.installed {
        labels.insert("installed".into(), i.clone());
    }
    let line = match (&r.reason, r.step) {
        (Some(reason), Step::Failed | Step::RolledBack | Step::RollingBack | Step::Skipped) => {
            reason.clone()
        }
        _ => r.last_line.clone(),
    };
    let elapsed_text = if matches!(r.step, Step::Pending | Step::Skipped) {
        String::new()
    } else {
        elapsed(end.as_second() - r.started.as_second())
    };
    Resource {
        key: ResourceKey {
            source: source.clone(),
            kind: ResourceKind::DeviceUpdate,
            id: format!("{}/{}", r.rollout, r.device),
        },
        name: r.device.clone(),
        parent: Some(r.rollout.clone()),
        health,
        cells: vec![
            r.device.clone(),
            r.step.label().to_string(),
            gauge(r.percent),
            elapsed_text,
            r.artifact.clone(),
            r.rollout.clone(),
            line,
        ],
        created: Some(r.started),
        labels,
        facts: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gauges_and_durations() {
        assert_eq!(gauge(Some(60)), "██████░░░░ 60%");
        assert_eq!(gauge(Some(100)), "██████████ 100%");
        assert_eq!(gauge(None), "");
        assert_eq!(elapsed(5), "5s");
        assert_eq!(elapsed(185), "3m05s");
        assert_eq!(elapsed(3720), "1h02m");
    }
}
