//! A local Kubernetes API server for tests: real HTTP on 127.0.0.1, real API shapes.
//!
//! It serves list (with resourceVersion), watch (chunked JSON lines: ADDED/MODIFIED/DELETED/
//! BOOKMARK/ERROR, replaying history after the requested resourceVersion, 410 Gone for a
//! compacted one), get, patch (recorded, answered with the object), delete, pod logs (follow:
//! chunked, fed by the test), exec (websocket, v4.channel.k8s.io) and pod port forwards
//! (kube_portforward.rs). A kubeconfig pointing at
//! it (`server: http://127.0.0.1:PORT`) makes `kube::Client` run its real code path.
//!
//! Objects are `serde_json::Value`s (the fixtures are real cluster JSON), keyed by the plural
//! resource (`pods`, `deployments` ...), namespace and name. Every request is recorded.

#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::{AbortHandle, JoinHandle};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::Role;

type Body = BoxBody<Bytes, Infallible>;

// A child of this file (benches include it on its own, without support/mod.rs).
#[path = "kube_portforward.rs"]
mod kube_portforward;

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub query: String,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
    pub fn query_has(&self, kv: &str) -> bool {
        self.query.split('&').any(|p| p == kv)
    }
}

/// What an exec session saw.
#[derive(Debug, Clone, Default)]
pub struct ExecRecord {
    pub query: String,
    pub stdin: Vec<u8>,
    pub resizes: Vec<Value>,
}

struct Watcher {
    resource: String,
    namespace: Option<String>,
    tx: mpsc::UnboundedSender<Bytes>,
}

/// One container's log as the kubelet keeps it: the current instance's lines and the previous
/// instance's (`previous=true`); older instances are gone, as on a node.
#[derive(Default)]
struct LogFeed {
    /// (RFC 3339 timestamp, text)
    lines: Vec<(String, String)>,
    previous: Vec<(String, String)>,
    followers: Vec<(bool, mpsc::UnboundedSender<Bytes>)>,
}

#[derive(Default)]
struct State {
    rv: u64,
    /// Watches from a resourceVersion below this get 410 Gone.
    oldest_rv: u64,
    objects: BTreeMap<(String, String, String), Value>,
    /// (rv, resource, namespace, event line)
    history: Vec<(u64, String, String, Bytes)>,
    watchers: Vec<Watcher>,
    forbidden: HashSet<String>,
    requests: Vec<Recorded>,
    logs: HashMap<String, LogFeed>,
    execs: Vec<ExecRecord>,
    conns: Vec<AbortHandle>,
    /// Where a pod's port forwards go: (namespace, pod, port) → a test's TCP server.
    pod_ports: HashMap<(String, String, u16), SocketAddr>,
}

/// The running server. Dropping it stops it.
pub struct KubeServer {
    pub port: u16,
    state: Arc<Mutex<State>>,
    accept: Option<JoinHandle<()>>,
}

impl Drop for KubeServer {
    fn drop(&mut self) {
        self.stop();
    }
}

pub fn fixture(name: &str) -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/kube")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(&p).expect("fixture")).expect("fixture json")
}

/// The items of a `…List` fixture.
pub fn fixture_items(name: &str) -> Vec<Value> {
    fixture(name)["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn kind_of(resource: &str) -> &'static str {
    match resource {
        "pods" => "Pod",
        "deployments" => "Deployment",
        "replicasets" => "ReplicaSet",
        "statefulsets" => "StatefulSet",
        "daemonsets" => "DaemonSet",
        "services" => "Service",
        "nodes" => "Node",
        "namespaces" => "Namespace",
        "events" => "Event",
        _ => "Unknown",
    }
}

fn api_version_of(resource: &str) -> &'static str {
    match resource {
        "deployments" | "replicasets" | "statefulsets" | "daemonsets" => "apps/v1",
        _ => "v1",
    }
}

fn status(code: u16, reason: &str, message: &str) -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
           "message": message, "reason": reason, "code": code})
}

fn full(v: impl Into<Bytes>) -> Body {
    Full::new(v.into()).boxed()
}

fn json_response(code: StatusCode, v: &Value) -> Response<Body> {
    Response::builder()
        .status(code)
        .header("content-type", "application/json")
        .body(full(serde_json::to_vec(v).unwrap()))
        .unwrap()
}

