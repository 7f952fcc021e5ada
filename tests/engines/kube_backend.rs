//! The Kubernetes backend against a local API server (tests/support/kube_server.rs) that speaks
//! real API shapes, through a kubeconfig written to a temp dir: `kube::Client` runs its real
//! code path (HTTP, watch streams, log streams, websocket exec).

use crate::support;
use crate::support::console;

use std::collections::HashMap;
use std::time::Duration;

use fleetdeck::app::action::Action;
use fleetdeck::app::{Msg, update};
use fleetdeck::backend::kube::{KubeBackend, NsScope};
use fleetdeck::backend::{Backend, BackendEvent, ShellOpts, ShellSession};
use fleetdeck::model::{
    Health, LogLine, LogOpts, Resource, ResourceAction, ResourceKey, ResourceKind, SourceId,
    SourceStatus,
};
use kube::config::Kubeconfig;
use serde_json::{Value, json};
use support::kube_server::{KubeServer, fixture, fixture_items, kubeconfig_yaml, write_kubeconfig};
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;

const WAIT: Duration = Duration::from_secs(10);
const POD_OK: &str = "web-5d8f7c9b6f-x7k2p";
const POD_CRASH: &str = "web-5d8f7c9b6f-q9w8e";

/// One backend for the current context of a kubeconfig file naming `server`.
fn backend(server: &KubeServer) -> (tempfile::TempDir, KubeBackend) {
    let (dir, path) = write_kubeconfig(&kubeconfig_yaml(&[("test", &server.url(), "shop")]));
    let kc = Kubeconfig::read_from(&path).expect("kubeconfig");
    let mut list = KubeBackend::from_kubeconfig(Ok(kc), &[]);
    assert_eq!(list.len(), 1);
    (dir, list.remove(0))
}

fn seed(server: &KubeServer) {
    for p in fixture_items("pods.json") {
        server.put("pods", p);
    }
    server.put("deployments", fixture("deployment.json"));
    for rs in fixture_items("replicasets.json") {
        server.put("replicasets", rs);
    }
    for ns in fixture_items("namespaces.json") {
        server.put("namespaces", ns);
    }
    for e in fixture_items("events.json") {
        server.put("events", e);
    }
}

fn key(b: &dyn Backend, kind: ResourceKind, id: &str) -> ResourceKey {
    ResourceKey {
        source: b.id().clone(),
        kind,
        id: id.to_string(),
    }
}

/// A watch's events with the lists they add up to: a watch sends a kind's complete list
/// (`Snapshot`), then only what changed (`Changes`); every event read through here is folded
/// into the list of its source and kind, as the console does.
struct Watched {
    rx: mpsc::Receiver<BackendEvent>,
    lists: HashMap<(SourceId, ResourceKind), Vec<Resource>>,
}

fn watched(capacity: usize) -> (mpsc::Sender<BackendEvent>, Watched) {
    let (tx, rx) = mpsc::channel(capacity);
    let lists = HashMap::new();
    (tx, Watched { rx, lists })
}

impl Watched {
    /// The next event, after folding it into the lists; with the list it changed, if any.
    async fn next(&mut self) -> Option<(BackendEvent, Option<(ResourceKind, Vec<Resource>)>)> {
        let ev = self.rx.recv().await?;
        let changed = match &ev {
            BackendEvent::Snapshot {
                source,
                kind,
                resources,
            } => {
                let key = (source.clone(), *kind);
                self.lists.insert(key, resources.clone());
                Some(*kind)
            }
            BackendEvent::Changes {
                source,
                kind,
                changes,
            } => {
                // Changes without a list first would be a bug of the watch.
                let list = self
                    .lists
                    .get_mut(&(source.clone(), *kind))
                    .unwrap_or_else(|| panic!("changes of {kind:?} before its list"));
                changes.clone().apply_to(list);
                Some(*kind)
            }
            BackendEvent::Unavailable { source, kind, .. } => {
                self.lists.remove(&(source.clone(), *kind));
                None
            }
            _ => None,
        };
        let source = match &ev {
            BackendEvent::Snapshot { source, .. } | BackendEvent::Changes { source, .. } => {
                Some(source.clone())
            }
            _ => None,
        };
        let list = changed.zip(source).map(|(kind, source)| {
            let rows = self.lists.get(&(source, kind)).cloned().unwrap_or_default();
            (kind, rows)
        });
        Some((ev, list))
    }
}

/// Wait until the list of `kind` (a snapshot and the changes since) satisfies `ok`; panics
/// with what was seen otherwise.
async fn snapshot_where(
    rx: &mut Watched,
    kind: ResourceKind,
    ok: impl Fn(&[Resource]) -> bool,
) -> Vec<Resource> {
    let mut seen = Vec::new();
    let r = tokio::time::timeout(WAIT, async {
        while let Some((ev, list)) = rx.next().await {
            match list {
                Some((k, rows)) if k == kind => {
                    if ok(&rows) {
                        return Some(rows);
                    }
                    seen.push(format!(
                        "list {:?}",
                        rows.iter().map(|r| &r.name).collect::<Vec<_>>()
                    ));
                }
                _ => seen.push(format!("{ev:?}")),
            }
        }
        None
    })
    .await;
    match r {
        Ok(Some(rows)) => rows,
        _ => panic!("no matching {kind:?} list; saw:\n{}", seen.join("\n")),
    }
}

/// Wait for an event matching `ok` (folding every event on the way into the lists).
async fn event_where(
    rx: &mut Watched,
    what: &str,
    ok: impl Fn(&BackendEvent) -> bool,
) -> BackendEvent {
    let mut seen = Vec::new();
    let r = tokio::time::timeout(WAIT, async {
        while let Some((ev, _)) = rx.next().await {
            if ok(&ev) {
                return Some(ev);
            }
            seen.push(format!("{ev:?}"));
        }
        None
    })
    .await;
    match r {
        Ok(Some(ev)) => ev,
        _ => panic!("no {what}; saw:\n{}", seen.join("\n")),
    }
}

fn names(rows: &[Resource]) -> Vec<String> {
    let mut v: Vec<String> = rows.iter().map(|r| r.name.clone()).collect();
    v.sort();
    v
}

fn new_pod(name: &str, phase_running: bool) -> Value {
    let mut p = fixture_items("pods.json").remove(0);
    p["metadata"]["name"] = json!(name);
    p["metadata"]["uid"] = json!(format!("uid-{name}"));
    if !phase_running {
        p["status"]["phase"] = json!("Pending");
        p["status"]["containerStatuses"] = json!([
            {"name": "app", "image": "x", "imageID": "", "ready": false, "restartCount": 0,
             "state": {"waiting": {"reason": "ContainerCreating"}}},
            {"name": "envoy", "image": "y", "imageID": "", "ready": false, "restartCount": 0,
             "state": {"waiting": {"reason": "ContainerCreating"}}}
        ]);
    }
    p
}

