//! The timeline's Mender part: the server has no event stream, so the deployments watch's
//! lists are the history. A deployment's creation and its end are in the list itself (with
//! the server's times: replayed for any window, the CLI's too); what happens in between
//! (pending → inprogress, devices failing while it runs) is seen by comparing a list with the
//! one before, at the time it was seen.

use std::collections::HashMap;

use crate::model::{DeploymentFacts, Resource, Severity, TimelineEntry};

/// Each deployment's status and failures at the previous list.
pub type Seen = HashMap<String, (String, u64)>;

/// Column of the artifact in a deployment row (`model::kind`, MenderDeployment).
const ARTIFACT: usize = 1;

/// Creations and ends between `since` and `until`, from the rows alone.
pub fn listed(
    rows: &[Resource],
    since: jiff::Timestamp,
    until: Option<jiff::Timestamp>,
) -> Vec<TimelineEntry> {
    let within = |t: &jiff::Timestamp| *t >= since && until.is_none_or(|u| *t <= u);
    let mut out = Vec::new();
    for r in rows {
        let Some(f) = &r.facts.deployment else {
            continue;
        };
        if let Some(t) = r.created.filter(within) {
            let artifact = r.cells.get(ARTIFACT).cloned().unwrap_or_default();
            out.push(TimelineEntry::about(
                r,
                t,
                "deployment created",
                artifact,
                Severity::Info,
            ));
        }
        if let Some(t) = f.finished.filter(within).filter(|_| f.status == "finished") {
            let severity = if f.failure > 0 {
                Severity::Error
            } else if f.aborted > 0 {
                Severity::Warning
            } else {
                Severity::Info
            };
            out.push(TimelineEntry::about(
                r,
                t,
                "deployment finished",
                outcome(f),
                severity,
            ));
        }
    }
    out
}

/// What changed since the previous list, at `now`: a status other than finished (its end is
/// listed with the server's time), and devices that failed while it runs. A deployment's
/// first list is only remembered.
pub fn changes(seen: &mut Seen, rows: &[Resource], now: jiff::Timestamp) -> Vec<TimelineEntry> {
    let mut out = Vec::new();
    for r in rows {
        let Some(f) = &r.facts.deployment else {
            continue;
        };
        if let Some((old_status, old_failure)) = seen.get(&r.key.id) {
            if *old_status != f.status && f.status != "finished" {
                let detail = format!("{old_status} → {}", f.status);
                let what = format!("deployment {}", f.status);
                out.push(TimelineEntry::about(r, now, &what, detail, Severity::Info));
            }
            if f.failure > *old_failure && f.status != "finished" {
                let detail = format!("{} device(s) failed so far", f.failure);
                out.push(TimelineEntry::about(
                    r,
                    now,
                    "device failed",
                    detail,
                    Severity::Error,
                ));
            }
        }
        seen.insert(r.key.id.clone(), (f.status.clone(), f.failure));
    }
    out
}

/// "3 succeeded, 1 failed, 0 aborted".
fn outcome(f: &DeploymentFacts) -> String {
    format!(
        "{} succeeded, {} failed, {} aborted",
        f.success, f.failure, f.aborted
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SourceId;
    use serde_json::json;

    fn at(s: i64) -> jiff::Timestamp {
        jiff::Timestamp::from_second(1_800_000_000 + s).unwrap()
    }

    fn dep(status: &str, failure: u64, finished: Option<i64>) -> Resource {
        let mut d = json!({"id": "d1", "name": "rollout", "artifact_name": "rel-2",
            "status": status, "created": at(0).to_string()});
        if let Some(f) = finished {
            d["finished"] = json!(at(f).to_string());
        }
        let stats = json!({"success": 2, "failure": failure});
        super::super::map::deployment_row(&SourceId::new("mender:t"), &d, Some(&stats))
    }

    fn whats(e: Vec<TimelineEntry>) -> Vec<(String, String, Severity)> {
        e.into_iter()
            .map(|e| (e.what, e.detail, e.severity))
            .collect()
    }

    #[test]
    fn created_and_finished_come_from_the_list() {
        let rows = [dep("finished", 1, Some(60))];
        assert_eq!(
            whats(listed(&rows, at(-10), None)),
            [
                ("deployment created".into(), "rel-2".into(), Severity::Info),
                (
                    "deployment finished".into(),
                    "2 succeeded, 1 failed, 0 aborted".into(),
                    Severity::Error
                )
            ]
        );
        assert_eq!(
            listed(&rows, at(30), Some(at(50))),
            [],
            "outside the window"
        );
    }

    #[test]
    fn status_changes_and_failures_while_it_runs() {
        let mut seen = Seen::new();
        let now = at(100);
        assert_eq!(changes(&mut seen, &[dep("pending", 0, None)], now), []);
        assert_eq!(
            whats(changes(&mut seen, &[dep("inprogress", 0, None)], now)),
            [(
                "deployment inprogress".into(),
                "pending → inprogress".into(),
                Severity::Info
            )]
        );
        assert_eq!(
            whats(changes(&mut seen, &[dep("inprogress", 1, None)], now)),
            [(
                "device failed".into(),
                "1 device(s) failed so far".into(),
                Severity::Error
            )]
        );
        assert_eq!(
            changes(&mut seen, &[dep("finished", 1, Some(90))], now),
            [],
            "its end is listed"
        );
    }
}
