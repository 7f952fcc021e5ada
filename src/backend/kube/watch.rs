//! Keep one kind's list current with `kube::runtime::watcher` (paged list, then watch from the
//! resourceVersion; a 410 Gone relists). Like a reflector, but nothing keeps the objects: each
//! one is mapped to its rows once when it arrives and then dropped. A complete list (the first,
//! and every relist) goes to the UI whole, as a snapshot; after it the watch sends only what
//! changed (`BackendEvent::Changes`: rows upserted, row ids removed), coalesced over a short
//! pause, and remembers only which row ids each object has (`backend::changes::RowTracker`),
//! not the rows: the UI holds the one copy (issue #16). Errors back off (1 s, 2 s, … 30 s)
//! and show in the header (unreachable) or in the view (forbidden), while the watcher keeps
//! retrying.

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use crate::backend::kube::objects::{
    DaemonSet, Deployment, Event, Namespace, Node, Pod, ReplicaSet, Service, StatefulSet,
};
use futures::StreamExt;
use kube::Api;
use kube::runtime::watcher::{self, Event as WEvent};
use serde::de::DeserializeOwned;
use tokio::time::{Instant, sleep_until};

use super::error::{Failure, classify_watch};
use super::{Inner, map};
use crate::backend::EventTx;
use crate::backend::changes::{RowTracker, gather_window};
use crate::backend::report::{Gone, Reporter};
use crate::backend::supervise::{Reconnect, Retry, until_ok};
use crate::model::{Resource, ResourceKind, SourceId};

/// Coalesce a burst of watch events (a rollout touches many pods) into one batch of changes.
pub const DEBOUNCE: Duration = Duration::from_millis(20);

/// How long a change waits to be coalesced, by the objects in the list: 20 ms up to 2,000,
/// then 1 ms per 100, at most 250 ms (20,000 pods under 200 events/s: ~5 batches a second
/// rather than 50; before batches of changes every batch was the whole list, issue #16).
pub fn debounce(rows: usize) -> Duration {
    gather_window(rows, DEBOUNCE, 100)
}

/// Rows of one object (a pod's containers are several rows).
type Mapper<K> = Box<dyn Fn(&SourceId, &K) -> Vec<Resource> + Send + Sync>;

fn each<K: 'static>(f: fn(&SourceId, &K) -> Resource) -> Mapper<K> {
    Box::new(move |src, o| vec![f(src, o)])
}

/// The watch task of `kind`: runs until the handle is dropped or the UI goes away.
pub async fn run(inner: Arc<Inner>, kind: ResourceKind, tx: EventTx) {
    let report = Reporter::new(inner.id.clone(), tx);
    if kind == ResourceKind::Context {
        contexts(&inner, &report).await;
        return;
    }
    if report.connecting().await.is_err() {
        return;
    }
    let Ok(client) = client(&inner, &report).await else {
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
                None,
                &report,
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
                None,
                &report,
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
                None,
                &report,
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
                None,
                &report,
            )
            .await
        }
        ResourceKind::Pod => {
            let api: Api<Pod> = inner.api(client);
            watch(&inner, kind, "pods", api, each(map::pod), None, &report).await
        }
        ResourceKind::PodContainer => {
            let api: Api<Pod> = inner.api(client);
            let f: Mapper<Pod> = Box::new(map::pod_containers);
            watch(&inner, kind, "pods", api, f, None, &report).await
        }
        ResourceKind::KService => {
            let api: Api<Service> = inner.api(client);
            watch(
                &inner,
                kind,
                "services",
                api,
                each(map::service),
                None,
                &report,
            )
            .await
        }
        ResourceKind::KEvent => {
            let api: Api<Event> = inner.api(client);
            watch(&inner, kind, "events", api, each(map::event), None, &report).await
        }
        ResourceKind::KNode => {
            let api: Api<Node> = Api::all(client);
            watch(&inner, kind, "nodes", api, each(map::node), None, &report).await
        }
        ResourceKind::Namespace => {
            let api: Api<Namespace> = Api::all(client);
            let all = map::all_namespaces(&inner.id, ns.is_none());
            let f: Mapper<Namespace> = Box::new(move |src, n| {
                let current = ns.is_some() && n.metadata.name == ns;
                vec![map::namespace(src, n, current)]
            });
            watch(&inner, kind, "namespaces", api, f, Some(all), &report).await
        }
        _ => {}
    }
}

/// The client, retrying with backoff while the kubeconfig cannot give one.
async fn client(inner: &Inner, report: &Reporter) -> Result<kube::Client, Gone> {
    until_ok(&mut Reconnect::new(report, "kube client"), || async move {
        inner.client().await.map_err(Retry::Backoff)
    })
    .await
}

