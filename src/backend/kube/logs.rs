//! Pod logs → batched, sanitised `LogLine`s.
//!
//! One `GET …/pods/NAME/log?container=C&timestamps=true[&follow][&tailLines][&sinceSeconds]
//! [&previous]` per container. A container row streams one container; a pod row every container
//! of the pod (prefix `container`); a deployment/statefulset/daemonset every container of every
//! pod its selector matches (prefix `pod/container`). Streams are merged as lines arrive; each
//! has its own `LineSplitter`, lines go through `split_timestamp` and `sanitize`, and are sent in
//! batches (1,000 lines or 15 ms), like the Docker backend.

use std::pin::Pin;
use std::sync::Arc;

use futures::io::{AsyncBufRead, AsyncBufReadExt};
use futures::stream::{self, BoxStream, StreamExt};
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::Api;
use kube::api::{ListParams, LogParams};

use super::Inner;
use super::error;
use super::map::split_id;
use crate::backend::batch::{Batcher, Gone};
use crate::backend::{EventTx, StreamId};
use crate::logs::split_timestamp;
use crate::model::{LogLine, LogOpts, ResourceKey, ResourceKind};
use crate::term::sanitize::{LineSplitter, sanitize};

/// One container log to stream: (namespace, pod, container, prefix).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub namespace: String,
    pub pod: String,
    pub container: String,
    pub prefix: Option<Arc<str>>,
}

fn params(opts: &LogOpts, container: &str) -> LogParams {
    LogParams {
        container: Some(container.to_string()),
        follow: opts.follow,
        tail_lines: opts.tail.map(|n| i64::try_from(n).unwrap_or(i64::MAX)),
        since_seconds: opts
            .since_secs
            .filter(|s| *s > 0)
            .map(|s| i64::try_from(s).unwrap_or(i64::MAX)),
        timestamps: true,
        previous: opts.previous,
        ..Default::default()
    }
}

fn selector_string(sel: Option<&LabelSelector>) -> Option<String> {
    let sel = sel?;
    let mut parts: Vec<String> = sel
        .match_labels
        .iter()
        .flatten()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    for e in sel.match_expressions.iter().flatten() {
        let values = e.values.clone().unwrap_or_default().join(",");
        parts.push(match e.operator.as_str() {
            "In" => format!("{} in ({values})", e.key),
            "NotIn" => format!("{} notin ({values})", e.key),
            "Exists" => e.key.clone(),
            "DoesNotExist" => format!("!{}", e.key),
            _ => continue,
        });
    }
    (!parts.is_empty()).then(|| parts.join(","))
}

fn containers_of(p: &Pod) -> Vec<String> {
    p.spec
        .as_ref()
        .map(|s| s.containers.iter().map(|c| c.name.clone()).collect())
        .unwrap_or_default()
}

/// The containers `target` means.
pub async fn targets(
    inner: &Inner,
    client: kube::Client,
    target: &ResourceKey,
) -> Result<Vec<Target>, String> {
    let (ns, rest) = split_id(&target.id);
    let ns = ns
        .map(str::to_string)
        .or_else(|| inner.namespace.clone())
        .unwrap_or_else(|| "default".into());
    let pods: Api<Pod> = Api::namespaced(client.clone(), &ns);
    let one = |pod: &str, container: &str, prefix: Option<String>| Target {
        namespace: ns.clone(),
        pod: pod.to_string(),
        container: container.to_string(),
        // Names come from the server: the prefix is shown before every line.
        prefix: prefix.map(|p| Arc::from(crate::term::sanitize::sanitize_plain(&p).as_str())),
    };
    match target.kind {
        ResourceKind::PodContainer => {
            let (pod, container) = rest
                .split_once('/')
                .ok_or_else(|| format!("bad container id {}", target.id))?;
            Ok(vec![one(pod, container, None)])
        }
        ResourceKind::Pod => {
            let p = pods
                .get(rest)
                .await
                .map_err(|e| error::text(inner, "get", "pods", &e))?;
            let names = containers_of(&p);
            let single = names.len() == 1;
            Ok(names
                .iter()
                .map(|c| one(rest, c, (!single).then(|| c.clone())))
                .collect())
        }
        ResourceKind::Deployment | ResourceKind::StatefulSet | ResourceKind::DaemonSet => {
            let (resource, selector) = match target.kind {
                ResourceKind::Deployment => {
                    let api: Api<Deployment> = Api::namespaced(client.clone(), &ns);
                    let d = api
                        .get(rest)
                        .await
                        .map_err(|e| error::text(inner, "get", "deployments", &e))?;
                    ("deployment", d.spec.map(|s| s.selector))
                }
                ResourceKind::StatefulSet => {
                    let api: Api<StatefulSet> = Api::namespaced(client.clone(), &ns);
                    let s = api
                        .get(rest)
                        .await
                        .map_err(|e| error::text(inner, "get", "statefulsets", &e))?;
                    ("statefulset", s.spec.map(|s| s.selector))
                }
                _ => {
                    let api: Api<DaemonSet> = Api::namespaced(client.clone(), &ns);
                    let d = api
                        .get(rest)
                        .await
                        .map_err(|e| error::text(inner, "get", "daemonsets", &e))?;
                    ("daemonset", d.spec.map(|s| s.selector))
                }
            };
            let Some(sel) = selector_string(selector.as_ref()) else {
                return Err(format!("{resource} {rest} has no pod selector"));
            };
            let list = pods
                .list(&ListParams::default().labels(&sel))
                .await
                .map_err(|e| error::text(inner, "list", "pods", &e))?;
            let mut out = Vec::new();
            for p in &list.items {
                let pod = p.metadata.name.clone().unwrap_or_default();
                let names = containers_of(p);
                let single = names.len() == 1;
                for c in &names {
                    let prefix = if single {
                        pod.clone()
                    } else {
                        format!("{pod}/{c}")
                    };
                    out.push(one(&pod, c, Some(prefix)));
                }
            }
            if out.is_empty() {
                return Err(format!("{resource} {rest} has no pods"));
            }
            out.sort_by(|a, b| a.prefix.cmp(&b.prefix));
            Ok(out)
        }
        other => Err(format!(
            "{} have no logs",
            other.spec().title.to_lowercase()
        )),
    }
}

