//! The refresh loop of one open Mender view, and how its outcome reaches the UI.
//!
//! Mender has no push channel: an open view is refreshed every `poll` while it is open. The
//! first refresh shows rows page by page (a long list is usable before its last page arrives);
//! later refreshes replace the list only once it is complete, so the table never shrinks to a
//! first page every few seconds. A list that cannot be read to its end is shown with a note
//! naming the endpoint and page ([`BackendEvent::Incomplete`]), never as a shorter list.

use std::sync::Arc;
use std::time::Duration;

use super::client::ApiError;
use super::paging::FetchError;
use super::{Inner, deployment_devices, deployments, devices};
use crate::backend::task::Backoff;
use crate::backend::{BackendEvent, EventTx};
use crate::model::{Resource, ResourceKind, SourceId, SourceStatus};

/// A refresh that could not complete: why, and the best rows it had when it stopped (None
/// when it had nothing to add to what the view shows).
#[derive(Debug)]
pub struct Failed {
    pub error: FetchError,
    pub rows: Option<Vec<Resource>>,
}

impl Failed {
    pub fn new(error: FetchError, rows: Option<Vec<Resource>>) -> Self {
        Failed { error, rows }
    }
}

/// Hands the rows read so far to the view while the first complete list is loading.
pub struct Progress<'a> {
    tx: &'a EventTx,
    source: &'a SourceId,
    kind: ResourceKind,
    enabled: bool,
    sent: bool,
    gone: bool,
}

impl<'a> Progress<'a> {
    fn new(tx: &'a EventTx, source: &'a SourceId, kind: ResourceKind, enabled: bool) -> Self {
        Progress {
            tx,
            source,
            kind,
            enabled,
            sent: false,
            gone: false,
        }
    }

    /// Whether partial rows are wanted now (build them only then: it costs a mapping).
    pub fn wanted(&self) -> bool {
        self.enabled && !self.gone
    }

    /// Show `rows` with `note` ("loading: 500 of 2000 ...").
    pub async fn rows(&mut self, rows: Vec<Resource>, note: String) {
        if !self.wanted() {
            return;
        }
        let ev = BackendEvent::Incomplete {
            source: self.source.clone(),
            kind: self.kind,
            resources: Some(rows),
            note,
            loading: true,
        };
        match self.tx.send(ev).await {
            Ok(()) => self.sent = true,
            Err(_) => self.gone = true,
        }
    }
}

/// "loading: 500 of 2000 devices (GET /api/...)" for a progress note.
pub fn loading_note(what: &str, read: usize, total: Option<u64>, endpoint: &str) -> String {
    match total {
        Some(t) => format!("loading {what}: {read} of {t} (GET {endpoint})"),
        None => format!("loading {what}: {read} so far (GET {endpoint})"),
    }
}

/// What a view keeps between refreshes (caches of things that no longer change).
enum Lister {
    Devices,
    Deployments(deployments::Tracker),
    DeploymentDevices(deployment_devices::Lists),
}

impl Lister {
    fn new(kind: ResourceKind) -> Option<Self> {
        match kind {
            ResourceKind::MenderDevice => Some(Lister::Devices),
            ResourceKind::MenderDeployment => {
                Some(Lister::Deployments(deployments::Tracker::default()))
            }
            ResourceKind::MenderDeploymentDevice => Some(Lister::DeploymentDevices(
                deployment_devices::Lists::default(),
            )),
            _ => None,
        }
    }

    async fn refresh(
        &mut self,
        inner: &Inner,
        progress: &mut Progress<'_>,
    ) -> Result<Vec<Resource>, Failed> {
        match self {
            Lister::Devices => devices::list(inner, progress).await,
            Lister::Deployments(t) => t.refresh(inner, progress).await,
            Lister::DeploymentDevices(l) => l.refresh(inner, progress).await,
        }
    }
}

/// What the view shows of this kind so far.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shown {
    Nothing,
    /// Rows of an unfinished first load.
    Partial,
    /// A complete list, read at this time.
    Complete(jiff::Timestamp),
}

