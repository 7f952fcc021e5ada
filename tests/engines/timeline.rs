//! The timeline's feeds against real components: Docker `/events` (live, then replayed with
//! `since`), Kubernetes events through the local API server double, the audit log file; plus
//! the ignored ingest bench (`timeline_ingest_bench`, figures in docs/PERFORMANCE.md).

use crate::support;

use std::time::{Duration, Instant};

use fleetdeck::audit::{AuditEntry, AuditLog};
use fleetdeck::backend::docker::DockerBackend;
use fleetdeck::backend::kube::KubeBackend;
use fleetdeck::backend::{Backend, BackendEvent};
use fleetdeck::model::{ResourceKind, Severity, SourceId, TimelineEntry};
use kube::config::Kubeconfig;
use serde_json::json;
use support::kube_server::{KubeServer, fixture_items, kubeconfig_yaml, write_kubeconfig};
use support::{TestContainer, docker_test_image, run_ok};
use tokio::sync::mpsc;

const WAIT: Duration = Duration::from_secs(10);

/// Gather entries until `done` says enough; panics with what came on timeout.
async fn entries_until(
    rx: &mut mpsc::Receiver<BackendEvent>,
    done: impl Fn(&[TimelineEntry]) -> bool,
) -> Vec<TimelineEntry> {
    let mut got = Vec::new();
    let r = tokio::time::timeout(WAIT, async {
        while let Some(ev) = rx.recv().await {
            if let BackendEvent::Timeline(e) = ev {
                got.extend(e);
                if done(&got) {
                    return;
                }
            }
        }
    })
    .await;
    assert!(r.is_ok(), "timed out; got {got:#?}");
    got
}