fn streaming(rx: mpsc::UnboundedReceiver<Bytes>, content_type: &str) -> Response<Body> {
    let s = tokio_stream_from(rx).map(|b| Ok::<_, Infallible>(Frame::data(b)));
    Response::builder()
        .status(200)
        .header("content-type", content_type)
        .body(BodyExt::boxed(StreamBody::new(s)))
        .unwrap()
}

fn tokio_stream_from(
    mut rx: mpsc::UnboundedReceiver<Bytes>,
) -> impl futures::Stream<Item = Bytes> + Send + 'static {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

fn meta_str(obj: &Value, field: &str) -> String {
    obj["metadata"][field]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn query_param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        (k == name).then(|| percent_decode(v))
    })
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                let h = std::str::from_utf8(&b[i + 1..i + 3]).ok();
                match h.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(v) => {
                        out.push(v);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `a=b,c=d` equality selectors (what the backend sends).
fn matches_selector(obj: &Value, sel: &str, field: bool) -> bool {
    sel.split(',').filter(|p| !p.is_empty()).all(|p| {
        let Some((k, v)) = p.split_once('=') else {
            return true;
        };
        let got = if field {
            let mut cur = obj;
            for part in k.split('.') {
                cur = &cur[part];
            }
            cur.as_str().map(str::to_string)
        } else {
            obj["metadata"]["labels"][k].as_str().map(str::to_string)
        };
        got.as_deref() == Some(v)
    })
}

impl State {
    fn next_rv(&mut self) -> u64 {
        self.rv += 1;
        self.rv
    }

    fn broadcast(&mut self, resource: &str, ns: &str, line: Bytes, rv: u64) {
        self.history
            .push((rv, resource.to_string(), ns.to_string(), line.clone()));
        self.watchers.retain(|w| {
            if w.resource != resource || w.namespace.as_deref().is_some_and(|n| n != ns) {
                return !w.tx.is_closed();
            }
            w.tx.send(line.clone()).is_ok()
        });
    }

    fn event_line(typ: &str, obj: &Value) -> Bytes {
        let mut s = serde_json::to_vec(&json!({"type": typ, "object": obj})).unwrap();
        s.push(b'\n');
        Bytes::from(s)
    }

    fn upsert(&mut self, resource: &str, mut obj: Value) -> Value {
        let rv = self.next_rv();
        obj["metadata"]["resourceVersion"] = json!(rv.to_string());
        if obj.get("kind").is_none() {
            obj["kind"] = json!(kind_of(resource));
            obj["apiVersion"] = json!(api_version_of(resource));
        }
        let ns = meta_str(&obj, "namespace");
        let name = meta_str(&obj, "name");
        let key = (resource.to_string(), ns.clone(), name);
        let typ = if self.objects.contains_key(&key) {
            "MODIFIED"
        } else {
            "ADDED"
        };
        self.objects.insert(key, obj.clone());
        let line = Self::event_line(typ, &obj);
        self.broadcast(resource, &ns, line, rv);
        obj
    }

    fn remove(&mut self, resource: &str, ns: &str, name: &str) -> Option<Value> {
        let mut obj =
            self.objects
                .remove(&(resource.to_string(), ns.to_string(), name.to_string()))?;
        let rv = self.next_rv();
        obj["metadata"]["resourceVersion"] = json!(rv.to_string());
        let line = Self::event_line("DELETED", &obj);
        self.broadcast(resource, ns, line, rv);
        Some(obj)
    }
}

impl KubeServer {
    /// Start on a free loopback port.
    pub async fn start() -> KubeServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State {
            rv: 1000,
            ..Default::default()
        }));
        let mut s = KubeServer {
            port,
            state,
            accept: None,
        };
        s.serve(listener);
        s
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn serve(&mut self, listener: TcpListener) {
        let state = Arc::clone(&self.state);
        self.accept = Some(tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let st = Arc::clone(&state);
                let conn = tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req| {
                        let st = Arc::clone(&st);
                        async move { Ok::<_, Infallible>(handle(st, req).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .with_upgrades()
                        .await;
                });
                state.lock().unwrap().conns.push(conn.abort_handle());
            }
        }));
    }

    /// Drop the listener and every open connection (watches, log streams, exec sessions).
    pub fn stop(&mut self) {
        if let Some(a) = self.accept.take() {
            a.abort();
        }
        let mut st = self.state.lock().unwrap();
        for c in st.conns.drain(..) {
            c.abort();
        }
        st.watchers.clear();
        for feed in st.logs.values_mut() {
            feed.followers.clear();
        }
    }

    /// Listen again on the same port (after `stop`).
    pub async fn restart(&mut self) {
        let addr: SocketAddr = ([127, 0, 0, 1], self.port).into();
        let mut tries = 0;
        let listener = loop {
            match TcpListener::bind(addr).await {
                Ok(l) => break l,
                Err(e) if tries < 50 => {
                    tries += 1;
                    let _ = e;
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
                Err(e) => panic!("rebind {addr}: {e}"),
            }
        };
        self.serve(listener);
    }

    /// Add or modify an object (ADDED/MODIFIED to watchers); returns it with its new rv.
    pub fn put(&self, resource: &str, obj: Value) -> Value {
        self.state.lock().unwrap().upsert(resource, obj)
    }

    pub fn delete(&self, resource: &str, ns: &str, name: &str) -> Option<Value> {
        self.state.lock().unwrap().remove(resource, ns, name)
    }

    pub fn get(&self, resource: &str, ns: &str, name: &str) -> Option<Value> {
        self.state
            .lock()
            .unwrap()
            .objects
            .get(&(resource.to_string(), ns.to_string(), name.to_string()))
            .cloned()
    }

    /// A BOOKMARK at the current resourceVersion to every watcher of `resource`.
    pub fn bookmark(&self, resource: &str) {
        let mut st = self.state.lock().unwrap();
        let rv = st.rv;
        let obj = json!({"kind": kind_of(resource), "apiVersion": api_version_of(resource),
                         "metadata": {"resourceVersion": rv.to_string(),
                                      "annotations": {"k8s.io/initial-events-end": "true"}}});
        let line = State::event_line("BOOKMARK", &obj);
        st.watchers
            .retain(|w| w.resource != resource || w.tx.send(line.clone()).is_ok());
    }

    /// Forget history: open watches get an ERROR 410 (Expired) and end; a watch from any older
    /// resourceVersion gets the same, so clients must relist.
    pub fn compact(&self) {
        let mut st = self.state.lock().unwrap();
        st.oldest_rv = st.rv + 1;
        st.history.clear();
        let gone = status(410, "Expired", "too old resource version");
        let line = State::event_line("ERROR", &gone);
        for w in st.watchers.drain(..) {
            let _ = w.tx.send(line.clone());
        }
    }

    pub fn forbid(&self, resource: &str) {
        self.state.lock().unwrap().forbidden.insert(resource.into());
    }

    pub fn allow(&self, resource: &str) {
        self.state.lock().unwrap().forbidden.remove(resource);
    }

    /// Append a log line of `ns/pod/container` (stamped `ts`), streamed to followers.
    pub fn log(&self, ns: &str, pod: &str, container: &str, ts: &str, text: &str) {
        let mut st = self.state.lock().unwrap();
        let feed = st
            .logs
            .entry(format!("{ns}/{pod}/{container}"))
            .or_default();
        feed.lines.push((ts.to_string(), text.to_string()));
        feed.followers.retain(|(stamps, tx)| {
            let line = if *stamps {
                format!("{ts} {text}\n")
            } else {
                format!("{text}\n")
            };
            tx.send(Bytes::from(line)).is_ok()
        });
    }

    /// End every follow stream of `ns/pod/container` (the container exited).
    pub fn end_logs(&self, ns: &str, pod: &str, container: &str) {
        let mut st = self.state.lock().unwrap();
        if let Some(feed) = st.logs.get_mut(&format!("{ns}/{pod}/{container}")) {
            feed.followers.clear();
        }
    }

    /// Change `container`'s entry of the pod's `status.containerStatuses` (MODIFIED to
    /// watchers). Shapes: ContainerStatus in
    /// <https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/#PodStatus>.
    fn container_status(&self, ns: &str, pod: &str, container: &str, f: impl FnOnce(&mut Value)) {
        let mut st = self.state.lock().unwrap();
        let key = ("pods".to_string(), ns.to_string(), pod.to_string());
        let mut obj = st.objects.get(&key).cloned().expect("pod");
        let statuses = obj["status"]["containerStatuses"]
            .as_array_mut()
            .expect("containerStatuses");
        let s = statuses
            .iter_mut()
            .find(|s| s["name"] == container)
            .expect("container status");
        f(s);
        st.upsert("pods", obj);
    }

    /// The container exited: its follow streams end (the kubelet closes them) and its status
    /// says `state.terminated` (the same containerID, restartCount unchanged until the next
    /// instance is created).
    pub fn exit_container(&self, ns: &str, pod: &str, container: &str, code: i32, reason: &str) {
        self.end_logs(ns, pod, container);
        self.container_status(ns, pod, container, |s| {
            let started = s["state"]["running"]["startedAt"].clone();
            s["state"] = json!({"terminated": {"exitCode": code, "reason": reason,
                "startedAt": started, "finishedAt": "2026-11-23T10:00:59Z",
                "containerID": s["containerID"].clone()}});
            s["ready"] = json!(false);
            s["started"] = json!(false);
        });
    }

    /// The kubelet holds the container back (`CrashLoopBackOff` …): the ended instance moves to
    /// `lastState.terminated`.
    pub fn wait_container(&self, ns: &str, pod: &str, container: &str, reason: &str) {
        self.container_status(ns, pod, container, |s| {
            if s["state"]["terminated"].is_object() {
                s["lastState"] = json!({"terminated": s["state"]["terminated"].clone()});
            }
            s["state"] = json!({"waiting": {"reason": reason,
                "message": format!("back-off 10s restarting failed container={container}")}});
        });
    }

    /// The container is being created, no instance yet (`ContainerCreating`, no containerID,
    /// restartCount 0): its log answers 400 until it starts.
    pub fn create_container(&self, ns: &str, pod: &str, container: &str) {
        self.container_status(ns, pod, container, |s| {
            s["state"] = json!({"waiting": {"reason": "ContainerCreating"}});
            s["lastState"] = json!({});
            s["restartCount"] = json!(0);
            s.as_object_mut().unwrap().remove("containerID");
            s["ready"] = json!(false);
            s["started"] = json!(false);
        });
    }

    /// A new instance of the container runs since `started_at`: a new containerID, and, when
    /// one ran before, restartCount + 1 with the old instance's lines becoming
    /// `previous=true`'s and the log starting empty (the kubelet serves the current
    /// instance's file).
    pub fn start_container(&self, ns: &str, pod: &str, container: &str, started_at: &str) {
        {
            let mut st = self.state.lock().unwrap();
            let feed = st
                .logs
                .entry(format!("{ns}/{pod}/{container}"))
                .or_default();
            feed.previous = std::mem::take(&mut feed.lines);
            feed.followers.clear();
        }
        self.container_status(ns, pod, container, |s| {
            if s["state"]["terminated"].is_object() {
                s["lastState"] = json!({"terminated": s["state"]["terminated"].clone()});
            }
            let first = s["containerID"].is_null();
            let n = s["restartCount"].as_i64().unwrap_or(0) + i64::from(!first);
            s["restartCount"] = json!(n);
            s["containerID"] = json!(format!("containerd://{n:064x}"));
            s["state"] = json!({"running": {"startedAt": started_at}});
            s["ready"] = json!(true);
            s["started"] = json!(true);
        });
    }

    /// Port `port` of pod `ns/pod` is served by `addr` (a test's server on 127.0.0.1): what a
    /// `portforward` to it reaches.
    pub fn pod_port(&self, ns: &str, pod: &str, port: u16, addr: SocketAddr) {
        self.state
            .lock()
            .unwrap()
            .pod_ports
            .insert((ns.to_string(), pod.to_string(), port), addr);
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().requests.clone()
    }

    pub fn execs(&self) -> Vec<ExecRecord> {
        self.state.lock().unwrap().execs.clone()
    }

    /// Open watch streams right now.
    pub fn watcher_count(&self, resource: &str) -> usize {
        let st = self.state.lock().unwrap();
        st.watchers
            .iter()
            .filter(|w| w.resource == resource && !w.tx.is_closed())
            .count()
    }
}

