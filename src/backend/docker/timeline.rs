//! The timeline's Docker part: `/events` since a time (what the engine replays: its event
//! ring holds the last 256 or so), then live. Container lifecycle (die with its exit code,
//! oom, kill with its signal, restart, health_status, start, stop ...) and Swarm service and
//! node changes; exec events (health checks run as execs) are never asked for.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bollard::models::{EventMessage, EventMessageTypeEnum};
use bollard::query_parameters::EventsOptionsBuilder;
use futures::StreamExt;

use super::Inner;
use super::error::human_error;
use crate::backend::EventTx;
use crate::backend::report::{Gone, Reporter};
use crate::backend::supervise::{Exit, supervise};
use crate::model::{ResourceKind, Severity, TimelineEntry};
use crate::term::sanitize::sanitize_plain;

/// The actions asked for (Docker matches `health_status: …` by the part before the colon).
const ACTIONS: &[&str] = &[
    "create",
    "start",
    "restart",
    "stop",
    "kill",
    "die",
    "oom",
    "health_status",
    "pause",
    "unpause",
    "destroy",
    "update",
    "remove",
];

/// Live (`until` None): supervised, resumed after a reconnect from the last event seen, so the
/// gap is replayed (the ring drops the repeats). With `until`: one pass, then the task ends.
pub async fn run(
    inner: Arc<Inner>,
    since: jiff::Timestamp,
    until: Option<jiff::Timestamp>,
    tx: EventTx,
) {
    let report = Reporter::new(inner.id.clone(), tx);
    let since = Mutex::new(since);
    if until.is_some() {
        if let Exit::Failed(e) | Exit::Lost(e) = session(&inner, &since, until, &report).await {
            let _ = report.reconnecting(e, std::time::Duration::ZERO).await;
        }
        return;
    }
    let (inner, report, since) = (&inner, &report, &since);
    supervise(report, "docker events", || {
        session(inner, since, None, report)
    })
    .await;
}

/// One connection's events; `since` follows the newest event seen.
async fn session(
    inner: &Inner,
    since: &Mutex<jiff::Timestamp>,
    until: Option<jiff::Timestamp>,
    report: &Reporter,
) -> Exit {
    let (conn, endpoint) = match inner.connection().await {
        Ok(c) => c,
        Err(e) => return Exit::Failed(e),
    };
    // `supervise` said "connecting": say connected, as the watches do.
    if let Ok(resolved) = &inner.resolved
        && report
            .connected(conn.status_text(&resolved.origin))
            .await
            .is_err()
    {
        return Exit::Closed;
    }
    let from = *since.lock().unwrap_or_else(|p| p.into_inner());
    let mut filters = HashMap::new();
    filters.insert("type", vec!["container", "service", "node"]);
    filters.insert("event", ACTIONS.to_vec());
    let mut opts = EventsOptionsBuilder::default()
        .since(&docker_time(from))
        .filters(&filters);
    let until_text = until.map(docker_time);
    if let Some(u) = &until_text {
        opts = opts.until(u);
    }
    let mut events = conn.docker.events(Some(opts.build()));
    let mut answered = false;
    while let Some(ev) = events.next().await {
        let ev = match ev {
            Ok(ev) => ev,
            Err(e) => {
                inner.forget_if_transport(&e).await;
                let text = human_error(&endpoint, &e);
                return if answered {
                    Exit::Lost(text)
                } else {
                    Exit::Failed(text)
                };
            }
        };
        answered = true;
        if let Some(e) = entry(report.source(), &ev) {
            *since.lock().unwrap_or_else(|p| p.into_inner()) = e.time;
            if let Err(Gone) = report.timeline(vec![e]).await {
                return Exit::Closed;
            }
        }
    }
    if until.is_some() {
        Exit::Closed
    } else {
        Exit::Lost(format!("Docker at {endpoint} closed the event stream"))
    }
}

/// `/events` takes seconds with a fraction.
fn docker_time(t: jiff::Timestamp) -> String {
    format!("{}.{:09}", t.as_second(), t.subsec_nanosecond().max(0))
}

/// One engine event as an entry; None for what the timeline does not show.
pub fn entry(source: &crate::model::SourceId, ev: &EventMessage) -> Option<TimelineEntry> {
    let action = ev.action.as_deref()?;
    let actor = ev.actor.as_ref();
    let attrs = actor.and_then(|a| a.attributes.as_ref());
    let attr = |k: &str| attrs.and_then(|a| a.get(k)).map(|v| sanitize_plain(v));
    let id = actor.and_then(|a| a.id.clone()).map(|i| sanitize_plain(&i));
    let kind = match ev.typ? {
        EventMessageTypeEnum::CONTAINER => ResourceKind::Container,
        EventMessageTypeEnum::SERVICE => ResourceKind::Service,
        EventMessageTypeEnum::NODE => ResourceKind::Node,
        _ => return None,
    };
    if action.starts_with("exec_") {
        return None;
    }
    let (what, rest) = match action.split_once(':') {
        Some((w, r)) => (w.trim(), r.trim()),
        None => (action, ""),
    };
    if let Some((what, detail, severity)) = swarm_change(kind, what, &attr) {
        return Some(TimelineEntry {
            time: event_time(ev)?,
            source: source.clone(),
            kind: Some(kind),
            id,
            name: attr("name").unwrap_or_default(),
            what,
            detail,
            severity,
        });
    }
    let (severity, detail) = match (kind, what) {
        (ResourceKind::Container, "die") => {
            let code = attr("exitCode").unwrap_or_default();
            let sev = if code == "0" {
                Severity::Info
            } else {
                Severity::Error
            };
            (sev, format!("exit code {code}"))
        }
        (_, "oom") => (Severity::Error, "out of memory".to_string()),
        (_, "kill") => (
            Severity::Warning,
            format!("signal {}", attr("signal").unwrap_or_default()),
        ),
        (_, "restart") => (Severity::Warning, String::new()),
        (_, "health_status") if rest == "unhealthy" => (Severity::Error, rest.to_string()),
        (_, "health_status") => (Severity::Info, rest.to_string()),
        _ => (Severity::Info, attr("image").unwrap_or_default()),
    };
    let name = attr("name").or_else(|| id.clone()).unwrap_or_default();
    Some(TimelineEntry {
        time: event_time(ev)?,
        source: source.clone(),
        kind: Some(kind),
        id,
        name,
        what: sanitize_plain(what),
        detail,
        severity,
    })
}

