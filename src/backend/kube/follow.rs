//! One container log of a Kubernetes log view, kept attached across the container's restarts
//! and the API server's reconnects (the kube side of `docker/follow.rs`).
//!
//! A followed `GET …/pods/P/log?follow=true` ends when the container exits (the kubelet closes
//! it). The pod is then read (`GET …/pods/P`) every [`POLL`] while its view is open: a new
//! instance of the container (`containerStatuses[].containerID` changed or `restartCount` grew,
//! and `state.running`) is streamed again from just after the last line received (`sinceTime` =
//! that line's second, lines at or before its stamp dropped) behind one
//! `── restarted HH:MM:SS ──` marker at the new instance's `state.running.startedAt`. While the
//! container waits (`CrashLoopBackOff`, `ContainerCreating`) or stays terminated the view says
//! so. A transport error (connection refused, a dropped stream, a 5xx) retries with [`Backoff`]
//! and resumes behind `── reconnected HH:MM:SS ──`. A pod that is gone, or a container its
//! `restartPolicy` will not start again, ends the source.
//!
//! API reference for the fields read here:
//! <https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/#PodStatus>
//! (ContainerStatus: `containerID`, `restartCount`, `state`, `lastState`) and the log
//! subresource's `sinceTime`/`timestamps`
//! (<https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/#get-read-log-of-the-specified-pod>).

use std::pin::Pin;
use std::time::Duration;

use futures::io::{AsyncBufRead, AsyncBufReadExt};
use futures::stream::{self, BoxStream, StreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::LogParams;

use super::objects;
use tokio::sync::mpsc;

use super::Inner;
use super::error;
use super::logs::{Target, to_line};
use crate::backend::supervise::Backoff;
use crate::logs::marker::{Mark, marker, nanos};
use crate::model::LogLine;
use crate::term::sanitize::{LineSplitter, sanitize_plain};

/// How often the pod is read while its container does not run.
pub const POLL: Duration = Duration::from_secs(1);

/// What a source producer tells the view's consumer.
pub(super) enum Piece {
    /// Lines (markers included) in the order they are shown.
    Lines(Vec<LogLine>),
    /// The source waits (Some: why) or streams again (None).
    Note(Option<String>),
    /// The source is finished: None when it simply ended, else why.
    Done(Option<String>),
}

pub(super) type Tagged = (usize, Piece);

/// One container log of a view and the channel its pieces go to.
pub(super) struct Producer<'a> {
    pub inner: &'a Inner,
    pub api: Api<Pod>,
    pub out: mpsc::Sender<Tagged>,
    pub idx: usize,
    pub target: Target,
    pub params: LogParams,
    /// Follow the container across restarts and reconnects.
    pub reattach: bool,
}

/// Which instance of the container runs, as its status says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Instance {
    id: Option<String>,
    restarts: i32,
    /// `state.running.startedAt` when it runs.
    started: Option<jiff::Timestamp>,
    running: bool,
    /// `state.waiting.reason` (CrashLoopBackOff, ContainerCreating …).
    waiting: Option<String>,
    /// (exit code, reason) of the instance that ended: `state.terminated`, else `lastState`.
    exit: Option<(i32, Option<String>)>,
    /// `state.terminated` is set (not only `lastState`).
    terminated: bool,
}

impl Instance {
    fn of(s: &objects::ContainerStatus) -> Instance {
        let state = s.state.as_ref();
        let running = state.and_then(|st| st.running.as_ref());
        let term = state.and_then(|st| st.terminated.as_ref());
        let last = s.last_state.as_ref().and_then(|st| st.terminated.as_ref());
        Instance {
            id: s.container_id.clone().filter(|i| !i.is_empty()),
            restarts: s.restart_count,
            started: running.and_then(|r| r.started_at.as_ref()).map(|t| t.0),
            running: running.is_some(),
            waiting: state
                .and_then(|st| st.waiting.as_ref())
                .map(|w| w.reason.clone().unwrap_or_else(|| "waiting".into())),
            exit: term.or(last).map(|t| (t.exit_code, t.reason.clone())),
            terminated: term.is_some(),
        }
    }

    /// A different instance from `known`: its runtime id changed or the kubelet counted a
    /// restart (an id is missing while the runtime creates the container).
    fn is_new(&self, known: &Instance) -> bool {
        self.restarts > known.restarts
            || (self.id.is_some() && known.id.is_some() && self.id != known.id)
    }
}

