//! What `docker ps` does not say: restarts, the last exit code, OOM kills and the health
//! check's last output, from `docker inspect`. Inspected once per container and again only
//! when an event names it (or, for a container with a problem, at each status resync), so a
//! quiet engine costs one inspect per container, not one per relist.

use std::collections::{HashMap, HashSet};

use bollard::Docker;
use bollard::models::{ContainerInspectResponse, HealthStatusEnum};
use bollard::query_parameters::InspectContainerOptions;
use futures::StreamExt;

use super::util::ts_from_rfc3339;
use crate::model::{CheckStatus, ContainerFacts, Health, Resource, ResourceKind};
use crate::term::sanitize::sanitize_short;

/// Inspects in flight at once: enough to fill a first list quickly, few enough to leave the
/// engine to its other clients.
const CONCURRENT: usize = 8;
/// More containers than this to inspect: their rows are shown first (marked loading), so a
/// large engine's first list is not held back by the inspects.
pub const SHOW_FIRST: usize = 20;
/// The health check output kept on a row (the check's last line).
const OUTPUT_MAX: usize = 200;

/// Facts per container id, kept by one watch session.
#[derive(Debug)]
pub struct FactCache {
    facts: HashMap<String, ContainerFacts>,
    /// A running container that restarted within this is not green: it may be crash-looping
    /// (the config's `triage.recent_restart_secs`, so the row and `:triage` agree).
    recent: jiff::SignedDuration,
}

impl FactCache {
    pub fn new(recent: jiff::SignedDuration) -> Self {
        FactCache {
            facts: HashMap::new(),
            recent,
        }
    }

    /// Forget what `ids` said (an event named them): the next fill inspects them again.
    pub fn invalidate<'a>(&mut self, ids: impl IntoIterator<Item = &'a str>) {
        for id in ids {
            self.facts.remove(id);
        }
    }

    /// Forget the containers whose facts show a problem now: their health output and restart
    /// state move without an event worth relisting for.
    pub fn invalidate_troubled(&mut self) {
        let now = jiff::Timestamp::now();
        let recent = self.recent;
        self.facts.retain(|_, f| !is_troubled(f, now, recent));
    }

    /// How many of `rows` have no facts yet (each costs one inspect).
    pub fn unknown(&self, rows: &[Resource]) -> usize {
        rows.iter()
            .filter(|r| {
                r.key.kind == ResourceKind::Container && !self.facts.contains_key(&r.key.id)
            })
            .count()
    }

    /// Give every container row its facts (inspecting those not known yet), colour and
    /// RESTARTS/EXIT cells. A container that vanished between list and inspect keeps none.
    pub async fn fill(&mut self, docker: &Docker, rows: &mut [Resource]) {
        let live: HashSet<&str> = rows.iter().map(|r| r.key.id.as_str()).collect();
        self.facts.retain(|id, _| live.contains(id.as_str()));
        let missing: Vec<String> = rows
            .iter()
            .filter(|r| r.key.kind == ResourceKind::Container)
            .map(|r| r.key.id.clone())
            .filter(|id| !self.facts.contains_key(id))
            .collect();
        let found: Vec<(String, Option<ContainerFacts>)> = futures::stream::iter(missing)
            .map(|id| async move {
                let answer = docker
                    .inspect_container(&id, None::<InspectContainerOptions>)
                    .await;
                (id, answer.ok().map(|i| facts_of(&i)))
            })
            .buffer_unordered(CONCURRENT)
            .collect()
            .await;
        for (id, facts) in found {
            if let Some(f) = facts {
                self.facts.insert(id, f);
            }
        }
        let now = jiff::Timestamp::now();
        for row in rows.iter_mut() {
            if let Some(f) = self.facts.get(&row.key.id) {
                apply(row, f.clone(), now, self.recent);
            }
        }
    }
}

fn is_troubled(f: &ContainerFacts, now: jiff::Timestamp, recent: jiff::SignedDuration) -> bool {
    f.restarting || restarted_recently(f, now, recent) || f.health == Some(CheckStatus::Unhealthy)
}

/// The facts in one inspect answer.
pub fn facts_of(i: &ContainerInspectResponse) -> ContainerFacts {
    let state = i.state.clone().unwrap_or_default();
    let health = state.health.as_ref();
    let last_output = health
        .and_then(|h| h.log.as_ref())
        .and_then(|log| log.last())
        .and_then(|r| r.output.as_deref())
        .map(|o| {
            let line = o.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("");
            sanitize_short(line.trim(), OUTPUT_MAX)
        })
        .unwrap_or_default();
    let started_at = ts_from_rfc3339(state.started_at.as_deref());
    let finished_at = ts_from_rfc3339(state.finished_at.as_deref());
    ContainerFacts {
        restarts: i.restart_count.unwrap_or(0).max(0) as u64,
        running: state.running.unwrap_or(false),
        restarting: state.restarting.unwrap_or(false),
        // Docker reports 0 for a container that never ran: only a finished run has a code.
        exit_code: finished_at.and(state.exit_code),
        oom_killed: state.oom_killed.unwrap_or(false),
        health: health.and_then(|h| h.status).and_then(|s| match s {
            HealthStatusEnum::STARTING => Some(CheckStatus::Starting),
            HealthStatusEnum::HEALTHY => Some(CheckStatus::Healthy),
            HealthStatusEnum::UNHEALTHY => Some(CheckStatus::Unhealthy),
            _ => None,
        }),
        health_output: last_output,
        started_at,
        finished_at,
    }
}