/// (resource, namespace, name, subresource) of an API path.
type Route = (String, Option<String>, Option<String>, Option<String>);

fn route(path: &str) -> Option<Route> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let rest: &[&str] = match segs.as_slice() {
        ["api", "v1", rest @ ..] => rest,
        ["apis", _group, _version, rest @ ..] => rest,
        _ => return None,
    };
    let (ns, rest) = match rest {
        ["namespaces", ns, rest @ ..] if !rest.is_empty() => (Some(ns.to_string()), rest),
        r => (None, r),
    };
    let resource = rest.first()?.to_string();
    Some((
        resource,
        ns,
        rest.get(1).map(|s| s.to_string()),
        rest.get(2).map(|s| s.to_string()),
    ))
}

async fn handle(st: Arc<Mutex<State>>, mut req: Request<Incoming>) -> Response<Body> {
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or_default().to_string();
    let content_type = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let is_upgrade = req.headers().contains_key("upgrade");
    let ws_key = req
        .headers()
        .get("sec-websocket-key")
        .map(|v| v.as_bytes().to_vec());
    let on_upgrade = is_upgrade.then(|| hyper::upgrade::on(&mut req));
    let body = if is_upgrade {
        Vec::new()
    } else {
        req.into_body()
            .collect()
            .await
            .map(|b| b.to_bytes().to_vec())
            .unwrap_or_default()
    };
    st.lock().unwrap().requests.push(Recorded {
        method: method.clone(),
        path: path.clone(),
        query: query.clone(),
        content_type,
        body: body.clone(),
    });

    if path == "/version" {
        return json_response(
            StatusCode::OK,
            &json!({"major": "1", "minor": "33", "gitVersion": "v1.33.4", "platform": "linux/amd64"}),
        );
    }
    let Some((resource, ns, name, sub)) = route(&path) else {
        return json_response(
            StatusCode::NOT_FOUND,
            &status(
                404,
                "NotFound",
                "the server could not find the requested resource",
            ),
        );
    };
    if st.lock().unwrap().forbidden.contains(&resource) {
        let verb = match (method.as_str(), &name, query_param(&query, "watch")) {
            ("GET", None, Some(_)) => "watch",
            ("GET", None, None) => "list",
            ("GET", _, _) => "get",
            ("PATCH", _, _) => "patch",
            ("DELETE", _, _) => "delete",
            _ => "create",
        };
        let scope = match &ns {
            Some(ns) => format!(" in the namespace \"{ns}\""),
            None => " at the cluster scope".into(),
        };
        let msg = format!(
            "{resource} is forbidden: User \"system:serviceaccount:default:viewer\" cannot {verb} resource \"{resource}\" in API group \"\"{scope}"
        );
        return json_response(StatusCode::FORBIDDEN, &status(403, "Forbidden", &msg));
    }

    match (method.as_str(), name, sub.as_deref()) {
        ("GET", None, None) if query_param(&query, "watch").as_deref() == Some("true") => {
            watch(&st, &resource, ns, &query)
        }
        ("GET", None, None) => list(&st, &resource, ns.as_deref(), &query),
        ("GET", Some(name), None) => {
            let key = (resource.clone(), ns.unwrap_or_default(), name.clone());
            match st.lock().unwrap().objects.get(&key) {
                Some(o) => json_response(StatusCode::OK, o),
                None => json_response(
                    StatusCode::NOT_FOUND,
                    &status(404, "NotFound", &format!("{resource} \"{name}\" not found")),
                ),
            }
        }
        ("GET", Some(name), Some("log")) => logs(&st, ns.unwrap_or_default(), &name, &query),
        (_, Some(name), Some("exec")) if is_upgrade => {
            exec(&st, ws_key, on_upgrade, &name, &query).await
        }
        // kube_portforward.rs: the websocket protocol kube-client speaks.
        (_, Some(name), Some("portforward")) if is_upgrade => {
            let ns = ns.unwrap_or_default();
            let ports = query_param(&query, "ports")
                .unwrap_or_default()
                .split(',')
                .filter_map(|p| p.parse::<u16>().ok())
                .map(|p| {
                    let key = (ns.clone(), name.clone(), p);
                    (p, st.lock().unwrap().pod_ports.get(&key).copied())
                })
                .collect();
            kube_portforward::serve(ws_key, on_upgrade, name, ports)
        }
        ("PATCH", Some(name), Some("scale")) => {
            let replicas =
                serde_json::from_slice::<Value>(&body).unwrap_or_default()["spec"]["replicas"]
                    .clone();
            let ns = ns.unwrap_or_default();
            json_response(
                StatusCode::OK,
                &json!({"kind": "Scale", "apiVersion": "autoscaling/v1",
                        "metadata": {"name": name, "namespace": ns},
                        "spec": {"replicas": replicas}, "status": {"replicas": 0}}),
            )
        }
        ("PATCH", Some(name), None) => {
            let key = (resource.clone(), ns.unwrap_or_default(), name.clone());
            match st.lock().unwrap().objects.get(&key) {
                Some(o) => json_response(StatusCode::OK, o),
                None => json_response(
                    StatusCode::NOT_FOUND,
                    &status(404, "NotFound", &format!("{resource} \"{name}\" not found")),
                ),
            }
        }
        ("DELETE", Some(name), None) => {
            let removed = st
                .lock()
                .unwrap()
                .remove(&resource, &ns.unwrap_or_default(), &name);
            match removed {
                Some(o) => json_response(StatusCode::OK, &o),
                None => json_response(
                    StatusCode::NOT_FOUND,
                    &status(404, "NotFound", &format!("{resource} \"{name}\" not found")),
                ),
            }
        }
        _ => json_response(
            StatusCode::METHOD_NOT_ALLOWED,
            &status(405, "MethodNotAllowed", "not supported by the test server"),
        ),
    }
}

