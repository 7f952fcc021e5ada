//! Timeline entries from a source's own watch: a backend whose engine has no event stream of
//! its own for the timeline (Kubernetes events are a list kind; devices are polled) runs its
//! watch of one kind here and turns each list it sends into entries.

use tokio::sync::mpsc;

use crate::backend::report::Reporter;
use crate::backend::{BackendEvent, EventTx, TaskHandle};
use crate::model::{Resource, TimelineEntry};

/// Run the watch `start` makes and send `entries(rows)` for every list it sends (the ring
/// drops repeats). With `once`, the first list only (the CLI), then the task ends.
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
                BackendEvent::Incomplete {
                    resources: Some(r),
                    loading: false,
                    ..
                } => r,
                // Statuses reach the header through the views' own watches and the probe.
                _ => continue,
            };
            if report.timeline(entries(&rows)).await.is_err() || once {
                break;
            }
        }
    })
}
