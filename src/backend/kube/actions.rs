//! Actions and describe, sending the requests kubectl sends:
//! - scale: merge patch `{"spec":{"replicas":N}}` on the `scale` subresource (`kubectl scale`);
//! - rollout restart: strategic merge patch of the template annotation
//!   `kubectl.kubernetes.io/restartedAt` (`kubectl rollout restart`);
//! - rollout undo: JSON patch replacing `/spec/template` with the previous ReplicaSet's template
//!   (minus `pod-template-hash`) and `/metadata/annotations` (`kubectl rollout undo`);
//! - delete pod.

use std::collections::BTreeMap;

use anyhow::{anyhow, bail};
use kube::Api;
use kube::api::{ApiResource, DeleteParams, DynamicObject, ListParams, Patch, PatchParams};
use serde_json::{Value, json};

use super::Inner;
use super::error;
use super::map::{POD_TEMPLATE_HASH, REVISION, split_id};
use super::objects::{
    DaemonSet, Deployment, Event, Namespace, Node, Pod, ReplicaSet, Service, StatefulSet,
};
use crate::model::{ResourceAction, ResourceKey, ResourceKind};
use crate::term::sanitize::sanitize_plain;

/// kubectl's annotation of `rollout restart`.
pub const RESTARTED_AT: &str = "kubectl.kubernetes.io/restartedAt";

/// Deployment annotations `rollout undo` keeps from the deployment rather than the ReplicaSet.
const ANNOTATIONS_TO_SKIP: &[&str] = &[
    "kubectl.kubernetes.io/last-applied-configuration",
    "deployment.kubernetes.io/revision",
    "deployment.kubernetes.io/revision-history",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deprecated.deployment.rollback.to",
];

fn params() -> PatchParams {
    PatchParams {
        field_manager: Some("fleetdeck".into()),
        ..Default::default()
    }
}

fn ns_name<'a>(inner: &'a Inner, target: &'a ResourceKey) -> (String, &'a str) {
    let (ns, name) = split_id(&target.id);
    let ns = ns
        .map(str::to_string)
        .or_else(|| inner.namespace.clone())
        .unwrap_or_else(|| "default".into());
    (ns, name)
}