fn list(st: &Arc<Mutex<State>>, resource: &str, ns: Option<&str>, query: &str) -> Response<Body> {
    let st = st.lock().unwrap();
    let labels = query_param(query, "labelSelector").unwrap_or_default();
    let fields = query_param(query, "fieldSelector").unwrap_or_default();
    // Pages like the API server: `limit` items, then a `continue` token. The apiserver's token
    // carries the list's resourceVersion and the key to start from (k8s.io/apiserver
    // pkg/storage/continue.go: {"v","rv","start"}), and every page answers with that first
    // resourceVersion; here the token is `RV:NAMESPACE:NAME` of the last item sent (names hold
    // no ':'). The double keeps no past revisions, so a page shows the objects as they are now
    // after that key: a deletion while paging cannot shift a later object out of the list, as
    // an offset would; the watch from RV then replays what changed.
    let limit: usize = query_param(query, "limit")
        .and_then(|v| v.parse().ok())
        .filter(|l| *l > 0)
        .unwrap_or(usize::MAX);
    let token = query_param(query, "continue");
    let (list_rv, after) = match token
        .as_deref()
        .map(|t| t.splitn(3, ':').collect::<Vec<_>>())
    {
        Some(parts) if parts.len() == 3 => (
            parts[0].parse().unwrap_or(st.rv),
            Some((parts[1].to_string(), parts[2].to_string())),
        ),
        Some(_) => {
            return json_response(
                StatusCode::BAD_REQUEST,
                &status(400, "BadRequest", "continue key is not valid"),
            );
        }
        None => (st.rv, None),
    };
    let mut all = st
        .objects
        .iter()
        .filter(|((r, n, _), _)| r == resource && ns.is_none_or(|ns| ns == n))
        .filter(|((_, n, name), _)| {
            after
                .as_ref()
                .is_none_or(|(an, aname)| (n, name) > (an, aname))
        })
        .filter(|(_, o)| matches_selector(o, &labels, false) && matches_selector(o, &fields, true));
    let page: Vec<(&(String, String, String), &Value)> = all.by_ref().take(limit).collect();
    let more = all.next().is_some();
    let mut meta = json!({"resourceVersion": list_rv.to_string()});
    if more && let Some(((_, n, name), _)) = page.last() {
        meta["continue"] = json!(format!("{list_rv}:{n}:{name}"));
    }
    let items: Vec<Value> = page.into_iter().map(|(_, o)| o.clone()).collect();
    json_response(
        StatusCode::OK,
        &json!({"kind": format!("{}List", kind_of(resource)), "apiVersion": api_version_of(resource),
                "metadata": meta, "items": items}),
    )
}

