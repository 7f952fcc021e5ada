//! One row of any engine: its key (source, kind, id), cells for display, labels for describe
//! and `-o json`, and typed facts the app acts on; plus the actions a row can take.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{ColumnKind, Labels, ResourceKind};

/// Names one configured source: "docker:local", "kube:prod", "fleet:site-a".
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SourceId(pub Arc<str>);

impl SourceId {
    pub fn new(s: impl AsRef<str>) -> Self {
        SourceId(Arc::from(s.as_ref()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Identifies one object in one source.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ResourceKey {
    pub source: SourceId,
    pub kind: ResourceKind,
    /// The engine's own id (container id, volume name, ...).
    pub id: String,
}

/// Colour class of a row; the theme maps each to a style.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    /// Running and healthy.
    Ok,
    /// Starting, restarting, unhealthy-but-running, partially up.
    Pending,
    /// Dead, crash-looping, exited non-zero, failed health check.
    Failed,
    /// Deliberately not running (exited 0, created, paused).
    Stopped,
    #[default]
    Unknown,
}

/// One row: a neutral view of an engine object.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Resource {
    pub key: ResourceKey,
    pub name: String,
    /// The grouping Enter drills by: compose project, stack, namespace ...
    pub parent: Option<String>,
    pub health: Health,
    /// One cell per `KindSpec::columns` entry; Age cells are left empty and drawn from `created`.
    pub cells: Vec<String>,
    pub created: Option<jiff::Timestamp>,
    /// Shown, filtered on and listed by `ls -o json`; the app reads no meaning out of them
    /// (that is what `facts` is for).
    pub labels: Labels,
    /// What the app acts on, typed, from the backend that knows it.
    #[serde(skip)]
    pub facts: RowFacts,
}

/// Facts about a row that actions need, filled by the backend that knows them. Why typed: a
/// fact read back out of a label or a cell's text breaks silently when the text changes.
/// The facts only some kinds have are boxed: inline they made every row 864 bytes (the struct
/// alone 688), ~3 MB more per copy of 5,000 pods' rows that carry none of them (issue #16).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RowFacts {
    /// A scalable workload's replicas (swarm services, deployments, statefulsets): the scale
    /// dialog shows them and starts from the desired count.
    pub replicas: Option<Replicas>,
    /// A device whose host key the last connection refused.
    pub host_key: Option<Box<HostKeyProblem>>,
    /// A device whose SSH key needs a passphrase before it can connect.
    pub passphrase: Option<Box<PassphraseNeeded>>,
    /// The sandboxes (a device's containers, from the fleet file) a shell can open into.
    pub sandboxes: Vec<String>,
    /// A container's restarts, last exit and health check (Docker inspect).
    pub container: Option<Box<ContainerFacts>>,
    /// A triage row: the resource Enter opens in its own view.
    pub opens: Option<Box<ResourceKey>>,
    /// A swarm service's update and its tasks' newest error (Swarm listing).
    pub service: Option<Box<ServiceFacts>>,
    /// A swarm task's state and error (Swarm listing).
    pub task: Option<Box<TaskFacts>>,
    /// A Mender deployment's status and outcome counts (the timeline's transitions).
    pub deployment: Option<Box<DeploymentFacts>>,
    /// The ports the object exposes (a container's, a pod's containers'), sorted: the forward
    /// dialog (`F`) lists them and starts from the first.
    pub ports: Vec<u16>,
    /// A fleet device (or one device's update): what the update guard-rails check before
    /// asking (the update dialog's warnings, commit/rollback refused under a rollout).
    pub update_guard: Option<Box<UpdateGuard>>,
}

/// What an update of a fleet device would run into, from the device's last poll and the
/// rollouts of its fleet. The console warns and skips before it asks, instead of starting an
/// update that fails at once.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UpdateGuard {
    /// Why the device cannot be reached (its last poll failed); None when it answered or is
    /// still connecting.
    pub unreachable: Option<String>,
    /// The appliance failed flag (this path) is set, and the device's updater (`appliance`)
    /// refuses to start while it is.
    pub failed_flag: Option<String>,
    /// A Mender daemon manages the client (`mender-updated.service` ...): a standalone install
    /// would fight it (CONTRACT.md "Standalone mode requires the daemon NOT to run").
    pub mender_daemon: Option<String>,
    /// The unfinished rollout updating the device now.
    pub rollout: Option<String>,
    /// That rollout holds the device at `verified, waiting for commit`.
    pub held: bool,
}

/// A Mender deployment: its status and what its devices did so far.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeploymentFacts {
    /// The server's word: `scheduled`, `pending`, `inprogress`, `finished`.
    pub status: String,
    pub finished: Option<jiff::Timestamp>,
    pub success: u64,
    pub failure: u64,
    pub aborted: u64,
}