/// 1,200 pods come in three pages of `limit=500` (kube's watcher pages its lists); every page
/// after the first carries the `continue` token of the one before and answers the first page's
/// resourceVersion, as the apiserver does; the snapshot has every pod once (issue #16).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paged_list_arrives_whole_with_continue_tokens() {
    let server = KubeServer::start().await;
    for i in 0..1200 {
        server.put("pods", new_pod(&format!("web-5d8f7c9b6f-p{i:04}"), true));
    }
    let (_dir, b) = backend(&server);
    let (tx, mut rx) = watched(256);
    let _watch = b.watch(ResourceKind::Pod, tx);
    let rows = snapshot_where(&mut rx, ResourceKind::Pod, |r| r.len() == 1200).await;
    let mut seen = names(&rows);
    seen.dedup();
    assert_eq!(seen.len(), 1200, "every pod once");
    let lists: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.path == "/api/v1/namespaces/shop/pods" && !r.query_has("watch=true"))
        .collect();
    assert_eq!(lists.len(), 3, "three pages: {lists:?}");
    assert!(lists[0].query_has("limit=500"), "{:?}", lists[0].query);
    assert!(lists[1].query.contains("continue="), "{:?}", lists[1].query);
    assert!(lists[2].query.contains("continue="), "{:?}", lists[2].query);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pods_list_then_watch_added_modified_deleted_bookmark_and_410_relist() {
    let server = KubeServer::start().await;
    seed(&server);
    let (_dir, b) = backend(&server);
    let (tx, mut rx) = watched(256);
    let _watch = b.watch(ResourceKind::Pod, tx);

    let rows = snapshot_where(&mut rx, ResourceKind::Pod, |r| r.len() == 2).await;
    assert_eq!(names(&rows), [POD_CRASH, POD_OK]);
    let crash = rows.iter().find(|r| r.name == POD_CRASH).unwrap();
    assert_eq!(crash.cells[3], "CrashLoopBackOff");
    assert_eq!(crash.cells[2], "1/2");
    assert_eq!(crash.cells[4], "14");
    assert_eq!(crash.health, Health::Failed);
    assert_eq!(
        crash.parent.as_deref(),
        Some("web"),
        "owner via the ReplicaSet"
    );
    let ok = rows.iter().find(|r| r.name == POD_OK).unwrap();
    assert_eq!(
        (
            ok.cells[0].as_str(),
            ok.cells[6].as_str(),
            ok.cells[7].as_str()
        ),
        ("shop", "worker-1", "10.244.1.17")
    );
    assert_eq!(ok.health, Health::Ok);

    // ADDED
    server.put("pods", new_pod("web-5d8f7c9b6f-newpd", false));
    let rows = snapshot_where(&mut rx, ResourceKind::Pod, |r| r.len() == 3).await;
    let new = rows
        .iter()
        .find(|r| r.name == "web-5d8f7c9b6f-newpd")
        .unwrap();
    assert_eq!(new.cells[3], "ContainerCreating");
    assert_eq!(new.health, Health::Pending);

    // MODIFIED
    server.put("pods", new_pod("web-5d8f7c9b6f-newpd", true));
    snapshot_where(&mut rx, ResourceKind::Pod, |r| {
        r.iter()
            .any(|r| r.name == "web-5d8f7c9b6f-newpd" && r.cells[3] == "Running")
    })
    .await;

    // BOOKMARK is not a change but must not break the stream.
    server.bookmark("pods");
    // DELETED
    server.delete("pods", "shop", "web-5d8f7c9b6f-newpd");
    let rows = snapshot_where(&mut rx, ResourceKind::Pod, |r| r.len() == 2).await;
    assert_eq!(names(&rows), [POD_CRASH, POD_OK]);

    // 410 Gone: the open watch is expired; the watcher relists and keeps going.
    let lists_before = server
        .requests()
        .iter()
        .filter(|r| r.path == "/api/v1/namespaces/shop/pods" && !r.query_has("watch=true"))
        .count();
    server.compact();
    server.put("pods", new_pod("web-5d8f7c9b6f-after", true));
    let rows = snapshot_where(&mut rx, ResourceKind::Pod, |r| r.len() == 3).await;
    assert!(names(&rows).contains(&"web-5d8f7c9b6f-after".to_string()));
    let lists_after = server
        .requests()
        .iter()
        .filter(|r| r.path == "/api/v1/namespaces/shop/pods" && !r.query_has("watch=true"))
        .count();
    assert!(
        lists_after > lists_before,
        "a 410 must relist ({lists_before} → {lists_after})"
    );
    // Watches carry the resourceVersion they continue from.
    assert!(
        server
            .requests()
            .iter()
            .any(|r| r.query_has("watch=true") && r.query.contains("resourceVersion=")),
        "{:?}",
        server.requests()
    );
}

/// Feed the watch's events to the console until its table satisfies `ok`; counts the lists
/// (snapshots) and the batches of changes it took.
async fn console_until(
    rx: &mut mpsc::Receiver<BackendEvent>,
    st: &mut fleetdeck::app::AppState,
    counts: &mut (usize, usize),
    ok: impl Fn(&fleetdeck::app::AppState) -> bool,
) {
    let r = tokio::time::timeout(WAIT, async {
        while let Some(ev) = rx.recv().await {
            match &ev {
                BackendEvent::Snapshot { .. } => counts.0 += 1,
                BackendEvent::Changes { .. } => counts.1 += 1,
                _ => {}
            }
            update(st, Msg::Backend(ev));
            if ok(st) {
                return;
            }
        }
    })
    .await;
    assert!(r.is_ok(), "table now: {:?}", console::names(st));
}

fn selected_name(st: &fleetdeck::app::AppState) -> String {
    match st.top() {
        fleetdeck::app::state::View::Table(t) => {
            t.selected_row().map(|r| r.name.clone()).unwrap_or_default()
        }
        _ => String::new(),
    }
}

