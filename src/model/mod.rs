//! The neutral model every backend translates into and every view renders from.
//! Views never see a Docker, Kubernetes or SSH type: adding a backend adds no view code.

mod kind;
mod labels;
mod log;
mod resource;
mod rollout;
mod timeline;

pub use kind::{Capability, Column, ColumnKind, KindSpec, ResourceKind, priority};
pub use labels::Labels;
pub use log::{LogLine, LogOpts, StyleRun, StyledText};
pub use resource::{
    ActionOutcome, CheckStatus, Confirmation, ContainerFacts, DeploymentFacts, Health,
    HostKeyProblem, HostKeyState, PassphraseNeeded, Replicas, Resource, ResourceAction,
    ResourceKey, RowFacts, ServiceFacts, SourceId, SourceStatus, StatsSample, TaskError, TaskFacts,
    TaskPhase, UpdateGuard, UpdateState, Work, age,
};
pub use rollout::{FailureLimit, SkippedDevice, UpdateRequest};
pub use timeline::{Severity, TimelineEntry};
