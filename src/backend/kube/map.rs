//! Kubernetes objects → neutral rows. Pure functions (no client), so they are unit-tested and
//! benchmarked on their own. Remote text goes through `sanitize_plain` before it reaches a cell.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::core::v1::{
    Container, ContainerStatus, Event, Namespace, Node, Pod, PodSpec, Service,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::model::{Health, Resource, ResourceKey, ResourceKind, SourceId};
use crate::term::sanitize::sanitize_plain;

/// The label a Deployment's ReplicaSets and pods carry; the RS name is `<deployment>-<hash>`.
pub const POD_TEMPLATE_HASH: &str = "pod-template-hash";
/// The revision of a Deployment's ReplicaSet (rollout history).
pub const REVISION: &str = "deployment.kubernetes.io/revision";

/// `namespace/name` (or `name` for cluster-scoped objects): the key id of an object.
pub fn object_id(meta: &ObjectMeta) -> String {
    let name = meta.name.as_deref().unwrap_or_default();
    match meta.namespace.as_deref() {
        Some(ns) if !ns.is_empty() => format!("{ns}/{name}"),
        _ => name.to_string(),
    }
}

/// Split a key id back into (namespace, name).
pub fn split_id(id: &str) -> (Option<&str>, &str) {
    match id.split_once('/') {
        Some((ns, name)) => (Some(ns), name),
        None => (None, id),
    }
}

fn key(source: &SourceId, kind: ResourceKind, id: String) -> ResourceKey {
    ResourceKey {
        source: source.clone(),
        kind,
        id,
    }
}

/// Remote text for a cell. Printable ASCII (nearly every name, image and IP) is taken as it
/// is; anything else goes through the sanitiser.
fn clean(s: &str) -> String {
    if s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        s.to_string()
    } else {
        sanitize_plain(s)
    }
}

fn labels(meta: &ObjectMeta) -> BTreeMap<String, String> {
    meta.labels
        .iter()
        .flatten()
        .map(|(k, v)| (clean(k), clean(v)))
        .collect()
}

fn created(meta: &ObjectMeta) -> Option<jiff::Timestamp> {
    meta.creation_timestamp.as_ref().map(|t| t.0)
}

fn name_of(meta: &ObjectMeta) -> String {
    clean(meta.name.as_deref().unwrap_or_default())
}

fn ns_of(meta: &ObjectMeta) -> String {
    clean(meta.namespace.as_deref().unwrap_or_default())
}

fn row(
    source: &SourceId,
    kind: ResourceKind,
    meta: &ObjectMeta,
    parent: Option<String>,
    health: Health,
    cells: Vec<String>,
) -> Resource {
    Resource {
        key: key(source, kind, object_id(meta)),
        name: name_of(meta),
        parent,
        health,
        cells,
        created: created(meta),
        labels: labels(meta),
        facts: Default::default(),
    }
}

fn images(spec: Option<&PodSpec>) -> String {
    spec.map(|s| {
        s.containers
            .iter()
            .filter_map(|c: &Container| c.image.as_deref())
            .map(clean)
            .collect::<Vec<_>>()
            .join(",")
    })
    .unwrap_or_default()
}

fn n(v: Option<i32>) -> i32 {
    v.unwrap_or(0)
}

/// Ready/desired health of a workload: all there → Ok, nothing wanted → Stopped, else Pending.
fn workload_health(ready: i32, desired: i32, updated: i32) -> Health {
    if desired == 0 {
        Health::Stopped
    } else if ready >= desired && updated >= desired {
        Health::Ok
    } else {
        Health::Pending
    }
}

/// A workload's replicas for the scale dialog (counts are never negative; clamp if they were).
fn replicas(ready: i32, desired: i32) -> crate::model::Replicas {
    crate::model::Replicas {
        running: u64::try_from(ready).unwrap_or(0),
        desired: u64::try_from(desired).unwrap_or(0),
    }
}

