//! Triage: what is wrong now, across every source, from the rows the console already holds
//! (no polling of its own). Pure rules turn one row into at most one [`Problem`]; [`Triage`]
//! keeps the problems per row store and recomputes only the store that changed.

pub mod announce;
mod rules;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::model::{Health, Resource, ResourceKey, ResourceKind, RowFacts, SourceId};
pub use rules::problem_of;

/// The kinds whose rows can hold a problem: a triage view watches them.
pub const KINDS: &[ResourceKind] = &[
    ResourceKind::Container,
    ResourceKind::Service,
    ResourceKind::Task,
    ResourceKind::Node,
    ResourceKind::Pod,
    ResourceKind::Deployment,
    ResourceKind::StatefulSet,
    ResourceKind::DaemonSet,
    ResourceKind::KNode,
    ResourceKind::Device,
    ResourceKind::DeviceUpdate,
    ResourceKind::MenderDeployment,
    ResourceKind::MenderDevice,
    ResourceKind::KEvent,
];

/// How bad a problem is; `Critical` sorts first.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Critical,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::Warning => "warning",
        }
    }
}

/// Thresholds and what counts (`triage:` in the config).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(default, deny_unknown_fields)]
pub struct TriageConfig {
    /// A container restarted at least this often is critical while it restarts or just did.
    pub restarts_critical: u64,
    /// Seconds after a restart during which a running container is still a problem; a swarm
    /// service short of replicas names a task error this recent (and is a problem at once).
    pub recent_restart_secs: u64,
    /// Containers that exited non-zero are problems (warnings).
    pub exited_nonzero: bool,
    /// Seconds a pod may stay Pending (or a workload below desired) before it is a problem.
    pub pending_after_secs: u64,
    /// Seconds an accepted Mender device may go without checking in before it is a problem.
    pub mender_unseen_secs: u64,
    /// Kubernetes Warning events seen within this many seconds are problems.
    pub warning_events_secs: u64,
    /// Watch the kinds problems come from all the time, not only while a `:triage` view is
    /// open, so the header's count is live on every view and a new problem is announced
    /// wherever the operator is (on by default: that is what the badge is for). Docker and
    /// Kubernetes watches are pushed events; fleet devices and Mender servers are then polled
    /// on their intervals all the time. `false` watches them only while `:triage` is open.
    pub watch_always: bool,
}

impl Default for TriageConfig {
    fn default() -> Self {
        TriageConfig {
            restarts_critical: 3,
            recent_restart_secs: 600,
            exited_nonzero: true,
            pending_after_secs: 300,
            mender_unseen_secs: 86_400,
            warning_events_secs: 900,
            watch_always: true,
        }
    }
}

/// One thing wrong with one resource.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    pub severity: Severity,
    /// The resource with the problem (source, kind, id).
    pub key: ResourceKey,
    pub name: String,
    /// One line, in the engine's words where it has them.
    pub problem: String,
    /// When it started, where the engine says.
    pub since: Option<jiff::Timestamp>,
}

impl Problem {
    /// Worst first, then newest.
    fn order(a: &Problem, b: &Problem) -> std::cmp::Ordering {
        a.severity
            .cmp(&b.severity)
            .then_with(|| b.since.cmp(&a.since))
            .then_with(|| a.key.cmp(&b.key))
    }

    /// The row of the `:triage` table; Enter opens `key` (`RowFacts::opens`).
    pub fn to_row(&self) -> Resource {
        let health = match self.severity {
            Severity::Critical => Health::Failed,
            Severity::Warning => Health::Pending,
        };
        Resource {
            key: ResourceKey {
                source: self.key.source.clone(),
                kind: ResourceKind::Triage,
                id: format!("{}/{}", self.key.kind.name(), self.key.id),
            },
            name: self.name.clone(),
            parent: None,
            health,
            cells: vec![
                self.severity.as_str().into(),
                self.key.source.to_string(),
                self.key.kind.name().into(),
                self.name.clone(),
                self.problem.clone(),
                String::new(),
            ],
            created: self.since,
            labels: Default::default(),
            facts: RowFacts {
                opens: Some(Box::new(self.key.clone())),
                ..Default::default()
            },
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "severity": self.severity,
            "source": self.key.source.as_str(),
            "kind": self.key.kind.name(),
            "id": self.key.id,
            "name": self.name,
            "problem": self.problem,
            "since": self.since.map(|t| t.to_string()),
        })
    }
}

/// The open problems, per row store (source and kind).
#[derive(Debug, Default)]
pub struct Triage {
    stores: HashMap<(SourceId, ResourceKind), Vec<Problem>>,
}

impl Triage {
    /// `kind`'s rows changed (any of its sources): recompute that kind's problems only.
    /// Answers whether the problems changed.
    pub fn kind_changed<R: AsRef<[Arc<Resource>]>>(
        &mut self,
        kind: ResourceKind,
        data: Option<&BTreeMap<SourceId, R>>,
        cfg: &TriageConfig,
        now: jiff::Timestamp,
    ) -> bool {
        if !KINDS.contains(&kind) {
            return false;
        }
        let mut changed = false;
        let fresh: HashMap<&SourceId, Vec<Problem>> = data
            .into_iter()
            .flatten()
            .map(|(source, rows)| {
                let problems = rows
                    .as_ref()
                    .iter()
                    .filter_map(|r| problem_of(r, cfg, now))
                    .collect();
                (source, problems)
            })
            .collect();
        self.stores.retain(|(s, k), _| {
            let keep = *k != kind || fresh.contains_key(s);
            changed |= !keep;
            keep
        });
        for (source, problems) in fresh {
            let slot = self.stores.entry((source.clone(), kind)).or_default();
            if *slot != problems {
                *slot = problems;
                changed = true;
            }
        }
        changed
    }

    /// The problems of one row store (`source`'s rows of `kind`).
    pub fn store(&self, source: &SourceId, kind: ResourceKind) -> &[Problem] {
        self.stores
            .get(&(source.clone(), kind))
            .map_or(&[], Vec::as_slice)
    }

    /// Every open problem, worst first, then newest.
    pub fn problems(&self) -> Vec<&Problem> {
        let mut all: Vec<&Problem> = self.stores.values().flatten().collect();
        all.sort_by(|a, b| Problem::order(a, b));
        all
    }

    /// How many problems are at least as bad as `min`.
    pub fn count(&self, min: Severity) -> usize {
        self.stores
            .values()
            .flatten()
            .filter(|p| p.severity <= min)
            .count()
    }
}
