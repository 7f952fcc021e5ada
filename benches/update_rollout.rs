//! Group rollout overhead (issue #6): 200 devices, parallel 20, through the real rollout
//! engine, state store (fsync per transition) and audit log, against in-memory devices that
//! answer like a Mender 4 client with a fixed latency per command. Prints the console's CPU
//! per device and how late a 5 ms "UI" ticker on the same runtime ran while the state files
//! were written. `cargo bench --bench update_rollout`; figures in docs/PERFORMANCE.md.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a failure stops at its line"
)]

#[path = "../tests/support/fake_link.rs"]
mod fake_link;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use fake_link::FakeDevice;
use fleetdeck::audit::AuditLog;
use fleetdeck::backend::fleet::file::{UpdateSettings, UpdaterKind};
use fleetdeck::model::{FailureLimit, SourceId, UpdateRequest};
use fleetdeck::rollout::driver::Plan;
use fleetdeck::rollout::engine::{Counts, DeviceTarget, Updates};

fn cpu_secs() -> f64 {
    use nix::sys::resource::{UsageWho, getrusage};
    let Ok(u) = getrusage(UsageWho::RUSAGE_SELF) else {
        return 0.0;
    };
    let t = |tv: nix::sys::time::TimeVal| tv.tv_sec() as f64 + tv.tv_usec() as f64 / 1e6;
    if std::env::var_os("BENCH_SPLIT").is_some() {
        eprintln!(
            "user {:.3}s sys {:.3}s",
            t(u.user_time()),
            t(u.system_time())
        );
    }
    t(u.user_time()) + t(u.system_time())
}

struct Run {
    wall: Duration,
    cpu_per_device_ms: f64,
    transitions: usize,
    tick_p99_ms: f64,
    tick_max_ms: f64,
}

fn run(devices: usize, parallel: usize, latency: Duration) -> Run {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let dir = tempfile::tempdir().unwrap();
        let fleet: BTreeMap<String, Arc<FakeDevice>> = (0..devices)
            .map(|i| {
                (
                    format!("dev-{i:03}"),
                    Arc::new(FakeDevice::new("release-1", latency)),
                )
            })
            .collect();
        let names: Vec<String> = fleet.keys().cloned().collect();
        let f = fleet.clone();
        let updates = Updates::new(
            dir.path().join("updates"),
            Some(AuditLog::new(dir.path().join("audit.jsonl"))),
            SourceId::new("fleet:bench"),
            Arc::new(move |name: &str| {
                Some(DeviceTarget {
                    link: f.get(name)?.clone(),
                    plan: Plan {
                        updater: UpdaterKind::Mender,
                        custom: None,
                        settings: UpdateSettings::default(),
                    },
                })
            }),
        )
        .with_poll(Duration::from_millis(50));

        // The UI: a 5 ms ticker (its lateness is what a keypress would wait) and a view that
        // rebuilds the :updates rows on every change, at most 10 times a second.
        let late: Arc<std::sync::Mutex<Vec<Duration>>> = Default::default();
        let ticks = {
            let late = late.clone();
            tokio::spawn(async move {
                let mut next = Instant::now();
                loop {
                    next += Duration::from_millis(5);
                    tokio::time::sleep_until(next.into()).await;
                    let now = Instant::now();
                    late.lock()
                        .unwrap()
                        .push(now.saturating_duration_since(next));
                    next = next.max(now);
                }
            })
        };
        let view = {
            let u = updates.clone();
            tokio::spawn(async move {
                let mut ch = u.subscribe();
                while ch.changed().await.is_ok() {
                    let rows = u.rows(jiff::Timestamp::now());
                    std::hint::black_box(rows);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            })
        };

        let cpu0 = cpu_secs();
        let t0 = Instant::now();
        let id = updates
            .start(&UpdateRequest {
                artifact: "https://updates.example/release-2.mender".into(),
                devices: names,
                parallel,
                max_failures: FailureLimit::Percent(10),
                ..UpdateRequest::EMPTY
            })
            .await
            .unwrap();
        let mut ch = updates.subscribe();
        while !updates.state(&id).unwrap().is_final() {
            let _ = ch.changed().await;
        }
        let records = updates.snapshot(&id).unwrap().1;
        let wall = t0.elapsed();
        let cpu = cpu_secs() - cpu0;
        let c = Counts::of(&records);
        assert_eq!(c.succeeded, devices, "{c}");
        ticks.abort();
        view.abort();
        let audit = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
        let mut late = late.lock().unwrap().clone();
        late.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let p99 = late[late.len() * 99 / 100];
        Run {
            wall,
            cpu_per_device_ms: cpu * 1000.0 / devices as f64,
            transitions: audit.lines().count(),
            tick_p99_ms: ms(p99),
            tick_max_ms: ms(*late.last().unwrap()),
        }
    })
}

fn main() {
    for (latency_ms, label) in [
        (20u64, "devices answer in 20 ms"),
        (0, "instant devices (engine only)"),
    ] {
        let r = run(200, 20, Duration::from_millis(latency_ms));
        println!(
            "200 devices, parallel 20, {label}: wall {:.2}s, console CPU {:.2} ms/device, {} transitions fsynced+audited, UI tick lateness p99 {:.2} ms max {:.2} ms",
            r.wall.as_secs_f64(),
            r.cpu_per_device_ms,
            r.transitions,
            r.tick_p99_ms,
            r.tick_max_ms
        );
    }
}