pub fn deployment(source: &SourceId, d: &Deployment) -> Resource {
    let desired = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let st = d.status.as_ref();
    let ready = n(st.and_then(|s| s.ready_replicas));
    let updated = n(st.and_then(|s| s.updated_replicas));
    let available = n(st.and_then(|s| s.available_replicas));
    let failed = st
        .and_then(|s| s.conditions.as_ref())
        .into_iter()
        .flatten()
        .any(|c| {
            (c.type_ == "Progressing"
                && c.status == "False"
                && c.reason.as_deref() == Some("ProgressDeadlineExceeded"))
                || (c.type_ == "ReplicaFailure" && c.status == "True")
        });
    let health = if failed {
        Health::Failed
    } else {
        workload_health(ready, desired, updated)
    };
    let image = images(
        d.spec
            .as_ref()
            .and_then(|s| s.template.spec.as_ref())
            .map(|s| s as &PodSpec),
    );
    let mut r = row(
        source,
        ResourceKind::Deployment,
        &d.metadata,
        Some(ns_of(&d.metadata)),
        health,
        vec![
            ns_of(&d.metadata),
            name_of(&d.metadata),
            format!("{ready}/{desired}"),
            updated.to_string(),
            available.to_string(),
            image,
            String::new(),
        ],
    );
    r.facts.replicas = Some(replicas(ready, desired));
    r
}

pub fn statefulset(source: &SourceId, s: &StatefulSet) -> Resource {
    let desired = s.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let st = s.status.as_ref();
    let ready = n(st.and_then(|s| s.ready_replicas));
    let updated = n(st.and_then(|s| s.updated_replicas)).max(ready);
    let image = images(s.spec.as_ref().and_then(|s| s.template.spec.as_ref()));
    let mut r = row(
        source,
        ResourceKind::StatefulSet,
        &s.metadata,
        Some(ns_of(&s.metadata)),
        workload_health(ready, desired, updated),
        vec![
            ns_of(&s.metadata),
            name_of(&s.metadata),
            format!("{ready}/{desired}"),
            image,
            String::new(),
        ],
    );
    r.facts.replicas = Some(replicas(ready, desired));
    r
}

pub fn daemonset(source: &SourceId, d: &DaemonSet) -> Resource {
    let st = d.status.as_ref();
    let desired = st.map(|s| s.desired_number_scheduled).unwrap_or(0);
    let current = st.map(|s| s.current_number_scheduled).unwrap_or(0);
    let ready = st.map(|s| s.number_ready).unwrap_or(0);
    let updated = n(st.and_then(|s| s.updated_number_scheduled));
    let available = n(st.and_then(|s| s.number_available));
    row(
        source,
        ResourceKind::DaemonSet,
        &d.metadata,
        Some(ns_of(&d.metadata)),
        workload_health(ready, desired, updated),
        vec![
            ns_of(&d.metadata),
            name_of(&d.metadata),
            desired.to_string(),
            current.to_string(),
            ready.to_string(),
            updated.to_string(),
            available.to_string(),
            String::new(),
        ],
    )
}

/// The controlling owner reference of an object: (kind, name).
fn controller(meta: &ObjectMeta) -> Option<(&str, &str)> {
    let refs = meta.owner_references.as_ref()?;
    refs.iter()
        .find(|r| r.controller == Some(true))
        .or_else(|| refs.first())
        .map(|r| (r.kind.as_str(), r.name.as_str()))
}

pub fn replicaset(source: &SourceId, r: &ReplicaSet) -> Resource {
    let desired = r.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let st = r.status.as_ref();
    let current = st.map(|s| s.replicas).unwrap_or(0);
    let ready = n(st.and_then(|s| s.ready_replicas));
    let owner = controller(&r.metadata)
        .map(|(_, n)| clean(n))
        .unwrap_or_default();
    row(
        source,
        ResourceKind::ReplicaSet,
        &r.metadata,
        (!owner.is_empty()).then(|| owner.clone()),
        workload_health(ready, desired, desired),
        vec![
            ns_of(&r.metadata),
            name_of(&r.metadata),
            desired.to_string(),
            current.to_string(),
            ready.to_string(),
            owner,
            String::new(),
        ],
    )
}

