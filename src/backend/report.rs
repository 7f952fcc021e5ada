//! How a backend task tells the UI what it sees: one [`Reporter`] per source task, one
//! [`log_ended`] per log stream. Every send answers `Err(Gone)` once the UI dropped its
//! receiver (a closed view, a quitting console), and a task stops on that: a backend never
//! keeps working for nobody.
//!
//! The events themselves are [`BackendEvent`]; this file only spares each backend the
//! `tx.send(BackendEvent::…).await.is_err()` dance and keeps the status texts in one shape.

use std::future::Future;
use std::time::Duration;

use super::{BackendEvent, EventTx, StreamId, TaskHandle};
use crate::model::{
    LogLine, Resource, ResourceKey, ResourceKind, SourceId, SourceStatus, StatsSample, Work,
};

/// The UI dropped its receiver: the task should stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gone;

/// Sends one source's events to the UI.
#[derive(Debug, Clone)]
pub struct Reporter {
    source: SourceId,
    tx: EventTx,
}

impl Reporter {
    pub fn new(source: SourceId, tx: EventTx) -> Self {
        Reporter { source, tx }
    }

    pub fn source(&self) -> &SourceId {
        &self.source
    }

    /// The UI went away (checked between polls, where nothing else would notice).
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    pub async fn send(&self, ev: BackendEvent) -> Result<(), Gone> {
        self.tx.send(ev).await.map_err(|_| Gone)
    }

    pub async fn status(&self, status: SourceStatus) -> Result<(), Gone> {
        self.send(BackendEvent::Status(self.source.clone(), status))
            .await
    }

    pub async fn connecting(&self) -> Result<(), Gone> {
        self.status(SourceStatus::Connecting).await
    }

    /// The header's "connected" text ("Docker 27.1 · API 1.46 · default socket").
    pub async fn connected(&self, text: String) -> Result<(), Gone> {
        self.status(SourceStatus::Connected(text)).await
    }

    /// The header says why the source is down and when it is tried again.
    pub async fn reconnecting(&self, error: String, retry_in: Duration) -> Result<(), Gone> {
        self.status(reconnecting(error, retry_in)).await
    }

    /// The complete current rows of `kind`.
    pub async fn snapshot(&self, kind: ResourceKind, resources: Vec<Resource>) -> Result<(), Gone> {
        self.send(BackendEvent::Snapshot {
            source: self.source.clone(),
            kind,
            resources,
        })
        .await
    }

    /// What changed in `kind` since the last snapshot or changes (see `BackendEvent::Changes`).
    pub async fn changes(
        &self,
        kind: ResourceKind,
        changes: super::changes::RowChanges,
    ) -> Result<(), Gone> {
        self.send(BackendEvent::Changes {
            source: self.source.clone(),
            kind,
            changes,
        })
        .await
    }

    /// The source is up but cannot serve `kind`; the view shows `reason`.
    pub async fn unavailable(&self, kind: ResourceKind, reason: String) -> Result<(), Gone> {
        self.send(self.unavailable_event(kind, reason)).await
    }

    pub fn unavailable_event(&self, kind: ResourceKind, reason: String) -> BackendEvent {
        BackendEvent::Unavailable {
            source: self.source.clone(),
            kind,
            reason,
        }
    }

    /// An incomplete list (see [`BackendEvent::Incomplete`]).
    pub fn incomplete_event(
        &self,
        kind: ResourceKind,
        resources: Option<Vec<Resource>>,
        note: String,
        loading: bool,
    ) -> BackendEvent {
        BackendEvent::Incomplete {
            source: self.source.clone(),
            kind,
            resources,
            note,
            loading,
        }
    }

    /// Things that happened, for the timeline (nothing is sent for none).
    pub async fn timeline(&self, entries: Vec<crate::model::TimelineEntry>) -> Result<(), Gone> {
        if entries.is_empty() {
            return Ok(());
        }
        self.send(BackendEvent::Timeline(entries)).await
    }