/// The strategic merge patch of `kubectl rollout restart` at `now` (RFC 3339, seconds).
pub fn restart_patch(now: jiff::Timestamp) -> Value {
    let at = now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    json!({"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: at}}}}})
}

pub async fn act(
    inner: &Inner,
    client: kube::Client,
    target: &ResourceKey,
    action: &ResourceAction,
) -> anyhow::Result<String> {
    let (ns, name) = ns_name(inner, target);
    let fail = |verb: &str, res: &str| {
        let (verb, res) = (verb.to_string(), res.to_string());
        move |e: kube::Error| anyhow!(error::text(inner, &verb, &res, &e))
    };
    match (target.kind, action) {
        (ResourceKind::Deployment, ResourceAction::Scale(n)) => {
            let api: Api<Deployment> = Api::namespaced(client, &ns);
            let patch = json!({"spec": {"replicas": n}});
            api.patch_scale(name, &params(), &Patch::Merge(&patch))
                .await
                .map_err(fail("patch", "deployments/scale"))?;
            Ok(format!("deployment {name} scaled to {n}"))
        }
        (ResourceKind::StatefulSet, ResourceAction::Scale(n)) => {
            let api: Api<StatefulSet> = Api::namespaced(client, &ns);
            let patch = json!({"spec": {"replicas": n}});
            api.patch_scale(name, &params(), &Patch::Merge(&patch))
                .await
                .map_err(fail("patch", "statefulsets/scale"))?;
            Ok(format!("statefulset {name} scaled to {n}"))
        }
        (ResourceKind::Deployment, ResourceAction::Redeploy) => {
            let api: Api<Deployment> = Api::namespaced(client, &ns);
            let d = api.get(name).await.map_err(fail("get", "deployments"))?;
            if d.spec.as_ref().and_then(|s| s.paused) == Some(true) {
                bail!(
                    "deployment {name} is paused; resume it first (kubectl rollout resume deployment/{name})"
                );
            }
            api.patch(
                name,
                &params(),
                &Patch::Strategic(restart_patch(jiff::Timestamp::now())),
            )
            .await
            .map_err(fail("patch", "deployments"))?;
            Ok(format!("deployment {name} restarted"))
        }
        (ResourceKind::StatefulSet, ResourceAction::Redeploy) => {
            let api: Api<StatefulSet> = Api::namespaced(client, &ns);
            api.patch(
                name,
                &params(),
                &Patch::Strategic(restart_patch(jiff::Timestamp::now())),
            )
            .await
            .map_err(fail("patch", "statefulsets"))?;
            Ok(format!("statefulset {name} restarted"))
        }
        (ResourceKind::DaemonSet, ResourceAction::Redeploy) => {
            let api: Api<DaemonSet> = Api::namespaced(client, &ns);
            api.patch(
                name,
                &params(),
                &Patch::Strategic(restart_patch(jiff::Timestamp::now())),
            )
            .await
            .map_err(fail("patch", "daemonsets"))?;
            Ok(format!("daemonset {name} restarted"))
        }
        (ResourceKind::Deployment, ResourceAction::Rollback) => {
            rollback(inner, client, &ns, name).await
        }
        (ResourceKind::Pod, ResourceAction::Remove) => {
            let api: Api<Pod> = Api::namespaced(client, &ns);
            api.delete(name, &DeleteParams::default())
                .await
                .map_err(fail("delete", "pods"))?;
            Ok(format!("pod {name} deleted"))
        }
        (kind, action) => Err(anyhow!(
            "{} is not available for {}",
            action.name(),
            kind.spec().title.to_lowercase()
        )),
    }
}

/// The JSON patch of `kubectl rollout undo` for deployment `d` back to ReplicaSet `rs`: None
/// when the deployment already runs that template. Both are the server's JSON
/// (`DynamicObject`), so the template written back is whole, fields fleetdeck does not know
/// included.
pub fn undo_patch(d: &DynamicObject, rs: &DynamicObject) -> anyhow::Result<Option<Value>> {
    let template_of = |o: &DynamicObject| {
        let mut t = o.data.pointer("/spec/template").cloned();
        if let Some(labels) = t
            .as_mut()
            .and_then(|t| t.pointer_mut("/metadata/labels"))
            .and_then(Value::as_object_mut)
        {
            labels.remove(POD_TEMPLATE_HASH);
        }
        t
    };
    let template =
        template_of(rs).ok_or_else(|| anyhow!("the previous ReplicaSet has no pod template"))?;
    if template_of(d).as_ref() == Some(&template) {
        return Ok(None);
    }
    let mut annotations: BTreeMap<String, String> = BTreeMap::new();
    let d_ann = d.metadata.annotations.clone().unwrap_or_default();
    for k in ANNOTATIONS_TO_SKIP {
        if let Some(v) = d_ann.get(*k) {
            annotations.insert((*k).to_string(), v.clone());
        }
    }
    for (k, v) in rs.metadata.annotations.iter().flatten() {
        if !ANNOTATIONS_TO_SKIP.contains(&k.as_str()) {
            annotations.insert(k.clone(), v.clone());
        }
    }
    Ok(Some(json!([
        {"op": "replace", "path": "/spec/template", "value": template},
        {"op": "replace", "path": "/metadata/annotations", "value": annotations},
    ])))
}

fn revision(rs: &DynamicObject) -> Option<i64> {
    rs.metadata
        .annotations
        .as_ref()?
        .get(REVISION)?
        .parse()
        .ok()
}

/// An API of `K`'s objects read as JSON (`DynamicObject`): describe shows every field the
/// server sent, and rollout undo writes a template back whole.
fn json_api<K: kube::Resource<DynamicType = ()>>(
    client: kube::Client,
    ns: Option<&str>,
) -> Api<DynamicObject> {
    let ar = ApiResource::erase::<K>(&());
    match ns {
        Some(ns) => Api::namespaced_with(client, ns, &ar),
        None => Api::all_with(client, &ar),
    }
}

async fn rollback(
    inner: &Inner,
    client: kube::Client,
    ns: &str,
    name: &str,
) -> anyhow::Result<String> {
    let deploys = json_api::<Deployment>(client.clone(), Some(ns));
    let d = deploys
        .get(name)
        .await
        .map_err(|e| anyhow!(error::text(inner, "get", "deployments", &e)))?;
    let spec = d
        .data
        .get("spec")
        .ok_or_else(|| anyhow!("deployment {name} has no spec"))?;
    if spec.get("paused") == Some(&Value::Bool(true)) {
        bail!(
            "you cannot roll back a paused deployment; resume {name} first (kubectl rollout resume deployment/{name})"
        );
    }
    let uid = d.metadata.uid.clone().unwrap_or_default();
    let rss = json_api::<ReplicaSet>(client, Some(ns));
    let mut lp = ListParams::default();
    if let Some(sel) = logs_selector(spec.pointer("/selector/matchLabels")) {
        lp = lp.labels(&sel);
    }
    let list = rss
        .list(&lp)
        .await
        .map_err(|e| anyhow!(error::text(inner, "list", "replicasets", &e)))?;
    let mut owned: Vec<(i64, &DynamicObject)> = list
        .items
        .iter()
        .filter(|rs| {
            rs.metadata
                .owner_references
                .iter()
                .flatten()
                .any(|o| o.uid == uid && o.controller == Some(true))
        })
        .filter_map(|rs| Some((revision(rs)?, rs)))
        .collect();
    owned.sort_by_key(|(r, _)| *r);
    let Some(&(current, _)) = owned.last() else {
        bail!("no rollout history found for deployment {name}");
    };
    let Some(&(previous, rs)) = owned.iter().rev().find(|(r, _)| *r < current) else {
        bail!("deployment {name} has no previous revision to roll back to");
    };
    let Some(patch) = undo_patch(&d, rs)? else {
        return Ok(format!(
            "deployment {name} skipped rollback (current template already matches revision {previous})"
        ));
    };
    let patch: json_patch::Patch = serde_json::from_value(patch)?;
    deploys
        .patch(name, &params(), &Patch::Json::<()>(patch))
        .await
        .map_err(|e| anyhow!(error::text(inner, "patch", "deployments", &e)))?;
    Ok(format!(
        "deployment {name} rolled back to revision {previous}"
    ))
}

/// A label selector (`a=b,c=d`, sorted) from a selector's `matchLabels` object.
fn logs_selector(match_labels: Option<&Value>) -> Option<String> {
    let mut parts: Vec<String> = match_labels
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some(format!("{k}={}", v.as_str()?)))
        .collect();
    parts.sort();
    (!parts.is_empty()).then(|| parts.join(","))
}

/// YAML of `v` without `metadata.managedFields` (noise to an operator).
fn to_yaml(mut v: Value) -> anyhow::Result<String> {
    if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
    }
    Ok(serde_saphyr::to_string(&v)?)
}

