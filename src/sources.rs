//! Builds the configured backends.
use std::sync::Arc;

use crate::backend::Backend;
use crate::backend::docker::DockerBackend;
use crate::config::{Config, DockerSource};

/// Every source from the config; an empty docker list means one source `docker:local` resolved
/// like the docker CLI. `docker_host` (the `--docker-host` flag) overrides the first docker
/// source's host, like `docker -H`.
pub fn build(config: &Config, docker_host: Option<&str>) -> Vec<Arc<dyn Backend>> {
    let mut docker = config.docker.clone();
    if docker.is_empty() {
        docker.push(DockerSource {
            name: "local".into(),
            host: None,
        });
    }
    if let Some(h) = docker_host {
        docker[0].host = Some(h.to_string());
    }
    docker
        .iter()
        .map(|s| Arc::new(DockerBackend::from_source(s)) as Arc<dyn Backend>)
        .collect()
}
