//! Swarm triage and timeline against a real single-node swarm (issue #13): a service whose
//! tasks keep failing names its task error and its tasks' failures reach the timeline; an
//! update that rolls back (its health check fails inside the monitor window) is a problem; a
//! drained node is one (and restored afterwards).

use crate::support;

use std::time::Duration;

use fleetdeck::backend::docker::DockerBackend;
use fleetdeck::backend::{Backend, BackendEvent};
use fleetdeck::model::{Resource, ResourceKind, TimelineEntry};
use fleetdeck::triage::{Problem, Severity, TriageConfig, problem_of};
use support::swarm::{Swarm, TestService};
use tokio::sync::mpsc;

const T: Duration = Duration::from_secs(90);

/// Snapshots of `kind` until a row named `name` shows a problem that `pred` accepts.
async fn problem_until(
    b: &DockerBackend,
    kind: ResourceKind,
    name: &str,
    pred: impl Fn(&Problem) -> bool,
) -> Problem {
    let (tx, mut rx) = mpsc::channel(64);
    let _w = b.watch(kind, tx);
    let mut last: Vec<Resource> = Vec::new();
    let r = tokio::time::timeout(T, async {
        while let Some(ev) = rx.recv().await {
            if let BackendEvent::Snapshot { resources, .. } = ev {
                let now = jiff::Timestamp::now();
                let found = resources
                    .iter()
                    .filter(|r| r.name == name)
                    .filter_map(|r| problem_of(r, &TriageConfig::default(), now))
                    .find(|p| pred(p));
                if found.is_some() {
                    return found;
                }
                last = resources;
            }
        }
        None
    })
    .await;
    match r {
        Ok(Some(p)) => p,
        _ => panic!(
            "no such problem for {name}; last rows: {:#?}",
            last.iter()
                .filter(|r| r.name == name)
                .map(|r| (&r.cells, &r.facts))
                .collect::<Vec<_>>()
        ),
    }
}

