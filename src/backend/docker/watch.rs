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
use super::error::{human_error, is_transport_error};
use super::inspect::FactCache;
use super::list::list;
use crate::backend::EventTx;
use crate::backend::report::{Gone, Reporter};
use crate::backend::supervise::{Exit, supervise};
use crate::model::ResourceKind;

/// Coalesce a burst (compose up starts ten containers) into one relist.
const DEBOUNCE: Duration = Duration::from_millis(20);
/// How long the inspects of a large list (the first, or a relist with many new containers)
/// wait for its rows, sent ahead as loading, to be drawn.
const FIRST_ROWS_HEADSTART: Duration = Duration::from_millis(40);
/// Refresh "Up 5 minutes" / "Exited (0) 3 hours ago" texts, which change without events.
const STATUS_RESYNC: Duration = Duration::from_secs(30);
/// Task states on other nodes change without an event reaching this engine: an open task
/// view (or a converging service) is reconciled at most this often.
const SWARM_RECONCILE: Duration = Duration::from_secs(2);
/// How often to look again whether an engine that is not a swarm manager has become one. The
/// swarm kinds are watched from every view (the triage badge), so on the common engine that
/// is no swarm this is the console's only idle work besides the status resync: 3 kinds × 2
/// requests (connect, list) every 30 s. Joining a swarm is rare; 30 s to notice it is fine.
const NOT_A_MANAGER_RETRY: Duration = Duration::from_secs(30);

/// Why one connected session ended, beyond what [`Exit`] says.
enum End {
    Exit(Exit),
    /// Connected, but the engine cannot serve this kind (not a swarm manager): say so in the
    /// view and look again later, without marking the source as disconnected.
    Unavailable(String),
}

impl From<Gone> for End {
    fn from(g: Gone) -> Self {
        End::Exit(g.into())
    }
}

