//! Fleet commands: run one command line on many targets with bounded concurrency, audited per
//! target, each result as a `RunResult` row. Generic over `Backend::exec`, so the console
//! (`:run`) and the CLI (`fleetdeck run`) share it.

use std::sync::Arc;
use std::time::Instant;

use futures::StreamExt;

use crate::audit::{AuditEntry, AuditLog};
use crate::backend::Backend;
use crate::model::{Health, Labels, Resource, ResourceKey, ResourceKind};
use crate::term::sanitize::sanitize_plain;

/// Output kept per target.
pub const OUTPUT_LIMIT: usize = 256 * 1024;
/// Targets run at once.
pub const CONCURRENCY: usize = 16;

#[derive(Clone)]
pub struct RunTarget {
    pub backend: Arc<dyn Backend>,
    pub key: ResourceKey,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RunOutcome {
    pub key: ResourceKey,
    pub name: String,
    /// (exit code, output) or why it could not run.
    pub result: Result<(i64, String), String>,
    pub secs: f64,
}

impl RunOutcome {
    pub fn ok(&self) -> bool {
        matches!(self.result, Ok((0, _)))
    }
}

/// Run `command` on every target, at most `concurrency` at once; `on_done` sees each outcome
/// as it finishes. With an audit log, each target gets an attempt and a result entry, and a
/// target whose attempt cannot be written is not run: its outcome is that error.
pub async fn run_all(
    targets: Vec<RunTarget>,
    command: String,
    concurrency: usize,
    audit: Option<AuditLog>,
    mut on_done: impl FnMut(&RunOutcome),
) -> Vec<RunOutcome> {
    let cmd = Arc::new(command);
    let mut results = futures::stream::iter(targets.into_iter().map(|t| {
        let (cmd, audit) = (cmd.clone(), audit.clone());
        async move {
            let label = format!("run: {cmd}");
            let target = format!("{}/{}", t.key.kind.name(), t.name);
            let entry = AuditEntry::attempt(t.key.source.as_str(), target, label);
            if let Some(a) = &audit
                && let Err(e) = write(a, entry.clone()).await
            {
                // Durability over convenience: nothing runs unaudited.
                return RunOutcome {
                    key: t.key,
                    name: t.name,
                    result: Err(format!("not run: {e}")),
                    secs: 0.0,
                };
            }
            let start = Instant::now();
            let result = t
                .backend
                .exec(&t.key, std::slice::from_ref(&*cmd))
                .await
                .map_err(|e| format!("{e:#}"));
            let secs = start.elapsed().as_secs_f64();
            if let Some(a) = &audit {
                let done = match &result {
                    Ok((code, _)) => entry.result(*code == 0, format!("exit {code}")),
                    Err(e) => entry.result(false, e.clone()),
                };
                // The command ran: its outcome stands; the gap is in fleetdeck.log.
                if let Err(e) = write(a, done).await {
                    tracing::error!("{e}: the result on {} is not recorded", t.name);
                }
            }
            RunOutcome {
                key: t.key,
                name: t.name,
                result,
                secs,
            }
        }
    }))
    .buffer_unordered(concurrency.max(1));
    let mut out = Vec::new();
    while let Some(o) = results.next().await {
        on_done(&o);
        out.push(o);
    }
    out
}

/// Append off the async threads (fsync).
async fn write(audit: &AuditLog, entry: AuditEntry) -> Result<(), String> {
    let audit = audit.clone();
    match tokio::task::spawn_blocking(move || audit.append(&entry)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(e) => Err(format!("audit log: {e}")),
    }
}

/// A `RunResult` row: pending (`None`) or finished.
pub fn result_row(
    key: &ResourceKey,
    name: &str,
    command: &str,
    outcome: Option<&RunOutcome>,
) -> Resource {
    let mut labels = Labels::new();
    labels.insert("command".to_string(), sanitize_plain(command));
    let (state, exit, secs, first, health) = match outcome {
        None => (
            "running".to_string(),
            String::new(),
            String::new(),
            String::new(),
            Health::Pending,
        ),
        Some(o) => {
            let secs = format!("{:.1}", o.secs);
            match &o.result {
                Ok((code, text)) => {
                    let clean: Vec<String> = text.lines().map(sanitize_plain).collect();
                    let first = clean
                        .iter()
                        .find(|l| !l.trim().is_empty())
                        .cloned()
                        .unwrap_or_default();
                    labels.insert("output".into(), clean.join("\n"));
                    let (st, h) = if *code == 0 {
                        ("ok", Health::Ok)
                    } else {
                        ("failed", Health::Failed)
                    };
                    (st.to_string(), code.to_string(), secs, first, h)
                }
                Err(e) => {
                    let e = sanitize_plain(e);
                    labels.insert("output".into(), e.clone());
                    ("error".to_string(), String::new(), secs, e, Health::Failed)
                }
            }
        }
    };
    Resource {
        key: ResourceKey {
            source: key.source.clone(),
            kind: ResourceKind::RunResult,
            id: key.id.clone(),
        },
        name: name.to_string(),
        parent: None,
        health,
        cells: vec![name.to_string(), state, exit, secs, first],
        created: None,
        labels,
        facts: Default::default(),
    }
}
