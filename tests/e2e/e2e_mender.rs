//! The real binary in tmux against a local Mender API: list deployments, drill into a
//! deployment's devices, read a device's deployment log, abort (confirmed, audited; refused
//! by the server for a finished deployment).

use crate::support;
use crate::support::mender_server;

use std::time::Duration;

use mender_server::MenderServer;
use support::require;
use support::tmux::{Tmux, fleetdeck_bin, shell_quote, tmux_available};

const T: Duration = Duration::from_secs(15);
const TOKEN: &str = "pat-e2e-0b9d7c2a-secret";
const DEPLOYMENTS: &str = "/api/management/v1/deployments/deployments";
const DEP1: &str = "0c13a0e6-6b63-49b8-be8f-4bd3d3cd1e1b";
const DEP2: &str = "1d24b1f7-7c74-4ac9-8f90-5ce4e4de2f2c";
const DEV2: &str = "64a1f0c2e4b0a1b2c3d4e5f2";

#[test]
fn deployments_drill_log_and_abort_in_the_console() {
    if !require("tmux", tmux_available()) {
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    // The fixtures, served like the upstream server (checked against its OpenAPI documents).
    let s = rt.block_on(MenderServer::with_fixtures(TOKEN));

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.yaml");
    std::fs::write(
        &config,
        format!(
            "kube: []\nmender:\n  - name: e2e\n    url: {}\n    token_env: FLEETDECK_E2E_MENDER_TOKEN\n",
            s.url()
        ),
    )
    .unwrap();
    let t = Tmux::start(
        &format!(
            "{} --config {}",
            shell_quote(fleetdeck_bin()),
            shell_quote(config.to_str().unwrap())
        ),
        160,
        30,
        &[("FLEETDECK_E2E_MENDER_TOKEN", TOKEN)],
    );
    t.wait_for("mender:e2e", T);
    t.keys(&[":"]);
    t.type_text("mdeployments");
    t.keys(&["Enter"]);
    // The active deployments list first, the history after it (two listings).
    let screen = t.wait_until("both deployments", T, |s| {
        s.contains("release-2024.05 staging") && s.contains("release-2024.04 production")
    });
    assert!(screen.contains("inprogress"), "{screen}");

    // Enter: the first deployment's devices; the failed one's deployment log. (Home: the
    // selection stays on the row that showed first, the active deployment, while the
    // history loaded after it.)
    t.keys(&["Home", "Enter"]);
    let screen = t.wait_for(DEV2, T);
    assert!(screen.contains("failure"), "{screen}");
    t.keys(&["Down", "l"]);
    let screen = t.wait_for("Artifact install failed", T);
    assert!(screen.contains("no space left on device"), "{screen}");
    t.keys(&["Escape"]);
    t.wait_for("Mender deployment devices", T);
    t.keys(&["Escape"]);
    t.wait_for("release-2024.05 staging", T);

    // x on the first deployment: it has finished, the server refuses (422) and says why.
    t.keys(&["x"]);
    t.wait_for("abort", T);
    t.keys(&["y"]);
    t.wait_for("Deployment already finished", T);
    // x on the one in progress: confirmed, then the PUT.
    t.keys(&["Down", "x"]);
    t.wait_for("abort", T);
    t.keys(&["y"]);
    t.wait_for("aborted", T);
    let puts: Vec<_> = s
        .requests()
        .into_iter()
        .filter(|r| r.method == "PUT")
        .collect();
    assert_eq!(puts.len(), 2, "{puts:#?}");
    assert_eq!(puts[0].path, format!("{DEPLOYMENTS}/{DEP1}/status"));
    assert_eq!(puts[0].status, 422);
    assert_eq!(puts[1].path, format!("{DEPLOYMENTS}/{DEP2}/status"));
    assert_eq!(puts[1].json(), serde_json::json!({"status": "aborted"}));
    assert_eq!(puts[1].status, 204);
    // Lists came from the v2 list and the paged per-device list only.
    assert!(
        s.requests()
            .iter()
            .filter(|r| r.method == "GET")
            .all(|r| r.path != DEPLOYMENTS
                && !(r.path.starts_with(DEPLOYMENTS) && r.path.ends_with("/devices"))),
        "no deprecated or v1 list"
    );

    t.keys(&["q"]);
    t.wait_for("EXITED:0", T);
    let audit = std::fs::read_to_string(t.state_dir().join("audit.jsonl")).expect("audit log");
    assert!(audit.contains("abort deployment"), "{audit}");
    let log = std::fs::read_to_string(t.state_dir().join("fleetdeck.log")).unwrap_or_default();
    assert!(
        !audit.contains(TOKEN) && !log.contains(TOKEN),
        "token leaked"
    );
    t.kill_session();
}
