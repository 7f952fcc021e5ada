//! The refresh loop of one open Mender view, and how its outcome reaches the UI; and the
//! probe that tells the header whether the server answers before any view is open.
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
use super::{DEVAUTH, Inner, deployment_devices, deployments, devices};
use crate::backend::report::{Gone, Reporter, reconnecting};
use crate::backend::supervise::{Backoff, Reconnect, Retry, until_ok};
use crate::backend::{BackendEvent, EventTx};
use crate::model::{Resource, ResourceKind, SourceStatus};

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
    report: &'a Reporter,
    kind: ResourceKind,
    enabled: bool,
    sent: bool,
    gone: bool,
}

impl<'a> Progress<'a> {
    fn new(report: &'a Reporter, kind: ResourceKind, enabled: bool) -> Self {
        Progress {
            report,
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
        let ev = self
            .report
            .incomplete_event(self.kind, Some(rows), note, true);
        match self.report.send(ev).await {
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
    let report = Reporter::new(inner.id.clone(), tx);
    let Some(mut lister) = Lister::new(kind) else {
        let _ = report.snapshot(kind, Vec::new()).await;
        return;
    };
    let _ = poll(&inner, kind, &report, &mut lister).await;
}

/// Refresh until the UI goes away.
async fn poll(
    inner: &Inner,
    kind: ResourceKind,
    report: &Reporter,
    lister: &mut Lister,
) -> Result<(), Gone> {
    let mut backoff = Backoff::default();
    let mut connected = false;
    let mut shown = Shown::Nothing;
    loop {
        let first_load = !matches!(shown, Shown::Complete(_));
        let mut progress = Progress::new(report, kind, first_load);
        let result = lister.refresh(inner, &mut progress).await;
        if progress.gone {
            return Err(Gone);
        }
        if progress.sent && first_load {
            shown = Shown::Partial;
        }
        let delay = match result {
            Ok(resources) => {
                backoff.reset();
                if !connected {
                    connected = true;
                    report.connected(inner.server_text()).await?;
                }
                shown = Shown::Complete(jiff::Timestamp::now());
                report.snapshot(kind, resources).await?;
                inner.poll
            }
            Err(failed) => {
                connected = false;
                tracing::info!(source = %inner.id, kind = kind.name(), "mender: {}", failed.error);
                let (delay, events) =
                    on_failure(inner, report, kind, failed, &mut shown, &mut backoff);
                for ev in events {
                    report.send(ev).await?;
                }
                delay
            }
        };
        tokio::time::sleep(delay).await;
        if report.is_closed() {
            return Err(Gone);
        }
    }
}

/// The delay before the next try and the events that tell the UI.
fn on_failure(
    inner: &Inner,
    report: &Reporter,
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
            reconnecting(reason.clone(), delay)
        };
        events.push(BackendEvent::Status(inner.id.clone(), status));
        events.push(report.unavailable_event(kind, reason));
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
        Shown::Complete(at) => Some(report.incomplete_event(
            kind,
            None,
            format!(
                "not refreshed: {error}{retry}; showing the list read at {}",
                local_time(at)
            ),
            false,
        )),
        // Rows of the first load are on screen: replace them with the most this try read.
        Shown::Partial => Some(incomplete(report, kind, rows, &error, &retry)),
        Shown::Nothing if answered || has_rows => Some(incomplete(
            report,
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
        ApiError::RateLimited(_) => reconnecting(error.cause.to_string(), delay),
        _ => reconnecting(error.to_string(), delay),
    };
    events.push(BackendEvent::Status(inner.id.clone(), status));
    (delay, events)
}

fn incomplete(
    report: &Reporter,
    kind: ResourceKind,
    rows: Option<Vec<Resource>>,
    error: &FetchError,
    retry: &str,
) -> BackendEvent {
    report.incomplete_event(
        kind,
        rows,
        format!("incomplete list: {error}{retry}"),
        false,
    )
}

fn local_time(t: jiff::Timestamp) -> String {
    t.to_zoned(jiff::tz::TimeZone::system())
        .strftime("%H:%M:%S")
        .to_string()
}

/// One cheap request so the header shows the server's state before any Mender view is open;
/// retried with backoff until it answers.
pub async fn probe(inner: Arc<Inner>, tx: EventTx) {
    let report = Reporter::new(inner.id.clone(), tx);
    let path = format!("{DEVAUTH}?page=1&per_page=1");
    let answered = until_ok(
        &mut Reconnect::new(&report, "mender probe"),
        async || match inner.api.request(http::Method::GET, &path, None).await {
            Ok(_) | Err(ApiError::Forbidden(_)) => Ok(()),
            Err(e @ ApiError::RateLimited(secs)) => {
                Err(Retry::After(e.to_string(), Duration::from_secs(secs)))
            }
            Err(e) => Err(Retry::Backoff(inner.describe_error(e))),
        },
    )
    .await;
    if answered.is_ok() {
        // The last word of this task: nobody to tell when the UI is gone.
        let _ = report.connected(inner.server_text()).await;
    }
}
