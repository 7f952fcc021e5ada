//! Workloads as rows: deployments, statefulsets, daemonsets, replicasets (READY, UP-TO-DATE,
//! and a health from ready/desired).

use crate::backend::kube::objects::{DaemonSet, Deployment, PodSpec, ReplicaSet, StatefulSet};

use super::*;
use crate::model::{Health, Resource, ResourceKind, SourceId};

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