/// Poll `kind` until the UI drops the handle.
pub async fn run(inner: Arc<Inner>, kind: ResourceKind, tx: EventTx) {
    let Some(mut lister) = Lister::new(kind) else {
        let _ = tx
            .send(BackendEvent::Snapshot {
                source: inner.id.clone(),
                kind,
                resources: Vec::new(),
            })
            .await;
        return;
    };
    let mut backoff = Backoff::default();
    let mut connected = false;
    let mut shown = Shown::Nothing;
    loop {
        let first_load = !matches!(shown, Shown::Complete(_));
        let mut progress = Progress::new(&tx, &inner.id, kind, first_load);
        let result = lister.refresh(&inner, &mut progress).await;
        if progress.gone {
            return;
        }
        if progress.sent && first_load {
            shown = Shown::Partial;
        }
        let delay = match result {
            Ok(resources) => {
                backoff.reset();
                if !connected {
                    connected = true;
                    let status = SourceStatus::Connected(inner.server_text());
                    if tx
                        .send(BackendEvent::Status(inner.id.clone(), status))
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
                shown = Shown::Complete(jiff::Timestamp::now());
                let ev = BackendEvent::Snapshot {
                    source: inner.id.clone(),
                    kind,
                    resources,
                };
                if tx.send(ev).await.is_err() {
                    return;
                }
                inner.poll
            }
            Err(failed) => {
                connected = false;
                tracing::info!(source = %inner.id, kind = kind.name(), "mender: {}", failed.error);
                let (delay, events) = on_failure(&inner, kind, failed, &mut shown, &mut backoff);
                for ev in events {
                    if tx.send(ev).await.is_err() {
                        return;
                    }
                }
                delay
            }
        };
        tokio::time::sleep(delay).await;
        if tx.is_closed() {
            return;
        }
    }
}

/// The delay before the next try and the events that tell the UI.
fn on_failure(
    inner: &Inner,
    kind: ResourceKind,
    failed: Failed,
    shown: &mut Shown,
    backoff: &mut Backoff,
) -> (Duration, Vec<BackendEvent>) {
    let Failed { error, rows } = failed;
    let has_rows = rows.as_ref().is_some_and(|r| !r.is_empty());
    let mut events = Vec::new();
    // No token, a wrong one, or no right to this list at all: nothing to show but why.
    // (A 403 on a secondary list, e.g. inventory, still leaves rows worth showing.)
    let auth = matches!(error.cause, ApiError::NoToken | ApiError::Unauthorized)
        || (matches!(error.cause, ApiError::Forbidden(_)) && !has_rows);
    if auth {
        let reason = inner.unavailable_text(&error.cause).unwrap_or_default();
        let delay = backoff.next_delay().max(inner.poll);
        // 403: the server answered and the token is valid; other kinds may work. 401 / no
        // token: nothing will, say so in the header too.
        let status = if matches!(error.cause, ApiError::Forbidden(_)) {
            SourceStatus::Connected(inner.server_text())
        } else {
            SourceStatus::Reconnecting {
                error: reason.clone(),
                retry_in_secs: delay.as_secs(),
            }
        };
        events.push(BackendEvent::Status(inner.id.clone(), status));
        events.push(BackendEvent::Unavailable {
            source: inner.id.clone(),
            kind,
            reason,
        });
        *shown = Shown::Nothing;
        return (delay, events);
    }
    let delay = match &error.cause {
        ApiError::RateLimited(secs) => Duration::from_secs(*secs),
        _ => backoff.next_delay(),
    };
    // The view says its list is not complete, whenever it shows rows (or, for an error the
    // server answered, why it shows none). A transport error or a 429 before any row was shown
    // is only a header status, as it always was.
    let answered = matches!(
        error.cause,
        ApiError::Status(..) | ApiError::Decode(_) | ApiError::Forbidden(_)
    );
    // "rate limited, retrying in Ns" already says when.
    let retry = match error.cause {
        ApiError::RateLimited(_) => String::new(),
        _ => format!("; retrying in {}s", delay.as_secs()),
    };
    let ev = match *shown {
        Shown::Complete(at) => Some(BackendEvent::Incomplete {
            source: inner.id.clone(),
            kind,
            resources: None,
            note: format!(
                "not refreshed: {error}{retry}; showing the list read at {}",
                local_time(at)
            ),
            loading: false,
        }),
        // Rows of the first load are on screen: replace them with the most this try read.
        Shown::Partial => Some(incomplete(inner, kind, rows, &error, &retry)),
        Shown::Nothing if answered || has_rows => Some(incomplete(
            inner,
            kind,
            Some(rows.unwrap_or_default()),
            &error,
            &retry,
        )),
        Shown::Nothing => None,
    };
    if let Some(ev) = ev {
        if !matches!(*shown, Shown::Complete(_)) {
            *shown = Shown::Partial;
        }
        events.push(ev);
    }
    // The header says the server is not answering as it should (a 403 on a secondary list is
    // an answer: the server is fine, the note in the view says what is missing).
    let status = match &error.cause {
        ApiError::Forbidden(_) => SourceStatus::Connected(inner.server_text()),
        ApiError::RateLimited(_) => SourceStatus::Reconnecting {
            error: error.cause.to_string(),
            retry_in_secs: delay.as_secs(),
        },
        _ => SourceStatus::Reconnecting {
            error: error.to_string(),
            retry_in_secs: delay.as_secs(),
        },
    };
    events.push(BackendEvent::Status(inner.id.clone(), status));
    (delay, events)
}

fn incomplete(
    inner: &Inner,
    kind: ResourceKind,
    rows: Option<Vec<Resource>>,
    error: &FetchError,
    retry: &str,
) -> BackendEvent {
    BackendEvent::Incomplete {
        source: inner.id.clone(),
        kind,
        resources: rows,
        note: format!("incomplete list: {error}{retry}"),
        loading: false,
    }
}

fn local_time(t: jiff::Timestamp) -> String {
    t.to_zoned(jiff::tz::TimeZone::system())
        .strftime("%H:%M:%S")
        .to_string()
}