fn event_time(ev: &EventMessage) -> Option<jiff::Timestamp> {
    let nanos = ev.time_nano.or(ev.time.map(|s| s * 1_000_000_000))?;
    jiff::Timestamp::from_nanosecond(i128::from(nanos)).ok()
}

/// A swarm service's or node's `update` event, by the attributes the engine adds to say what
/// changed (`updatestate.new`, `replicas.new`, `image.new`; a node's `state.new`,
/// `availability.new`): (what, detail, severity). None for a plain update.
fn swarm_change(
    kind: ResourceKind,
    action: &str,
    attr: &dyn Fn(&str) -> Option<String>,
) -> Option<(String, String, Severity)> {
    if action != "update" {
        return None;
    }
    let change = |k: &str| {
        let new = attr(&format!("{k}.new"))?;
        let old = attr(&format!("{k}.old"));
        Some((old, new))
    };
    let arrow = |old: Option<String>, new: &str| match old {
        Some(o) => format!("{o} → {new}"),
        None => new.to_string(),
    };
    match kind {
        ResourceKind::Service => {
            if let Some((old, new)) = change("updatestate") {
                let (what, severity) = match new.as_str() {
                    "updating" => ("update started", Severity::Info),
                    "paused" => ("update paused", Severity::Error),
                    "completed" => ("update completed", Severity::Info),
                    "rollback_started" => ("rollback started", Severity::Warning),
                    "rollback_paused" => ("rollback paused", Severity::Error),
                    "rollback_completed" => ("rolled back", Severity::Warning),
                    _ => ("update", Severity::Info),
                };
                return Some((what.into(), arrow(old, &new), severity));
            }
            if let Some((old, new)) = change("replicas") {
                return Some(("scale".into(), arrow(old, &new), Severity::Info));
            }
            let (old, new) = change("image")?;
            let short = |i: &str| super::swarm::map::short_image(i);
            let detail = arrow(old.as_deref().map(short), &short(&new));
            Some(("image".into(), detail, Severity::Info))
        }
        ResourceKind::Node => {
            if let Some((old, new)) = change("state") {
                let severity = match new.as_str() {
                    "down" | "disconnected" => Severity::Error,
                    "ready" => Severity::Info,
                    _ => Severity::Warning,
                };
                return Some((format!("node {new}"), arrow(old, &new), severity));
            }
            let (old, new) = change("availability")?;
            let (what, severity) = match new.as_str() {
                "drain" => ("node drained", Severity::Warning),
                "pause" => ("node paused", Severity::Warning),
                _ => ("node active", Severity::Info),
            };
            Some((what.into(), arrow(old, &new), severity))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::models::EventActor;

    fn ev(typ: EventMessageTypeEnum, attrs: &[(&str, &str)]) -> EventMessage {
        EventMessage {
            typ: Some(typ),
            action: Some("update".into()),
            actor: Some(EventActor {
                id: Some("abc".into()),
                attributes: Some(
                    attrs
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                ),
            }),
            time_nano: Some(1_795_807_943_564_050_040),
            ..Default::default()
        }
    }

    fn what(e: &EventMessage) -> (String, String, Severity) {
        let e = entry(&crate::model::SourceId::new("docker:t"), e).unwrap();
        (e.what, e.detail, e.severity)
    }

    #[test]
    fn swarm_updates_say_what_changed() {
        use EventMessageTypeEnum as T;
        let rolled = ev(
            T::SERVICE,
            &[
                ("name", "web"),
                ("updatestate.old", "rollback_started"),
                ("updatestate.new", "rollback_completed"),
            ],
        );
        assert_eq!(
            what(&rolled),
            (
                "rolled back".into(),
                "rollback_started → rollback_completed".into(),
                Severity::Warning
            )
        );
        let scaled = ev(
            T::SERVICE,
            &[
                ("name", "web"),
                ("replicas.old", "1"),
                ("replicas.new", "2"),
            ],
        );
        assert_eq!(
            what(&scaled),
            ("scale".into(), "1 → 2".into(), Severity::Info)
        );
        let drained = ev(
            T::NODE,
            &[
                ("name", "vm"),
                ("availability.old", "active"),
                ("availability.new", "drain"),
            ],
        );
        assert_eq!(
            what(&drained),
            (
                "node drained".into(),
                "active → drain".into(),
                Severity::Warning
            )
        );
        let down = ev(
            T::NODE,
            &[
                ("name", "vm"),
                ("state.old", "ready"),
                ("state.new", "down"),
            ],
        );
        assert_eq!(what(&down).2, Severity::Error);
        let plain = ev(T::SERVICE, &[("name", "web")]);
        assert_eq!(what(&plain).0, "update");
    }
}
