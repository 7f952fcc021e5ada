//! One listing per kind: the engine calls behind a Snapshot.

use std::collections::HashMap;

use bollard::Docker;
use bollard::errors::Error;
use bollard::models::ContainerSummary;
use bollard::query_parameters::{
    ListContainersOptionsBuilder, ListImagesOptionsBuilder, ListNetworksOptions, ListVolumesOptions,
};

use super::util::COMPOSE_PROJECT;
use super::{containers, images, networks, projects, volumes};
use crate::model::{Resource, ResourceKind, SourceId};

/// `docker ps -a`, optionally narrowed by label filters (`key=value` or `key`).
pub async fn containers_with_labels(
    docker: &Docker,
    labels: &[String],
) -> Result<Vec<ContainerSummary>, Error> {
    let mut builder = ListContainersOptionsBuilder::default().all(true);
    if !labels.is_empty() {
        let mut filters: HashMap<&str, Vec<String>> = HashMap::new();
        filters.insert("label", labels.to_vec());
        builder = builder.filters(&filters);
    }
    docker.list_containers(Some(builder.build())).await
}

/// The containers of one compose project.
pub async fn project_containers(
    docker: &Docker,
    project: &str,
) -> Result<Vec<ContainerSummary>, Error> {
    containers_with_labels(docker, &[format!("{COMPOSE_PROJECT}={project}")]).await
}

/// The full current set of `kind`, mapped to rows.
pub async fn list(
    docker: &Docker,
    source: &SourceId,
    kind: ResourceKind,
) -> Result<Vec<Resource>, Error> {
    Ok(match kind {
        ResourceKind::Container => {
            let list = containers_with_labels(docker, &[]).await?;
            containers::container_resources(source, &list)
        }
        ResourceKind::Project => {
            let list = containers_with_labels(docker, &[COMPOSE_PROJECT.to_owned()]).await?;
            projects::project_resources(source, &list)
        }
        ResourceKind::Image => {
            let imgs = docker
                .list_images(Some(ListImagesOptionsBuilder::default().build()))
                .await?;
            let ctrs = containers_with_labels(docker, &[]).await?;
            images::image_resources(source, &imgs, &ctrs)
        }
        ResourceKind::Volume => {
            let resp = docker.list_volumes(None::<ListVolumesOptions>).await?;
            volumes::volume_resources(source, resp.volumes.as_deref().unwrap_or_default())
        }
        ResourceKind::Network => {
            let list = docker.list_networks(None::<ListNetworksOptions>).await?;
            networks::network_resources(source, &list)
        }
        swarm_kind => super::swarm::list(docker, source, swarm_kind).await?,
    })
}
