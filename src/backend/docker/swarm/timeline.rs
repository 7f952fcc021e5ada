//! The timeline's swarm task part. Tasks send no Docker events, but every task says when it
//! reached its state (`Status.Timestamp`) and when it was made: so the task list itself is
//! the history, and each list (the task watch's) gives its entries again; only new ones go
//! out (`changes::Unsent`), and the CLI's one list replays the window asked for.

use crate::model::{Resource, Severity, TaskPhase, TimelineEntry};

/// Column of the task's node in a task row (`model::kind`, Task).
const NODE: usize = 1;

/// The entries of task rows between `since` and `until`: `task created`, and the state it
/// reached (running, complete, shutdown, failed with its error, rejected ...).
pub fn task_entries(
    rows: &[Resource],
    since: jiff::Timestamp,
    until: Option<jiff::Timestamp>,
) -> Vec<TimelineEntry> {
    let within = |t: &jiff::Timestamp| *t >= since && until.is_none_or(|u| *t <= u);
    let mut out = Vec::new();
    for r in rows {
        let Some(f) = &r.facts.task else { continue };
        let node = r.cells.get(NODE).cloned().unwrap_or_default();
        if let Some(t) = f.created_at.filter(within) {
            let detail = if node.is_empty() {
                String::new()
            } else {
                format!("on {node}")
            };
            out.push(TimelineEntry::about(
                r,
                t,
                "task created",
                detail,
                Severity::Info,
            ));
        }
        let severity = match f.phase {
            // Still on its way (pending, preparing ...): the states it settles in say more.
            TaskPhase::Starting => continue,
            TaskPhase::Failed | TaskPhase::Rejected | TaskPhase::Orphaned => Severity::Error,
            TaskPhase::Running | TaskPhase::Complete | TaskPhase::Shutdown | TaskPhase::Removed => {
                Severity::Info
            }
        };
        if let Some(t) = r.created.filter(within) {
            let mut detail = f.error.clone();
            if detail.is_empty()
                && let Some(code) = f.exit_code.filter(|c| *c != 0)
            {
                detail = format!("exit code {code}");
            }
            out.push(TimelineEntry::about(
                r,
                t,
                format!("task {}", f.state),
                detail,
                severity,
            ));
        }
    }
    out.sort_by_key(|e| e.time);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ResourceKey, ResourceKind, SourceId, TaskFacts};

    fn at(s: i64) -> jiff::Timestamp {
        jiff::Timestamp::from_second(1_800_000_000 + s).unwrap()
    }

    fn task(phase: TaskPhase, state: &str, error: &str) -> Resource {
        let mut cells = vec![String::new(); ResourceKind::Task.spec().columns.len()];
        cells[NODE] = "vm".into();
        Resource {
            key: ResourceKey {
                source: SourceId::new("docker:t"),
                kind: ResourceKind::Task,
                id: "t1".into(),
            },
            name: "web.1".into(),
            parent: Some("web".into()),
            health: Default::default(),
            cells,
            created: Some(at(10)),
            labels: Default::default(),
            facts: crate::model::RowFacts {
                task: Some(Box::new(TaskFacts {
                    phase,
                    state: state.into(),
                    desired_running: false,
                    error: error.into(),
                    exit_code: Some(1),
                    created_at: Some(at(5)),
                })),
                ..Default::default()
            },
        }
    }

    #[test]
    fn a_failed_task_is_created_then_failed_with_its_error() {
        let rows = [task(TaskPhase::Failed, "failed", "task: non-zero exit (1)")];
        let got: Vec<_> = task_entries(&rows, at(0), None)
            .into_iter()
            .map(|e| (e.what, e.detail, e.severity))
            .collect();
        assert_eq!(
            got,
            [
                ("task created".into(), "on vm".into(), Severity::Info),
                (
                    "task failed".into(),
                    "task: non-zero exit (1)".into(),
                    Severity::Error
                )
            ]
        );
        assert_eq!(task_entries(&rows, at(6), None).len(), 1, "created before");
        assert_eq!(
            task_entries(&rows, at(0), Some(at(8))).len(),
            1,
            "failed after"
        );
        let starting = [task(TaskPhase::Starting, "preparing", "")];
        assert_eq!(task_entries(&starting, at(6), None), []);
    }
}
