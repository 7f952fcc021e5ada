//! Kubernetes objects → neutral rows. Pure functions (no client), so they are unit-tested and
//! benchmarked on their own. Remote text goes through `sanitize_plain` before it reaches a cell.
//!
//! This file holds what every mapper shares (keys, names, labels, the row shape); the mappers
//! are grouped by resource: `workloads` (deployments, statefulsets, daemonsets, replicasets),
//! `pods` (pods, their containers, kubectl's STATUS reasoning), `cluster` (services, nodes,
//! events, namespaces, kubeconfig contexts).

mod cluster;
mod pods;
mod workloads;

use crate::backend::kube::objects::{Container, PodSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::model::{Health, Labels, Resource, ResourceKey, ResourceKind, SourceId};
use crate::term::sanitize::sanitize_plain;
pub use cluster::{all_namespaces, context, event, event_time, namespace, node, service};
pub use pods::{pod, pod_containers, pod_owner, pod_status};
pub use workloads::{daemonset, deployment, replicaset, statefulset};

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

fn labels(meta: &ObjectMeta) -> Labels {
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

/// The controlling owner reference of an object: (kind, name).
fn controller(meta: &ObjectMeta) -> Option<(&str, &str)> {
    let refs = meta.owner_references.as_ref()?;
    refs.iter()
        .find(|r| r.controller == Some(true))
        .or_else(|| refs.first())
        .map(|r| (r.kind.as_str(), r.name.as_str()))
}
