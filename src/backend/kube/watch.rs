//! Keep one kind's list current with `kube::runtime::watcher` (list, then watch from the
//! resourceVersion; a 410 Gone relists) and a reflector store. A burst of watch events is
//! coalesced (20 ms) into one snapshot; the first snapshot goes out as soon as the initial list
//! is complete. Errors back off (1 s, 2 s, … 30 s) and show in the header (unreachable) or in
//! the view (forbidden), while the watcher keeps retrying.

use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::core::v1::{Event, Namespace, Node, Pod, Service};
use kube::Api;
use kube::runtime::WatchStreamExt;
use kube::runtime::reflector::{self, Store};
use kube::runtime::watcher::{self, Event as WEvent};
use serde::de::DeserializeOwned;
use tokio::time::{Instant, sleep_until};

use super::error::{Failure, classify_watch};
use super::{Inner, map};
use crate::backend::task::Backoff;
use crate::backend::{BackendEvent, EventTx};
use crate::model::{Resource, ResourceKind, SourceId, SourceStatus};

/// Coalesce a burst of watch events (a rollout touches many pods) into one snapshot.
pub const DEBOUNCE: Duration = Duration::from_millis(20);

type Mapper<K> = Box<dyn Fn(&SourceId, &[Arc<K>]) -> Vec<Resource> + Send + Sync>;

fn each<K: 'static>(f: fn(&SourceId, &K) -> Resource) -> Mapper<K> {
    Box::new(move |src, objs| objs.iter().map(|o| f(src, o)).collect())
}

/// Drop what no row shows: managed fields and the last-applied annotation (often the largest
/// parts of an object).
fn slim<K: kube::Resource>(o: &mut K) {
    let meta = o.meta_mut();
    meta.managed_fields = None;
    if let Some(a) = meta.annotations.as_mut() {
        a.remove("kubectl.kubernetes.io/last-applied-configuration");
    }
}

/// A pod row needs names, images, states and placement; not env, mounts, probes or volumes.
fn slim_pod(p: &mut Pod) {
    slim(p);
    p.metadata.annotations = None;
    if let Some(spec) = p.spec.as_mut() {
        spec.volumes = None;
        spec.tolerations = None;
        spec.affinity = None;
        let inits = spec.init_containers.iter_mut().flatten();
        for c in spec.containers.iter_mut().chain(inits) {
            c.env = None;
            c.env_from = None;
            c.volume_mounts = None;
            c.resources = None;
            c.liveness_probe = None;
            c.readiness_probe = None;
            c.startup_probe = None;
            c.command = None;
            c.args = None;
            c.ports = None;
            c.security_context = None;
        }
    }
    if let Some(st) = p.status.as_mut() {
        for c in st.container_statuses.iter_mut().flatten() {
            c.image_id = String::new();
            c.container_id = None;
        }
    }
}

