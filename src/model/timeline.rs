//! One entry of the timeline (`:timeline`, `fleetdeck timeline`): something that happened to
//! one resource of one source, in every engine's words but one shape.

use serde::{Deserialize, Serialize};

use super::{Resource, ResourceKind, SourceId};

/// How much an entry matters; the theme colours it, `-o json` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// What happened, when, to what. Backends fill it from their engine's events (Docker
/// `/events`, Kubernetes events, device state changes); the console adds its audit log.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub time: jiff::Timestamp,
    pub source: SourceId,
    /// The kind of the resource it happened to, when fleetdeck lists that kind (Enter opens it).
    pub kind: Option<ResourceKind>,
    /// The resource's key id in that kind (a container id, `ns/name`), when known; else the
    /// row is found by `name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The resource's name as its view shows it.
    pub name: String,
    /// What happened, short: `die`, `kill`, `health_status: unhealthy`, `Warning BackOff`.
    pub what: String,
    /// The rest, one line: exit code, the event's message, who did it.
    pub detail: String,
    pub severity: Severity,
}

impl TimelineEntry {
    /// An entry about the table row `r` (Enter opens it): its source, kind, id and name.
    pub fn about(
        r: &Resource,
        time: jiff::Timestamp,
        what: impl Into<String>,
        detail: String,
        severity: Severity,
    ) -> TimelineEntry {
        TimelineEntry {
            time,
            source: r.key.source.clone(),
            kind: Some(r.key.kind),
            id: Some(r.key.id.clone()),
            name: r.name.clone(),
            what: what.into(),
            detail,
            severity,
        }
    }
}