fn watch(
    st: &Arc<Mutex<State>>,
    resource: &str,
    ns: Option<String>,
    query: &str,
) -> Response<Body> {
    let from: u64 = query_param(query, "resourceVersion")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let (tx, rx) = mpsc::unbounded_channel();
    let mut st = st.lock().unwrap();
    if from < st.oldest_rv {
        let gone = status(
            410,
            "Expired",
            &format!("too old resource version: {from} ({})", st.oldest_rv),
        );
        let _ = tx.send(State::event_line("ERROR", &gone));
        drop(tx);
        return streaming(rx, "application/json");
    }
    for (rv, r, n, line) in &st.history {
        if *rv > from && r == resource && ns.as_deref().is_none_or(|ns| ns == n) {
            let _ = tx.send(line.clone());
        }
    }
    st.watchers.push(Watcher {
        resource: resource.to_string(),
        namespace: ns,
        tx,
    });
    streaming(rx, "application/json")
}

/// `GET …/pods/{name}/log`: the current instance's lines (or the previous one's), from
/// `sinceTime` (lines stamped before it skipped, as the kubelet does; the API server passes it
/// on at whole seconds), the last `tailLines`, stamped when `timestamps=true`, then followed.
/// At most one of `sinceSeconds` and `sinceTime`: otherwise 422 Invalid, as the API server's
/// `LogREST.Get` answers when `ValidatePodLogOptions` fails (`errors.NewInvalid(Kind
/// "PodLogOptions", name, errs)`, kubernetes pkg/registry/core/pod/rest/log.go, with the field
/// error `Forbidden` on the empty path). Reference:
/// <https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/#get-read-log-of-the-specified-pod>
fn logs(st: &Arc<Mutex<State>>, ns: String, pod: &str, query: &str) -> Response<Body> {
    let container = query_param(query, "container").unwrap_or_default();
    let stamps = query_param(query, "timestamps").as_deref() == Some("true");
    let follow = query_param(query, "follow").as_deref() == Some("true");
    let previous = query_param(query, "previous").as_deref() == Some("true");
    let tail: Option<usize> = query_param(query, "tailLines").and_then(|v| v.parse().ok());
    let since_time = query_param(query, "sinceTime");
    if since_time.is_some() && query_param(query, "sinceSeconds").is_some() {
        return json_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            &status(
                422,
                "Invalid",
                &format!(
                    "PodLogOptions \"{pod}\" is invalid: []: Forbidden: at most one of \
                     `sinceTime` or `sinceSeconds` may be specified"
                ),
            ),
        );
    }
    let since = match since_time.map(|t| t.parse::<jiff::Timestamp>()) {
        Some(Ok(t)) => Some(t),
        Some(Err(e)) => {
            return json_response(
                StatusCode::BAD_REQUEST,
                &status(400, "BadRequest", &format!("sinceTime: {e}")),
            );
        }
        None => None,
    };
    let mut st = st.lock().unwrap();
    // The kubelet's check before it reads a log (validateContainerLogStatus): a container
    // waiting with no ended instance has nothing to show yet.
    let pod_key = ("pods".to_string(), ns.clone(), pod.to_string());
    if let Some(s) = st.objects.get(&pod_key).and_then(|p| {
        p["status"]["containerStatuses"]
            .as_array()?
            .iter()
            .find(|s| s["name"] == container.as_str())
    }) && s["state"]["waiting"].is_object()
        && !s["lastState"]["terminated"].is_object()
    {
        let reason = s["state"]["waiting"]["reason"].as_str().unwrap_or_default();
        return json_response(
            StatusCode::BAD_REQUEST,
            &status(
                400,
                "BadRequest",
                &format!(
                    "container \"{container}\" in pod \"{pod}\" is waiting to start: {reason}"
                ),
            ),
        );
    }
    let (tx, rx) = mpsc::unbounded_channel();
    let feed = st
        .logs
        .entry(format!("{ns}/{pod}/{container}"))
        .or_default();
    let lines: Vec<&(String, String)> = if previous {
        feed.previous.iter().collect()
    } else {
        feed.lines.iter().collect()
    };
    let skip = tail.map_or(0, |t| lines.len().saturating_sub(t));
    for (ts, text) in lines.into_iter().skip(skip) {
        if let (Some(since), Ok(at)) = (since, ts.parse::<jiff::Timestamp>())
            && at < since
        {
            continue;
        }
        let line = if stamps {
            format!("{ts} {text}\n")
        } else {
            format!("{text}\n")
        };
        let _ = tx.send(Bytes::from(line));
    }
    if follow && !previous {
        feed.followers.push((stamps, tx));
    }
    streaming(rx, "text/plain")
}