/// RESTARTS and EXIT cells, and a colour that does not call a crash loop green.
pub fn apply(
    row: &mut Resource,
    f: ContainerFacts,
    now: jiff::Timestamp,
    recent: jiff::SignedDuration,
) {
    let spec = ResourceKind::Container.spec();
    let col = |name: &str| spec.columns.iter().position(|c| c.name == name);
    if let Some(i) = col("RESTARTS")
        && let Some(cell) = row.cells.get_mut(i)
    {
        *cell = f.restarts.to_string();
    }
    if let Some(i) = col("EXIT")
        && let Some(cell) = row.cells.get_mut(i)
    {
        *cell = exit_text(&f);
    }
    if f.running && row.health == Health::Ok && restarted_recently(&f, now, recent) {
        row.health = Health::Pending;
    }
    if f.health == Some(CheckStatus::Unhealthy) || (f.restarting && f.exit_code != Some(0)) {
        row.health = Health::Failed;
    }
    row.facts.container = Some(Box::new(f));
}

/// "1", "137 OOM"; empty for a container running since its last start without an exit.
pub fn exit_text(f: &ContainerFacts) -> String {
    match f.exit_code {
        Some(code) if f.oom_killed => format!("{code} OOM"),
        Some(code) if !f.running || f.restarts > 0 => code.to_string(),
        _ => String::new(),
    }
}

/// Restarted (by its policy or by hand) within `recent`.
pub fn restarted_recently(
    f: &ContainerFacts,
    now: jiff::Timestamp,
    recent: jiff::SignedDuration,
) -> bool {
    f.restarts > 0 && f.started_at.is_some_and(|t| now.duration_since(t) < recent)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::models::{ContainerState, HealthcheckResult};

    fn inspect(restarts: i64, state: ContainerState) -> ContainerInspectResponse {
        ContainerInspectResponse {
            restart_count: Some(restarts),
            state: Some(state),
            ..Default::default()
        }
    }

    #[test]
    fn an_oom_kill_keeps_its_code_and_cause() {
        let f = facts_of(&inspect(
            0,
            ContainerState {
                running: Some(false),
                exit_code: Some(137),
                oom_killed: Some(true),
                started_at: Some("2026-01-01T00:00:00Z".into()),
                finished_at: Some("2026-01-01T00:01:00Z".into()),
                ..Default::default()
            },
        ));
        assert_eq!(f.exit_code, Some(137));
        assert!(f.oom_killed);
        assert_eq!(exit_text(&f), "137 OOM");
    }

    #[test]
    fn a_container_that_never_ran_has_no_exit_code() {
        let f = facts_of(&inspect(
            0,
            ContainerState {
                exit_code: Some(0),
                finished_at: Some("0001-01-01T00:00:00Z".into()),
                ..Default::default()
            },
        ));
        assert_eq!(f.exit_code, None);
        assert_eq!(exit_text(&f), "");
    }

    #[test]
    fn the_last_check_output_is_one_line() {
        let f = facts_of(&inspect(
            0,
            ContainerState {
                running: Some(true),
                health: Some(bollard::models::Health {
                    status: Some(HealthStatusEnum::UNHEALTHY),
                    failing_streak: Some(3),
                    log: Some(vec![HealthcheckResult {
                        exit_code: Some(1),
                        output: Some("checking\ncurl: (7) refused\n\n".into()),
                        ..Default::default()
                    }]),
                }),
                ..Default::default()
            },
        ));
        assert_eq!(f.health, Some(CheckStatus::Unhealthy));
        assert_eq!(f.health_output, "curl: (7) refused");
    }

    #[test]
    fn a_recent_restart_is_not_green() {
        let now = jiff::Timestamp::from_second(2_000_000_000).unwrap();
        let f = ContainerFacts {
            restarts: 4,
            running: true,
            started_at: Some(now - jiff::SignedDuration::from_secs(1)),
            exit_code: Some(1),
            ..Default::default()
        };
        let mut row = crate::model::Resource {
            key: crate::model::ResourceKey {
                source: crate::model::SourceId::new("docker:t"),
                kind: ResourceKind::Container,
                id: "c".into(),
            },
            name: "c".into(),
            parent: None,
            health: Health::Ok,
            cells: vec![String::new(); ResourceKind::Container.spec().columns.len()],
            created: None,
            labels: Default::default(),
            facts: Default::default(),
        };
        let window = jiff::SignedDuration::from_secs(600);
        let mut late = row.clone();
        apply(
            &mut late,
            f.clone(),
            now + jiff::SignedDuration::from_secs(601),
            window,
        );
        assert_eq!(late.health, Health::Ok, "outside the window: green again");
        apply(&mut row, f, now, window);
        assert_eq!(row.health, Health::Pending);
        let spec = ResourceKind::Container.spec();
        let at = |n: &str| spec.columns.iter().position(|c| c.name == n).unwrap();
        assert_eq!(row.cells[at("RESTARTS")], "4");
        assert_eq!(row.cells[at("EXIT")], "1");
    }
}
