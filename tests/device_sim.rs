//! The simulated appliance's contract (tests/support/device.rs, tests/fixtures/device-sim), over
//! REAL ssh exactly as fleetdeck drives a device (OpenSSH client, exec channel, no TTY), one
//! test per case of /work/shared/mender/CONTRACT.md "Test cases a faithful simulator must
//! support" and per client:
//!
//! - `mender3`: Debian's REAL Mender 3.4 client with the test Update Module and the simulated
//!   boot loader. These tests are the ground truth for the model: what they assert is what the
//!   real client printed and returned.
//! - `mender40`, `mender5`: the `mender-update` simulator, written from the upstream C++ source
//!   (citations in the simulator and in CONTRACT.md).
//!
//! Network only on 127.0.0.1; nothing touches the real machine's boot.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a failure stops at its line"
)]

mod support;

use std::process::Output;
use std::time::{Duration, Instant};

use fleetdeck::backend::fleet::FleetFile;
use fleetdeck::backend::fleet::file::UpdaterKind;
use support::artifact_server::ArtifactServer;
use support::device::{
    self, APP_MODULE, ArtifactSpec, BootEnv, Client, NOROLL_MODULE, SimFleet, SimOpts,
    artifact_file, artifact_file_with,
};
use support::sshd;

const T: Duration = Duration::from_secs(30);
const DEV: &str = "dev-0";

/// One device with `client`, at release-1; None (test skipped) without sshd or Mender tools.
fn fleet(client: Client) -> Option<SimFleet> {
    if !device::available() {
        return None;
    }
    let t0 = Instant::now();
    let f = SimFleet::start_with(1, "mender", |_| SimOpts {
        client,
        ..Default::default()
    });
    eprintln!("{client:?} device started in {:?}", t0.elapsed());
    Some(f)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// (exit code, stdout, stderr); the code is None when ssh was killed.
fn run(f: &SimFleet, cmd: &str) -> (Option<i32>, String, String) {
    let o: Output = f.ssh(DEV, cmd, T);
    (o.status.code(), text(&o.stdout), text(&o.stderr))
}

/// The device's Mender CLI with `args`.
fn cli(f: &SimFleet, args: &str) -> (Option<i32>, String, String) {
    let c = f.device(DEV).client.cli();
    run(f, &format!("{c} {args}"))
}

/// `sim-reboot` over ssh: the exec reports 0, then the connection drops.
fn reboot(f: &SimFleet) {
    let (c, out, err) = run(f, "sim-reboot");
    assert_eq!(c, Some(0), "sim-reboot: {out} {err}");
}

fn art(name: &str) -> String {
    artifact_file(name).display().to_string()
}

fn install(f: &SimFleet, name: &str) -> (Option<i32>, String, String) {
    cli(f, &format!("install --reboot-exit-code {}", art(name)))
}

/// Install `name` and expect the reboot-required exit.
fn installed(f: &SimFleet, name: &str) {
    let (c, out, err) = install(f, name);
    assert_eq!(c, Some(4), "install {name}: {out}\n{err}");
}

fn lines(s: &str) -> Vec<&str> {
    s.lines().collect()
}

fn env(part: &str, upgrade_available: bool, bootcount: u32) -> BootEnv {
    BootEnv {
        boot_part: part.into(),
        upgrade_available,
        bootcount,
    }
}

fn other(part: &str) -> &'static str {
    if part == "a" { "b" } else { "a" }
}

/// Mender 3's first stdout line for a local artifact: `Installing Artifact of size N...`
/// (mender@3.5.3 app/standalone.go:92).
fn m3_installing(name: &str) -> String {
    let size = std::fs::metadata(artifact_file(name)).unwrap().len();
    format!("Installing Artifact of size {size}...")
}

/// What `mender-update` logs for an error: one logfmt line
/// (master src/common/log/platform/boost/boost_log.cpp:93-120).
fn assert_logfmt_error(err: &str, msg: &str) {
    let re = regex::Regex::new(&format!(
        r#"(?m)^record_id=\d+ severity=error time="\d{{4}}-[A-Z][a-z]{{2}}-\d{{2}} \d{{2}}:\d{{2}}:\d{{2}}\.\d{{6}}" name="Global" msg="{}" $"#,
        regex::escape(msg)
    ))
    .unwrap();
    assert!(re.is_match(err), "no logfmt error {msg:?} in:\n{err}");
}

/// Mender 3's logrus line `time="..." level=LEVEL msg="MSG"`.
fn assert_logrus(err: &str, level: &str, msg: &str) {
    let needle = format!("level={level} msg=\"{msg}\"");
    assert!(err.contains(&needle), "no {needle} in:\n{err}");
}

/// One test module per case with a test per client: `case::mender3`, `case::mender40`,
/// `case::mender5`.
macro_rules! per_client {
    ($($case:ident),* $(,)?) => {$(
        mod $case {
            use super::*;
            #[test]
            fn mender3() {
                super::$case(Client::Mender3)
            }
            #[test]
            fn mender40() {
                super::$case(Client::Mender40)
            }
            #[test]
            fn mender5() {
                super::$case(Client::Mender5)
            }
        }
    )*};
}

per_client!(
    case01_install_exits_4_with_the_clients_texts,
    case02_show_artifact_is_the_old_name_until_the_commit,
    case03_nothing_pending_exits_2,
    case04_second_install_while_one_is_pending,
    case05_reboot_runs_the_new_partition_then_commit,
    case06_boot_failure_falls_back_and_the_commit_then_fails,
    case06_power_loss_falls_back_and_rollback_succeeds,
    case07_commit_before_the_reboot,
    case08_vetoed_commit_rolls_back_but_the_new_system_keeps_running,
    case09_rollback_after_the_reboot,
    case10_install_failure_rolls_back,
    case10_download_failure_modifies_nothing,
    case11_failed_rollback_marks_the_artifact_inconsistent,
    case12_module_without_rollback_commits_at_once,
    case13_app_module_without_reboot,
    case15_install_survives_or_dies_with_a_dropped_ssh_session,
    case16_daemon_is_visible_only_on_its_device,
    case16_a_non_root_login_fails_when_the_client_needs_root,
    install_from_an_http_url,
    artifact_name_comes_from_the_artifact_not_the_file_name,
);

// ---- 1 ----------------------------------------------------------------------------------------