/// The workload a pod belongs to, by name: a ReplicaSet's pods belong to its Deployment (the RS
/// is named `<deployment>-<pod-template-hash>`), others to their controller.
pub fn pod_owner(p: &Pod) -> Option<String> {
    let (kind, name) = controller(&p.metadata)?;
    if kind == "ReplicaSet"
        && let Some(hash) = p
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(POD_TEMPLATE_HASH))
        && let Some(deploy) = name.strip_suffix(&format!("-{hash}"))
    {
        return Some(clean(deploy));
    }
    Some(clean(name))
}

/// kubectl's STATUS column: the most telling reason (CrashLoopBackOff, ImagePullBackOff,
/// OOMKilled, Init:1/2, Terminating ...), plus (ready, total, restarts).
pub fn pod_status(p: &Pod) -> (String, usize, usize, i64) {
    let status = p.status.as_ref();
    let spec = p.spec.as_ref();
    let total = spec.map(|s| s.containers.len()).unwrap_or(0);
    let mut reason = status
        .and_then(|s| s.reason.clone().or_else(|| s.phase.clone()))
        .unwrap_or_else(|| "Unknown".into());
    let mut restarts: i64 = 0;
    let mut ready = 0;

    let mut initializing = false;
    let inits = status
        .and_then(|s| s.init_container_statuses.as_deref())
        .unwrap_or_default();
    let init_total = spec
        .and_then(|s| s.init_containers.as_ref())
        .map(|c| c.len())
        .unwrap_or(inits.len());
    for (i, c) in inits.iter().enumerate() {
        restarts += i64::from(c.restart_count);
        let state = c.state.as_ref();
        if let Some(t) = state.and_then(|s| s.terminated.as_ref()) {
            if t.exit_code == 0 {
                continue;
            }
            reason = match &t.reason {
                Some(r) if !r.is_empty() => format!("Init:{r}"),
                _ if t.signal.unwrap_or(0) != 0 => format!("Init:Signal:{}", t.signal.unwrap_or(0)),
                _ => format!("Init:ExitCode:{}", t.exit_code),
            };
            initializing = true;
            break;
        }
        // Sidecars (restartable init containers) that run count as done.
        if c.started == Some(true) && state.and_then(|s| s.running.as_ref()).is_some() {
            continue;
        }
        if let Some(w) = state.and_then(|s| s.waiting.as_ref())
            && let Some(r) = w.reason.as_deref()
            && !r.is_empty()
            && r != "PodInitializing"
        {
            reason = format!("Init:{r}");
        } else {
            reason = format!("Init:{i}/{init_total}");
        }
        initializing = true;
        break;
    }

    let statuses: &[ContainerStatus] = status
        .and_then(|s| s.container_statuses.as_deref())
        .unwrap_or_default();
    if !initializing {
        restarts = 0;
        let mut has_running = false;
        for c in statuses.iter().rev() {
            restarts += i64::from(c.restart_count);
            let state = c.state.as_ref();
            if let Some(w) = state.and_then(|s| s.waiting.as_ref())
                && let Some(r) = w.reason.as_deref()
                && !r.is_empty()
            {
                reason = r.to_string();
            } else if let Some(t) = state.and_then(|s| s.terminated.as_ref()) {
                reason = match &t.reason {
                    Some(r) if !r.is_empty() => r.clone(),
                    _ if t.signal.unwrap_or(0) != 0 => format!("Signal:{}", t.signal.unwrap_or(0)),
                    _ => format!("ExitCode:{}", t.exit_code),
                };
            } else if c.ready && state.and_then(|s| s.running.as_ref()).is_some() {
                has_running = true;
                ready += 1;
            }
        }
        if reason == "Completed" && has_running {
            reason = if status
                .and_then(|s| s.conditions.as_ref())
                .into_iter()
                .flatten()
                .any(|c| c.type_ == "Ready" && c.status == "True")
            {
                "Running".into()
            } else {
                "NotReady".into()
            };
        }
    } else {
        ready = statuses.iter().filter(|c| c.ready).count();
    }
    if p.metadata.deletion_timestamp.is_some() {
        reason = if status.and_then(|s| s.reason.as_deref()) == Some("NodeLost") {
            "Unknown".into()
        } else {
            "Terminating".into()
        };
    }
    (clean(&reason), ready, total, restarts)
}

