//! The Swarm views and actions against a real single-node swarm (no mocks): the engine on this
//! machine joins a swarm for these tests (`docker swarm init` only if it is not in one, left
//! again afterwards only if the tests did the init). Stacks come from
//! tests/fixtures/swarm/stack.yml with unique names and are removed afterwards.

use crate::support;

use std::time::Duration;

use fleetdeck::backend::docker::DockerBackend;
use fleetdeck::backend::{Backend, BackendEvent};
use fleetdeck::model::{Health, LogOpts, Resource, ResourceAction, ResourceKey, ResourceKind};
use support::swarm::{Swarm, TestService, TestStack};
use tokio::sync::mpsc;

type Rx = mpsc::Receiver<BackendEvent>;

const T: Duration = Duration::from_secs(60);

fn backend() -> DockerBackend {
    DockerBackend::local()
}

fn col(kind: ResourceKind, name: &str) -> usize {
    kind.spec()
        .columns
        .iter()
        .position(|c| c.name == name)
        .unwrap_or_else(|| panic!("{kind:?} has no column {name}"))
}

fn cell<'a>(r: &'a Resource, name: &str) -> &'a str {
    &r.cells[col(r.key.kind, name)]
}

/// Receive snapshots of `kind` until `pred` holds for the whole set; returns that set.
async fn wait_for(
    rx: &mut Rx,
    kind: ResourceKind,
    what: &str,
    pred: impl Fn(&[Resource]) -> bool,
) -> Vec<Resource> {
    let deadline = tokio::time::Instant::now() + T;
    let mut last = Vec::new();
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(BackendEvent::Snapshot {
                kind: k, resources, ..
            })) if k == kind => {
                if pred(&resources) {
                    return resources;
                }
                last = resources;
            }
            Ok(Some(BackendEvent::Unavailable { reason, .. })) => {
                panic!("{kind:?} unavailable: {reason}")
            }
            Ok(Some(_)) => {}
            _ => panic!(
                "timed out waiting for {what}; last {kind:?} snapshot: {:#?}",
                last.iter().map(|r| (&r.name, &r.cells)).collect::<Vec<_>>()
            ),
        }
    }
}

/// Wait until the service `name` shows `replicas` (`"2/2"`) in the watched snapshots; its row.
async fn service_at(rx: &mut Rx, name: &str, replicas: &str) -> Resource {
    let rows = wait_for(rx, ResourceKind::Service, replicas, |rows| {
        rows.iter()
            .any(|r| r.name == name && cell(r, "REPLICAS") == replicas)
    })
    .await;
    rows.into_iter().find(|r| r.name == name).unwrap()
}

fn watch(b: &DockerBackend, kind: ResourceKind) -> (fleetdeck::backend::TaskHandle, Rx) {
    let (tx, rx) = mpsc::channel(256);
    (b.watch(kind, tx), rx)
}

