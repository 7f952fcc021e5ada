//! One row → at most one problem. Containers, swarm services and tasks read their typed facts
//! (`ContainerFacts`, `ServiceFacts`, `TaskFacts`); the other kinds their health class, which each backend already derives from the engine's state
//! (a pod's reason, a service's replicas, a device's connection, a deployment's failures), and
//! their replicas fact; the problem's words are the engine's own (the row's status cell).

use super::{Problem, Severity, TriageConfig};
use crate::model::{
    CheckStatus, ContainerFacts, Health, Resource, ResourceKind, ServiceFacts, TaskError,
    TaskFacts, TaskPhase, UpdateState,
};

/// The problem `row` shows now, if any.
pub fn problem_of(row: &Resource, cfg: &TriageConfig, now: jiff::Timestamp) -> Option<Problem> {
    let (severity, problem, since) = match (&row.facts.container, row.key.kind) {
        (Some(f), ResourceKind::Container) => container(f, cfg, now)?,
        (_, ResourceKind::MenderDevice) => unseen(row, cfg, now)?,
        (_, ResourceKind::Service) => match &row.facts.service {
            Some(f) => service(row, f, cfg, now)?,
            None => by_health(row, cfg, now)?,
        },
        // Only by its facts: a task's failed history (replaced tasks) is no problem.
        (_, ResourceKind::Task) => task(row, row.facts.task.as_ref()?)?,
        (_, ResourceKind::KEvent) => warning_event(row, cfg, now)?,
        _ => by_health(row, cfg, now)?,
    };
    // An event is about its object (`pod/web-1`), not its own generated name.
    let name = match row.key.kind {
        ResourceKind::KEvent => cell(row, "OBJECT").unwrap_or(&row.name).to_string(),
        _ => row.name.clone(),
    };
    Some(Problem {
        severity,
        key: row.key.clone(),
        name,
        problem,
        since,
    })
}

type Found = (Severity, String, Option<jiff::Timestamp>);

fn container(f: &ContainerFacts, cfg: &TriageConfig, now: jiff::Timestamp) -> Option<Found> {
    let exit = match f.exit_code {
        Some(137) if f.oom_killed => ", killed, OOM?".to_string(),
        Some(c) if c != 0 => format!(", last exit {c}"),
        _ => String::new(),
    };
    let restarts = |n: u64| {
        if n == 1 {
            "1 restart".into()
        } else {
            format!("{n} restarts")
        }
    };
    if f.restarting {
        return Some((
            Severity::Critical,
            format!("restarting ({}{exit})", restarts(f.restarts)),
            f.finished_at,
        ));
    }
    if f.running && f.health == Some(CheckStatus::Unhealthy) {
        let output = if f.health_output.is_empty() {
            String::new()
        } else {
            format!(": {}", f.health_output)
        };
        return Some((
            Severity::Critical,
            format!("unhealthy{output}"),
            f.started_at,
        ));
    }
    let recent = jiff::SignedDuration::from_secs(cfg.recent_restart_secs as i64);
    if f.running && f.restarts > 0 && f.started_at.is_some_and(|t| now.duration_since(t) < recent) {
        let severity = if f.restarts >= cfg.restarts_critical {
            Severity::Critical
        } else {
            Severity::Warning
        };
        return Some((
            severity,
            format!("restarted ({}{exit})", restarts(f.restarts)),
            f.started_at,
        ));
    }
    match f.exit_code {
        Some(137) if !f.running && f.oom_killed => Some((
            Severity::Critical,
            "killed, OOM? (exit 137, OOMKilled)".into(),
            f.finished_at,
        )),
        Some(c) if !f.running && c != 0 && cfg.exited_nonzero => Some((
            Severity::Warning,
            format!("exited with code {c}"),
            f.finished_at,
        )),
        _ => None,
    }
}

