//! The timeline's device part: devices have no event stream, so the devices watch's lists are
//! compared with the previous ones: reachability (the STATE column: up, unreachable, FAILED,
//! degraded ...) and the installed artifact changing become entries, at the time they were seen.

use std::collections::HashMap;

use crate::model::{Health, Resource, Severity, TimelineEntry};

const STATE: usize = 1;
const ARTIFACT: usize = 8;

/// What changed since the previous list (`seen`: each device's STATE and ARTIFACT then). A
/// device's first list is only remembered: its state is not a change.
pub fn changes(
    seen: &mut HashMap<String, (String, String)>,
    rows: &[Resource],
    now: jiff::Timestamp,
) -> Vec<TimelineEntry> {
    let mut out = Vec::new();
    for r in rows {
        let cell = |i: usize| r.cells.get(i).cloned().unwrap_or_default();
        let (state, artifact) = (cell(STATE), cell(ARTIFACT));
        if let Some((old_state, old_artifact)) = seen.get(&r.key.id) {
            // Leaving "connecting" is the first answer, not a change of the device.
            if *old_state != state && old_state != "connecting" {
                let severity = match r.health {
                    Health::Failed => Severity::Error,
                    Health::Pending | Health::Unknown => Severity::Warning,
                    Health::Ok | Health::Stopped => Severity::Info,
                };
                out.push(TimelineEntry::about(
                    r,
                    now,
                    "state",
                    format!("{old_state} → {state}"),
                    severity,
                ));
            }
            if *old_artifact != artifact && !old_artifact.is_empty() && !artifact.is_empty() {
                let detail = format!("{old_artifact} → {artifact}");
                out.push(TimelineEntry::about(
                    r,
                    now,
                    "artifact",
                    detail,
                    Severity::Info,
                ));
            }
        }
        seen.insert(r.key.id.clone(), (state, artifact));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ResourceKey, ResourceKind, SourceId};

    fn device(state: &str, artifact: &str, health: Health) -> Resource {
        let mut cells = vec![String::new(); ResourceKind::Device.spec().columns.len()];
        cells[STATE] = state.into();
        cells[ARTIFACT] = artifact.into();
        Resource {
            key: ResourceKey {
                source: SourceId::new("fleet:site"),
                kind: ResourceKind::Device,
                id: "r1".into(),
            },
            name: "r1".into(),
            parent: None,
            health,
            cells,
            created: None,
            labels: Default::default(),
            facts: Default::default(),
        }
    }

    #[test]
    fn reachability_and_artifact_changes_not_first_answers() {
        let now = jiff::Timestamp::now();
        let mut seen = HashMap::new();
        let mut step = |s, a, h| {
            changes(&mut seen, &[device(s, a, h)], now)
                .into_iter()
                .map(|e| (e.what, e.detail, e.severity))
                .collect::<Vec<_>>()
        };
        assert!(step("connecting", "", Health::Pending).is_empty());
        assert!(step("up", "v1", Health::Ok).is_empty());
        assert!(step("up", "v1", Health::Ok).is_empty());
        assert_eq!(
            step("unreachable", "v1", Health::Failed),
            [("state".into(), "up → unreachable".into(), Severity::Error)]
        );
        assert_eq!(
            step("up", "v2", Health::Ok),
            [
                ("state".into(), "unreachable → up".into(), Severity::Info),
                ("artifact".into(), "v1 → v2".into(), Severity::Info)
            ]
        );
    }
}
