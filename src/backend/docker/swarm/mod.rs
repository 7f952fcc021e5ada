//! Docker Swarm on the same engine connection: stacks, services, tasks, nodes, secrets and
//! configs. Only a manager can answer these calls; on any other engine the views say so (see
//! [`not_a_manager`]) instead of reconnecting forever.

pub mod actions;
pub mod map;
pub mod timeline;

use std::collections::HashMap;

use bollard::Docker;
use bollard::errors::Error;
use bollard::models::{Node, Service, Task};
use bollard::query_parameters::{
    ListConfigsOptions, ListNodesOptions, ListSecretsOptions, ListServicesOptions,
    ListTasksOptions, ListTasksOptionsBuilder,
};

use crate::model::{Resource, ResourceKind, SourceId};
use crate::term::sanitize::sanitize_plain;
pub use map::{STACK_NAMESPACE, SwarmListing};

pub fn is_swarm_kind(kind: ResourceKind) -> bool {
    matches!(
        kind,
        ResourceKind::Stack
            | ResourceKind::Service
            | ResourceKind::Task
            | ResourceKind::Node
            | ResourceKind::Secret
            | ResourceKind::Config
    )
}

/// The engine's plain answer when it cannot serve swarm calls (503: not in a swarm, or a
/// worker), to show in the view.
pub fn not_a_manager(e: &Error) -> Option<String> {
    match e {
        Error::DockerResponseServerError {
            status_code: 503,
            message,
        } => {
            let msg = sanitize_plain(message.trim());
            Some(if msg.is_empty() {
                "this engine is not a swarm manager".into()
            } else {
                msg
            })
        }
        _ => None,
    }
}

pub async fn services(docker: &Docker) -> Result<Vec<Service>, Error> {
    docker.list_services(None::<ListServicesOptions>).await
}

pub async fn tasks(docker: &Docker) -> Result<Vec<Task>, Error> {
    docker.list_tasks(None::<ListTasksOptions>).await
}

pub async fn tasks_of_service(docker: &Docker, service_id: &str) -> Result<Vec<Task>, Error> {
    let mut filters = HashMap::new();
    filters.insert("service", vec![service_id]);
    docker
        .list_tasks(Some(
            ListTasksOptionsBuilder::default().filters(&filters).build(),
        ))
        .await
}

pub async fn nodes(docker: &Docker) -> Result<Vec<Node>, Error> {
    docker.list_nodes(None::<ListNodesOptions>).await
}

/// The services of one stack (by the label `docker stack deploy` sets).
pub async fn stack_services(docker: &Docker, stack: &str) -> Result<Vec<Service>, Error> {
    Ok(services(docker)
        .await?
        .into_iter()
        .filter(|s| map::stack_of(s).as_deref() == Some(stack))
        .collect())
}

/// The full current set of a swarm `kind`, mapped to rows.
pub async fn list(
    docker: &Docker,
    source: &SourceId,
    kind: ResourceKind,
) -> Result<Vec<Resource>, Error> {
    Ok(match kind {
        ResourceKind::Stack | ResourceKind::Service => {
            let listing = SwarmListing {
                services: services(docker).await?,
                tasks: tasks(docker).await?,
                nodes: Vec::new(),
            };
            if kind == ResourceKind::Stack {
                map::stack_resources(source, &listing)
            } else {
                map::service_resources(source, &listing)
            }
        }
        ResourceKind::Task => {
            let listing = SwarmListing {
                services: services(docker).await?,
                tasks: tasks(docker).await?,
                nodes: nodes(docker).await?,
            };
            map::task_resources(source, &listing)
        }
        ResourceKind::Node => map::node_resources(source, &nodes(docker).await?),
        ResourceKind::Secret => map::secret_resources(
            source,
            &docker.list_secrets(None::<ListSecretsOptions>).await?,
        ),
        ResourceKind::Config => map::config_resources(
            source,
            &docker.list_configs(None::<ListConfigsOptions>).await?,
        ),
        _ => Vec::new(),
    })
}

/// A task's log label: `web.2@node-1`.
pub fn task_label(t: &Task, service: &str, nodes: &[Node]) -> String {
    let node = t
        .node_id
        .as_deref()
        .map(|id| {
            nodes
                .iter()
                .find(|n| n.id.as_deref() == Some(id))
                .and_then(|n| n.description.as_ref()?.hostname.as_deref())
                .map(sanitize_plain)
                .unwrap_or_else(|| crate::backend::docker::util::short_id(id))
        })
        .unwrap_or_default();
    format!("{}@{node}", map::task_name(t, service))
}
