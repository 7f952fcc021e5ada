//! Device updates over real SSH: one real Debian sshd per simulated dual-rootfs appliance
//! (tests/support/device.rs, in its own PID namespace) running the REAL Mender 3.4 client, or
//! the Mender 4.0/5.x simulator written from the upstream source, installing real artifacts
//! (`mender-artifact write module-image`) through a real Update Module; a U-Boot-like
//! bootloader falls back on a second boot before the commit. The console's production code
//! path drives them: the fleet backend's actions, the rollout engine, and the `fleetdeck
//! update` binary. Every scenario that applies runs against each client. No real reboot ever
//! runs: every device's `reboot_command` is the simulation.

use crate::support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use fleetdeck::audit::AuditLog;
use fleetdeck::backend::Backend;
use fleetdeck::backend::fleet::{FleetBackend, FleetFile};
use fleetdeck::model::{FailureLimit, ResourceAction, ResourceKey, ResourceKind, UpdateRequest};
use fleetdeck::rollout::engine::RolloutState;
use fleetdeck::rollout::{Step, UpdateRecord};
use support::artifact_server::ArtifactServer;
use support::device::{ArtifactSpec, Client, SimFleet, SimOpts, artifact_file, artifact_file_with};

/// sshd plus the Mender tools the simulated devices run (support::device::available).
fn have_sshd() -> bool {
    support::device::available()
}

/// A fleet of `n` devices on `client`, and a loopback server with artifact `release-2`.
fn fleet(n: usize, updater: &str, client: Client) -> (SimFleet, ArtifactServer, String) {
    let sim = SimFleet::start_with(n, updater, |_| SimOpts {
        client,
        ..Default::default()
    });
    let server = ArtifactServer::start();
    let url = server.serve("release-2.mender", &artifact_file("release-2"));
    (sim, server, url)
}

/// Runs a scenario once per Mender client: 3.4 (the real Debian client), 4.0 and 5.x.
macro_rules! per_client {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn mender_3() {
                super::$scenario(Client::Mender3).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn mender_4_0() {
                super::$scenario(Client::Mender40).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn mender_5() {
                super::$scenario(Client::Mender5).await
            }
        }
    )*};
}

