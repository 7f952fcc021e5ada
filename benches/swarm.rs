//! Swarm views at the size issue #3 names: 50 services, 500 tasks, one node.
//! Measures the mapping of one listing (what every event costs) and a frame of each view.
//! `cargo bench --bench swarm`

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a failure stops at its line"
)]

use std::collections::HashMap;
use std::hint::black_box;

use bollard::models::{
    ContainerStatus, Node, NodeDescription, ObjectVersion, Service, ServiceSpec, ServiceSpecMode,
    ServiceSpecModeReplicated, Task, TaskSpec, TaskSpecContainerSpec, TaskState, TaskStatus,
};
use criterion::{Criterion, criterion_group, criterion_main};
use fleetdeck::app::{AppState, Msg, update};
use fleetdeck::backend::BackendEvent;
use fleetdeck::backend::docker::swarm::map::{self, SwarmListing};
use fleetdeck::config::load_settings;
use fleetdeck::model::{ResourceKind, SourceId};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn listing() -> SwarmListing {
    let template = |i: usize| TaskSpec {
        container_spec: Some(TaskSpecContainerSpec {
            image: Some(format!(
                "registry.example.com/app/svc{i}:1.2.3@sha256:{:064x}",
                i
            )),
            env: Some(vec!["A=1".into(), "B=2".into()]),
            ..Default::default()
        }),
        ..Default::default()
    };
    let services: Vec<Service> = (0..50)
        .map(|i| Service {
            id: Some(format!("svc{i:023}")),
            version: Some(ObjectVersion { index: Some(10) }),
            created_at: Some("2026-11-01T10:00:00.000000000Z".into()),
            spec: Some(ServiceSpec {
                name: Some(format!("stack{}_svc{i}", i % 5)),
                labels: Some(HashMap::from([(
                    map::STACK_NAMESPACE.to_string(),
                    format!("stack{}", i % 5),
                )])),
                task_template: Some(template(i)),
                mode: Some(ServiceSpecMode {
                    replicated: Some(ServiceSpecModeReplicated { replicas: Some(10) }),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        })
        .collect();
    let tasks: Vec<Task> = (0..500)
        .map(|i| Task {
            id: Some(format!("task{i:021}")),
            service_id: Some(format!("svc{:023}", i / 10)),
            slot: Some((i % 10 + 1) as i64),
            node_id: Some("node0".into()),
            spec: Some(template(i / 10)),
            desired_state: Some(TaskState::RUNNING),
            status: Some(TaskStatus {
                timestamp: Some("2026-11-23T10:00:00.000000000Z".into()),
                state: Some(TaskState::RUNNING),
                container_status: Some(ContainerStatus {
                    container_id: Some(format!("{i:064x}")),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        })
        .collect();
    let nodes = vec![Node {
        id: Some("node0".into()),
        description: Some(NodeDescription {
            hostname: Some("manager-1".into()),
            ..Default::default()
        }),
        ..Default::default()
    }];
    SwarmListing {
        services,
        tasks,
        nodes,
    }
}

fn benches(c: &mut Criterion) {
    let source = SourceId::new("docker:bench");
    let l = listing();
    c.bench_function("map 50 services / 500 tasks (one event's relist)", |b| {
        b.iter(|| {
            black_box(map::service_resources(&source, &l));
            black_box(map::task_resources(&source, &l));
            black_box(map::stack_resources(&source, &l));
        })
    });

    let settings = load_settings(None, Some("default"), Some("default"))
        .expect("built-in settings")
        .value;
    for (kind, cmd) in [
        (ResourceKind::Service, "services"),
        (ResourceKind::Task, "tasks"),
    ] {
        let mut state = AppState::new(settings.clone(), false);
        use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
        let key = |c| Msg::Term(Event::Key(KeyEvent::new(c, KeyModifiers::NONE)));
        update(&mut state, key(KeyCode::Char(':')));
        for ch in cmd.chars() {
            update(&mut state, key(KeyCode::Char(ch)));
        }
        update(&mut state, key(KeyCode::Enter));
        let rows = match kind {
            ResourceKind::Service => map::service_resources(&source, &l),
            _ => map::task_resources(&source, &l),
        };
        let mut term = Terminal::new(TestBackend::new(160, 48)).expect("test terminal");
        c.bench_function(
            &format!("{cmd}: snapshot + frame 160x48 (500 tasks)"),
            |b| {
                b.iter(|| {
                    update(
                        &mut state,
                        Msg::Backend(BackendEvent::Snapshot {
                            source: source.clone(),
                            kind,
                            resources: rows.clone(),
                        }),
                    );
                    term.draw(|f| fleetdeck::ui::render(f, &mut state))
                        .expect("draw");
                })
            },
        );
        c.bench_function(&format!("{cmd}: frame only 160x48 (500 tasks)"), |b| {
            b.iter(|| {
                term.draw(|f| fleetdeck::ui::render(f, &mut state))
                    .expect("draw");
            })
        });
    }
}

criterion_group!(swarm, benches);
criterion_main!(swarm);
