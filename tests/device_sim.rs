//! The simulated appliance (tests/support/device.rs, tests/fixtures/device-sim) honours the
//! Mender 4 `mender-update` contract, the simulated reboot and the appliance updater, over a
//! REAL ssh connection (OpenSSH client against the device's own sshd). Network only on
//! 127.0.0.1; nothing touches the real machine.

mod support;

use std::process::Output;
use std::time::{Duration, Instant};

use fleetdeck::backend::fleet::FleetFile;
use fleetdeck::backend::fleet::file::UpdaterKind;
use support::device::{SimFleet, SimOpts};
use support::sshd;

const T: Duration = Duration::from_secs(20);

fn have_sshd() -> bool {
    support::require("sshd", sshd::sshd_available())
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// (exit code, stdout, stderr); the code is None when ssh was killed by a signal.
fn run(f: &SimFleet, dev: &str, cmd: &str) -> (Option<i32>, String, String) {
    let o: Output = f.ssh(dev, cmd, T);
    (o.status.code(), text(&o.stdout), text(&o.stderr))
}

fn code(f: &SimFleet, dev: &str, cmd: &str) -> i32 {
    let (c, out, err) = run(f, dev, cmd);
    c.unwrap_or_else(|| panic!("`{cmd}` killed: {out} {err}"))
}

/// `sim-reboot` over ssh: the exec reports 0, then the connection drops.
fn reboot(f: &SimFleet, dev: &str) {
    let (c, out, err) = run(f, dev, "sim-reboot");
    assert_eq!(c, Some(0), "sim-reboot: {out} {err}");
}

#[test]
fn install_progress_reboot_and_commit() {
    if !have_sshd() {
        return;
    }
    let f = SimFleet::start(1, "mender", "release-1");
    let d = f.device("dev-0");
    assert_eq!(d.artifact(), "release-1");
    let (c, out, _) = run(&f, "dev-0", "mender-update show-artifact");
    assert_eq!((c, out.trim()), (Some(0), "release-1"));
    let (c, out, _) = run(&f, "dev-0", "mender-update show-provides");
    assert_eq!((c, out.trim()), (Some(0), "artifact_name=release-1"));

    let (c, out, err) = run(
        &f,
        "dev-0",
        "mender-update install --reboot-exit-code https://example.invalid/a/release-2.mender",
    );
    assert_eq!(c, Some(4), "{out}\n{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        [
            "Installing artifact...",
            "Installing artifact... 0%",
            "Installing artifact... 20%",
            "Installing artifact... 40%",
            "Installing artifact... 60%",
            "Installing artifact... 80%",
            "Installing artifact... 100%",
            "Installed, but not committed.",
            "Use 'commit' to update, or 'rollback' to roll back the update.",
            "At least one payload requested a reboot of the device it updated.",
        ]
    );
    assert_eq!(d.pending().as_deref(), Some("release-2"));
    assert!(!d.booted());

    // A second install is refused while one is pending.
    let (c, _, err) = run(&f, "dev-0", "mender-update install /nonexistent.mender");
    assert_eq!(c, Some(1));
    assert!(
        err.contains("Update already in progress. Please commit or roll back first"),
        "{err}"
    );
    // Committing before the reboot is refused.
    let (c, _, err) = run(&f, "dev-0", "mender-update commit");
    assert_eq!(c, Some(1));
    assert!(err.contains("has not rebooted"), "{err}");

    let before = d.boot_id();
    let (c, out, _) = run(&f, "dev-0", "boot-id");
    assert_eq!((c, out.trim()), (Some(0), before.as_str()));
    reboot(&f, "dev-0");
    assert!(d.booted());
    let (c, after, _) = run(&f, "dev-0", "boot-id");
    assert_eq!(c, Some(0));
    assert_ne!(after.trim(), before);
    assert_eq!(after.trim(), d.boot_id());

    let (c, out, _) = run(&f, "dev-0", "mender-update commit");
    assert_eq!((c, out.trim()), (Some(0), "Committed."));
    assert_eq!(
        (d.artifact(), d.pending(), d.booted()),
        ("release-2".into(), None, false)
    );
    let (c, out, _) = run(&f, "dev-0", "mender-update show-artifact");
    assert_eq!((c, out.trim()), (Some(0), "release-2"));

    // Nothing pending any more.
    for cmd in ["mender-update commit", "mender-update rollback"] {
        let (c, out, _) = run(&f, "dev-0", cmd);
        assert_eq!(
            (c, out.trim()),
            (Some(2), "No update in progress."),
            "{cmd}"
        );
    }
    let calls = d.calls();
    assert_eq!(d.count_calls("install "), 2, "{calls:?}");
    assert_eq!(d.count_calls("reboot"), 1, "{calls:?}");
    assert!(
        calls.contains(&"install https://example.invalid/a/release-2.mender".to_string()),
        "{calls:?}"
    );
}

