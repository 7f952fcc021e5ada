//! Swarm actions (scale, redeploy, rollback, remove, node availability) and describe.
//!
//! Every update sends the spec just read with its version index, as the docker CLI does, so a
//! concurrent change makes the engine refuse ("update out of sequence") instead of being lost.

use anyhow::{Context, anyhow, bail};
use bollard::Docker;
use bollard::models::{NodeSpecAvailabilityEnum, ServiceSpec};
use bollard::query_parameters::{
    InspectServiceOptions, ListConfigsOptions, ListNetworksOptions, ListSecretsOptions,
    UpdateNodeOptionsBuilder, UpdateServiceOptionsBuilder,
};

use super::map::{self, STACK_NAMESPACE};
use crate::backend::docker::actions::to_yaml;
use crate::backend::docker::connect::Endpoint;
use crate::backend::docker::error::human_error;
use crate::model::{ResourceAction, ResourceKey, ResourceKind};

fn engine(endpoint: &Endpoint) -> impl Fn(bollard::errors::Error) -> anyhow::Error + '_ {
    move |e| anyhow!(human_error(endpoint, &e))
}

pub async fn act(
    docker: &Docker,
    endpoint: &Endpoint,
    target: &ResourceKey,
    action: &ResourceAction,
) -> anyhow::Result<String> {
    let fail = engine(endpoint);
    match (target.kind, action) {
        (ResourceKind::Service, ResourceAction::Remove) => {
            let name = service_spec(docker, endpoint, &target.id)
                .await?
                .1
                .name
                .unwrap_or_default();
            docker.delete_service(&target.id).await.map_err(fail)?;
            Ok(format!("removed service {name}"))
        }
        (ResourceKind::Service, ResourceAction::Scale(n)) => {
            let (version, mut spec) = service_spec(docker, endpoint, &target.id).await?;
            let name = spec.name.clone().unwrap_or_default();
            let replicated = spec
                .mode
                .as_mut()
                .and_then(|m| m.replicated.as_mut())
                .ok_or_else(|| {
                    anyhow!(
                        "{name} is a global service: it runs one task per node and cannot be scaled"
                    )
                })?;
            let from = replicated.replicas.unwrap_or(1);
            replicated.replicas = Some(i64::try_from(*n).context("replica count too large")?);
            update(docker, endpoint, &target.id, version, spec, None).await?;
            Ok(format!("scaled {name} from {from} to {n}"))
        }
        (ResourceKind::Service, ResourceAction::Redeploy) => {
            let (version, mut spec) = service_spec(docker, endpoint, &target.id).await?;
            let name = spec.name.clone().unwrap_or_default();
            let template = spec.task_template.get_or_insert_with(Default::default);
            template.force_update = Some(template.force_update.unwrap_or(0) + 1);
            update(docker, endpoint, &target.id, version, spec, None).await?;
            Ok(format!("redeploying {name} (forced update)"))
        }
        (ResourceKind::Service, ResourceAction::Rollback) => {
            let (version, spec) = service_spec(docker, endpoint, &target.id).await?;
            let name = spec.name.clone().unwrap_or_default();
            update(
                docker,
                endpoint,
                &target.id,
                version,
                spec,
                Some("previous"),
            )
            .await?;
            Ok(format!("rolling back {name} to its previous spec"))
        }
        (ResourceKind::Stack, ResourceAction::Remove) => {
            remove_stack(docker, endpoint, &target.id).await
        }
        (
            ResourceKind::Node,
            ResourceAction::Drain | ResourceAction::Pause | ResourceAction::Activate,
        ) => {
            let availability = match action {
                ResourceAction::Drain => NodeSpecAvailabilityEnum::DRAIN,
                ResourceAction::Pause => NodeSpecAvailabilityEnum::PAUSE,
                _ => NodeSpecAvailabilityEnum::ACTIVE,
            };
            let node = docker.inspect_node(&target.id).await.map_err(&fail)?;
            let version = node.version.and_then(|v| v.index).unwrap_or_default();
            let mut spec = node.spec.unwrap_or_default();
            spec.availability = Some(availability);
            let host = node
                .description
                .and_then(|d| d.hostname)
                .unwrap_or_else(|| target.id.clone());
            let opts = UpdateNodeOptionsBuilder::default()
                .version(i64::try_from(version).unwrap_or(i64::MAX))
                .build();
            docker
                .update_node(&target.id, spec, opts)
                .await
                .map_err(fail)?;
            Ok(format!(
                "node {} is now {availability}",
                crate::term::sanitize::sanitize_plain(&host)
            ))
        }
        (kind, action) => bail!(
            "{} is not available for {}",
            action.name(),
            kind.spec().title.to_lowercase()
        ),
    }
}

/// The service's current spec and version index.
async fn service_spec(
    docker: &Docker,
    endpoint: &Endpoint,
    id: &str,
) -> anyhow::Result<(u64, ServiceSpec)> {
    let s = docker
        .inspect_service(id, None::<InspectServiceOptions>)
        .await
        .map_err(engine(endpoint))?;
    let version = s.version.and_then(|v| v.index).unwrap_or_default();
    let spec = s.spec.ok_or_else(|| anyhow!("service {id} has no spec"))?;
    Ok((version, spec))
}