fn case01_install_exits_4_with_the_clients_texts(c: Client) {
    let Some(f) = fleet(c) else { return };
    let d = f.device(DEV);
    assert_eq!(d.artifact(), "release-1");
    assert_eq!(d.running(), "release-1");
    let before = d.boot_env();
    assert_eq!(
        before,
        env(&d.running_part(), false, 1),
        "provisioned state"
    );
    let t0 = Instant::now();
    let (code, out, err) = install(&f, "release-2");
    eprintln!("install took {:?}", t0.elapsed());
    assert_eq!(code, Some(4), "{out}\n{err}");
    match c {
        Client::Mender3 => {
            assert_eq!(
                lines(&out),
                [
                    m3_installing("release-2").as_str(),
                    "Use 'commit' to update, or 'rollback' to roll back the update.",
                    "At least one payload requested a reboot of the device it updated.",
                ]
            );
            // Progress on stderr, non-TTY form: a 0%/50%/100% header, a ruler, 70 dots.
            let header = err.lines().find(|l| l.starts_with("0%")).unwrap_or("");
            assert!(header.contains("50%") && header.ends_with("100%"), "{err}");
            assert!(err.contains("|---"), "{err}");
            assert!(err.contains(&".".repeat(70)), "{err}");
        }
        _ => {
            assert_eq!(
                lines(&out),
                [
                    "Installing artifact...",
                    "Installed, but not committed.",
                    "Use 'commit' to update, or 'rollback' to roll back the update.",
                    "At least one payload requested a reboot of the device it updated.",
                ]
            );
            // No progress at all (master standalone/states.cpp:286-288), nothing on stderr.
            assert!(!out.contains('%') && err.is_empty(), "{out}\n{err}");
        }
    }
    // The new software went to the other partition; the boot loader will try it once.
    let new = other(&before.boot_part);
    assert_eq!(d.boot_env(), env(new, true, 0));
    assert_eq!(d.partition(new), "release-2");
    assert_eq!(d.running(), "release-1");
    assert_eq!(d.pending().as_deref(), Some("release-2"));
    // The Update Module states, in the client's order.
    let module: Vec<String> = d
        .calls()
        .into_iter()
        .filter_map(|l| l.strip_prefix("fleetdeck-rootfs ").map(str::to_string))
        .collect();
    let want: &[&str] = match c {
        // What the real 3.4 client called.
        Client::Mender3 => &[
            "Download",
            "SupportsRollback",
            "ArtifactInstall",
            "NeedsArtifactReboot",
        ],
        // master standalone.cpp:311-413 (4.0.7 standalone.cpp:468-568: the same order).
        _ => &[
            "ProvidePayloadFileSizes",
            "Download",
            "ArtifactInstall",
            "NeedsArtifactReboot",
            "SupportsRollback",
        ],
    };
    assert_eq!(module, want);
    assert_eq!(d.calls()[0], format!("install {}", art("release-2")));

    // Without --reboot-exit-code the same install exits 0.
    let (code, out, err) = cli(&f, "rollback");
    assert_eq!(code, Some(0), "{out}\n{err}");
    let (code, out, err) = cli(&f, &format!("install {}", art("release-2")));
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(
        out.ends_with("At least one payload requested a reboot of the device it updated.\n"),
        "{out}"
    );
}

// ---- 2 ----------------------------------------------------------------------------------------

fn case02_show_artifact_is_the_old_name_until_the_commit(c: Client) {
    let Some(f) = fleet(c) else { return };
    let d = f.device(DEV);
    let show = || {
        let (code, out, _) = cli(&f, "show-artifact");
        assert_eq!(code, Some(0));
        out.trim().to_string()
    };
    assert_eq!(show(), "release-1");
    installed(&f, "release-2");
    assert_eq!(show(), "release-1", "installed, not committed");
    reboot(&f);
    assert_eq!(d.running(), "release-2");
    assert_eq!(show(), "release-1", "running the new rootfs, not committed");
    let (code, _, err) = cli(&f, "commit");
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(show(), "release-2");
    assert_eq!(d.artifact(), "release-2");
    // show-provides: the artifact name and the payload's provides.
    let (code, out, _) = cli(&f, "show-provides");
    assert_eq!(code, Some(0));
    assert!(
        out.contains("artifact_name=release-2\n")
            && out.contains("rootfs-image.fleetdeck-rootfs.version=release-2\n"),
        "{out}"
    );
}

// ---- 3 ----------------------------------------------------------------------------------------

fn case03_nothing_pending_exits_2(c: Client) {
    let Some(f) = fleet(c) else { return };
    let (code, out, err) = cli(&f, "commit");
    assert_eq!(code, Some(2), "{out}\n{err}");
    match c {
        Client::Mender3 => {
            // mender@3.5.3 standalone.go:258-262, main.go:52-54; only on stderr.
            assert_eq!(out, "");
            assert_logrus(
                &err,
                "error",
                "Could not commit Artifact: There is nothing to commit",
            );
            assert_logrus(&err, "warning", "There is nothing to commit");
        }
        _ => {
            assert_eq!(out, "No update in progress.\n");
            assert_logfmt_error(&err, "No update in progress: Cannot commit");
            assert_eq!(err.lines().count(), 1, "{err}");
        }
    }
    let (code, out, err) = cli(&f, "rollback");
    assert_eq!(code, Some(2), "{out}\n{err}");
    match c {
        Client::Mender3 => {
            // The real 3.4 says "commit" for a rollback too.
            assert_eq!(out, "");
            assert_logrus(&err, "error", "There is nothing to commit");
            assert_logrus(&err, "warning", "There is nothing to commit");
        }
        _ => {
            assert_eq!(out, "No update in progress.\n");
            assert_logfmt_error(&err, "No update in progress: Cannot roll back");
        }
    }
    let (code, out, err) = cli(&f, "resume");
    match c {
        Client::Mender3 => {
            // No such command in 3.x (urfave/cli: exit 3).
            assert_eq!((code, out.as_str()), (Some(3), ""), "{err}");
            assert_eq!(err.trim(), "No help topic for 'resume'");
        }
        Client::Mender40 => {
            // 4.0.7 cli.cpp:209-211: the usage on stdout, the error on stderr.
            assert_eq!(code, Some(1), "{out}\n{err}");
            assert!(out.contains("USAGE:"), "{out}");
            assert_eq!(
                err,
                "Could not fulfill request: Invalid options given: No such action: resume\n"
            );
        }
        Client::Mender5 => {
            assert_eq!((code, out.as_str()), (Some(2), "No update in progress.\n"));
            assert_logfmt_error(&err, "No update in progress: Cannot resume");
        }
    }
}

// ---- 4 ----------------------------------------------------------------------------------------

fn case04_second_install_while_one_is_pending(c: Client) {
    let Some(f) = fleet(c) else { return };
    let d = f.device(DEV);
    installed(&f, "release-2");
    let new = d.boot_env().boot_part;
    let (code, out, err) = install(&f, "release-3");
    match c {
        Client::Mender3 => {
            // The real 3.x has no such check (app/standalone.go DoStandaloneInstall): the second
            // install replaces the pending one, on the same partition.
            assert_eq!(code, Some(4), "{out}\n{err}");
            assert_eq!(d.pending().as_deref(), Some("release-3"));
            assert_eq!(d.partition(&new), "release-3");
            assert_eq!(d.boot_env(), env(&new, true, 0));
        }
        _ => {
            assert_eq!(code, Some(1), "{out}\n{err}");
            let stdout = if c == Client::Mender5 {
                "System not modified.\n"
            } else {
                "Installation failed. System not modified.\n"
            };
            assert_eq!(out, stdout);
            let msg = "Operation now in progress: Update already in progress. Please commit or roll back first";
            assert_logfmt_error(&err, msg);
            assert!(
                err.ends_with(&format!("Could not fulfill request: {msg}\n")),
                "{err}"
            );
            assert_eq!(d.pending().as_deref(), Some("release-2"));
            assert_eq!(d.partition(&new), "release-2");
            assert_eq!(d.count_calls("fleetdeck-rootfs "), 5, "{:?}", d.calls());
        }
    }
}

// ---- 5 ----------------------------------------------------------------------------------------