/// The fleet of `sim` as a backend whose update state lives in `sim`'s temp dir.
fn backend(sim: &SimFleet) -> FleetBackend {
    let home = sim.dir.path().join("home");
    std::fs::create_dir_all(home.join(".ssh")).unwrap();
    let opts = support::sshd::ssh_options(&home, None, "");
    let file = FleetFile::load(&sim.fleet_file).unwrap_or_else(|e| panic!("{e}"));
    // Never a real reboot: the fleet file points every device at the simulation (or, where a
    // test wants a reboot that does not happen, at `true`).
    for d in &file.devices {
        assert!(
            ["sim-reboot", "true"].contains(&d.update.reboot_command.as_str()),
            "{}",
            d.update.reboot_command
        );
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
        ..UpdateRequest::EMPTY
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

per_client!(
    happy_path,
    vetoed_commit,
    failed_health_check,
    bootloader_fallback,
    commit_before_reboot_is_refused,
    killed_mid_install_resumes,
    managed_by_a_daemon,
    install_lost_with_the_device,
    inconsistent_is_never_a_success,
);

fn reboots(dev: &support::device::SimDevice) -> usize {
    dev.count_calls("reboot")
}

/// Install from a URL the device downloads itself, reboot, verify, commit.
async fn happy_path(client: Client) {
    if !have_sshd() {
        return;
    }
    let (sim, server, url) = fleet(1, "mender", client);
    let b = backend(&sim);
    let dev = sim.device("dev-0");
    let boot_before = dev.boot_id();
    let id = start(&b, &["dev-0"], &url, 1).await;
    let (state, records) = finish(&b, &id).await;
    let r = only(&records);
    assert_eq!(
        (state, r.step),
        (RolloutState::Done, Step::Committed),
        "{r:#?}"
    );
    assert_eq!(dev.artifact(), "release-2", "show-artifact is the new one");
    assert_eq!(dev.running(), "release-2");
    assert_eq!(r.installed.as_deref(), Some("release-2"));
    assert_eq!(r.previous.as_deref(), Some("release-1"));
    assert_eq!(r.cli.as_deref(), Some(client.cli()));
    assert_eq!(r.percent, Some(100));
    assert_ne!(dev.boot_id(), boot_before, "the device rebooted");
    assert_eq!(dev.count_calls("install "), 1);
    assert_eq!(reboots(dev), 1);
    assert_eq!(dev.count_calls("commit"), 1);
    assert!(dev.pending().is_none());
    assert_eq!(server.requests().len(), 1, "the device downloaded it once");
    // The install ran detached: its output and status are kept on the device.
    let job = dev
        .upload_dir()
        .join(format!(".fleetdeck-update-{id}-dev-0"));
    assert_eq!(
        std::fs::read_to_string(job.join("rc")).unwrap().trim(),
        "4",
        "exit 4: reboot required"
    );
}

/// The device vetoes the commit (an ArtifactCommit script fails): the client rolls back by
/// itself, and fleetdeck must reboot the device out of the rejected software.
async fn vetoed_commit(client: Client) {
    if !have_sshd() {
        return;
    }
    let (sim, _server, url) = fleet(1, "mender", client);
    let dev = sim.device("dev-0");
    dev.set_mode(&["commit-veto"]);
    let b = backend(&sim);
    let id = start(&b, &["dev-0"], &url, 1).await;
    let (_, records) = finish(&b, &id).await;
    let r = only(&records);
    assert_eq!(r.step, Step::RolledBack, "{r:#?}");
    let reason = r.reason.as_deref().unwrap();
    assert!(
        reason.starts_with("the commit failed on the device: ")
            && reason.contains("the client rolled the update back")
            && reason.contains("rebooted into the old software (release-1)"),
        "{reason}"
    );
    assert_eq!(reboots(dev), 2, "into the update, then back out of it");
    assert_eq!(
        dev.running(),
        "release-1",
        "the rejected software no longer runs"
    );
    assert_eq!(dev.artifact(), "release-1");
    assert!(dev.pending().is_none());
}

async fn failed_health_check(client: Client) {
    if !have_sshd() {
        return;
    }
    let (sim, _server, url) = fleet(1, "mender", client);
    let yaml = std::fs::read_to_string(&sim.fleet_file).unwrap();
    std::fs::write(
        &sim.fleet_file,
        yaml.replace(
            "    update:\n",
            "    update:\n      verify_command: \"echo unhealthy >&2; exit 3\"\n",
        ),
    )
    .unwrap();
    let dev = sim.device("dev-0");
    let b = backend(&sim);
    let id = start(&b, &["dev-0"], &url, 1).await;
    let (_, records) = finish(&b, &id).await;
    let r = only(&records);
    assert_eq!(r.step, Step::RolledBack, "{r:#?}");
    let reason = r.reason.as_deref().unwrap();
    assert!(
        reason.contains("the health check exited 3: unhealthy")
            && reason.contains("rebooted into the old software (release-1)"),
        "{reason}"
    );
    assert_eq!(dev.count_calls("commit"), 0, "never committed");
    assert_eq!(dev.count_calls("rollback"), 1);
    assert_eq!(reboots(dev), 2);
    assert_eq!(dev.running(), "release-1");
    assert_eq!(dev.artifact(), "release-1");
}

/// The new software does not come up: the bootloader falls back to the old one before the
/// commit. Recognised from the client's answer; no second reboot.
async fn bootloader_fallback(client: Client) {
    if !have_sshd() {
        return;
    }
    let (sim, _server, url) = fleet(1, "mender", client);
    let dev = sim.device("dev-0");
    dev.set_mode(&["boot-fails"]);
    let b = backend(&sim);
    let id = start(&b, &["dev-0"], &url, 1).await;
    let (_, records) = finish(&b, &id).await;
    let r = only(&records);
    assert_eq!(r.step, Step::RolledBack, "not committed: {r:#?}");
    let reason = r.reason.as_deref().unwrap();
    assert!(
        reason.contains("came back on the old software (release-1): its bootloader fell back"),
        "{reason}"
    );
    assert_eq!(
        reboots(dev),
        1,
        "already on the old software: no reboot back"
    );
    assert_eq!(dev.running(), "release-1");
    assert_eq!(dev.artifact(), "release-1");
    assert!(dev.pending().is_none(), "the client cleared its state");
    let (_, rows) = b.updates().rows(jiff::Timestamp::now());
    assert_eq!(rows[0].cells[1], "rolled back");
}

/// The reboot does not happen (here: a reboot command that does nothing); the rollout fails
/// at the reboot timeout. `c` is then refused — before the reboot a commit would remove the
/// bootloader's way back (Mender 3) or roll the update back (4/5) — until the operator
/// reboots (`r`); then the commit goes through.
async fn commit_before_reboot_is_refused(client: Client) {
    if !have_sshd() {
        return;
    }
    let (sim, _server, url) = fleet(1, "mender", client);
    let good = std::fs::read_to_string(&sim.fleet_file).unwrap();
    std::fs::write(
        &sim.fleet_file,
        good.replace("\"sim-reboot\"", "\"true\"")
            .replace("\"30s\"", "\"2s\""),
    )
    .unwrap();
    let root = sim.dir.path().join("state/updates");
    let b = backend_with_root(&sim, &root);
    let id = start(&b, &["dev-0"], &url, 1).await;
    let (_, records) = finish(&b, &id).await;
    let r = only(&records);
    assert_eq!(r.step, Step::Failed, "{r:#?}");
    assert!(
        r.reason
            .as_deref()
            .unwrap()
            .contains("did not come back within 2s"),
        "{r:?}"
    );
    drop(b);
    // The operator fixes the fleet file and starts a console again.
    std::fs::write(&sim.fleet_file, &good).unwrap();
    let b = backend_with_root(&sim, &root);
    b.updates().load();
    let key = device_key(&b, "dev-0");
    let dev = sim.device("dev-0");
    let e = b.act(&key, &ResourceAction::Commit).await.unwrap_err();
    assert!(
        e.to_string()
            .contains("has not rebooted since the update was installed"),
        "{e}"
    );
    assert_eq!(dev.count_calls("commit"), 0);
    assert_eq!(
        dev.pending().as_deref(),
        Some("release-2"),
        "nothing changed"
    );
    let msg = b.act(&key, &ResourceAction::Reboot).await.unwrap();
    assert!(msg.contains("dev-0 rebooted"), "{msg}");
    assert_eq!(dev.running(), "release-2");
    let msg = b.act(&key, &ResourceAction::Commit).await.unwrap();
    assert!(msg.contains("committed (release-2)"), "{msg}");
    assert_eq!(dev.artifact(), "release-2");
}

/// `fleetdeck update` is killed while the device installs: the install goes on (it runs
/// detached on the device); a console started afterwards follows it again and takes the
/// device to committed, without installing twice.
async fn killed_mid_install_resumes(client: Client) {
    if !have_sshd() {
        return;
    }
    let (sim, _server, url) = fleet(1, "mender", client);
    let dev = sim.device("dev-0");
    dev.set_step(0.6);
    let mut child = fleetdeck(&sim, &["update", "--device", "dev-0", "--artifact", &url])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let installing =
        support::wait_until(Duration::from_secs(30), || dev.count_calls("install ") == 1);
    child.kill().unwrap();
    let _ = child.wait();
    assert!(installing, "the install never started: {:?}", dev.calls());
    let state = sim.dir.path().join("state-cli/fleetdeck/updates");
    assert_eq!(step_on_disk(&state).as_deref(), Some("installing"));
    let b = backend_with_root(&sim, &state.join(fleet_name(&sim)));
    let id = resume(&b).await;
    let (_, records) = finish(&b, &id).await;
    let r = only(&records);
    assert_eq!(r.step, Step::Committed, "{r:#?}");
    assert_eq!(dev.artifact(), "release-2");
    assert_eq!(dev.count_calls("install "), 1, "never installed twice");
    assert_eq!(reboots(dev), 1);
}

/// A device whose Mender daemon runs is managed by its server: refused before anything is
/// touched.
async fn managed_by_a_daemon(client: Client) {
    if !have_sshd() {
        return;
    }
    let (sim, server, url) = fleet(2, "mender", client);
    sim.device("dev-1").start_daemon();
    let b = backend(&sim);
    let id = start(&b, &["dev-1"], &url, 1).await;
    let (_, records) = finish(&b, &id).await;
    let r = only(&records);
    assert_eq!(r.step, Step::Failed, "{r:#?}");
    assert!(
        r.reason
            .as_deref()
            .unwrap()
            .contains("this device is managed by its Mender server"),
        "{r:?}"
    );
    assert_eq!(sim.device("dev-1").count_calls("install "), 0);
    assert!(server.requests().is_empty());
    // Its neighbour (its own process table) is not affected.
    let id = start(&b, &["dev-0"], &url, 1).await;
    let (_, records) = finish(&b, &id).await;
    assert_eq!(only(&records).step, Step::Committed);
}

/// The device loses power in the middle of the install: the job is gone without a status.
/// Mender 5 tells what it left without committing (`resume --stop-before`); 3.x and 4.0
/// cannot, so the update stops with the commands to finish it by hand. Never re-installed,
/// never committed blindly.
async fn install_lost_with_the_device(client: Client) {
    if !have_sshd() {
        return;
    }
    let (sim, _server, url) = fleet(1, "mender", client);
    let dev = sim.device("dev-0");
    dev.set_step(1.0);
    let b = backend(&sim);
    let id = start(&b, &["dev-0"], &url, 1).await;
    assert!(support::wait_until(Duration::from_secs(30), || {
        dev.calls()
            .iter()
            .any(|c| c == "fleetdeck-rootfs ArtifactInstall")
    }));
    dev.power_loss();
    let (_, records) = finish(&b, &id).await;
    let r = only(&records);
    let reason = r.reason.clone().unwrap_or_default();
    assert!(
        reason.starts_with("the install stopped without an exit status"),
        "{r:#?}"
    );
    assert_eq!(dev.count_calls("install "), 1);
    assert_eq!(dev.count_calls("commit"), 0, "never committed blindly");
    let cli = client.cli();
    match client {
        Client::Mender5 => {
            assert_eq!(r.step, Step::RolledBack, "{r:#?}");
            assert!(reason.contains("the client rolled the unfinished install back"));
            assert_eq!(dev.artifact(), "release-1");
        }
        _ => {
            assert_eq!(r.step, Step::Failed, "{r:#?}");
            for cmd in [
                format!("`{cli} show-artifact`"),
                format!("`{cli} rollback`"),
                format!("`{cli} commit`"),
            ] {
                assert!(reason.contains(&cmd), "{cmd} not in {reason}");
            }
        }
    }
}

/// The health check fails and so does the rollback: the client marks the artifact
/// `<name>_INCONSISTENT`. Never a success: failed, with what to check.
async fn inconsistent_is_never_a_success(client: Client) {
    if !have_sshd() {
        return;
    }
    let (sim, _server, url) = fleet(1, "mender", client);
    let yaml = std::fs::read_to_string(&sim.fleet_file).unwrap();
    std::fs::write(
        &sim.fleet_file,
        yaml.replace(
            "    update:\n",
            "    update:\n      verify_command: \"false\"\n",
        ),
    )
    .unwrap();
    let dev = sim.device("dev-0");
    dev.set_mode(&["rollback-fail"]);
    let b = backend(&sim);
    let id = start(&b, &["dev-0"], &url, 1).await;
    let (_, records) = finish(&b, &id).await;
    let r = only(&records);
    assert_eq!(r.step, Step::Failed, "{r:#?}");
    let reason = r.reason.as_deref().unwrap();
    assert!(
        reason.contains("the rollback failed")
            && reason.contains("the client reports release-2_INCONSISTENT")
            && reason.contains("may run a mix of old and new software"),
        "{reason}"
    );
    assert_eq!(dev.artifact(), "release-2_INCONSISTENT");
    assert_eq!(dev.count_calls("commit"), 0);
}

/// The `:updates` log of an update and the audit log hold every step, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_update_log_and_the_audit_log_have_every_step() {
    if !have_sshd() {
        return;
    }
    let (sim, _server, url) = fleet(1, "mender", Client::Mender3);
    let b = backend(&sim);
    let id = start(&b, &["dev-0"], &url, 1).await;
    finish(&b, &id).await;
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
    // The real Mender 3 client's own words, as it printed them.
    assert!(pos("── installing") < pos("Installing Artifact of size"));
    assert!(pos("Installing Artifact of size") < pos("── rebooting"));
    assert!(pos("── rebooting") < pos("── verifying"));
    assert!(pos("── verifying") < pos("── committed"));
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

/// The login user is not root, the client's data is root's (as on a real device) and sudo is
/// off: said before the device is touched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_user_that_is_not_root_is_refused_without_sudo() {
    if !have_sshd() {
        return;
    }
    let sim = SimFleet::start_with(1, "mender", |_| SimOpts {
        client_needs_root: true,
        ..Default::default()
    });
    let b = backend(&sim);
    let id = start(&b, &["dev-0"], "http://127.0.0.1:9/release-2.mender", 1).await;
    let (_, records) = finish(&b, &id).await;
    let r = only(&records);
    assert_eq!(r.step, Step::Failed);
    assert!(
        r.reason
            .as_deref()
            .unwrap()
            .contains("a standalone Mender install needs root and the login user is not"),
        "{r:?}"
    );
    assert_eq!(sim.device("dev-0").count_calls("install "), 0);
}

/// A local artifact (3 MiB, a real one) is uploaded, then installed by the real Mender 3
/// client; its progress dots become the gauge.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_artifact_is_uploaded_then_installed_by_mender_3() {
    if !have_sshd() {
        return;
    }
    let sim = SimFleet::start_with(1, "mender", |_| SimOpts {
        client: Client::Mender3,
        ..Default::default()
    });
    let artifact = artifact_file_with(&ArtifactSpec::new("release-3").size(3 << 20));
    let b = backend(&sim);
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut changes = b.updates().subscribe();
    let id = start(&b, &["dev-0"], artifact.to_str().unwrap(), 1).await;
    let watcher = {
        let (u, seen, id) = (b.updates().clone(), seen.clone(), id.clone());
        tokio::spawn(async move {
            while changes.changed().await.is_ok() {
                if let Some((_, records)) = u.snapshot(&id) {
                    let r = &records[0];
                    seen.lock().unwrap().push((r.step, r.percent));
                    if r.step.is_final() {
                        return;
                    }
                }
            }
        })
    };
    let (_, records) = finish(&b, &id).await;
    watcher.abort();
    let r = only(&records);
    assert_eq!(r.step, Step::Committed, "{r:#?}");
    assert_eq!(r.cli.as_deref(), Some("mender"));
    let dev = sim.device("dev-0");
    assert_eq!(dev.artifact(), "release-3");
    let uploaded = dev.upload_dir().join(artifact.file_name().unwrap());
    assert_eq!(
        std::fs::read(&uploaded).unwrap(),
        std::fs::read(&artifact).unwrap(),
        "uploaded intact"
    );
    let audit = std::fs::read_to_string(sim.dir.path().join("audit.jsonl")).unwrap();
    assert!(audit.contains("pending → uploading") && audit.contains("uploading → installing"));
    // While installing, the gauge came from the client's dots: never 100 % at the start.
    let installing: Vec<Option<u8>> = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|(s, _)| *s == Step::Installing)
        .map(|(_, p)| *p)
        .collect();
    assert_ne!(installing.first(), Some(&Some(100)), "{installing:?}");
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