fn key(b: &DockerBackend, r: &Resource) -> ResourceKey {
    assert_eq!(&r.key.source, b.id());
    r.key.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stack_lists_its_services_and_their_tasks() {
    let Some(_swarm) = Swarm::shared() else {
        return;
    };
    let stack = TestStack::deploy("st");
    let b = backend();

    let (_w, mut rx) = watch(&b, ResourceKind::Stack);
    let stacks = wait_for(
        &mut rx,
        ResourceKind::Stack,
        "the stack with 3/3 tasks",
        |rows| {
            rows.iter()
                .any(|r| r.name == stack.name && cell(r, "TASKS") == "3/3")
        },
    )
    .await;
    let row = stacks.iter().find(|r| r.name == stack.name).unwrap();
    assert_eq!(cell(row, "SERVICES"), "2");
    assert_eq!(row.health, Health::Ok);

    let (_w, mut rx) = watch(&b, ResourceKind::Service);
    let services = wait_for(
        &mut rx,
        ResourceKind::Service,
        "both services converged",
        |rows| {
            let mine: Vec<_> = rows
                .iter()
                .filter(|r| r.parent.as_deref() == Some(&stack.name))
                .collect();
            mine.len() == 2 && mine.iter().all(|r| r.health == Health::Ok)
        },
    )
    .await;
    let web = services
        .iter()
        .find(|r| r.name == stack.service("web"))
        .expect("web service");
    let worker = services
        .iter()
        .find(|r| r.name == stack.service("worker"))
        .expect("worker");
    assert_eq!(cell(web, "REPLICAS"), "2/2");
    assert_eq!(cell(worker, "REPLICAS"), "1/1");
    assert_eq!(cell(web, "MODE"), "replicated");
    assert!(
        cell(web, "IMAGE").starts_with("fleetdeck-test/busybox:local"),
        "{:?}",
        web.cells
    );

    let (_w, mut rx) = watch(&b, ResourceKind::Task);
    let hostname = support::run_ok("docker", &["info", "--format", "{{.Name}}"]);
    let tasks = wait_for(
        &mut rx,
        ResourceKind::Task,
        "web's two running tasks",
        |rows| {
            rows.iter()
                .filter(|r| {
                    r.parent.as_deref() == Some(web.name.as_str()) && cell(r, "STATE") == "running"
                })
                .count()
                == 2
        },
    )
    .await;
    let web_tasks: Vec<_> = tasks
        .iter()
        .filter(|r| r.parent.as_deref() == Some(web.name.as_str()))
        .collect();
    let mut names: Vec<_> = web_tasks.iter().map(|r| r.name.clone()).collect();
    names.sort();
    assert_eq!(
        names,
        vec![format!("{}.1", web.name), format!("{}.2", web.name)]
    );
    for t in web_tasks {
        assert_eq!(cell(t, "NODE"), hostname.trim(), "task on this node");
        assert_eq!(cell(t, "DESIRED"), "running");
        assert_eq!(cell(t, "CONTAINER").len(), 12, "short container id");
    }

    // `ls stacks -o json` goes through the same listing.
    let out = support::run_ok(
        env!("CARGO_BIN_EXE_fleetdeck"),
        &["ls", "stacks", "-o", "json"],
    );
    let json: serde_json::Value = serde_json::from_str(&out).expect("json");
    let mine = json
        .as_array()
        .and_then(|a| a.iter().find(|s| s["name"] == stack.name.as_str()))
        .unwrap_or_else(|| panic!("stack missing in {out}"));
    assert_eq!(mine["services"], "2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scale_from_one_to_three_through_the_action_path() {
    let Some(_swarm) = Swarm::shared() else {
        return;
    };
    let svc = TestService::create("scale", &["--replicas", "1"], support::LONG_RUNNING);
    let b = backend();
    let (_w, mut rx) = watch(&b, ResourceKind::Service);
    let row = &service_at(&mut rx, &svc.name, "1/1").await;
    let msg = b
        .act(&key(&b, row), &ResourceAction::Scale(3))
        .await
        .expect("scale");
    assert!(msg.contains("from 1 to 3"), "{msg}");
    service_at(&mut rx, &svc.name, "3/3").await;
    assert_eq!(svc.running_tasks(), 3, "the engine agrees");

    // A global service cannot be scaled: a clear refusal, not an engine error.
    let global = TestService::create("global", &["--mode", "global"], support::LONG_RUNNING);
    let rows = wait_for(&mut rx, ResourceKind::Service, "global service", |rows| {
        rows.iter().any(|r| r.name == global.name)
    })
    .await;
    let g = rows.iter().find(|r| r.name == global.name).unwrap();
    let err = b
        .act(&key(&b, g), &ResourceAction::Scale(2))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("global"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_then_rollback_restores_the_previous_spec() {
    let Some(_swarm) = Swarm::shared() else {
        return;
    };
    let svc = TestService::create(
        "rollback",
        &[
            "--replicas",
            "1",
            "--env",
            "STAGE=one",
            "--update-delay",
            "0s",
        ],
        support::LONG_RUNNING,
    );
    let b = backend();
    let (_w, mut rx) = watch(&b, ResourceKind::Service);
    service_at(&mut rx, &svc.name, "1/1").await;
    support::run_ok(
        "docker",
        &[
            "service",
            "update",
            "--detach",
            "--env-add",
            "STAGE=two",
            &svc.name,
        ],
    );
    let env = || svc.inspect("{{json .Spec.TaskTemplate.ContainerSpec.Env}}");
    assert!(env().contains("STAGE=two"), "{}", env());
    let rows = wait_for(&mut rx, ResourceKind::Service, "update finished", |rows| {
        rows.iter()
            .any(|r| r.name == svc.name && cell(r, "UPDATE") == "updated" && r.health == Health::Ok)
    })
    .await;
    let row = rows.iter().find(|r| r.name == svc.name).unwrap();

    let msg = b
        .act(&key(&b, row), &ResourceAction::Rollback)
        .await
        .expect("rollback");
    assert!(msg.contains("rolling back"), "{msg}");
    assert!(
        env().contains("STAGE=one") && !env().contains("STAGE=two"),
        "previous spec back: {}",
        env()
    );
    wait_for(
        &mut rx,
        ResourceKind::Service,
        "rollback completed",
        |rows| {
            rows.iter()
                .any(|r| r.name == svc.name && cell(r, "UPDATE") == "rolled back")
        },
    )
    .await;

    // Redeploy (update --force) bumps ForceUpdate and keeps the spec.
    let before = svc.inspect("{{.Spec.TaskTemplate.ForceUpdate}}");
    b.act(&key(&b, row), &ResourceAction::Redeploy)
        .await
        .expect("redeploy");
    let after = svc.inspect("{{.Spec.TaskTemplate.ForceUpdate}}");
    assert_ne!(before, after, "ForceUpdate changed");
    assert!(env().contains("STAGE=one"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_logs_hold_the_known_line_of_every_task() {
    let Some(_swarm) = Swarm::shared() else {
        return;
    };
    let svc = TestService::create(
        "logs",
        &["--replicas", "2"],
        &[
            "sh",
            "-c",
            "echo fleetdeck-known-line $(hostname); trap 'exit 0' TERM; while :; do sleep 1; done",
        ],
    );
    let b = backend();
    let (_w, mut rx) = watch(&b, ResourceKind::Service);
    let row = &service_at(&mut rx, &svc.name, "2/2").await;
    // The line is printed right after start: wait until both tasks wrote it.
    assert!(support::wait_until(T, || {
        support::run("docker", &["service", "logs", "--raw", &svc.name])
            .map(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .matches("fleetdeck-known-line")
                    .count()
                    >= 2
            })
            .unwrap_or(false)
    }));

    let (tx, mut lrx) = mpsc::channel(256);
    let opts = LogOpts {
        follow: false,
        tail: None,
        since_secs: None,
        previous: false,
    };
    let _h = b.logs(&key(&b, row), opts, 7, tx);
    let mut lines = Vec::new();
    loop {
        match tokio::time::timeout(T, lrx.recv()).await.expect("log end") {
            Some(BackendEvent::LogLines { lines: l, .. }) => lines.extend(l),
            Some(BackendEvent::LogEnded { error, .. }) => {
                assert_eq!(error, None);
                break;
            }
            Some(_) => {}
            None => panic!("channel closed"),
        }
    }
    let known: Vec<_> = lines
        .iter()
        .filter(|l| l.text.text.contains("fleetdeck-known-line"))
        .collect();
    assert_eq!(known.len(), 2, "one known line per task: {lines:?}");
    let mut prefixes: Vec<String> = known
        .iter()
        .map(|l| l.source.as_deref().unwrap_or_default().to_string())
        .collect();
    prefixes.sort();
    assert!(
        prefixes[0].starts_with(&format!("{}.1@", svc.name)),
        "{prefixes:?}"
    );
    assert!(
        prefixes[1].starts_with(&format!("{}.2@", svc.name)),
        "{prefixes:?}"
    );
    assert!(
        known.iter().all(|l| l.ts.is_some()),
        "timestamps for interleaving"
    );
}

/// A followed service view picks up a task started after it opened (here by scaling up; a
/// replacement after a crash or an update is the same to the engine), behind a `started`
/// marker carrying the new task's prefix.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn followed_service_logs_pick_up_a_new_task() {
    let Some(_swarm) = Swarm::shared() else {
        return;
    };
    let svc = TestService::create(
        "logsnew",
        &["--replicas", "1"],
        &[
            "sh",
            "-c",
            "echo fleetdeck-hello-$(hostname); trap 'exit 0' TERM; while :; do sleep 1; done",
        ],
    );
    let b = backend();
    let (_w, mut rx) = watch(&b, ResourceKind::Service);
    let row = &service_at(&mut rx, &svc.name, "1/1").await;
    let (tx, mut lrx) = mpsc::channel(256);
    let opts = LogOpts {
        follow: true,
        tail: None,
        since_secs: None,
        previous: false,
    };
    let _h = b.logs(&key(&b, row), opts, 8, tx);
    let mut lines: Vec<fleetdeck::model::LogLine> = Vec::new();
    let mut next = async |lines: &mut Vec<fleetdeck::model::LogLine>| match tokio::time::timeout(
        T,
        lrx.recv(),
    )
    .await
    .expect("log lines")
    {
        Some(BackendEvent::LogLines { lines: l, .. }) => lines.extend(l),
        Some(BackendEvent::LogEnded { error, .. }) => panic!("ended: {error:?}"),
        Some(_) => {}
        None => panic!("channel closed"),
    };
    while !lines
        .iter()
        .any(|l| l.text.text.contains("fleetdeck-hello-"))
    {
        next(&mut lines).await;
    }
    support::run(
        "docker",
        &["service", "scale", "--detach", &format!("{}=2", svc.name)],
    )
    .expect("scale");
    let slot2 = format!("{}.2@", svc.name);
    let from_slot2 = |lines: &[fleetdeck::model::LogLine]| {
        lines
            .iter()
            .filter(|l| l.source.as_deref().unwrap_or_default().starts_with(&slot2))
            .map(|l| (l.marker, l.text.text.clone()))
            .collect::<Vec<_>>()
    };
    while !from_slot2(&lines)
        .iter()
        .any(|(_, t)| t.contains("fleetdeck-hello-"))
    {
        next(&mut lines).await;
    }
    let new = from_slot2(&lines);
    assert!(
        new[0].0 && new[0].1.starts_with("── started "),
        "the new task begins with its marker: {new:?}"
    );
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.text.text.contains("fleetdeck-hello-"))
            .count(),
        2,
        "no line twice: {lines:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_drain_then_activate_round_trip() {
    // Draining the only node stops every task: nothing else may run meanwhile.
    let Some(_swarm) = Swarm::exclusive() else {
        return;
    };
    let b = backend();
    let (_w, mut rx) = watch(&b, ResourceKind::Node);
    let rows = wait_for(&mut rx, ResourceKind::Node, "the node", |rows| {
        !rows.is_empty()
    })
    .await;
    let node = rows[0].clone();
    assert_eq!(cell(&node, "MANAGER"), "Leader");
    assert_eq!(cell(&node, "ROLE"), "manager");
    assert_eq!(cell(&node, "STATUS"), "ready");

    let msg = b
        .act(&key(&b, &node), &ResourceAction::Drain)
        .await
        .expect("drain");
    assert!(msg.contains("drain"), "{msg}");
    wait_for(&mut rx, ResourceKind::Node, "drained", |rows| {
        rows.iter()
            .any(|r| r.key == node.key && cell(r, "AVAILABILITY") == "drain")
    })
    .await;
    b.act(&key(&b, &node), &ResourceAction::Pause)
        .await
        .expect("pause");
    wait_for(&mut rx, ResourceKind::Node, "paused", |rows| {
        rows.iter()
            .any(|r| r.key == node.key && cell(r, "AVAILABILITY") == "pause")
    })
    .await;
    b.act(&key(&b, &node), &ResourceAction::Activate)
        .await
        .expect("activate");
    wait_for(&mut rx, ResourceKind::Node, "active again", |rows| {
        rows.iter().any(|r| {
            r.key == node.key && cell(r, "AVAILABILITY") == "active" && r.health == Health::Ok
        })
    })
    .await;
    let avail = support::run_ok(
        "docker",
        &[
            "node",
            "inspect",
            "--format",
            "{{.Spec.Availability}}",
            "self",
        ],
    );
    assert_eq!(avail.trim(), "active");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_shows_specs_and_never_secret_data() {
    let Some(_swarm) = Swarm::shared() else {
        return;
    };
    let secret = support::unique_name("sec");
    let mut child = std::process::Command::new("docker")
        .args([
            "secret",
            "create",
            "--label",
            "fleetdeck.test=1",
            &secret,
            "-",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("docker secret create");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"hunter2-topsecret")
        .unwrap();
    assert!(child.wait().unwrap().success());
    struct Rm(String);
    impl Drop for Rm {
        fn drop(&mut self) {
            let _ = support::run("docker", &["secret", "rm", &self.0]);
        }
    }
    let _rm = Rm(secret.clone());
    let svc = TestService::create(
        "desc",
        &["--replicas", "1", "--secret", &secret],
        support::LONG_RUNNING,
    );

    let b = backend();
    let (_w, mut rx) = watch(&b, ResourceKind::Secret);
    let rows = wait_for(&mut rx, ResourceKind::Secret, "the secret", |rows| {
        rows.iter().any(|r| r.name == secret)
    })
    .await;
    let s = rows.iter().find(|r| r.name == secret).unwrap();
    let yaml = b.describe(&key(&b, s)).await.expect("describe secret");
    assert!(
        yaml.contains(&secret) && !yaml.contains("hunter2"),
        "{yaml}"
    );

    let (_w, mut rx) = watch(&b, ResourceKind::Service);
    let rows = wait_for(&mut rx, ResourceKind::Service, "service", |rows| {
        rows.iter().any(|r| r.name == svc.name)
    })
    .await;
    let row = rows.iter().find(|r| r.name == svc.name).unwrap();
    let yaml = b.describe(&key(&b, row)).await.expect("describe service");
    assert!(
        yaml.contains("TaskTemplate") && yaml.contains(&secret),
        "{yaml}"
    );
    assert!(!yaml.contains("hunter2"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shell_into_a_task_on_this_node() {
    use futures::StreamExt;
    use tokio::io::AsyncWriteExt;
    let Some(_swarm) = Swarm::shared() else {
        return;
    };
    let svc = TestService::create("shell", &["--replicas", "1"], support::LONG_RUNNING);
    let b = backend();
    let (_w, mut rx) = watch(&b, ResourceKind::Task);
    let rows = wait_for(&mut rx, ResourceKind::Task, "a running task", |rows| {
        rows.iter().any(|r| {
            r.parent.as_deref() == Some(svc.name.as_str()) && cell(r, "STATE") == "running"
        })
    })
    .await;
    let task = rows
        .iter()
        .find(|r| r.parent.as_deref() == Some(svc.name.as_str()) && cell(r, "STATE") == "running")
        .unwrap();
    let opts = fleetdeck::backend::ShellOpts {
        commands: vec!["/bin/bash".into(), "/bin/sh".into()],
        cols: 80,
        rows: 24,
    };
    let mut s = b
        .shell(&key(&b, task), &opts)
        .await
        .expect("shell into the task's container");
    s.input
        .write_all(b"echo task-$((40+2))\nexit\n")
        .await
        .unwrap();
    s.input.flush().await.unwrap();
    let mut seen = String::new();
    let _ = tokio::time::timeout(Duration::from_secs(15), async {
        while let Some(Ok(chunk)) = s.output.next().await {
            seen.push_str(&String::from_utf8_lossy(&chunk));
            if seen.contains("task-42") {
                break;
            }
        }
    })
    .await;
    assert!(seen.contains("task-42"), "{seen:?}");

    // A service is not a shell target: the error says what is.
    let (_w, mut rx) = watch(&b, ResourceKind::Service);
    let rows = wait_for(&mut rx, ResourceKind::Service, "service", |rows| {
        rows.iter().any(|r| r.name == svc.name)
    })
    .await;
    let row = rows.iter().find(|r| r.name == svc.name).unwrap();
    let err = b
        .shell(&key(&b, row), &opts)
        .await
        .err()
        .expect("no shell on a service")
        .to_string();
    assert!(err.contains("tasks"), "{err}");
}

#[test]
fn engine_503_means_not_a_manager() {
    let e = bollard::errors::Error::DockerResponseServerError {
        status_code: 503,
        message: "This node is not a swarm manager. Use \"docker swarm init\" or \"docker swarm join\" to connect this node to swarm and try again.".into(),
    };
    let why = fleetdeck::backend::docker::swarm::not_a_manager(&e).expect("503 is not-a-manager");
    assert!(why.contains("not a swarm manager"));
    let other = bollard::errors::Error::DockerResponseServerError {
        status_code: 500,
        message: "boom".into(),
    };
    assert!(fleetdeck::backend::docker::swarm::not_a_manager(&other).is_none());
}