fn failed(text: String) -> End {
    End::Exit(Exit::Failed(text))
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

/// The watch task: runs until the handle is dropped or the UI goes away.
pub async fn run(inner: Arc<Inner>, kind: ResourceKind, tx: EventTx) {
    let report = Reporter::new(inner.id.clone(), tx);
    let (inner, report) = (&inner, &report);
    supervise(report, "docker watch", || async move {
        let mut answered = false;
        let end = session(inner, kind, report, &mut answered).await;
        if let Err(End::Exit(Exit::Failed(_) | Exit::Lost(_))) = &end {
            // The shared client may be what broke (the engine restarted, maybe upgraded): the
            // next session, and every one-shot call, connects and negotiates again.
            inner.forget_connection().await;
        }
        match end {
            Ok(never) => match never {},
            Err(End::Exit(Exit::Failed(e))) if answered => Exit::Lost(e),
            Err(End::Exit(exit)) => exit,
            Err(End::Unavailable(reason)) => match report.unavailable(kind, reason).await {
                Ok(()) => Exit::Pause(NOT_A_MANAGER_RETRY),
                Err(gone) => gone.into(),
            },
        }
    })
    .await;
}

/// One connected session: connect → Connected → Snapshot → events → Snapshots ... → error.
async fn session(
    inner: &Inner,
    kind: ResourceKind,
    report: &Reporter,
    answered: &mut bool,
) -> Result<std::convert::Infallible, End> {
    let resolved = inner.resolved.as_ref().map_err(|e| failed(e.clone()))?;
    let fail = |e: bollard::errors::Error| match super::swarm::not_a_manager(&e) {
        Some(reason) if super::swarm::is_swarm_kind(kind) => End::Unavailable(reason),
        _ => failed(human_error(&resolved.endpoint, &e)),
    };
    // A broken event stream after a good start means the engine went away (restart, network).
    let lost = |e: bollard::errors::Error| {
        if is_transport_error(&e) {
            tracing::debug!(error = %e, "docker event stream broke");
            failed(format!(
                "lost the connection to Docker at {}",
                resolved.endpoint
            ))
        } else {
            failed(human_error(&resolved.endpoint, &e))
        }
    };
    let closed = || {
        failed(format!(
            "Docker at {} closed the event stream",
            resolved.endpoint
        ))
    };

    // Subscribe from just before the first listing, so a change racing with it is replayed
    // (a spare relist) rather than lost.
    let now = jiff::Timestamp::now();
    let since = format!("{}.{:09}", now.as_second(), now.subsec_nanosecond().max(0));

    // The connection is the backend's one negotiated client: its watches, the timeline and the
    // one-shot calls share one `GET /version` instead of each asking — an answer that is not
    // cheap on the engine (20.10 runs `runc --version` and `docker-init --version` for it:
    // 15–37 ms alone, and a launch's list waited behind five at once; docs/PERFORMANCE.md §17).
    // The first list goes out beside it on a client of its own rather than after it: bollard's
    // request paths carry no API version, so the list does not need the answer. Connected is
    // still said first, as the header expects, and a failed connect ends the session without
    // waiting for the list.
    let (conn, mut rows) = {
        let early = super::connect::client(&resolved.endpoint).map_err(failed)?;
        let connecting = inner.connection();
        let listing = list(&early, &inner.id, kind);
        tokio::pin!(connecting, listing);
        let mut listed = None;
        let (conn, _) = loop {
            tokio::select! {
                c = &mut connecting => break c.map_err(failed)?,
                r = &mut listing, if listed.is_none() => listed = Some(r),
            }
        };
        report.connected(conn.status_text(&resolved.origin)).await?;
        *answered = true;
        let listed = match listed {
            Some(r) => r,
            None => listing.await,
        };
        (conn, listed.map_err(fail)?)
    };
    let docker = &conn.docker;
    tracing::debug!(?kind, rows = rows.len(), "docker: first list answered");

    let mut facts = FactCache::new(inner.recent_restart());
    if kind == ResourceKind::Container {
        fill_facts(&mut facts, docker, &mut rows, report).await?;
    }
    let converging = is_converging(kind, &rows);
    report.snapshot(kind, rows).await?;

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
                    facts.invalidate(actor_id(&ev));
                    // Debounce: swallow whatever else arrives in the next few ms.
                    let until = Instant::now() + DEBOUNCE;
                    loop {
                        tokio::select! {
                            more = events.next() => match more {
                                Some(Ok(ev)) => {
                                    facts.invalidate(actor_id(&ev));
                                    continue;
                                }
                                Some(Err(e)) => return Err(lost(e)),
                                None => return Err(closed()),
                            },
                            _ = sleep_until(until) => break,
                        }
                    }
                }
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(lost(e)),
                None => return Err(closed()),
            },
            _ = resync => facts.invalidate_troubled(),
        }
        let mut rows = list(docker, &inner.id, kind).await.map_err(fail)?;
        if kind == ResourceKind::Container {
            fill_facts(&mut facts, docker, &mut rows, report).await?;
        }
        next_resync = resync_every(is_converging(kind, &rows)).map(|d| Instant::now() + d);
        report.snapshot(kind, rows).await?;
    }
}

/// Inspect what `rows` need; when that is many containers, show the rows first (as loading:
/// a script waits for the complete snapshot that follows).
async fn fill_facts(
    facts: &mut FactCache,
    docker: &bollard::Docker,
    rows: &mut [crate::model::Resource],
    report: &Reporter,
) -> Result<(), Gone> {
    let unknown = facts.unknown(rows);
    if unknown > super::inspect::SHOW_FIRST {
        let note = format!("reading restarts and exit codes of {unknown} containers…");
        let ev = report.incomplete_event(ResourceKind::Container, Some(rows.to_vec()), note, true);
        report.send(ev).await?;
        // Let the UI draw those rows before a thousand inspects load the engine and the CPU
        // it shares (on 2 cores they held the first rows back by 10–40 ms; §17).
        tokio::time::sleep(FIRST_ROWS_HEADSTART).await;
    }
    facts.fill(docker, rows).await;
    Ok(())
}

/// The container an event is about (health checks, restarts and exits change its facts).
fn actor_id(ev: &EventMessage) -> Option<&str> {
    match ev.typ {
        Some(EventMessageTypeEnum::CONTAINER) => ev.actor.as_ref()?.id.as_deref(),
        _ => None,
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
