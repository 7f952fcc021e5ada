//! Device updates over real SSH: one real Debian sshd per simulated appliance
//! (tests/support/device.rs) whose `mender-update`, `sim-reboot`, `boot-id` and `appliance-sim`
//! honour the real contracts. The console's production code path drives them: the fleet
//! backend's actions, the rollout engine, and the `fleetdeck update` binary. No real reboot
//! ever runs: every device's `reboot_command` is the simulation.

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use fleetdeck::audit::AuditLog;
use fleetdeck::backend::Backend;
use fleetdeck::backend::fleet::{FleetBackend, FleetFile};
use fleetdeck::model::{FailureLimit, ResourceAction, ResourceKey, ResourceKind, UpdateRequest};
use fleetdeck::ssh::SshOptions;
use fleetdeck::ssh::config::SshConfig;
use fleetdeck::update::rollout::RolloutState;
use fleetdeck::update::{Step, UpdateRecord};
use support::device::SimFleet;

/// sshd plus the Mender tools the simulated devices run (support::device::available).
fn have_sshd() -> bool {
    support::device::available()
}

const URL: &str = "https://updates.example/release-2.mender";

/// The fleet of `sim` as a backend whose update state lives in `sim`'s temp dir.
fn backend(sim: &SimFleet) -> FleetBackend {
    let home = sim.dir.path().join("home");
    std::fs::create_dir_all(home.join(".ssh")).unwrap();
    let opts = SshOptions {
        config: Arc::new(SshConfig::parse("")),
        home: home.clone(),
        user_known_hosts: home.join(".ssh/known_hosts"),
        agent: None,
        connect_timeout: Duration::from_secs(10),
    };
    let file = FleetFile::load(&sim.fleet_file).unwrap_or_else(|e| panic!("{e}"));
    // Never a real reboot: the fleet file points every device at the simulation.
    for d in &file.devices {
        assert_eq!(d.update.reboot_command, "sim-reboot");
    }
    FleetBackend::new(file, opts).with_update_store(
        sim.dir.path().join("state/updates"),
        Some(AuditLog::new(sim.dir.path().join("audit.jsonl"))),
        Duration::from_millis(200),
    )
}

fn device_key(b: &FleetBackend, name: &str) -> ResourceKey {
    ResourceKey {
        source: b.id().clone(),
        kind: ResourceKind::Device,
        id: name.into(),
    }
}

/// Start an update through the backend's action, as the console's confirm dialog does.
async fn start(b: &FleetBackend, devices: &[&str], artifact: &str, parallel: usize) -> String {
    let req = UpdateRequest {
        artifact: artifact.into(),
        devices: devices.iter().map(|d| d.to_string()).collect(),
        parallel,
        max_failures: FailureLimit::Count(1),
    };
    let msg = b
        .act(
            &device_key(b, devices[0]),
            &ResourceAction::StartUpdate(req),
        )
        .await
        .unwrap();
    msg.split_whitespace().nth(1).unwrap().to_string()
}

async fn finish(b: &FleetBackend, id: &str) -> (RolloutState, Vec<UpdateRecord>) {
    support::rollout::finish(b.updates(), id, Duration::from_secs(90)).await
}

