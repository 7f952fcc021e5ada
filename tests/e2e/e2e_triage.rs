//! `:triage` across every kind of source at once, in the real console (tmux): a real Docker
//! engine (a restart loop and a container that exited 1), the Kubernetes test API server (its
//! fixtures: a CrashLoopBackOff pod, a deployment at 2 of 3, a Warning event), simulated devices
//! behind real sshd (one with the failed flag, one whose sshd is gone) and the Mender server
//! double (a finished deployment with a failed device). Swarm's problems are proven on a real
//! swarm in e2e_swarm.rs and tests/engines/swarm_triage (a swarm here would slow every test).

use std::time::Duration;

use crate::support;
use support::kube_server::{KubeServer, fixture, fixture_items, kubeconfig_yaml, write_kubeconfig};
use support::mender_server::MenderServer;
use support::tmux::{Tmux, fleetdeck_bin, shell_quote, tmux_available};
use support::{TestContainer, docker_available, require};

const TOKEN: &str = "e2e-triage-token";

#[test]
fn triage_shows_one_problem_of_each_source_and_enter_opens_it() {
    if !(require("tmux", tmux_available())
        && require("docker", docker_available())
        && support::device::available())
    {
        return;
    }
    let looping = TestContainer::spec("tri-all-loop")
        .arg("--restart=always")
        .cmd(&["sh", "-c", "sleep 0.2; exit 3"])
        .run();
    let exited = TestContainer::spec("tri-all-exit")
        .cmd(&["sh", "-c", "exit 1"])
        .run();
    assert!(exited.wait_state("exited", Duration::from_secs(15)));

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let kube = rt.block_on(KubeServer::start());
    for p in fixture_items("pods.json") {
        kube.put("pods", p);
    }
    kube.put("deployments", fixture("deployment.json"));
    for e in fixture_items("events.json") {
        kube.put("events", e);
    }
    let (_kdir, kubeconfig) = write_kubeconfig(&kubeconfig_yaml(&[("test", &kube.url(), "shop")]));
    let mender = rt.block_on(MenderServer::with_fixtures(TOKEN));

    let mut fleet = support::device::SimFleet::start(3, "mender", "release-1");
    std::fs::write(fleet.device("dev-1").failed_flag(), "verification failed\n").unwrap();
    drop(fleet.devices.remove(2)); // dev-2's sshd stops: unreachable.

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.yaml");
    std::fs::write(
        &config,
        format!(
            "kube:\n  - context: test\nfleet: [{}]\nmender:\n  - name: e2e\n    url: {}\n    token_env: FLEETDECK_E2E_MENDER_TOKEN\n\
             triage:\n  warning_events_secs: 999999999\n",
            fleet.fleet_file.display(),
            mender.url()
        ),
    )
    .unwrap();
    let t = Tmux::start(
        &format!(
            "{} --config {}",
            shell_quote(fleetdeck_bin()),
            shell_quote(config.to_str().unwrap())
        ),
        220,
        50,
        &[
            ("FLEETDECK_E2E_MENDER_TOKEN", TOKEN),
            ("KUBECONFIG", kubeconfig.to_str().unwrap()),
        ],
    );
    t.wait_for(&exited.name, Duration::from_secs(20));
    // Before `:triage` was ever opened, the containers view's badge already counts the pod,
    // device and deployment problems too (their kinds are watched from every view).
    let count = |s: &str| -> usize {
        s.split_whitespace()
            .collect::<Vec<_>>()
            .windows(2)
            .find(|w| w[1].starts_with("problem"))
            .and_then(|w| w[0].parse().ok())
            .unwrap_or(0)
    };
    t.wait_until(
        "the badge counts every source",
        Duration::from_secs(45),
        |s| count(s) >= 7,
    );
    t.keys(&[":"]);
    t.type_text("triage");
    t.keys(&["Enter"]);
    // One row of each, within a bound (devices are polled over SSH, Mender over HTTP).
    let needles = [
        looping.name.as_str(),
        exited.name.as_str(),
        "CrashLoopBackOff",
        "2/3",
        "BackOff",
        "dev-1",
        "dev-2",
        "release-2024.04",
    ];
    let screen = t.wait_until("a problem of every source", Duration::from_secs(45), |s| {
        needles.iter().all(|n| s.contains(n))
    });
    for source in ["docker:", "kube:test", "fleet:", "mender:e2e"] {
        assert!(screen.contains(source), "{source} in {screen}");
    }
    // Enter on the pod's row lands on the pods view with that pod selected. The filter names
    // the pod's problem, not the pod: the Warning event's row names the same pod, and which of
    // the two sorts first depends on when each was noticed.
    t.keys(&["/"]);
    t.type_text("CrashLoop");
    t.keys(&["Enter"]);
    t.wait_for("/CrashLoop", Duration::from_secs(10));
    t.keys(&["Enter"]);
    let screen = t.wait_for("Triage › Pods", Duration::from_secs(15));
    assert!(screen.contains("web-5d8f7c9b6f-q9w8e"), "{screen}");
    // And the badge counts the problems on that other view.
    assert!(screen.contains("problems"), "{screen}");
    t.keys(&[":"]);
    t.type_text("q!");
    t.keys(&["Enter"]);
    drop(kube);
    drop(mender);
}