fn case05_reboot_runs_the_new_partition_then_commit(c: Client) {
    let Some(f) = fleet(c) else { return };
    let d = f.device(DEV);
    installed(&f, "release-2");
    let new = d.boot_env().boot_part;
    let boot_id = d.boot_id();
    reboot(&f);
    assert_ne!(d.boot_id(), boot_id);
    assert_eq!(d.running_part(), new);
    assert_eq!(d.running(), "release-2");
    assert_eq!(d.boot_env(), env(&new, true, 1));
    assert!(d.booted());
    let (code, out, err) = cli(&f, "commit");
    assert_eq!(code, Some(0), "{out}\n{err}");
    let want = if c == Client::Mender3 {
        "Committing Artifact...\n"
    } else {
        "Committed.\n"
    };
    assert_eq!(out, want);
    assert_eq!(d.boot_env(), env(&new, false, 1));
    assert_eq!(d.pending(), None);
    assert_eq!(d.artifact(), "release-2");
    // Committed: further reboots stay on the new partition.
    reboot(&f);
    reboot(&f);
    assert_eq!(d.running(), "release-2");
    assert_eq!(cli(&f, "commit").0, Some(2));
}

// ---- 6 ----------------------------------------------------------------------------------------

/// After a failed commit: Mender 3 prints its two progress lines; 4.0 one line, 5.x two.
fn assert_commit_failed_texts(c: Client, out: &str, err: &str, module_says: &str) {
    match c {
        Client::Mender3 => {
            assert_eq!(out, "Committing Artifact...\nRolling back Artifact...\n");
            assert_logrus(
                err,
                "error",
                "Commit failed: Update module terminated abnormally: exit status 1",
            );
            assert!(
                err.contains(&format!(
                    "msg=\"Output (stderr) from command \\\"/usr/share/mender/modules/v3/fleetdeck-rootfs\\\": {module_says}"
                )),
                "{err}"
            );
        }
        Client::Mender40 => {
            assert_eq!(out, "Installation failed. Rolled back modifications.\n");
            assert!(
                err.contains(&format!("Update Module output (stderr): {module_says}")),
                "{err}"
            );
            assert!(
                err.contains("msg=\"Commit failed: Process returned non-zero exit status: ArtifactCommit: Process exited with status 1\""),
                "{err}"
            );
            // Already reported: no "Could not fulfill request" (ExitWithFailureError).
            assert!(!err.contains("Could not fulfill"), "{err}");
        }
        Client::Mender5 => {
            assert_eq!(out, "Committing failed.\nRolled back.\n");
            assert!(
                err.contains(&format!("Update Module output (stderr): {module_says}")),
                "{err}"
            );
            assert!(
                err.ends_with("Could not fulfill request: Process returned non-zero exit status: ArtifactCommit: Process exited with status 1\n"),
                "{err}"
            );
        }
    }
}

fn case06_boot_failure_falls_back_and_the_commit_then_fails(c: Client) {
    let Some(f) = fleet(c) else { return };
    let d = f.device(DEV);
    let old = d.running_part();
    d.set_mode(&["boot-fails"]);
    installed(&f, "release-2");
    reboot(&f);
    // The watchdog rebooted the new system; the boot loader went back (altbootcmd).
    assert_eq!(d.running_part(), old);
    assert_eq!(d.boot_env(), env(&old, false, 2));
    // The client's standalone state survives the revert.
    assert_eq!(d.pending().as_deref(), Some("release-2"));
    assert_eq!(cli(&f, "show-artifact").1, "release-1\n");
    let (code, out, err) = cli(&f, "commit");
    assert_eq!(code, Some(1), "{out}\n{err}");
    let module_says = if c == Client::Mender3 {
        "Reboot to the new update failed."
    } else {
        "Upgrade failed and was reverted: refusing to commit!"
    };
    assert_commit_failed_texts(c, &out, &err, module_says);
    // The failed commit rolled back and cleared the state.
    assert_eq!(d.pending(), None);
    assert_eq!(d.boot_env(), env(&old, false, 2));
    assert_eq!(d.artifact(), "release-1");
    assert_eq!(cli(&f, "commit").0, Some(2));
    assert_eq!(cli(&f, "rollback").0, Some(2));
}

fn case06_power_loss_falls_back_and_rollback_succeeds(c: Client) {
    let Some(f) = fleet(c) else { return };
    let d = f.device(DEV);
    let old = d.running_part();
    installed(&f, "release-2");
    d.power_cycle();
    assert_eq!(d.running(), "release-2", "boot 1 runs the new partition");
    d.power_cycle();
    assert_eq!(d.running_part(), old, "boot 2 exceeds bootlimit=1");
    assert_eq!(d.boot_env(), env(&old, false, 2));
    assert_eq!(d.pending().as_deref(), Some("release-2"));
    let (code, out, err) = cli(&f, "rollback");
    assert_eq!(code, Some(0), "{out}\n{err}");
    let want = if c == Client::Mender3 {
        "Rolling back Artifact...\n"
    } else {
        "Rolled back.\n"
    };
    assert_eq!(out, want);
    assert_eq!(d.pending(), None);
    assert_eq!(d.artifact(), "release-1");
    assert_eq!(d.boot_env(), env(&old, false, 2));
    assert_eq!(cli(&f, "rollback").0, Some(2));
}

// ---- 7 ----------------------------------------------------------------------------------------

fn case07_commit_before_the_reboot(c: Client) {
    let Some(f) = fleet(c) else { return };
    let d = f.device(DEV);
    let old = d.running_part();
    let new = other(&old);
    installed(&f, "release-2");
    let (code, out, err) = cli(&f, "commit");
    if c == Client::Mender3 {
        // The Go dual-rootfs installer only checks upgrade_available
        // (installer/dual_rootfs_device.go:283-295): committed without ever booting it, and the
        // boot loader's fallback is gone.
        assert_eq!(
            (code, out.as_str()),
            (Some(0), "Committing Artifact...\n"),
            "{err}"
        );
        assert_eq!(d.artifact(), "release-2");
        assert_eq!(d.boot_env(), env(new, false, 0));
        assert_eq!(d.running(), "release-1");
        reboot(&f);
        assert_eq!(d.running(), "release-2");
        return;
    }
    // rootfs-image refuses (the mounted root is not the new partition) and the client rolls
    // back by itself: the update is gone.
    assert_eq!(code, Some(1), "{out}\n{err}");
    assert_commit_failed_texts(
        c,
        &out,
        &err,
        &format!("Mounted root ({old}) does not match boot loader environment ({new})!"),
    );
    assert_eq!(d.pending(), None);
    assert_eq!(d.boot_env(), env(&old, false, 0));
    assert_eq!(d.artifact(), "release-1");
    assert_eq!(cli(&f, "rollback").0, Some(2));
    reboot(&f);
    assert_eq!(d.running(), "release-1");
}

// ---- 8 ----------------------------------------------------------------------------------------

fn case08_vetoed_commit_rolls_back_but_the_new_system_keeps_running(c: Client) {
    let Some(f) = fleet(c) else { return };
    let d = f.device(DEV);
    let old = d.running_part();
    installed(&f, "release-2");
    reboot(&f);
    assert_eq!(d.running(), "release-2");
    d.set_mode(&["commit-veto"]);
    let (code, out, err) = cli(&f, "commit");
    assert_eq!(code, Some(1), "{out}\n{err}");
    assert_commit_failed_texts(
        c,
        &out,
        &err,
        "fleetdeck-rootfs: commit vetoed (test mode commit-veto): the new software failed its health check",
    );
    // The boot loader is pointed back at the old partition, the state is gone, but the device
    // still runs the rejected software until it reboots.
    assert_eq!(d.boot_env(), env(&old, false, 1));
    assert_eq!(d.pending(), None);
    assert_eq!(d.running(), "release-2");
    assert_eq!(d.artifact(), "release-1");
    let (code, out, err) = cli(&f, "rollback");
    assert_eq!(code, Some(2), "{out}\n{err}");
    reboot(&f);
    assert_eq!(d.running(), "release-1");
}