fn only(records: &[UpdateRecord]) -> &UpdateRecord {
    assert_eq!(records.len(), 1);
    &records[0]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mender_install_reboot_verify_commit() {
    if !have_sshd() {
        return;
    }
    let sim = SimFleet::start(1, "mender", "release-1");
    let b = backend(&sim);
    let dev = sim.device("dev-0");
    let boot_before = dev.boot_id();
    let id = start(&b, &["dev-0"], URL, 1).await;
    let (state, records) = finish(&b, &id).await;
    let r = only(&records);
    assert_eq!(
        (state, r.step),
        (RolloutState::Done, Step::Committed),
        "{r:#?}"
    );
    assert_eq!(dev.artifact(), "release-2", "show-artifact is the new one");
    assert_eq!(r.installed.as_deref(), Some("release-2"));
    assert_eq!(r.previous.as_deref(), Some("release-1"));
    assert_eq!(r.cli.as_deref(), Some("mender-update"));
    assert_ne!(dev.boot_id(), boot_before, "the device rebooted");
    assert_eq!(dev.count_calls("install "), 1);
    assert_eq!(dev.count_calls("reboot"), 1);
    assert_eq!(dev.count_calls("commit"), 1);
    assert!(dev.pending().is_none());
    // `l` on the update row: the updater's output and the steps, in order.
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    let key = ResourceKey {
        source: b.id().clone(),
        kind: ResourceKind::DeviceUpdate,
        id: format!("{id}/dev-0"),
    };
    let _logs = b.logs(
        &key,
        fleetdeck::model::LogOpts {
            follow: true,
            ..Default::default()
        },
        7,
        tx,
    );
    let mut text = Vec::new();
    while let Some(ev) = rx.recv().await {
        match ev {
            fleetdeck::backend::BackendEvent::LogLines { lines, .. } => {
                text.extend(lines.into_iter().map(|l| l.text.text))
            }
            fleetdeck::backend::BackendEvent::LogEnded { error, .. } => {
                assert_eq!(error, None);
                break;
            }
            _ => {}
        }
    }
    let pos = |needle: &str| {
        text.iter()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("{needle} not in {text:#?}"))
    };
    assert!(pos("── installing") < pos("Installing artifact... 100%"));
    assert!(pos("Installing artifact... 100%") < pos("── rebooting"));
    assert!(pos("── rebooting") < pos("── verifying"));
    assert!(pos("── verifying") < pos("── committed"));
    // The audit log has every transition.
    let audit = std::fs::read_to_string(sim.dir.path().join("audit.jsonl")).unwrap();
    for t in [
        "pending → installing",
        "installing → rebooting",
        "rebooting → verifying",
        "verifying → committed",
    ] {
        assert!(audit.contains(t), "{t} missing from {audit}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_back_on_the_old_artifact_is_recorded_rolled_back() {
    if !have_sshd() {
        return;
    }
    let sim = SimFleet::start(1, "mender", "release-1");
    let dev = sim.device("dev-0");
    dev.set_mode(&["boot-fails"]);
    let b = backend(&sim);
    let id = start(&b, &["dev-0"], URL, 1).await;
    let (_, records) = finish(&b, &id).await;
    let r = only(&records);
    assert_eq!(r.step, Step::RolledBack, "not committed: {r:#?}");
    assert!(
        r.reason
            .as_deref()
            .unwrap_or("")
            .contains("old artifact (release-1)"),
        "{r:?}"
    );
    assert_eq!(dev.artifact(), "release-1");
    let (_, rows) = b.updates().rows(jiff::Timestamp::now());
    assert_eq!(rows[0].cells[1], "rolled back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_commit_rolls_back_and_reboots_into_the_old_artifact() {
    if !have_sshd() {
        return;
    }
    let sim = SimFleet::start(1, "mender", "release-1");
    let dev = sim.device("dev-0");
    dev.set_mode(&["commit-veto"]);
    let b = backend(&sim);
    let id = start(&b, &["dev-0"], URL, 1).await;
    let (_, records) = finish(&b, &id).await;
    let r = only(&records);
    assert_eq!(r.step, Step::RolledBack, "{r:#?}");
    assert!(
        r.reason.as_deref().unwrap().contains("the commit exited 1"),
        "{r:?}"
    );
    assert_eq!(dev.count_calls("rollback"), 1);
    assert_eq!(
        dev.count_calls("reboot"),
        2,
        "rebooted again after the rollback"
    );
    assert_eq!(dev.artifact(), "release-1");
    assert!(dev.pending().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_artifact_is_uploaded_then_installed_and_mender_3_is_detected() {
    if !have_sshd() {
        return;
    }
    let sim = SimFleet::start_with(1, "mender", |_| support::device::SimOpts {
        client: support::device::Client::Mender3,
        ..Default::default()
    });
    let artifact = sim.dir.path().join("release-3.mender");
    let mut body = b"artifact_name=release-3\n".to_vec();
    body.extend(std::iter::repeat_n(b'x', 3 * 1024 * 1024));
    std::fs::write(&artifact, &body).unwrap();
    let b = backend(&sim);
    let id = start(&b, &["dev-0"], artifact.to_str().unwrap(), 1).await;
    let (_, records) = finish(&b, &id).await;
    let r = only(&records);
    assert_eq!(r.step, Step::Committed, "{r:#?}");
    assert_eq!(r.cli.as_deref(), Some("mender"));
    let dev = sim.device("dev-0");
    assert_eq!(dev.artifact(), "release-3");
    let uploaded = dev.upload_dir().join("release-3.mender");
    assert_eq!(std::fs::read(&uploaded).unwrap(), body, "uploaded intact");
    let audit = std::fs::read_to_string(sim.dir.path().join("audit.jsonl")).unwrap();
    assert!(audit.contains("pending → uploading") && audit.contains("uploading → installing"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appliance_updater_follows_progress_detects_and_clears_the_failed_flag() {
    if !have_sshd() {
        return;
    }
    let sim = SimFleet::start(2, "appliance", "release-1");
    sim.device("dev-1").set_mode(&["appliance-fail"]);
    let b = backend(&sim);
    let id = start(&b, &["dev-0", "dev-1"], "release-2", 2).await;
    let (_, records) = finish(&b, &id).await;
    let ok = records.iter().find(|r| r.device == "dev-0").unwrap();
    assert_eq!(ok.step, Step::Committed, "{ok:#?}");
    assert!(
        ok.last_line.contains("100%") || ok.percent == Some(100),
        "{ok:?}"
    );
    let bad = records.iter().find(|r| r.device == "dev-1").unwrap();
    assert_eq!(bad.step, Step::Failed, "{bad:#?}");
    let flag = sim.device("dev-1").failed_flag();
    assert!(
        bad.reason
            .as_deref()
            .unwrap()
            .contains("appliance update failed"),
        "{bad:?}"
    );
    assert!(flag.exists());
    // The device view sees the flag too (facts use the configured path).
    let rows = b.gather().await;
    let row = rows.iter().find(|r| r.name == "dev-1").unwrap();
    assert_eq!(row.cells[1], "FAILED", "{row:?}");
    // "Clear failed flag and restart".
    let msg = b
        .act(&device_key(&b, "dev-1"), &ResourceAction::ClearFailed)
        .await
        .unwrap();
    assert!(msg.contains("cleared"), "{msg}");
    assert!(!flag.exists());
    assert_eq!(sim.device("dev-1").count_calls("appliance restart"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manual_commit_and_rollback() {
    if !have_sshd() {
        return;
    }
    let sim = SimFleet::start(1, "mender", "release-1");
    let b = backend(&sim);
    let key = device_key(&b, "dev-0");
    let dev = sim.device("dev-0");
    let msg = b.act(&key, &ResourceAction::Commit).await.unwrap();
    assert!(msg.contains("no update in progress"), "{msg}");
    // Install by hand, reboot, then commit from the console.
    let out = dev.ssh(
        &sim.key,
        &sim.known_hosts,
        "mender-update install --reboot-exit-code https://x/release-5.mender; sim-reboot",
        Duration::from_secs(20),
    );
    let _ = out;
    assert!(support::wait_until(Duration::from_secs(10), || dev.booted()));
    b.act(&key, &ResourceAction::Commit).await.unwrap();
    assert_eq!(dev.artifact(), "release-5");
    let out = dev.ssh(
        &sim.key,
        &sim.known_hosts,
        "mender-update install https://x/release-6.mender",
        Duration::from_secs(20),
    );
    let _ = out;
    let msg = b.act(&key, &ResourceAction::Rollback).await.unwrap();
    assert!(msg.contains("rolled back"), "{msg}");
    assert!(dev.pending().is_none());
    assert_eq!(dev.artifact(), "release-5");
}

fn fleetdeck(sim: &SimFleet, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_fleetdeck"));
    let home = sim.dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    c.args(["--fleet", sim.fleet_file.to_str().unwrap()])
        .args(args)
        .env("HOME", &home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_STATE_HOME", sim.dir.path().join("state-cli"))
        .env_remove("SSH_AUTH_SOCK")
        .stdin(Stdio::null());
    c
}

#[test]
fn cli_group_rollout_stops_at_the_failure_limit_with_right_counts() {
    if !have_sshd() {
        return;
    }
    let sim = SimFleet::start(10, "mender", "release-1");
    sim.device("dev-1").set_mode(&["install-fail"]);
    for d in &sim.devices {
        d.set_step(0.2);
    }
    let out = fleetdeck(
        &sim,
        &[
            "update",
            "--tag",
            "prod",
            "--artifact",
            URL,
            "--parallel",
            "3",
            "--max-failures",
            "1",
        ],
    )
    .output()
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stdout.contains("dev-1 failed"), "{stdout}");
    assert!(
        stdout.contains("Stopped: 7 pending, 0 running, 2 succeeded, 1 failed, 0 rolled back"),
        "{stdout}"
    );
    let started: Vec<&str> = sim
        .devices
        .iter()
        .filter(|d| d.count_calls("install ") > 0)
        .map(|d| d.name.as_str())
        .collect();
    assert_eq!(started, ["dev-0", "dev-1", "dev-2"]);
}

/// Kill `fleetdeck update` between the install and the commit (while the device is down after
/// its reboot); a console started afterwards resumes it to committed without installing again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_update_resumes_to_committed_after_a_restart() {
    if !have_sshd() {
        return;
    }
    let sim = SimFleet::start(1, "mender", "release-1");
    let dev = sim.device("dev-0");
    dev.set_down_secs(4);
    let mut child = fleetdeck(&sim, &["update", "--device", "dev-0", "--artifact", URL])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let state = sim.dir.path().join("state-cli/fleetdeck/updates");
    let rebooting = support::wait_until(Duration::from_secs(30), || {
        step_on_disk(&state).as_deref() == Some("rebooting")
    });
    child.kill().unwrap();
    let _ = child.wait();
    assert!(
        rebooting,
        "never reached rebooting: {:?}",
        step_on_disk(&state)
    );
    assert_eq!(dev.artifact(), "release-1");
    assert!(dev.pending().is_some(), "installed, not committed");

    // "Restart": a new console over the same state dir (the probe at startup resumes).
    let b = backend_with_root(&sim, &state.join(fleet_name(&sim)));
    let (tx, _rx) = tokio::sync::mpsc::channel(64);
    let _ = b.probe(tx);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let id = loop {
        assert!(
            std::time::Instant::now() < deadline,
            "the rollout was not resumed"
        );
        if let Some(id) = b
            .updates()
            .rows(jiff::Timestamp::now())
            .0
            .first()
            .map(|r| r.name.clone())
        {
            break id;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let (_, records) = finish(&b, &id).await;
    assert_eq!(only(&records).step, Step::Committed, "{records:#?}");
    assert_eq!(dev.artifact(), "release-2");
    assert_eq!(dev.count_calls("install "), 1, "never installed twice");
}

fn fleet_name(sim: &SimFleet) -> String {
    FleetFile::load(&sim.fleet_file).unwrap().name
}

fn backend_with_root(sim: &SimFleet, root: &Path) -> FleetBackend {
    let b = backend(sim);
    b.with_update_store(root.to_path_buf(), None, Duration::from_millis(200))
}

/// The step of the one device record under `updates/` (any rollout).
fn step_on_disk(updates: &Path) -> Option<String> {
    let fleet = std::fs::read_dir(updates).ok()?.flatten().next()?.path();
    for rollout in std::fs::read_dir(&fleet).ok()?.flatten() {
        let devices = rollout.path().join("devices");
        if let Ok(files) = std::fs::read_dir(&devices) {
            for f in files.flatten() {
                if f.path().extension().and_then(|e| e.to_str()) == Some("json") {
                    let v: serde_json::Value =
                        serde_json::from_slice(&std::fs::read(f.path()).ok()?).ok()?;
                    return v["step"].as_str().map(String::from);
                }
            }
        }
    }
    None
}

/// The resume test, as an operator lives it: in the console (tmux), `U` on a device,
/// the artifact URL, `y`; the console is killed while the device reboots; a new console
/// resumes the update from the device's real state to committed, without installing again.
#[test]
fn console_update_from_keys_is_killed_mid_reboot_and_a_new_console_commits_it() {
    use support::tmux::{Tmux, fleetdeck_bin, shell_quote, tmux_available};
    if !have_sshd() || !support::require("tmux", tmux_available()) {
        return;
    }
    let sim = SimFleet::start(2, "mender", "release-1");
    let dev = sim.device("dev-0");
    // Down for a while after its reboot: the console is killed while it waits.
    dev.set_down_secs(6);
    let home = sim.dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let home_s = home.display().to_string();
    let cmd = format!(
        "{} --fleet {}",
        shell_quote(fleetdeck_bin()),
        shell_quote(sim.fleet_file.to_str().unwrap())
    );
    let t = Tmux::start(&cmd, 160, 30, &[("HOME", &home_s), ("SSH_AUTH_SOCK", "")]);
    t.keys(&[":"]);
    t.type_text("devices");
    t.keys(&["Enter"]);
    t.wait_until("devices up", Duration::from_secs(30), |s| {
        s.matches(" up ").count() >= 2
    });
    // Rows are sorted by name: dev-0 is selected.
    t.keys(&["U"]);
    t.wait_for("Update dev-0 to", Duration::from_secs(10));
    t.type_text(URL);
    t.keys(&["Enter"]);
    t.wait_for("release-2.mender", Duration::from_secs(10));
    t.keys(&["y"]);
    let screen = t.wait_until("rebooting in :updates", Duration::from_secs(30), |s| {
        s.contains("Updates") && s.contains("rebooting")
    });
    assert!(screen.contains("dev-0"), "{screen}");
    let pid = t.program_pid().expect("console pid");
    // SIGKILL: no chance to clean up, like a dropped host.
    unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    assert!(support::wait_until(Duration::from_secs(5), || {
        !support::tmux::process_alive(pid)
    }));
    assert_eq!(dev.artifact(), "release-1");
    assert_eq!(dev.pending().as_deref(), Some("release-2"));

    // A new console over the same state dir.
    let state = t.dir.path().join("state").display().to_string();
    let t2 = Tmux::start(
        &cmd,
        160,
        30,
        &[
            ("HOME", &home_s),
            ("SSH_AUTH_SOCK", ""),
            ("XDG_STATE_HOME", &state),
        ],
    );
    t2.keys(&[":"]);
    t2.type_text("updates");
    t2.keys(&["Enter"]);
    let screen = t2.wait_until(
        "committed after the restart",
        Duration::from_secs(60),
        |s| s.contains("committed"),
    );
    assert!(screen.contains("dev-0"), "{screen}");
    assert!(screen.contains("██████████ 100%"), "{screen}");
    assert!(
        !screen.contains("connecting"),
        "the fleet's header status: {screen}"
    );
    t2.keys(&[":"]);
    t2.type_text("rollouts");
    t2.keys(&["Enter"]);
    let screen = t2.wait_for("Rollouts", Duration::from_secs(5));
    assert!(screen.contains(" done "), "{screen}");
    assert_eq!(dev.artifact(), "release-2");
    assert_eq!(dev.count_calls("install "), 1, "never installed twice");
    let audit = std::fs::read_to_string(t.state_dir().join("audit.jsonl")).unwrap();
    assert!(audit.contains("rebooting → verifying"), "{audit}");
    assert!(audit.contains("verifying → committed"), "{audit}");
    t2.keys(&["q"]);
}

/// Figures for docs/PERFORMANCE.md (not a pass/fail timing): `fleetdeck update` over N real
/// sshd devices, parallel 20; the CLI process's CPU (user+sys, incl. SSH crypto) per device.
/// `cargo test --release --test update_ssh -- --ignored --nocapture rollout_cpu_over_real_ssh`
#[test]
#[ignore]
fn rollout_cpu_over_real_ssh() {
    if !have_sshd() {
        return;
    }
    let n: usize = std::env::var("DEVICES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    let sim = SimFleet::start(n, "mender", "release-1");
    for d in &sim.devices {
        d.set_step(0.05);
    }
    let children_cpu = || {
        // SAFETY: getrusage fills the struct we own.
        let mut u: libc::rusage = unsafe { std::mem::zeroed() };
        unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut u) };
        let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
        eprintln!(
            "children user {:.3}s sys {:.3}s",
            t(u.ru_utime),
            t(u.ru_stime)
        );
        t(u.ru_utime) + t(u.ru_stime)
    };
    let before = children_cpu();
    let started = std::time::Instant::now();
    let mut cmd = fleetdeck(
        &sim,
        &["update", "--all", "--artifact", URL, "--parallel", "20"],
    );
    // STRACE=FILE: a syscall summary of the run instead (where the kernel time goes).
    if let Ok(file) = std::env::var("STRACE") {
        let prog = cmd.get_program().to_owned();
        let args: Vec<_> = cmd.get_args().map(|a| a.to_owned()).collect();
        let mut s = Command::new("strace");
        s.args(["-f", "-c", "-o", &file]).arg(prog).args(args);
        for (k, v) in cmd.get_envs() {
            match v {
                Some(v) => s.env(k, v),
                None => s.env_remove(k),
            };
        }
        cmd = s;
    }
    let out = cmd.stdin(Stdio::null()).output().unwrap();
    let wall = started.elapsed();
    let cpu = children_cpu() - before;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    println!(
        "{n} devices over real sshd, parallel 20: wall {:.1}s, fleetdeck CPU {:.1} ms/device",
        wall.as_secs_f64(),
        cpu * 1000.0 / n as f64
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_updater_runs_the_fleet_files_commands_with_a_quoted_artifact() {
    if !have_sshd() {
        return;
    }
    let sim = SimFleet::start(1, "custom", "release-1");
    let b = backend(&sim);
    // A URL with a space and a quote reaches the device's command as one word.
    let id = start(
        &b,
        &["dev-0"],
        "https://updates.example/it's release-7.mender",
        1,
    )
    .await;
    let (_, records) = finish(&b, &id).await;
    let r = only(&records);
    assert_eq!(r.step, Step::Committed, "{r:#?}");
    let dev = sim.device("dev-0");
    assert_eq!(dev.artifact(), "it's release-7");
    assert_eq!(r.installed.as_deref(), Some("it's release-7"));
    assert_eq!(
        dev.count_calls("install https://updates.example/it's release-7.mender"),
        1
    );
}

/// Ctrl-C on `fleetdeck update` aborts the rollout: the running device finishes, no new one
/// starts, the exit code says it did not complete.
#[test]
fn ctrl_c_on_the_cli_aborts_the_rollout_after_the_running_device() {
    if !have_sshd() {
        return;
    }
    let sim = SimFleet::start(3, "mender", "release-1");
    for d in &sim.devices {
        d.set_step(0.3);
    }
    let child = fleetdeck(
        &sim,
        &["update", "--all", "--artifact", URL, "--parallel", "1"],
    )
    .stdout(Stdio::piped())
    .spawn()
    .unwrap();
    let dev0 = sim.device("dev-0");
    assert!(support::wait_until(Duration::from_secs(20), || {
        dev0.count_calls("install ") == 1
    }));
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("aborting rollout"), "{stdout}");
    assert!(
        stdout.contains("Aborted: 2 pending, 0 running, 1 succeeded"),
        "{stdout}"
    );
    assert_eq!(dev0.artifact(), "release-2", "the running device finished");
    assert_eq!(sim.device("dev-1").count_calls("install "), 0);
}

/// `update: {sudo: true}`: every update command, the upload too, runs through `sudo -n sh -c`
/// (here a stand-in `sudo` first in the device's PATH that logs and runs the command).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sudo_wraps_every_update_command() {
    use std::os::unix::fs::PermissionsExt;
    if !have_sshd() {
        return;
    }
    let sim = SimFleet::start(1, "mender", "release-1");
    let dev = sim.device("dev-0");
    let sudo = dev.bin.join("sudo");
    std::fs::write(
        &sudo,
        "#!/bin/sh\n[ \"$1\" = -n ] || { echo 'sudo: a password is required' >&2; exit 1; }\nshift\n\
         printf 'sudo %s\\n' \"$*\" >> \"$MENDER_SIM_DIR/calls\"\nexec \"$@\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&sudo, std::fs::Permissions::from_mode(0o755)).unwrap();
    let yaml = std::fs::read_to_string(&sim.fleet_file).unwrap();
    assert!(yaml.contains("    update:\n"));
    std::fs::write(
        &sim.fleet_file,
        yaml.replace("    update:\n", "    update:\n      sudo: true\n"),
    )
    .unwrap();
    let artifact = sim.dir.path().join("release-4.mender");
    std::fs::write(&artifact, "artifact_name=release-4\n").unwrap();
    let b = backend(&sim);
    let id = start(&b, &["dev-0"], artifact.to_str().unwrap(), 1).await;
    let (_, records) = finish(&b, &id).await;
    assert_eq!(only(&records).step, Step::Committed, "{records:#?}");
    assert_eq!(dev.artifact(), "release-4");
    let calls = dev.calls();
    for what in [
        "mender-update install",
        "cat >",
        "sim-reboot",
        "mender-update commit",
    ] {
        assert!(
            calls
                .iter()
                .any(|c| c.starts_with("sudo sh -c") && c.contains(what)),
            "{what} not run through sudo: {calls:#?}"
        );
    }
}

/// The devices table shows a device's live update step in its UPDATE column.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_devices_view_shows_the_live_update_step() {
    use fleetdeck::backend::BackendEvent;
    if !have_sshd() {
        return;
    }
    let sim = SimFleet::start(1, "mender", "release-1");
    sim.device("dev-0").set_step(0.3);
    let b = backend(&sim);
    let (tx, mut rx) = tokio::sync::mpsc::channel(256);
    let _watch = b.watch(ResourceKind::Device, tx);
    let id = start(&b, &["dev-0"], URL, 1).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut seen = Vec::new();
    loop {
        let ev = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .unwrap_or_else(|_| panic!("no live step in the devices view: {seen:?}"))
            .unwrap();
        if let BackendEvent::Snapshot { resources, .. } = ev {
            let cell = resources[0].cells[9].clone();
            if cell.starts_with("installing ") && cell.ends_with('%') {
                break;
            }
            seen.push(cell);
        }
    }
    finish(&b, &id).await;
}
