//! Swarm objects → rows. Pure functions over one consistent listing (services + tasks + nodes),
//! so replica counts, update progress and stack totals agree with each other.

use std::collections::{BTreeMap, HashMap};

use bollard::models::{
    Config, EndpointPortConfig, Node, NodeSpecAvailabilityEnum, NodeSpecRoleEnum, NodeState,
    Reachability, Secret, Service, ServiceUpdateStatusStateEnum, Task, TaskSpec, TaskState,
};

use crate::backend::docker::util::{clean_labels, short_id, ts_from_rfc3339};
use crate::model::{
    Health, Labels, Resource, ResourceKey, ResourceKind, ServiceFacts, SourceId, TaskError,
    TaskFacts, TaskPhase, UpdateState,
};
use crate::term::sanitize::sanitize_plain;

/// The label `docker stack deploy` puts on everything it creates.
pub const STACK_NAMESPACE: &str = "com.docker.stack.namespace";

/// One listing of the swarm, as the mappers need it.
#[derive(Debug, Default)]
pub struct SwarmListing {
    pub services: Vec<Service>,
    pub tasks: Vec<Task>,
    pub nodes: Vec<Node>,
}

fn key(source: &SourceId, kind: ResourceKind, id: &str) -> ResourceKey {
    ResourceKey {
        source: source.clone(),
        kind,
        id: id.to_string(),
    }
}

pub fn service_name(s: &Service) -> String {
    sanitize_plain(
        s.spec
            .as_ref()
            .and_then(|sp| sp.name.as_deref())
            .unwrap_or_default(),
    )
}

pub fn stack_of(s: &Service) -> Option<String> {
    s.spec
        .as_ref()?
        .labels
        .as_ref()?
        .get(STACK_NAMESPACE)
        .map(|v| sanitize_plain(v))
        .filter(|v| !v.is_empty())
}

fn node_hostname(n: &Node) -> String {
    sanitize_plain(
        n.description
            .as_ref()
            .and_then(|d| d.hostname.as_deref())
            .unwrap_or_default(),
    )
}

fn is_running(t: &Task) -> bool {
    t.status.as_ref().and_then(|s| s.state) == Some(TaskState::RUNNING)
}

fn desired_running(t: &Task) -> bool {
    t.desired_state == Some(TaskState::RUNNING)
}

/// How far a service is: running tasks, desired tasks, and tasks already on the current spec.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Replicas {
    pub running: u64,
    pub desired: u64,
    /// Running tasks whose spec is the service's current one (update/rollback progress).
    pub current: u64,
    pub global: bool,
}

pub fn replicas(s: &Service, tasks: &[&Task]) -> Replicas {
    let mode = s.spec.as_ref().and_then(|sp| sp.mode.as_ref());
    let global = mode.is_some_and(|m| m.global.is_some() || m.global_job.is_some());
    let wanted: Vec<&&Task> = tasks.iter().filter(|t| desired_running(t)).collect();
    let desired = if global {
        wanted.len() as u64
    } else {
        mode.and_then(|m| m.replicated.as_ref())
            .and_then(|r| r.replicas)
            .unwrap_or(1)
            .max(0) as u64
    };
    let template = s.spec.as_ref().and_then(|sp| sp.task_template.as_ref());
    let running: Vec<&&Task> = wanted.iter().copied().filter(|t| is_running(t)).collect();
    let current = running
        .iter()
        .filter(|t| same_spec(t.spec.as_ref(), template))
        .count() as u64;
    Replicas {
        running: running.len() as u64,
        desired,
        current,
        global,
    }
}

/// Does a task run the service's current spec? The engine copies the template into each task
/// but leaves out a few fields it fills on the service only (`Runtime`, network attachments),
/// so compare without them.
fn same_spec(task: Option<&TaskSpec>, template: Option<&TaskSpec>) -> bool {
    let strip = |t: &TaskSpec| TaskSpec {
        runtime: None,
        networks: None,
        ..t.clone()
    };
    match (task, template) {
        (Some(a), Some(b)) => strip(a) == strip(b),
        _ => false,
    }
}