/// A swarm service: an update that paused or rolled back (in the words of the task error that
/// made it, when one came after the update started), else too few replicas, named by the
/// newest task error when that is recent (then without the grace a converging service gets).
fn service(
    row: &Resource,
    f: &ServiceFacts,
    cfg: &TriageConfig,
    now: jiff::Timestamp,
) -> Option<Found> {
    let error_since = |from: Option<jiff::Timestamp>| {
        f.task_error
            .as_ref()
            .filter(|e| e.at.is_some_and(|at| from.is_none_or(|t| at >= t)))
    };
    let update = |what: &str| {
        // The engine's message after a rollback only says "rollback completed".
        let why = error_since(f.update_started)
            .map(|e| e.text.as_str())
            .unwrap_or(&f.update_message);
        if why.is_empty() {
            what.to_string()
        } else {
            format!("{what}: {why}")
        }
    };
    match f.update {
        Some(UpdateState::Paused) => {
            return Some((
                Severity::Critical,
                update("update paused"),
                f.update_started,
            ));
        }
        Some(UpdateState::RollbackPaused) => {
            return Some((
                Severity::Critical,
                update("rollback paused"),
                f.update_started,
            ));
        }
        // The engine keeps no word of why (a failure, or someone asked): it is said until
        // the next update, with the task error that came since the update started.
        Some(UpdateState::RollbackCompleted) => {
            let since = f.update_completed.or(f.update_started);
            return Some((Severity::Warning, update("update rolled back"), since));
        }
        _ => {}
    }
    let window = jiff::SignedDuration::from_secs(cfg.recent_restart_secs as i64);
    let recent = now.checked_sub(window).unwrap_or(jiff::Timestamp::MIN);
    if let Some(r) = row.facts.replicas
        && r.running < r.desired
        && let Some(TaskError { text, at }) = error_since(Some(recent))
    {
        let severity = if r.running == 0 {
            Severity::Critical
        } else {
            Severity::Warning
        };
        let problem = format!("{}/{} running, task error: {text}", r.running, r.desired);
        return Some((severity, problem, *at));
    }
    by_health(row, cfg, now)
}

/// A swarm task the engine still wants running that failed or was rejected (not replaced
/// yet), or that cannot start for a reason the engine gives ("no suitable node").
fn task(row: &Resource, f: &TaskFacts) -> Option<Found> {
    if !f.desired_running {
        return None;
    }
    let with_error = |what: &str| {
        if f.error.is_empty() {
            what.to_string()
        } else {
            format!("{what}: {}", f.error)
        }
    };
    match f.phase {
        TaskPhase::Failed | TaskPhase::Rejected | TaskPhase::Orphaned => {
            Some((Severity::Critical, with_error(&f.state), row.created))
        }
        TaskPhase::Starting if !f.error.is_empty() => {
            Some((Severity::Warning, with_error(&f.state), row.created))
        }
        _ => None,
    }
}

/// An accepted Mender device whose last check-in (its `created`) is older than allowed; the
/// other auth states are the operator's decisions, not problems.
fn unseen(row: &Resource, cfg: &TriageConfig, now: jiff::Timestamp) -> Option<Found> {
    let seen = row.created?;
    let limit = jiff::SignedDuration::from_secs(cfg.mender_unseen_secs as i64);
    (row.health == Health::Ok && now.duration_since(seen) > limit).then(|| {
        (
            Severity::Warning,
            format!("not seen for {}", crate::model::age(seen, now)),
            Some(seen),
        )
    })
}

/// A recent Kubernetes Warning event (the failed class): `REASON: MESSAGE`.
fn warning_event(row: &Resource, cfg: &TriageConfig, now: jiff::Timestamp) -> Option<Found> {
    let seen = row.created?;
    let window = jiff::SignedDuration::from_secs(cfg.warning_events_secs as i64);
    if row.health != Health::Failed || now.duration_since(seen) > window {
        return None;
    }
    let reason = cell(row, "REASON").unwrap_or("Warning");
    let text = match cell(row, "MESSAGE") {
        Some(m) => format!("{reason}: {m}"),
        None => reason.to_string(),
    };
    Some((Severity::Warning, text, Some(seen)))
}

/// The trimmed text of `row`'s column `name`, when it has one.
fn cell<'a>(row: &'a Resource, name: &str) -> Option<&'a str> {
    row.key
        .kind
        .spec()
        .columns
        .iter()
        .position(|c| c.name == name)
        .and_then(|i| row.cells.get(i))
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
}

/// Kinds whose `Pending` is work in progress, not a problem.
fn pending_is_progress(kind: ResourceKind) -> bool {
    matches!(
        kind,
        ResourceKind::MenderDeployment | ResourceKind::DeviceUpdate
    )
}

/// Kinds whose `Pending` becomes a problem only after `pending_after_secs` (scheduling,
/// pulling, rolling out take a while).
fn pending_has_grace(kind: ResourceKind) -> bool {
    matches!(
        kind,
        ResourceKind::Pod
            | ResourceKind::Deployment
            | ResourceKind::StatefulSet
            | ResourceKind::DaemonSet
            | ResourceKind::Service
    )
}

