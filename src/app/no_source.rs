//! A kind no configured source lists says so, and how to configure one: ":po" without a
//! kubeconfig shows "no Kubernetes source configured: …", not "no pods" (an empty cluster).

use super::state::AppState;
use crate::model::ResourceKind;

/// Why the table of `kind` can have no rows at all, when no source lists it. `None` when a
/// source does, when the console makes the rows itself (triage, timeline, `:run` results), or
/// while the sources are not known yet.
pub fn note(state: &AppState, kind: ResourceKind) -> Option<String> {
    let served = state.served.as_ref()?;
    if served.contains(&kind) {
        return None;
    }
    use ResourceKind::*;
    Some(
        match kind {
            Container | Project | Image | Volume | Network | Stack | Service | Task | Node
            | Secret | Config => {
                if state.settings.config.docker.off {
                    "Docker is turned off (`docker: false` in the config)"
                } else {
                    "no Docker source configured: set DOCKER_HOST or `docker:` in the config"
                }
            }
            Context | Namespace | Deployment | StatefulSet | DaemonSet | ReplicaSet | Pod
            | PodContainer | KService | KNode | KEvent => {
                "no Kubernetes source configured: set KUBECONFIG or `kube:` in the config"
            }
            Device | Rollout | DeviceUpdate => {
                "no device fleet configured: start with --fleet FILE or set `fleet:` in the config"
            }
            MenderDevice | MenderDeployment | MenderDeploymentDevice => {
                "no Mender server configured: set `mender:` in the config"
            }
            RunResult | Timeline | Triage => return None,
        }
        .to_string(),
    )
}