/// After its first list the watch sends only what changed, and the console applies it to the
/// table in place: the pods view follows an add, a change and a delete, sorted, with the
/// selection staying on its pod while rows move around it (issue #16).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_first_list_the_watch_sends_changes_the_console_applies_in_place() {
    let server = KubeServer::start().await;
    seed(&server);
    let (_dir, b) = backend(&server);
    let (tx, mut rx) = mpsc::channel(256);
    let _watch = b.watch(ResourceKind::Pod, tx);
    let mut st = console::bare_state();
    console::command(&mut st, "pods");
    let mut counts = (0, 0);
    console_until(&mut rx, &mut st, &mut counts, |st| {
        console::names(st).len() == 2
    })
    .await;
    assert_eq!(console::names(&st), [POD_CRASH, POD_OK]);
    console::act(&mut st, Action::Down);
    assert_eq!(selected_name(&st), POD_OK);

    // A pod that sorts first comes: the rows move, the selection stays on its pod.
    server.put("pods", new_pod("web-5d8f7c9b6f-a0000", false));
    console_until(&mut rx, &mut st, &mut counts, |st| {
        console::names(st).len() == 3
    })
    .await;
    assert_eq!(
        console::names(&st),
        ["web-5d8f7c9b6f-a0000", POD_CRASH, POD_OK]
    );
    assert_eq!(selected_name(&st), POD_OK);

    // It starts running (MODIFIED), then is deleted.
    server.put("pods", new_pod("web-5d8f7c9b6f-a0000", true));
    let running = |st: &fleetdeck::app::AppState| match st.top() {
        fleetdeck::app::state::View::Table(t) => t
            .rows
            .iter()
            .any(|r| r.name == "web-5d8f7c9b6f-a0000" && r.cells[3] == "Running"),
        _ => false,
    };
    console_until(&mut rx, &mut st, &mut counts, running).await;
    server.delete("pods", "shop", "web-5d8f7c9b6f-a0000");
    console_until(&mut rx, &mut st, &mut counts, |st| {
        console::names(st).len() == 2
    })
    .await;
    assert_eq!(console::names(&st), [POD_CRASH, POD_OK]);
    assert_eq!(selected_name(&st), POD_OK);
    assert_eq!(counts.0, 1, "one list, then changes only");
    assert!(counts.1 >= 3, "a batch per change: {counts:?}");
    let screen = console::draw(&mut st, 120, 10);
    assert!(screen.contains("2/2"), "{screen}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deployments_containers_nodes_events_and_namespaces_map() {
    let server = KubeServer::start().await;
    seed(&server);
    for n in fixture_items("nodes.json") {
        server.put("nodes", n);
    }
    let (_dir, b) = backend(&server);
    let (tx, mut rx) = watched(256);
    let _w = [
        b.watch(ResourceKind::Deployment, tx.clone()),
        b.watch(ResourceKind::PodContainer, tx.clone()),
        b.watch(ResourceKind::KNode, tx.clone()),
        b.watch(ResourceKind::KEvent, tx.clone()),
        b.watch(ResourceKind::Namespace, tx.clone()),
    ];
    // Each watch sends its own snapshots, in any order: gather the first of each kind.
    let mut got: std::collections::HashMap<ResourceKind, Vec<Resource>> = Default::default();
    while got.len() < 5 {
        if let BackendEvent::Snapshot {
            kind, resources, ..
        } = event_where(&mut rx, "snapshots of five kinds", |e| {
            matches!(e, BackendEvent::Snapshot { .. })
        })
        .await
        {
            got.insert(kind, resources);
        }
    }
    let d = &got[&ResourceKind::Deployment];
    assert_eq!(
        d[0].cells[..6],
        [
            "shop",
            "web",
            "2/3",
            "3",
            "2",
            "registry.example.com/shop/web:1.5.0,envoyproxy/envoy:v1.30.1"
        ]
    );
    assert_eq!(d[0].health, Health::Pending);
    let c = &got[&ResourceKind::PodContainer];
    assert_eq!(c.len(), 4);
    let app = c
        .iter()
        .find(|r| r.parent.as_deref() == Some(POD_CRASH) && r.name == "app")
        .unwrap();
    assert_eq!(app.cells[4], "Waiting:CrashLoopBackOff");
    assert_eq!(app.cells[3], "14");
    assert_eq!(app.key.id, format!("shop/{POD_CRASH}/app"));
    let n = &got[&ResourceKind::KNode];
    assert_eq!(
        n[0].cells[..5],
        ["worker-1", "Ready", "worker", "v1.33.4", "192.168.10.11"]
    );
    let e = &got[&ResourceKind::KEvent];
    assert_eq!(e.len(), 2);
    let warning = e.iter().find(|r| r.cells[2] == "Warning").unwrap();
    assert_eq!(warning.health, Health::Failed, "warnings are highlighted");
    assert_eq!(warning.cells[3], "BackOff");
    assert_eq!(warning.cells[4], format!("pod/{POD_CRASH}"));
    let ns = &got[&ResourceKind::Namespace];
    assert_eq!(ns.len(), 4);
    let marked: Vec<&str> = ns
        .iter()
        .filter(|r| r.cells[2] == "*")
        .map(|r| r.name.as_str())
        .collect();
    assert_eq!(marked, ["shop"]);
    assert!(ns.iter().any(|r| r.name == "all" && r.key.id.is_empty()));
}

async fn collect_lines(
    rx: &mut mpsc::Receiver<BackendEvent>,
    want: usize,
) -> (Vec<LogLine>, Option<Option<String>>) {
    let mut lines = Vec::new();
    let mut ended = None;
    let _ = tokio::time::timeout(WAIT, async {
        while let Some(ev) = rx.recv().await {
            match ev {
                BackendEvent::LogLines { lines: l, .. } => {
                    lines.extend(l);
                    if lines.len() >= want {
                        return;
                    }
                }
                BackendEvent::LogEnded { error, .. } => {
                    ended = Some(error);
                    return;
                }
                _ => {}
            }
        }
    })
    .await;
    (lines, ended)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_follow_in_order_sanitised_with_prefixes_and_previous() {
    let server = KubeServer::start().await;
    seed(&server);
    let (_dir, b) = backend(&server);
    server.log(
        "shop",
        POD_OK,
        "app",
        "2026-11-23T10:00:00.000000001Z",
        "first",
    );
    server.log(
        "shop",
        POD_OK,
        "app",
        "2026-11-23T10:00:00.000000002Z",
        "second",
    );

    // One container, followed.
    let (tx, mut rx) = mpsc::channel(64);
    let opts = LogOpts {
        follow: true,
        tail: Some(100),
        since_secs: None,
        previous: false,
    };
    let target = key(
        &b,
        ResourceKind::PodContainer,
        &format!("shop/{POD_OK}/app"),
    );
    let _logs = b.logs(&target, opts.clone(), 1, tx);
    let (lines, _) = collect_lines(&mut rx, 2).await;
    assert_eq!(
        lines
            .iter()
            .map(|l| l.text.text.as_str())
            .collect::<Vec<_>>(),
        ["first", "second"]
    );
    assert_eq!(lines[0].ts, Some(1_795_428_000_000_000_001));
    assert_eq!(lines[0].source, None, "a single stream has no prefix");
    for (i, text) in [
        "third \u{1b}[2Jcleared",
        "fourth \u{1b}]52;c;ZXZpbA==\u{7}clip",
        "\u{1b}[31mred\u{1b}[0m",
    ]
    .iter()
    .enumerate()
    {
        server.log(
            "shop",
            POD_OK,
            "app",
            &format!("2026-11-23T10:00:01.00000000{i}Z"),
            text,
        );
    }
    let (lines, _) = collect_lines(&mut rx, 3).await;
    let texts: Vec<&str> = lines.iter().map(|l| l.text.text.as_str()).collect();
    assert_eq!(texts, ["third cleared", "fourth clip", "red"]);
    for l in &lines {
        assert!(
            !l.text.text.contains('\u{1b}') && !l.text.text.contains('\u{7}'),
            "{l:?}"
        );
    }
    assert!(!lines[2].text.runs.is_empty(), "colours are kept as styles");
    let req = server
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with(&format!("/pods/{POD_OK}/log")))
        .unwrap();
    for kv in [
        "container=app",
        "follow=true",
        "timestamps=true",
        "tailLines=100",
    ] {
        assert!(req.query_has(kv), "{kv} in {}", req.query);
    }
    assert!(!req.query.contains("previous"), "{}", req.query);

    // A pod row interleaves its containers, prefixed by container.
    server.log(
        "shop",
        POD_OK,
        "envoy",
        "2026-11-23T10:00:02Z",
        "envoy ready",
    );
    let (tx, mut rx) = mpsc::channel(64);
    let non_follow = LogOpts {
        follow: false,
        ..opts.clone()
    };
    let _logs = b.logs(
        &key(&b, ResourceKind::Pod, &format!("shop/{POD_OK}")),
        non_follow.clone(),
        2,
        tx,
    );
    let (lines, ended) = collect_lines(&mut rx, usize::MAX).await;
    assert_eq!(ended, Some(None), "non-follow logs end cleanly");
    let mut tagged: Vec<(String, String)> = lines
        .iter()
        .map(|l| {
            (
                l.source.as_deref().unwrap_or("").to_string(),
                l.text.text.clone(),
            )
        })
        .collect();
    tagged.sort();
    assert_eq!(tagged.len(), 6);
    assert!(tagged.contains(&("envoy".into(), "envoy ready".into())));
    assert!(tagged.contains(&("app".into(), "first".into())));

    // A deployment interleaves all its pods' containers, prefixed pod/container.
    server.log(
        "shop",
        POD_CRASH,
        "app",
        "2026-11-23T10:00:03Z",
        "panic: out of memory",
    );
    let (tx, mut rx) = mpsc::channel(64);
    let _logs = b.logs(
        &key(&b, ResourceKind::Deployment, "shop/web"),
        non_follow.clone(),
        3,
        tx,
    );
    let (lines, ended) = collect_lines(&mut rx, usize::MAX).await;
    assert_eq!(ended, Some(None));
    assert!(lines.iter().any(
        |l| l.source.as_deref() == Some(&format!("{POD_CRASH}/app")[..])
            && l.text.text == "panic: out of memory"
    ));
    assert!(
        lines
            .iter()
            .any(|l| l.source.as_deref() == Some(&format!("{POD_OK}/envoy")[..]))
    );
    assert!(
        server
            .requests()
            .iter()
            .any(|r| r.path == "/api/v1/namespaces/shop/pods"
                && r.query.contains("labelSelector=app%3Dweb")),
        "pods found by the deployment's selector"
    );

    // --previous asks for the previous instance.
    let (tx, mut rx) = mpsc::channel(64);
    let prev = LogOpts {
        previous: true,
        ..non_follow
    };
    let _logs = b.logs(
        &key(
            &b,
            ResourceKind::PodContainer,
            &format!("shop/{POD_CRASH}/app"),
        ),
        prev,
        4,
        tx,
    );
    let _ = collect_lines(&mut rx, usize::MAX).await;
    assert!(server.requests().iter().any(
        |r| r.path.ends_with(&format!("/pods/{POD_CRASH}/log")) && r.query_has("previous=true")
    ));
}

