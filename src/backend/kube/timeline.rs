//! The timeline's Kubernetes part: the events the `:events` view lists (its watch feeds both),
//! each one entry at its last time seen, pointing at the object it is about.

use crate::model::{Resource, ResourceKind, Severity, TimelineEntry};

/// Column indexes of an event row (`model::kind`, KEvent).
const NAMESPACE: usize = 0;
const TYPE: usize = 2;
const REASON: usize = 3;
const OBJECT: usize = 4;
const MESSAGE: usize = 5;

/// The entries of event rows seen between `since` and `until`.
pub fn entries(
    rows: &[Resource],
    since: jiff::Timestamp,
    until: Option<jiff::Timestamp>,
) -> Vec<TimelineEntry> {
    let mut out: Vec<TimelineEntry> = rows
        .iter()
        .filter(|r| {
            r.created
                .is_some_and(|t| t >= since && until.is_none_or(|u| t <= u))
        })
        .filter_map(entry)
        .collect();
    out.sort_by_key(|a| a.time);
    out
}

/// One event row as an entry: `Warning BackOff` on `pod/web-1`.
pub fn entry(r: &Resource) -> Option<TimelineEntry> {
    let cell = |i: usize| r.cells.get(i).map(String::as_str).unwrap_or_default();
    let (kind_word, name) = cell(OBJECT).split_once('/').unwrap_or(("", cell(OBJECT)));
    let kind = object_kind(kind_word);
    let ns = cell(NAMESPACE);
    let id = match kind {
        Some(ResourceKind::KNode | ResourceKind::Namespace) | None => name.to_string(),
        Some(_) if !ns.is_empty() => format!("{ns}/{name}"),
        Some(_) => name.to_string(),
    };
    let typ = cell(TYPE);
    Some(TimelineEntry {
        time: r.created?,
        source: r.key.source.clone(),
        kind,
        id: Some(id),
        name: name.to_string(),
        what: format!("{typ} {}", cell(REASON)),
        detail: cell(MESSAGE).to_string(),
        severity: if typ == "Warning" {
            Severity::Warning
        } else {
            Severity::Info
        },
    })
}

/// The kind fleetdeck lists for an event's `involvedObject.kind` (lower-cased).
fn object_kind(word: &str) -> Option<ResourceKind> {
    match word {
        "node" => Some(ResourceKind::KNode),
        "service" => Some(ResourceKind::KService),
        "pod" | "deployment" | "statefulset" | "daemonset" | "replicaset" | "namespace" => {
            ResourceKind::from_alias(word)
        }
        _ => None,
    }
}