fn whats(entries: &[TimelineEntry], name: &str) -> Vec<String> {
    entries
        .iter()
        .filter(|e| e.name == name)
        .map(|e| e.what.clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn docker_start_kill_die_in_order_live_then_replayed() {
    let Some(_image) = docker_test_image() else {
        return;
    };
    let t0 = jiff::Timestamp::now();
    let backend = DockerBackend::local();
    let (tx, mut rx) = mpsc::channel(256);
    let _feed = backend
        .timeline(t0, None, tx)
        .expect("docker has a timeline");
    let c = TestContainer::spec("timeline").run();
    run_ok("docker", &["kill", &c.name]);
    let live = entries_until(&mut rx, |e| whats(e, &c.name).contains(&"die".into())).await;
    let seen = whats(&live, &c.name);
    let pos = |w: &str| seen.iter().position(|x| x == w);
    assert!(
        pos("start") < pos("kill") && pos("kill") < pos("die") && pos("start").is_some(),
        "{seen:?}"
    );
    let die = live
        .iter()
        .find(|e| e.name == c.name && e.what == "die")
        .unwrap();
    assert_eq!(die.kind, Some(ResourceKind::Container));
    assert_eq!(die.id.as_deref(), Some(c.id.as_str()));
    assert_eq!(
        (die.severity, die.detail.as_str()),
        (Severity::Error, "exit code 137")
    );
    let kill = live
        .iter()
        .find(|e| e.name == c.name && e.what == "kill")
        .unwrap();
    assert_eq!(kill.detail, "signal 9");

    // What a console started later (or the CLI) gets: the engine replays from `since`.
    let (tx, mut rx) = mpsc::channel(256);
    let _replay = backend
        .timeline(t0, Some(jiff::Timestamp::now()), tx)
        .unwrap();
    let mut replayed = Vec::new();
    while let Ok(Some(ev)) = tokio::time::timeout(WAIT, rx.recv()).await {
        if let BackendEvent::Timeline(e) = ev {
            replayed.extend(e);
        }
    }
    let again: Vec<&TimelineEntry> = replayed.iter().filter(|e| e.name == c.name).collect();
    let first: Vec<&TimelineEntry> = live.iter().filter(|e| e.name == c.name).collect();
    assert_eq!(
        again[..first.len()],
        first[..],
        "the same entries, in order"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubernetes_events_feed_the_timeline_old_and_new() {
    let server = KubeServer::start().await;
    for e in fixture_items("events.json") {
        server.put("events", e);
    }
    let (_dir, path) = write_kubeconfig(&kubeconfig_yaml(&[("test", &server.url(), "shop")]));
    let kc = Kubeconfig::read_from(&path).expect("kubeconfig");
    let b: KubeBackend = KubeBackend::from_kubeconfig(Ok(kc), &[]).remove(0);
    let since = "2026-01-01T00:00:00Z".parse().unwrap();
    let (tx, mut rx) = mpsc::channel(256);
    let _feed = b.timeline(since, None, tx).expect("kube has a timeline");
    let got = entries_until(&mut rx, |e| !e.is_empty()).await;
    let backoff = got
        .iter()
        .find(|e| e.what == "Warning BackOff")
        .unwrap_or_else(|| panic!("{got:#?}"));
    assert_eq!(backoff.kind, Some(ResourceKind::Pod));
    assert_eq!(backoff.id.as_deref(), Some("shop/web-5d8f7c9b6f-q9w8e"));
    assert_eq!(backoff.severity, Severity::Warning);
    // A new event arrives live.
    let now = jiff::Timestamp::now().to_string();
    server.put(
        "events",
        json!({"kind": "Event", "apiVersion": "v1",
            "metadata": {"name": "api.1", "namespace": "shop", "uid": "ev-api-1",
                         "creationTimestamp": now},
            "involvedObject": {"kind": "Deployment", "namespace": "shop", "name": "api"},
            "reason": "ScalingReplicaSet", "message": "Scaled up to 3", "type": "Normal",
            "firstTimestamp": now, "lastTimestamp": now, "count": 1}),
    );
    let got = entries_until(&mut rx, |e| e.iter().any(|e| e.name == "api")).await;
    let api = got.iter().find(|e| e.name == "api").unwrap();
    assert_eq!(api.kind, Some(ResourceKind::Deployment));
    assert_eq!(
        (api.what.as_str(), api.detail.as_str()),
        ("Normal ScalingReplicaSet", "Scaled up to 3")
    );
}

#[tokio::test]
async fn the_audit_log_says_who_did_what_from_any_process() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::new(dir.path().join("audit.jsonl"));
    let since = jiff::Timestamp::now() - jiff::SignedDuration::from_secs(1);
    let stop = AuditEntry::attempt("docker:local", "containers/web", "stop");
    log.append(&stop).unwrap();
    log.append(&stop.result(false, "no such container"))
        .unwrap();
    let (tx, mut rx) = mpsc::channel(16);
    let _feed = fleetdeck::timeline::audit::feed(log.path().to_path_buf(), since, None, tx);
    let got = entries_until(&mut rx, |e| e.len() >= 2).await;
    assert_eq!(got[0].source, SourceId::new("docker:local"));
    assert_eq!(got[0].kind, Some(ResourceKind::Container));
    assert_eq!(
        (got[0].name.as_str(), got[0].what.as_str()),
        ("web", "stop")
    );
    assert!(
        got[0].detail.starts_with("attempt by "),
        "{}",
        got[0].detail
    );
    assert_eq!(got[1].severity, Severity::Error);
    // Another process appends (an update's transition on two devices): followed.
    let mut step = AuditEntry::attempt("fleet:site", "devices/r1,devices/r2", "update to v2");
    step.phase = "transition".into();
    step.result = Some("installing → rebooting".into());
    log.append(&step).unwrap();
    let got = entries_until(&mut rx, |e| e.len() >= 2).await;
    let names: Vec<_> = got.iter().map(|e| (e.kind, e.name.as_str())).collect();
    assert_eq!(
        names,
        [
            (Some(ResourceKind::Device), "r1"),
            (Some(ResourceKind::Device), "r2")
        ]
    );
    assert!(
        got[0].detail.contains("installing → rebooting"),
        "{}",
        got[0].detail
    );
}

/// `cargo test --release --test engines timeline_ingest_bench -- --ignored --nocapture`:
/// entries into the console's ring through the reducer (`BackendEvent::Timeline` batches, as
/// the runtime hands them over), with the `:timeline` view open, and the memory it keeps.
#[test]
#[ignore]
fn timeline_ingest_bench() {
    use fleetdeck::app::{Msg, update};
    let mut st = support::console::state(false);
    support::console::command(&mut st, "timeline");
    let base = jiff::Timestamp::now();
    let n: u64 = 1_000_000;
    let batch = 64;
    let rss0 = rss_kib();
    let t = Instant::now();
    let mut i = 0u64;
    let mut rss_at_100k = 0;
    while i < n {
        if i == 100_032 {
            rss_at_100k = rss_kib();
        }
        let entries = (i..(i + batch).min(n))
            .map(|k| TimelineEntry {
                time: base + jiff::SignedDuration::from_micros(k as i64),
                source: SourceId::new("docker:local"),
                kind: Some(ResourceKind::Container),
                id: Some(format!("{k:064x}")),
                name: format!("web-{}", k % 500),
                what: "die".into(),
                detail: "exit code 137".into(),
                severity: Severity::Error,
            })
            .collect();
        update(&mut st, Msg::Backend(BackendEvent::Timeline(entries)));
        i += batch;
    }
    update(&mut st, Msg::Tick);
    let secs = t.elapsed().as_secs_f64();
    let rss1 = rss_kib();
    println!(
        "timeline ingest: {n} entries in {secs:.2} s = {:.0} entries/s; ring {} of {}; \
         RSS {rss0} KiB before, {rss_at_100k} KiB after 100k entries, {rss1} KiB after {n}",
        n as f64 / secs,
        st.timeline.len(),
        st.timeline.capacity(),
    );
    assert_eq!(st.timeline.len(), st.timeline.capacity());
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}