/// The container's status in `pod`, None when the pod lists none for it (yet).
fn status_of(pod: &objects::Pod, container: &str) -> Option<Instance> {
    pod.status
        .as_ref()?
        .container_statuses
        .as_ref()?
        .iter()
        .find(|s| s.name == container)
        .map(Instance::of)
}

/// Will the kubelet start this container again? `restartPolicy` (Always by default; OnFailure
/// only after a non-zero exit; Never): a terminated container it will not restart ends the
/// source instead of waiting forever.
/// <https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#restart-policy>
fn will_restart(pod: &objects::Pod, i: &Instance) -> bool {
    if !i.terminated {
        return true;
    }
    let policy = pod
        .spec
        .as_ref()
        .and_then(|s| s.restart_policy.as_deref())
        .unwrap_or("Always");
    match policy {
        "Never" => false,
        "OnFailure" => i.exit.as_ref().is_some_and(|(code, _)| *code != 0),
        _ => true,
    }
}

/// "CrashLoopBackOff (last exit 137: OOMKilled), waiting for it to start"
fn waiting_note(i: Option<&Instance>) -> String {
    let Some(i) = i else {
        return "pending, waiting for it to start".into();
    };
    let exit = i.exit.as_ref().map(|(code, reason)| match reason {
        Some(r) => format!("exit {code}: {r}"),
        None => format!("exit {code}"),
    });
    let text = match (&i.waiting, exit) {
        (_, Some(e)) if i.terminated => format!("terminated ({e})"),
        (Some(w), Some(e)) => format!("{w} (last {e})"),
        (Some(w), None) => w.clone(),
        (None, _) => "not running".into(),
    };
    // Reasons come from the server: shown as plain text.
    sanitize_plain(&format!("{text}, waiting for it to start"))
}

/// Errors after which the same request may succeed: the API server or the path to it failed.
fn is_transport(e: &kube::Error) -> bool {
    match e {
        kube::Error::HyperError(_) | kube::Error::Service(_) | kube::Error::ReadEvents(_) => true,
        kube::Error::Api(s) => s.code >= 500 || s.code == 429,
        _ => false,
    }
}

/// How one stream ended.
enum End {
    /// The server closed it (the container exited, or a non-follow read finished).
    Closed,
    /// The connection to the API server failed.
    Lost(String),
    /// Any other error: the source is done (`bad_request`: a 400, which the kubelet answers
    /// for a container that has not started yet).
    Failed { text: String, bad_request: bool },
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

/// `ns` floored to its second. Why floored here: kube rounds `sinceTime` to the second
/// half-up, so 11:00:22.7 would ask from 11:00:23 and lose the rest of 11:00:22.
fn since_second(ns: i64) -> Option<jiff::Timestamp> {
    jiff::Timestamp::from_second(ns.div_euclid(1_000_000_000)).ok()
}

impl Producer<'_> {
    async fn send(&self, piece: Piece) -> Result<(), ()> {
        self.out.send((self.idx, piece)).await.map_err(|_| ())
    }

    /// Tell the view why the source waits, when that changed.
    async fn note(&self, current: &mut Option<String>, new: Option<String>) -> Result<(), ()> {
        if *current == new {
            return Ok(());
        }
        current.clone_from(&new);
        self.send(Piece::Note(new)).await
    }

    fn error_text(&self, verb: &str, resource: &str, e: &kube::Error) -> String {
        error::text(self.inner, verb, resource, e)
    }

    /// The pod, read for its container statuses (the log requests go through `api`).
    fn pod_api(&self) -> Api<objects::Pod> {
        Api::namespaced(self.api.clone().into_client(), &self.target.namespace)
    }