fn by_health(row: &Resource, cfg: &TriageConfig, now: jiff::Timestamp) -> Option<Found> {
    let kind = row.key.kind;
    let severity = match row.health {
        Health::Failed => Severity::Critical,
        Health::Pending if pending_is_progress(kind) => return None,
        Health::Pending if pending_has_grace(kind) => {
            let grace = jiff::SignedDuration::from_secs(cfg.pending_after_secs as i64);
            let young = row.created.is_some_and(|t| now.duration_since(t) < grace);
            if young {
                return None;
            }
            Severity::Warning
        }
        Health::Pending => Severity::Warning,
        // A drained swarm node (the only `Stopped` a node has) runs nothing.
        Health::Stopped if kind == ResourceKind::Node => Severity::Warning,
        _ => return None,
    };
    Some((severity, words(row), row.created))
}

/// The row's own words: its status cell, with replicas where the kind has them.
fn words(row: &Resource) -> String {
    let cell = |name: &str| cell(row, name);
    let mut parts: Vec<String> = Vec::new();
    if let Some(r) = row.facts.replicas
        && r.running < r.desired
    {
        parts.push(format!("{}/{} running", r.running, r.desired));
    }
    for name in ["STATUS", "STATE", "STEP", "AVAILABILITY", "UPDATE"] {
        if let Some(text) = cell(name) {
            parts.push(text.to_string());
        }
    }
    if let Some(n) = cell("FAILURE").filter(|n| *n != "0") {
        parts.push(format!("{n} device(s) failed"));
    }
    for label in ["error", "over"] {
        if let Some(e) = row.labels.get(label)
            && !parts.iter().any(|p| p == e)
        {
            parts.push(e.clone());
        }
    }
    if parts.is_empty() {
        "not healthy".into()
    } else {
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Replicas, ResourceKey, SourceId};

    fn now() -> jiff::Timestamp {
        jiff::Timestamp::from_second(2_000_000_000).unwrap()
    }

    fn ago(secs: i64) -> Option<jiff::Timestamp> {
        Some(now() - jiff::SignedDuration::from_secs(secs))
    }

    fn row(kind: ResourceKind, health: Health, cells: &[(&str, &str)]) -> Resource {
        let spec = kind.spec();
        let mut out = vec![String::new(); spec.columns.len()];
        for (name, text) in cells {
            let i = spec.columns.iter().position(|c| c.name == *name).unwrap();
            out[i] = text.to_string();
        }
        Resource {
            key: ResourceKey {
                source: SourceId::new("t:1"),
                kind,
                id: "id".into(),
            },
            name: "x".into(),
            parent: None,
            health,
            cells: out,
            created: ago(3600),
            labels: Default::default(),
            facts: Default::default(),
        }
    }

    fn with(f: ContainerFacts) -> Resource {
        let mut r = row(ResourceKind::Container, Health::Ok, &[]);
        r.facts.container = Some(Box::new(f));
        r
    }

    fn found(r: &Resource) -> Option<(Severity, String)> {
        problem_of(r, &TriageConfig::default(), now()).map(|p| (p.severity, p.problem))
    }

    #[test]
    fn a_restarting_container_is_critical_with_its_last_exit() {
        let r = with(ContainerFacts {
            restarting: true,
            restarts: 5,
            exit_code: Some(1),
            ..Default::default()
        });
        assert_eq!(
            found(&r),
            Some((
                Severity::Critical,
                "restarting (5 restarts, last exit 1)".into()
            ))
        );
    }

    #[test]
    fn a_recent_restart_is_a_warning_until_it_repeats() {
        let mut f = ContainerFacts {
            running: true,
            restarts: 1,
            exit_code: Some(2),
            started_at: ago(5),
            ..Default::default()
        };
        assert_eq!(found(&with(f.clone())).unwrap().0, Severity::Warning);
        f.restarts = 3;
        assert_eq!(found(&with(f.clone())).unwrap().0, Severity::Critical);
        f.started_at = ago(3600);
        assert_eq!(found(&with(f)), None, "an old restart is history");
    }

    #[test]
    fn exited_non_zero_names_the_code_and_oom() {
        let f = ContainerFacts {
            exit_code: Some(1),
            finished_at: ago(10),
            ..Default::default()
        };
        assert_eq!(
            found(&with(f.clone())),
            Some((Severity::Warning, "exited with code 1".into()))
        );
        let oom = ContainerFacts {
            exit_code: Some(137),
            oom_killed: true,
            ..f.clone()
        };
        assert_eq!(
            found(&with(oom)),
            Some((
                Severity::Critical,
                "killed, OOM? (exit 137, OOMKilled)".into()
            ))
        );
        let clean = ContainerFacts {
            exit_code: Some(0),
            ..f
        };
        assert_eq!(found(&with(clean)), None);
    }

    #[test]
    fn unhealthy_shows_the_last_check_output() {
        let f = ContainerFacts {
            running: true,
            health: Some(CheckStatus::Unhealthy),
            health_output: "curl: (7) refused".into(),
            ..Default::default()
        };
        assert_eq!(
            found(&with(f)),
            Some((Severity::Critical, "unhealthy: curl: (7) refused".into()))
        );
    }

    #[test]
    fn a_service_below_desired_says_how_far() {
        let mut r = row(
            ResourceKind::Service,
            Health::Pending,
            &[("REPLICAS", "1/3")],
        );
        r.facts.replicas = Some(Replicas {
            running: 1,
            desired: 3,
        });
        assert_eq!(found(&r), Some((Severity::Warning, "1/3 running".into())));
        r.created = ago(10);
        assert_eq!(found(&r), None, "a young service is still converging");
    }

    #[test]
    fn pods_nodes_devices_and_deployments_use_their_own_words() {
        let pod = row(
            ResourceKind::Pod,
            Health::Failed,
            &[("STATUS", "CrashLoopBackOff")],
        );
        assert_eq!(
            found(&pod),
            Some((Severity::Critical, "CrashLoopBackOff".into()))
        );
        let node = row(
            ResourceKind::KNode,
            Health::Failed,
            &[("STATUS", "NotReady")],
        );
        assert_eq!(found(&node), Some((Severity::Critical, "NotReady".into())));
        let dev = row(
            ResourceKind::Device,
            Health::Failed,
            &[("STATE", "connection refused")],
        );
        assert_eq!(
            found(&dev),
            Some((Severity::Critical, "connection refused".into()))
        );
        let mut full = row(
            ResourceKind::Device,
            Health::Pending,
            &[("STATE", "over limit")],
        );
        full.labels
            .insert("over".into(), "disk /data 93% (limit 90%)".into());
        assert_eq!(
            found(&full),
            Some((
                Severity::Warning,
                "over limit, disk /data 93% (limit 90%)".into()
            ))
        );
        let dep = row(
            ResourceKind::MenderDeployment,
            Health::Failed,
            &[("STATUS", "finished"), ("FAILURE", "2")],
        );
        assert_eq!(
            found(&dep),
            Some((Severity::Critical, "finished, 2 device(s) failed".into()))
        );
        let drained = row(
            ResourceKind::Node,
            Health::Stopped,
            &[("STATUS", "ready"), ("AVAILABILITY", "drain")],
        );
        assert_eq!(
            found(&drained),
            Some((Severity::Warning, "ready, drain".into()))
        );
        let down = row(ResourceKind::Node, Health::Failed, &[("STATUS", "down")]);
        assert_eq!(found(&down).unwrap().0, Severity::Critical);
        let running = row(ResourceKind::MenderDeployment, Health::Pending, &[]);
        assert_eq!(found(&running), None, "in progress is not a problem");
        let mut quiet = row(ResourceKind::MenderDevice, Health::Ok, &[]);
        quiet.created = ago(3 * 86400);
        assert_eq!(
            found(&quiet),
            Some((Severity::Warning, "not seen for 3d".into()))
        );
        quiet.created = ago(600);
        assert_eq!(found(&quiet), None);
        let mut warning = row(
            ResourceKind::KEvent,
            Health::Failed,
            &[
                ("TYPE", "Warning"),
                ("REASON", "BackOff"),
                ("OBJECT", "pod/api-7d9f"),
                ("MESSAGE", "Back-off restarting failed container"),
            ],
        );
        warning.created = ago(60);
        let p = problem_of(&warning, &TriageConfig::default(), now()).unwrap();
        assert_eq!(
            (p.severity, p.name.as_str(), p.problem.as_str()),
            (
                Severity::Warning,
                "pod/api-7d9f",
                "BackOff: Back-off restarting failed container"
            )
        );
        warning.created = ago(3600);
        assert_eq!(found(&warning), None, "an old warning is history");
        let ok = row(ResourceKind::Pod, Health::Ok, &[("STATUS", "Running")]);
        assert_eq!(found(&ok), None);
    }

    fn service(update: Option<UpdateState>, running: u64, error: Option<(&str, i64)>) -> Resource {
        let health = if running >= 2 {
            Health::Ok
        } else {
            Health::Pending
        };
        let mut r = row(ResourceKind::Service, health, &[]);
        r.facts.replicas = Some(Replicas {
            running,
            desired: 2,
        });
        r.facts.service = Some(Box::new(ServiceFacts {
            update,
            update_message: "update paused due to failure or early termination of task x1".into(),
            update_started: ago(120),
            update_completed: None,
            task_error: error.map(|(text, secs)| TaskError {
                text: text.into(),
                at: ago(secs),
            }),
        }));
        r
    }

    #[test]
    fn a_service_short_of_replicas_names_its_newest_task_error_at_once() {
        let mut r = service(None, 0, Some(("task: non-zero exit (1)", 5)));
        r.created = ago(10);
        assert_eq!(
            found(&r),
            Some((
                Severity::Critical,
                "0/2 running, task error: task: non-zero exit (1)".into()
            )),
            "no grace for a service whose tasks fail"
        );
        r.facts.replicas = Some(Replicas {
            running: 1,
            desired: 2,
        });
        assert_eq!(found(&r).unwrap().0, Severity::Warning);
        let old = service(None, 1, Some(("no suitable node", 7200)));
        assert_eq!(
            found(&old),
            Some((Severity::Warning, "1/2 running".into())),
            "an old error is not named"
        );
        let fine = service(None, 2, Some(("task: non-zero exit (1)", 5)));
        assert_eq!(found(&fine), None, "at desired replicas");
    }

    #[test]
    fn paused_and_rolled_back_updates_say_why() {
        let paused = service(
            Some(UpdateState::Paused),
            2,
            Some(("task: non-zero exit (2)", 60)),
        );
        assert_eq!(
            found(&paused),
            Some((
                Severity::Critical,
                "update paused: task: non-zero exit (2)".into()
            ))
        );
        let before = service(Some(UpdateState::Paused), 2, Some(("older", 600)));
        assert_eq!(
            found(&before).unwrap().1,
            "update paused: update paused due to failure or early termination of task x1",
            "an error from before the update is not its reason"
        );
        let rolled = service(
            Some(UpdateState::RollbackCompleted),
            2,
            Some((
                "task: non-zero exit (137): dockerexec: unhealthy container",
                30,
            )),
        );
        assert_eq!(
            found(&rolled),
            Some((
                Severity::Warning,
                "update rolled back: task: non-zero exit (137): dockerexec: unhealthy container"
                    .into()
            ))
        );
        let mut asked = service(Some(UpdateState::RollbackCompleted), 2, Some(("old", 600)));
        if let Some(f) = asked.facts.service.as_mut() {
            f.update_message = "rollback completed".into();
        }
        assert_eq!(
            found(&asked),
            Some((
                Severity::Warning,
                "update rolled back: rollback completed".into()
            )),
            "an error from before the update is not its reason"
        );
        let done = service(Some(UpdateState::Completed), 2, None);
        assert_eq!(found(&done), None);
        let rb = service(Some(UpdateState::RollbackPaused), 2, None);
        assert_eq!(found(&rb).unwrap().0, Severity::Critical);
    }

    #[test]
    fn only_tasks_still_wanted_are_problems() {
        let task = |phase, desired_running: bool, error: &str| {
            let mut r = row(ResourceKind::Task, Health::Failed, &[]);
            r.facts.task = Some(Box::new(TaskFacts {
                phase,
                state: match phase {
                    TaskPhase::Failed => "failed",
                    TaskPhase::Rejected => "rejected",
                    _ => "pending",
                }
                .into(),
                desired_running,
                error: error.into(),
                ..Default::default()
            }));
            r
        };
        assert_eq!(
            found(&task(TaskPhase::Failed, true, "task: non-zero exit (1)")),
            Some((Severity::Critical, "failed: task: non-zero exit (1)".into()))
        );
        assert_eq!(
            found(&task(TaskPhase::Rejected, true, "No such image: x")),
            Some((Severity::Critical, "rejected: No such image: x".into()))
        );
        assert_eq!(
            found(&task(TaskPhase::Starting, true, "no suitable node")),
            Some((Severity::Warning, "pending: no suitable node".into()))
        );
        assert_eq!(
            found(&task(TaskPhase::Failed, false, "task: non-zero exit (1)")),
            None,
            "replaced: history"
        );
        assert_eq!(found(&task(TaskPhase::Starting, true, "")), None);
    }

    #[test]
    fn an_in_progress_deployment_with_failures_is_a_problem() {
        let dep = row(
            ResourceKind::MenderDeployment,
            Health::Failed,
            &[("STATUS", "inprogress"), ("FAILURE", "1")],
        );
        assert_eq!(
            found(&dep),
            Some((Severity::Critical, "inprogress, 1 device(s) failed".into()))
        );
    }
}