fn status_health(reason: &str, ready: usize, total: usize) -> Health {
    match reason {
        "Running" if ready == total => Health::Ok,
        "Running" | "Pending" | "ContainerCreating" | "PodInitializing" | "Terminating"
        | "NotReady" => Health::Pending,
        "Succeeded" | "Completed" => Health::Stopped,
        r if r.starts_with("Init:") && r[5..].contains('/') => Health::Pending,
        "Unknown" => Health::Unknown,
        _ => Health::Failed,
    }
}

pub fn pod(source: &SourceId, p: &Pod) -> Resource {
    let (reason, ready, total, restarts) = pod_status(p);
    let health = status_health(&reason, ready, total);
    let node = p
        .spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .map(clean)
        .unwrap_or_default();
    let ip = p
        .status
        .as_ref()
        .and_then(|s| s.pod_ip.as_deref())
        .map(clean)
        .unwrap_or_default();
    row(
        source,
        ResourceKind::Pod,
        &p.metadata,
        pod_owner(p),
        health,
        vec![
            ns_of(&p.metadata),
            name_of(&p.metadata),
            format!("{ready}/{total}"),
            reason,
            restarts.to_string(),
            String::new(),
            node,
            ip,
        ],
    )
}

/// One row per container of a pod (init containers included, marked), parent = the pod name.
pub fn pod_containers(source: &SourceId, p: &Pod) -> Vec<Resource> {
    let pod_id = object_id(&p.metadata);
    let pod_name = name_of(&p.metadata);
    let status = p.status.as_ref();
    let find = |list: Option<&Vec<ContainerStatus>>, name: &str| {
        list.into_iter().flatten().find(|s| s.name == name).cloned()
    };
    let mut out = Vec::new();
    let spec = p.spec.as_ref();
    let inits = spec.and_then(|s| s.init_containers.as_ref());
    let groups = [
        (
            inits,
            status.and_then(|s| s.init_container_statuses.as_ref()),
            true,
        ),
        (
            spec.map(|s| &s.containers),
            status.and_then(|s| s.container_statuses.as_ref()),
            false,
        ),
    ];
    for (containers, statuses, init) in groups {
        for c in containers.into_iter().flatten() {
            let st = find(statuses, &c.name);
            let (state, health, since) = container_state(st.as_ref(), init);
            let name = clean(&c.name);
            out.push(Resource {
                key: key(
                    source,
                    ResourceKind::PodContainer,
                    format!("{pod_id}/{}", c.name),
                ),
                name: name.clone(),
                parent: Some(pod_name.clone()),
                health,
                cells: vec![
                    if init { format!("{name} (init)") } else { name },
                    clean(c.image.as_deref().unwrap_or_default()),
                    st.as_ref()
                        .map(|s| if s.ready { "true" } else { "false" })
                        .unwrap_or("false")
                        .to_string(),
                    st.as_ref()
                        .map(|s| s.restart_count)
                        .unwrap_or(0)
                        .to_string(),
                    state,
                    pod_name.clone(),
                ],
                created: since,
                labels: BTreeMap::new(),
                facts: Default::default(),
            });
        }
    }
    out
}

