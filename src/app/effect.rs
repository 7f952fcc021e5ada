//! What `update` asks the runtime to do, as data (see [`Effect`]).

use std::path::PathBuf;

use crate::backend::StreamId;
use crate::model::{LogOpts, ResourceAction, ResourceKey};

/// Side effects `update` asks the runtime to perform; keeping them as data keeps `update` pure
/// and testable without a terminal or an engine.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Abort these rollouts (audited, waited for), then quit.
    AbortAndQuit(Vec<crate::model::ResourceKey>),
    OpenLogs {
        stream: StreamId,
        target: ResourceKey,
        opts: LogOpts,
    },
    CloseLogs,
    /// Stream stats of this container (replacing any other); None stops stats.
    Stats(Option<ResourceKey>),
    Act {
        key: ResourceKey,
        name: String,
        action: ResourceAction,
    },
    /// Read-only mode stopped an action: record it in the audit log.
    AuditRefused {
        key: ResourceKey,
        name: String,
        action: ResourceAction,
    },
    Describe(ResourceKey),
    Shell(ResourceKey),
    /// Replace the row's source by the one the row selects (a kube context or namespace).
    Switch(ResourceKey),
    SaveLogs(PathBuf),
    /// Copy this text to the clipboard through the terminal (OSC 52, `term::osc52`).
    Copy(String),
    /// Run a command line on each target (bounded concurrency, audited per target) and publish
    /// the results as `RunResult` rows.
    RunCommand {
        targets: Vec<(ResourceKey, String)>,
        command: String,
    },
    /// Hand an SSH key's passphrase to the connection layer (retried at once).
    ProvidePassphrase {
        key_path: PathBuf,
        passphrase: Secret,
    },
    Quit,
}

/// A secret that never shows in Debug output or logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}