/// Lines and notes of a log view until `done(lines)`; panics with what was seen on timeout or
/// on the view's end.
/// Follow the `app` container of POD_OK (the last 100 lines, then live) as stream `stream`.
fn follow_app(
    b: &KubeBackend,
    stream: u64,
) -> (fleetdeck::backend::TaskHandle, mpsc::Receiver<BackendEvent>) {
    let (tx, rx) = mpsc::channel(64);
    let opts = LogOpts {
        follow: true,
        tail: Some(100),
        since_secs: None,
        previous: false,
    };
    let target = key(b, ResourceKind::PodContainer, &format!("shop/{POD_OK}/app"));
    (b.logs(&target, opts, stream, tx), rx)
}

async fn follow_until(
    rx: &mut mpsc::Receiver<BackendEvent>,
    lines: &mut Vec<LogLine>,
    notes: &mut Vec<Option<String>>,
    done: impl Fn(&[LogLine], &[Option<String>]) -> bool,
) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !done(lines, notes) {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(BackendEvent::LogLines { lines: batch, .. })) => lines.extend(batch),
            Ok(Some(BackendEvent::LogNote { note, .. })) => notes.push(note),
            Ok(Some(BackendEvent::LogEnded { error, .. })) => {
                panic!("ended: {error:?}; lines {lines:?}; notes {notes:?}")
            }
            Ok(Some(_)) => {}
            other => panic!("timed out ({other:?}); lines {lines:?}; notes {notes:?}"),
        }
    }
}

/// Texts with markers as `MARK restarted` / `MARK reconnected`.
fn marked(lines: &[LogLine]) -> Vec<String> {
    lines
        .iter()
        .map(|l| {
            if l.marker {
                let word = l.text.text.split(' ').nth(1).unwrap_or_default();
                assert!(l.text.text.ends_with(" ──"), "{}", l.text.text);
                format!("MARK {word}")
            } else {
                l.text.text.clone()
            }
        })
        .collect()
}

fn log_requests(server: &KubeServer, pod: &str) -> Vec<support::kube_server::Recorded> {
    server
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with(&format!("/pods/{pod}/log")))
        .collect()
}

/// #13: a followed container's stream ends (it exited); while the kubelet holds it back the
/// view says so; a new instance (restartCount + 1, new containerID) is streamed from just
/// after the last line behind one `restarted` marker at its `state.running.startedAt`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn followed_logs_reattach_across_container_restarts() {
    let server = KubeServer::start().await;
    seed(&server);
    let (_dir, b) = backend(&server);
    server.log("shop", POD_OK, "app", "2026-11-23T10:00:05.1Z", "boot-1");
    server.log("shop", POD_OK, "app", "2026-11-23T10:00:05.2Z", "work-1");
    let (_logs, mut rx) = follow_app(&b, 31);
    let (mut lines, mut notes) = (Vec::new(), Vec::new());
    follow_until(&mut rx, &mut lines, &mut notes, |l, _| l.len() == 2).await;

    server.exit_container("shop", POD_OK, "app", 1, "Error");
    follow_until(&mut rx, &mut lines, &mut notes, |_, n| {
        n.last()
            == Some(&Some(
                "terminated (exit 1: Error), waiting for it to start".into(),
            ))
    })
    .await;
    server.wait_container("shop", POD_OK, "app", "CrashLoopBackOff");
    follow_until(&mut rx, &mut lines, &mut notes, |_, n| {
        n.last()
            == Some(&Some(
                "CrashLoopBackOff (last exit 1: Error), waiting for it to start".into(),
            ))
    })
    .await;
    server.start_container("shop", POD_OK, "app", "2026-11-23T10:01:00Z");
    server.log("shop", POD_OK, "app", "2026-11-23T10:01:00.3Z", "boot-2");
    follow_until(&mut rx, &mut lines, &mut notes, |l, _| {
        l.iter().any(|l| l.text.text == "boot-2")
    })
    .await;
    server.log("shop", POD_OK, "app", "2026-11-23T10:01:00.4Z", "work-2");
    follow_until(&mut rx, &mut lines, &mut notes, |l, _| {
        l.iter().any(|l| l.text.text == "work-2")
    })
    .await;
    assert_eq!(
        marked(&lines),
        ["boot-1", "work-1", "MARK restarted", "boot-2", "work-2"],
        "every line once, one marker for the new instance"
    );
    let mark = &lines[2];
    assert_eq!(
        mark.ts,
        Some(1_795_428_060_000_000_000),
        "at the new startedAt"
    );
    assert_eq!(
        notes.last(),
        Some(&None),
        "the note is cleared once it streams"
    );

    // Reopened from the last line's second, the whole new instance (no tail).
    let reqs = log_requests(&server, POD_OK);
    let again = reqs.last().unwrap();
    for kv in ["container=app", "follow=true", "timestamps=true"] {
        assert!(again.query_has(kv), "{kv} in {}", again.query);
    }
    assert!(
        again.query_has("sinceTime=2026-11-23T10%3A00%3A05Z"),
        "{}",
        again.query
    );
    assert!(!again.query.contains("tailLines"), "{}", again.query);
    assert_eq!(reqs.len(), 2, "one reopen: {reqs:?}");
}

