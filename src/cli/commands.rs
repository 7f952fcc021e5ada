//! Scriptable subcommands. They drive the same `Backend` calls as the console (watch, logs,
//! exec), so what a script sees is what the operator sees.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use tokio::sync::mpsc;

use crate::backend::{Backend, BackendEvent};
use crate::cli::Output;
use crate::model::{ColumnKind, LogOpts, Resource, ResourceKind, SourceStatus};

const SNAPSHOT_TIMEOUT: Duration = Duration::from_secs(10);

/// One line to stdout, ignoring failure: `println!` panics when the terminal hung up or the
/// pipe closed, and a rollout must go on (and stay audited) without anyone watching.
fn say(line: std::fmt::Arguments) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// Why one source gave no list of a kind.
enum Miss {
    /// The engine cannot serve this kind (a Docker engine that is not a swarm manager).
    Unavailable(anyhow::Error),
    Failed(anyhow::Error),
}

impl From<Miss> for anyhow::Error {
    fn from(m: Miss) -> Self {
        match m {
            Miss::Unavailable(e) | Miss::Failed(e) => e,
        }
    }
}

/// The first complete list of `kind` from one source.
async fn first_snapshot(b: &Arc<dyn Backend>, kind: ResourceKind) -> Result<Vec<Resource>, Miss> {
    let (tx, mut rx) = mpsc::channel(64);
    let _watch = b.watch(kind, tx);
    let failed = |e: String| Err(Miss::Failed(anyhow!(e)));
    tokio::time::timeout(SNAPSHOT_TIMEOUT, async {
        while let Some(ev) = rx.recv().await {
            match ev {
                BackendEvent::Snapshot { resources, .. } => return Ok(resources),
                BackendEvent::Status(id, SourceStatus::Reconnecting { error, .. }) => {
                    return failed(format!("{id}: {error}"));
                }
                BackendEvent::Unavailable { source, reason, .. } => {
                    return Err(Miss::Unavailable(anyhow!("{source}: {reason}")));
                }
                // A script must never get a cut list as if it were the whole one.
                BackendEvent::Incomplete {
                    source,
                    note,
                    loading: false,
                    ..
                } => return failed(format!("{source}: {note}")),
                _ => {}
            }
        }
        failed(format!("{}: watch ended", b.id()))
    })
    .await
    .unwrap_or_else(|_| {
        failed(format!(
            "{}: no answer within {}s",
            b.id(),
            SNAPSHOT_TIMEOUT.as_secs()
        ))
    })
}

/// The current set of `kind` from every source that has it. An unreachable source is an error.
pub async fn snapshot(
    backends: &[Arc<dyn Backend>],
    kind: ResourceKind,
) -> anyhow::Result<Vec<Resource>> {
    let mut out = Vec::new();
    let mut any = false;
    for b in backends.iter().filter(|b| b.kinds().contains(&kind)) {
        any = true;
        out.extend(first_snapshot(b, kind).await?);
    }
    if !any {
        bail!("no configured source lists {}", kind.name());
    }
    Ok(out)
}

