//! Lifecycle actions on containers and `describe` (inspect → YAML).

use anyhow::anyhow;
use bollard::Docker;
use bollard::query_parameters::{
    InspectContainerOptions, InspectNetworkOptions, KillContainerOptions,
    RemoveContainerOptionsBuilder, RestartContainerOptions, StartContainerOptions,
    StopContainerOptions,
};

use super::connect::Endpoint;
use super::error::human_error;
use super::list::project_containers;
use crate::model::{ResourceAction, ResourceKey, ResourceKind};
use crate::term::sanitize::sanitize_plain;

/// The container's name for messages ("stopped web-1"); its id when inspect has no name.
async fn container_display_name(
    docker: &Docker,
    endpoint: &Endpoint,
    id: &str,
) -> anyhow::Result<String> {
    let info = docker
        .inspect_container(id, None::<InspectContainerOptions>)
        .await
        .map_err(|e| anyhow!(human_error(endpoint, &e)))?;
    let name = info
        .name
        .as_deref()
        .map(|n| n.trim_start_matches('/'))
        .filter(|n| !n.is_empty());
    Ok(sanitize_plain(name.unwrap_or(id)))
}

/// Run `action` on `target`; returns a short past-tense message.
pub async fn act(
    docker: &Docker,
    endpoint: &Endpoint,
    target: &ResourceKey,
    action: &ResourceAction,
) -> anyhow::Result<String> {
    if super::swarm::is_swarm_kind(target.kind) {
        return super::swarm::actions::act(docker, endpoint, target, action).await;
    }
    if target.kind != ResourceKind::Container {
        return Err(anyhow!(
            "{} is not supported on {} (only containers have actions)",
            action.name(),
            target.kind.spec().title.to_lowercase()
        ));
    }
    let id = target.id.as_str();
    let name = container_display_name(docker, endpoint, id).await?;
    let fail = |e: bollard::errors::Error| {
        anyhow!(
            "cannot {} {name}: {}",
            action.name(),
            human_error(endpoint, &e)
        )
    };
    let done = match action {
        ResourceAction::Start => {
            docker
                .start_container(id, None::<StartContainerOptions>)
                .await
                .map_err(fail)?;
            "started"
        }
        ResourceAction::Stop => {
            docker
                .stop_container(id, None::<StopContainerOptions>)
                .await
                .map_err(fail)?;
            "stopped"
        }
        ResourceAction::Restart => {
            docker
                .restart_container(id, None::<RestartContainerOptions>)
                .await
                .map_err(fail)?;
            "restarted"
        }
        ResourceAction::Kill => {
            docker
                .kill_container(id, None::<KillContainerOptions>)
                .await
                .map_err(fail)?;
            "killed"
        }
        ResourceAction::Remove => {
            // Forced: the UI confirmed already, and a running container would refuse otherwise.
            let opts = RemoveContainerOptionsBuilder::default().force(true).build();
            docker
                .remove_container(id, Some(opts))
                .await
                .map_err(fail)?;
            "removed"
        }
        other => {
            return Err(anyhow!("{} is not available for containers", other.name()));
        }
    };
    Ok(format!("{done} {name}"))
}

/// Every string in an inspect document may come from a remote engine: sanitise them all before
/// they become YAML on the screen.
fn sanitize_value(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::String(s) => *s = sanitize_plain(s),
        serde_json::Value::Array(items) => items.iter_mut().for_each(sanitize_value),
        serde_json::Value::Object(map) => {
            let entries = std::mem::take(map);
            for (k, mut val) in entries {
                sanitize_value(&mut val);
                map.insert(sanitize_plain(&k), val);
            }
        }
        _ => {}
    }
}

pub fn to_yaml(value: impl serde::Serialize) -> anyhow::Result<String> {
    let mut json = serde_json::to_value(value)?;
    sanitize_value(&mut json);
    // serde-saphyr has no Value type of its own; serialising serde_json's works.
    serde_saphyr::to_string(&json).map_err(|e| anyhow!("cannot render YAML: {e}"))
}

/// The object as YAML, like `docker inspect` but readable.
pub async fn describe(
    docker: &Docker,
    endpoint: &Endpoint,
    target: &ResourceKey,
) -> anyhow::Result<String> {
    let fail = |e: bollard::errors::Error| anyhow!(human_error(endpoint, &e));
    let id = target.id.as_str();
    match target.kind {
        ResourceKind::Container => to_yaml(
            docker
                .inspect_container(id, None::<InspectContainerOptions>)
                .await
                .map_err(fail)?,
        ),
        ResourceKind::Image => to_yaml(docker.inspect_image(id).await.map_err(fail)?),
        ResourceKind::Volume => to_yaml(docker.inspect_volume(id).await.map_err(fail)?),
        ResourceKind::Network => to_yaml(
            docker
                .inspect_network(id, None::<InspectNetworkOptions>)
                .await
                .map_err(fail)?,
        ),
        ResourceKind::Project => {
            // A project is a label on containers: show it as the list of its containers.
            let list = project_containers(docker, id).await.map_err(fail)?;
            if list.is_empty() {
                return Err(anyhow!("compose project {id} has no containers"));
            }
            let doc = serde_json::json!({ "Project": id, "Containers": list });
            to_yaml(doc)
        }
        _ => super::swarm::actions::describe(docker, endpoint, target).await,
    }
}