/// The object as YAML, then the events about it (newest last), like `kubectl describe`.
pub async fn describe(
    inner: &Inner,
    client: kube::Client,
    target: &ResourceKey,
) -> anyhow::Result<String> {
    let (ns, name) = ns_name(inner, target);
    let get_err =
        |res: &'static str| move |e: kube::Error| anyhow!(error::text(inner, "get", res, &e));
    let (api, resource, name) = match target.kind {
        ResourceKind::Deployment => (
            json_api::<Deployment>(client.clone(), Some(&ns)),
            "deployments",
            name,
        ),
        ResourceKind::StatefulSet => (
            json_api::<StatefulSet>(client.clone(), Some(&ns)),
            "statefulsets",
            name,
        ),
        ResourceKind::DaemonSet => (
            json_api::<DaemonSet>(client.clone(), Some(&ns)),
            "daemonsets",
            name,
        ),
        ResourceKind::ReplicaSet => (
            json_api::<ReplicaSet>(client.clone(), Some(&ns)),
            "replicasets",
            name,
        ),
        ResourceKind::Pod => (json_api::<Pod>(client.clone(), Some(&ns)), "pods", name),
        ResourceKind::PodContainer => {
            let (pod, container) = name
                .split_once('/')
                .ok_or_else(|| anyhow!("bad container id {}", target.id))?;
            let o = json_api::<Pod>(client.clone(), Some(&ns))
                .get(pod)
                .await
                .map_err(get_err("pods"))?;
            let named = |list: &str| {
                o.data
                    .pointer(list)
                    .and_then(Value::as_array)
                    .and_then(|l| l.iter().find(|c| c.get("name") == Some(&json!(container))))
                    .cloned()
            };
            let spec = named("/spec/containers");
            let status = named("/status/containerStatuses");
            let v = json!({"pod": pod, "namespace": ns, "container": spec, "status": status});
            return to_yaml(v).map(|s| sanitize_plain_lines(&s));
        }
        ResourceKind::KService => (
            json_api::<Service>(client.clone(), Some(&ns)),
            "services",
            name,
        ),
        ResourceKind::KEvent => (json_api::<Event>(client.clone(), Some(&ns)), "events", name),
        ResourceKind::KNode => (
            json_api::<Node>(client.clone(), None),
            "nodes",
            target.id.as_str(),
        ),
        ResourceKind::Namespace if !target.id.is_empty() => (
            json_api::<Namespace>(client.clone(), None),
            "namespaces",
            target.id.as_str(),
        ),
        other => bail!("{} cannot be described", other.spec().title.to_lowercase()),
    };
    let o = api.get(name).await.map_err(get_err(resource))?;
    // An event is not the object of other events.
    let uid = (target.kind != ResourceKind::KEvent)
        .then(|| o.metadata.uid.clone())
        .flatten();
    let value = serde_json::to_value(&o)?;
    let mut text = to_yaml(value)?;
    if let Some(uid) = uid {
        text.push_str(&events_section(inner, client, &ns, target.kind, name, &uid).await);
    }
    Ok(sanitize_plain_lines(&text))
}