/// A swarm service as triage needs it: where its last update stands and what its tasks last
/// failed with.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ServiceFacts {
    /// `UpdateStatus.State`; None when the service was never updated.
    pub update: Option<UpdateState>,
    /// `UpdateStatus.Message`, one sanitised line ("update paused due to failure ...").
    pub update_message: String,
    pub update_started: Option<jiff::Timestamp>,
    pub update_completed: Option<jiff::Timestamp>,
    /// The newest error of any of its tasks (failed, rejected, or not schedulable).
    pub task_error: Option<TaskError>,
}

/// One task's error and when its task reached the state that carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskError {
    /// The engine's `Status.Err`: "task: non-zero exit (1)", "no suitable node (...)".
    pub text: String,
    pub at: Option<jiff::Timestamp>,
}

/// A swarm service update's state (`UpdateStatus.State`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateState {
    Updating,
    Paused,
    Completed,
    RollbackStarted,
    RollbackPaused,
    RollbackCompleted,
}

impl UpdateState {
    /// In words, for the UPDATE column and triage.
    pub fn words(self) -> &'static str {
        match self {
            UpdateState::Updating => "updating",
            UpdateState::Paused => "update paused",
            UpdateState::Completed => "updated",
            UpdateState::RollbackStarted => "rolling back",
            UpdateState::RollbackPaused => "rollback paused",
            UpdateState::RollbackCompleted => "rolled back",
        }
    }
}

/// Where a swarm task's life is (`Status.State`, grouped).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TaskPhase {
    /// new, pending, assigned, accepted, preparing, ready, starting.
    #[default]
    Starting,
    Running,
    Complete,
    Shutdown,
    Failed,
    Rejected,
    Orphaned,
    Removed,
}

/// A swarm task's state, as triage and the timeline need it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TaskFacts {
    pub phase: TaskPhase,
    /// `Status.State` as the engine names it: `running`, `failed`, `rejected`, `pending` ...
    pub state: String,
    /// The engine still wants it running (`DesiredState` running): not yet replaced.
    pub desired_running: bool,
    /// `Status.Err`, one sanitised line; empty when none.
    pub error: String,
    /// `Status.ContainerStatus.ExitCode`, once its container exited.
    pub exit_code: Option<i64>,
    /// When the task was created (its state's time is the row's `created`).
    pub created_at: Option<jiff::Timestamp>,
}

/// A container's life as `docker inspect` reports it: what its colour and triage need.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ContainerFacts {
    /// Restarts since it was created (or since the engine started).
    pub restarts: u64,
    pub running: bool,
    /// Between a crash and the restart policy's next start.
    pub restarting: bool,
    /// The last exit code; None while it never exited.
    pub exit_code: Option<i64>,
    /// The kernel's OOM killer ended the last run.
    pub oom_killed: bool,
    pub health: Option<CheckStatus>,
    /// The last health check's output, one sanitised line.
    pub health_output: String,
    pub started_at: Option<jiff::Timestamp>,
    pub finished_at: Option<jiff::Timestamp>,
}

/// A container's health check state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckStatus {
    Starting,
    Healthy,
    Unhealthy,
}

/// Replicas that run (ready, on Kubernetes) and that are wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Replicas {
    pub running: u64,
    pub desired: u64,
}

/// Why a device's host key was refused, and the fingerprint of the key it presented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostKeyProblem {
    pub state: HostKeyState,
    pub fingerprint: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostKeyState {
    /// Not in known_hosts: the operator may accept it (`accept_host_key`).
    Unknown,
    /// Differs from the known key: never accepted from the console.
    Changed,
    /// Marked `@revoked` in known_hosts.
    Revoked,
}

/// An SSH key that needs its passphrase; `failures` counts wrong answers so far (each one asks
/// again).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassphraseNeeded {
    pub key_path: String,
    pub failures: u32,
}

