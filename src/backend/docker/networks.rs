//! Networks → rows (`docker network ls` plus the first subnet).

use bollard::models::Network;

use super::util::{COMPOSE_PROJECT, clean_labels, short_id, ts_from_rfc3339};
use crate::model::{Health, Resource, ResourceKey, ResourceKind, SourceId};
use crate::term::sanitize::sanitize_plain;

/// The first IPAM subnet ("172.17.0.0/16"); host/none networks have none.
pub fn first_subnet(n: &Network) -> String {
    n.ipam
        .as_ref()
        .and_then(|ipam| ipam.config.as_ref())
        .and_then(|configs| {
            configs
                .iter()
                .find_map(|c| c.subnet.as_deref().filter(|s| !s.is_empty()))
        })
        .map(sanitize_plain)
        .unwrap_or_default()
}

pub fn network_resources(source: &SourceId, networks: &[Network]) -> Vec<Resource> {
    let mut rows: Vec<Resource> = networks
        .iter()
        .filter_map(|n| {
            let id = n.id.as_deref().filter(|id| !id.is_empty())?;
            let name = sanitize_plain(n.name.as_deref().unwrap_or_default());
            let labels = clean_labels(n.labels.as_ref());
            Some(Resource {
                key: ResourceKey {
                    source: source.clone(),
                    kind: ResourceKind::Network,
                    id: sanitize_plain(id),
                },
                name: name.clone(),
                parent: labels.get(COMPOSE_PROJECT).cloned(),
                health: Health::Ok,
                cells: vec![
                    name,
                    short_id(id),
                    sanitize_plain(n.driver.as_deref().unwrap_or_default()),
                    sanitize_plain(n.scope.as_deref().unwrap_or_default()),
                    first_subnet(n),
                    String::new(),
                ],
                created: ts_from_rfc3339(n.created.as_deref()),
                labels,
                facts: Default::default(),
            })
        })
        .collect();
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    rows
}