/// Sanitise every line (remote text) but keep the line structure.
fn sanitize_plain_lines(s: &str) -> String {
    s.lines().map(sanitize_plain).collect::<Vec<_>>().join("\n") + "\n"
}

/// "Events:" and a kubectl-like table of the events whose involvedObject is this object.
async fn events_section(
    inner: &Inner,
    client: kube::Client,
    ns: &str,
    kind: ResourceKind,
    name: &str,
    uid: &str,
) -> String {
    let cluster_scoped = matches!(kind, ResourceKind::KNode | ResourceKind::Namespace);
    let api: Api<Event> = if cluster_scoped {
        Api::all(client)
    } else {
        Api::namespaced(client, ns)
    };
    let selector = format!("involvedObject.uid={uid},involvedObject.name={name}");
    let mut out = String::from("\n# Events\n");
    match api.list(&ListParams::default().fields(&selector)).await {
        Ok(list) if list.items.is_empty() => out.push_str("#   <none>\n"),
        Ok(list) => {
            let now = jiff::Timestamp::now();
            let mut items = list.items;
            items.sort_by_key(super::map::event_time);
            out.push_str("#   TYPE     REASON            AGE    FROM              MESSAGE\n");
            for e in &items {
                let age = super::map::event_time(e)
                    .map(|t| crate::model::age(t, now))
                    .unwrap_or_default();
                let from = e
                    .source
                    .as_ref()
                    .and_then(|s| s.component.clone())
                    .or_else(|| e.reporting_component.clone())
                    .unwrap_or_default();
                out.push_str(&format!(
                    "#   {:<8} {:<17} {:<6} {:<17} {}\n",
                    e.type_.as_deref().unwrap_or_default(),
                    e.reason.as_deref().unwrap_or_default(),
                    age,
                    from,
                    e.message.as_deref().unwrap_or_default().trim()
                ));
            }
        }
        Err(e) => out.push_str(&format!(
            "#   ({})\n",
            error::text(inner, "list", "events", &e)
        )),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restart_patch_is_kubectls() {
        let t: jiff::Timestamp = "2026-11-23T11:30:05.123Z".parse().unwrap();
        assert_eq!(
            restart_patch(t).to_string(),
            r#"{"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":"2026-11-23T11:30:05Z"}}}}}"#
        );
    }
}