// ---- 9 ----------------------------------------------------------------------------------------

fn case09_rollback_after_the_reboot(c: Client) {
    let Some(f) = fleet(c) else { return };
    let d = f.device(DEV);
    let old = d.running_part();
    installed(&f, "release-2");
    reboot(&f);
    assert_eq!(d.running(), "release-2");
    let (code, out, err) = cli(&f, "rollback");
    assert_eq!(code, Some(0), "{out}\n{err}");
    // No client says that a reboot is needed to get back (mismatch #7).
    let want = if c == Client::Mender3 {
        "Rolling back Artifact...\n"
    } else {
        "Rolled back.\n"
    };
    assert_eq!(out, want);
    assert_eq!(d.boot_env(), env(&old, false, 1));
    assert_eq!(d.running(), "release-2", "still running until the reboot");
    assert_eq!(d.pending(), None);
    reboot(&f);
    assert_eq!(d.running(), "release-1");
    assert_eq!(d.artifact(), "release-1");
}

// ---- 10 ---------------------------------------------------------------------------------------

fn case10_install_failure_rolls_back(c: Client) {
    let Some(f) = fleet(c) else { return };
    let d = f.device(DEV);
    let before = d.boot_env();
    d.set_mode(&["install-fail"]);
    let (code, out, err) = install(&f, "release-2");
    assert_eq!(code, Some(1), "{out}\n{err}");
    let want: Vec<String> = match c {
        Client::Mender3 => vec![
            m3_installing("release-2"),
            "Rolling back Artifact...".into(),
        ],
        Client::Mender40 => vec![
            "Installing artifact...".into(),
            "Installation failed. Rolled back modifications.".into(),
        ],
        Client::Mender5 => vec![
            "Installing artifact...".into(),
            "Installation failed.".into(),
            "Rolled back.".into(),
        ],
    };
    assert_eq!(lines(&out), want);
    match c {
        Client::Mender3 => assert_logrus(
            &err,
            "error",
            "Installation failed: Update module terminated abnormally: exit status 1",
        ),
        _ => assert!(
            err.contains("msg=\"Installation failed: Process returned non-zero exit status: ArtifactInstall: Process exited with status 1\""),
            "{err}"
        ),
    }
    assert_eq!(d.boot_env(), before);
    assert_eq!(d.pending(), None);
    assert_eq!(d.artifact(), "release-1");
    assert_eq!(cli(&f, "commit").0, Some(2));
}

fn case10_download_failure_modifies_nothing(c: Client) {
    let Some(f) = fleet(c) else { return };
    let d = f.device(DEV);
    let before = d.boot_env();
    let server = ArtifactServer::start();
    let url = server.serve("release-2.mender", &artifact_file("release-2"));
    server.set_reachable(false);
    let (code, out, err) = cli(&f, &format!("install --reboot-exit-code {url}"));
    assert_eq!(code, Some(1), "{out}\n{err}");
    match c {
        Client::Mender3 => {
            assert_eq!(out, "");
            assert!(err.contains("connect: connection refused"), "{err}");
            assert!(
                err.contains("level=error msg=\"Error while installing Artifact from command line: update fetch request failed"),
                "{err}"
            );
        }
        Client::Mender40 => {
            assert_eq!(out, "Installation failed. System not modified.\n");
            assert_logfmt_error(&err, &format!("Connection refused: GET {url}: "));
        }
        Client::Mender5 => {
            assert_eq!(out, "Streaming failed.\nSystem not modified.\n");
            assert_logfmt_error(&err, &format!("Connection refused: GET {url}: "));
            assert!(
                err.ends_with(&format!(
                    "Could not fulfill request: Connection refused: GET {url}: \n"
                )),
                "{err}"
            );
        }
    }
    // A 404.
    server.set_reachable(true);
    let missing = server.url("nope.mender");
    let (code, out, err) = cli(&f, &format!("install {missing}"));
    assert_eq!(code, Some(1), "{out}\n{err}");
    match c {
        Client::Mender3 => assert!(
            err.contains("Error fetching scheduled update info: code (404)"),
            "{err}"
        ),
        _ => assert_logfmt_error(&err, "Unexpected HTTP response: 404: Not Found"),
    }
    assert_eq!(server.requests(), ["GET /nope.mender"]);
    // A missing local file.
    let (code, out, err) = cli(&f, "install /no/such/file.mender");
    assert_eq!(code, Some(1), "{out}\n{err}");
    match c {
        Client::Mender3 => assert!(
            err.contains("Not able to open image file: /no/such/file.mender: open /no/such/file.mender: no such file or directory"),
            "{err}"
        ),
        _ => assert_logfmt_error(
            &err,
            "No such file or directory: Failed to open '/no/such/file.mender' for reading",
        ),
    }
    assert_eq!(d.boot_env(), before);
    assert_eq!(d.pending(), None);
    assert_eq!(d.artifact(), "release-1");
}

// ---- 11 ---------------------------------------------------------------------------------------

fn case11_failed_rollback_marks_the_artifact_inconsistent(c: Client) {
    let Some(f) = fleet(c) else { return };
    let d = f.device(DEV);
    d.set_mode(&["install-fail", "rollback-fail"]);
    let (code, out, err) = install(&f, "release-2");
    assert_eq!(code, Some(1), "{out}\n{err}");
    let want: Vec<String> = match c {
        Client::Mender3 => vec![
            m3_installing("release-2"),
            "Rolling back Artifact...".into(),
        ],
        Client::Mender40 => vec![
            "Installing artifact...".into(),
            "Installation failed, and rollback also failed. System may be in an inconsistent state."
                .into(),
        ],
        Client::Mender5 => vec![
            "Installing artifact...".into(),
            "Installation failed.".into(),
            "Rollback failed. System may be in an inconsistent state.".into(),
        ],
    };
    assert_eq!(lines(&out), want);
    assert_eq!(cli(&f, "show-artifact").1, "release-2_INCONSISTENT\n");
    assert_eq!(d.pending(), None);
    assert_eq!(cli(&f, "commit").0, Some(2));

    // A module without rollback that fails: nothing can undo it.
    d.set_mode(&["install-fail"]);
    let noroll = artifact_file_with(&ArtifactSpec::new("noroll-2").module(NOROLL_MODULE));
    let (code, out, err) = cli(
        &f,
        &format!("install --reboot-exit-code {}", noroll.display()),
    );
    assert_eq!(code, Some(1), "{out}\n{err}");
    match c {
        // 3.x: no rollback support, so no "Rolling back" either.
        Client::Mender3 => assert_eq!(lines(&out).len(), 1, "{out}"),
        Client::Mender40 => assert!(
            out.ends_with("Installation failed, and Update Module does not support rollback. System may be in an inconsistent state.\n"),
            "{out}"
        ),
        Client::Mender5 => assert!(
            out.ends_with("Installation failed.\nUpdate Module does not support rollback. System may be in an inconsistent state.\n"),
            "{out}"
        ),
    }
    assert_eq!(cli(&f, "show-artifact").1, "noroll-2_INCONSISTENT\n");
}