#[test]
fn install_from_a_file_uses_its_artifact_name_and_rollback_discards_it() {
    if !have_sshd() {
        return;
    }
    let f = SimFleet::start(1, "mender", "release-1");
    let d = f.device("dev-0");
    let file = d.upload_dir().join("whatever.mender");
    d.write("upload/whatever.mender", "artifact_name=fancy-3\npayload\n");
    // Without --reboot-exit-code a reboot request still exits 0.
    let (c, out, _) = run(
        &f,
        "dev-0",
        &format!("mender-update install {}", file.display()),
    );
    assert_eq!(c, Some(0), "{out}");
    assert!(
        out.contains("At least one payload requested a reboot"),
        "{out}"
    );
    assert_eq!(d.pending().as_deref(), Some("fancy-3"));
    let (c, out, _) = run(&f, "dev-0", "mender-update rollback");
    assert_eq!((c, out.trim()), (Some(0), "Rolled back."));
    assert_eq!((d.artifact(), d.pending()), ("release-1".into(), None));

    // A plain file without the header: its name without `.mender`.
    d.write("upload/plain-7.mender", "binary\n");
    let p = d.upload_dir().join("plain-7.mender");
    let c = code(
        &f,
        "dev-0",
        &format!("mender-update install {}", p.display()),
    );
    assert_eq!(c, 0);
    assert_eq!(d.pending().as_deref(), Some("plain-7"));
    code(&f, "dev-0", "mender-update rollback");

    // A missing local file.
    let (c, _, err) = run(&f, "dev-0", "mender-update install /no/such/file.mender");
    assert_eq!(c, Some(1));
    assert!(err.contains("No such file"), "{err}");
    assert_eq!(d.pending(), None);
    // Unknown command.
    let (c, _, err) = run(&f, "dev-0", "mender-update frobnicate");
    assert_eq!(c, Some(1));
    assert!(err.contains("Usage"), "{err}");
}

#[test]
fn reboot_drops_the_connection_and_the_listener_stays() {
    if !have_sshd() {
        return;
    }
    let f = SimFleet::start(1, "mender", "release-1");
    let d = f.device("dev-0");
    let before = d.boot_id();
    let t0 = Instant::now();
    let (c, out, err) = run(&f, "dev-0", "sim-reboot; sleep 5; echo survived");
    let took = t0.elapsed();
    eprintln!("sim-reboot dropped the connection after {took:?}: exit {c:?}, stderr {err:?}");
    assert!(took < Duration::from_secs(3), "took {took:?}");
    assert_ne!(c, Some(0), "{out} {err}");
    assert!(!out.contains("survived"), "{out}");
    assert_ne!(d.boot_id(), before);
    // The listening sshd still accepts connections.
    let (c, out, _) = run(&f, "dev-0", "echo back");
    assert_eq!((c, out.trim()), (Some(0), "back"));
    // Nothing pending: the reboot changes nothing else.
    assert!(!d.booted());
    assert_eq!(d.pending(), None);
}

#[test]
fn boot_old_falls_back_and_install_fail_modifies_nothing() {
    if !have_sshd() {
        return;
    }
    let f = SimFleet::start(1, "mender", "release-1");
    let d = f.device("dev-0");
    d.set_mode(&["boot-old"]);
    let c = code(
        &f,
        "dev-0",
        "mender-update install --reboot-exit-code http://h/release-2.mender",
    );
    assert_eq!(c, 4);
    reboot(&f, "dev-0");
    assert_eq!((d.pending(), d.booted()), (None, false));
    let (c, out, _) = run(&f, "dev-0", "mender-update commit");
    assert_eq!((c, out.trim()), (Some(2), "No update in progress."));
    assert_eq!(d.artifact(), "release-1");

    d.set_mode(&["install-fail"]);
    let (c, out, _) = run(
        &f,
        "dev-0",
        "mender-update install --reboot-exit-code http://h/release-2.mender",
    );
    assert_eq!(c, Some(1));
    assert!(
        out.contains("Installing artifact... 40%")
            && !out.contains("60%")
            && out.contains("Installation failed.\nSystem not modified."),
        "{out}"
    );
    assert_eq!(d.pending(), None);

    d.set_mode(&["commit-fail"]);
    code(
        &f,
        "dev-0",
        "mender-update install http://h/release-3.mender",
    );
    reboot(&f, "dev-0");
    let (c, out, _) = run(&f, "dev-0", "mender-update commit");
    assert_eq!((c, out.trim()), (Some(1), "Committing failed."));
    assert_eq!(d.artifact(), "release-1");
    assert_eq!(d.pending().as_deref(), Some("release-3"));
}

#[test]
fn no_reboot_install_commits_at_once() {
    if !have_sshd() {
        return;
    }
    let f = SimFleet::start(1, "mender", "release-1");
    let d = f.device("dev-0");
    d.set_mode(&["no-reboot"]);
    let (c, out, _) = run(
        &f,
        "dev-0",
        "mender-update install --reboot-exit-code http://h/app-2.mender",
    );
    assert_eq!(c, Some(0));
    assert!(!out.contains("reboot"), "{out}");
    assert!(d.booted());
    let (c, out, _) = run(&f, "dev-0", "mender-update commit");
    assert_eq!((c, out.trim()), (Some(0), "Committed."));
    assert_eq!(d.artifact(), "app-2");
}