/// The watch task of `kind`: runs until the handle is dropped or the UI goes away.
pub async fn run(inner: Arc<Inner>, kind: ResourceKind, tx: EventTx) {
    if kind == ResourceKind::Context {
        contexts(&inner, &tx).await;
        return;
    }
    if tx
        .send(BackendEvent::Status(
            inner.id.clone(),
            SourceStatus::Connecting,
        ))
        .await
        .is_err()
    {
        return;
    }
    let Some(client) = client(&inner, &tx).await else {
        return;
    };
    let ns = inner.namespace.clone();
    match kind {
        ResourceKind::Deployment => {
            let api: Api<Deployment> = inner.api(client);
            watch(
                &inner,
                kind,
                "deployments",
                api,
                each(map::deployment),
                slim,
                &tx,
            )
            .await
        }
        ResourceKind::StatefulSet => {
            let api: Api<StatefulSet> = inner.api(client);
            watch(
                &inner,
                kind,
                "statefulsets",
                api,
                each(map::statefulset),
                slim,
                &tx,
            )
            .await
        }
        ResourceKind::DaemonSet => {
            let api: Api<DaemonSet> = inner.api(client);
            watch(
                &inner,
                kind,
                "daemonsets",
                api,
                each(map::daemonset),
                slim,
                &tx,
            )
            .await
        }
        ResourceKind::ReplicaSet => {
            let api: Api<ReplicaSet> = inner.api(client);
            watch(
                &inner,
                kind,
                "replicasets",
                api,
                each(map::replicaset),
                slim,
                &tx,
            )
            .await
        }
        ResourceKind::Pod => {
            let api: Api<Pod> = inner.api(client);
            watch(&inner, kind, "pods", api, each(map::pod), slim_pod, &tx).await
        }
        ResourceKind::PodContainer => {
            let api: Api<Pod> = inner.api(client);
            let f: Mapper<Pod> = Box::new(|src, pods| {
                pods.iter()
                    .flat_map(|p| map::pod_containers(src, p))
                    .collect()
            });
            watch(&inner, kind, "pods", api, f, slim_pod, &tx).await
        }
        ResourceKind::KService => {
            let api: Api<Service> = inner.api(client);
            watch(&inner, kind, "services", api, each(map::service), slim, &tx).await
        }
        ResourceKind::KEvent => {
            let api: Api<Event> = inner.api(client);
            watch(&inner, kind, "events", api, each(map::event), slim, &tx).await
        }
        ResourceKind::KNode => {
            let api: Api<Node> = Api::all(client);
            watch(&inner, kind, "nodes", api, each(map::node), slim, &tx).await
        }
        ResourceKind::Namespace => {
            let api: Api<Namespace> = Api::all(client);
            let f: Mapper<Namespace> = Box::new(move |src, list| {
                let mut rows = vec![map::all_namespaces(src, ns.is_none())];
                rows.extend(list.iter().map(|n| {
                    let current = ns.is_some() && n.metadata.name == ns;
                    map::namespace(src, n, current)
                }));
                rows
            });
            watch(&inner, kind, "namespaces", api, f, slim, &tx).await
        }
        _ => {}
    }
}

/// The client, retrying with backoff while the kubeconfig cannot give one; None = UI gone.
async fn client(inner: &Inner, tx: &EventTx) -> Option<kube::Client> {
    let mut backoff = Backoff::default();
    loop {
        match inner.client().await {
            Ok(c) => return Some(c),
            Err(error) => {
                let delay = backoff.next_delay();
                let status = SourceStatus::Reconnecting {
                    error,
                    retry_in_secs: delay.as_secs(),
                };
                tx.send(BackendEvent::Status(inner.id.clone(), status))
                    .await
                    .ok()?;
                tokio::time::sleep(delay).await;
            }
        }
    }
}

/// The contexts of the kubeconfig. Listed by the first shown source only, so several kube
/// sources do not list them several times.
async fn contexts(inner: &Inner, tx: &EventTx) {
    let active = inner.shared.active();
    let rows = match inner.shared.kubeconfig() {
        Ok(kc) if active.first() == Some(&inner.context) => kc
            .contexts
            .iter()
            .map(|c| {
                map::context(
                    &inner.id,
                    c,
                    active.contains(&c.name),
                    kc.current_context.as_deref() == Some(c.name.as_str()),
                )
            })
            .collect(),
        _ => Vec::new(),
    };
    let ev = BackendEvent::Snapshot {
        source: inner.id.clone(),
        kind: ResourceKind::Context,
        resources: rows,
    };
    if tx.send(ev).await.is_ok() {
        // The file is read once; the handle ends the task.
        std::future::pending::<()>().await;
    }
}