impl Resource {
    /// Cell `i` of [`ResourceKind::columns_for`]: the kind's cells, then the row's source.
    pub fn cell_or_source(&self, i: usize, now: jiff::Timestamp) -> std::borrow::Cow<'_, str> {
        if i < self.key.kind.spec().columns.len() {
            self.cell(i, now)
        } else {
            std::borrow::Cow::Borrowed(self.key.source.as_str())
        }
    }

    /// Cell text for column `i`, with ages computed against `now`.
    pub fn cell(&self, i: usize, now: jiff::Timestamp) -> std::borrow::Cow<'_, str> {
        let spec = self.key.kind.spec();
        match spec.columns.get(i).map(|c| c.kind) {
            Some(ColumnKind::Age) => self
                .created
                .map(|c| crate::model::resource::age(c, now))
                .unwrap_or_default()
                .into(),
            _ => self.cells.get(i).map(|s| s.as_str()).unwrap_or("").into(),
        }
    }

    /// A flat JSON object keyed by lower-cased column names, for `ls -o json|yaml`.
    pub fn to_json(&self) -> serde_json::Value {
        let spec = self.key.kind.spec();
        let mut obj = serde_json::Map::new();
        obj.insert("id".into(), self.key.id.clone().into());
        obj.insert("source".into(), self.key.source.as_str().into());
        for (i, col) in spec.columns.iter().enumerate() {
            let key = col.name.to_ascii_lowercase();
            let value: serde_json::Value = match col.kind {
                ColumnKind::Age => match self.created {
                    Some(ts) => ts.to_string().into(),
                    None => serde_json::Value::Null,
                },
                _ => self.cells.get(i).cloned().unwrap_or_default().into(),
            };
            // AGE is rendered from the creation time: call it what it is in JSON.
            let key = if col.name == "AGE" {
                "created".to_string()
            } else {
                key
            };
            obj.insert(key, value);
        }
        obj.insert(
            "health".into(),
            serde_json::to_value(self.health).unwrap_or_default(),
        );
        obj.insert(
            "labels".into(),
            serde_json::to_value(&self.labels).unwrap_or_default(),
        );
        serde_json::Value::Object(obj)
    }
}

/// Human age like kubectl/k9s: 42s, 5m, 3h, 12d, 2y.
pub fn age(created: jiff::Timestamp, now: jiff::Timestamp) -> String {
    let secs: i64 = now.as_second().saturating_sub(created.as_second()).max(0);
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 3600 * 2 => format!("{}m", s / 60),
        s if s < 86400 * 2 => format!("{}h", s / 3600),
        s if s < 86400 * 365 * 2 => format!("{}d", s / 86400),
        s => format!("{}y", s / (86400 * 365)),
    }
}

/// Everything a user can ask a backend to do to one object. Later backends add variants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceAction {
    Start,
    Stop,
    Restart,
    Kill,
    Remove,
    /// Set the replica count of a service (deployment...).
    Scale(u64),
    /// Restart every task with an unchanged spec (`docker service update --force`).
    Redeploy,
    /// Back to the previous spec (`docker service rollback`).
    Rollback,
    /// Node availability.
    Drain,
    Pause,
    Activate,
    /// Make the row the active scope (a Kubernetes context or namespace): Enter on such rows.
    Switch,
    /// Trust a device's unknown host key (written to known_hosts), but only the key with this
    /// fingerprint: the one the operator saw and confirmed. Never for a changed key.
    AcceptHostKey(String),
    /// A fleet command line (`:run`), audited per device.
    Run(String),
    /// Stop a Mender deployment (`PUT .../status {"status":"aborted"}`).
    AbortDeployment,
    /// Create a Mender deployment of an artifact (by name) to these device ids.
    CreateDeployment(String, Vec<String>),
    /// Install an artifact on fleet devices over SSH, as a rollout (src/rollout).
    StartUpdate(super::UpdateRequest),
    /// Commit the update a device runs on (`mender-update commit`, the custom commit).
    Commit,
    /// Remove the appliance's failed flag and restart the appliance.
    ClearFailed,
    /// Reboot a device (its `reboot_command`) and wait for a new boot id.
    Reboot,
    /// Forward 127.0.0.1:`local` (0 = an ephemeral port) to the row's port `remote`, over the
    /// source's own connection (src/backend/forward.rs). The console owns the forward, not the
    /// backend: it lists it in `:forwards` and closes it on quit.
    Forward {
        remote: u16,
        local: u16,
    },
    /// Close a forward (a `:forwards` row).
    CloseForward,
    /// Delete the finished rollouts of a fleet from its rollout journal (`:updates`,
    /// `:rollouts`); running ones are never cleared.
    ClearFinished,
}

/// How deliberately an action must be confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirmation {
    None,
    /// y/n dialog.
    YesNo,
    /// The user types the object's name (removing a whole stack).
    TypeName,
}

