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
    /// A local port forwarded to a container, pod or device port (`:forwards`; rows made by
    /// the console's forwards, src/backend/forward.rs).
    Forward,
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
    /// Which columns a narrow table drops first: [`KEEP`] (the name, state, reason, readiness:
    /// never dropped, not squeezed before the others), then [`NORMAL`], [`SECONDARY`], and
    /// [`FIRST_TO_GO`] (ports, IPs, OS, images: dropped first) (see [`priority`]). Dropped columns are reached
    /// with ←/→ (src/ui/table.rs).
    pub priority: u8,
}

/// A column's [`Column::priority`]: lower is kept longer.
pub mod priority {
    /// Never dropped: what a row *is* and whether it is well (name, state, reason, ready).
    pub const KEEP: u8 = 0;
    pub const NORMAL: u8 = 1;
    /// Ages, owners, namespaces: useful, not needed to see what is wrong.
    pub const SECONDARY: u8 = 2;
    /// Ports, IPs, OS, images, paths: the first to go on a narrow screen.
    pub const FIRST_TO_GO: u8 = 3;
}
use priority::*;

impl Column {
    /// This column with `priority` (see [`Column::priority`]).
    const fn prio(mut self, priority: u8) -> Column {
        self.priority = priority;
        self
    }
    const fn keep(self) -> Column {
        self.prio(KEEP)
    }
    const fn secondary(self) -> Column {
        self.prio(SECONDARY)
    }
    const fn first_to_go(self) -> Column {
        self.prio(FIRST_TO_GO)
    }
}