/// Updates installed by hand on the device (fleetdeck has no record of them): a commit is
/// refused (fleetdeck cannot tell whether the device booted the new software); a rollback
/// works and offers the reboot the device may need.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manual_commit_and_rollback_of_an_update_installed_by_hand() {
    if !have_sshd() {
        return;
    }
    let (sim, _server, url) = fleet(1, "mender", Client::Mender5);
    let b = backend(&sim);
    let key = device_key(&b, "dev-0");
    let dev = sim.device("dev-0");
    let done = b
        .act_outcome(&key, &ResourceAction::Rollback)
        .await
        .unwrap();
    assert!(done.message.contains("no update in progress"), "{done:?}");
    assert_eq!(done.offer, None);
    let out = dev.ssh(
        &sim.key,
        &sim.known_hosts,
        &format!("mender-update install --reboot-exit-code {url}; sim-reboot"),
        Duration::from_secs(20),
    );
    let _ = out;
    assert!(support::wait_until(Duration::from_secs(10), || dev.booted()));
    let e = b.act(&key, &ResourceAction::Commit).await.unwrap_err();
    assert!(
        e.to_string()
            .contains("fleetdeck did not install this update"),
        "{e}"
    );
    let done = b
        .act_outcome(&key, &ResourceAction::Rollback)
        .await
        .unwrap();
    assert!(
        done.message.contains("rolled back to release-1")
            && done
                .message
                .contains("runs the new software until it reboots"),
        "{done:?}"
    );
    assert_eq!(done.offer, Some(ResourceAction::Reboot));
    assert_eq!(
        dev.running(),
        "release-2",
        "still running what was rolled back"
    );
    b.act(&key, &ResourceAction::Reboot).await.unwrap();
    assert_eq!(dev.running(), "release-1");
    assert!(dev.pending().is_none());
}