// ---- 12 ---------------------------------------------------------------------------------------

fn case12_module_without_rollback_commits_at_once(c: Client) {
    let Some(f) = fleet(c) else { return };
    let d = f.device(DEV);
    let noroll = artifact_file_with(&ArtifactSpec::new("noroll-2").module(NOROLL_MODULE));
    let (code, out, err) = cli(
        &f,
        &format!("install --reboot-exit-code {}", noroll.display()),
    );
    assert_eq!(code, Some(4), "{out}\n{err}");
    let want: Vec<String> = match c {
        Client::Mender3 => vec![
            format!(
                "Installing Artifact of size {}...",
                std::fs::metadata(&noroll).unwrap().len()
            ),
            "Artifact doesn't support rollback. Committing immediately.".into(),
            "Committing Artifact...".into(),
            "At least one payload requested a reboot of the device it updated.".into(),
        ],
        _ => vec![
            "Installing artifact...".into(),
            "Update Module doesn't support rollback. Committing immediately.".into(),
            "Installed and committed.".into(),
            "At least one payload requested a reboot of the device it updated.".into(),
        ],
    };
    assert_eq!(lines(&out), want);
    assert_eq!(d.artifact(), "noroll-2");
    assert_eq!(d.app().as_deref(), Some("noroll-2"));
    assert_eq!(d.pending(), None);
    assert_eq!(cli(&f, "commit").0, Some(2));
}

// ---- 13 ---------------------------------------------------------------------------------------

fn case13_app_module_without_reboot(c: Client) {
    let Some(f) = fleet(c) else { return };
    let d = f.device(DEV);
    let app = artifact_file_with(&ArtifactSpec::new("app-2").module(APP_MODULE));
    let (code, out, err) = cli(&f, &format!("install --reboot-exit-code {}", app.display()));
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(!out.contains("reboot of the device"), "{out}");
    let want: Vec<String> = match c {
        Client::Mender3 => vec![
            format!(
                "Installing Artifact of size {}...",
                std::fs::metadata(&app).unwrap().len()
            ),
            "Use 'commit' to update, or 'rollback' to roll back the update.".into(),
        ],
        _ => vec![
            "Installing artifact...".into(),
            "Installed, but not committed.".into(),
            "Use 'commit' to update, or 'rollback' to roll back the update.".into(),
        ],
    };
    assert_eq!(lines(&out), want);
    assert_eq!(d.app().as_deref(), Some("app-2"), "already running");
    assert_eq!(d.artifact(), "release-1");
    let (code, out, _) = cli(&f, "commit");
    let want = if c == Client::Mender3 {
        "Committing Artifact...\n"
    } else {
        "Committed.\n"
    };
    assert_eq!((code, out.as_str()), (Some(0), want));
    assert_eq!(d.artifact(), "app-2");
    // The rootfs is untouched.
    assert!(!d.boot_env().upgrade_available);
    assert_eq!(d.running(), "release-1");

    // And a rollback restores the previous app.
    let app3 = artifact_file_with(&ArtifactSpec::new("app-3").module(APP_MODULE));
    assert_eq!(cli(&f, &format!("install {}", app3.display())).0, Some(0));
    assert_eq!(d.app().as_deref(), Some("app-3"));
    assert_eq!(cli(&f, "rollback").0, Some(0));
    assert_eq!(d.app().as_deref(), Some("app-2"));
}

// ---- 14: resume (5.x; 4.0 and 3.x have none: case 3) -------------------------------------------

fn fleet5() -> Option<SimFleet> {
    fleet(Client::Mender5)
}

#[test]
fn case14_mender5_resume_commits_an_installed_update() {
    let Some(f) = fleet5() else { return };
    let d = f.device(DEV);
    installed(&f, "release-2");
    reboot(&f);
    // master standalone.cpp:445-446: "before ArtifactCommit_Enter" goes on into the commit.
    let (code, out, err) = cli(&f, "resume --reboot-exit-code");
    assert_eq!((code, out.as_str()), (Some(0), "Committed.\n"), "{err}");
    assert_eq!(d.artifact(), "release-2");
    assert!(!d.boot_env().upgrade_available);
    assert_eq!(cli(&f, "resume").0, Some(2));
}

#[test]
fn case14_mender5_resume_before_the_reboot_commits_and_so_loses_the_update() {
    let Some(f) = fleet5() else { return };
    let d = f.device(DEV);
    let old = d.running_part();
    installed(&f, "release-2");
    // Mismatch #1: a console restarting mid-install and "resuming" loses the update.
    let (code, out, err) = cli(&f, "resume --reboot-exit-code");
    assert_eq!(code, Some(1), "{out}\n{err}");
    assert_eq!(out, "Committing failed.\nRolled back.\n");
    assert_eq!(d.pending(), None);
    assert_eq!(d.boot_env(), env(&old, false, 0));
    assert_eq!(d.artifact(), "release-1");
}

#[test]
fn case14_mender5_resume_stop_before_commit_is_a_no_op() {
    let Some(f) = fleet5() else { return };
    let d = f.device(DEV);
    installed(&f, "release-2");
    let env_before = d.boot_env();
    d.reset_calls();
    // master cli_test.cpp:2460-2478: the safe way to finish an interrupted install.
    for _ in 0..2 {
        let (code, out, err) = cli(&f, "resume --stop-before ArtifactCommit_Enter");
        assert_eq!((code, out.as_str(), err.as_str()), (Some(0), "", ""));
    }
    assert_eq!(
        d.pending_state().as_deref(),
        Some("Before_ArtifactCommit_Enter")
    );
    assert_eq!(d.boot_env(), env_before);
    assert_eq!(d.count_calls("fleetdeck-rootfs "), 0, "{:?}", d.calls());
    // A bad state name.
    let (code, out, err) = cli(&f, "resume --stop-before Nonsense");
    assert_eq!((code, out.as_str()), (Some(1), ""), "{err}");
    assert!(
        err.ends_with("Could not fulfill request: Value error: Cannot stop before unsupported state Nonsense\n"),
        "{err}"
    );
    // Still installed: reboot and commit as usual.
    reboot(&f);
    assert_eq!(cli(&f, "commit").1, "Committed.\n");
}

#[test]
fn case14_mender5_resume_after_a_power_loss_inside_artifact_install_rolls_back() {
    let Some(f) = fleet5() else { return };
    let d = f.device(DEV);
    let before = d.boot_env();
    d.set_step(0.4);
    // Started detached (its own session), then the power goes: every process of the install
    // dies at once, in the middle of ArtifactInstall.
    let (code, _, err) = run(
        &f,
        &format!(
            "setsid mender-update install {} </dev/null >/dev/null 2>&1 &",
            art("release-2")
        ),
    );
    assert_eq!(code, Some(0), "{err}");
    assert!(support::wait_until(Duration::from_secs(10), || {
        d.count_calls("fleetdeck-rootfs ArtifactInstall") == 1
    }));
    assert_eq!(d.pending_state().as_deref(), Some("ArtifactInstall_Enter"));
    d.power_loss();
    assert!(!d.calls().iter().any(|c| c.contains("ArtifactRollback")));
    let (code, out, err) = cli(&f, "resume");
    assert_eq!((code, out.as_str()), (Some(0), "Rolled back.\n"), "{err}");
    assert_eq!(d.pending(), None);
    assert_eq!(d.artifact(), "release-1");
    assert_eq!(d.boot_env().boot_part, before.boot_part);
    assert!(!d.boot_env().upgrade_available);
}

