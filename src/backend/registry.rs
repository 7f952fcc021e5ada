//! Builds the configured backends.
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::backend::Backend;
use crate::backend::docker::DockerBackend;
use crate::backend::kube::{KubeBackend, NsScope};
use crate::cli::KubeArgs;
use crate::config::{Config, DockerSource};

/// Every source from the config; an empty docker list means one source `docker:local` resolved
/// like the docker CLI. `docker_host` (the `--docker-host` flag) overrides the first docker
/// source's host, like `docker -H`. Kubernetes sources come from the kubeconfig (see
/// [`kube_sources`]).
pub fn build(config: &Config, docker_host: Option<&str>) -> Vec<Arc<dyn Backend>> {
    build_with(config, docker_host, &KubeArgs::default())
}

/// [`build`] with the `--context` / `-n` / `-A` flags applied to the Kubernetes sources.
pub fn build_with(
    config: &Config,
    docker_host: Option<&str>,
    kube: &KubeArgs,
) -> Vec<Arc<dyn Backend>> {
    let mut docker = config.docker.list.clone();
    // `docker: false` turns Docker off, unless `--docker-host` names an engine explicitly.
    if docker.is_empty() && (!config.docker.off || docker_host.is_some()) {
        docker.push(DockerSource {
            name: "local".into(),
            host: None,
        });
    }
    if let (Some(h), Some(first)) = (docker_host, docker.first_mut()) {
        first.host = Some(h.to_string());
    }
    let mut out: Vec<Arc<dyn Backend>> = docker
        .iter()
        .map(|s| {
            let backend = DockerBackend::from_source(s)
                .with_recent_restart(config.triage.recent_restart_secs);
            Arc::new(backend) as Arc<dyn Backend>
        })
        .collect();
    out.extend(
        kube_sources(config, kube, read_kubeconfig())
            .into_iter()
            .map(|b| Arc::new(b) as Arc<dyn Backend>),
    );
    out.extend(config.mender.iter().map(|m| {
        Arc::new(crate::backend::mender::MenderBackend::from_source(m)) as Arc<dyn Backend>
    }));
    out
}

/// The kubeconfig as kubectl reads it: the files of KUBECONFIG merged, else ~/.kube/config.
/// Ok(None) when there is none (no kube source, silently); Err when one exists but is broken.
pub fn read_kubeconfig() -> Result<Option<kube::config::Kubeconfig>, String> {
    read_kubeconfig_from(
        std::env::var_os("KUBECONFIG"),
        std::env::var_os("HOME").map(std::path::PathBuf::from),
    )
}

/// [`read_kubeconfig`] with the environment given: `kubeconfig_env` is KUBECONFIG (a path list;
/// files that do not exist are skipped, the first file to set a value wins, as in kubectl).
pub fn read_kubeconfig_from(
    kubeconfig_env: Option<std::ffi::OsString>,
    home: Option<std::path::PathBuf>,
) -> Result<Option<kube::config::Kubeconfig>, String> {
    use kube::config::Kubeconfig;
    let paths: Vec<std::path::PathBuf> = match &kubeconfig_env {
        Some(v) if !v.is_empty() => std::env::split_paths(v)
            .filter(|p| !p.as_os_str().is_empty() && p.exists())
            .collect(),
        _ => home
            .map(|h| h.join(".kube").join("config"))
            .filter(|p| p.exists())
            .into_iter()
            .collect(),
    };
    if paths.is_empty() {
        return Ok(None);
    }
    let mut merged = Kubeconfig::default();
    for p in &paths {
        let next = Kubeconfig::read_from(p).map_err(|e| format!("{}: {e}", p.display()))?;
        merged = merged
            .merge(next)
            .map_err(|e| format!("{}: {e}", p.display()))?;
    }
    Ok(Some(merged))
}

fn scope(namespace: Option<&str>) -> NsScope {
    match namespace {
        None => NsScope::ContextDefault,
        Some("*") => NsScope::All,
        Some(ns) => NsScope::One(ns.to_string()),
    }
}