fn container_state(
    st: Option<&ContainerStatus>,
    init: bool,
) -> (String, Health, Option<jiff::Timestamp>) {
    let Some(state) = st.and_then(|s| s.state.as_ref()) else {
        return ("Waiting".into(), Health::Pending, None);
    };
    if let Some(r) = &state.running {
        let ready = st.is_some_and(|s| s.ready);
        let h = if ready { Health::Ok } else { Health::Pending };
        return ("Running".into(), h, r.started_at.as_ref().map(|t| t.0));
    }
    if let Some(t) = &state.terminated {
        let reason = t
            .reason
            .clone()
            .unwrap_or_else(|| format!("ExitCode:{}", t.exit_code));
        let h = if t.exit_code == 0 {
            Health::Stopped
        } else {
            Health::Failed
        };
        let _ = init;
        return (
            clean(&format!("Terminated:{reason}")),
            h,
            t.finished_at.as_ref().map(|t| t.0),
        );
    }
    let reason = state
        .waiting
        .as_ref()
        .and_then(|w| w.reason.clone())
        .unwrap_or_default();
    let h = match reason.as_str() {
        "" | "ContainerCreating" | "PodInitializing" => Health::Pending,
        _ => Health::Failed,
    };
    (clean(&format!("Waiting:{reason}")), h, None)
}

pub fn service(source: &SourceId, s: &Service) -> Resource {
    let spec = s.spec.as_ref();
    let typ = spec
        .and_then(|s| s.type_.clone())
        .unwrap_or_else(|| "ClusterIP".into());
    let cluster_ip = spec
        .and_then(|s| s.cluster_ip.clone())
        .unwrap_or_else(|| "<none>".into());
    let mut external: Vec<String> = spec
        .and_then(|s| s.external_ips.clone())
        .unwrap_or_default();
    for ing in s
        .status
        .as_ref()
        .and_then(|s| s.load_balancer.as_ref())
        .and_then(|l| l.ingress.as_ref())
        .into_iter()
        .flatten()
    {
        if let Some(ip) = ing.ip.clone().or_else(|| ing.hostname.clone()) {
            external.push(ip);
        }
    }
    if let Some(name) = spec.and_then(|s| s.external_name.clone()) {
        external.push(name);
    }
    let external = if external.is_empty() {
        if typ == "LoadBalancer" {
            "<pending>".into()
        } else {
            "<none>".into()
        }
    } else {
        external.join(",")
    };
    let ports = spec
        .and_then(|s| s.ports.as_ref())
        .into_iter()
        .flatten()
        .map(|p| {
            let proto = p.protocol.as_deref().unwrap_or("TCP");
            match p.node_port {
                Some(np) => format!("{}:{np}/{proto}", p.port),
                None => format!("{}/{proto}", p.port),
            }
        })
        .collect::<Vec<_>>()
        .join(",");
    row(
        source,
        ResourceKind::KService,
        &s.metadata,
        Some(ns_of(&s.metadata)),
        Health::Ok,
        vec![
            ns_of(&s.metadata),
            name_of(&s.metadata),
            clean(&typ),
            clean(&cluster_ip),
            clean(&external),
            clean(if ports.is_empty() { "<none>" } else { &ports }),
            String::new(),
        ],
    )
}

pub fn node(source: &SourceId, n: &Node) -> Resource {
    let st = n.status.as_ref();
    let ready = st
        .and_then(|s| s.conditions.as_ref())
        .into_iter()
        .flatten()
        .find(|c| c.type_ == "Ready")
        .map(|c| c.status.as_str());
    let mut status = match ready {
        Some("True") => "Ready".to_string(),
        Some(_) => "NotReady".to_string(),
        None => "Unknown".to_string(),
    };
    let unschedulable = n.spec.as_ref().and_then(|s| s.unschedulable) == Some(true);
    if unschedulable {
        status.push_str(",SchedulingDisabled");
    }
    let health = match ready {
        Some("True") if unschedulable => Health::Pending,
        Some("True") => Health::Ok,
        Some(_) => Health::Failed,
        None => Health::Unknown,
    };
    let mut roles: Vec<String> = n
        .metadata
        .labels
        .iter()
        .flatten()
        .filter_map(|(k, _)| k.strip_prefix("node-role.kubernetes.io/"))
        .filter(|r| !r.is_empty())
        .map(clean)
        .collect();
    roles.sort();
    let version = st
        .and_then(|s| s.node_info.as_ref())
        .map(|i| clean(&i.kubelet_version))
        .unwrap_or_default();
    let ip = st
        .and_then(|s| s.addresses.as_ref())
        .into_iter()
        .flatten()
        .find(|a| a.type_ == "InternalIP")
        .map(|a| clean(&a.address))
        .unwrap_or_default();
    row(
        source,
        ResourceKind::KNode,
        &n.metadata,
        None,
        health,
        vec![
            name_of(&n.metadata),
            status,
            if roles.is_empty() {
                "<none>".into()
            } else {
                roles.join(",")
            },
            version,
            ip,
            String::new(),
        ],
    )
}

