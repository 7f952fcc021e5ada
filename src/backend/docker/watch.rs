//! Keep one kind's list current: connect, snapshot, then re-snapshot on engine events.
//!
//! `/events` pushes changes, so nothing is polled (principle 4, docs/ARCHITECTURE.md), except a slow resync of
//! containers whose STATUS text ("Up 5 minutes") ages without any event.

use std::sync::Arc;
use std::time::Duration;

use bollard::models::{EventMessage, EventMessageTypeEnum};
use bollard::query_parameters::EventsOptionsBuilder;
use futures::StreamExt;
use tokio::time::{Instant, sleep_until};

use super::Inner;
use super::connect::Connection;
use super::error::{human_error, is_transport_error};
use super::list::list;
use crate::backend::task::Backoff;
use crate::backend::{BackendEvent, EventTx};
use crate::model::{ResourceKind, SourceStatus};

/// Coalesce a burst (compose up starts ten containers) into one relist.
const DEBOUNCE: Duration = Duration::from_millis(20);
/// Refresh "Up 5 minutes" / "Exited (0) 3 hours ago" texts, which change without events.
const STATUS_RESYNC: Duration = Duration::from_secs(30);
/// Task states on other nodes change without an event reaching this engine: an open task
/// view (or a converging service) is reconciled at most this often.
const SWARM_RECONCILE: Duration = Duration::from_secs(2);
/// How often to look again whether an engine that is not a swarm manager has become one.
const NOT_A_MANAGER_RETRY: Duration = Duration::from_secs(10);

/// Why one connected session of the loop ended.
enum Exit {
    /// The UI dropped its receiver: stop for good.
    Closed,
    /// Reconnect after a backoff; the text is shown in the header.
    Failed(String),
    /// Connected, but the engine cannot serve this kind (not a swarm manager): say so in the
    /// view and look again later, without marking the source as disconnected.
    Unavailable(String),
}

/// The event types that can change the list of `kind`.
fn event_types(kind: ResourceKind) -> &'static [&'static str] {
    match kind {
        ResourceKind::Container | ResourceKind::Project => &["container"],
        // The CONTAINERS column changes when containers come and go.
        ResourceKind::Image => &["image", "container"],
        ResourceKind::Volume => &["volume"],
        ResourceKind::Network => &["network"],
        // Replica counts move with the containers of local tasks.
        ResourceKind::Stack | ResourceKind::Service => &["service", "container"],
        ResourceKind::Task => &["service", "node", "container"],
        ResourceKind::Node => &["node"],
        ResourceKind::Secret => &["secret"],
        ResourceKind::Config => &["config"],
        // Not docker kinds: a docker source is never asked to watch them.
        _ => &[],
    }
}

/// Does this event change what `kind`'s table shows?
pub fn is_relevant(kind: ResourceKind, ev: &EventMessage) -> bool {
    let action = ev.action.as_deref().unwrap_or_default();
    match ev.typ {
        Some(EventMessageTypeEnum::CONTAINER) => match kind {
            ResourceKind::Container
            | ResourceKind::Project
            | ResourceKind::Stack
            | ResourceKind::Service
            | ResourceKind::Task => {
                // Health checks run as execs every few seconds; exec/attach/copy events never
                // change a row, relisting on them would make a healthy engine look busy.
                !(action.starts_with("exec_")
                    || matches!(
                        action,
                        "attach"
                            | "detach"
                            | "resize"
                            | "top"
                            | "export"
                            | "archive-path"
                            | "extract-to-dir"
                            | "copy"
                            | "commit"
                    ))
            }
            ResourceKind::Image => matches!(action, "create" | "destroy"),
            _ => false,
        },
        Some(EventMessageTypeEnum::IMAGE) => kind == ResourceKind::Image,
        Some(EventMessageTypeEnum::VOLUME) => {
            kind == ResourceKind::Volume && !matches!(action, "mount" | "unmount")
        }
        Some(EventMessageTypeEnum::NETWORK) => {
            kind == ResourceKind::Network && !matches!(action, "connect" | "disconnect")
        }
        Some(EventMessageTypeEnum::SERVICE) => {
            matches!(
                kind,
                ResourceKind::Stack | ResourceKind::Service | ResourceKind::Task
            )
        }
        Some(EventMessageTypeEnum::NODE) => matches!(kind, ResourceKind::Node | ResourceKind::Task),
        Some(EventMessageTypeEnum::SECRET) => kind == ResourceKind::Secret,
        Some(EventMessageTypeEnum::CONFIG) => kind == ResourceKind::Config,
        _ => false,
    }
}