type Reader = Pin<Box<dyn AsyncBufRead + Send>>;

/// One container's log as a stream of byte chunks; the request starts when first polled.
fn chunks(
    api: Api<Pod>,
    pod: String,
    lp: LogParams,
) -> BoxStream<'static, Result<Vec<u8>, kube::Error>> {
    enum St {
        Start(Box<(Api<Pod>, String, LogParams)>),
        Reading(Reader),
        Done,
    }
    async fn read(mut r: Reader) -> Option<(Result<Vec<u8>, kube::Error>, St)> {
        match r.fill_buf().await {
            Ok([]) => None,
            Ok(buf) => {
                let v = buf.to_vec();
                r.as_mut().consume(v.len());
                Some((Ok(v), St::Reading(r)))
            }
            Err(e) => Some((Err(kube::Error::ReadEvents(e)), St::Done)),
        }
    }
    stream::unfold(St::Start(Box::new((api, pod, lp))), |st| async move {
        match st {
            St::Start(start) => match start.0.log_stream(&start.1, &start.2).await {
                Ok(r) => read(Box::pin(r)).await,
                Err(e) => Some((Err(e), St::Done)),
            },
            St::Reading(r) => read(r).await,
            St::Done => None,
        }
    })
    .boxed()
}

fn to_line(raw: &[u8], source: &Option<Arc<str>>) -> LogLine {
    let (ts, rest) = split_timestamp(raw);
    LogLine {
        ts,
        source: source.clone(),
        text: sanitize(rest),
        marker: false,
    }
}

/// Stream the logs of `target` as `LogLines`: Ok(why they ended early, or None when they
/// simply ended), Err when the UI went away.
pub async fn stream_logs(
    inner: &Inner,
    target: &ResourceKey,
    opts: &LogOpts,
    stream: StreamId,
    tx: &EventTx,
) -> Result<Option<String>, Gone> {
    let client = match inner.client().await {
        Ok(c) => c,
        Err(e) => return Ok(Some(e)),
    };
    let list = match targets(inner, client.clone(), target).await {
        Ok(l) => l,
        Err(e) => return Ok(Some(e)),
    };
    let single = list.len() == 1;
    let mut splitters: Vec<(LineSplitter, bool)> = Vec::with_capacity(list.len());
    let mut streams = Vec::with_capacity(list.len());
    for (idx, t) in list.iter().enumerate() {
        let api: Api<Pod> = Api::namespaced(client.clone(), &t.namespace);
        let s = chunks(api, t.pod.clone(), params(opts, &t.container))
            .map(move |r| (idx, Some(r)))
            .chain(stream::once(async move { (idx, None) }));
        streams.push(s.boxed());
        splitters.push((LineSplitter::new(), false));
    }
    let mut merged = stream::select_all(streams);
    let mut batch = Batcher::new(stream);
    let mut errors = Vec::new();
    loop {
        tokio::select! {
            item = merged.next() => match item {
                Some((idx, Some(Ok(bytes)))) => {
                    let prefix = &list[idx].prefix;
                    let (splitter, done) = &mut splitters[idx];
                    if *done {
                        continue;
                    }
                    splitter.push(&bytes, |line| batch.push(to_line(line, prefix)));
                    if batch.is_full() {
                        batch.flush(tx).await?;
                    }
                }
                Some((idx, Some(Err(e)))) => {
                    let t = &list[idx];
                    let (splitter, done) = &mut splitters[idx];
                    if !*done {
                        let text = error::text(inner, "get", "pods/log", &e);
                        errors.push(if single { text } else { format!("{}/{}: {text}", t.pod, t.container) });
                        splitter.finish(|line| batch.push(to_line(line, &t.prefix)));
                        *done = true;
                    }
                }
                Some((idx, None)) => {
                    let (splitter, done) = &mut splitters[idx];
                    if !*done {
                        splitter.finish(|line| batch.push(to_line(line, &list[idx].prefix)));
                        *done = true;
                    }
                }
                None => break,
            },
            _ = batch.due() => batch.flush(tx).await?,
        }
    }
    batch.flush(tx).await?;
    Ok((!errors.is_empty()).then(|| errors.join("; ")))
}