/// After a console restart: wait for the rollout the probe resumed; its id.
async fn resume(b: &FleetBackend) -> String {
    let (tx, _rx) = tokio::sync::mpsc::channel(64);
    let _ = b.probe(tx);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
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
            return id;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
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
    // The real Mender 3 client on every device; dev-1's install fails.
    let (sim, _server, url) = fleet(10, "mender", Client::Mender3);
    sim.device("dev-1").set_mode(&["install-fail"]);
    for d in &sim.devices {
        d.set_step(0.1);
    }
    let out = fleetdeck(
        &sim,
        &[
            "update",
            "--tag",
            "prod",
            "--artifact",
            &url,
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
    let (sim, _server, url) = fleet(1, "mender", Client::Mender3);
    let dev = sim.device("dev-0");
    dev.set_down_secs(4);
    let mut child = fleetdeck(&sim, &["update", "--device", "dev-0", "--artifact", &url])
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
    let id = resume(&b).await;
    let (_, records) = finish(&b, &id).await;
    assert_eq!(only(&records).step, Step::Committed, "{records:#?}");
    assert_eq!(dev.artifact(), "release-2");
    assert_eq!(dev.count_calls("install "), 1, "never installed twice");
}

/// M3: the device freezes (its sshd session processes stopped, the listener still answering)
/// while `fleetdeck update` follows the install. The keepalives go unanswered, the follow
/// stream ends with an error, the engine connects again and follows the install to its end:
/// committed, installed once. Before, the follow waited as long as the device stayed frozen.
#[test]
fn a_frozen_session_during_an_update_resumes_instead_of_hanging() {
    if !have_sshd() {
        return;
    }
    let (sim, _server, url) = fleet(1, "mender", Client::Mender5);
    let dev = sim.device("dev-0");
    // No ServerAliveInterval anywhere: the default keepalives (15 s × 3) must end the frozen
    // session, in about a minute. The engine follows again until `reboot_timeout` (30 s in
    // the simulated fleet, then it would end failed with the keepalive reason): 2 minutes here.
    dev.set_step(1.0);
    let yaml = sim.fleet_yaml();
    assert!(yaml.contains("reboot_timeout: \"30s\""), "{yaml}");
    std::fs::write(
        &sim.fleet_file,
        yaml.replace("reboot_timeout: \"30s\"", "reboot_timeout: \"120s\""),
    )
    .unwrap();
    let child = fleetdeck(&sim, &["update", "--device", "dev-0", "--artifact", &url])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let installing =
        support::wait_until(Duration::from_secs(30), || dev.count_calls("install ") == 1);
    assert!(installing, "the install never started: {:?}", dev.calls());
    // Into the 5 s install, while its output is followed.
    std::thread::sleep(Duration::from_millis(1500));
    let frozen = dev.sshd.freeze_sessions();
    let t0 = std::time::Instant::now();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = match rx.recv_timeout(Duration::from_secs(180)) {
        Ok(out) => out.unwrap(),
        Err(_) => {
            // Still hanging: end it (our own child, by pid) and fail.
            support::kill(pid, rustix::process::Signal::KILL);
            panic!("fleetdeck update hung on a frozen session");
        }
    };
    drop(frozen);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("update ended {:?} after the freeze", t0.elapsed());
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("dev-0 committed"), "{stdout}");
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
    let (sim, _server, url) = fleet(2, "mender", Client::Mender3);
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
    t.type_text(&url);
    t.keys(&["Enter"]);
    t.wait_for("release-2.mender", Duration::from_secs(10));
    t.keys(&["y"]);
    let screen = t.wait_until("rebooting in :updates", Duration::from_secs(30), |s| {
        s.contains("Updates") && s.contains("rebooting")
    });
    assert!(screen.contains("dev-0"), "{screen}");
    let pid = t.program_pid().expect("console pid");
    // SIGKILL: no chance to clean up, like a dropped host.
    support::kill(pid, rustix::process::Signal::KILL);
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
    // The title shows before the rollouts' first list has arrived ("loading…").
    t2.wait_until("the rollout done", Duration::from_secs(15), |s| {
        s.contains("Rollouts") && s.contains(" done ")
    });
    assert_eq!(dev.artifact(), "release-2");
    assert_eq!(dev.count_calls("install "), 1, "never installed twice");
    let audit = std::fs::read_to_string(t.state_dir().join("audit.jsonl")).unwrap();
    assert!(audit.contains("rebooting → verifying"), "{audit}");
    assert!(audit.contains("verifying → committed"), "{audit}");
    t2.keys(&["q"]);
}

/// Figures for docs/PERFORMANCE.md (not a pass/fail timing): `fleetdeck update` over N real
/// sshd devices running the real Mender 3 client (DEVICES, default 20; PARALLEL, default 5;
/// CLIENT=3|4.0|5); the CLI process's CPU (user+sys, incl. SSH crypto) and wall time per device.
/// `cargo test --release --test engines -- --ignored --nocapture update_ssh::rollout_cpu_over_real_ssh`
#[test]
#[ignore]
fn rollout_cpu_over_real_ssh() {
    if !have_sshd() {
        return;
    }
    let n: usize = std::env::var("DEVICES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let parallel: usize = std::env::var("PARALLEL")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let client = match std::env::var("CLIENT").as_deref() {
        Ok("4.0") => Client::Mender40,
        Ok("5") => Client::Mender5,
        _ => Client::Mender3,
    };
    let (sim, _server, url) = fleet(n, "mender", client);
    let children_cpu = || {
        use nix::sys::resource::{UsageWho, getrusage};
        let u = getrusage(UsageWho::RUSAGE_CHILDREN).expect("getrusage");
        let t = |tv: nix::sys::time::TimeVal| tv.tv_sec() as f64 + tv.tv_usec() as f64 / 1e6;
        eprintln!(
            "children user {:.3}s sys {:.3}s",
            t(u.user_time()),
            t(u.system_time())
        );
        t(u.user_time()) + t(u.system_time())
    };
    let before = children_cpu();
    let started = std::time::Instant::now();
    let mut cmd = fleetdeck(
        &sim,
        &[
            "update",
            "--all",
            "--artifact",
            &url,
            "--parallel",
            &parallel.to_string(),
        ],
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
        "{n} devices ({client:?}) over real sshd, parallel {parallel}: wall {:.1}s \
         ({:.2}s/device), fleetdeck CPU {:.1} ms/device",
        wall.as_secs_f64(),
        wall.as_secs_f64() / n as f64,
        cpu * 1000.0 / n as f64
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_updater_runs_the_fleet_files_commands_with_a_quoted_artifact() {
    if !have_sshd() {
        return;
    }
    let (sim, server, _) = fleet(1, "custom", Client::Mender5);
    let b = backend(&sim);
    // A URL with shell specials (quote, ampersand, space-free) reaches the device's command
    // as one word (the server ignores the query).
    let url = server.serve("release-7.mender", &artifact_file("release-7")) + "?a=1&tag=it's";
    let id = start(&b, &["dev-0"], &url, 1).await;
    let (_, records) = finish(&b, &id).await;
    let r = only(&records);
    assert_eq!(r.step, Step::Committed, "{r:#?}");
    let dev = sim.device("dev-0");
    assert_eq!(dev.artifact(), "release-7");
    assert_eq!(r.installed.as_deref(), Some("release-7"));
    assert_eq!(
        dev.count_calls(&format!("install {url}")),
        1,
        "{:?}",
        dev.calls()
    );
}

/// Ctrl-C on `fleetdeck update` aborts the rollout: the running device finishes, no new one
/// starts, the exit code says it did not complete.
#[test]
fn ctrl_c_on_the_cli_aborts_the_rollout_after_the_running_device() {
    if !have_sshd() {
        return;
    }
    let (sim, _server, url) = fleet(3, "mender", Client::Mender5);
    for d in &sim.devices {
        d.set_step(0.3);
    }
    let child = fleetdeck(
        &sim,
        &["update", "--all", "--artifact", &url, "--parallel", "1"],
    )
    .stdout(Stdio::piped())
    .spawn()
    .unwrap();
    let dev0 = sim.device("dev-0");
    assert!(support::wait_until(Duration::from_secs(20), || {
        dev0.count_calls("install ") == 1
    }));
    support::kill(child.id(), rustix::process::Signal::INT);
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
    let (sim, _server, _) = fleet(1, "mender", Client::Mender5);
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
    let artifact = artifact_file("release-4");
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
    let (sim, _server, url) = fleet(1, "mender", Client::Mender5);
    sim.device("dev-0").set_step(0.3);
    let b = backend(&sim);
    let (tx, mut rx) = tokio::sync::mpsc::channel(256);
    let _watch = b.watch(ResourceKind::Device, tx);
    let id = start(&b, &["dev-0"], &url, 1).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut seen = Vec::new();
    loop {
        let ev = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .unwrap_or_else(|_| panic!("no live step in the devices view: {seen:?}"))
            .unwrap();
        // The whole list first, then the rows that changed.
        let rows = match ev {
            BackendEvent::Snapshot { resources, .. } => resources,
            BackendEvent::Changes { changes, .. } => changes.upserted,
            _ => continue,
        };
        if let Some(row) = rows.first() {
            let cell = row.cells[9].clone();
            // Mender 4/5 print no percentage: the step alone, honestly.
            if cell == "installing" {
                break;
            }
            seen.push(cell);
        }
    }
    finish(&b, &id).await;
}

/// Review H1 over real processes: a console started while `fleetdeck update` drives a rollout
/// shows it live and never drives a device itself; nothing is installed twice, nothing
/// committed is overwritten.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_console_started_during_a_cli_rollout_only_shows_it() {
    if !have_sshd() {
        return;
    }
    let (sim, _server, url) = fleet(3, "mender", Client::Mender5);
    for d in &sim.devices {
        d.set_step(0.2);
    }
    let child = fleetdeck(
        &sim,
        &[
            "update",
            "--all",
            "--artifact",
            &url,
            "--parallel",
            "1",
            "--max-failures",
            "5",
        ],
    )
    .stdout(Stdio::piped())
    .spawn()
    .unwrap();
    let dev0 = sim.device("dev-0");
    assert!(support::wait_until(Duration::from_secs(30), || {
        dev0.count_calls("install ") == 1
    }));
    let state = sim.dir.path().join("state-cli/fleetdeck/updates");
    let b = backend_with_root(&sim, &state.join(fleet_name(&sim)));
    let id = resume(&b).await;
    let e = b
        .act(
            &ResourceKey {
                source: b.id().clone(),
                kind: ResourceKind::Rollout,
                id: id.clone(),
            },
            &ResourceAction::Pause,
        )
        .await
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("is driven by another fleetdeck process"),
        "{e}"
    );
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while b.updates().state(&id) != Some(RolloutState::Done) {
        assert!(
            std::time::Instant::now() < deadline,
            "the console never saw the end"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for d in &sim.devices {
        assert_eq!(d.count_calls("install "), 1, "{} installed once", d.name);
        assert_eq!(d.artifact(), "release-2");
    }
    assert!(
        b.updates()
            .snapshot(&id)
            .unwrap()
            .1
            .iter()
            .all(|r| r.step == Step::Committed)
    );
}

/// Review M5: the state dir, the diagnostics log, the audit log and every update record and
/// lock are the user's only (records hold artifact URLs, often presigned), even when the state
/// dir already existed with the umask's mode.
#[test]
fn state_files_are_private_to_the_user() {
    use std::os::unix::fs::PermissionsExt;
    if !have_sshd() {
        return;
    }
    let (sim, _server, url) = fleet(1, "mender", Client::Mender5);
    let state = sim.dir.path().join("state-cli/fleetdeck");
    std::fs::create_dir_all(&state).unwrap();
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = fleetdeck(&sim, &["update", "--all", "--artifact", &url])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&state), 0o700);
    assert_eq!(mode(&state.join("fleetdeck.log")), 0o600);
    assert_eq!(mode(&state.join("audit.jsonl")), 0o600);
    let mut seen = 0;
    let mut dirs = vec![state.join("updates")];
    while let Some(d) = dirs.pop() {
        assert_eq!(mode(&d), 0o700, "{}", d.display());
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                assert_eq!(mode(&p), 0o600, "{}", p.display());
                seen += 1;
            }
        }
    }
    assert!(seen >= 3, "rollout.json, a device record and the locks");
}

