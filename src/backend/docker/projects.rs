//! Compose projects, grouped from container labels (Compose has no server-side object).

use std::collections::BTreeMap;

use bollard::models::{ContainerSummary, ContainerSummaryStateEnum};

use super::containers::container_health;
use super::util::{COMPOSE_CONFIG_FILES, COMPOSE_PROJECT, COMPOSE_WORKDIR, ts_from_secs};
use crate::model::{Health, Labels, Resource, ResourceKey, ResourceKind, SourceId};
use crate::term::sanitize::sanitize_plain;

#[derive(Default)]
struct Group {
    running: usize,
    total: usize,
    failed: bool,
    workdir: Option<String>,
    config_files: Option<String>,
    oldest: Option<jiff::Timestamp>,
}

/// The compose project a container belongs to, if any.
pub fn project_of(c: &ContainerSummary) -> Option<String> {
    c.labels
        .as_ref()?
        .get(COMPOSE_PROJECT)
        .map(|p| sanitize_plain(p))
        .filter(|p| !p.is_empty())
}

/// Whole-project colour: any failed container → Failed; all running → Ok; some → Pending;
/// none → Stopped.
fn group_health(g: &Group) -> Health {
    if g.failed {
        Health::Failed
    } else if g.total > 0 && g.running == g.total {
        Health::Ok
    } else if g.running > 0 {
        Health::Pending
    } else {
        Health::Stopped
    }
}

/// One row per compose project found among `containers`, sorted by name.
pub fn project_resources(source: &SourceId, containers: &[ContainerSummary]) -> Vec<Resource> {
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    for c in containers {
        let Some(project) = project_of(c) else {
            continue;
        };
        let g = groups.entry(project).or_default();
        g.total += 1;
        if c.state == Some(ContainerSummaryStateEnum::RUNNING) {
            g.running += 1;
        }
        if container_health(c) == Health::Failed {
            g.failed = true;
        }
        let labels = c.labels.as_ref();
        if g.workdir.is_none() {
            g.workdir = labels
                .and_then(|l| l.get(COMPOSE_WORKDIR))
                .map(|w| sanitize_plain(w));
        }
        if g.config_files.is_none() {
            g.config_files = labels
                .and_then(|l| l.get(COMPOSE_CONFIG_FILES))
                .map(|w| sanitize_plain(w));
        }
        if let Some(created) = c.created.and_then(ts_from_secs) {
            g.oldest = Some(g.oldest.map_or(created, |o| o.min(created)));
        }
    }

    groups
        .into_iter()
        .map(|(name, g)| {
            let mut labels = Labels::new();
            labels.insert(COMPOSE_PROJECT.to_owned(), name.clone());
            if let Some(w) = &g.workdir {
                labels.insert(COMPOSE_WORKDIR.to_owned(), w.clone());
            }
            if let Some(f) = &g.config_files {
                labels.insert(COMPOSE_CONFIG_FILES.to_owned(), f.clone());
            }
            Resource {
                key: ResourceKey {
                    source: source.clone(),
                    kind: ResourceKind::Project,
                    id: name.clone(),
                },
                name: name.clone(),
                parent: None,
                health: group_health(&g),
                cells: vec![
                    name,
                    g.running.to_string(),
                    g.total.to_string(),
                    g.workdir.clone().unwrap_or_default(),
                    String::new(),
                ],
                created: g.oldest,
                labels,
                facts: Default::default(),
            }
        })
        .collect()
}
