//! The scriptable subcommands against the real engine.

use crate::support;

use std::process::Command;
use std::time::Duration;

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

/// `fleetdeck triage` on the real engine: a restart loop (restart policy), a container that
/// exited 1 and one failing its health check are each one problem in the engine's words, and
/// the exit code says problems exist.
#[test]
fn triage_lists_a_restart_loop_an_exit_and_a_failing_health_check() {
    if !require("docker", docker_available()) {
        return;
    }
    let looping = TestContainer::spec("tri-loop")
        .arg("--restart=always")
        .cmd(&["sh", "-c", "sleep 0.2; exit 3"])
        .run();
    let exited = TestContainer::spec("tri-exit")
        .cmd(&["sh", "-c", "exit 1"])
        .run();
    let sick = TestContainer::spec("tri-sick")
        .arg("--health-cmd=echo db unreachable; exit 1")
        .arg("--health-interval=1s")
        .arg("--health-retries=1")
        .run();
    let ready = support::wait_until(Duration::from_secs(30), || {
        looping
            .inspect("{{.RestartCount}}")
            .and_then(|n| n.parse::<u32>().ok())
            .is_some_and(|n| n >= 1)
            && exited.inspect("{{.State.Status}}").as_deref() == Some("exited")
            && sick.inspect("{{.State.Health.Status}}").as_deref() == Some("unhealthy")
    });
    assert!(ready, "the three containers reached their states");

    let (code, out, err) = fleetdeck(&["triage", "-o", "json"]);
    assert_eq!(code, 1, "problems exist: {err}");
    let v: Vec<serde_json::Value> = serde_json::from_str(&out).expect("JSON array");
    let of = |name: &str| {
        v.iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{name} in {out}"))
    };
    let p = of(&looping.name);
    assert_eq!(p["severity"], "critical", "{p}");
    assert_eq!(p["kind"], "containers");
    assert_eq!(p["source"], "docker:local");
    assert_eq!(p["id"], looping.id.as_str());
    let text = p["problem"].as_str().unwrap();
    assert!(text.starts_with("restart"), "{text}");
    assert!(text.contains("restart"), "{text}");
    let p = of(&exited.name);
    assert_eq!(p["severity"], "warning");
    assert_eq!(p["problem"], "exited with code 1");
    assert!(p["since"].is_string(), "{p}");
    let p = of(&sick.name);
    assert_eq!(p["severity"], "critical");
    assert_eq!(p["problem"], "unhealthy: db unreachable");

    let (code, out, _) = fleetdeck(&["triage", "--min-severity", "critical"]);
    assert_eq!(code, 1);
    assert!(out.starts_with("SEVERITY"), "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("warning") && l.contains(&exited.name)),
        "{out}"
    );
}