/// Kubernetes sources: `--context` alone if given, else the config's `kube` entries, else the
/// kubeconfig's current context. `-n`/`-A` override every source's namespace.
pub fn kube_sources(
    config: &Config,
    args: &KubeArgs,
    kubeconfig: Result<Option<kube::config::Kubeconfig>, String>,
) -> Vec<KubeBackend> {
    let kubeconfig = match kubeconfig {
        Ok(Some(kc)) => Ok(kc),
        // No kubeconfig: no kube source, unless one was asked for by name.
        Ok(None) if args.context.is_none() => return Vec::new(),
        Ok(None) => Err("no kubeconfig (KUBECONFIG or ~/.kube/config)".to_string()),
        Err(e) => Err(e),
    };
    let mut entries: Vec<(String, NsScope)> = match (&args.context, &config.kube) {
        (Some(c), _) => vec![(c.clone(), NsScope::ContextDefault)],
        (None, Some(list)) if list.is_empty() => return Vec::new(),
        (None, Some(list)) => list
            .iter()
            .map(|k| (k.context.clone(), scope(k.namespace.as_deref())))
            .collect(),
        (None, None) => Vec::new(),
    };
    let over = if args.all_namespaces {
        Some(NsScope::All)
    } else {
        args.namespace.as_deref().map(|n| scope(Some(n)))
    };
    if entries.is_empty() {
        let current = match &kubeconfig {
            Ok(kc) => kc
                .current_context
                .clone()
                .or_else(|| kc.contexts.first().map(|c| c.name.clone())),
            // Shown as a source in error, so the operator learns why the cluster is missing.
            Err(_) => Some("kubeconfig".to_string()),
        };
        let Some(current) = current else {
            return Vec::new();
        };
        entries.push((current, NsScope::ContextDefault));
    }
    if let Some(over) = over {
        for e in &mut entries {
            e.1 = over.clone();
        }
    }
    KubeBackend::from_kubeconfig(kubeconfig, &entries)
}

/// Fleet sources from fleet files. A file that does not parse is left out with a warning
/// naming file:line:col; the console runs on without it. Relative paths are taken from `base`
/// (the config file's directory). `local` (`--local`) adds the fleet `local`: this machine
/// as a device (`host: local`), after the files.
pub fn build_fleets(
    files: &[PathBuf],
    base: Option<&Path>,
    local: bool,
) -> (Vec<crate::backend::fleet::FleetBackend>, Vec<String>) {
    let (mut out, mut warnings) = build_fleet_files(files, base);
    if local {
        use crate::backend::fleet::{FleetBackend, FleetFile, file::LOCAL_FLEET};
        if out.iter().any(|b| b.inner.file.name == LOCAL_FLEET) {
            warnings.push(format!(
                "--local: a fleet named `{LOCAL_FLEET}` is already loaded; this machine not added"
            ));
        } else {
            // No SSH is used: the options only fill the device's (unused) route.
            let opts = crate::ssh::SshOptions::from_home();
            out.push(FleetBackend::new(FleetFile::local(&hostname()), opts));
        }
    }
    (out, warnings)
}

/// This machine's host name (the `--local` device's name), `local` when it cannot be read.
pub fn hostname() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .map(|s| s.trim().to_string())
        .find(|s| !s.is_empty())
        .unwrap_or_else(|| crate::backend::fleet::file::LOCAL_HOST.to_string())
}

fn build_fleet_files(
    files: &[PathBuf],
    base: Option<&Path>,
) -> (Vec<crate::backend::fleet::FleetBackend>, Vec<String>) {
    use crate::backend::fleet::{FleetBackend, FleetFile};
    // Like ssh, a ~/.ssh/config that cannot be used stops the connections it would configure.
    let opts = match crate::ssh::SshOptions::load_home() {
        Ok(o) => o,
        Err(e) if files.is_empty() => {
            tracing::warn!("{e}");
            return (Vec::new(), Vec::new());
        }
        Err(e) => return (Vec::new(), vec![format!("{e} (fleets not loaded)")]),
    };
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
                match FleetBackend::try_new(file, opts.clone()) {
                    Ok(b) => out.push(b),
                    Err(e) => warnings.push(format!(
                        "{}: ssh_config {e} (fleet not loaded)",
                        path.display()
                    )),
                }
            }
            Err(e) => warnings.push(format!("{e} (fleet not loaded)")),
        }
    }
    (out, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DockerSources;

    fn docker_ids(config: &Config, host: Option<&str>) -> Vec<String> {
        build_with(config, host, &KubeArgs::default())
            .iter()
            .map(|b| b.id().to_string())
            .filter(|id| id.starts_with("docker:"))
            .collect()
    }

    #[test]
    fn docker_off_builds_no_docker_source_unless_a_host_is_named() {
        let mut config = Config::default();
        assert_eq!(docker_ids(&config, None), ["docker:local"]);
        config.docker = DockerSources {
            list: Vec::new(),
            off: true,
        };
        assert!(docker_ids(&config, None).is_empty());
        assert_eq!(
            docker_ids(&config, Some("tcp://127.0.0.1:1")),
            ["docker:local"]
        );
    }
}
