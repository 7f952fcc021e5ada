//! Pods and their containers as rows, with kubectl's STATUS column (the most telling reason:
//! CrashLoopBackOff, ImagePullBackOff, OOMKilled, Init:1/2, Terminating ...).

use crate::backend::kube::objects::{ContainerStatus, Pod};

use super::*;
use crate::model::{Health, Labels, Resource, ResourceKind, SourceId};

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
    let mut r = row(
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
    );
    r.facts.ports = pod_ports(p);
    r
}

/// Every container port the pod declares, once each (the forward dialog's list).
fn pod_ports(p: &Pod) -> Vec<u16> {
    let mut list: Vec<u16> = p
        .spec
        .iter()
        .flat_map(|s| &s.containers)
        .flat_map(|c| c.ports.iter().flatten())
        .filter_map(|port| u16::try_from(port.container_port).ok())
        .collect();
    list.sort_unstable();
    list.dedup();
    list
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
                labels: Labels::new(),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn pod_json(v: serde_json::Value) -> Pod {
        serde_json::from_value(v).unwrap()
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