/// Review UX bug 3, as an operator lives it: `q` while the console updates devices asks first;
/// `a` aborts the rollout (on disk and in the audit log before the process ends) and quits;
/// the device mid-update finishes on its own and nothing else starts.
#[test]
fn quitting_the_console_mid_rollout_asks_and_abort_is_recorded() {
    use support::tmux::{Tmux, fleetdeck_bin, shell_quote, tmux_available};
    if !have_sshd() || !support::require("tmux", tmux_available()) {
        return;
    }
    let (sim, _server, url) = fleet(3, "mender", Client::Mender5);
    for d in &sim.devices {
        d.set_step(0.5);
    }
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
        s.matches(" up ").count() >= 3
    });
    // Filtered: every shown device; one at a time.
    t.keys(&["/"]);
    t.type_text("dev");
    t.keys(&["Enter", "U"]);
    t.wait_for("Update 3 devices to", Duration::from_secs(10));
    t.type_text(&format!("{url} -p 1 -f 1"));
    t.keys(&["Enter"]);
    t.wait_for("release-2.mender", Duration::from_secs(10));
    t.keys(&["y"]);
    t.wait_until("installing", Duration::from_secs(30), |s| {
        s.contains("Updates") && s.contains("installing")
    });
    t.keys(&["q"]);
    let screen = t.wait_for("Quit?", Duration::from_secs(5));
    assert!(screen.contains("mid-update"), "{screen}");
    let pid = t.program_pid().expect("console pid");
    t.keys(&["a"]);
    assert!(
        support::wait_until(Duration::from_secs(15), || !support::tmux::process_alive(
            pid
        )),
        "the console quit after the abort"
    );
    let updates = t.state_dir().join("updates");
    let rollout = std::fs::read_dir(updates.join(fleet_name(&sim)))
        .unwrap()
        .flatten()
        .map(|e| e.path().join("rollout.json"))
        .find(|p| p.exists())
        .expect("a rollout on disk");
    let spec: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&rollout).unwrap()).unwrap();
    assert_eq!(spec["state"], "aborting", "{spec}");
    let audit = std::fs::read_to_string(t.state_dir().join("audit.jsonl")).unwrap();
    assert!(audit.contains("\"abort deployment\""), "{audit}");
    // The install it left runs on, detached on the device; nothing else started.
    let dev0 = sim.device("dev-0");
    assert!(support::wait_until(Duration::from_secs(20), || {
        dev0.pending().as_deref() == Some("release-2")
    }));
    assert_eq!(sim.device("dev-1").count_calls("install "), 0);
}