fn update_state(s: &Service) -> Option<ServiceUpdateStatusStateEnum> {
    s.update_status
        .as_ref()
        .and_then(|u| u.state)
        .filter(|st| *st != ServiceUpdateStatusStateEnum::EMPTY)
}

fn in_progress(state: Option<ServiceUpdateStatusStateEnum>) -> bool {
    matches!(
        state,
        Some(
            ServiceUpdateStatusStateEnum::UPDATING | ServiceUpdateStatusStateEnum::ROLLBACK_STARTED
        )
    )
}

/// The engine's update state as the model names it.
fn update_kind(st: ServiceUpdateStatusStateEnum) -> Option<UpdateState> {
    use ServiceUpdateStatusStateEnum as S;
    Some(match st {
        S::UPDATING => UpdateState::Updating,
        S::PAUSED => UpdateState::Paused,
        S::COMPLETED => UpdateState::Completed,
        S::ROLLBACK_STARTED => UpdateState::RollbackStarted,
        S::ROLLBACK_PAUSED => UpdateState::RollbackPaused,
        S::ROLLBACK_COMPLETED => UpdateState::RollbackCompleted,
        S::EMPTY => return None,
    })
}

/// "updating 2/3", "rolling back 1/3", "rolled back", "update paused", or "" when never
/// updated: words, not the engine's `rollback_completed`.
fn update_text(s: &Service, r: Replicas) -> String {
    match update_state(s).and_then(update_kind) {
        None => String::new(),
        Some(st @ (UpdateState::Updating | UpdateState::RollbackStarted)) => {
            format!("{} {}/{}", st.words(), r.current.min(r.desired), r.desired)
        }
        Some(st) => st.words().to_string(),
    }
}

/// A task's state's time (`Status.Timestamp`).
fn task_time(t: &Task) -> Option<jiff::Timestamp> {
    ts_from_rfc3339(t.status.as_ref()?.timestamp.as_deref())
}

fn task_error_text(t: &Task) -> Option<String> {
    t.status
        .as_ref()?
        .err
        .as_deref()
        .map(sanitize_plain)
        .filter(|e| !e.trim().is_empty())
}

/// What triage needs of a service: its update and the newest error among its tasks.
fn service_facts(s: &Service, tasks: &[&Task]) -> ServiceFacts {
    let update = s.update_status.as_ref();
    let task_error = tasks
        .iter()
        .filter_map(|t| Some((task_time(t), task_error_text(t)?)))
        .max_by_key(|(at, _)| *at)
        .map(|(at, text)| TaskError { text, at });
    ServiceFacts {
        update: update_state(s).and_then(update_kind),
        update_message: update
            .and_then(|u| u.message.as_deref())
            .map(sanitize_plain)
            .unwrap_or_default(),
        update_started: update.and_then(|u| ts_from_rfc3339(u.started_at.as_deref())),
        update_completed: update.and_then(|u| ts_from_rfc3339(u.completed_at.as_deref())),
        task_error,
    }
}

fn service_health(s: &Service, r: Replicas) -> Health {
    match update_state(s) {
        Some(
            ServiceUpdateStatusStateEnum::PAUSED | ServiceUpdateStatusStateEnum::ROLLBACK_PAUSED,
        ) => Health::Failed,
        st if in_progress(st) => Health::Pending,
        _ if r.desired == 0 => Health::Stopped,
        _ if r.running >= r.desired => Health::Ok,
        _ if r.running == 0 => Health::Failed,
        _ => Health::Pending,
    }
}

/// `nginx:1.25@sha256:0123…` → `nginx:1.25@0123456789ab`.
pub fn short_image(image: &str) -> String {
    let image = sanitize_plain(image);
    match image.split_once("@sha256:") {
        Some((name, digest)) => format!("{name}@{}", short_id(digest)),
        None => image,
    }
}