    /// Stream the source until it is done or the view is gone.
    pub async fn run(self) {
        // The instance being streamed: a different one later means a restart. An error here is
        // left to the logs request, which says it in the view's words.
        let mut known = None;
        if self.reattach
            && let Ok(pod) = self.pod_api().get(&self.target.pod).await
        {
            known = status_of(&pod, &self.target.container);
        }
        let mut last: Option<i64> = None;
        let mut params = self.params.clone();
        loop {
            let Ok(end) = self.pump(params.clone(), &mut last).await else {
                return;
            };
            let lost = match end {
                End::Closed if self.reattach => None,
                End::Lost(e) if self.reattach => Some(e),
                End::Failed {
                    text,
                    bad_request: true,
                } if self.reattach && !self.not_started().await => {
                    let _ = self.send(Piece::Done(Some(text))).await;
                    return;
                }
                // Not started yet (ContainerCreating): wait for it like for a restart.
                End::Failed {
                    bad_request: true, ..
                } if self.reattach => None,
                End::Closed => {
                    let _ = self.send(Piece::Done(None)).await;
                    return;
                }
                End::Lost(e) | End::Failed { text: e, .. } => {
                    let _ = self.send(Piece::Done(Some(e))).await;
                    return;
                }
            };
            let Some((marks, restarted)) = self.wait(&mut known, lost, last).await else {
                return;
            };
            if !marks.is_empty() && self.send(Piece::Lines(marks)).await.is_err() {
                return;
            }
            // Resume from the last line's second; `pump` drops what was already shown. A new
            // instance is shown whole (no tail, no relative window), as far as `last` allows.
            if let Some(ns) = last {
                params.since_time = since_second(ns);
                params.since_seconds = None;
                params.tail_lines = None;
            } else if restarted {
                params.since_seconds = None;
                params.tail_lines = None;
            }
        }
    }

    /// The container waits to start and has no instance to show yet: the kubelet answers its
    /// log with 400 "container … is waiting to start" (a bad container name gets 400 too, and
    /// has no status).
    async fn not_started(&self) -> bool {
        self.pod_api().get(&self.target.pod).await.is_ok_and(|pod| {
            status_of(&pod, &self.target.container)
                .is_some_and(|i| !i.running && will_restart(&pod, &i))
        })
    }

    /// Forward one stream's lines; `last` keeps the newest stamp seen (and lines at or before
    /// its value on entry are dropped: a resumed stream starts at that second).
    async fn pump(&self, lp: LogParams, last: &mut Option<i64>) -> Result<End, ()> {
        let mut s = chunks(self.api.clone(), self.target.pod.clone(), lp);
        let mut splitter = LineSplitter::new();
        let mut cut = *last;
        let prefix = &self.target.prefix;
        let mut keep = |raw: &[u8], out: &mut Vec<LogLine>| {
            let line = to_line(raw, prefix);
            if let Some(c) = cut {
                match line.ts {
                    Some(ts) if ts <= c => return,
                    _ => cut = None,
                }
            }
            if line.ts.is_some() {
                *last = line.ts;
            }
            out.push(line);
        };
        let mut end = End::Closed;
        while let Some(item) = s.next().await {
            match item {
                Ok(bytes) => {
                    let mut out = Vec::new();
                    splitter.push(&bytes, |raw| keep(raw, &mut out));
                    if !out.is_empty() {
                        self.send(Piece::Lines(out)).await?;
                    }
                }
                Err(e) => {
                    let text = self.error_text("get", "pods/log", &e);
                    end = if is_transport(&e) {
                        End::Lost(text)
                    } else {
                        let bad_request = matches!(&e, kube::Error::Api(s) if s.code == 400);
                        End::Failed { text, bad_request }
                    };
                    break;
                }
            }
        }
        // The stream's unterminated last line (a new instance starts a new line).
        let mut out = Vec::new();
        splitter.finish(|raw| keep(raw, &mut out));
        if !out.is_empty() {
            self.send(Piece::Lines(out)).await?;
        }
        Ok(end)
    }

