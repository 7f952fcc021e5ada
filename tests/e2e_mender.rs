//! The real binary in tmux against a local Mender API: list deployments, drill into a
//! deployment's devices, read a device's deployment log, abort (confirmed, audited).

#[path = "support/mender_server.rs"]
mod mender_server;
mod support;

use std::time::Duration;

use mender_server::{MenderServer, Reply, fixture, fixture_text};
use support::require;
use support::tmux::{Tmux, fleetdeck_bin, shell_quote, tmux_available};

const T: Duration = Duration::from_secs(15);
const TOKEN: &str = "pat-e2e-0b9d7c2a-secret";
const DEPLOYMENTS: &str = "/api/management/v1/deployments/deployments";
const DEP1: &str = "0c13a0e6-6b63-49b8-be8f-4bd3d3cd1e1b";
const DEP2: &str = "1d24b1f7-7c74-4ac9-8f90-5ce4e4de2f2c";
const DEV2: &str = "64a1f0c2e4b0a1b2c3d4e5f2";

fn items(name: &str) -> Vec<serde_json::Value> {
    fixture(name).as_array().unwrap().clone()
}

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
    let s = rt.block_on(MenderServer::start(TOKEN));
    s.list(DEPLOYMENTS, items("deployments.json"), 1);
    for (id, file) in [(DEP1, "0c13a0e6"), (DEP2, "1d24b1f7")] {
        s.reply(
            "GET",
            &format!("{DEPLOYMENTS}/{id}"),
            Reply::json(200, &fixture(&format!("deployment_{file}.json"))),
        );
        s.list(
            &format!("{DEPLOYMENTS}/{id}/devices"),
            items(&format!("deployment_devices_{file}.json")),
            20,
        );
    }
    s.reply(
        "GET",
        &format!("{DEPLOYMENTS}/{DEP1}/devices/{DEV2}/log"),
        Reply::text(200, &fixture_text("deployment_log.txt")),
    );
    s.reply(
        "PUT",
        &format!("{DEPLOYMENTS}/{DEP1}/status"),
        Reply::text(204, ""),
    );

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
    let screen = t.wait_for("release-2024.05 staging", T);
    assert!(screen.contains("release-2024.04 production"), "{screen}");
    assert!(screen.contains("inprogress"), "{screen}");

    // Enter: the first deployment's devices; the failed one's deployment log.
    t.keys(&["Enter"]);
    let screen = t.wait_for(DEV2, T);
    assert!(screen.contains("failure"), "{screen}");
    t.keys(&["Down", "l"]);
    let screen = t.wait_for("Artifact install failed", T);
    assert!(screen.contains("no space left on device"), "{screen}");
    t.keys(&["Escape"]);
    t.wait_for("Mender deployment devices", T);
    t.keys(&["Escape"]);
    t.wait_for("release-2024.05 staging", T);

    // x on the first deployment: confirmed, then the PUT.
    t.keys(&["x"]);
    t.wait_for("abort", T);
    t.keys(&["y"]);
    t.wait_for("aborted", T);
    let put = s
        .requests()
        .into_iter()
        .find(|r| r.method == "PUT")
        .expect("PUT sent");
    assert_eq!(put.path, format!("{DEPLOYMENTS}/{DEP1}/status"));
    assert_eq!(put.json(), serde_json::json!({"status": "aborted"}));

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