/// #13: the API server goes away under a followed log: the view says it is reconnecting,
/// retries with backoff, and resumes behind one `reconnected` marker with what was logged
/// meanwhile, the lines of the resumed second not shown twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn followed_logs_resume_after_the_api_server_comes_back() {
    let mut server = KubeServer::start().await;
    seed(&server);
    let (_dir, b) = backend(&server);
    server.log("shop", POD_OK, "app", "2026-11-23T10:00:05.1Z", "one");
    server.log("shop", POD_OK, "app", "2026-11-23T10:00:05.2Z", "two");
    let (_logs, mut rx) = follow_app(&b, 32);
    let (mut lines, mut notes) = (Vec::new(), Vec::new());
    follow_until(&mut rx, &mut lines, &mut notes, |l, _| l.len() == 2).await;

    server.stop();
    follow_until(&mut rx, &mut lines, &mut notes, |_, n| {
        n.iter()
            .flatten()
            .any(|n| n.starts_with("reconnecting in 1s: "))
    })
    .await;
    // Logged while the API server was away: streamed after the reconnect.
    server.log("shop", POD_OK, "app", "2026-11-23T10:00:05.3Z", "three");
    server.restart().await;
    follow_until(&mut rx, &mut lines, &mut notes, |l, _| {
        l.iter().any(|l| l.text.text == "three")
    })
    .await;
    assert_eq!(marked(&lines), ["one", "two", "MARK reconnected", "three"]);
    assert_eq!(
        lines[2].ts,
        Some(lines[1].ts.unwrap() + 1),
        "sorted after the last line"
    );
    assert!(
        notes
            .iter()
            .flatten()
            .all(|n| n.starts_with("reconnecting in ")),
        "{notes:?}"
    );
    let again = log_requests(&server, POD_OK).pop().unwrap();
    assert!(
        again.query_has("sinceTime=2026-11-23T10%3A00%3A05Z") && !again.query.contains("tailLines"),
        "{}",
        again.query
    );
    // Still following the same instance.
    server.log("shop", POD_OK, "app", "2026-11-23T10:00:06Z", "four");
    follow_until(&mut rx, &mut lines, &mut notes, |l, _| {
        l.iter().any(|l| l.text.text == "four")
    })
    .await;
    assert_eq!(lines.iter().filter(|l| l.marker).count(), 1);
}

/// #13: a followed container that has not started yet (the kubelet answers its log with 400
/// "waiting to start") is waited for, not ended, and its first instance streams with no
/// `restarted` marker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn followed_logs_wait_for_a_container_being_created() {
    let server = KubeServer::start().await;
    seed(&server);
    server.create_container("shop", POD_OK, "app");
    let (_dir, b) = backend(&server);
    let (_logs, mut rx) = follow_app(&b, 33);
    let (mut lines, mut notes) = (Vec::new(), Vec::new());
    follow_until(&mut rx, &mut lines, &mut notes, |_, n| {
        n.last() == Some(&Some("ContainerCreating, waiting for it to start".into()))
    })
    .await;
    server.start_container("shop", POD_OK, "app", "2026-11-23T10:02:00Z");
    server.log("shop", POD_OK, "app", "2026-11-23T10:02:00.5Z", "hello");
    follow_until(&mut rx, &mut lines, &mut notes, |l, _| {
        l.iter().any(|l| l.text.text == "hello")
    })
    .await;
    assert_eq!(marked(&lines), ["hello"]);
    assert_eq!(
        server.get("pods", "shop", POD_OK).unwrap()["status"]["containerStatuses"][0]["restartCount"],
        0
    );
}

