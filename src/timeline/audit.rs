//! The timeline's audit part: fleetdeck's own actions, who did what (`audit.jsonl`), from this
//! console and any other process on the machine (`fleetdeck update`, a second console): the
//! file is the one place all of them write. Rollout steps are audited too, so their
//! transitions arrive here. The file is read from where the last read stopped, once a second.

use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::time::Duration;

use crate::audit::AuditEntry;
use crate::backend::report::Reporter;
use crate::backend::{EventTx, TaskHandle};
use crate::model::{ResourceKind, Severity, SourceId, TimelineEntry};
use crate::term::sanitize::sanitize_plain;

const POLL: Duration = Duration::from_secs(1);
/// A read takes at most this much of the file at once (a huge old log is read in steps).
const CHUNK: u64 = 4 << 20;

/// Follow the audit log at `path` from `since` (`until`: read up to it once, then end).
pub fn feed(
    path: PathBuf,
    since: jiff::Timestamp,
    until: Option<jiff::Timestamp>,
    tx: EventTx,
) -> TaskHandle {
    let report = Reporter::new(SourceId::new("audit"), tx);
    TaskHandle::spawn(async move {
        let mut offset = 0u64;
        loop {
            let p = path.clone();
            let read = tokio::task::spawn_blocking(move || read_from(&p, offset)).await;
            let (lines, next) = match read {
                Ok(Ok(r)) => r,
                // No log yet (nothing was ever done), or unreadable: look again later.
                _ => (Vec::new(), offset),
            };
            let more = next > offset + CHUNK - 1;
            offset = next;
            let entries: Vec<TimelineEntry> = lines
                .iter()
                .filter_map(|l| serde_json::from_str::<AuditEntry>(l).ok())
                .flat_map(|a| entries(&a))
                .filter(|e| e.time >= since && until.is_none_or(|u| e.time <= u))
                .collect();
            if report.timeline(entries).await.is_err() {
                return;
            }
            if more {
                continue;
            }
            if until.is_some() {
                return;
            }
            tokio::time::sleep(POLL).await;
        }
    })
}

/// Complete lines from `offset` on, and the offset after the last complete one. A file that
/// became shorter (rotated) is read from its start.
fn read_from(path: &std::path::Path, offset: u64) -> std::io::Result<(Vec<String>, u64)> {
    let mut f = std::fs::File::open(path)?;
    let len = f.metadata()?.len();
    let offset = if len < offset { 0 } else { offset };
    f.seek(SeekFrom::Start(offset))?;
    let mut buf = Vec::new();
    f.take(CHUNK).read_to_end(&mut buf)?;
    let end = buf.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let lines = String::from_utf8_lossy(&buf[..end])
        .lines()
        .map(str::to_string)
        .collect();
    Ok((lines, offset + end as u64))
}

/// One audit line as entries, one per target (`devices/r1,devices/r2`).
pub fn entries(a: &AuditEntry) -> Vec<TimelineEntry> {
    let Ok(time) = a.time.parse::<jiff::Timestamp>() else {
        return Vec::new();
    };
    let severity = match (a.phase.as_str(), a.ok) {
        ("refused", _) => Severity::Warning,
        (_, Some(false)) => Severity::Error,
        _ => Severity::Info,
    };
    let detail = match &a.result {
        Some(r) => format!("{} by {}: {}", a.phase, a.user, r),
        None => format!("{} by {}", a.phase, a.user),
    };
    a.target
        .split(',')
        .map(|t| {
            let (kind, name) = match t.split_once('/') {
                Some((k, n)) => (ResourceKind::from_alias(k), n),
                None => (None, t),
            };
            TimelineEntry {
                time,
                source: SourceId::new(sanitize_plain(&a.source)),
                kind,
                id: None,
                name: sanitize_plain(name),
                what: sanitize_plain(&a.action),
                detail: sanitize_plain(&detail),
                severity,
            }
        })
        .collect()
}
