//! Recomputing triage after a row store changed: 5,000 containers, one in ten with a
//! problem. `cargo bench --bench triage` (docs/PERFORMANCE.md).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a failure stops at its line"
)]

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use fleetdeck::model::{
    CheckStatus, ContainerFacts, Health, Resource, ResourceKey, ResourceKind, SourceId,
};
use fleetdeck::triage::{Triage, TriageConfig};

fn containers(n: usize, round: u64) -> Vec<Arc<Resource>> {
    let source = SourceId::new("docker:bench");
    let now = jiff::Timestamp::now();
    let ago = |s: i64| Some(now - jiff::SignedDuration::from_secs(s));
    (0..n)
        .map(|i| {
            let facts = match i % 40 {
                0 => ContainerFacts {
                    restarting: true,
                    restarts: 3 + round,
                    exit_code: Some(1),
                    finished_at: ago(2),
                    ..Default::default()
                },
                10 => ContainerFacts {
                    running: true,
                    health: Some(CheckStatus::Unhealthy),
                    health_output: "curl: (7) Failed to connect".into(),
                    started_at: ago(600),
                    ..Default::default()
                },
                20 => ContainerFacts {
                    exit_code: Some(137),
                    oom_killed: true,
                    finished_at: ago(60 + i as i64),
                    ..Default::default()
                },
                30 => ContainerFacts {
                    exit_code: Some(1),
                    finished_at: ago(3600 + i as i64),
                    ..Default::default()
                },
                _ => ContainerFacts {
                    running: true,
                    started_at: ago(86400),
                    ..Default::default()
                },
            };
            Arc::new(Resource {
                key: ResourceKey {
                    source: source.clone(),
                    kind: ResourceKind::Container,
                    id: format!("{i:064x}"),
                },
                name: format!("app-{i}"),
                parent: None,
                health: Health::Ok,
                cells: vec![String::new(); 9],
                created: ago(86400),
                labels: Default::default(),
                facts: fleetdeck::model::RowFacts {
                    container: Some(Box::new(facts)),
                    ..Default::default()
                },
            })
        })
        .collect()
}

fn benches(c: &mut Criterion) {
    let cfg = TriageConfig::default();
    let now = jiff::Timestamp::now();
    // Two snapshots that differ (restart counts): every recompute finds a change.
    let stores: Vec<BTreeMap<SourceId, Vec<Arc<Resource>>>> = (0..2)
        .map(|round| BTreeMap::from([(SourceId::new("docker:bench"), containers(5000, round))]))
        .collect();
    let mut triage = Triage::default();
    let mut round = 0;
    c.bench_function("triage recompute after a 5000-row snapshot (+ rows)", |b| {
        b.iter(|| {
            round ^= 1;
            let changed =
                triage.kind_changed(ResourceKind::Container, Some(&stores[round]), &cfg, now);
            let rows: Vec<Resource> = triage.problems().iter().map(|p| p.to_row()).collect();
            black_box((changed, rows));
        })
    });
}

criterion_group!(triage_bench, benches);
criterion_main!(triage_bench);