/// `fleetdeck triage`: one snapshot of every kind problems come from, from every source (the
/// fleets' devices gathered by the caller), through the console's rules. A source that cannot
/// be read is a critical problem of its own; a kind it cannot serve is not. Exits 1 when a
/// problem at or above `min` exists.
pub async fn triage(
    backends: &[Arc<dyn Backend>],
    devices: Option<Vec<Resource>>,
    cfg: &crate::triage::TriageConfig,
    output: Output,
    min: crate::triage::Severity,
) -> anyhow::Result<i32> {
    use crate::triage::{KINDS, Problem, Severity, Triage};
    use std::collections::BTreeMap;
    let mut reads = Vec::new();
    for &kind in KINDS {
        if kind == ResourceKind::Device && devices.is_some() {
            continue;
        }
        for b in backends.iter().filter(|b| b.kinds().contains(&kind)) {
            reads.push(async move { (b.id().clone(), kind, first_snapshot(b, kind).await) });
        }
    }
    let mut data: BTreeMap<ResourceKind, BTreeMap<_, Vec<Arc<Resource>>>> = BTreeMap::new();
    let mut unread: Vec<Problem> = Vec::new();
    for (source, kind, read) in futures::future::join_all(reads).await {
        match read {
            Ok(rows) => {
                data.entry(kind)
                    .or_default()
                    .insert(source, rows.into_iter().map(Arc::new).collect());
            }
            Err(Miss::Unavailable(_)) => {}
            Err(Miss::Failed(e)) => unread.push(Problem {
                severity: Severity::Critical,
                key: crate::model::ResourceKey {
                    source: source.clone(),
                    kind,
                    id: String::new(),
                },
                name: source.to_string(),
                problem: format!("cannot list {}: {e:#}", kind.name()),
                since: None,
            }),
        }
    }
    for r in devices.into_iter().flatten() {
        let by_source = data.entry(ResourceKind::Device).or_default();
        by_source
            .entry(r.key.source.clone())
            .or_default()
            .push(Arc::new(r));
    }
    let now = jiff::Timestamp::now();
    let mut triage = Triage::default();
    for (kind, by_source) in &data {
        triage.kind_changed(*kind, Some(by_source), cfg, now);
    }
    // One unreadable source says so once, not once per kind.
    unread.dedup_by(|a, b| a.key.source == b.key.source);
    let mut problems: Vec<&Problem> = unread.iter().collect();
    problems.extend(triage.problems());
    let text = match output {
        Output::Json | Output::Yaml => {
            let v: Vec<serde_json::Value> = problems.iter().map(|p| p.to_json()).collect();
            if output == Output::Json {
                crate::term::json::to_string_pretty(&v)? + "\n"
            } else {
                crate::term::yaml::to_string(&serde_json::Value::Array(v))?
            }
        }
        Output::Table => {
            let rows: Vec<Resource> = problems.iter().map(|p| p.to_row()).collect();
            let rows: Vec<&Resource> = rows.iter().collect();
            table(&rows, ResourceKind::Triage)
        }
    };
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    Ok(i32::from(problems.iter().any(|p| p.severity <= min)))
}

pub fn format(
    resources: &[Resource],
    kind: ResourceKind,
    output: Output,
) -> anyhow::Result<String> {
    let mut sorted: Vec<&Resource> = resources.iter().collect();
    sorted.sort_by(|a, b| crate::app::state::natural_cmp(&a.name, &b.name));
    match output {
        // Ids and fields come from remote systems: the terminal-safe writers escape every
        // control and invisible format character (serde_json would leave C1 raw).
        Output::Json => {
            let v: Vec<serde_json::Value> = sorted.iter().map(|r| r.to_json()).collect();
            Ok(crate::term::json::to_string_pretty(&v)? + "\n")
        }
        Output::Yaml => {
            let v: Vec<serde_json::Value> = sorted.iter().map(|r| r.to_json()).collect();
            Ok(crate::term::yaml::to_string(&serde_json::Value::Array(v))?)
        }
        Output::Table => Ok(table(&sorted, kind)),
    }
}

/// Rows as aligned text columns under the kind's column names.
fn table(sorted: &[&Resource], kind: ResourceKind) -> String {
    let now = jiff::Timestamp::now();
    let sources: std::collections::BTreeSet<_> = sorted.iter().map(|r| &r.key.source).collect();
    let cols = kind.columns_for(sources.len());
    let rows: Vec<Vec<String>> = sorted
        .iter()
        .map(|r| {
            (0..cols.len())
                .map(|i| r.cell_or_source(i, now).into_owned())
                .collect()
        })
        .collect();
    let widths: Vec<usize> = cols
        .iter()
        .enumerate()
        .map(|(i, c)| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .max()
                .unwrap_or(0)
                .max(c.name.len())
        })
        .collect();
    let mut s = String::new();
    let line = |cells: Vec<&str>| -> String {
        let mut l = cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if i + 1 == cells.len() {
                    c.to_string()
                } else {
                    format!("{c:<w$}", w = widths[i])
                }
            })
            .collect::<Vec<_>>()
            .join("   ");
        l.truncate(l.trim_end().len());
        l + "\n"
    };
    s += &line(
        cols.iter()
            .map(|c| {
                // SINCE in triage says how long a problem lasts, not an age.
                if c.kind == ColumnKind::Age && kind != ResourceKind::Triage {
                    "AGE"
                } else {
                    c.name
                }
            })
            .collect(),
    );
    for r in &rows {
        s += &line(r.iter().map(|c| c.as_str()).collect());
    }
    s
}