impl ResourceAction {
    pub fn name(&self) -> &'static str {
        match self {
            ResourceAction::Start => "start",
            ResourceAction::Stop => "stop",
            ResourceAction::Restart => "restart",
            ResourceAction::Kill => "kill",
            ResourceAction::Remove => "remove",
            ResourceAction::Scale(_) => "scale",
            ResourceAction::Redeploy => "redeploy",
            ResourceAction::Rollback => "rollback",
            ResourceAction::Drain => "drain",
            ResourceAction::Pause => "pause",
            ResourceAction::Activate => "activate",
            ResourceAction::Switch => "switch",
            ResourceAction::AcceptHostKey(_) => "accept host key",
            ResourceAction::Run(_) => "run",
            ResourceAction::AbortDeployment => "abort deployment",
            ResourceAction::CreateDeployment(..) => "create deployment",
            ResourceAction::StartUpdate(_) => "update",
            ResourceAction::Commit => "commit",
            ResourceAction::ClearFailed => "clear failed flag and restart",
            ResourceAction::Reboot => "reboot",
            ResourceAction::Forward { .. } => "forward",
            ResourceAction::CloseForward => "close forward",
            ResourceAction::ClearFinished => "clear finished rollouts",
        }
    }

    /// What the audit log and dialogs show: the name plus its argument ("scale to 3").
    pub fn label(&self) -> String {
        match self {
            ResourceAction::Scale(n) => format!("scale to {n}"),
            ResourceAction::Run(cmd) => format!("run: {cmd}"),
            ResourceAction::CreateDeployment(artifact, devices) => format!(
                "create deployment of {artifact} to {} device(s): {}",
                devices.len(),
                devices.join(",")
            ),
            ResourceAction::StartUpdate(req) => req.label(),
            ResourceAction::Forward { remote, local: 0 } => format!("forward port {remote}"),
            ResourceAction::Forward { remote, local } => {
                format!("forward port {remote} to local port {local}")
            }
            // The audit log records which key the operator confirmed.
            ResourceAction::AcceptHostKey(fp) if !fp.is_empty() => format!("accept host key {fp}"),
            other => other.name().to_string(),
        }
    }

    /// How `kind` rows must confirm this action. Whole stacks need their name typed; anything
    /// that stops, removes, takes capacity away or changes what runs asks y/n.
    pub fn confirmation(&self, kind: ResourceKind) -> Confirmation {
        match self {
            ResourceAction::Remove if kind == ResourceKind::Stack => Confirmation::TypeName,
            ResourceAction::Stop
            | ResourceAction::Kill
            | ResourceAction::Remove
            | ResourceAction::Scale(0)
            | ResourceAction::Redeploy
            | ResourceAction::Rollback
            | ResourceAction::Drain
            | ResourceAction::Pause
            | ResourceAction::AbortDeployment
            | ResourceAction::CreateDeployment(..)
            | ResourceAction::StartUpdate(_)
            | ResourceAction::Commit
            | ResourceAction::ClearFailed
            | ResourceAction::Reboot
            | ResourceAction::CloseForward
            | ResourceAction::ClearFinished => Confirmation::YesNo,
            // Trusting a key is a security decision: always asked, even with confirmations off.
            ResourceAction::AcceptHostKey(_) => Confirmation::TypeName,
            _ => Confirmation::None,
        }
    }

    /// Every action here changes something, except switching the viewed scope and forwards;
    /// read-only mode refuses them. Forwards change nothing on the object (read-only mode is
    /// for looking, and an appliance's web UI is looking); they are audited all the same.
    pub fn is_mutating(&self) -> bool {
        !matches!(
            self,
            ResourceAction::Switch | ResourceAction::Forward { .. } | ResourceAction::CloseForward
        )
    }

    /// Same action, ignoring arguments (to check a kind offers it).
    pub fn same_kind(&self, other: &ResourceAction) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other)
    }
}

/// Something this console drives that quitting would interrupt: a rollout, and what it is
/// doing ("2 devices mid-update, 5 to start").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Work {
    /// The rollout's row (aborting it is `AbortDeployment` on this key).
    pub key: ResourceKey,
    pub summary: String,
}

/// What a finished action reports back to the user, and what it offers next: an action on
/// the same object that is asked for in a confirmation dialog, never run without one (a
/// manual rollback offers the reboot that makes the device run the old software again).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionOutcome {
    pub message: String,
    pub offer: Option<ResourceAction>,
}

impl From<String> for ActionOutcome {
    fn from(message: String) -> Self {
        ActionOutcome {
            message,
            offer: None,
        }
    }
}

/// Connection state of one source, shown in the header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceStatus {
    Connecting,
    /// Connected; the text names the engine ("Docker 20.10.24, API 1.41").
    Connected(String),
    /// Lost or never reached; retrying after `retry_in_secs`.
    Reconnecting {
        error: String,
        retry_in_secs: u64,
    },
}

/// One sample of a container's resource use.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct StatsSample {
    pub cpu_percent: f64,
    pub mem_bytes: u64,
    pub mem_limit: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_like_kubectl() {
        let now = jiff::Timestamp::from_second(1_000_000_000).unwrap();
        let ago = |s: i64| jiff::Timestamp::from_second(1_000_000_000 - s).unwrap();
        assert_eq!(age(ago(5), now), "5s");
        assert_eq!(age(ago(600), now), "10m");
        assert_eq!(age(ago(3 * 3600), now), "3h");
        assert_eq!(age(ago(3 * 86400), now), "3d");
        assert_eq!(
            age(now, ago(10)),
            "0s",
            "clock skew never shows a negative age"
        );
    }
}