// ---- 15 ---------------------------------------------------------------------------------------

/// `cmd` over ssh, the connection cut (the ssh client killed, as when the console or the
/// network goes away) once `ready` holds.
fn run_cut(f: &SimFleet, cmd: &str, ready: impl FnMut() -> bool) {
    let d = f.device(DEV);
    let mut ssh = device::ssh_spawn(d.port(), &f.key, &f.known_hosts, cmd);
    let ok = support::wait_until(Duration::from_secs(20), ready);
    let ended = ssh.try_wait().unwrap();
    let _ = ssh.kill();
    let _ = ssh.wait();
    assert!(ok && ended.is_none(), "{cmd}: not cut in time ({ended:?})");
}

/// Is an install of the client still running on the device?
fn install_running(f: &SimFleet) -> bool {
    // `[x]` so that the pattern does not match the shell running pgrep.
    let pat = match f.device(DEV).client {
        Client::Mender3 => "[/]usr/bin/mender .* install",
        _ => "[m]ender-update install",
    };
    run(f, &format!("pgrep -f '{pat}'")).0 == Some(0)
}

fn case15_install_survives_or_dies_with_a_dropped_ssh_session(c: Client) {
    let Some(f) = fleet(c) else { return };
    let d = f.device(DEV);
    let old = d.running_part();
    // Mid-install: ArtifactInstall takes 2 s, the session is cut once it runs.
    d.set_step(0.4);
    run_cut(
        &f,
        &format!(
            "{} install --reboot-exit-code {}",
            c.cli(),
            art("release-2")
        ),
        || d.count_calls("fleetdeck-rootfs ArtifactInstall") == 1,
    );
    assert!(install_running(&f), "the install outlives its session");
    if c != Client::Mender3 {
        // A second install while the first still runs: its state is already saved.
        let (code, out, err) = install(&f, "release-3");
        assert_eq!(code, Some(1), "{out}\n{err}");
        assert!(err.contains("Update already in progress"), "{err}");
    }
    assert!(support::wait_until(Duration::from_secs(15), || {
        !install_running(&f)
    }));
    // All of them end installed, awaiting the commit. mender-update ignores SIGPIPE (master
    // src/common/setup/platform/posix/setup.cpp:24-30). The real 3.4 (Go: a write to a broken
    // fd 1/2 ends the program with SIGPIPE) writes nothing between the end of its progress
    // bar and storing its state (app/standalone.go:200-238), so it dies later, printing
    // "Use 'commit' ...": same state, only the exit code is lost.
    let new = other(&old);
    assert_eq!(d.boot_env(), env(new, true, 0));
    assert_eq!(d.pending().as_deref(), Some("release-2"));
    assert_eq!(
        d.pending_state().as_deref(),
        Some("Before_ArtifactCommit_Enter")
    );
    assert_eq!(d.count_calls("fleetdeck-rootfs ArtifactInstall"), 1);
    assert_eq!(d.count_calls("fleetdeck-rootfs NeedsArtifactReboot"), 1);
    assert_eq!(cli(&f, "rollback").0, Some(0));
    assert_eq!(d.boot_env(), env(&old, false, 0));
    d.set_step(0.0);

    // Mid-download: 256 KiB at 96 KiB/s, cut 0.3 s into the download.
    let big = artifact_file_with(&ArtifactSpec::new("release-4").size(256 * 1024));
    let server = ArtifactServer::start();
    let url = server.serve("release-4.mender", &big);
    server.set_rate(Some(96 * 1024));
    let before = d.boot_env();
    let mut since: Option<Instant> = None;
    run_cut(
        &f,
        &format!("{} install --reboot-exit-code {url}", c.cli()),
        || {
            if server.requests().is_empty() {
                return false;
            }
            since.get_or_insert_with(Instant::now).elapsed() > Duration::from_millis(300)
        },
    );
    assert!(support::wait_until(Duration::from_secs(15), || {
        !install_running(&f)
    }));
    assert_eq!(server.requests(), ["GET /release-4.mender"]);
    match c {
        Client::Mender3 => {
            // Killed by SIGPIPE on its next progress dot: nothing installed.
            assert_eq!(d.boot_env(), before);
            assert_eq!(
                d.count_calls("fleetdeck-rootfs ArtifactInstall"),
                1,
                "only the first"
            );
        }
        _ => {
            // Downloaded and installed to the end.
            assert_eq!(d.pending().as_deref(), Some("release-4"));
            assert!(d.boot_env().upgrade_available);
        }
    }
}

// ---- 16 ---------------------------------------------------------------------------------------

fn case16_daemon_is_visible_only_on_its_device(c: Client) {
    if !device::available() {
        return;
    }
    let f = SimFleet::start_with(2, "mender", |_| SimOpts {
        client: c,
        ..Default::default()
    });
    let unit = c.daemon_unit();
    let pattern = format!("(^|/){} daemon", c.cli());
    let active = |dev: &str| {
        let o = f.ssh(dev, &format!("systemctl is-active {unit}"), T);
        (o.status.code(), text(&o.stdout).trim().to_string())
    };
    let pgrep = |dev: &str| {
        f.ssh(dev, &format!("pgrep -f '{pattern}'"), T)
            .status
            .code()
    };
    assert_eq!(active("dev-0"), (Some(3), "inactive".into()));
    let pid = f.device("dev-0").start_daemon();
    assert!(support::wait_until(Duration::from_secs(5), || {
        pgrep("dev-0") == Some(0)
    }));
    assert_eq!(active("dev-0"), (Some(0), "active".into()));
    let o = f.ssh("dev-0", "ps -eo pid=,user=,args=", T);
    let ps = text(&o.stdout);
    let line = ps
        .lines()
        .find(|l| l.contains(&format!("{} daemon", c.cli())))
        .unwrap_or_else(|| panic!("{ps}"));
    assert!(
        line.trim_start().starts_with(&format!("{pid} root ")),
        "{line}"
    );
    let o = f.ssh(
        "dev-0",
        &format!("systemctl show --property=MainPID {unit}"),
        T,
    );
    assert_eq!(text(&o.stdout), format!("MainPID={pid}\n"));
    // Another device does not see it.
    assert_eq!(pgrep("dev-1"), Some(1));
    assert_eq!(active("dev-1"), (Some(3), "inactive".into()));
    f.device("dev-0").stop_daemon(pid);
    assert!(support::wait_until(Duration::from_secs(5), || {
        pgrep("dev-0") == Some(1)
    }));
}

