//! Builds the configured backends.
use std::path::{Path, PathBuf};
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

/// Fleet sources from fleet files. A file that does not parse is left out with a warning
/// naming file:line:col; the console runs on without it. Relative paths are taken from `base`
/// (the config file's directory).
pub fn build_fleets(
    files: &[PathBuf],
    base: Option<&Path>,
) -> (Vec<crate::backend::fleet::FleetBackend>, Vec<String>) {
    use crate::backend::fleet::{FleetBackend, FleetFile};
    let opts = crate::ssh::SshOptions::from_home();
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    let mut out: Vec<FleetBackend> = Vec::new();
    let mut warnings = Vec::new();
    for f in files {
        let path = match f.to_str().and_then(|s| s.strip_prefix("~/")) {
            Some(rest) => home.join(rest),
            None if f.is_relative() => base.map(|b| b.join(f)).unwrap_or_else(|| f.clone()),
            None => f.clone(),
        };
        match FleetFile::load(&path) {
            Ok(file) => {
                if out.iter().any(|b| b.inner.file.name == file.name) {
                    warnings.push(format!(
                        "{}: a fleet named `{}` is already loaded; skipped",
                        path.display(),
                        file.name
                    ));
                    continue;
                }
                out.push(FleetBackend::new(file, opts.clone()));
            }
            Err(e) => warnings.push(format!("{e} (fleet not loaded)")),
        }
    }
    (out, warnings)
}
