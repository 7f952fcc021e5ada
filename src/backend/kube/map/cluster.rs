//! The cluster around the workloads as rows: services, nodes, events, namespaces (with the
//! synthetic "all namespaces" row) and kubeconfig contexts.

use crate::backend::kube::objects::{Event, Namespace, Node, Service};

use super::*;
use crate::model::{Health, Labels, Resource, ResourceKind, SourceId};

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
        labels: Labels::new(),
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
        labels: Labels::new(),
        facts: Default::default(),
    }
}