fn case16_a_non_root_login_fails_when_the_client_needs_root(c: Client) {
    if !device::available() {
        return;
    }
    let f = SimFleet::start_with(1, "mender", |_| SimOpts {
        client: c,
        client_needs_root: true,
        ..Default::default()
    });
    let d = f.device(DEV);
    for args in [
        "show-artifact".to_string(),
        format!("install --reboot-exit-code {}", art("release-2")),
        "commit".into(),
    ] {
        let (code, out, err) = cli(&f, &args);
        assert_eq!((code, out.as_str()), (Some(1), ""), "{args}: {err}");
        match c {
            // What the real 3.4 says when it cannot open its LMDB store.
            Client::Mender3 => {
                assert_logrus(
                    &err,
                    "error",
                    "Failed to open DB environment: mdb_env_open: permission denied",
                );
                assert_logrus(&err, "error", "failed to initialize DB store");
            }
            _ => assert!(
                err.contains("Could not fulfill request: LMDB error: Opening LMDB database failed: mdb_env_open: Permission denied"),
                "{err}"
            ),
        }
    }
    assert_eq!(d.artifact(), "release-1");
    assert_eq!(d.pending(), None);
}

// ---- URLs and artifacts ------------------------------------------------------------------------

fn install_from_an_http_url(c: Client) {
    let Some(f) = fleet(c) else { return };
    let d = f.device(DEV);
    let server = ArtifactServer::start();
    let url = server.serve("release-2.mender", &artifact_file("release-2"));
    let (code, out, err) = cli(&f, &format!("install --reboot-exit-code {url}"));
    assert_eq!(code, Some(4), "{out}\n{err}");
    assert_eq!(server.requests(), ["GET /release-2.mender"]);
    assert_eq!(d.pending().as_deref(), Some("release-2"));
    assert_eq!(d.calls()[0], format!("install {url}"));
    if c == Client::Mender3 {
        assert_eq!(lines(&out)[0], m3_installing("release-2"));
        assert_logrus(
            &err,
            "info",
            &format!("Performing remote update from: [{url}]."),
        );
    }
}

fn artifact_name_comes_from_the_artifact_not_the_file_name(c: Client) {
    let Some(f) = fleet(c) else { return };
    let d = f.device(DEV);
    let upload = d.upload_dir().join("whatever.mender");
    std::fs::copy(artifact_file("fancy-3"), &upload).unwrap();
    let (code, out, err) = cli(&f, &format!("install {}", upload.display()));
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert_eq!(d.pending().as_deref(), Some("fancy-3"));
    // Not a Mender artifact.
    d.write("upload/junk.mender", "artifact_name=junk\n");
    let (code, out, err) = cli(
        &f,
        &format!("install {}", d.upload_dir().join("junk.mender").display()),
    );
    assert_eq!(code, Some(1), "{out}\n{err}");
    if c == Client::Mender3 {
        // The real 3.4 clears the standalone state when reading the headers fails
        // (app/standalone.go:121-126 -> doStandaloneFailureStates(.., cleanup) -> Remove):
        // the pending update is forgotten, its boot loader switch stays.
        assert_eq!(d.pending(), None);
        assert!(d.boot_env().upgrade_available);
        assert_eq!(cli(&f, "rollback").0, Some(2));
        d.power_cycle();
        d.power_cycle();
    } else {
        assert_eq!(d.pending().as_deref(), Some("fancy-3"));
        assert_eq!(cli(&f, "rollback").0, Some(0));
    }
    // An artifact for another device type.
    let foreign = artifact_file_with(&ArtifactSpec::new("foreign-1").device_type("other-board"));
    let (code, out, err) = cli(&f, &format!("install {}", foreign.display()));
    assert_eq!(code, Some(1), "{out}\n{err}");
    if c != Client::Mender3 {
        assert_logfmt_error(&err, "Artifact device type doesn't match");
    }
    assert_eq!(d.pending(), None);
}

#[test]
fn versions() {
    for (c, want) in [
        (Client::Mender40, "4.0.7"),
        (Client::Mender5, "5.1.0"),
        (Client::Mender3, "3.4.0"),
    ] {
        let Some(f) = fleet(c) else { return };
        let (code, out, _) = cli(&f, "--version");
        assert_eq!(code, Some(0));
        assert!(out.starts_with(want), "{out}");
    }
}

// ---- the device itself --------------------------------------------------------------------------

#[test]
fn reboot_drops_the_connection_and_the_listener_stays() {
    let Some(f) = fleet(Client::Mender5) else {
        return;
    };
    let d = f.device(DEV);
    let before = d.boot_id();
    let env_before = d.boot_env();
    let t0 = Instant::now();
    let (c, out, err) = run(&f, "sim-reboot; sleep 5; echo survived");
    let took = t0.elapsed();
    eprintln!("sim-reboot dropped the connection after {took:?}: exit {c:?}, stderr {err:?}");
    assert!(took < Duration::from_secs(3), "took {took:?}");
    assert_ne!(c, Some(0), "{out} {err}");
    assert!(!out.contains("survived"), "{out}");
    assert_ne!(d.boot_id(), before);
    // The listening sshd still accepts connections.
    let (c, out, _) = run(&f, "echo back");
    assert_eq!((c, out.trim()), (Some(0), "back"));
    // Nothing pending: the reboot changes nothing else.
    assert_eq!(d.boot_env(), env_before);
    assert_eq!(d.running(), "release-1");
    assert_eq!(d.calls(), ["reboot"]);
}

#[test]
fn boot_id_changes_and_the_device_is_down_for_a_while() {
    let Some(f) = fleet(Client::Mender5) else {
        return;
    };
    let d = f.device(DEV);
    let before = d.boot_id();
    let (c, out, _) = run(&f, "boot-id");
    assert_eq!((c, out.trim()), (Some(0), before.as_str()));
    d.set_down_secs(2);
    reboot(&f);
    let (c, _, err) = run(&f, "boot-id");
    assert_eq!(c, Some(1), "{err}");
    assert!(support::wait_until(Duration::from_secs(5), || {
        run(&f, "boot-id").0 == Some(0)
    }));
    assert_ne!(run(&f, "boot-id").1.trim(), before);
}

#[test]
fn a_slow_install_takes_five_steps() {
    let Some(f) = fleet(Client::Mender5) else {
        return;
    };
    let d = f.device(DEV);
    d.set_step(0.3);
    let t0 = Instant::now();
    installed(&f, "release-2");
    assert!(
        t0.elapsed() >= Duration::from_millis(1500),
        "{:?}",
        t0.elapsed()
    );
}

#[test]
fn each_device_has_its_own_pid_namespace() {
    if !device::available() {
        return;
    }
    let f = SimFleet::start_with(2, "mender", |_| SimOpts::default());
    // PID 1 is the device's sshd; a process on one device is invisible on the other.
    let o = f.ssh("dev-0", "ps -o args= -p 1", T);
    assert!(text(&o.stdout).contains("sshd"), "{}", text(&o.stdout));
    let o = f.ssh(
        "dev-0",
        "setsid sleep 300 </dev/null >/dev/null 2>&1 & echo $!",
        T,
    );
    let pid = text(&o.stdout).trim().to_string();
    assert_eq!(
        f.ssh("dev-0", &format!("kill -0 {pid}"), T).status.code(),
        Some(0)
    );
    assert_eq!(f.ssh("dev-0", "pgrep -x sleep", T).status.code(), Some(0));
    assert_eq!(f.ssh("dev-1", "pgrep -x sleep", T).status.code(), Some(1));
    let o = f.ssh("dev-1", "ps -e -o pid= | wc -l", T);
    let n: usize = text(&o.stdout).trim().parse().unwrap();
    assert!(n < 10, "dev-1 sees {n} processes");
}