/// Timeline entries (live feed) until `done` holds.
async fn entries_until(
    rx: &mut mpsc::Receiver<BackendEvent>,
    done: impl Fn(&[TimelineEntry]) -> bool,
) -> Vec<TimelineEntry> {
    let mut got = Vec::new();
    let r = tokio::time::timeout(T, async {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_service_names_its_task_error_and_its_tasks_fail_in_the_timeline() {
    let Some(_swarm) = Swarm::shared() else {
        return;
    };
    let t0 = jiff::Timestamp::now();
    let svc = TestService::create(
        "fails",
        &["--restart-delay", "1s"],
        &["sh", "-c", "echo boom; exit 3"],
    );
    let b = DockerBackend::local();
    let (tx, mut rx) = mpsc::channel(256);
    let _feed = b.timeline(t0, None, tx).expect("docker has a timeline");

    let p = problem_until(&b, ResourceKind::Service, &svc.name, |p| {
        p.problem.contains("task error: task: non-zero exit (3)")
    })
    .await;
    assert_eq!(p.severity, Severity::Critical, "{p:?}");
    assert!(p.problem.starts_with("0/1 running"), "{p:?}");

    let prefix = format!("{}.", svc.name);
    let failed = |e: &TimelineEntry| {
        e.name.starts_with(&prefix)
            && e.what == "task failed"
            && e.detail == "task: non-zero exit (3)"
    };
    let got = entries_until(&mut rx, |got| got.iter().any(failed)).await;
    let e = got.iter().find(|e| failed(e)).unwrap();
    assert_eq!(e.kind, Some(ResourceKind::Task), "Enter opens the task");
    assert!(e.id.is_some());
    assert!(
        got.iter()
            .any(|e| e.name.starts_with(&prefix) && e.what == "task created"),
        "{got:#?}"
    );

    // The CLI's one pass replays the same from the task list.
    let (tx, mut rx) = mpsc::channel(256);
    let once = b.timeline(t0, Some(jiff::Timestamp::now()), tx).unwrap();
    let mut replayed = Vec::new();
    let ended = tokio::time::timeout(T, async {
        while let Some(ev) = rx.recv().await {
            if let BackendEvent::Timeline(e) = ev {
                replayed.extend(e);
            }
        }
    })
    .await;
    drop(once);
    assert!(ended.is_ok(), "the one pass ends by itself");
    assert!(replayed.iter().any(failed), "{replayed:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_whose_health_check_fails_rolls_back_and_says_why() {
    let Some(_swarm) = Swarm::shared() else {
        return;
    };
    let t0 = jiff::Timestamp::now();
    // `sleep` as PID 1 ignores SIGTERM: the unhealthy task is killed (exit 137) and fails.
    // (One that exits 0 on TERM ends `complete`, with no error to name.)
    let svc = TestService::create("rollback", &[], &["sleep", "1000"]);
    let b = DockerBackend::local();
    let (tx, mut rx) = mpsc::channel(256);
    let _feed = b.timeline(t0, None, tx).unwrap();
    assert!(
        support::wait_until(T, || svc.running_tasks() == 1),
        "service runs"
    );
    support::run_ok(
        "docker",
        &[
            "service",
            "update",
            "--detach",
            "--update-failure-action",
            "rollback",
            "--update-monitor",
            "3s",
            "--health-cmd",
            "false",
            "--health-interval",
            "1s",
            "--health-retries",
            "1",
            &svc.name,
        ],
    );
    let p = problem_until(&b, ResourceKind::Service, &svc.name, |p| {
        p.problem.starts_with("update rolled back: ")
    })
    .await;
    assert_eq!(p.severity, Severity::Warning);
    assert!(p.problem.contains("unhealthy container"), "{p:?}");

    let name = svc.name.as_str();
    let is = |e: &TimelineEntry, what: &str| e.name == name && e.what == what;
    let got = entries_until(&mut rx, |got| got.iter().any(|e| is(e, "rolled back"))).await;
    assert!(got.iter().any(|e| is(e, "update started")), "{got:#?}");
    assert!(got.iter().any(|e| is(e, "rollback started")), "{got:#?}");
    let e = got.iter().find(|e| is(e, "rolled back")).unwrap();
    assert_eq!(e.kind, Some(ResourceKind::Service));
}

/// Puts the node back to active however the test ends.
struct Restore(String);

impl Drop for Restore {
    fn drop(&mut self) {
        let _ = support::run(
            "docker",
            &["node", "update", "--availability", "active", &self.0],
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drained_node_is_a_problem_and_an_entry() {
    let Some(_swarm) = Swarm::exclusive() else {
        return;
    };
    let t0 = jiff::Timestamp::now();
    let node = support::run_ok("docker", &["node", "ls", "-q", "--filter", "role=manager"])
        .lines()
        .next()
        .expect("one node")
        .trim()
        .to_string();
    let b = DockerBackend::local();
    let (tx, mut rx) = mpsc::channel(256);
    let _feed = b.timeline(t0, None, tx).unwrap();
    let _restore = Restore(node.clone());
    support::run_ok(
        "docker",
        &["node", "update", "--availability", "drain", &node],
    );
    let hostname = support::run_ok(
        "docker",
        &[
            "node",
            "inspect",
            "--format",
            "{{.Description.Hostname}}",
            &node,
        ],
    )
    .trim()
    .to_string();
    let p = problem_until(&b, ResourceKind::Node, &hostname, |p| {
        p.problem.contains("drain")
    })
    .await;
    assert_eq!(p.severity, Severity::Warning);
    let got = entries_until(&mut rx, |got| {
        got.iter()
            .any(|e| e.what == "node drained" && e.id.as_deref() == Some(&node))
    })
    .await;
    let e = got.iter().find(|e| e.what == "node drained").unwrap();
    assert_eq!(
        (e.kind, e.detail.as_str()),
        (Some(ResourceKind::Node), "active → drain")
    );
}
