//! The real binary in tmux against a real single-node swarm: an operator opens `:stacks`,
//! drills into a stack's services and a service's tasks, and reads the service's logs.

use crate::support;

use std::time::Duration;

use support::require;
use support::swarm::{Swarm, TestStack};
use support::tmux::{Tmux, fleetdeck_bin, shell_quote, tmux_available};

const T: Duration = Duration::from_secs(45);

#[test]
fn stacks_drill_down_to_tasks_and_service_logs() {
    if !require("tmux", tmux_available()) {
        return;
    }
    let Some(_swarm) = Swarm::shared() else {
        return;
    };
    let stack = TestStack::deploy("e2e");
    let web = stack.service("web");

    let t = Tmux::start(&shell_quote(fleetdeck_bin()), 120, 35, &[]);
    t.wait_for("NAME", T);
    t.keys(&[":"]);
    t.type_text("stacks");
    t.keys(&["Enter"]);
    t.wait_for(&stack.name, T);
    t.keys(&["/"]);
    t.type_text(&stack.name);
    t.keys(&["Enter"]);
    t.wait_until("the stack with all tasks running", T, |s| {
        s.contains(&stack.name) && s.contains("3/3")
    });

    // Enter: the stack's services, with replicas.
    t.keys(&["Enter"]);
    let screen = t.wait_until("both services at full replicas", T, |s| {
        s.contains(&format!("Services({})", stack.name)) && s.contains("2/2") && s.contains("1/1")
    });
    assert!(
        screen.contains(&web) && screen.contains(&stack.service("worker")),
        "{screen}"
    );

    // Enter on the first service (sorted by name: web before worker): its tasks.
    t.keys(&["Enter"]);
    let screen = t.wait_until("web's tasks running", T, |s| {
        s.contains(&format!("Tasks({web})")) && s.matches("running").count() >= 2
    });
    assert!(
        screen.contains(&format!("{web}.1")) && screen.contains(&format!("{web}.2")),
        "{screen}"
    );

    // Back to the services; `l` streams the service's logs with a task prefix per line.
    t.keys(&["Escape"]);
    t.wait_for(&format!("Services({})", stack.name), T);
    t.keys(&["l"]);
    let screen = t.wait_until("the known line of both web tasks", T, |s| {
        s.matches("fleetdeck-known-line web").count() >= 2
    });
    assert!(
        screen.contains("_web.1@") && screen.contains("_web.2@"),
        "task prefixes shown:\n{screen}"
    );

    t.keys(&["q"]);
    t.wait_for(&format!("Services({})", stack.name), T);
    t.keys(&["q"]);
    t.wait_for("EXITED:0", T);
}

/// `fleetdeck triage` on a real swarm: a service whose tasks keep failing is a critical
/// problem that says how many replicas run.
#[test]
fn triage_lists_a_service_whose_tasks_keep_failing() {
    let Some(_swarm) = Swarm::shared() else {
        return;
    };
    let svc = support::swarm::TestService::create(
        "tri-fail",
        &["--restart-delay", "1s"],
        &["sh", "-c", "exit 1"],
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let triage = || {
        let out = std::process::Command::new(fleetdeck_bin())
            .args(["triage", "-o", "json", "--min-severity", "critical"])
            .env("XDG_CONFIG_HOME", dir.path().join("config"))
            .env("XDG_STATE_HOME", dir.path().join("state"))
            .output()
            .expect("run fleetdeck");
        let v: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap_or_default();
        (out.status.code(), v)
    };
    let mut last = (None, Vec::new());
    let found = support::wait_until(T, || {
        last = triage();
        last.1
            .iter()
            .any(|p| p["kind"] == "services" && p["name"] == svc.name.as_str())
    });
    assert!(found, "the failing service in {:?}", last.1);
    let p = last
        .1
        .iter()
        .find(|p| p["name"] == svc.name.as_str())
        .unwrap();
    assert_eq!(p["severity"], "critical", "{p}");
    assert_eq!(p["source"], "docker:local");
    assert!(
        p["problem"].as_str().unwrap().starts_with("0/1 running"),
        "{p}"
    );
    assert_eq!(last.0, Some(1));
}