#[test]
fn a_detached_process_outlives_its_session_and_is_reaped() {
    let Some(f) = fleet(Client::Mender5) else {
        return;
    };
    let d = f.device(DEV);
    let (c, _, err) = run(
        &f,
        "setsid sh -c 'sleep 0.5; echo done > \"$MENDER_SIM_DIR/bg\"' </dev/null >/dev/null 2>&1 &",
    );
    assert_eq!(c, Some(0), "{err}");
    assert!(support::wait_until(Duration::from_secs(5), || {
        d.dir.join("bg").exists()
    }));
    // Adopted and reaped by the device's PID 1 (sshd): no zombie left.
    std::thread::sleep(Duration::from_millis(200));
    let o = f.ssh(DEV, "ps -e -o stat=,args=", T);
    let ps = text(&o.stdout);
    assert!(!ps.lines().any(|l| l.trim_start().starts_with('Z')), "{ps}");
}

#[test]
fn dropping_a_device_ends_all_its_processes() {
    if !device::available() {
        return;
    }
    let f = SimFleet::start_with(1, "mender", |_| SimOpts::default());
    let d = f.device(DEV);
    d.start_daemon();
    let o = f.ssh(DEV, "setsid sleep 300 </dev/null >/dev/null 2>&1 &", T);
    assert_eq!(o.status.code(), Some(0));
    let server = d.sshd.server_pid().unwrap();
    let ns = std::fs::read_link(format!("/proc/{server}/ns/pid")).unwrap();
    let in_ns = || {
        std::fs::read_dir("/proc")
            .unwrap()
            .flatten()
            .filter(|e| {
                e.file_name()
                    .to_str()
                    .is_some_and(|n| n.parse::<u32>().is_ok())
            })
            .filter(|e| std::fs::read_link(e.path().join("ns/pid")).is_ok_and(|l| l == ns))
            .count()
    };
    assert!(in_ns() >= 3, "sshd, daemon, sleep");
    drop(f);
    assert!(support::wait_until(Duration::from_secs(5), || in_ns() == 0));
}

#[test]
fn appliance_updater_progress_status_and_failure() {
    if !device::available() {
        return;
    }
    let f = SimFleet::start(1, "appliance", "release-1");
    let d = f.device(DEV);
    d.set_step(0.1);
    let (c, out, _) = run(&f, "appliance-sim status");
    assert_eq!((c, out.trim()), (Some(3), "inactive"));
    let t0 = Instant::now();
    assert_eq!(run(&f, "appliance-sim start").0, Some(0));
    assert!(
        t0.elapsed() < Duration::from_secs(1),
        "start returns at once"
    );
    let (c, out, _) = run(&f, "appliance-sim status");
    assert_eq!((c, out.trim()), (Some(0), "active"));
    // follow streams the log from its start; stop it after the last line.
    let (_, out, _) = run(&f, "timeout 5 appliance-sim follow | sed '/100%/q'");
    assert!(out.starts_with("appliance-update: 0%\n"), "{out}");
    assert!(out.contains("appliance-update: 100%"), "{out}");
    assert!(support::wait_until(Duration::from_secs(5), || {
        d.appliance_state() == "inactive"
    }));
    let (c, out, _) = run(&f, "appliance-sim status");
    assert_eq!((c, out.trim()), (Some(3), "inactive"));
    assert!(!d.failed_flag().exists());

    d.set_mode(&["appliance-fail"]);
    assert_eq!(run(&f, "appliance-sim start").0, Some(0));
    assert!(support::wait_until(Duration::from_secs(5), || {
        d.appliance_state() == "failed"
    }));
    let (c, out, _) = run(&f, "appliance-sim status");
    assert_eq!((c, out.trim()), (Some(3), "failed"));
    assert!(d.failed_flag().exists());
    let log = d.appliance_log();
    assert!(
        log.contains("appliance-update: 60%\nappliance-update: verification failed")
            && !log.contains("70%"),
        "{log}"
    );
    // appliance_clear as the fleet entry configures it.
    let file = FleetFile::load(&f.fleet_file).unwrap_or_else(|e| panic!("{e}"));
    let clear = file.devices[0]
        .update
        .appliance_clear
        .replace("{failed_flag}", &format!("'{}'", d.failed_flag().display()));
    assert_eq!(run(&f, &clear).0, Some(0));
    assert!(!d.failed_flag().exists());
    assert!(d.calls().contains(&"appliance restart".to_string()));
    assert_eq!(d.count_calls("appliance start"), 2);
}

#[test]
fn fleet_file_parses_with_every_updater() {
    if !device::available() {
        return;
    }
    let mut f = SimFleet::start(2, "custom", "release-1");
    f.device_mut("dev-1").tags = vec!["prod".into(), "canary".into()];
    f.write_fleet();
    let file = FleetFile::load(&f.fleet_file).unwrap_or_else(|e| panic!("{e}\n{}", f.fleet_yaml()));
    assert_eq!(file.devices.len(), 2);
    let d0 = &file.devices[0];
    let sim = f.device(DEV);
    assert_eq!(d0.name, DEV);
    assert_eq!(d0.host, "127.0.0.1");
    assert_eq!(d0.port, Some(sim.port()));
    assert_eq!(d0.user.as_deref(), Some(sshd::TEST_USER));
    assert_eq!(d0.tags, ["prod"]);
    assert_eq!(file.devices[1].tags, ["prod", "canary"]);
    assert_eq!(d0.updater, UpdaterKind::Custom);
    let cu = d0.custom_updater.as_ref().unwrap();
    assert_eq!(
        cu.install.as_deref(),
        Some("mender-update install --reboot-exit-code {artifact}")
    );
    assert_eq!(cu.status.as_deref(), Some("mender-update show-artifact"));
    assert_eq!(d0.identity_files, [f.key.clone()]);
    assert_eq!(d0.known_hosts[0], f.known_hosts);
    let u = &d0.update;
    assert_eq!(u.reboot_command, "sim-reboot");
    assert_eq!(u.reboot_timeout, 30);
    assert_eq!(u.boot_id_command, "boot-id");
    assert_eq!(u.failed_flag, sim.failed_flag().display().to_string());
    assert_eq!(u.upload_dir, sim.upload_dir().display().to_string());
    assert_eq!(u.appliance_start, "appliance-sim start");
    assert_eq!(u.appliance_status, "appliance-sim status");
    assert_eq!(
        u.appliance_clear,
        "rm -f {failed_flag} && appliance-sim restart"
    );
    assert_eq!(u.verify_command, None);

    for updater in ["mender", "appliance", "none"] {
        f.updater = updater.into();
        f.write_fleet();
        let file = FleetFile::load(&f.fleet_file).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            serde_json::to_value(file.devices[0].updater).unwrap(),
            serde_json::json!(updater)
        );
        assert_eq!(file.devices[0].custom_updater, None);
    }

    // The custom updater's install command runs as written on the device.
    let install = cu
        .install
        .as_deref()
        .unwrap()
        .replace("{artifact}", &art("c-2"));
    assert_eq!(f.ssh(DEV, &install, T).status.code(), Some(4));
    assert_eq!(f.device(DEV).pending().as_deref(), Some("c-2"));
    // The upload dir is writable by the login user.
    assert_eq!(
        f.ssh(
            DEV,
            "echo x > \"$MENDER_SIM_DIR/upload/a\" && test -w \"$MENDER_SIM_DIR\"",
            T
        )
        .status
        .code(),
        Some(0)
    );
}