/// The contexts of the kubeconfig. Listed by the first shown source only, so several kube
/// sources do not list them several times.
async fn contexts(inner: &Inner, report: &Reporter) {
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
    if report.snapshot(ResourceKind::Context, rows).await.is_ok() {
        // The file is read once; the handle ends the task.
        std::future::pending::<()>().await;
    }
}

/// Ask the API server for its version until it answers (backoff in between), then report
/// Connected; ends there (the watches of open views report from then on).
pub async fn probe(inner: Arc<Inner>, tx: EventTx) {
    let report = Reporter::new(inner.id.clone(), tx);
    let Ok(client) = client(&inner, &report).await else {
        return;
    };
    let (inner, client) = (&inner, &client);
    let asked = until_ok(&mut Reconnect::new(&report, "kube probe"), || async move {
        match client.apiserver_version().await {
            Ok(v) => Ok(format!(
                "{} · {}",
                connected_text(inner),
                crate::term::sanitize::sanitize_plain(&v.git_version)
            )),
            Err(e) => match super::error::classify(inner, "get", "version", &e) {
                // Answered, even if only to refuse: it is reachable.
                Failure::Forbidden(_) | Failure::Gone => Ok(connected_text(inner)),
                Failure::Other(t) => Err(Retry::Backoff(t)),
            },
        }
    })
    .await;
    if let Ok(text) = asked {
        // The last word of this task: nobody to tell when the UI is gone.
        let _ = report.connected(text).await;
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
    first: Option<Resource>,
    report: &Reporter,
) where
    K: kube::Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    // Row ids by object (namespace/name): the rows themselves are the UI's. The next list
    // while one is coming in (mapped rows by object, sent whole at InitDone).
    let mut rows = RowTracker::default();
    let mut next: Option<HashMap<String, Vec<Resource>>> = None;
    let mut events = watcher::watcher(api, watcher::Config::default()).boxed();
    let mut reconnect = Reconnect::new(report, "kube watch");
    let mut connected = false;
    // Changes go out only after a complete list went out (the UI applies them to it).
    let mut listed = false;
    let mut due: Option<Instant> = None;
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
                        reconnect.reset();
                        if report.connected(connected_text(inner)).await.is_err() {
                            return;
                        }
                    }
                    match ev {
                        WEvent::Init => next = Some(HashMap::new()),
                        WEvent::InitApply(o) => {
                            let object_rows = map(&inner.id, &o);
                            next.get_or_insert_default().insert(map::object_id(o.meta()), object_rows);
                        }
                        WEvent::InitDone => {
                            // The whole list, replacing what the UI had: objects deleted while
                            // the watch was away are gone from it. Changes not sent yet are in it.
                            let listed_rows = rows.relist(next.take().unwrap_or_default());
                            let mut list = Vec::with_capacity(listed_rows.len() + 1);
                            list.extend(first.iter().cloned());
                            list.extend(listed_rows);
                            listed = true;
                            due = None;
                            if report.snapshot(kind, list).await.is_err() {
                                return;
                            }
                        }
                        WEvent::Apply(o) => {
                            rows.upsert(map::object_id(o.meta()), map(&inner.id, &o));
                            if listed && due.is_none() {
                                due = Some(Instant::now() + debounce(rows.objects()));
                            }
                        }
                        WEvent::Delete(o) => {
                            rows.remove(&map::object_id(o.meta()));
                            if listed && due.is_none() {
                                due = Some(Instant::now() + debounce(rows.objects()));
                            }
                        }
                    }
                }
                Some(Err(e)) => match classify_watch(inner, resource, &e) {
                    // The watcher relists on its next poll.
                    Failure::Gone => tracing::debug!(source = %inner.id, resource, "watch expired (410), relisting"),
                    Failure::Forbidden(reason) => {
                        let delay = reconnect.next_delay();
                        tracing::debug!(source = %inner.id, %reason, ?delay, "kube watch forbidden");
                        if report.unavailable(kind, reason).await.is_err() {
                            return;
                        }
                        // The UI dropped the rows: nothing more until a whole list again.
                        listed = false;
                        due = None;
                        rows.forget_pending();
                        tokio::time::sleep(delay).await;
                    }
                    Failure::Other(error) => {
                        connected = false;
                        if reconnect.wait(error).await.is_err() {
                            return;
                        }
                    }
                },
            },
            _ = timer => {
                due = None;
                let changes = rows.take();
                if !changes.is_empty() && report.changes(kind, changes).await.is_err() {
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debounce_grows_with_the_list_and_is_bounded() {
        assert_eq!(debounce(0), DEBOUNCE);
        assert_eq!(debounce(2_000), DEBOUNCE);
        assert_eq!(debounce(5_000), Duration::from_millis(50));
        assert_eq!(debounce(20_000), Duration::from_millis(200));
        assert_eq!(debounce(1_000_000), crate::backend::changes::GATHER_MAX);
    }
}
