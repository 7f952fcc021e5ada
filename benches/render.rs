//! Rendering and table-maintenance costs with ratatui's TestBackend (no terminal I/O).
//! `cargo bench --bench render`

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a failure stops at its line"
)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use fleetdeck::app::{AppState, Msg, update};
use fleetdeck::backend::BackendEvent;
use fleetdeck::config::load_settings;
use fleetdeck::model::{Health, Resource, ResourceKey, ResourceKind, SourceId};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn containers(n: usize) -> Vec<Resource> {
    let source = SourceId::new("docker:bench");
    let now = jiff::Timestamp::now();
    (0..n)
        .map(|i| {
            let name = format!("{}-{i}", if i % 2 == 0 { "web" } else { "worker" });
            Resource {
                key: ResourceKey {
                    source: source.clone(),
                    kind: ResourceKind::Container,
                    id: format!("{i:064x}"),
                },
                name: name.clone(),
                parent: Some(format!("proj{}", i % 20)),
                health: if i % 7 == 0 {
                    Health::Failed
                } else {
                    Health::Ok
                },
                cells: vec![
                    name,
                    "registry.example.com/team/app:1.2.3".into(),
                    "running".into(),
                    "Up 3 hours (healthy)".into(),
                    "0".into(),
                    String::new(),
                    "0.0.0.0:8080->80/tcp".into(),
                    format!("proj{}", i % 20),
                    String::new(),
                ],
                created: Some(now - jiff::SignedDuration::from_secs(3600 + i as i64)),
                labels: Default::default(),
                facts: Default::default(),
            }
        })
        .collect()
}

fn state_with(n: usize) -> AppState {
    let settings = load_settings(None, Some("default"), Some("default"))
        .expect("built-in settings")
        .value;
    let mut state = AppState::new(settings, false);
    update(
        &mut state,
        Msg::Backend(BackendEvent::Snapshot {
            source: SourceId::new("docker:bench"),
            kind: ResourceKind::Container,
            resources: containers(n),
        }),
    );
    state
}

fn type_filter(state: &mut AppState, text: &str) {
    use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
    let key = |c| Msg::Term(Event::Key(KeyEvent::new(c, KeyModifiers::NONE)));
    update(state, key(KeyCode::Char('/')));
    for c in text.chars() {
        update(state, key(KeyCode::Char(c)));
    }
    update(state, key(KeyCode::Enter));
}

fn benches(c: &mut Criterion) {
    let mut state = state_with(5000);
    type_filter(&mut state, "web");
    let mut term = Terminal::new(TestBackend::new(160, 48)).expect("test terminal");
    c.bench_function("render 5000-row filtered table 160x48", |b| {
        b.iter(|| {
            term.draw(|f| fleetdeck::ui::render(f, &mut state))
                .expect("draw");
        })
    });

    let mut term = Terminal::new(TestBackend::new(120, 35)).expect("test terminal");
    c.bench_function("ingest 1000-container snapshot + first frame", |b| {
        b.iter(|| {
            let mut s = state_with(1000);
            term.draw(|f| fleetdeck::ui::render(f, &mut s))
                .expect("draw");
            black_box(&s);
        })
    });

    let rs = containers(5000);
    c.bench_function("snapshot update of 5000 rows (sort + filter)", |b| {
        b.iter(|| {
            update(
                &mut state,
                Msg::Backend(BackendEvent::Snapshot {
                    source: SourceId::new("docker:bench"),
                    kind: ResourceKind::Container,
                    resources: rs.clone(),
                }),
            );
        })
    });
}

criterion_group!(render, benches);
criterion_main!(render);
