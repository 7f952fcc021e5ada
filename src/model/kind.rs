//! The kind registry: every kind of thing fleetdeck lists, with its columns, aliases, the
//! actions it offers and what it can do ([`KindSpec`]) — the one place that answers "does
//! action A apply to kind K".

use serde::{Deserialize, Serialize};

use super::{ResourceAction, UpdateRequest};

/// Every kind of thing fleetdeck can list. Later backends (swarm, kube, fleet, mender) add variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceKind {
    Container,
    Project,
    Image,
    Volume,
    Network,
    // Docker Swarm (manager nodes only)
    Stack,
    Service,
    Task,
    Node,
    Secret,
    Config,
    // Kubernetes
    Context,
    Namespace,
    Deployment,
    StatefulSet,
    DaemonSet,
    ReplicaSet,
    Pod,
    PodContainer,
    KService,
    KNode,
    KEvent,
    // SSH device fleet
    Device,
    /// One device's result of a fleet command (`:run`).
    RunResult,
    // Mender server (management API)
    MenderDevice,
    MenderDeployment,
    /// One device's part in a Mender deployment (parent = the deployment's name).
    MenderDeploymentDevice,
    // Updates over SSH (src/rollout)
    /// A group (or one-device) update of fleet devices (`:rollouts`).
    Rollout,
    /// One device's update (`:updates`; parent = the rollout id).
    DeviceUpdate,
    /// What happened across every source, newest first (`:timeline`; src/timeline).
    Timeline,
    /// What is wrong now, across sources (src/triage): rows made by the console, not a backend.
    Triage,
}

/// How a column's cells are rendered and sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    Text,
    /// Sorted numerically on the leading number of the cell ("12", "3/4", "1.5").
    Number,
    /// Rendered from `Resource::created` at draw time, so ages stay true without the backend.
    Age,
}

#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub kind: ColumnKind,
    /// Width hint in cells; the table gives spare room to the widest columns.
    pub min_width: u16,
}

const fn text(name: &'static str, min_width: u16) -> Column {
    Column {
        name,
        kind: ColumnKind::Text,
        min_width,
    }
}
const fn number(name: &'static str, min_width: u16) -> Column {
    Column {
        name,
        kind: ColumnKind::Number,
        min_width,
    }
}
const AGE: Column = Column {
    name: "AGE",
    kind: ColumnKind::Age,
    min_width: 4,
};
/// A task's state age ("running since 3m"): `Resource::created` holds the state's timestamp.
const SINCE: Column = Column {
    name: "SINCE",
    kind: ColumnKind::Age,
    min_width: 5,
};

/// Static description of a kind: what the command bar calls it, its columns, where Enter leads
/// and which actions it offers. One table drives the views, the `ls` subcommand and the help.
#[derive(Debug)]
pub struct KindSpec {
    pub kind: ResourceKind,
    pub title: &'static str,
    /// Names accepted by the `:` command bar; the first is canonical.
    pub aliases: &'static [&'static str],
    pub columns: &'static [Column],
    /// Enter on a row opens this kind filtered to rows whose `parent` is the row's name.
    pub drill: Option<ResourceKind>,
    pub actions: &'static [ResourceAction],
    pub has_logs: bool,
    pub has_shell: bool,
    pub has_stats: bool,
    /// Rows name sandboxes (containers on a device) a shell can open into.
    pub has_sandboxes: bool,
}

/// What a key action needs from a kind. "Does action A apply to kind K" is always answered
/// here, from the registry ([`KindSpec::has`]): the app only says which capability an action
/// needs, so a kind's offer is written once, in its `KindSpec`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Capability {
    Logs,
    Shell,
    Sandboxes,
    /// A backend action, whatever its argument (`KindSpec::actions`).
    Act(ResourceAction),
}

use ResourceAction as A;