fn ports_text(ports: Option<&Vec<EndpointPortConfig>>) -> String {
    ports
        .into_iter()
        .flatten()
        .map(|p| {
            let proto = p
                .protocol
                .map(|x| x.to_string())
                .unwrap_or_else(|| "tcp".into());
            let mode = match p.publish_mode.map(|m| m.to_string()).as_deref() {
                Some("host") => " (host)",
                _ => "",
            };
            format!(
                "{}->{}/{proto}{mode}",
                p.published_port.unwrap_or_default(),
                p.target_port.unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn tasks_by_service(tasks: &[Task]) -> HashMap<&str, Vec<&Task>> {
    let mut map: HashMap<&str, Vec<&Task>> = HashMap::new();
    for t in tasks {
        if let Some(sid) = t.service_id.as_deref() {
            map.entry(sid).or_default().push(t);
        }
    }
    map
}

pub fn service_resources(source: &SourceId, l: &SwarmListing) -> Vec<Resource> {
    let by_service = tasks_by_service(&l.tasks);
    l.services
        .iter()
        .filter_map(|s| {
            let id = s.id.as_deref()?;
            let name = service_name(s);
            let tasks = by_service.get(id).map(Vec::as_slice).unwrap_or_default();
            let r = replicas(s, tasks);
            let spec = s.spec.as_ref();
            let image = spec
                .and_then(|sp| sp.task_template.as_ref())
                .and_then(|t| t.container_spec.as_ref())
                .and_then(|c| c.image.as_deref())
                .map(short_image)
                .unwrap_or_default();
            let stack = stack_of(s);
            let ports = s.endpoint.as_ref().and_then(|e| e.ports.as_ref()).or(spec
                .and_then(|sp| sp.endpoint_spec.as_ref())
                .and_then(|e| e.ports.as_ref()));
            Some(Resource {
                key: key(source, ResourceKind::Service, id),
                name: name.clone(),
                parent: stack.clone(),
                health: service_health(s, r),
                cells: vec![
                    name,
                    if r.global { "global" } else { "replicated" }.into(),
                    format!("{}/{}", r.running, r.desired),
                    image,
                    ports_text(ports),
                    update_text(s, r),
                    stack.unwrap_or_default(),
                    String::new(),
                ],
                created: ts_from_rfc3339(s.created_at.as_deref()),
                labels: clean_labels(spec.and_then(|sp| sp.labels.as_ref())),
                // The scale dialog starts from these; triage reads the update and task error.
                facts: crate::model::RowFacts {
                    replicas: Some(crate::model::Replicas {
                        running: r.running,
                        desired: r.desired,
                    }),
                    service: Some(Box::new(service_facts(s, tasks))),
                    ..Default::default()
                },
            })
        })
        .collect()
}

pub fn stack_resources(source: &SourceId, l: &SwarmListing) -> Vec<Resource> {
    #[derive(Default)]
    struct Acc {
        services: usize,
        running: u64,
        desired: u64,
        worst: Option<Health>,
        last_update: Option<(jiff::Timestamp, String)>,
        oldest: Option<jiff::Timestamp>,
    }
    let by_service = tasks_by_service(&l.tasks);
    let mut stacks: BTreeMap<String, Acc> = BTreeMap::new();
    for s in &l.services {
        let Some(stack) = stack_of(s) else { continue };
        let tasks =
            s.id.as_deref()
                .and_then(|id| by_service.get(id))
                .map(Vec::as_slice)
                .unwrap_or_default();
        let r = replicas(s, tasks);
        let a = stacks.entry(stack).or_default();
        a.services += 1;
        a.running += r.running;
        a.desired += r.desired;
        let h = service_health(s, r);
        a.worst = Some(match (a.worst, h) {
            (Some(Health::Failed), _) | (_, Health::Failed) => Health::Failed,
            (Some(Health::Pending), _) | (_, Health::Pending) => Health::Pending,
            (Some(Health::Stopped), _) | (_, Health::Stopped) => Health::Stopped,
            _ => Health::Ok,
        });
        if update_state(s).is_some() {
            let at = s
                .update_status
                .as_ref()
                .and_then(|u| ts_from_rfc3339(u.started_at.as_deref()))
                .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
            // The stack shows its most recent service update.
            if a.last_update.as_ref().is_none_or(|(t, _)| at >= *t) {
                a.last_update = Some((at, format!("{}: {}", service_name(s), update_text(s, r))));
            }
        }
        if let Some(c) = ts_from_rfc3339(s.created_at.as_deref()) {
            a.oldest = Some(a.oldest.map_or(c, |o| o.min(c)));
        }
    }
    stacks
        .into_iter()
        .map(|(name, a)| Resource {
            key: key(source, ResourceKind::Stack, &name),
            name: name.clone(),
            parent: None,
            health: a.worst.unwrap_or_default(),
            cells: vec![
                name,
                a.services.to_string(),
                format!("{}/{}", a.running, a.desired),
                a.last_update.map(|(_, t)| t).unwrap_or_default(),
                String::new(),
            ],
            created: a.oldest,
            labels: Labels::new(),
            facts: Default::default(),
        })
        .collect()
}

fn task_phase(state: Option<TaskState>) -> TaskPhase {
    match state {
        Some(TaskState::RUNNING) => TaskPhase::Running,
        Some(TaskState::COMPLETE) => TaskPhase::Complete,
        Some(TaskState::SHUTDOWN) => TaskPhase::Shutdown,
        Some(TaskState::FAILED) => TaskPhase::Failed,
        Some(TaskState::REJECTED) => TaskPhase::Rejected,
        Some(TaskState::ORPHANED) => TaskPhase::Orphaned,
        Some(TaskState::REMOVE) => TaskPhase::Removed,
        _ => TaskPhase::Starting,
    }
}

fn task_facts(t: &Task, error: &str) -> TaskFacts {
    let state = t.status.as_ref().and_then(|s| s.state);
    TaskFacts {
        phase: task_phase(state),
        state: state.map(|s| s.to_string()).unwrap_or_default(),
        desired_running: desired_running(t),
        error: error.to_string(),
        exit_code: t
            .status
            .as_ref()
            .and_then(|s| s.container_status.as_ref())
            .and_then(|c| c.exit_code),
        created_at: ts_from_rfc3339(t.created_at.as_deref()),
    }
}

fn task_health(t: &Task) -> Health {
    match t.status.as_ref().and_then(|s| s.state) {
        Some(TaskState::RUNNING) if desired_running(t) => Health::Ok,
        Some(TaskState::RUNNING) => Health::Pending,
        Some(TaskState::FAILED | TaskState::REJECTED | TaskState::ORPHANED) => Health::Failed,
        Some(TaskState::COMPLETE | TaskState::SHUTDOWN | TaskState::REMOVE) => Health::Stopped,
        Some(_) => Health::Pending,
        None => Health::Unknown,
    }
}

/// `web.2` for replicated tasks, `agent.<node id>` for global ones, as `docker service ps`.
pub fn task_name(t: &Task, service: &str) -> String {
    match (t.slot, t.node_id.as_deref()) {
        (Some(slot), _) if slot > 0 => format!("{service}.{slot}"),
        (_, Some(node)) => format!("{service}.{}", short_id(node)),
        _ => format!(
            "{service}.{}",
            short_id(t.id.as_deref().unwrap_or_default())
        ),
    }
}

pub fn task_container_id(t: &Task) -> Option<&str> {
    t.status
        .as_ref()?
        .container_status
        .as_ref()?
        .container_id
        .as_deref()
        .filter(|c| !c.is_empty())
}

pub fn task_resources(source: &SourceId, l: &SwarmListing) -> Vec<Resource> {
    let services: HashMap<&str, String> = l
        .services
        .iter()
        .filter_map(|s| Some((s.id.as_deref()?, service_name(s))))
        .collect();
    let nodes: HashMap<&str, String> = l
        .nodes
        .iter()
        .filter_map(|n| Some((n.id.as_deref()?, node_hostname(n))))
        .collect();
    l.tasks
        .iter()
        .filter_map(|t| {
            let id = t.id.as_deref()?;
            let service = t
                .service_id
                .as_deref()
                .and_then(|s| services.get(s).cloned())
                .unwrap_or_default();
            let name = task_name(t, &service);
            let status = t.status.as_ref();
            let node = t
                .node_id
                .as_deref()
                .map(|n| nodes.get(n).cloned().unwrap_or_else(|| short_id(n)))
                .unwrap_or_default();
            let err = status
                .and_then(|s| s.err.as_deref())
                .map(sanitize_plain)
                .unwrap_or_default();
            Some(Resource {
                key: key(source, ResourceKind::Task, id),
                name: name.clone(),
                parent: Some(service),
                health: task_health(t),
                cells: vec![
                    name,
                    node,
                    status
                        .and_then(|s| s.state)
                        .map(|s| s.to_string())
                        .unwrap_or_default(),
                    String::new(),
                    t.desired_state.map(|s| s.to_string()).unwrap_or_default(),
                    err.clone(),
                    task_container_id(t).map(short_id).unwrap_or_default(),
                ],
                created: task_time(t),
                labels: clean_labels(t.labels.as_ref()),
                facts: crate::model::RowFacts {
                    task: Some(Box::new(task_facts(t, &err))),
                    ..Default::default()
                },
            })
        })
        .collect()
}

fn node_health(n: &Node) -> Health {
    let state = n.status.as_ref().and_then(|s| s.state);
    let availability = n.spec.as_ref().and_then(|s| s.availability);
    match (state, availability) {
        (Some(NodeState::DOWN | NodeState::DISCONNECTED), _) => Health::Failed,
        (Some(NodeState::READY), Some(NodeSpecAvailabilityEnum::ACTIVE)) => Health::Ok,
        (Some(NodeState::READY), Some(NodeSpecAvailabilityEnum::DRAIN)) => Health::Stopped,
        (Some(NodeState::READY), _) => Health::Pending,
        _ => Health::Unknown,
    }
}

pub fn node_resources(source: &SourceId, nodes: &[Node]) -> Vec<Resource> {
    nodes
        .iter()
        .filter_map(|n| {
            let id = n.id.as_deref()?;
            let hostname = node_hostname(n);
            let spec = n.spec.as_ref();
            let manager = match &n.manager_status {
                Some(m) if m.leader == Some(true) => "Leader".to_string(),
                Some(m) => match m.reachability {
                    Some(Reachability::REACHABLE) => "Reachable".into(),
                    Some(Reachability::UNREACHABLE) => "Unreachable".into(),
                    _ => "Unknown".into(),
                },
                None => String::new(),
            };
            let labels = clean_labels(spec.and_then(|s| s.labels.as_ref()));
            let labels_text = labels
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",");
            Some(Resource {
                key: key(source, ResourceKind::Node, id),
                name: hostname.clone(),
                parent: None,
                health: node_health(n),
                cells: vec![
                    hostname,
                    spec.and_then(|s| s.role)
                        .map(|r| match r {
                            NodeSpecRoleEnum::MANAGER => "manager".to_string(),
                            other => other.to_string(),
                        })
                        .unwrap_or_default(),
                    spec.and_then(|s| s.availability)
                        .map(|a| a.to_string())
                        .unwrap_or_default(),
                    n.status
                        .as_ref()
                        .and_then(|s| s.state)
                        .map(|s| s.to_string())
                        .unwrap_or_default(),
                    manager,
                    n.description
                        .as_ref()
                        .and_then(|d| d.engine.as_ref())
                        .and_then(|e| e.engine_version.as_deref())
                        .map(sanitize_plain)
                        .unwrap_or_default(),
                    labels_text,
                ],
                created: ts_from_rfc3339(n.created_at.as_deref()),
                labels,
                facts: Default::default(),
            })
        })
        .collect()
}

/// Secrets: names and dates only. The API never returns secret data; nothing here asks for it.
pub fn secret_resources(source: &SourceId, secrets: &[Secret]) -> Vec<Resource> {
    secrets
        .iter()
        .filter_map(|s| {
            let id = s.id.as_deref()?;
            let spec = s.spec.as_ref();
            let name = sanitize_plain(spec.and_then(|sp| sp.name.as_deref()).unwrap_or(id));
            let updated = ts_from_rfc3339(s.updated_at.as_deref());
            Some(Resource {
                key: key(source, ResourceKind::Secret, id),
                name: name.clone(),
                parent: None,
                health: Health::Ok,
                cells: vec![
                    name,
                    short_id(id),
                    spec.and_then(|sp| sp.driver.as_ref())
                        .map(|d| sanitize_plain(&d.name))
                        .unwrap_or_default(),
                    updated.map(|u| u.to_string()).unwrap_or_default(),
                    String::new(),
                ],
                created: ts_from_rfc3339(s.created_at.as_deref()),
                labels: clean_labels(spec.and_then(|sp| sp.labels.as_ref())),
                facts: Default::default(),
            })
        })
        .collect()
}

/// Configs: names and dates; their data is shown only by describe (configs are not secret).
pub fn config_resources(source: &SourceId, configs: &[Config]) -> Vec<Resource> {
    configs
        .iter()
        .filter_map(|c| {
            let id = c.id.as_deref()?;
            let spec = c.spec.as_ref();
            let name = sanitize_plain(spec.and_then(|sp| sp.name.as_deref()).unwrap_or(id));
            Some(Resource {
                key: key(source, ResourceKind::Config, id),
                name: name.clone(),
                parent: None,
                health: Health::Ok,
                cells: vec![
                    name,
                    short_id(id),
                    ts_from_rfc3339(c.updated_at.as_deref())
                        .map(|u| u.to_string())
                        .unwrap_or_default(),
                    String::new(),
                ],
                created: ts_from_rfc3339(c.created_at.as_deref()),
                labels: clean_labels(spec.and_then(|sp| sp.labels.as_ref())),
                facts: Default::default(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::models::{
        ServiceSpec, ServiceSpecMode, ServiceSpecModeReplicated, ServiceUpdateStatus,
        TaskSpecContainerSpec, TaskStatus,
    };

    fn spec(image: &str, runtime: Option<&str>) -> TaskSpec {
        TaskSpec {
            container_spec: Some(TaskSpecContainerSpec {
                image: Some(image.into()),
                ..Default::default()
            }),
            runtime: runtime.map(String::from),
            ..Default::default()
        }
    }

    fn task(slot: i64, image: &str) -> Task {
        Task {
            id: Some(format!("t{slot}")),
            service_id: Some("s1".into()),
            slot: Some(slot),
            spec: Some(spec(image, None)),
            desired_state: Some(TaskState::RUNNING),
            status: Some(TaskStatus {
                state: Some(TaskState::RUNNING),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn every_raw_update_state_reads_as_words() {
        use ServiceUpdateStatusStateEnum as S;
        let words: Vec<&str> = [
            S::UPDATING,
            S::PAUSED,
            S::COMPLETED,
            S::ROLLBACK_STARTED,
            S::ROLLBACK_PAUSED,
            S::ROLLBACK_COMPLETED,
        ]
        .into_iter()
        .map(|s| update_kind(s).unwrap().words())
        .collect();
        assert_eq!(
            words,
            [
                "updating",
                "update paused",
                "updated",
                "rolling back",
                "rollback paused",
                "rolled back"
            ]
        );
        assert!(
            words.iter().all(|w| !w.contains('_')),
            "no raw engine words"
        );
        assert_eq!(update_kind(S::EMPTY), None);
    }

    #[test]
    fn update_progress_counts_tasks_on_the_current_spec() {
        let service = Service {
            id: Some("s1".into()),
            spec: Some(ServiceSpec {
                name: Some("web".into()),
                // The engine adds Runtime on the service only: it must not count as a change.
                task_template: Some(spec("app:2", Some("container"))),
                mode: Some(ServiceSpecMode {
                    replicated: Some(ServiceSpecModeReplicated { replicas: Some(3) }),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            update_status: Some(ServiceUpdateStatus {
                state: Some(ServiceUpdateStatusStateEnum::UPDATING),
                ..Default::default()
            }),
            ..Default::default()
        };
        let listing = SwarmListing {
            services: vec![service],
            tasks: vec![task(1, "app:2"), task(2, "app:2"), task(3, "app:1")],
            nodes: vec![],
        };
        let rows = service_resources(&SourceId::new("docker:t"), &listing);
        assert_eq!(rows[0].cells[2], "3/3");
        let replicas = crate::model::Replicas {
            running: 3,
            desired: 3,
        };
        assert_eq!(rows[0].facts.replicas, Some(replicas), "the scale dialog's");
        assert_eq!(rows[0].cells[5], "updating 2/3");
        assert_eq!(rows[0].health, Health::Pending);
        assert_eq!(task_name(&listing.tasks[0], "web"), "web.1");
        assert_eq!(
            short_image("nginx:1@sha256:0123456789abcdef"),
            "nginx:1@0123456789ab"
        );
    }
}