/// `fleetdeck timeline`: every source's replay of the last `since_secs` and the audit log's,
/// newest first. A source that cannot answer is said on stderr; the others are printed.
pub async fn timeline(
    backends: &[Arc<dyn Backend>],
    audit: std::path::PathBuf,
    since_secs: u64,
    output: Output,
) -> anyhow::Result<i32> {
    let now = jiff::Timestamp::now();
    let since = now
        .checked_sub(jiff::SignedDuration::from_secs(
            i64::try_from(since_secs).unwrap_or(i64::MAX),
        ))
        .unwrap_or(jiff::Timestamp::MIN);
    let (tx, mut rx) = mpsc::channel(256);
    let mut feeds = vec![crate::timeline::audit::feed(
        audit,
        since,
        Some(now),
        tx.clone(),
    )];
    feeds.extend(
        backends
            .iter()
            .filter_map(|b| b.timeline(since, Some(now), tx.clone())),
    );
    drop(tx);
    let mut entries = Vec::new();
    let mut failed = false;
    let gathered = tokio::time::timeout(SNAPSHOT_TIMEOUT, async {
        while let Some(ev) = rx.recv().await {
            match ev {
                BackendEvent::Timeline(e) => entries.extend(e),
                BackendEvent::Status(id, SourceStatus::Reconnecting { error, .. }) => {
                    eprintln!("fleetdeck: {id}: {error}");
                    failed = true;
                }
                _ => {}
            }
        }
    })
    .await;
    if gathered.is_err() {
        eprintln!(
            "fleetdeck: some sources did not answer within {}s",
            SNAPSHOT_TIMEOUT.as_secs()
        );
        failed = true;
    }
    drop(feeds);
    let entries = crate::timeline::newest_first(entries);
    let text = match output {
        Output::Json => crate::term::json::to_string_pretty(&entries)? + "\n",
        Output::Yaml => crate::term::yaml::to_string(&serde_json::to_value(&entries)?)?,
        Output::Table => {
            let rows: Vec<Resource> = (0u64..)
                .zip(&entries)
                .map(|(i, e)| crate::timeline::row(i, e))
                .collect();
            table(&rows.iter().collect::<Vec<_>>(), ResourceKind::Timeline)
        }
    };
    let _ = std::io::stdout().write_all(text.as_bytes());
    Ok(if failed { 1 } else { 0 })
}

/// Resolve "NAME", "ID-prefix" or "kind/NAME" (kind defaults to container).
pub async fn resolve(backends: &[Arc<dyn Backend>], target: &str) -> anyhow::Result<Resource> {
    let (kind, name) = match target.split_once('/') {
        Some((k, n)) => (
            ResourceKind::from_alias(k)
                .ok_or_else(|| anyhow!("unknown kind `{k}` in `{target}`"))?,
            n,
        ),
        None => (ResourceKind::Container, target),
    };
    let all = snapshot(backends, kind).await?;
    if let Some(r) = all.iter().find(|r| r.name == name) {
        return Ok(r.clone());
    }
    let by_id: Vec<&Resource> = all
        .iter()
        .filter(|r| name.len() >= 3 && r.key.id.starts_with(name))
        .collect();
    match by_id.as_slice() {
        [one] => Ok((*one).clone()),
        [] => bail!("no {} named `{name}`", kind.name().trim_end_matches('s')),
        _ => bail!(
            "`{name}` matches {} {}; give more of the id",
            by_id.len(),
            kind.name()
        ),
    }
}

