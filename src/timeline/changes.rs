//! Timeline entries from a source's own watch: a backend whose engine has no event stream of
//! its own for the timeline (Kubernetes events are a list kind; devices are polled) runs its
//! watch of one kind here and turns each list it sends into entries.

use tokio::sync::mpsc;

use crate::backend::report::Reporter;
use crate::backend::{BackendEvent, EventTx, TaskHandle};
use crate::model::{Resource, TimelineEntry};

/// Run the watch `start` makes and send `entries(rows)` for every list it sends, and for the
/// rows of every batch of changes (the ring drops repeats). With `once`, the first list only (the CLI), then the task ends.
pub fn from_watch<F>(
    start: impl FnOnce(EventTx) -> TaskHandle,
    report: Reporter,
    once: bool,
    mut entries: F,
) -> TaskHandle
where
    F: FnMut(&[Resource]) -> Vec<TimelineEntry> + Send + 'static,
{
    let (tx, mut rx) = mpsc::channel(16);
    let watch = start(tx);
    TaskHandle::spawn(async move {
        let _watch = watch;
        while let Some(ev) = rx.recv().await {
            let rows = match ev {
                BackendEvent::Snapshot { resources, .. } => resources,
                // Rows that came or changed since the last list: their entries (the ring
                // drops repeats; a removed row has no new entry).
                BackendEvent::Changes { changes, .. } => changes.upserted,
                BackendEvent::Incomplete {
                    resources: Some(r),
                    loading: false,
                    ..
                } => r,
                // A one-off read (the CLI) ends when the kind cannot be listed: the source's
                // other feeds say why.
                BackendEvent::Unavailable { .. }
                | BackendEvent::Status(_, crate::model::SourceStatus::Reconnecting { .. })
                    if once =>
                {
                    break;
                }
                // Statuses reach the header through the views' own watches and the probe.
                _ => continue,
            };
            let entries = entries(&rows);
            if !entries.is_empty() && report.timeline(entries).await.is_err() || once {
                break;
            }
        }
    })
}

/// Entries computed again from every list (a list's rows say when their states began): only
/// the ones not sent before go out. Remembers the last list's entries only, so it stays as
/// small as the list.
#[derive(Debug, Default)]
pub struct Unsent {
    sent: std::collections::HashSet<u64>,
}

impl Unsent {
    pub fn only_new(&mut self, entries: Vec<TimelineEntry>) -> Vec<TimelineEntry> {
        use std::hash::{Hash, Hasher};
        let hash = |e: &TimelineEntry| {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            e.hash(&mut h);
            h.finish()
        };
        let now: std::collections::HashSet<u64> = entries.iter().map(hash).collect();
        let fresh = entries
            .into_iter()
            .filter(|e| !self.sent.contains(&hash(e)))
            .collect();
        self.sent = now;
        fresh
    }
}