async fn exec(
    st: &Arc<Mutex<State>>,
    key: Option<Vec<u8>>,
    on_upgrade: Option<hyper::upgrade::OnUpgrade>,
    pod: &str,
    query: &str,
) -> Response<Body> {
    let (Some(key), Some(on_upgrade)) = (key, on_upgrade) else {
        return json_response(
            StatusCode::BAD_REQUEST,
            &status(400, "BadRequest", "upgrade request required"),
        );
    };
    let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(&key);
    let index = {
        let mut s = st.lock().unwrap();
        s.execs.push(ExecRecord {
            query: query.to_string(),
            ..Default::default()
        });
        s.execs.len() - 1
    };
    let tty = query_param(query, "tty").as_deref() == Some("true");
    let st = Arc::clone(st);
    let pod = pod.to_string();
    tokio::spawn(async move {
        let Ok(upgraded) = on_upgrade.await else {
            return;
        };
        let mut ws = tokio_tungstenite::WebSocketStream::from_raw_socket(
            TokioIo::new(upgraded),
            Role::Server,
            None,
        )
        .await;
        if !tty {
            // A one-shot command: some output on stdout and stderr, then exit code 3.
            let _ = ws
                .send(Message::binary(
                    [&[1u8][..], format!("hello from {pod}\n").as_bytes()].concat(),
                ))
                .await;
            let _ = ws
                .send(Message::binary([&[2u8][..], b"warning\n"].concat()))
                .await;
            let st3 = json!({"metadata": {}, "status": "Failure", "reason": "NonZeroExitCode",
                             "message": "command terminated with non-zero exit code",
                             "details": {"causes": [{"reason": "ExitCode", "message": "3"}]}});
            let _ = ws
                .send(Message::binary(
                    [&[3u8][..], &serde_json::to_vec(&st3).unwrap()].concat(),
                ))
                .await;
            let _ = ws.close(None).await;
            return;
        }
        let _ = ws.send(Message::binary([&[1u8][..], b"$ "].concat())).await;
        while let Some(Ok(msg)) = ws.next().await {
            let data = match msg {
                Message::Binary(d) => d.to_vec(),
                Message::Close(_) => break,
                _ => continue,
            };
            let Some((&ch, payload)) = data.split_first() else {
                continue;
            };
            match ch {
                0 => {
                    st.lock().unwrap().execs[index]
                        .stdin
                        .extend_from_slice(payload);
                    let echo = [&[1u8][..], b"echo:", payload].concat();
                    if ws.send(Message::binary(echo)).await.is_err() {
                        break;
                    }
                    if payload.windows(4).any(|w| w == b"exit") {
                        let ok = json!({"metadata": {}, "status": "Success"});
                        let _ = ws
                            .send(Message::binary(
                                [&[3u8][..], &serde_json::to_vec(&ok).unwrap()].concat(),
                            ))
                            .await;
                        let _ = ws.close(None).await;
                        break;
                    }
                }
                4 => {
                    let v: Value = serde_json::from_slice(payload).unwrap_or(Value::Null);
                    st.lock().unwrap().execs[index].resizes.push(v);
                }
                _ => {}
            }
        }
    });
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header("upgrade", "websocket")
        .header("connection", "Upgrade")
        .header("sec-websocket-accept", accept)
        .header("sec-websocket-protocol", "v4.channel.k8s.io")
        .body(full(Bytes::new()))
        .unwrap()
}

/// A kubeconfig with one context per (context, cluster url, namespace), current = the first.
pub fn kubeconfig_yaml(contexts: &[(&str, &str, &str)]) -> String {
    let mut s = String::from("apiVersion: v1\nkind: Config\nclusters:\n");
    for (ctx, url, _) in contexts {
        s += &format!("- name: cluster-{ctx}\n  cluster:\n    server: {url}\n");
    }
    s += "users:\n";
    for (ctx, _, _) in contexts {
        s += &format!("- name: user-{ctx}\n  user:\n    token: test-token-{ctx}\n");
    }
    s += "contexts:\n";
    for (ctx, _, ns) in contexts {
        s += &format!(
            "- name: {ctx}\n  context:\n    cluster: cluster-{ctx}\n    user: user-{ctx}\n    namespace: {ns}\n"
        );
    }
    s += &format!("current-context: {}\n", contexts[0].0);
    s
}

/// Write `yaml` as `config` in a fresh temp dir; returns (dir guard, path).
pub fn write_kubeconfig(yaml: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config");
    std::fs::write(&path, yaml).unwrap();
    (dir, path)
}
