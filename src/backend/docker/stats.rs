//! `docker stats` for one container: CPU % and memory computed exactly as the docker CLI does.

use std::sync::Arc;

use bollard::models::{ContainerCpuStats, ContainerMemoryStats, ContainerStatsResponse};
use bollard::query_parameters::StatsOptionsBuilder;
use futures::StreamExt;

use super::Inner;
use super::error::{human_error, is_not_found};
use crate::backend::supervise::Backoff;
use crate::backend::{EventTx, report};
use crate::model::{ResourceKey, StatsSample};

/// (container CPU total, system CPU total) in nanoseconds, the pair CPU % is a delta of.
pub type CpuPoint = (u64, u64);

fn cpu_point(cpu: &ContainerCpuStats) -> Option<CpuPoint> {
    let total = cpu.cpu_usage.as_ref()?.total_usage?;
    let system = cpu.system_cpu_usage?;
    (system > 0).then_some((total, system))
}

/// The docker CLI's `calculateCPUPercentUnix`: container delta / system delta × online CPUs
/// × 100. `prev` is the engine's `precpu_stats` or, on the first sample (where the engine sends
/// zeros), our own previous sample; with neither, 0 rather than an average since boot.
pub fn cpu_percent(cur: &ContainerCpuStats, prev: Option<CpuPoint>) -> f64 {
    let (Some((total, system)), Some((prev_total, prev_system))) = (cpu_point(cur), prev) else {
        return 0.0;
    };
    let cpu_delta = total as f64 - prev_total as f64;
    let system_delta = system as f64 - prev_system as f64;
    // cgroup v1 reports per-CPU usage; v2 does not, but has online_cpus.
    let online = match cur.online_cpus {
        Some(n) if n > 0 => n as f64,
        _ => cur
            .cpu_usage
            .as_ref()
            .and_then(|u| u.percpu_usage.as_ref())
            .map_or(0, |v| v.len()) as f64,
    };
    if system_delta > 0.0 && cpu_delta > 0.0 {
        cpu_delta / system_delta * online * 100.0
    } else {
        0.0
    }
}

/// Memory in use without the page cache: `usage - stats.cache` on cgroup v1, `usage -
/// inactive_file` on cgroup v2 (the v2 stats have no `cache` key).
pub fn mem_used(mem: &ContainerMemoryStats) -> u64 {
    let usage = mem.usage.unwrap_or(0);
    let stats = mem.stats.as_ref();
    let cache = stats
        .and_then(|s| s.get("cache"))
        .or_else(|| stats.and_then(|s| s.get("inactive_file")))
        .copied()
        .unwrap_or(0);
    usage.saturating_sub(cache)
}

/// Turn one engine sample into the neutral sample; `last` carries our previous CPU point.
pub fn sample(resp: &ContainerStatsResponse, last: &mut Option<CpuPoint>) -> StatsSample {
    let zero = ContainerCpuStats::default();
    let cpu = resp.cpu_stats.as_ref().unwrap_or(&zero);
    let prev = resp.precpu_stats.as_ref().and_then(cpu_point).or(*last);
    let cpu_percent = cpu_percent(cpu, prev);
    if let Some(p) = cpu_point(cpu) {
        *last = Some(p);
    }
    let mem = resp.memory_stats.as_ref();
    StatsSample {
        cpu_percent,
        mem_bytes: mem.map(mem_used).unwrap_or(0),
        mem_limit: mem.and_then(|m| m.limit).unwrap_or(0),
    }
}

/// The stats task: streams samples, reconnects on transport errors, stops when the container is
/// gone or the UI dropped the handle.
pub async fn run(inner: Arc<Inner>, key: ResourceKey, tx: EventTx) {
    let mut backoff = Backoff::default();
    loop {
        match inner.connection().await {
            Ok((conn, endpoint)) => {
                let opts = StatsOptionsBuilder::default().stream(true).build();
                let mut stream = conn.docker.stats(&key.id, Some(opts));
                let mut last = None;
                loop {
                    match stream.next().await {
                        Some(Ok(resp)) => {
                            backoff.reset();
                            let sample = sample(&resp, &mut last);
                            if report::stats(&tx, key.clone(), sample).await.is_err() {
                                return;
                            }
                        }
                        Some(Err(e)) => {
                            if is_not_found(&e) {
                                tracing::debug!(container = %key.id, "stats: container is gone");
                                return;
                            }
                            inner.forget_if_transport(&e).await;
                            tracing::debug!(container = %key.id, error = %human_error(&endpoint, &e), "stats stream failed");
                            break;
                        }
                        // A stopped container's stream ends; retry later in case it restarts.
                        None => break,
                    }
                }
            }
            Err(e) => tracing::debug!(container = %key.id, error = %e, "stats: cannot connect"),
        }
        tokio::time::sleep(backoff.next_delay()).await;
    }
}