/// Ask the API server for its version until it answers (backoff in between), then report
/// Connected; ends there (the watches of open views report from then on).
pub async fn probe(inner: Arc<Inner>, tx: EventTx) {
    let Some(client) = client(&inner, &tx).await else {
        return;
    };
    let mut backoff = Backoff::default();
    loop {
        let status = match client.apiserver_version().await {
            Ok(v) => SourceStatus::Connected(format!(
                "{} · {}",
                connected_text(&inner),
                crate::term::sanitize::sanitize_plain(&v.git_version)
            )),
            Err(e) => {
                let error = match super::error::classify(&inner, "get", "version", &e) {
                    // Answered, even if only to refuse: it is reachable.
                    Failure::Forbidden(_) | Failure::Gone => {
                        let status = SourceStatus::Connected(connected_text(&inner));
                        let _ = tx
                            .send(BackendEvent::Status(inner.id.clone(), status))
                            .await;
                        return;
                    }
                    Failure::Other(t) => t,
                };
                let delay = backoff.next_delay();
                let status = SourceStatus::Reconnecting {
                    error,
                    retry_in_secs: delay.as_secs(),
                };
                if tx
                    .send(BackendEvent::Status(inner.id.clone(), status))
                    .await
                    .is_err()
                {
                    return;
                }
                tokio::time::sleep(delay).await;
                continue;
            }
        };
        let _ = tx
            .send(BackendEvent::Status(inner.id.clone(), status))
            .await;
        return;
    }
}

fn connected_text(inner: &Inner) -> String {
    match inner.server() {
        Some(s) => format!("{s} · {}", inner.scope_text()),
        None => inner.scope_text(),
    }
}

async fn watch<K>(
    inner: &Inner,
    kind: ResourceKind,
    resource: &str,
    api: Api<K>,
    map: Mapper<K>,
    trim: fn(&mut K),
    tx: &EventTx,
) where
    K: kube::Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    let (store, writer): (Store<K>, _) = reflector::store();
    // Objects are trimmed to what the rows need before the store keeps them (5,000 pods).
    let stream = watcher::watcher(api, watcher::Config::default()).modify(trim);
    let mut events = reflector::reflector(writer, stream).boxed();
    let mut backoff = Backoff::default();
    let mut connected = false;
    // Snapshots wait for the first complete list, then follow changes.
    let mut listed = false;
    let mut due: Option<Instant> = None;
    let send = |ev: BackendEvent| async move { tx.send(ev).await.is_ok() };
    loop {
        let timer = async {
            match due {
                Some(at) => sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            ev = events.next() => match ev {
                None => return,
                Some(Ok(ev)) => {
                    if !connected {
                        connected = true;
                        backoff.reset();
                        let status = SourceStatus::Connected(connected_text(inner));
                        if !send(BackendEvent::Status(inner.id.clone(), status)).await {
                            return;
                        }
                    }
                    match ev {
                        WEvent::Init | WEvent::InitApply(_) => {}
                        WEvent::InitDone => {
                            listed = true;
                            due = Some(Instant::now());
                        }
                        WEvent::Apply(_) | WEvent::Delete(_) => {
                            if listed && due.is_none() {
                                due = Some(Instant::now() + DEBOUNCE);
                            }
                        }
                    }
                }
                Some(Err(e)) => match classify_watch(inner, resource, &e) {
                    // The watcher relists on its next poll.
                    Failure::Gone => tracing::debug!(source = %inner.id, resource, "watch expired (410), relisting"),
                    Failure::Forbidden(reason) => {
                        let delay = backoff.next_delay();
                        tracing::debug!(source = %inner.id, %reason, ?delay, "kube watch forbidden");
                        let ev = BackendEvent::Unavailable { source: inner.id.clone(), kind, reason };
                        if !send(ev).await {
                            return;
                        }
                        listed = false;
                        due = None;
                        tokio::time::sleep(delay).await;
                    }
                    Failure::Other(error) => {
                        connected = false;
                        let delay = backoff.next_delay();
                        tracing::debug!(source = %inner.id, %error, ?delay, "kube watch reconnecting");
                        let status = SourceStatus::Reconnecting { error, retry_in_secs: delay.as_secs() };
                        if !send(BackendEvent::Status(inner.id.clone(), status)).await {
                            return;
                        }
                        tokio::time::sleep(delay).await;
                    }
                },
            },
            _ = timer => {
                due = None;
                let rows = map(&inner.id, &store.state());
                let ev = BackendEvent::Snapshot { source: inner.id.clone(), kind, resources: rows };
                if !send(ev).await {
                    return;
                }
            }
        }
    }
}