async fn read_until(session: &mut ShellSession, out: &mut Vec<u8>, needle: &str) {
    while !String::from_utf8_lossy(out).contains(needle) {
        match tokio::time::timeout(WAIT, futures::StreamExt::next(&mut session.output)).await {
            Ok(Some(Ok(chunk))) => out.extend_from_slice(&chunk),
            other => panic!(
                "waiting for {needle:?}: {other:?}; got {:?}",
                String::from_utf8_lossy(out)
            ),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_shell_forwards_stdin_stdout_and_resize() {
    let server = KubeServer::start().await;
    seed(&server);
    let (_dir, b) = backend(&server);
    let opts = ShellOpts {
        commands: vec!["/bin/bash".into(), "/bin/sh".into()],
        cols: 100,
        rows: 30,
    };
    let mut session = b
        .shell(
            &key(&b, ResourceKind::Pod, &format!("shop/{POD_OK}")),
            &opts,
        )
        .await
        .expect("shell");
    let mut out = Vec::new();
    read_until(&mut session, &mut out, "$ ").await;
    session.input.write_all(b"ls -la\r").await.unwrap();
    session.input.flush().await.unwrap();
    read_until(&mut session, &mut out, "echo:ls -la").await;
    session.resize.send((120, 40)).unwrap();
    // Give the resize a moment to go out before the shell exits.
    tokio::time::sleep(Duration::from_millis(200)).await;
    session.input.write_all(b"exit\r").await.unwrap();
    session.input.flush().await.unwrap();
    // The stream ends when the remote shell exits.
    let end = tokio::time::timeout(WAIT, async {
        while let Some(Ok(_)) = futures::StreamExt::next(&mut session.output).await {}
    })
    .await;
    assert!(end.is_ok(), "output ends after exit");

    let execs = server.execs();
    assert_eq!(execs.len(), 1);
    let ex = &execs[0];
    for kv in ["container=app", "stdin=true", "stdout=true", "tty=true"] {
        assert!(ex.query.split('&').any(|p| p == kv), "{kv} in {}", ex.query);
    }
    assert!(ex.query.contains("command=%2Fbin%2Fsh"), "{}", ex.query);
    let stdin = String::from_utf8_lossy(&ex.stdin);
    assert!(
        stdin.contains("ls -la\r") && stdin.contains("exit\r"),
        "{stdin:?}"
    );
    assert!(
        ex.resizes.contains(&json!({"Width": 100, "Height": 30})),
        "initial size: {:?}",
        ex.resizes
    );
    assert!(
        ex.resizes.contains(&json!({"Width": 120, "Height": 40})),
        "resize: {:?}",
        ex.resizes
    );

    // The scriptable exec (no TTY): stdout + stderr and the exit code from the status channel.
    let (code, output) = b
        .exec(
            &key(
                &b,
                ResourceKind::PodContainer,
                &format!("shop/{POD_OK}/envoy"),
            ),
            &["env".into()],
        )
        .await
        .expect("exec");
    assert_eq!(code, 3);
    assert_eq!(output, format!("hello from {POD_OK}\nwarning\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scale_restart_undo_and_delete_send_kubectls_requests() {
    let server = KubeServer::start().await;
    seed(&server);
    let (_dir, b) = backend(&server);
    let deploy = key(&b, ResourceKind::Deployment, "shop/web");
    let patches = |server: &KubeServer| -> Vec<support::kube_server::Recorded> {
        server
            .requests()
            .into_iter()
            .filter(|r| r.method == "PATCH" || r.method == "DELETE")
            .collect()
    };

    // kubectl scale deployment/web --replicas=5
    let msg = b.act(&deploy, &ResourceAction::Scale(5)).await.unwrap();
    assert_eq!(msg, "deployment web scaled to 5");
    let p = patches(&server).pop().unwrap();
    assert_eq!(
        p.path,
        "/apis/apps/v1/namespaces/shop/deployments/web/scale"
    );
    assert_eq!(
        p.content_type.as_deref(),
        Some("application/merge-patch+json")
    );
    assert_eq!(p.json(), json!({"spec": {"replicas": 5}}));

    // kubectl rollout restart deployment/web
    let before = jiff::Timestamp::now().as_second();
    b.act(&deploy, &ResourceAction::Redeploy).await.unwrap();
    let p = patches(&server).pop().unwrap();
    assert_eq!(p.path, "/apis/apps/v1/namespaces/shop/deployments/web");
    assert_eq!(
        p.content_type.as_deref(),
        Some("application/strategic-merge-patch+json")
    );
    let body = p.json();
    let at =
        body["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"]
            .as_str()
            .unwrap()
            .to_string();
    assert_eq!(
        body,
        json!({"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": at.clone()}}}}})
    );
    let ts: jiff::Timestamp = at.parse().expect("RFC 3339");
    assert!((ts.as_second() - before).abs() < 5, "{at}");
    assert!(at.ends_with('Z') && !at.contains('.'), "{at}");

    // kubectl rollout undo deployment/web: back to revision 1's template.
    let msg = b.act(&deploy, &ResourceAction::Rollback).await.unwrap();
    assert_eq!(msg, "deployment web rolled back to revision 1");
    let p = patches(&server).pop().unwrap();
    assert_eq!(p.path, "/apis/apps/v1/namespaces/shop/deployments/web");
    assert_eq!(
        p.content_type.as_deref(),
        Some("application/json-patch+json")
    );
    let mut template = fixture_items("replicasets.json")[0]["spec"]["template"].clone();
    template["metadata"]["labels"]
        .as_object_mut()
        .unwrap()
        .remove("pod-template-hash");
    let expected = json!([
        {"op": "replace", "path": "/spec/template", "value": template},
        {"op": "replace", "path": "/metadata/annotations", "value": {
            "deployment.kubernetes.io/revision": "2",
            "kubectl.kubernetes.io/last-applied-configuration": "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\"}\n",
            "meta.helm.sh/note": "first"
        }}
    ]);
    assert_eq!(p.json(), expected);
    assert!(
        server.requests().iter().any(|r| r.method == "GET"
            && r.path == "/apis/apps/v1/namespaces/shop/replicasets"
            && r.query.contains("labelSelector=app%3Dweb")),
        "ReplicaSets found by the deployment's selector"
    );

    // A paused deployment is refused, and nothing is sent.
    let mut paused = fixture("deployment.json");
    paused["spec"]["paused"] = json!(true);
    server.put("deployments", paused);
    let n = patches(&server).len();
    let err = b
        .act(&deploy, &ResourceAction::Rollback)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("paused"), "{err}");
    assert_eq!(patches(&server).len(), n);

    // Delete a pod.
    let msg = b
        .act(
            &key(&b, ResourceKind::Pod, &format!("shop/{POD_CRASH}")),
            &ResourceAction::Remove,
        )
        .await
        .unwrap();
    assert_eq!(msg, format!("pod {POD_CRASH} deleted"));
    let p = patches(&server).pop().unwrap();
    assert_eq!(
        (p.method.as_str(), p.path.as_str()),
        (
            "DELETE",
            &format!("/api/v1/namespaces/shop/pods/{POD_CRASH}")[..]
        )
    );
    assert!(server.get("pods", "shop", POD_CRASH).is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_is_yaml_without_managed_fields_plus_events() {
    let server = KubeServer::start().await;
    seed(&server);
    let (_dir, b) = backend(&server);
    let text = b
        .describe(&key(&b, ResourceKind::Pod, &format!("shop/{POD_CRASH}")))
        .await
        .unwrap();
    assert!(text.contains(&format!("name: {POD_CRASH}")), "{text}");
    assert!(!text.contains("managedFields"), "{text}");
    assert!(text.contains("# Events"), "{text}");
    assert!(
        text.contains("Warning") && text.contains("BackOff"),
        "{text}"
    );
    assert!(
        !text.contains("Pulled"),
        "only this object's events: {text}"
    );
    assert!(
        server
            .requests()
            .iter()
            .any(|r| r.path == "/api/v1/namespaces/shop/events"
                && r.query.contains("fieldSelector=involvedObject.uid"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_list_shows_in_the_view_then_recovers() {
    let server = KubeServer::start().await;
    seed(&server);
    server.forbid("pods");
    let (_dir, b) = backend(&server);
    let (tx, mut rx) = watched(256);
    let _watch = b.watch(ResourceKind::Pod, tx);
    let ev = event_where(&mut rx, "Unavailable", |e| {
        matches!(e, BackendEvent::Unavailable { .. })
    })
    .await;
    let BackendEvent::Unavailable { reason, kind, .. } = &ev else {
        unreachable!()
    };
    assert_eq!(*kind, ResourceKind::Pod);
    assert_eq!(reason, "forbidden: list pods in namespace shop");

    // The view says so in place of rows.
    let mut st = console::bare_state();
    console::act(&mut st, Action::Command);
    console::typed(&mut st, "pods<enter>");
    update(&mut st, Msg::Backend(ev));
    let screen = console::draw(&mut st, 120, 20);
    assert!(
        screen.contains("kube:test: forbidden: list pods in namespace shop"),
        "{screen}"
    );

    // Access granted: the next retry lists.
    server.allow("pods");
    let rows = snapshot_where(&mut rx, ResourceKind::Pod, |r| r.len() == 2).await;
    assert_eq!(names(&rows), [POD_CRASH, POD_OK]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_drop_shows_reconnecting_then_relists() {
    let mut server = KubeServer::start().await;
    seed(&server);
    let (_dir, b) = backend(&server);
    let (tx, mut rx) = watched(256);
    let _watch = b.watch(ResourceKind::Pod, tx);
    event_where(&mut rx, "Connected", |e| {
        matches!(e, BackendEvent::Status(_, SourceStatus::Connected(_)))
    })
    .await;
    snapshot_where(&mut rx, ResourceKind::Pod, |r| r.len() == 2).await;

    server.stop();
    let ev = event_where(&mut rx, "Reconnecting", |e| {
        matches!(
            e,
            BackendEvent::Status(_, SourceStatus::Reconnecting { .. })
        )
    })
    .await;
    let BackendEvent::Status(_, SourceStatus::Reconnecting { error, .. }) = ev else {
        unreachable!()
    };
    assert!(
        error.contains("cannot reach the API server at http://127.0.0.1:"),
        "{error}"
    );

    // While it was away, history was lost, a pod came and one was deleted: the watch resumes,
    // gets 410, relists; the list it sends is exactly the server's (the deleted pod gone).
    server.compact();
    server.put("pods", new_pod("web-5d8f7c9b6f-while", true));
    server.delete("pods", "shop", POD_OK);
    server.restart().await;
    let ev = event_where(&mut rx, "Connected again", |e| {
        matches!(e, BackendEvent::Status(_, SourceStatus::Connected(_)))
    })
    .await;
    let BackendEvent::Status(_, SourceStatus::Connected(text)) = ev else {
        unreachable!()
    };
    assert!(text.contains("namespace shop"), "{text}");
    let rows = snapshot_where(&mut rx, ResourceKind::Pod, |r| {
        names(r).contains(&"web-5d8f7c9b6f-while".to_string())
    })
    .await;
    assert_eq!(names(&rows), [POD_CRASH, "web-5d8f7c9b6f-while"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_contexts_two_servers_switch_and_show_both() {
    let a = KubeServer::start().await;
    let bsrv = KubeServer::start().await;
    a.put("pods", new_pod("pod-on-a", true));
    let mut pb = new_pod("pod-on-b", true);
    pb["metadata"]["namespace"] = json!("team-b");
    bsrv.put("pods", pb);
    let yaml = kubeconfig_yaml(&[
        ("ctx-a", &a.url(), "shop"),
        ("ctx-b", &bsrv.url(), "team-b"),
    ]);
    let (_dir, path) = write_kubeconfig(&yaml);
    let kc = Kubeconfig::read_from(&path).unwrap();

    // Absent config: the current context only.
    let list = KubeBackend::from_kubeconfig(Ok(kc.clone()), &[]);
    assert_eq!(list.len(), 1);
    let first = list.into_iter().next().unwrap();
    assert_eq!(first.id().as_str(), "kube:ctx-a");
    let (tx, mut rx) = watched(256);
    let _w = first.watch(ResourceKind::Pod, tx.clone());
    let rows = snapshot_where(&mut rx, ResourceKind::Pod, |r| !r.is_empty()).await;
    assert_eq!(names(&rows), ["pod-on-a"]);
    let _c = first.watch(ResourceKind::Context, tx.clone());
    let ctx = snapshot_where(&mut rx, ResourceKind::Context, |r| r.len() == 2).await;
    let current: Vec<(&str, &str)> = ctx
        .iter()
        .map(|r| (r.name.as_str(), r.cells[4].as_str()))
        .collect();
    assert!(current.contains(&("ctx-a", "*")), "{current:?}");
    assert!(current.contains(&("ctx-b", "")), "{current:?}");
    let b_ctx = ctx.iter().find(|r| r.name == "ctx-b").unwrap();
    assert_eq!(
        (b_ctx.cells[1].as_str(), b_ctx.cells[3].as_str()),
        ("cluster-ctx-b", "team-b")
    );

    // Enter on ctx-b: a backend for ctx-b, talking to server B.
    let switched = first.switch(&b_ctx.key).expect("a new source");
    assert_eq!(switched.id().as_str(), "kube:ctx-b");
    drop(_w);
    let (tx2, mut rx2) = watched(256);
    let _w2 = switched.watch(ResourceKind::Pod, tx2);
    let rows = snapshot_where(&mut rx2, ResourceKind::Pod, |r| !r.is_empty()).await;
    assert_eq!(names(&rows), ["pod-on-b"]);
    assert!(
        bsrv.requests()
            .iter()
            .any(|r| r.path == "/api/v1/namespaces/team-b/pods")
    );

    // Namespace switch: the "all" row scopes the source to every namespace.
    let all = key(switched.as_ref(), ResourceKind::Namespace, "");
    let everywhere = switched.switch(&all).expect("all namespaces");
    assert_eq!(everywhere.id().as_str(), "kube:ctx-b");
    let (tx3, mut rx3) = watched(256);
    let _w3 = everywhere.watch(ResourceKind::Pod, tx3);
    snapshot_where(&mut rx3, ResourceKind::Pod, |r| !r.is_empty()).await;
    assert!(bsrv.requests().iter().any(|r| r.path == "/api/v1/pods"));

    // Both contexts at once (config `kube: [{context: ctx-a}, {context: ctx-b, namespace: team-b}]`).
    let both = KubeBackend::from_kubeconfig(
        Ok(kc),
        &[
            ("ctx-a".into(), NsScope::ContextDefault),
            ("ctx-b".into(), NsScope::One("team-b".into())),
        ],
    );
    let (tx4, mut rx4) = watched(256);
    let handles: Vec<_> = both
        .iter()
        .map(|b| b.watch(ResourceKind::Pod, tx4.clone()))
        .collect();
    let mut seen = std::collections::BTreeMap::new();
    while seen.len() < 2 {
        let ev = event_where(&mut rx4, "pods of both", |e| {
            matches!(e, BackendEvent::Snapshot { .. })
        })
        .await;
        if let BackendEvent::Snapshot {
            source, resources, ..
        } = ev
        {
            seen.insert(source.to_string(), names(&resources));
        }
    }
    assert_eq!(seen["kube:ctx-a"], ["pod-on-a"]);
    assert_eq!(seen["kube:ctx-b"], ["pod-on-b"]);
    drop(handles);
    // Only the first source lists the contexts (no duplicate rows).
    let (tx5, mut rx5) = watched(8);
    let _c2 = both[1].watch(ResourceKind::Context, tx5);
    let rows = snapshot_where(&mut rx5, ResourceKind::Context, |_| true).await;
    assert!(rows.is_empty());
}

/// `fleetdeck ls pods -n NS --context C -o json` and `fleetdeck logs pod/NAME`, through the
/// binary, with KUBECONFIG pointing at the test server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_ls_and_logs_use_kubeconfig_context_and_namespace() {
    let server = KubeServer::start().await;
    seed(&server);
    let other = KubeServer::start().await;
    let yaml = kubeconfig_yaml(&[
        ("other", &other.url(), "default"),
        ("test", &server.url(), "default"),
    ]);
    let (dir, path) = write_kubeconfig(&yaml);
    server.log(
        "shop",
        POD_OK,
        "app",
        "2026-11-23T10:00:00Z",
        "hello from the app",
    );
    let run = |args: Vec<&'static str>| {
        let path = path.clone();
        let home = dir.path().to_path_buf();
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_fleetdeck"))
                .args(args)
                .env("KUBECONFIG", &path)
                .env("HOME", &home)
                .env("XDG_CONFIG_HOME", home.join("cfg"))
                .env("XDG_STATE_HOME", home.join("state"))
                .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
                .output()
                .expect("run fleetdeck")
        })
    };
    let out = run(vec![
        "ls",
        "pods",
        "-n",
        "shop",
        "--context",
        "test",
        "-o",
        "json",
    ])
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    let rows = v.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["source"], "kube:test");
    assert_eq!(rows[0]["namespace"], "shop");
    assert!(rows.iter().any(|r| r["status"] == "CrashLoopBackOff"));
    assert!(other.requests().iter().all(|r| !r.path.contains("pods")));

    let out = run(vec![
        "ls",
        "deploy",
        "-n",
        "shop",
        "--context",
        "test",
        "-o",
        "json",
    ])
    .await
    .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v[0]["ready"], "2/3");

    let out = run(vec![
        "logs",
        &*Box::leak(format!("pod/{POD_OK}").into_boxed_str()),
        "-n",
        "shop",
        "--context",
        "test",
    ])
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("app | hello from the app"), "{text}");
}

/// The real binary in tmux, KUBECONFIG pointing at two test servers: views, drill-down from a
/// deployment to its pods and containers, and switching the context with Enter on `:ctx`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_drills_and_switches_context_end_to_end() {
    use support::tmux::{Tmux, fleetdeck_bin, shell_quote, tmux_available};
    if !support::require("tmux", tmux_available()) {
        return;
    }
    let prod = KubeServer::start().await;
    seed(&prod);
    let stage = KubeServer::start().await;
    let mut p = new_pod("stage-pod", true);
    p["metadata"]["namespace"] = json!("default");
    stage.put("pods", p);
    let yaml = kubeconfig_yaml(&[
        ("prod", &prod.url(), "shop"),
        ("stage", &stage.url(), "default"),
    ]);
    let (dir, path) = write_kubeconfig(&yaml);
    let home = dir.path().display().to_string();
    let kubeconfig = path.display().to_string();
    let prod_url = prod.url();
    tokio::task::spawn_blocking(move || {
        let t = Tmux::start(
            &shell_quote(fleetdeck_bin()),
            200,
            40,
            &[
                ("KUBECONFIG", &kubeconfig),
                ("HOME", &home),
                ("DOCKER_HOST", "unix:///nonexistent/docker.sock"),
            ],
        );
        let long = Duration::from_secs(15);
        // The header shows the source's status before any of its views is open (probe).
        let s = t.wait_for("kube:prod", long);
        let s = if s.contains("v1.33.4") {
            s
        } else {
            t.wait_for("v1.33.4", long)
        };
        assert!(s.contains(&format!("{prod_url} · namespace shop")), "{s}");
        let command = |cmd: &str| {
            t.keys(&[":"]);
            t.type_text(cmd);
            t.keys(&["Enter"]);
        };
        command("deploy");
        let s = t.wait_for("registry.example.com/shop/web", long);
        assert!(s.contains("2/3"), "{s}");
        t.keys(&["Enter"]);
        let s = t.wait_for(POD_CRASH, long);
        assert!(s.contains("CrashLoopBackOff") && s.contains(POD_OK), "{s}");
        // The crash-looping pod sorts first; its containers.
        t.keys(&["Enter"]);
        t.wait_for("Waiting:CrashLoopBackOff", long);

        command("ctx");
        t.wait_for("cluster-stage", long);
        t.keys(&["Down", "Enter"]);
        t.wait_for("kube:stage", long);
        t.wait_gone("kube:prod", long);
        command("pods");
        let s = t.wait_for("stage-pod", long);
        assert!(!s.contains(POD_OK), "{s}");
    })
    .await
    .unwrap();
    assert!(
        stage
            .requests()
            .iter()
            .any(|r| r.path == "/api/v1/namespaces/default/pods")
    );
}

/// KUBECONFIG with several files merges them like kubectl: contexts of all, the first file's
/// current-context wins, missing files are skipped; no kubeconfig at all = no kube source.
#[test]
fn kubeconfig_files_merge_like_kubectl() {
    use fleetdeck::backend::registry::{kube_sources, read_kubeconfig_from};
    use fleetdeck::cli::KubeArgs;
    use fleetdeck::config::Config;
    let (d1, p1) = write_kubeconfig(&kubeconfig_yaml(&[("one", "http://127.0.0.1:1", "a")]));
    let (d2, p2) = write_kubeconfig(&kubeconfig_yaml(&[
        ("two", "http://127.0.0.1:2", "b"),
        ("one", "http://127.0.0.1:9", "z"),
    ]));
    let missing = d1.path().join("nope");
    let env = std::env::join_paths([&p1, &missing, &p2]).unwrap();
    let kc = read_kubeconfig_from(Some(env), None).unwrap().unwrap();
    let names: Vec<&str> = kc.contexts.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["one", "two"]);
    assert_eq!(kc.current_context.as_deref(), Some("one"));
    let one = kc.contexts[0].context.as_ref().unwrap();
    assert_eq!(one.namespace.as_deref(), Some("a"), "the first file wins");

    // No config entry: the current context only; `kube: [...]` shows several at once.
    let cfg = Config::default();
    let list = kube_sources(&cfg, &KubeArgs::default(), Ok(Some(kc.clone())));
    let ids: Vec<&str> = list.iter().map(|b| b.id().as_str()).collect();
    assert_eq!(ids, ["kube:one"]);
    assert_eq!(list[0].namespace(), Some("a"));
    let cfg = Config::from_yaml(
        "kube:\n  - context: two\n  - context: one\n    namespace: \"*\"\n",
        std::path::Path::new("c.yaml"),
    )
    .unwrap();
    let list = kube_sources(&cfg, &KubeArgs::default(), Ok(Some(kc.clone())));
    let got: Vec<(&str, Option<&str>)> = list
        .iter()
        .map(|b| (b.id().as_str(), b.namespace()))
        .collect();
    assert_eq!(got, [("kube:two", Some("b")), ("kube:one", None)]);
    // --context / -n override.
    let args = KubeArgs {
        namespace: Some("web".into()),
        all_namespaces: false,
        context: Some("two".into()),
    };
    let list = kube_sources(&cfg, &args, Ok(Some(kc)));
    let got: Vec<(&str, Option<&str>)> = list
        .iter()
        .map(|b| (b.id().as_str(), b.namespace()))
        .collect();
    assert_eq!(got, [("kube:two", Some("web"))]);

    // Nothing there: silently no kube source.
    assert!(
        read_kubeconfig_from(None, Some(d2.path().to_path_buf()))
            .unwrap()
            .is_none()
    );
    assert!(kube_sources(&Config::default(), &KubeArgs::default(), Ok(None)).is_empty());
    // A broken file is an error the console shows as the source's status.
    std::fs::write(&p2, "clusters: [\n").unwrap();
    let env = std::env::join_paths([&p2]).unwrap();
    let err = read_kubeconfig_from(Some(env), None).unwrap_err();
    assert!(err.starts_with(&p2.display().to_string()), "{err}");
    let list = kube_sources(&Config::default(), &KubeArgs::default(), Err(err));
    assert_eq!(list.len(), 1);
}

/// `fleetdeck triage` through the binary against the test API server: the CrashLoopBackOff pod
/// is critical in the kubelet's words, the deployment below desired a warning, and an
/// unreachable Docker source is a problem of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_triage_lists_crashlooping_pods_and_short_deployments() {
    let server = KubeServer::start().await;
    seed(&server);
    let (dir, path) = write_kubeconfig(&kubeconfig_yaml(&[("test", &server.url(), "shop")]));
    let home = dir.path().to_path_buf();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_fleetdeck"))
            .args(["triage", "-o", "json", "--context", "test", "-n", "shop"])
            .env("KUBECONFIG", &path)
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", home.join("cfg"))
            .env("XDG_STATE_HOME", home.join("state"))
            .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
            .output()
            .expect("run fleetdeck")
    })
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(1), "problems exist");
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    let problems = v.as_array().unwrap();
    let pod = problems
        .iter()
        .find(|p| p["kind"] == "pods" && p["problem"] == "CrashLoopBackOff")
        .unwrap_or_else(|| panic!("a CrashLoopBackOff pod in {v:#}"));
    assert_eq!(pod["severity"], "critical");
    assert_eq!(pod["source"], "kube:test");
    let deploy = problems
        .iter()
        .find(|p| p["kind"] == "deployments")
        .unwrap_or_else(|| panic!("the short deployment in {v:#}"));
    assert_eq!(deploy["severity"], "warning");
    assert!(
        deploy["problem"]
            .as_str()
            .unwrap()
            .starts_with("2/3 running"),
        "{deploy}"
    );
    let docker = problems
        .iter()
        .find(|p| p["source"] == "docker:local")
        .unwrap_or_else(|| panic!("the unreachable docker source in {v:#}"));
    assert_eq!(docker["severity"], "critical");
    assert!(
        docker["problem"]
            .as_str()
            .unwrap()
            .starts_with("cannot list"),
        "{docker}"
    );
    // Critical problems come first.
    let first_warning = problems.iter().position(|p| p["severity"] == "warning");
    let last_critical = problems.iter().rposition(|p| p["severity"] == "critical");
    assert!(last_critical < first_warning, "{v:#}");
}
