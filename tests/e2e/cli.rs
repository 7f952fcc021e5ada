//! The scriptable subcommands against the real engine.

use crate::support;

use std::process::Command;

use support::tmux::fleetdeck_bin;
use support::{TestContainer, docker_available, require};

fn fleetdeck(args: &[&str]) -> (i32, String, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(fleetdeck_bin())
        .args(args)
        .env("XDG_CONFIG_HOME", dir.path().join("config"))
        .env("XDG_STATE_HOME", dir.path().join("state"))
        .output()
        .expect("run fleetdeck");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn ls_containers_json_yaml_and_table() {
    if !require("docker", docker_available()) {
        return;
    }
    let c = TestContainer::spec("cli-ls")
        .label("com.docker.compose.project", "cliproj")
        .run();
    let (code, out, err) = fleetdeck(&["ls", "containers", "-o", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: Vec<serde_json::Value> = serde_json::from_str(&out).expect("JSON array");
    let mine = v
        .iter()
        .find(|r| r["name"] == c.name.as_str())
        .expect("test container listed");
    assert_eq!(mine["state"], "running");
    assert_eq!(mine["project"], "cliproj");
    assert_eq!(mine["labels"]["fleetdeck.test"], "1");

    let (code, out, _) = fleetdeck(&["ls", "containers", "-o", "yaml"]);
    assert_eq!(code, 0);
    assert!(out.contains(&c.name));

    let (code, out, _) = fleetdeck(&["ls", "co"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("NAME"), "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with(&c.name) && l.contains("running")),
        "{out}"
    );

    let (code, out, _) = fleetdeck(&["ls", "projects", "-o", "json"]);
    assert_eq!(code, 0);
    assert!(out.contains("cliproj"));
}

#[test]
fn logs_and_exec() {
    if !require("docker", docker_available()) {
        return;
    }
    let c = TestContainer::spec("cli-logs")
        .cmd(&["sh", "-c", "for i in 1 2 3 4 5; do echo line-$i; done; trap 'exit 0' TERM; while :; do sleep 1; done"])
        .run();
    let ok = support::wait_until(std::time::Duration::from_secs(10), || {
        fleetdeck(&["logs", &c.name]).1.contains("line-5")
    });
    assert!(ok);
    let (code, out, err) = fleetdeck(&["logs", &c.name, "--tail", "2"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().collect::<Vec<_>>(), vec!["line-4", "line-5"]);
    let (_, out, _) = fleetdeck(&["logs", &c.name, "-t", "--tail", "1"]);
    assert!(
        out.starts_with("20") && out.contains("Z line-5"),
        "timestamped: {out}"
    );

    let (code, out, _) = fleetdeck(&["exec", &c.name, "--", "echo", "from-exec"]);
    assert_eq!((code, out.trim()), (0, "from-exec"));
    let (code, _, _) = fleetdeck(&["exec", &c.name, "--", "sh", "-c", "exit 3"]);
    assert_eq!(code, 3, "exit code passes through");
}

#[test]
fn errors_are_sentences_with_nonzero_exit() {
    let (code, _, err) = fleetdeck(&["ls", "bogus"]);
    assert_eq!(code, 1);
    assert!(err.contains("unknown kind `bogus`"), "{err}");
    let (code, _, err) = fleetdeck(&[
        "--docker-host",
        "unix:///nonexistent.sock",
        "ls",
        "containers",
    ]);
    assert_eq!(code, 1);
    assert!(
        err.contains("cannot reach Docker at unix:///nonexistent.sock"),
        "{err}"
    );
    let (code, _, err) = fleetdeck(&["logs", "x", "--since", "5x"]);
    assert_eq!(code, 2);
    assert!(err.contains("--since"), "{err}");
}

#[test]
fn explicit_malformed_config_refuses_to_start_with_position() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("bad.yaml");
    std::fs::write(&cfg, "theme: default\nread_only: maybe-not\n").expect("write");
    let (code, _, err) = fleetdeck(&["--config", cfg.to_str().expect("utf8"), "ls", "containers"]);
    assert_eq!(code, 2);
    assert!(
        err.contains(&format!("{}:2:", cfg.display())),
        "file:line:col in: {err}"
    );
    let (code, _, err) = fleetdeck(&[
        "--config",
        "/nonexistent/fleetdeck.yaml",
        "ls",
        "containers",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent/fleetdeck.yaml"), "{err}");
}

#[test]
fn console_refuses_without_a_terminal() {
    let (code, _, err) = fleetdeck(&[]);
    assert_eq!(code, 2);
    assert!(err.contains("needs a terminal"), "{err}");
}

/// Shell completions and the man page come from the clap definitions: every subcommand is in
/// them, and a reader that stops early is not an error.
#[test]
fn completions_and_man_page_are_generated_from_the_cli() {
    for shell in ["bash", "zsh", "fish"] {
        let (code, out, err) = fleetdeck(&["completions", shell]);
        assert_eq!(code, 0, "{shell}: {err}");
        for sub in ["ls", "logs", "exec", "run", "update", "completions", "man"] {
            assert!(out.contains(sub), "{shell} completions lack {sub}");
        }
    }
    let (code, out, _) = fleetdeck(&["man"]);
    assert_eq!(code, 0);
    assert!(out.contains(".TH fleetdeck 1"), "{out}");
    assert!(out.contains("update"));
    let (code, _, err) = fleetdeck(&["completions", "tcsh"]);
    assert_eq!(code, 2, "{err}");
}

/// `fleetdeck schema NAME` prints the schema committed in assets/schemas/ (the one the example
/// files point at); an unknown kind is a usage error.
#[test]
fn schema_prints_the_committed_json_schema() {
    for kind in ["config", "fleet", "keymap", "theme"] {
        let (code, out, err) = fleetdeck(&["schema", kind]);
        assert_eq!(code, 0, "{kind}: {err}");
        let committed = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(format!("assets/schemas/{kind}.schema.json")),
        )
        .unwrap();
        assert_eq!(out, committed, "{kind}");
    }
    let (code, _, err) = fleetdeck(&["schema", "nope"]);
    assert_eq!(code, 2, "{err}");
}

/// `fleetdeck timeline`: the engine's replay and the audit log, newest first, as JSON or a
/// table; a bad `--since` is a usage error.
#[test]
fn timeline_prints_engine_events_and_audited_actions_newest_first() {
    if !require("docker", docker_available()) {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state");
    let run = |args: &[&str]| {
        let out = Command::new(fleetdeck_bin())
            .args(args)
            .env("XDG_CONFIG_HOME", dir.path().join("config"))
            .env("XDG_STATE_HOME", &state)
            .output()
            .expect("run fleetdeck");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let c = TestContainer::spec("cli-timeline").run();
    support::run_ok("docker", &["kill", &c.name]);
    let audit = fleetdeck::audit::AuditLog::new(state.join("fleetdeck/audit.jsonl"));
    let stop = fleetdeck::audit::AuditEntry::attempt("docker:local", "containers/web", "stop");
    audit.append(&stop).expect("audit");

    let (code, out, err) = run(&["timeline", "--since", "5m", "-o", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: Vec<serde_json::Value> = serde_json::from_str(&out).expect("JSON array");
    let mine: Vec<&str> = v
        .iter()
        .filter(|e| e["name"] == c.name.as_str())
        .map(|e| e["what"].as_str().unwrap_or_default())
        .collect();
    let pos = |w: &str| mine.iter().position(|x| *x == w);
    assert!(
        pos("die").is_some() && pos("die") < pos("kill") && pos("kill") < pos("start"),
        "newest first: {mine:?}"
    );
    let die = v
        .iter()
        .find(|e| e["name"] == c.name.as_str() && e["what"] == "die")
        .expect("die");
    assert_eq!(die["source"], "docker:local");
    assert_eq!(die["kind"], "container");
    assert_eq!(die["id"], c.id.as_str());
    assert_eq!(die["severity"], "error");
    assert_eq!(die["detail"], "exit code 137");
    assert!(die["time"].as_str().is_some_and(|t| t.starts_with("20")));
    let audited = v
        .iter()
        .find(|e| e["name"] == "web" && e["what"] == "stop")
        .expect("the audited action");
    assert!(
        audited["detail"]
            .as_str()
            .unwrap_or_default()
            .starts_with("attempt by ")
    );

    let (code, out, _) = run(&["timeline", "--since", "5m"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("AGE"), "{out}");
    assert!(
        out.lines()
            .any(|l| l.contains(&c.name) && l.contains("die") && l.contains("exit code 137")),
        "{out}"
    );

    let (code, _, err) = run(&["timeline", "--since", "soon"]);
    assert_eq!(code, 2);
    assert!(err.contains("bad --since"), "{err}");
}