async fn update(
    docker: &Docker,
    endpoint: &Endpoint,
    id: &str,
    version: u64,
    spec: ServiceSpec,
    rollback: Option<&str>,
) -> anyhow::Result<()> {
    // bollard types the version as i32 although the engine's index is a u64.
    let version = i32::try_from(version).context("service version index out of range")?;
    let mut b = UpdateServiceOptionsBuilder::default().version(version);
    if let Some(r) = rollback {
        b = b.rollback(r);
    }
    let resp = docker
        .update_service(id, spec, b.build(), None)
        .await
        .map_err(engine(endpoint))?;
    for w in resp.warnings.unwrap_or_default() {
        tracing::info!(service = id, warning = %w, "service update warning");
    }
    Ok(())
}

/// `docker stack rm`: services first, then the stack's networks, secrets and configs.
async fn remove_stack(docker: &Docker, endpoint: &Endpoint, stack: &str) -> anyhow::Result<String> {
    let fail = engine(endpoint);
    let services = super::stack_services(docker, stack).await.map_err(&fail)?;
    if services.is_empty() {
        bail!("stack {stack} has no services");
    }
    let mut errors = Vec::new();
    for s in &services {
        if let Some(id) = &s.id
            && let Err(e) = docker.delete_service(id).await
        {
            errors.push(human_error(endpoint, &e));
        }
    }
    let label = format!("{STACK_NAMESPACE}={stack}");
    let mut filters = std::collections::HashMap::new();
    filters.insert("label".to_string(), vec![label]);
    let networks = docker
        .list_networks(Some(ListNetworksOptions {
            filters: Some(filters.clone()),
        }))
        .await
        .unwrap_or_default();
    // Networks stay busy until the tasks are gone; retry for a few seconds like the CLI waits.
    for n in networks {
        let Some(id) = n.id else { continue };
        let mut last = None;
        for _ in 0..20 {
            match docker.remove_network(&id).await {
                Ok(()) => {
                    last = None;
                    break;
                }
                Err(e) => {
                    last = Some(e);
                    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                }
            }
        }
        if let Some(e) = last {
            errors.push(human_error(endpoint, &e));
        }
    }
    for s in docker
        .list_secrets(Some(ListSecretsOptions {
            filters: Some(filters.clone()),
        }))
        .await
        .unwrap_or_default()
    {
        if let Some(id) = s.id
            && let Err(e) = docker.delete_secret(&id).await
        {
            errors.push(human_error(endpoint, &e));
        }
    }
    for c in docker
        .list_configs(Some(ListConfigsOptions {
            filters: Some(filters),
        }))
        .await
        .unwrap_or_default()
    {
        if let Some(id) = c.id
            && let Err(e) = docker.delete_config(&id).await
        {
            errors.push(human_error(endpoint, &e));
        }
    }
    if errors.is_empty() {
        Ok(format!(
            "removed stack {stack} ({} services)",
            services.len()
        ))
    } else {
        bail!("stack {stack} partly removed: {}", errors.join("; "))
    }
}

pub async fn describe(
    docker: &Docker,
    endpoint: &Endpoint,
    target: &ResourceKey,
) -> anyhow::Result<String> {
    let fail = engine(endpoint);
    let id = target.id.as_str();
    match target.kind {
        ResourceKind::Service => to_yaml(
            docker
                .inspect_service(id, None::<InspectServiceOptions>)
                .await
                .map_err(fail)?,
        ),
        ResourceKind::Task => to_yaml(docker.inspect_task(id).await.map_err(fail)?),
        ResourceKind::Node => to_yaml(docker.inspect_node(id).await.map_err(fail)?),
        ResourceKind::Secret => {
            // The engine never returns secret data; drop the field anyway so no future API
            // version can put it on the screen.
            let mut s = docker.inspect_secret(id).await.map_err(fail)?;
            if let Some(spec) = s.spec.as_mut() {
                spec.data = None;
            }
            to_yaml(s)
        }
        ResourceKind::Config => to_yaml(docker.inspect_config(id).await.map_err(fail)?),
        ResourceKind::Stack => {
            let services = super::stack_services(docker, id).await.map_err(fail)?;
            if services.is_empty() {
                bail!("stack {id} has no services");
            }
            let specs: Vec<_> = services
                .iter()
                .map(|s| serde_json::json!({ "Name": map::service_name(s), "Spec": s.spec, "UpdateStatus": s.update_status }))
                .collect();
            to_yaml(serde_json::json!({ "Stack": id, "Services": specs }))
        }
        other => bail!("cannot describe {}", other.spec().title.to_lowercase()),
    }
}

/// The container behind a task, when it runs on this engine's node; otherwise why not.
pub async fn task_container(
    docker: &Docker,
    endpoint: &Endpoint,
    task_id: &str,
) -> anyhow::Result<String> {
    let fail = engine(endpoint);
    let task = docker.inspect_task(task_id).await.map_err(&fail)?;
    let info = docker.info().await.map_err(&fail)?;
    let local = info.swarm.and_then(|s| s.node_id).unwrap_or_default();
    let node = task.node_id.clone().unwrap_or_default();
    if node != local {
        let host = docker
            .inspect_node(&node)
            .await
            .ok()
            .and_then(|n| n.description?.hostname)
            .map(|h| crate::term::sanitize::sanitize_plain(&h))
            .unwrap_or(node);
        bail!(
            "this task runs on node {host}: connect fleetdeck to that node's engine to open a shell"
        );
    }
    map::task_container_id(&task)
        .map(str::to_string)
        .ok_or_else(|| {
            anyhow!(
                "this task has no container (state {})",
                task.status
                    .and_then(|s| s.state)
                    .map(|s| s.to_string())
                    .unwrap_or_default()
            )
        })
}