pub async fn logs(
    backends: &[Arc<dyn Backend>],
    target: &str,
    opts: LogOpts,
    timestamps: bool,
) -> anyhow::Result<()> {
    let r = resolve(backends, target).await?;
    let b = backends
        .iter()
        .find(|b| *b.id() == r.key.source)
        .context("source vanished")?;
    let (tx, mut rx) = mpsc::channel(64);
    let _stream = b.logs(&r.key, opts, 1, tx);
    let stdout = std::io::stdout();
    while let Some(ev) = rx.recv().await {
        match ev {
            BackendEvent::LogLines { lines, .. } => {
                let mut out = stdout.lock();
                for l in lines {
                    if timestamps
                        && let Some(ts) =
                            l.ts.and_then(|n| jiff::Timestamp::from_nanosecond(n as i128).ok())
                    {
                        write!(out, "{ts} ")?;
                    }
                    if let Some(src) = &l.source {
                        write!(out, "{src} | ")?;
                    }
                    writeln!(out, "{}", l.text.text)?;
                }
                out.flush()?;
            }
            BackendEvent::LogEnded { error: Some(e), .. } => bail!("{e}"),
            BackendEvent::LogEnded { error: None, .. } => break,
            _ => {}
        }
    }
    Ok(())
}

/// `fleetdeck exec`: the command's output is printed raw, byte for byte, like `ssh host cmd`
/// and `docker exec`, so that it can be piped or redirected unchanged. Unlike every other
/// path (tables, logs, `run`), nothing is neutralised here: run it on a terminal only for
/// output you trust, or pipe it (`| cat -v`).
pub async fn exec(
    backends: &[Arc<dyn Backend>],
    target: &str,
    cmd: &[String],
) -> anyhow::Result<i64> {
    let r = resolve(backends, target).await?;
    let b = backends
        .iter()
        .find(|b| *b.id() == r.key.source)
        .context("source vanished")?;
    let (code, output) = b.exec(&r.key, cmd).await?;
    std::io::stdout().write_all(output.as_bytes())?;
    std::io::stdout().flush()?;
    Ok(code)
}

use crate::cli::DeviceSelect;

/// The devices of `fleets` that `select` picks: (fleet index, device name).
fn select_devices(
    fleets: &[crate::backend::fleet::FleetBackend],
    select: &DeviceSelect,
) -> anyhow::Result<Vec<(usize, String)>> {
    if fleets.is_empty() {
        bail!("no fleet configured (config `fleet:` or --fleet FILE)");
    }
    if select.tags.is_empty() && select.devices.is_empty() && !select.all {
        bail!("choose devices: --tag TAG, --device NAME or --all");
    }
    let mut chosen = Vec::new();
    for (i, f) in fleets.iter().enumerate() {
        for d in f.devices() {
            let s = &d.spec;
            if select.all
                || select.devices.contains(&s.name)
                || select
                    .tags
                    .iter()
                    .any(|t| s.tags.contains(t) || s.groups.contains(t))
            {
                chosen.push((i, s.name.clone()));
            }
        }
    }
    if chosen.is_empty() {
        bail!("no device matches");
    }
    Ok(chosen)
}