/// `fleetdeck triage --fleet FILE` on simulated devices (real sshd each): one whose sshd is
/// gone is unreachable, one with the appliance's failed flag is failed, one over its disk
/// limit is a warning, the healthy one is not listed.
#[test]
fn triage_lists_an_unreachable_device_a_failed_one_and_one_over_a_limit() {
    if !support::device::available() {
        return;
    }
    let mut f = support::device::SimFleet::start(4, "mender", "release-1");
    std::fs::write(f.device("dev-1").failed_flag(), "verification failed\n").expect("flag");
    // dev-3's `/` is used more than 1% (it is this machine's disk): over its limit.
    let yaml = f.fleet_yaml().replace(
        "  - name: \"dev-3\"\n",
        "  - name: \"dev-3\"\n    thresholds: {disk_percent: 1}\n",
    );
    std::fs::write(&f.fleet_file, yaml).expect("fleet file");
    drop(f.devices.remove(2)); // dev-2's sshd stops: the device is unreachable.
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(fleetdeck_bin())
        .args(["--fleet", &f.fleet_file.display().to_string()])
        .args(["triage", "-o", "json"])
        .env("XDG_CONFIG_HOME", dir.path().join("config"))
        .env("XDG_STATE_HOME", dir.path().join("state"))
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .env("KUBECONFIG", dir.path().join("none"))
        .output()
        .expect("run fleetdeck");
    assert_eq!(out.status.code(), Some(1));
    let v: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("JSON");
    let device = |name: &str| {
        v.iter()
            .find(|p| p["kind"] == "devices" && p["name"] == name)
            .cloned()
    };
    let failed = device("dev-1").unwrap_or_else(|| panic!("dev-1 in {v:?}"));
    assert_eq!(failed["severity"], "critical");
    assert!(
        failed["problem"].as_str().unwrap().contains("FAILED"),
        "{failed}"
    );
    let gone = device("dev-2").unwrap_or_else(|| panic!("dev-2 in {v:?}"));
    assert_eq!(gone["severity"], "critical");
    let full = device("dev-3").unwrap_or_else(|| panic!("dev-3 in {v:?}"));
    assert_eq!(full["severity"], "warning");
    let problem = full["problem"].as_str().unwrap();
    assert!(problem.starts_with("over limit, disk / "), "{full}");
    assert!(problem.ends_with("(limit 1%)"), "{full}");
    assert!(device("dev-0").is_none(), "{v:?}");
}

/// `--local`: this machine as a device (fleet `local`, `host: local`), listed with its facts
/// and running `fleetdeck run` commands as local processes, audited like SSH devices.
#[test]
fn local_lists_this_machine_and_runs_commands_on_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("config.yaml");
    std::fs::write(&config, "docker: false\n").unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(fleetdeck_bin())
            .arg("--config")
            .arg(&config)
            .args(args)
            .env("XDG_STATE_HOME", dir.path().join("state"))
            .output()
            .expect("run fleetdeck");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let host = fleetdeck::backend::registry::hostname();
    let (code, out, err) = run(&["--local", "ls", "devices", "-o", "json"]);
    assert_eq!(code, 0, "{err}");
    let rows: Vec<serde_json::Value> = serde_json::from_str(&out).expect("JSON array");
    assert_eq!(rows.len(), 1, "{out}");
    let me = &rows[0];
    assert_eq!(
        (&me["name"], &me["host"], &me["state"], &me["source"]),
        (
            &serde_json::json!(host),
            &serde_json::json!("local"),
            &serde_json::json!("up"),
            &serde_json::json!("fleet:local")
        ),
        "{me}"
    );
    let kernel = support::run_ok("uname", &["-r"]);
    assert_eq!(me["kernel"], kernel.trim(), "{me}");

    let (code, out, err) = run(&[
        "--local",
        "run",
        "--device",
        &host,
        "--",
        "echo hello-$((40+2)); exit 3",
    ]);
    assert_eq!(code, 1, "a failed command fails the run: {out}{err}");
    assert!(out.contains("(exit 3") && out.contains("hello-42"), "{out}");
    let (code, out, err) = run(&["--local", "run", "--all", "--", "true"]);
    assert_eq!(code, 0, "{out}{err}");
    let audit =
        std::fs::read_to_string(dir.path().join("state/fleetdeck/audit.jsonl")).expect("audit log");
    let runs: Vec<&str> = audit
        .lines()
        .filter(|l| l.contains("fleet:local"))
        .collect();
    assert_eq!(runs.len(), 4, "attempt and result of each run:\n{audit}");
    assert!(
        audit.contains("run: echo hello-$((40+2)); exit 3"),
        "{audit}"
    );
}