/// #15 "go back": after two committed updates (release-2, then release-3) there is nothing to
/// roll back on the real Mender 5 simulation; the backend says so and offers an update back
/// to release-2 from where the first rollout installed it (the journal's record), which then
/// really brings the device back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn go_back_after_a_commit_offers_the_previous_artifact() {
    if !have_sshd() {
        return;
    }
    let (sim, server, url2) = fleet(1, "mender", Client::Mender5);
    let url3 = server.serve("release-3.mender", &artifact_file("release-3"));
    let b = backend(&sim);
    for url in [&url2, &url3] {
        let id = start(&b, &["dev-0"], url, 1).await;
        let (_, records) = finish(&b, &id).await;
        assert_eq!(only(&records).step, Step::Committed, "{records:#?}");
        // Rollout ids are per second.
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }
    assert_eq!(sim.device("dev-0").artifact(), "release-3");
    let key = device_key(&b, "dev-0");
    let out = b
        .act_outcome(&key, &ResourceAction::Rollback)
        .await
        .unwrap();
    assert_eq!(
        out.message,
        format!(
            "dev-0: no update in progress, nothing to rollback: it runs release-3 (committed). \
             Go back to the previous artifact release-2 from {url2}?"
        )
    );
    let Some(ResourceAction::StartUpdate(req)) = out.offer else {
        panic!("{:?}", out.offer)
    };
    assert_eq!(
        (req.artifact.as_str(), req.devices.as_slice()),
        (url2.as_str(), &["dev-0".to_string()][..])
    );
    // Confirmed like any update (the console's dialog): the device goes back.
    let msg = b
        .act(&key, &ResourceAction::StartUpdate(req))
        .await
        .unwrap();
    let id = msg.split_whitespace().nth(1).unwrap().to_string();
    let (_, records) = finish(&b, &id).await;
    assert_eq!(only(&records).step, Step::Committed, "{records:#?}");
    assert_eq!(sim.device("dev-0").artifact(), "release-2");
}