async fn send(tx: &EventTx, ev: BackendEvent) -> Result<(), Exit> {
    tx.send(ev).await.map_err(|_| Exit::Closed)
}

/// The watch task: runs until the handle is dropped or the UI goes away.
pub async fn run(inner: Arc<Inner>, kind: ResourceKind, tx: EventTx) {
    let mut backoff = Backoff::default();
    if tx
        .send(BackendEvent::Status(
            inner.id.clone(),
            SourceStatus::Connecting,
        ))
        .await
        .is_err()
    {
        return;
    }
    loop {
        let error = match session(&inner, kind, &tx, &mut backoff).await {
            Exit::Closed => return,
            Exit::Failed(e) => e,
            Exit::Unavailable(reason) => {
                let ev = BackendEvent::Unavailable {
                    source: inner.id.clone(),
                    kind,
                    reason,
                };
                if tx.send(ev).await.is_err() {
                    return;
                }
                tokio::time::sleep(NOT_A_MANAGER_RETRY).await;
                continue;
            }
        };
        let delay = backoff.next_delay();
        tracing::debug!(source = %inner.id, ?kind, %error, ?delay, "docker watch reconnecting");
        let status = SourceStatus::Reconnecting {
            error,
            retry_in_secs: delay.as_secs(),
        };
        if tx
            .send(BackendEvent::Status(inner.id.clone(), status))
            .await
            .is_err()
        {
            return;
        }
        tokio::time::sleep(delay).await;
    }
}