#[test]
fn slow_install_step_and_down_after_reboot() {
    if !have_sshd() {
        return;
    }
    let f = SimFleet::start(1, "mender", "release-1");
    let d = f.device("dev-0");
    d.set_step(0.3);
    let t0 = Instant::now();
    code(&f, "dev-0", "mender-update install http://h/r2.mender");
    assert!(
        t0.elapsed() >= Duration::from_millis(1500),
        "{:?}",
        t0.elapsed()
    );
    d.set_down_secs(2);
    reboot(&f, "dev-0");
    let (c, _, err) = run(&f, "dev-0", "boot-id");
    assert_eq!(c, Some(1), "{err}");
    assert!(support::wait_until(Duration::from_secs(5), || {
        run(&f, "dev-0", "boot-id").0 == Some(0)
    }));
}

#[test]
fn appliance_updater_progress_status_and_failure() {
    if !have_sshd() {
        return;
    }
    let f = SimFleet::start(1, "appliance", "release-1");
    let d = f.device("dev-0");
    d.set_step(0.1);
    let (c, out, _) = run(&f, "dev-0", "appliance-sim status");
    assert_eq!((c, out.trim()), (Some(3), "inactive"));
    let t0 = Instant::now();
    assert_eq!(code(&f, "dev-0", "appliance-sim start"), 0);
    assert!(
        t0.elapsed() < Duration::from_secs(1),
        "start returns at once"
    );
    let (c, out, _) = run(&f, "dev-0", "appliance-sim status");
    assert_eq!((c, out.trim()), (Some(0), "active"));
    // follow streams the log from its start; stop it after the last line.
    let (_, out, _) = run(
        &f,
        "dev-0",
        "timeout 5 appliance-sim follow | sed '/100%/q'",
    );
    assert!(out.starts_with("appliance-update: 0%\n"), "{out}");
    assert!(out.contains("appliance-update: 100%"), "{out}");
    assert!(support::wait_until(Duration::from_secs(5), || {
        d.appliance_state() == "inactive"
    }));
    let (c, out, _) = run(&f, "dev-0", "appliance-sim status");
    assert_eq!((c, out.trim()), (Some(3), "inactive"));
    assert!(!d.failed_flag().exists());

    d.set_mode(&["appliance-fail"]);
    code(&f, "dev-0", "appliance-sim start");
    assert!(support::wait_until(Duration::from_secs(5), || {
        d.appliance_state() == "failed"
    }));
    let (c, out, _) = run(&f, "dev-0", "appliance-sim status");
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
    assert_eq!(code(&f, "dev-0", &clear), 0);
    assert!(!d.failed_flag().exists());
    assert!(d.calls().contains(&"appliance restart".to_string()));
    assert_eq!(d.count_calls("appliance start"), 2);
}

#[test]
fn mender3_variant() {
    if !have_sshd() {
        return;
    }
    let f = SimFleet::start_with(1, "mender", |_| SimOpts {
        mender3: true,
        ..Default::default()
    });
    let d = f.device("dev-0");
    assert_eq!(code(&f, "dev-0", "command -v mender"), 0);
    let (c, out, _) = run(&f, "dev-0", "command -v mender-update");
    assert_ne!(c, Some(0), "{out}");
    let (c, _, err) = run(
        &f,
        "dev-0",
        "mender install --reboot-exit-code http://h/r2.mender",
    );
    assert_eq!(c, Some(1), "{err}");
    let (c, out, _) = run(&f, "dev-0", "mender install http://h/r2.mender");
    assert_eq!(c, Some(0));
    assert!(out.contains("At least one payload requested a reboot of the device it updated."));
    reboot(&f, "dev-0");
    let (c, out, _) = run(&f, "dev-0", "mender commit && mender show-artifact");
    assert_eq!((c, out.as_str()), (Some(0), "Committed.\nr2\n"));
    assert_eq!(d.artifact(), "r2");
}

#[test]
fn fleet_file_parses_with_every_updater() {
    if !have_sshd() {
        return;
    }
    let mut f = SimFleet::start(2, "custom", "release-1");
    f.device_mut("dev-1").tags = vec!["prod".into(), "canary".into()];
    f.write_fleet();
    let file = FleetFile::load(&f.fleet_file).unwrap_or_else(|e| panic!("{e}\n{}", f.fleet_yaml()));
    assert_eq!(file.devices.len(), 2);
    let d0 = &file.devices[0];
    let sim = f.device("dev-0");
    assert_eq!(d0.name, "dev-0");
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
        .replace("{artifact}", "http://h/c-2.mender");
    assert_eq!(code(&f, "dev-0", &install), 4);
    assert_eq!(f.device("dev-0").pending().as_deref(), Some("c-2"));
    // The upload dir is writable by the login user.
    assert_eq!(
        code(
            &f,
            "dev-0",
            "echo x > \"$MENDER_SIM_DIR/upload/a\" && test -w \"$MENDER_SIM_DIR\""
        ),
        0
    );
}