/// `fleetdeck update` with the `mender` updater on a `host: local` device: the client is found
/// on PATH as on a device (the simulation's Mender 5 `mender-update`; PATH and MENDER_SIM_DIR
/// given to fleetdeck as the device's sshd gives them to its sessions), the local artifact is
/// uploaded, installed, the machine "reboots" (`sim-reboot --no-drop`: a new boot id, never a
/// real reboot) and the update is committed. Here and not in the engines binary: those run
/// simulated Mender daemons in parallel, which a local device would see.
#[test]
fn update_with_the_mender_updater_on_a_local_device() {
    use support::device::{Client, SimDevice, SimOpts, artifact_file};
    if !support::device::available() {
        return;
    }
    let dev = SimDevice::start(
        "local-cli",
        SimOpts {
            client: Client::Mender5,
            ..Default::default()
        },
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let artifact = dir.path().join("release-2.mender");
    std::fs::copy(artifact_file("release-2"), &artifact).unwrap();
    let fleet = dir.path().join("here.yaml");
    let q = |s: &str| serde_json::to_string(s).unwrap();
    std::fs::write(
        &fleet,
        format!(
            "devices:\n  - name: me\n    host: local\n    updater: mender\n    update:\n      \
             reboot_command: sim-reboot --no-drop\n      boot_id_command: boot-id\n      \
             reboot_timeout: 30s\n      require_root: false\n      upload_dir: {}\n",
            q(&dev.upload_dir().display().to_string())
        ),
    )
    .unwrap();
    let path = format!(
        "{}:{}",
        dev.bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new(fleetdeck_bin())
        .args([
            "--fleet",
            fleet.to_str().unwrap(),
            "update",
            "--device",
            "me",
        ])
        .args(["--artifact", artifact.to_str().unwrap()])
        .env("PATH", path)
        .env("MENDER_SIM_DIR", &dev.dir)
        .env("XDG_CONFIG_HOME", dir.path().join("config"))
        .env("XDG_STATE_HOME", dir.path().join("state"))
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run fleetdeck");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert_eq!(dev.artifact(), "release-2", "{text}");
    assert_eq!(dev.running(), "release-2");
    assert_eq!(dev.count_calls("power-cycle"), 1, "{:?}", dev.calls());
    let audit = std::fs::read_to_string(dir.path().join("state/fleetdeck/audit.jsonl")).unwrap();
    assert!(
        audit.contains("fleet:here") && audit.contains("verifying → committed"),
        "{audit}"
    );
}

/// `fleetdeck update --hold-before-commit` (#15) over real SSH on the Mender 5 simulation: the
/// device is installed, rebooted and verified, then held (not committed); the command says so
/// and exits 0, leaving the hold on disk for the console to commit.
#[test]
fn update_hold_before_commit_leaves_the_device_held() {
    use support::device::{SimFleet, artifact_file};
    if !support::device::available() {
        return;
    }
    let f = SimFleet::start(1, "mender", "release-1");
    let dir = tempfile::tempdir().expect("tempdir");
    let artifact = artifact_file("release-2");
    let out = Command::new(fleetdeck_bin())
        .args(["--fleet", &f.fleet_file.display().to_string()])
        .args(["update", "--device", "dev-0", "--hold-before-commit"])
        .args(["--artifact", artifact.to_str().unwrap()])
        .env("XDG_CONFIG_HOME", dir.path().join("config"))
        .env("XDG_STATE_HOME", dir.path().join("state"))
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run fleetdeck");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("dev-0 verified, waiting for commit"),
        "{text}"
    );
    assert!(text.contains("holds 1 device(s) before commit"), "{text}");
    let dev = f.device("dev-0");
    assert_eq!(dev.pending().as_deref(), Some("release-2"), "not committed");
    assert_eq!(dev.artifact(), "release-1");
    // The hold is on disk: the record says `held`, the rollout is still running.
    let updates = dir.path().join("state/fleetdeck/updates");
    let record = walk(&updates)
        .into_iter()
        .find(|p| p.ends_with("dev-0.json"))
        .unwrap_or_else(|| panic!("a record under {}", updates.display()));
    let r: serde_json::Value = serde_json::from_slice(&std::fs::read(record).unwrap()).unwrap();
    assert_eq!(r["step"], "held", "{r}");
}

/// Every file under `dir`.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