/// When an event last happened (series, lastTimestamp, eventTime, creation).
pub fn event_time(e: &Event) -> Option<jiff::Timestamp> {
    e.series
        .as_ref()
        .and_then(|s| s.last_observed_time.as_ref())
        .map(|t| t.0)
        .or_else(|| e.last_timestamp.as_ref().map(|t| t.0))
        .or_else(|| e.event_time.as_ref().map(|t| t.0))
        .or_else(|| e.first_timestamp.as_ref().map(|t| t.0))
        .or_else(|| created(&e.metadata))
}

pub fn event(source: &SourceId, e: &Event) -> Resource {
    let typ = e.type_.clone().unwrap_or_else(|| "Normal".into());
    let health = if typ == "Warning" {
        Health::Failed
    } else {
        Health::Ok
    };
    let obj = &e.involved_object;
    let object = format!(
        "{}/{}",
        obj.kind.as_deref().unwrap_or_default().to_ascii_lowercase(),
        obj.name.as_deref().unwrap_or_default()
    );
    let mut r = row(
        source,
        ResourceKind::KEvent,
        &e.metadata,
        obj.name.as_deref().map(clean),
        health,
        vec![
            ns_of(&e.metadata),
            String::new(),
            clean(&typ),
            clean(e.reason.as_deref().unwrap_or_default()),
            clean(&object),
            clean(e.message.as_deref().unwrap_or_default().trim()),
        ],
    );
    r.created = event_time(e);
    r
}

/// A namespace row; `current` marks the namespace the source shows.
pub fn namespace(source: &SourceId, ns: &Namespace, current: bool) -> Resource {
    let phase = ns
        .status
        .as_ref()
        .and_then(|s| s.phase.clone())
        .unwrap_or_else(|| "Active".into());
    let health = if phase == "Active" {
        Health::Ok
    } else {
        Health::Pending
    };
    row(
        source,
        ResourceKind::Namespace,
        &ns.metadata,
        None,
        health,
        vec![
            name_of(&ns.metadata),
            clean(&phase),
            if current { "*".into() } else { String::new() },
            String::new(),
        ],
    )
}

/// The synthetic "all namespaces" row (key id empty).
pub fn all_namespaces(source: &SourceId, current: bool) -> Resource {
    Resource {
        key: key(source, ResourceKind::Namespace, String::new()),
        name: "all".into(),
        parent: None,
        health: Health::Ok,
        cells: vec![
            "all".into(),
            "(every namespace)".into(),
            if current { "*".into() } else { String::new() },
            String::new(),
        ],
        created: None,
        labels: BTreeMap::new(),
        facts: Default::default(),
    }
}

