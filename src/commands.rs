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

/// The current set of `kind` from every source that has it. An unreachable source is an error.
pub async fn snapshot(
    backends: &[Arc<dyn Backend>],
    kind: ResourceKind,
) -> anyhow::Result<Vec<Resource>> {
    let mut out = Vec::new();
    let mut any = false;
    for b in backends.iter().filter(|b| b.kinds().contains(&kind)) {
        any = true;
        let (tx, mut rx) = mpsc::channel(64);
        let _watch = b.watch(kind, tx);
        let first = tokio::time::timeout(SNAPSHOT_TIMEOUT, async {
            while let Some(ev) = rx.recv().await {
                match ev {
                    BackendEvent::Snapshot { resources, .. } => return Ok(resources),
                    BackendEvent::Status(id, SourceStatus::Reconnecting { error, .. }) => {
                        bail!("{id}: {error}")
                    }
                    BackendEvent::Unavailable { source, reason, .. } => bail!("{source}: {reason}"),
                    _ => {}
                }
            }
            bail!("{}: watch ended", b.id())
        })
        .await
        .map_err(|_| {
            anyhow!(
                "{}: no answer within {}s",
                b.id(),
                SNAPSHOT_TIMEOUT.as_secs()
            )
        })??;
        out.extend(first);
    }
    if !any {
        bail!("no configured source lists {}", kind.name());
    }
    Ok(out)
}

pub fn format(
    resources: &[Resource],
    kind: ResourceKind,
    output: Output,
) -> anyhow::Result<String> {
    let mut sorted: Vec<&Resource> = resources.iter().collect();
    sorted.sort_by(|a, b| crate::app::state::natural_cmp(&a.name, &b.name));
    match output {
        Output::Json => {
            let v: Vec<serde_json::Value> = sorted.iter().map(|r| r.to_json()).collect();
            Ok(serde_json::to_string_pretty(&v)? + "\n")
        }
        Output::Yaml => {
            let v: Vec<serde_json::Value> = sorted.iter().map(|r| r.to_json()).collect();
            Ok(serde_saphyr::to_string(&v)?)
        }
        Output::Table => {
            let now = jiff::Timestamp::now();
            let cols = kind.spec().columns;
            let rows: Vec<Vec<String>> = sorted
                .iter()
                .map(|r| {
                    (0..cols.len())
                        .map(|i| r.cell(i, now).into_owned())
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
                        if c.kind == ColumnKind::Age {
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
            Ok(s)
        }
    }
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