    /// What quitting would interrupt now.
    pub async fn work(&self, work: Vec<Work>) -> Result<(), Gone> {
        self.send(BackendEvent::Work {
            source: self.source.clone(),
            work,
        })
        .await
    }
}

/// The header's "reconnecting" status: why, and in how many seconds the next try is.
pub fn reconnecting(error: String, retry_in: Duration) -> SourceStatus {
    SourceStatus::Reconnecting {
        error,
        retry_in_secs: retry_in.as_secs(),
    }
}

/// One batch of a log stream's lines (see `batch` for when a batch goes out).
pub async fn log_lines(tx: &EventTx, stream: StreamId, lines: Vec<LogLine>) -> Result<(), Gone> {
    tx.send(BackendEvent::LogLines { stream, lines })
        .await
        .map_err(|_| Gone)
}

/// What a log view's waiting sources say, as one note (None: all stream or ended): each
/// `(name, why it waits)`, the name left out when the view has a single source.
pub fn waiting_note<'a>(
    sources: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
    single: bool,
) -> Option<String> {
    let parts: Vec<String> = sources
        .into_iter()
        .filter_map(|(name, note)| {
            let n = note?;
            Some(if single {
                n.to_string()
            } else {
                format!("{name} {n}")
            })
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// A followed stream waits (`Some(why)`) or streams again (`None`): see `BackendEvent::LogNote`.
pub async fn log_note(tx: &EventTx, stream: StreamId, note: Option<String>) -> Result<(), Gone> {
    tx.send(BackendEvent::LogNote { stream, note })
        .await
        .map_err(|_| Gone)
}

/// One resource-use sample of `key`.
pub async fn stats(tx: &EventTx, key: ResourceKey, sample: StatsSample) -> Result<(), Gone> {
    tx.send(BackendEvent::Stats { key, sample })
        .await
        .map_err(|_| Gone)
}

/// Spawn a log stream: `work` sends the lines and returns how the stream ended; the task then
/// ends it with [`log_ended`]. Dropping the handle stops both.
pub fn log_task<Fut>(stream: StreamId, tx: EventTx, work: impl FnOnce(EventTx) -> Fut) -> TaskHandle
where
    Fut: Future<Output = Result<Option<String>, Gone>> + Send + 'static,
{
    let end = tx.clone();
    let work = work(tx);
    TaskHandle::spawn(async move { log_ended(&end, stream, work.await).await })
}

/// End a log stream with exactly one `LogEnded` (`error` None: it simply finished), unless
/// the UI already went away (`Err(Gone)`): every backend's log task ends through here.
pub async fn log_ended(tx: &EventTx, stream: StreamId, result: Result<Option<String>, Gone>) {
    if let Ok(error) = result {
        // Nobody to tell when this fails: the UI closed the stream first.
        let _ = tx.send(BackendEvent::LogEnded { stream, error }).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sends_stop_once_the_ui_is_gone() {
        let (tx, mut rx) = tokio::sync::mpsc::channel(4);
        let r = Reporter::new(SourceId::new("docker:x"), tx.clone());
        r.reconnecting("down".into(), Duration::from_secs(4))
            .await
            .unwrap();
        match rx.recv().await {
            Some(BackendEvent::Status(
                id,
                SourceStatus::Reconnecting {
                    error,
                    retry_in_secs,
                },
            )) => {
                assert_eq!(id.as_str(), "docker:x");
                assert_eq!((error.as_str(), retry_in_secs), ("down", 4));
            }
            other => panic!("{other:?}"),
        }
        log_ended(&tx, 7, Ok(None)).await;
        assert!(matches!(
            rx.recv().await,
            Some(BackendEvent::LogEnded {
                stream: 7,
                error: None
            })
        ));
        drop(rx);
        assert!(r.is_closed());
        assert_eq!(r.connecting().await, Err(Gone));
    }
}