/// A kubeconfig context row.
pub fn context(
    source: &SourceId,
    ctx: &kube::config::NamedContext,
    active: bool,
    default: bool,
) -> Resource {
    let c = ctx.context.as_ref();
    let marker = match (active, default) {
        (true, _) => "*",
        (false, true) => "(default)",
        _ => "",
    };
    Resource {
        key: key(source, ResourceKind::Context, ctx.name.clone()),
        name: clean(&ctx.name),
        parent: None,
        health: if active { Health::Ok } else { Health::Unknown },
        cells: vec![
            clean(&ctx.name),
            clean(c.map(|c| c.cluster.as_str()).unwrap_or_default()),
            clean(c.and_then(|c| c.user.as_deref()).unwrap_or_default()),
            clean(c.and_then(|c| c.namespace.as_deref()).unwrap_or("default")),
            marker.into(),
        ],
        created: None,
        labels: BTreeMap::new(),
        facts: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod_json(v: serde_json::Value) -> Pod {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn scalable_workloads_carry_their_replicas() {
        let d: Deployment = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"replicas": 3, "selector": {}, "template": {}},
            "status": {"readyReplicas": 2}
        }))
        .unwrap();
        let row = deployment(&SourceId::new("kube:t"), &d);
        assert_eq!(row.cells[2], "2/3");
        let replicas = crate::model::Replicas {
            running: 2,
            desired: 3,
        };
        assert_eq!(row.facts.replicas, Some(replicas));
    }

    #[test]
    fn crashloop_and_oom_reasons_show() {
        let p = pod_json(serde_json::json!({
            "metadata": {"name": "web-7d4b9c8f6d-abcde", "namespace": "shop",
                "labels": {"pod-template-hash": "7d4b9c8f6d"},
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                    "name": "web-7d4b9c8f6d", "uid": "u1", "controller": true}]},
            "spec": {"containers": [{"name": "app"}, {"name": "side"}]},
            "status": {"phase": "Running", "containerStatuses": [
                {"name": "app", "image": "a", "imageID": "", "ready": false, "restartCount": 7,
                 "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                 "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}},
                {"name": "side", "image": "s", "imageID": "", "ready": true, "restartCount": 0,
                 "state": {"running": {}}}]}
        }));
        let r = pod(&SourceId::new("kube:t"), &p);
        assert_eq!(r.cells[2], "1/2");
        assert_eq!(r.cells[3], "CrashLoopBackOff");
        assert_eq!(r.cells[4], "7");
        assert_eq!(r.health, Health::Failed);
        assert_eq!(r.parent.as_deref(), Some("web"));
        assert_eq!(r.key.id, "shop/web-7d4b9c8f6d-abcde");

        let p = pod_json(serde_json::json!({
            "metadata": {"name": "x", "namespace": "n"},
            "spec": {"containers": [{"name": "app"}]},
            "status": {"phase": "Running", "containerStatuses": [
                {"name": "app", "image": "a", "imageID": "", "ready": false, "restartCount": 1,
                 "state": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}}]}
        }));
        assert_eq!(pod(&SourceId::new("kube:t"), &p).cells[3], "OOMKilled");
    }

    #[test]
    fn image_pull_and_init_states() {
        let p = pod_json(serde_json::json!({
            "metadata": {"name": "x", "namespace": "n"},
            "spec": {"initContainers": [{"name": "i1"}, {"name": "i2"}], "containers": [{"name": "app"}]},
            "status": {"phase": "Pending",
                "initContainerStatuses": [
                    {"name": "i1", "image": "a", "imageID": "", "ready": false, "restartCount": 0,
                     "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}},
                    {"name": "i2", "image": "a", "imageID": "", "ready": false, "restartCount": 0,
                     "state": {"waiting": {"reason": "ImagePullBackOff"}}}],
                "containerStatuses": [
                    {"name": "app", "image": "a", "imageID": "", "ready": false, "restartCount": 0,
                     "state": {"waiting": {"reason": "PodInitializing"}}}]}
        }));
        let r = pod(&SourceId::new("kube:t"), &p);
        assert_eq!(r.cells[3], "Init:ImagePullBackOff");
        assert_eq!(r.health, Health::Failed);
        let cs = pod_containers(&SourceId::new("kube:t"), &p);
        assert_eq!(cs.len(), 3);
        assert_eq!(cs[1].cells[4], "Waiting:ImagePullBackOff");
        assert_eq!(cs[2].key.id, "n/x/app");
        assert_eq!(cs[2].parent.as_deref(), Some("x"));
    }
}