/// One connected session: connect → Connected → Snapshot → events → Snapshots ... → error.
async fn session(inner: &Inner, kind: ResourceKind, tx: &EventTx, backoff: &mut Backoff) -> Exit {
    let resolved = match &inner.resolved {
        Ok(r) => r,
        Err(e) => return Exit::Failed(e.clone()),
    };
    let conn: Connection = match super::connect::connect(&resolved.endpoint).await {
        Ok(c) => c,
        Err(e) => return Exit::Failed(e),
    };
    let docker = &conn.docker;
    let fail = |e: bollard::errors::Error| match super::swarm::not_a_manager(&e) {
        Some(reason) if super::swarm::is_swarm_kind(kind) => Exit::Unavailable(reason),
        _ => Exit::Failed(human_error(&resolved.endpoint, &e)),
    };
    // A broken event stream after a good start means the engine went away (restart, network).
    let lost = |e: bollard::errors::Error| {
        if is_transport_error(&e) {
            tracing::debug!(error = %e, "docker event stream broke");
            Exit::Failed(format!(
                "lost the connection to Docker at {}",
                resolved.endpoint
            ))
        } else {
            Exit::Failed(human_error(&resolved.endpoint, &e))
        }
    };

    let connected = SourceStatus::Connected(conn.status_text(&resolved.origin));
    if let Err(e) = send(tx, BackendEvent::Status(inner.id.clone(), connected)).await {
        return e;
    }
    backoff.reset();

    // Subscribe from just before the first listing, so a change racing with it is replayed
    // (a spare relist) rather than lost.
    let now = jiff::Timestamp::now();
    let since = format!("{}.{:09}", now.as_second(), now.subsec_nanosecond().max(0));
    let snapshot = |resources| BackendEvent::Snapshot {
        source: inner.id.clone(),
        kind,
        resources,
    };

    let converging = match list(docker, &inner.id, kind).await {
        Ok(rows) => {
            let converging = is_converging(kind, &rows);
            if let Err(e) = send(tx, snapshot(rows)).await {
                return e;
            }
            converging
        }
        Err(e) => return fail(e),
    };

    let mut filters = std::collections::HashMap::new();
    filters.insert("type", event_types(kind).to_vec());
    let opts = EventsOptionsBuilder::default()
        .since(&since)
        .filters(&filters)
        .build();
    let mut events = docker.events(Some(opts));

    let resync_every = |converging: bool| match kind {
        ResourceKind::Container | ResourceKind::Project => Some(STATUS_RESYNC),
        ResourceKind::Task => Some(SWARM_RECONCILE),
        ResourceKind::Stack | ResourceKind::Service if converging => Some(SWARM_RECONCILE),
        _ => None,
    };
    let mut next_resync = resync_every(converging).map(|d| Instant::now() + d);

    loop {
        let resync = async {
            match next_resync {
                Some(at) => sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(ev)) if is_relevant(kind, &ev) => {
                    tracing::trace!(?kind, action = ?ev.action, "docker event");
                    // Debounce: swallow whatever else arrives in the next few ms.
                    let until = Instant::now() + DEBOUNCE;
                    loop {
                        tokio::select! {
                            more = events.next() => match more {
                                Some(Ok(_)) => continue,
                                Some(Err(e)) => return lost(e),
                                None => return Exit::Failed(format!("Docker at {} closed the event stream", resolved.endpoint)),
                            },
                            _ = sleep_until(until) => break,
                        }
                    }
                }
                Some(Ok(_)) => continue,
                Some(Err(e)) => return lost(e),
                None => return Exit::Failed(format!("Docker at {} closed the event stream", resolved.endpoint)),
            },
            _ = resync => {}
        }
        match list(docker, &inner.id, kind).await {
            Ok(rows) => {
                next_resync = resync_every(is_converging(kind, &rows)).map(|d| Instant::now() + d);
                if let Err(e) = send(tx, snapshot(rows)).await {
                    return e;
                }
            }
            Err(e) => return fail(e),
        }
    }
}

/// Services mid-update or short of replicas change without an event: a task's state reaches
/// the manager after its container's start event, and tasks on other nodes send no events here
/// at all. Keep reconciling until every service has what it wants.
fn is_converging(kind: ResourceKind, rows: &[crate::model::Resource]) -> bool {
    use crate::model::Health;
    matches!(kind, ResourceKind::Stack | ResourceKind::Service)
        && rows
            .iter()
            .any(|r| matches!(r.health, Health::Pending | Health::Failed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::models::EventMessage;

    fn ev(typ: EventMessageTypeEnum, action: &str) -> EventMessage {
        EventMessage {
            typ: Some(typ),
            action: Some(action.into()),
            ..Default::default()
        }
    }

    #[test]
    fn exec_events_do_not_trigger_relists() {
        use EventMessageTypeEnum as T;
        assert!(is_relevant(
            ResourceKind::Container,
            &ev(T::CONTAINER, "start")
        ));
        assert!(is_relevant(
            ResourceKind::Container,
            &ev(T::CONTAINER, "health_status: healthy")
        ));
        assert!(!is_relevant(
            ResourceKind::Container,
            &ev(T::CONTAINER, "exec_start: sh -c true")
        ));
        assert!(is_relevant(
            ResourceKind::Image,
            &ev(T::CONTAINER, "destroy")
        ));
        assert!(!is_relevant(
            ResourceKind::Image,
            &ev(T::CONTAINER, "start")
        ));
        assert!(!is_relevant(ResourceKind::Volume, &ev(T::VOLUME, "mount")));
        assert!(is_relevant(
            ResourceKind::Network,
            &ev(T::NETWORK, "create")
        ));
    }
}