static SPECS: &[KindSpec] = &[
    KindSpec {
        kind: ResourceKind::Container,
        title: "Containers",
        aliases: &["containers", "container", "co", "ps"],
        columns: &[
            text("NAME", 12),
            text("IMAGE", 12),
            text("STATE", 7),
            text("STATUS", 10),
            number("RESTARTS", 8),
            number("EXIT", 4),
            text("PORTS", 8),
            text("PROJECT", 8),
            AGE,
        ],
        drill: None,
        actions: &[A::Start, A::Stop, A::Restart, A::Kill, A::Remove],
        has_logs: true,
        has_shell: true,
        has_stats: true,
        has_sandboxes: false,
    },
    KindSpec {
        kind: ResourceKind::Project,
        title: "Projects",
        aliases: &["projects", "project", "compose", "pj"],
        columns: &[
            text("NAME", 12),
            number("RUNNING", 7),
            number("CONTAINERS", 10),
            text("WORKDIR", 10),
            AGE,
        ],
        drill: Some(ResourceKind::Container),
        actions: &[],
        has_logs: true,
        has_shell: false,
        has_stats: false,
        has_sandboxes: false,
    },
    KindSpec {
        kind: ResourceKind::Image,
        title: "Images",
        aliases: &["images", "image", "img"],
        columns: &[
            text("REPOSITORY:TAG", 20),
            text("ID", 12),
            number("SIZE", 8),
            number("CONTAINERS", 10),
            AGE,
        ],
        drill: None,
        actions: &[],
        has_logs: false,
        has_shell: false,
        has_stats: false,
        has_sandboxes: false,
    },
    KindSpec {
        kind: ResourceKind::Volume,
        title: "Volumes",
        aliases: &["volumes", "volume", "vol"],
        columns: &[
            text("NAME", 20),
            text("DRIVER", 6),
            text("MOUNTPOINT", 20),
            text("PROJECT", 8),
            AGE,
        ],
        drill: None,
        actions: &[],
        has_logs: false,
        has_shell: false,
        has_stats: false,
        has_sandboxes: false,
    },
    KindSpec {
        kind: ResourceKind::Network,
        title: "Networks",
        aliases: &["networks", "network", "net"],
        columns: &[
            text("NAME", 16),
            text("ID", 12),
            text("DRIVER", 7),
            text("SCOPE", 6),
            text("SUBNET", 14),
            AGE,
        ],
        drill: None,
        actions: &[],
        has_logs: false,
        has_shell: false,
        has_stats: false,
        has_sandboxes: false,
    },
    KindSpec {
        kind: ResourceKind::Stack,
        title: "Stacks",
        aliases: &["stacks", "stack", "st"],
        columns: &[
            text("NAME", 12),
            number("SERVICES", 8),
            text("TASKS", 7),
            text("UPDATE", 10),
            AGE,
        ],
        drill: Some(ResourceKind::Service),
        actions: &[A::Remove],
        has_logs: true,
        has_shell: false,
        has_stats: false,
        has_sandboxes: false,
    },
    KindSpec {
        kind: ResourceKind::Service,
        title: "Services",
        aliases: &["services", "service", "sv"],
        columns: &[
            text("NAME", 14),
            text("MODE", 10),
            text("REPLICAS", 8),
            text("IMAGE", 16),
            text("PORTS", 8),
            text("UPDATE", 10),
            text("STACK", 8),
            AGE,
        ],
        drill: Some(ResourceKind::Task),
        actions: &[A::Scale(0), A::Redeploy, A::Rollback, A::Remove],
        has_logs: true,
        has_shell: false,
        has_stats: false,
        has_sandboxes: false,
    },
    KindSpec {
        kind: ResourceKind::Task,
        title: "Tasks",
        aliases: &["tasks", "task", "tk"],
        columns: &[
            text("NAME", 14),
            text("NODE", 8),
            text("STATE", 9),
            SINCE,
            text("DESIRED", 8),
            text("ERROR", 12),
            text("CONTAINER", 12),
        ],
        drill: None,
        actions: &[],
        has_logs: true,
        has_shell: true,
        has_stats: false,
        has_sandboxes: false,
    },
    KindSpec {
        kind: ResourceKind::Node,
        title: "Nodes",
        aliases: &["nodes", "node", "no"],
        columns: &[
            text("HOSTNAME", 12),
            text("ROLE", 7),
            text("AVAILABILITY", 12),
            text("STATUS", 7),
            text("MANAGER", 11),
            text("ENGINE", 8),
            text("LABELS", 10),
        ],
        drill: None,
        actions: &[A::Drain, A::Pause, A::Activate],
        has_logs: false,
        has_shell: false,
        has_stats: false,
        has_sandboxes: false,
    },
    KindSpec {
        kind: ResourceKind::Secret,
        title: "Secrets",
        aliases: &["secrets", "secret", "sec"],
        columns: &[
            text("NAME", 16),
            text("ID", 12),
            text("DRIVER", 8),
            text("UPDATED", 10),
            AGE,
        ],
        drill: None,
        actions: &[],
        has_logs: false,
        has_shell: false,
        has_stats: false,
        has_sandboxes: false,
    },
    KindSpec {
        kind: ResourceKind::Config,
        title: "Configs",
        aliases: &["configs", "config", "cfg"],
        columns: &[text("NAME", 16), text("ID", 12), text("UPDATED", 10), AGE],
        drill: None,
        actions: &[],
        has_logs: false,
        has_shell: false,
        has_stats: false,
        has_sandboxes: false,
    },
    // Kubernetes. Namespaced kinds lead with NAMESPACE (so READY is the 3rd column, where the
    // scale dialog reads "ready/desired").
    KindSpec {
        kind: ResourceKind::Context,
        title: "Contexts",
        aliases: &["contexts", "context", "ctx"],
        columns: &[
            text("NAME", 14),
            text("CLUSTER", 12),
            text("USER", 10),
            text("NAMESPACE", 10),
            text("CURRENT", 7),
        ],
        drill: None,
        actions: &[A::Switch],
        has_logs: false,
        has_shell: false,
        has_stats: false,
        has_sandboxes: false,
    },
    KindSpec {
        kind: ResourceKind::Namespace,
        title: "Namespaces",
        aliases: &["namespaces", "namespace", "ns"],
        columns: &[text("NAME", 16), text("STATUS", 8), text("CURRENT", 7), AGE],
        drill: None,
        actions: &[A::Switch],
        has_logs: false,
        has_shell: false,
        has_stats: false,
        has_sandboxes: false,
    },
    KindSpec {
        kind: ResourceKind::Deployment,
        title: "Deployments",
        aliases: &["deployments", "deployment", "deploy", "dp"],
        columns: &[
            text("NAMESPACE", 10),
            text("NAME", 14),
            text("READY", 5),
            number("UP-TO-DATE", 10),
            number("AVAILABLE", 9),
            text("IMAGE", 16),
            AGE,
        ],
        drill: Some(ResourceKind::Pod),
        actions: &[A::Scale(0), A::Redeploy, A::Rollback],
        has_logs: true,
        has_shell: false,
        has_stats: false,
        has_sandboxes: false,
    },
    KindSpec {
        kind: ResourceKind::StatefulSet,
        title: "StatefulSets",
        aliases: &["statefulsets", "statefulset", "sts"],
        columns: &[
            text("NAMESPACE", 10),
            text("NAME", 14),
            text("READY", 5),
            text("IMAGE", 16),
            AGE,
        ],
        drill: Some(ResourceKind::Pod),
        actions: &[A::Scale(0), A::Redeploy],
        has_logs: true,
        has_shell: false,
        has_stats: false,
        has_sandboxes: false,
    },
    KindSpec {
        kind: ResourceKind::DaemonSet,
        title: "DaemonSets",
        aliases: &["daemonsets", "daemonset", "ds"],
        columns: &[
            text("NAMESPACE", 10),
            text("NAME", 14),
            number("DESIRED", 7),
            number("CURRENT", 7),
            number("READY", 5),
            number("UP-TO-DATE", 10),
            number("AVAILABLE", 9),
            AGE,
        ],
        drill: Some(ResourceKind::Pod),
        actions: &[A::Redeploy],
        has_logs: true,
        has_shell: false,
        has_stats: false,
        has_sandboxes: false,
    },
    KindSpec {
        kind: ResourceKind::ReplicaSet,
        title: "ReplicaSets",
        aliases: &["replicasets", "replicaset", "rs"],
        columns: &[
            text("NAMESPACE", 10),
            text("NAME", 16),
            number("DESIRED", 7),
            number("CURRENT", 7),
            number("READY", 5),
            text("OWNER", 12),
            AGE,
        ],
        drill: None,
        actions: &[],
        has_logs: false,
        has_shell: false,
        has_stats: false,
        has_sandboxes: false,
    },
    KindSpec {
        kind: ResourceKind::Pod,
        title: "Pods",
        aliases: &["pods", "pod", "po"],
        columns: &[
            text("NAMESPACE", 10),
            text("NAME", 16),
            text("READY", 5),
            text("STATUS", 10),
            number("RESTARTS", 8),
            AGE,
            text("NODE", 8),
            text("IP", 8),
        ],
        drill: Some(ResourceKind::PodContainer),
        actions: &[A::Remove],
        has_logs: true,
        has_shell: true,
        has_stats: false,
        has_sandboxes: false,
    },
    KindSpec {
        kind: ResourceKind::PodContainer,
        title: "PodContainers",
        aliases: &["podcontainers", "podcontainer", "pco"],
        columns: &[
            text("NAME", 12),
            text("IMAGE", 16),
            text("READY", 5),
            number("RESTARTS", 8),
            text("STATE", 10),
            text("POD", 12),
        ],
        drill: None,
        actions: &[],
        has_logs: true,
        has_shell: true,
        has_stats: false,
        has_sandboxes: false,
    },
    KindSpec {
        kind: ResourceKind::KService,
        title: "K8sServices",
        aliases: &["svc", "k8sservices", "kservices", "ksvc"],
        columns: &[
            text("NAMESPACE", 10),
            text("NAME", 14),
            text("TYPE", 9),
            text("CLUSTER-IP", 10),
            text("EXTERNAL-IP", 11),
            text("PORTS", 10),
            AGE,
        ],
        drill: None,
        actions: &[],
        has_logs: false,
        has_shell: false,
        has_stats: false,
        has_sandboxes: false,
    },
    KindSpec {
        kind: ResourceKind::KNode,
        title: "K8sNodes",
        aliases: &["knodes", "knode", "k8snodes", "k8snode"],
        columns: &[
            text("NAME", 14),
            text("STATUS", 8),
            text("ROLES", 8),
            text("VERSION", 8),
            text("INTERNAL-IP", 11),
            AGE,
        ],
        drill: None,
        actions: &[],
        has_logs: false,
        has_shell: false,
        has_stats: false,
        has_sandboxes: false,
    },
    KindSpec {
        kind: ResourceKind::KEvent,
        title: "Events",
        aliases: &["events", "event", "ev"],
        columns: &[
            text("NAMESPACE", 10),
            Column {
                name: "LAST SEEN",
                kind: ColumnKind::Age,
                min_width: 9,
            },
            text("TYPE", 7),
            text("REASON", 10),
            text("OBJECT", 16),
            text("MESSAGE", 20),
        ],
        drill: None,
        actions: &[],
        has_logs: false,
        has_shell: false,
        has_stats: false,
        has_sandboxes: false,
    },
    KindSpec {
        kind: ResourceKind::Device,
        title: "Devices",
        aliases: &["devices", "device", "dev", "fleet"],
        columns: &[
            text("NAME", 10),
            text("STATE", 22),
            text("HOST", 10),
            text("OS", 12),
            text("KERNEL", 8),
            text("UPTIME", 6),
            text("LOAD", 8),
            text("DISK", 8),
            text("ARTIFACT", 10),
            text("UPDATE", 6),
            text("UNITS", 8),
            text("TAGS", 8),
        ],
        drill: None,
        actions: &[
            A::AcceptHostKey(String::new()),
            A::StartUpdate(UpdateRequest::EMPTY),
            A::Commit,
            A::Rollback,
            A::ClearFailed,
            A::Reboot,
        ],
        has_logs: true,
        has_shell: true,
        has_stats: false,
        has_sandboxes: true,
    },
    KindSpec {
        kind: ResourceKind::RunResult,
        title: "Run results",
        aliases: &["results", "result", "runs"],
        columns: &[
            text("DEVICE", 10),
            text("STATE", 8),
            number("EXIT", 4),
            number("SECONDS", 7),
            text("OUTPUT", 30),
        ],
        drill: None,
        actions: &[],
        has_logs: false,
        has_shell: false,
        has_stats: false,
        has_sandboxes: false,
    },
    KindSpec {
        kind: ResourceKind::MenderDevice,
        title: "Mender devices",
        aliases: &["mdevices", "mdevice", "mdev"],
        columns: &[
            text("ID", 12),
            text("AUTH", 8),
            text("DEVICE TYPE", 10),
            text("ARTIFACT", 12),
            Column {
                name: "LAST CHECK-IN",
                kind: ColumnKind::Age,
                min_width: 13,
            },
            text("GROUP", 8),
        ],
        drill: None,
        actions: &[A::CreateDeployment(String::new(), Vec::new())],
        has_logs: false,
        has_shell: false,
        has_stats: false,
        has_sandboxes: false,
    },
    KindSpec {
        kind: ResourceKind::MenderDeployment,
        title: "Mender deployments",
        aliases: &["mdeployments", "mdeployment", "mdep"],
        columns: &[
            text("NAME", 12),
            text("ARTIFACT", 12),
            text("STATUS", 10),
            AGE,
            number("DEVICES", 7),
            number("PENDING", 7),
            number("DOWNLOADING", 11),
            number("INSTALLING", 10),
            number("REBOOTING", 9),
            number("SUCCESS", 7),
            number("FAILURE", 7),
            number("ABORTED", 7),
            number("ALREADY-INSTALLED", 17),
        ],
        drill: Some(ResourceKind::MenderDeploymentDevice),
        actions: &[A::AbortDeployment],
        has_logs: false,
        has_shell: false,
        has_stats: false,
        has_sandboxes: false,
    },
    KindSpec {
        kind: ResourceKind::MenderDeploymentDevice,
        title: "Mender deployment devices",
        aliases: &["mdeploymentdevices", "mdeploymentdevice", "mdd"],
        columns: &[
            text("DEVICE", 12),
            text("STATUS", 10),
            text("STARTED", 20),
            text("FINISHED", 20),
            text("DEPLOYMENT", 12),
        ],
        drill: None,
        actions: &[],
        has_logs: true,
        has_shell: false,
        has_stats: false,
        has_sandboxes: false,
    },
    KindSpec {
        kind: ResourceKind::Rollout,
        title: "Rollouts",
        aliases: &["rollouts", "rollout", "ro"],
        columns: &[
            text("NAME", 15),
            text("ARTIFACT", 12),
            text("STATE", 10),
            number("DEVICES", 7),
            number("PENDING", 7),
            number("RUNNING", 7),
            number("OK", 4),
            number("FAILED", 6),
            number("ROLLED BACK", 11),
            number("PARALLEL", 8),
            text("STOP AFTER", 10),
            AGE,
        ],
        drill: Some(ResourceKind::DeviceUpdate),
        // Pause stops starting devices, activate resumes, abort stops for good.
        actions: &[A::Pause, A::Activate, A::AbortDeployment],
        has_logs: false,
        has_shell: false,
        has_stats: false,
        has_sandboxes: false,
    },
    KindSpec {
        kind: ResourceKind::DeviceUpdate,
        title: "Updates",
        aliases: &["updates", "update", "up"],
        columns: &[
            text("DEVICE", 10),
            text("STEP", 12),
            text("PROGRESS", 16),
            text("ELAPSED", 7),
            text("ARTIFACT", 12),
            text("LAST LINE", 30),
        ],
        drill: None,
        actions: &[A::Commit, A::Rollback, A::ClearFailed, A::Reboot],
        // The updater's output and the steps, as this console saw them.
        has_logs: true,
        has_shell: false,
        has_stats: false,
        has_sandboxes: false,
    },
    // Rows come from the console's timeline ring, not a watch; Enter opens the resource.
    KindSpec {
        kind: ResourceKind::Timeline,
        title: "Timeline",
        aliases: &["timeline", "tl"],
        columns: &[
            Column {
                name: "WHEN",
                kind: ColumnKind::Age,
                min_width: 4,
            },
            text("SOURCE", 10),
            text("SEVERITY", 8),
            text("KIND", 8),
            text("NAME", 14),
            text("WHAT", 12),
            text("DETAIL", 24),
        ],
        drill: None,
        actions: &[],
        has_logs: false,
        has_shell: false,
        has_stats: false,
        has_sandboxes: false,
    },
    KindSpec {
        kind: ResourceKind::Triage,
        title: "Triage",
        aliases: &["triage", "incidents", "!"],
        columns: &[
            text("SEVERITY", 9),
            text("SOURCE", 10),
            text("KIND", 8),
            text("NAME", 14),
            text("PROBLEM", 30),
            SINCE,
        ],
        // Enter opens the resource in its own view (`RowFacts::opens`).
        drill: None,
        actions: &[],
        has_logs: false,
        has_shell: false,
        has_stats: false,
        has_sandboxes: false,
    },
];

