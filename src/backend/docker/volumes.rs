//! Volumes → rows (`docker volume ls`).

use bollard::models::Volume;

use super::util::{COMPOSE_PROJECT, clean_labels, ts_from_rfc3339};
use crate::model::{Health, Resource, ResourceKey, ResourceKind, SourceId};
use crate::term::sanitize::sanitize_plain;

pub fn volume_resources(source: &SourceId, volumes: &[Volume]) -> Vec<Resource> {
    let mut rows: Vec<Resource> = volumes
        .iter()
        .filter(|v| !v.name.is_empty())
        .map(|v| {
            let labels = clean_labels(Some(&v.labels));
            let project = labels.get(COMPOSE_PROJECT).cloned();
            let name = sanitize_plain(&v.name);
            Resource {
                key: ResourceKey {
                    source: source.clone(),
                    kind: ResourceKind::Volume,
                    id: name.clone(),
                },
                name: name.clone(),
                parent: project.clone(),
                health: Health::Ok,
                cells: vec![
                    name,
                    sanitize_plain(&v.driver),
                    sanitize_plain(&v.mountpoint),
                    project.unwrap_or_default(),
                    String::new(),
                ],
                created: ts_from_rfc3339(v.created_at.as_deref()),
                labels,
                facts: Default::default(),
            }
        })
        .collect();
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    rows
}