/// `fleetdeck update`: one rollout over the selected devices (of one fleet), with a progress
/// line per step (and per 20 % of an install); exit 1 unless every device committed.
#[allow(clippy::too_many_arguments)]
pub async fn update(
    fleets: &[crate::backend::fleet::FleetBackend],
    select: DeviceSelect,
    artifact: &str,
    parallel: usize,
    max_failures: crate::model::FailureLimit,
    hold_before_commit: bool,
    read_only: bool,
    audit: crate::audit::AuditLog,
) -> anyhow::Result<i32> {
    use crate::rollout::Step;
    let chosen = select_devices(fleets, &select)?;
    let fleet = chosen[0].0;
    if chosen.iter().any(|(i, _)| *i != fleet) {
        bail!("the devices belong to several fleets: update one fleet at a time");
    }
    let backend = &fleets[fleet];
    let req = crate::model::UpdateRequest {
        artifact: artifact.to_string(),
        devices: chosen.into_iter().map(|(_, d)| d).collect(),
        parallel,
        max_failures,
        hold_before_commit,
        skip: Vec::new(),
    };
    let attempt = crate::audit::AuditEntry::attempt(
        backend.id().as_str(),
        crate::audit::devices_target(&req.devices),
        req.label(),
    );
    if read_only {
        let _ = audit.append(&attempt.refused("read-only mode"));
        bail!("read-only mode: update refused");
    }
    // Nothing starts unaudited.
    let written = audit.clone();
    let entry = attempt.clone();
    tokio::task::spawn_blocking(move || written.append(&entry))
        .await?
        .map_err(|e| anyhow!("update refused: {e}"))?;
    let updates = backend.updates().clone();
    let mut changes = updates.subscribe();
    let id = updates.start(&req).await.map_err(|e| anyhow::anyhow!(e))?;
    say(format_args!("rollout {id}: {}", req.label()));
    // What was printed per device: (step, percent bucket).
    let mut shown: std::collections::HashMap<String, (Step, u8)> = Default::default();
    let mut interrupted = false;
    // One listener for the whole run: a Ctrl-C between two looks is not lost.
    let mut interrupts = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
    loop {
        let Some((spec, records)) = updates.snapshot(&id) else {
            bail!("rollout {id} vanished");
        };
        let mut out = std::io::stdout().lock();
        for r in &records {
            let bucket = r.percent.map_or(0, |p| p / 20);
            let now = (r.step, bucket);
            if r.step == Step::Pending || shown.get(&r.device) == Some(&now) {
                continue;
            }
            shown.insert(r.device.clone(), now);
            let detail = match (&r.reason, r.percent) {
                (Some(reason), _) if r.step.is_final() || r.step == Step::RollingBack => {
                    reason.clone()
                }
                (_, Some(p)) => format!("{p}% {}", r.last_line),
                _ => r.last_line.clone(),
            };
            let _ = writeln!(
                out,
                "{} {} {} {}",
                jiff::Zoned::now().strftime("%H:%M:%S"),
                r.device,
                r.step.label(),
                crate::term::sanitize::sanitize_plain(&detail)
            );
        }
        let _ = out.flush();
        drop(out);
        let counts = crate::rollout::engine::Counts::of(&records);
        if !spec.state.is_final()
            && counts.held > 0
            && counts.running == counts.held
            && (counts.pending == 0
                || spec.state != crate::rollout::engine::RolloutState::Running
                || counts.running >= spec.parallel)
        {
            // Everything that could move is held: the hold is on disk, so this process may
            // go; a console commits (`c` in :updates or :rollouts) and drives the rest.
            say(format_args!(
                "-- rollout {id} holds {} device(s) before commit ({counts}): commit them in \
                 the console (:updates or :rollouts, c), which then drives the rest",
                counts.held
            ));
            let _ = audit.append(&attempt.result(true, format!("held: {counts}")));
            return Ok(0);
        }
        if spec.state.is_final() {
            say(format_args!("-- rollout {id} {:?}: {counts}", spec.state));
            let ok = counts.succeeded == records.len();
            if let Err(e) = audit.append(&attempt.result(ok, counts.to_string())) {
                // The rollout is over: say that its end is missing from the log.
                let _ = writeln!(std::io::stderr(), "fleetdeck: warning: {e}");
            }
            return Ok(if ok { 0 } else { 1 });
        }
        tokio::select! {
            changed = changes.changed() => {
                if changed.is_err() {
                    bail!("rollout {id} stopped unexpectedly");
                }
            }
            _ = interrupts.recv() => {
                if interrupted {
                    say(format_args!("-- left running: a console started later resumes rollout {id}"));
                    return Ok(130);
                }
                interrupted = true;
                // What an operator means by Ctrl-C: stop starting devices; the ones mid-update
                // must finish (a half-done install is worse than either version).
                let _ = updates.control(&id, crate::rollout::engine::RolloutState::Aborted).await;
                say(format_args!("-- aborting rollout {id}: running devices finish, no new ones start (Ctrl-C again to leave now)"));
            }
        }
        // Progress lines ten times a second at most: a burst of changes is one look.
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// `fleetdeck run`: the command on every selected device, results printed as they finish
/// (table) or at the end (json); exit 1 when any failed.
#[allow(clippy::too_many_arguments)]
pub async fn run(
    fleets: &[crate::backend::fleet::FleetBackend],
    select: DeviceSelect,
    command: &str,
    concurrency: usize,
    output: Output,
    read_only: bool,
    audit: crate::audit::AuditLog,
) -> anyhow::Result<i32> {
    use crate::backend::fleet::run::{RunTarget, run_all};
    let targets: Vec<RunTarget> = select_devices(fleets, &select)?
        .into_iter()
        .map(|(i, name)| {
            let backend: Arc<dyn Backend> = Arc::new(fleets[i].clone());
            RunTarget {
                key: crate::model::ResourceKey {
                    source: backend.id().clone(),
                    kind: ResourceKind::Device,
                    id: name.clone(),
                },
                backend,
                name,
            }
        })
        .collect();
    if read_only {
        for t in &targets {
            let entry = crate::audit::AuditEntry::attempt(
                t.key.source.as_str(),
                format!("device/{}", t.name),
                format!("run: {command}"),
            )
            .refused("read-only mode");
            let _ = audit.append(&entry);
        }
        bail!("read-only mode: run refused on {} device(s)", targets.len());
    }
    let table = output == Output::Table;
    let outcomes = run_all(
        targets,
        command.to_string(),
        concurrency,
        Some(audit),
        |o| {
            if table {
                let mut out = std::io::stdout().lock();
                match &o.result {
                    Ok((code, text)) => {
                        let _ = writeln!(out, "== {} (exit {code}, {:.1}s)", o.name, o.secs);
                        for l in text.lines() {
                            let _ = writeln!(out, "{}", crate::term::sanitize::sanitize_plain(l));
                        }
                    }
                    Err(e) => {
                        let _ = writeln!(out, "== {} (error, {:.1}s)", o.name, o.secs);
                        let _ = writeln!(out, "{}", crate::term::sanitize::sanitize_plain(e));
                    }
                }
                let _ = out.flush();
            }
        },
    )
    .await;
    let failed = outcomes.iter().filter(|o| !o.ok()).count();
    match output {
        Output::Table => {
            let _ = writeln!(
                std::io::stdout(),
                "-- {} ok, {failed} failed",
                outcomes.len() - failed
            );
        }
        Output::Json | Output::Yaml => {
            let mut v: Vec<serde_json::Value> = outcomes
                .iter()
                .map(|o| {
                    let (exit, out, err) = match &o.result {
                        Ok((c, t)) => (Some(*c), t.clone(), None),
                        Err(e) => (None, String::new(), Some(e.clone())),
                    };
                    serde_json::json!({
                        "device": o.name,
                        "source": o.key.source.as_str(),
                        "exit": exit,
                        "output": out,
                        "error": err,
                        "seconds": o.secs,
                    })
                })
                .collect();
            v.sort_by(|a, b| {
                crate::app::state::natural_cmp(
                    a["device"].as_str().unwrap_or(""),
                    b["device"].as_str().unwrap_or(""),
                )
            });
            let v = serde_json::Value::Array(v);
            let text = if output == Output::Json {
                crate::term::json::to_string_pretty(&v)? + "\n"
            } else {
                crate::term::yaml::to_string(&v)?
            };
            let _ = std::io::stdout().write_all(text.as_bytes());
        }
    }
    Ok(if failed > 0 { 1 } else { 0 })
}