impl ResourceKind {
    // `every_kind_resolves_by_its_canonical_alias` (below) looks up every kind.
    #[allow(clippy::expect_used, reason = "SPECS lists every kind")]
    pub fn spec(self) -> &'static KindSpec {
        SPECS
            .iter()
            .find(|s| s.kind == self)
            .expect("every kind has a spec")
    }

    pub fn all() -> impl Iterator<Item = ResourceKind> {
        SPECS.iter().map(|s| s.kind)
    }

    /// Resolve a command-bar word (`containers`, `co`, `ps` ...).
    pub fn from_alias(word: &str) -> Option<ResourceKind> {
        let word = word.trim().to_ascii_lowercase();
        SPECS
            .iter()
            .find(|s| s.aliases.contains(&word.as_str()))
            .map(|s| s.kind)
    }

    /// Every alias, for command-bar completion.
    pub fn all_aliases() -> impl Iterator<Item = &'static str> {
        SPECS.iter().flat_map(|s| s.aliases.iter().copied())
    }

    pub fn name(self) -> &'static str {
        self.spec().aliases[0]
    }

    /// Does this kind offer `action` (arguments ignored)?
    pub fn offers(self, action: &ResourceAction) -> bool {
        self.spec().offers(action)
    }

    /// Does this kind have `capability`? See [`KindSpec::has`].
    pub fn has(self, capability: &Capability) -> bool {
        self.spec().has(capability)
    }
}

impl KindSpec {
    /// Does this kind offer `action` (arguments ignored)?
    pub fn offers(&self, action: &ResourceAction) -> bool {
        self.actions.iter().any(|a| a.same_kind(action))
    }

    /// The one answer to "does an action needing `capability` apply to this kind".
    pub fn has(&self, capability: &Capability) -> bool {
        match capability {
            Capability::Logs => self.has_logs,
            Capability::Shell => self.has_shell,
            Capability::Sandboxes => self.has_sandboxes,
            Capability::Act(action) => self.offers(action),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_resolves_by_its_canonical_alias() {
        for k in ResourceKind::all() {
            assert_eq!(ResourceKind::from_alias(k.name()), Some(k));
        }
        assert_eq!(
            ResourceKind::from_alias(" PS "),
            Some(ResourceKind::Container)
        );
        assert_eq!(ResourceKind::from_alias("nope"), None);
    }
}
