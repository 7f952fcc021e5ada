//! Pod logs → batched, sanitised `LogLine`s.
//!
//! One `GET …/pods/NAME/log?container=C&timestamps=true[&follow][&tailLines][&sinceSeconds]
//! [&previous]` per container. A container row streams one container; a pod row every container
//! of the pod (prefix `container`); a deployment/statefulset/daemonset every container of every
//! pod its selector matches (prefix `pod/container`). Each container has its producer
//! (`follow.rs`: its own `LineSplitter`, `split_timestamp`, `sanitize`, and a followed
//! container kept attached across restarts and reconnects); lines are merged as they arrive and
//! sent in batches (1,000 lines or 15 ms), like the Docker backend.

use std::sync::Arc;

use crate::backend::kube::objects::{DaemonSet, Deployment, Pod, StatefulSet};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::Api;
use kube::api::{ListParams, LogParams};

use tokio::sync::mpsc;

use super::Inner;
use super::error;
use super::follow::{Piece, Producer, Tagged};
use super::map::split_id;
use crate::backend::batch::{Batcher, Gone};
use crate::backend::report::{log_note, waiting_note};
use crate::backend::{EventTx, StreamId};
use crate::logs::split_timestamp;
use crate::model::{LogLine, LogOpts, ResourceKey, ResourceKind};
use crate::term::sanitize::sanitize;

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

/// A raw line as the view gets it: its stamp parsed off, its text sanitised.
pub(super) fn to_line(raw: &[u8], source: &Option<Arc<str>>) -> LogLine {
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
    // A followed view of the current instances re-attaches (follow.rs); `--previous` reads an
    // instance that will not log again.
    let reattach = opts.follow && !opts.previous;
    // One producer per container, all polled inside this task, so closing the view stops
    // them; this loop batches their lines and joins their notes.
    let (ptx, mut prx) = mpsc::channel::<Tagged>(16);
    let mut producers = Vec::with_capacity(list.len());
    let mut state: Vec<Source> = Vec::with_capacity(list.len());
    for (idx, t) in list.into_iter().enumerate() {
        state.push(Source {
            name: format!("{}/{}", t.pod, t.container),
            note: None,
            done: false,
        });
        producers.push(
            Producer {
                inner,
                api: Api::namespaced(client.clone(), &t.namespace),
                out: ptx.clone(),
                idx,
                params: params(opts, &t.container),
                target: t,
                reattach,
            }
            .run(),
        );
    }
    drop(ptx);
    let produce = futures::future::join_all(producers);
    let consume = async {
        let mut batch = Batcher::new(stream);
        let mut errors: Vec<String> = Vec::new();
        let mut shown_note: Option<String> = None;
        loop {
            tokio::select! {
                item = prx.recv() => match item {
                    Some((idx, piece)) => {
                        let Some(src) = state.get_mut(idx) else { continue };
                        if src.done {
                            continue;
                        }
                        match piece {
                            Piece::Lines(lines) => {
                                for l in lines {
                                    batch.push(l);
                                }
                                if batch.is_full() {
                                    batch.flush(tx).await?;
                                }
                            }
                            Piece::Note(note) => src.note = note,
                            Piece::Done(error) => {
                                src.done = true;
                                src.note = None;
                                if let Some(text) = error {
                                    errors.push(if single { text } else { format!("{}: {text}", src.name) });
                                }
                            }
                        }
                        let note = waiting_note(
                            state.iter().map(|s| (s.name.as_str(), s.note.as_deref())),
                            single,
                        );
                        if note != shown_note {
                            // Lines before the note, in the order they happened.
                            batch.flush(tx).await?;
                            log_note(tx, stream, note.clone()).await?;
                            shown_note = note;
                        }
                    }
                    None => break,
                },
                _ = batch.due() => batch.flush(tx).await?,
            }
        }
        batch.flush(tx).await?;
        Ok((!errors.is_empty()).then(|| errors.join("; ")))
    };
    tokio::pin!(consume);
    tokio::select! {
        r = &mut consume => r,
        // Every producer finished: the consumer drains what they sent, then sees the end.
        _ = produce => consume.await,
    }
}

/// One container's state in the view.
struct Source {
    /// `pod/container`, naming it in notes and errors of a view with several.
    name: String,
    /// Why it waits (its container does not run, the API server is unreachable).
    note: Option<String>,
    done: bool,
}