    /// After a stream ended: wait until there is an instance to stream (or the API server is
    /// back). Returns the markers to show and whether a new instance started; None when the
    /// source is done.
    async fn wait(
        &self,
        known: &mut Option<Instance>,
        mut lost: Option<String>,
        last: Option<i64>,
    ) -> Option<(Vec<LogLine>, bool)> {
        let mut backoff = Backoff::default();
        let mut marks = Vec::new();
        let mut note: Option<String> = None;
        let mut seen_running = false;
        let restarted = loop {
            if let Some(why) = &lost {
                let delay = backoff.next_delay();
                let text = format!("reconnecting in {}s: {why}", delay.as_secs());
                self.note(&mut note, Some(text)).await.ok()?;
                tokio::time::sleep(delay).await;
            }
            match self.pod_api().get(&self.target.pod).await {
                Err(e) if is_transport(&e) => {
                    lost = Some(self.error_text("get", "pods", &e));
                    continue;
                }
                Err(kube::Error::Api(s)) if s.code == 404 => {
                    self.send(Piece::Done(Some("the pod was deleted".into())))
                        .await
                        .ok()?;
                    return None;
                }
                Err(e) => {
                    let text = self.error_text("get", "pods", &e);
                    self.send(Piece::Done(Some(text))).await.ok()?;
                    return None;
                }
                Ok(pod) => {
                    if lost.take().is_some() {
                        // Sorted just after the last line shown: what the container logged
                        // while the API server was unreachable follows the marker.
                        marks.push(marker(
                            Mark::Reconnected,
                            jiff::Timestamp::now(),
                            last.map(|n| n + 1),
                            self.target.prefix.clone(),
                        ));
                    }
                    let now = status_of(&pod, &self.target.container);
                    match (now, known.as_ref()) {
                        (Some(now), Some(k)) if now.running && now.is_new(k) => {
                            let at = now.started.unwrap_or_else(jiff::Timestamp::now);
                            // startedAt has whole seconds: never sort the marker before a
                            // line of the instance that ended in the same second.
                            let ts = match (nanos(at), last) {
                                (Some(t), Some(l)) => Some(t.max(l + 1)),
                                (t, _) => t,
                            };
                            marks.push(marker(Mark::Restarted, at, ts, self.target.prefix.clone()));
                            *known = Some(now);
                            break true;
                        }
                        (Some(now), _) if now.running => {
                            // The same instance still runs (the server ended the stream
                            // anyway, or the kubelet has not reported the exit yet): look once
                            // more before resuming it.
                            if seen_running || !marks.is_empty() || known.is_none() {
                                *known = Some(now);
                                break false;
                            }
                            seen_running = true;
                        }
                        (now, _) => {
                            if let Some(i) = &now
                                && !will_restart(&pod, i)
                            {
                                self.send(Piece::Done(None)).await.ok()?;
                                return None;
                            }
                            self.note(&mut note, Some(waiting_note(now.as_ref())))
                                .await
                                .ok()?;
                        }
                    }
                }
            }
            tokio::time::sleep(POLL).await;
            if self.out.is_closed() {
                return None;
            }
        };
        self.note(&mut note, None).await.ok()?;
        Some((marks, restarted))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn status(v: serde_json::Value) -> Instance {
        Instance::of(&serde_json::from_value::<objects::ContainerStatus>(v).unwrap())
    }

    #[test]
    fn waiting_and_terminated_notes() {
        let crash = status(
            json!({"name": "app", "image": "x", "imageID": "", "ready": false,
            "restartCount": 14, "containerID": "containerd://a",
            "state": {"waiting": {"reason": "CrashLoopBackOff"}},
            "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}}),
        );
        assert!(!crash.running && !crash.terminated);
        assert_eq!(
            waiting_note(Some(&crash)),
            "CrashLoopBackOff (last exit 137: OOMKilled), waiting for it to start"
        );
        let done = status(
            json!({"name": "app", "image": "x", "imageID": "", "ready": false,
            "restartCount": 0, "state": {"terminated": {"exitCode": 1, "reason": "Error"}}}),
        );
        assert_eq!(
            waiting_note(Some(&done)),
            "terminated (exit 1: Error), waiting for it to start"
        );
        assert_eq!(waiting_note(None), "pending, waiting for it to start");
    }

    #[test]
    fn a_new_instance_is_a_new_id_or_more_restarts() {
        let a = Instance {
            id: Some("containerd://a".into()),
            restarts: 1,
            ..Default::default()
        };
        let same = a.clone();
        assert!(!same.is_new(&a));
        let b = Instance {
            id: Some("containerd://b".into()),
            ..a.clone()
        };
        assert!(b.is_new(&a));
        let counted = Instance {
            id: None,
            restarts: 2,
            ..Default::default()
        };
        assert!(counted.is_new(&a));
    }

    #[test]
    fn since_time_is_floored_to_the_second() {
        let t = since_second(1_714_561_222_700_000_000).unwrap();
        assert_eq!(t.to_string(), "2024-05-01T11:00:22Z");
    }
}