const fn text(name: &'static str, min_width: u16) -> Column {
    Column {
        name,
        kind: ColumnKind::Text,
        min_width,
        priority: NORMAL,
    }
}
const fn number(name: &'static str, min_width: u16) -> Column {
    Column {
        name,
        kind: ColumnKind::Number,
        min_width,
        priority: NORMAL,
    }
}
const fn age(name: &'static str, min_width: u16) -> Column {
    Column {
        name,
        kind: ColumnKind::Age,
        min_width,
        priority: SECONDARY,
    }
}
const AGE: Column = age("AGE", 4);
/// A task's state age ("running since 3m"): `Resource::created` holds the state's timestamp.
const SINCE: Column = age("SINCE", 5);

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
            text("NAME", 12).keep(),
            text("IMAGE", 12).first_to_go(),
            text("STATE", 7).keep(),
            text("STATUS", 10).keep(),
            number("RESTARTS", 8),
            number("EXIT", 4).secondary(),
            text("PORTS", 8).first_to_go(),
            text("PROJECT", 8).secondary(),
            AGE,
        ],
        drill: None,
        actions: &[
            A::Start,
            A::Stop,
            A::Restart,
            A::Kill,
            A::Remove,
            A::Forward {
                remote: 0,
                local: 0,
            },
        ],
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
            text("NAME", 12).keep(),
            number("RUNNING", 7).keep(),
            number("CONTAINERS", 10),
            text("WORKDIR", 10).first_to_go(),
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
            text("REPOSITORY:TAG", 20).keep(),
            text("ID", 12).secondary(),
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
            text("NAME", 20).keep(),
            text("DRIVER", 6).secondary(),
            text("MOUNTPOINT", 20).first_to_go(),
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
            text("NAME", 16).keep(),
            text("ID", 12).secondary(),
            text("DRIVER", 7),
            text("SCOPE", 6).secondary(),
            text("SUBNET", 14).first_to_go(),
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
            text("NAME", 12).keep(),
            number("SERVICES", 8),
            text("TASKS", 7).keep(),
            text("UPDATE", 10).keep(),
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
            text("NAME", 14).keep(),
            text("MODE", 10).secondary(),
            text("REPLICAS", 8).keep(),
            text("IMAGE", 16).first_to_go(),
            text("PORTS", 8).first_to_go(),
            text("UPDATE", 10).keep(),
            text("STACK", 8).secondary(),
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
            text("NAME", 14).keep(),
            text("NODE", 8),
            text("STATE", 9).keep(),
            SINCE,
            text("DESIRED", 8).secondary(),
            text("ERROR", 12).keep(),
            text("CONTAINER", 12).first_to_go(),
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
            text("HOSTNAME", 12).keep(),
            text("ROLE", 7),
            text("AVAILABILITY", 12).keep(),
            text("STATUS", 7).keep(),
            text("MANAGER", 11),
            text("ENGINE", 8).first_to_go(),
            text("LABELS", 10).first_to_go(),
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
            text("NAME", 16).keep(),
            text("ID", 12).secondary(),
            text("DRIVER", 8).secondary(),
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
        columns: &[
            text("NAME", 16).keep(),
            text("ID", 12).secondary(),
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
    // Kubernetes. Namespaced kinds lead with NAMESPACE (so READY is the 3rd column, where the
    // scale dialog reads "ready/desired").
    KindSpec {
        kind: ResourceKind::Context,
        title: "Contexts",
        aliases: &["contexts", "context", "ctx"],
        columns: &[
            text("NAME", 14).keep(),
            text("CLUSTER", 12),
            text("USER", 10).secondary(),
            text("NAMESPACE", 10),
            text("CURRENT", 7).keep(),
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
        columns: &[
            text("NAME", 16).keep(),
            text("STATUS", 8).keep(),
            text("CURRENT", 7).keep(),
            AGE,
        ],
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
            text("NAMESPACE", 10).secondary(),
            text("NAME", 14).keep(),
            text("READY", 5).keep(),
            number("UP-TO-DATE", 10),
            number("AVAILABLE", 9),
            text("IMAGE", 16).first_to_go(),
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
            text("NAMESPACE", 10).secondary(),
            text("NAME", 14).keep(),
            text("READY", 5).keep(),
            text("IMAGE", 16).first_to_go(),
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
            text("NAMESPACE", 10).secondary(),
            text("NAME", 14).keep(),
            number("DESIRED", 7),
            number("CURRENT", 7),
            number("READY", 5).keep(),
            number("UP-TO-DATE", 10).secondary(),
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
            text("NAMESPACE", 10).secondary(),
            text("NAME", 16).keep(),
            number("DESIRED", 7),
            number("CURRENT", 7),
            number("READY", 5).keep(),
            text("OWNER", 12).secondary(),
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
            text("NAMESPACE", 10).secondary(),
            text("NAME", 16).keep(),
            text("READY", 5).keep(),
            text("STATUS", 10).keep(),
            number("RESTARTS", 8),
            AGE,
            text("NODE", 8).secondary(),
            text("IP", 8).first_to_go(),
        ],
        drill: Some(ResourceKind::PodContainer),
        actions: &[
            A::Remove,
            A::Forward {
                remote: 0,
                local: 0,
            },
        ],
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
            text("NAME", 12).keep(),
            text("IMAGE", 16).first_to_go(),
            text("READY", 5).keep(),
            number("RESTARTS", 8),
            text("STATE", 10).keep(),
            text("POD", 12).secondary(),
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
            text("NAMESPACE", 10).secondary(),
            text("NAME", 14).keep(),
            text("TYPE", 9),
            text("CLUSTER-IP", 10).first_to_go(),
            text("EXTERNAL-IP", 11).first_to_go(),
            text("PORTS", 10).secondary(),
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
            text("NAME", 14).keep(),
            text("STATUS", 8).keep(),
            text("ROLES", 8),
            text("VERSION", 8).secondary(),
            text("INTERNAL-IP", 11).first_to_go(),
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
            text("NAMESPACE", 10).secondary(),
            age("LAST SEEN", 9).prio(NORMAL),
            text("TYPE", 7).keep(),
            text("REASON", 10).keep(),
            text("OBJECT", 16),
            text("MESSAGE", 20).keep(),
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
            text("NAME", 10).keep(),
            text("STATE", 22).keep(),
            text("HOST", 10).first_to_go(),
            text("OS", 12).first_to_go(),
            text("KERNEL", 8).first_to_go(),
            text("UPTIME", 6).secondary(),
            text("LOAD", 8).secondary(),
            text("DISK", 8),
            text("ARTIFACT", 10),
            text("UPDATE", 6).keep(),
            text("UNITS", 8),
            text("TAGS", 8).secondary(),
        ],
        drill: None,
        actions: &[
            A::AcceptHostKey(String::new()),
            A::StartUpdate(UpdateRequest::EMPTY),
            A::Commit,
            A::Rollback,
            A::ClearFailed,
            A::Reboot,
            A::Forward {
                remote: 0,
                local: 0,
            },
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
            text("DEVICE", 10).keep(),
            text("STATE", 8).keep(),
            number("EXIT", 4).keep(),
            number("SECONDS", 7).secondary(),
            text("OUTPUT", 30).keep(),
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
            text("ID", 12).keep(),
            text("AUTH", 8).keep(),
            text("DEVICE TYPE", 10).secondary(),
            text("ARTIFACT", 12),
            age("LAST CHECK-IN", 13),
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
            text("NAME", 12).keep(),
            text("ARTIFACT", 12),
            text("STATUS", 10).keep(),
            AGE,
            number("DEVICES", 7),
            number("PENDING", 7).secondary(),
            number("DOWNLOADING", 11).first_to_go(),
            number("INSTALLING", 10).first_to_go(),
            number("REBOOTING", 9).first_to_go(),
            number("SUCCESS", 7),
            number("FAILURE", 7).keep(),
            number("ABORTED", 7).secondary(),
            number("ALREADY-INSTALLED", 17).first_to_go(),
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
            text("DEVICE", 12).keep(),
            text("STATUS", 10).keep(),
            text("STARTED", 20).secondary(),
            text("FINISHED", 20).secondary(),
            text("DEPLOYMENT", 12).first_to_go(),
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
            text("NAME", 15).keep(),
            text("ARTIFACT", 12),
            text("STATE", 10).keep(),
            number("DEVICES", 7),
            number("PENDING", 7).secondary(),
            number("RUNNING", 7),
            number("OK", 4),
            number("FAILED", 6).keep(),
            number("ROLLED BACK", 11),
            number("PARALLEL", 8).first_to_go(),
            text("STOP AFTER", 10).first_to_go(),
            AGE,
        ],
        drill: Some(ResourceKind::DeviceUpdate),
        // Pause stops starting devices, activate resumes, abort stops for good; commit
        // commits every device the rollout holds before commit.
        actions: &[
            A::Pause,
            A::Activate,
            A::AbortDeployment,
            A::Commit,
            A::ClearFinished,
        ],
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
            text("DEVICE", 10).keep(),
            text("STEP", 12).keep(),
            text("PROGRESS", 16),
            text("ELAPSED", 7).secondary(),
            text("ARTIFACT", 12).first_to_go(),
            text("ROLLOUT", 15).secondary(),
            text("LAST LINE", 30).keep(),
        ],
        drill: None,
        actions: &[
            A::Commit,
            A::Rollback,
            A::ClearFailed,
            A::Reboot,
            A::ClearFinished,
        ],
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
            age("WHEN", 4).keep(),
            text("SOURCE", 10).secondary(),
            text("SEVERITY", 8),
            text("KIND", 8).secondary(),
            text("NAME", 14).keep(),
            text("WHAT", 12).keep(),
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
            text("SEVERITY", 9).keep(),
            text("SOURCE", 10).secondary(),
            text("KIND", 8).secondary(),
            text("NAME", 14).keep(),
            text("PROBLEM", 30).keep(),
            SINCE.prio(NORMAL),
        ],
        // Enter opens the resource in its own view (`RowFacts::opens`).
        drill: None,
        actions: &[],
        has_logs: false,
        has_shell: false,
        has_stats: false,
        has_sandboxes: false,
    },
    // Rows come from the console's own forwarders (src/backend/forward.rs), not a watch.
    KindSpec {
        kind: ResourceKind::Forward,
        title: "Forwards",
        aliases: &["forwards", "forward", "pf"],
        columns: &[
            text("LOCAL", 15).keep(),
            text("TARGET", 20).keep(),
            text("SOURCE", 10).secondary(),
            number("CONNECTIONS", 11),
            number("BYTES", 8),
            SINCE.prio(NORMAL),
            text("LAST ERROR", 20),
        ],
        drill: None,
        actions: &[A::CloseForward],
        has_logs: false,
        has_shell: false,
        has_stats: false,
        has_sandboxes: false,
    },
];

impl ResourceKind {
    /// The columns a table of this kind shows when its rows come from `sources` sources: from
    /// two on, SOURCE after the kind's own (unless it has one), so rows of two engines are never
    /// silently merged. Cells: [`crate::model::Resource::cell_or_source`].
    pub fn columns_for(self, sources: usize) -> std::borrow::Cow<'static, [Column]> {
        let columns = self.spec().columns;
        if sources < 2 || columns.iter().any(|c| c.name == "SOURCE") {
            return std::borrow::Cow::Borrowed(columns);
        }
        let mut with = columns.to_vec();
        with.push(text("SOURCE", 10));
        std::borrow::Cow::Owned(with)
    }

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
