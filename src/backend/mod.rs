//! Backends translate engines into the neutral model and talk to the UI only through
//! [`BackendEvent`]s on a channel. Every call here returns at once: the work runs on tokio tasks.
//!
//! What every backend needs is written once here: [`report`] (events to the UI, the end of a
//! log stream), [`conn`] (the cached connection, forgotten after a transport error),
//! [`supervise`] (backoff, the reconnect loop of a watch, retry-until-ok), [`changes`] (a
//! list's changes instead of the whole list), [`error`] (an
//! error's cause chain), [`batch`] (log lines in batches), [`task`] (handles that stop their
//! task on drop), [`too_large`] (answers over their cap), [`forward`] (port forwards over a
//! source's connection). Each backend (`docker`, `kube`, `fleet`, `mender`) has the same
//! layout: its `mod.rs` holds the [`Backend`] impl and the state its tasks share; `watch`,
//! `map`, `actions`, `logs`, `exec` and `error` sit beside it where it has them.

pub mod batch;
pub mod changes;
pub mod conn;
pub mod docker;
pub mod error;
pub mod fleet;
pub mod forward;
pub mod kube;
pub mod mender;
pub mod registry;
pub mod report;
pub mod supervise;
pub mod task;
pub mod too_large;

use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;
use futures::stream::BoxStream;
use tokio::io::AsyncWrite;
use tokio::sync::mpsc;

use crate::model::{
    LogLine, LogOpts, Resource, ResourceAction, ResourceKey, ResourceKind, SourceId, SourceStatus,
    StatsSample,
};
pub use task::TaskHandle;

/// Identifies one log stream the UI opened, so late lines from a closed stream are ignored.
pub type StreamId = u64;

/// What backends tell the UI. Bounded channel: a flood of log lines slows the producer, not the UI.
#[derive(Debug)]
pub enum BackendEvent {
    Status(SourceId, SourceStatus),
    /// The complete current set of `kind` in `source` (replaces what the UI had).
    Snapshot {
        source: SourceId,
        kind: ResourceKind,
        resources: Vec<Resource>,
    },
    /// What changed in `kind`'s rows of `source` since its last `Snapshot` or `Changes`
    /// (rows upserted by id, ids removed), applied in place. A watch sends a `Snapshot`
    /// first and after every relist, and `Changes` only in between; a receiver that holds no
    /// list of `kind` from `source` (dropped it, or never had one) ignores them. Kubernetes
    /// watches send them; any backend that knows its changes may.
    Changes {
        source: SourceId,
        kind: ResourceKind,
        changes: changes::RowChanges,
    },
    /// The list of `kind` is not complete, and the view must say so (`note`) next to the rows:
    /// the first pages of a long list while the rest loads (`loading`), or a listing that could
    /// not be read to its end (`!loading`; the note names the endpoint and the page).
    /// `resources` replaces the rows; None keeps the rows shown (the last complete list, now
    /// not current). The next `Snapshot` replaces rows and note.
    Incomplete {
        source: SourceId,
        kind: ResourceKind,
        resources: Option<Vec<Resource>>,
        note: String,
        loading: bool,
    },
    /// Work this console drives that quitting would interrupt (rollouts with devices to
    /// update), replacing what the source said before; empty when there is none.
    Work {
        source: SourceId,
        work: Vec<crate::model::Work>,
    },
    /// The source is up but cannot serve `kind` (e.g. swarm views on an engine that is not a
    /// swarm manager); the view shows `reason` instead of rows.
    Unavailable {
        source: SourceId,
        kind: ResourceKind,
        reason: String,
    },
    LogLines {
        stream: StreamId,
        lines: Vec<LogLine>,
    },
    /// A followed log stream is waiting, not ended (a stopped container that may start again,
    /// an engine being reconnected): the view shows `note`; None when it streams again.
    LogNote {
        stream: StreamId,
        note: Option<String>,
    },
    /// A log stream ended: `error` is None when it simply finished (container exited, no follow).
    LogEnded {
        stream: StreamId,
        error: Option<String>,
    },
    Stats {
        key: ResourceKey,
        sample: StatsSample,
    },
    /// Things that happened (engine events, state changes) for the timeline, oldest first.
    Timeline(Vec<crate::model::TimelineEntry>),
}

pub type EventTx = mpsc::Sender<BackendEvent>;

