use std::path::PathBuf;

use crate::backend::StreamId;
use crate::model::{LogOpts, ResourceAction, ResourceKey};

/// Side effects `update` asks the runtime to perform; keeping them as data keeps `update` pure
/// and testable without a terminal or an engine.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
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
    Quit,
}