/// An interactive TTY session (container exec, pod exec, SSH shell) handed the terminal.
pub struct ShellSession {
    pub output: BoxStream<'static, std::io::Result<Vec<u8>>>,
    pub input: Pin<Box<dyn AsyncWrite + Send>>,
    /// Send (cols, rows) on every terminal resize; the backend forwards it to the remote PTY.
    pub resize: mpsc::UnboundedSender<(u16, u16)>,
}

/// How to start a shell.
#[derive(Debug, Clone)]
pub struct ShellOpts {
    /// Candidates tried in order; the first that exists runs (`/bin/bash`, then `/bin/sh`).
    pub commands: Vec<String>,
    pub cols: u16,
    pub rows: u16,
}

#[async_trait]
pub trait Backend: Send + Sync + 'static {
    fn id(&self) -> &SourceId;
    fn kinds(&self) -> &'static [ResourceKind];

    /// Keep the UI's copy of `kind` current: a snapshot now, then after every change a
    /// snapshot or the `Changes` since the last one, plus `Status` events; reconnects with backoff on its own. Stops when the handle is dropped.
    fn watch(&self, kind: ResourceKind, tx: EventTx) -> TaskHandle;

    /// Stream logs of `target` (a container, or every container of a group) as `LogLines`.
    fn logs(
        &self,
        target: &ResourceKey,
        opts: LogOpts,
        stream: StreamId,
        tx: EventTx,
    ) -> TaskHandle;

    /// Stream resource-use samples of `target`; None when this kind has no stats.
    fn stats(&self, target: &ResourceKey, tx: EventTx) -> Option<TaskHandle>;

    async fn act(&self, target: &ResourceKey, action: &ResourceAction) -> anyhow::Result<String>;

    /// [`Backend::act`] plus what it offers to do next (the console asks for it in a dialog);
    /// backends with follow-ups override this and answer `act` from it.
    async fn act_outcome(
        &self,
        target: &ResourceKey,
        action: &ResourceAction,
    ) -> anyhow::Result<crate::model::ActionOutcome> {
        self.act(target, action).await.map(Into::into)
    }

    /// The object as YAML.
    async fn describe(&self, target: &ResourceKey) -> anyhow::Result<String>;

    async fn shell(&self, target: &ResourceKey, opts: &ShellOpts) -> anyhow::Result<ShellSession>;

    /// A shell that runs on this machine (a `host: local` device): the console hands it the
    /// real terminal and waits for it to exit, instead of bridging a [`Backend::shell`]
    /// session. None = this target's shell is a session.
    fn local_shell(&self, _target: &ResourceKey) -> Option<std::process::Command> {
        None
    }

    /// Run a command without a TTY and return its combined output (scriptable `exec`).
    async fn exec(&self, target: &ResourceKey, cmd: &[String]) -> anyhow::Result<(i64, String)>;

    /// Find out once whether the source answers, so the header shows its status before any of
    /// its views is opened (watches report from then on). None = the watches are enough.
    fn probe(&self, _tx: EventTx) -> Option<TaskHandle> {
        None
    }

    /// Feed the timeline: what the engine can replay since `since`, then (`until` None) what
    /// happens from now on, as `BackendEvent::Timeline`; with `until`, the replay up to it and
    /// the task ends (the CLI). Reconnects on its own. None = this source has no timeline.
    fn timeline(
        &self,
        _since: jiff::Timestamp,
        _until: Option<jiff::Timestamp>,
        _tx: EventTx,
    ) -> Option<TaskHandle> {
        None
    }

    /// Where this source's lists are asked (an API server URL, a socket), for "no answer from
    /// …" texts. None = the source id says it.
    fn endpoint(&self) -> Option<String> {
        None
    }

    /// How to reach `port` of `target` for a port forward (src/backend/forward.rs), over this
    /// source's own connection: called once when the forward opens (so a wrong target fails
    /// there), the connector then once per accepted connection.
    async fn forward(
        &self,
        target: &ResourceKey,
        _port: u16,
    ) -> anyhow::Result<Arc<dyn forward::Connector>> {
        anyhow::bail!(
            "{} cannot forward ports to {}",
            self.id(),
            target.kind.name()
        )
    }

    /// Enter on a row that selects a scope (a Kubernetes context or namespace, kinds offering
    /// `ResourceAction::Switch`): the backend that replaces this one, built without network
    /// access (its id may differ). None = nothing to switch.
    fn switch(&self, _target: &ResourceKey) -> Option<Arc<dyn Backend>> {
        None
    }
}
