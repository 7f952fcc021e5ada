//! Update guard-rails (#15) in the real console (tmux) on simulated devices behind real sshd:
//! the update dialog warns before it asks (a Mender daemon managing dev-1, dev-2's failed
//! flag, dev-3 unreachable) and the rollout skips those devices, saying why in :updates (with
//! the ROLLOUT column); `-H` holds dev-0 at `verified, waiting for commit` until `c`; ctrl-d
//! then clears the finished rollout.

use std::time::Duration;

use crate::support;
use support::device::{SimFleet, artifact_file, yaml_str};
use support::require;
use support::tmux::{Tmux, fleetdeck_bin, shell_quote, tmux_available};

#[test]
fn update_guard_warns_skips_holds_commits_and_clears() {
    if !(require("tmux", tmux_available()) && support::device::available()) {
        return;
    }
    let mut fleet = SimFleet::start(4, "mender", "release-1");
    fleet.device("dev-1").start_daemon();
    std::fs::write(fleet.device("dev-2").failed_flag(), "verification failed\n").unwrap();
    // The fleet file: dev-2 runs the appliance updater (which refuses while its flag is set).
    let mut yaml = format!(
        "known_hosts: {}\ndevices:\n",
        yaml_str(&fleet.known_hosts.display().to_string())
    );
    for d in &fleet.devices {
        let updater = if d.name == "dev-2" {
            "appliance"
        } else {
            "mender"
        };
        yaml += &d.fleet_entry(updater, &fleet.key, &fleet.known_hosts);
    }
    std::fs::write(&fleet.fleet_file, yaml).unwrap();
    drop(fleet.devices.remove(3)); // dev-3's sshd stops: unreachable.

    let artifact = artifact_file("release-2");
    let t = Tmux::start(
        &format!(
            "{} --fleet {}",
            shell_quote(fleetdeck_bin()),
            shell_quote(fleet.fleet_file.to_str().unwrap())
        ),
        200,
        40,
        &[],
    );
    t.wait_for("Containers", Duration::from_secs(30));
    t.keys(&[":"]);
    t.type_text("devices");
    t.keys(&["Enter"]);
    // Every device polled: dev-0 and dev-1 up, dev-2 FAILED, dev-3 unreachable.
    t.wait_until("every device polled", Duration::from_secs(40), |s| {
        s.lines()
            .filter(|l| l.contains("dev-") && l.contains(" up "))
            .count()
            >= 2
            && s.contains("FAILED")
            && s.lines()
                .any(|l| l.starts_with("dev-3") && !l.contains("connecting"))
    });
    t.keys(&["/"]);
    t.type_text("dev");
    t.keys(&["Enter", "U"]);
    t.wait_for("Update over SSH", Duration::from_secs(5));
    t.type_text(&format!("{} -H", artifact.display()));
    t.keys(&["Enter"]);
    let screen = t.wait_for("Confirm", Duration::from_secs(5));
    for wanted in [
        "⚠ managed by its Mender server (mender-updated.service",
        "⚠ failed flag set (clear it with C first), skipped: dev-2",
        "⚠ unreachable, skipped: dev-3",
        "hold before commit, 3 skipped)?",
    ] {
        assert!(screen.contains(wanted), "{wanted}:\n{screen}");
    }
    t.keys(&["y"]);
    // dev-0 holds before its commit; the others are skipped with why, never started.
    let screen = t.wait_for("verified, waiting for commit", Duration::from_secs(60));
    assert!(screen.contains("ROLLOUT"), "{screen}");
    for (dev, why) in [
        ("dev-1", "managed by its Mender server"),
        ("dev-2", "the failed flag"),
        ("dev-3", "unreachable at the start"),
    ] {
        let line = screen
            .lines()
            .find(|l| l.starts_with(dev))
            .unwrap_or_else(|| panic!("{dev}:\n{screen}"));
        assert!(line.contains("skipped") && line.contains(why), "{line}");
    }
    assert_eq!(
        fleet.device("dev-0").pending().as_deref(),
        Some("release-2"),
        "not committed"
    );
    assert_eq!(fleet.device("dev-1").count_calls("install"), 0);
    // c on the held device: asked, then committed through its rollout.
    t.keys(&["c"]);
    t.wait_for("Commit", Duration::from_secs(5));
    t.keys(&["y"]);
    t.wait_until("dev-0 committed", Duration::from_secs(60), |s| {
        s.lines()
            .any(|l| l.starts_with("dev-0") && l.contains("committed"))
    });
    assert_eq!(fleet.device("dev-0").artifact(), "release-2");
    // The rollout is done: ctrl-d clears it, after asking.
    assert!(
        support::wait_until(Duration::from_secs(10), || rollout_done(&t.state_dir())),
        "the rollout ended on disk"
    );
    t.keys(&["C-d"]);
    t.wait_for("Clear the finished rollouts", Duration::from_secs(5));
    t.keys(&["y"]);
    t.wait_for("cleared 1 finished rollout", Duration::from_secs(10));
    t.wait_gone("dev-2", Duration::from_secs(10));
}

/// `u` mid-update is refused before any y/n, with the way out; after two committed updates
/// `u` finds nothing to roll back and offers going back to the previous artifact, which the
/// real binary then installs over SSH (Mender 5 simulation, artifacts from a loopback server).
#[test]
fn update_guard_refuses_mid_update_and_goes_back_after_a_commit() {
    use support::artifact_server::ArtifactServer;
    if !(require("tmux", tmux_available()) && support::device::available()) {
        return;
    }
    let fleet = SimFleet::start(1, "mender", "release-1");
    let dev = fleet.device("dev-0");
    let server = ArtifactServer::start();
    let url2 = server.serve("release-2.mender", &artifact_file("release-2"));
    let url3 = server.serve("release-3.mender", &artifact_file("release-3"));
    // Slow enough to press a key mid-install.
    dev.set_step(0.6);
    let t = Tmux::start(
        &format!(
            "{} --fleet {}",
            shell_quote(fleetdeck_bin()),
            shell_quote(fleet.fleet_file.to_str().unwrap())
        ),
        200,
        40,
        &[],
    );
    // Keys typed before the first frame can be lost (the terminal is not raw yet): on a loaded
    // machine `:devices` went missing and the test waited on the containers view.
    t.wait_for("Containers", Duration::from_secs(30));
    let update = |url: &str| {
        t.keys(&[":"]);
        t.type_text("devices");
        t.keys(&["Enter"]);
        t.wait_until("dev-0 up", Duration::from_secs(30), |s| {
            s.lines()
                .any(|l| l.starts_with("dev-0") && l.contains(" up "))
        });
        t.keys(&["U"]);
        t.wait_for("Update over SSH", Duration::from_secs(5));
        t.type_text(url);
        t.keys(&["Enter"]);
        t.wait_for("[y] yes", Duration::from_secs(5));
        t.keys(&["y"]);
    };
    update(&url2);
    t.wait_for("installing", Duration::from_secs(30));
    t.keys(&["u"]);
    let screen = t.wait_for("is being updated by rollout", Duration::from_secs(5));
    assert!(
        screen.contains("pause (P) or abort (x) it in :rollouts, or wait"),
        "{screen}"
    );
    assert!(!screen.contains("[y] yes"), "no y/n first: {screen}");
    t.wait_until("release-2 committed", Duration::from_secs(60), |s| {
        s.lines()
            .any(|l| l.starts_with("dev-0") && l.contains("committed"))
    });
    dev.set_step(0.0);
    update(&url3);
    assert!(
        support::wait_until(Duration::from_secs(60), || dev.artifact() == "release-3"),
        "release-3 committed"
    );
    // Nothing to roll back now: going back is offered, naming both artifacts.
    t.keys(&[":"]);
    t.type_text("devices");
    t.keys(&["Enter"]);
    // In full CI runs (42 tmux tests in parallel) the row was seen showing release-1 again
    // after release-3, and `u` then offered nothing; alone the test never showed it. Not
    // explained yet (a transient read of the simulated device's artifact is the suspect), so
    // `u` is pressed once the row shows release-3 and again if no dialog came.
    let runs_release_3 = |s: &str| {
        s.lines()
            .any(|l| l.starts_with("dev-0") && l.contains("release-3"))
    };
    for attempt in 0..3 {
        t.wait_until(
            "dev-0 runs release-3",
            Duration::from_secs(30),
            runs_release_3,
        );
        t.keys(&["u"]);
        if support::wait_until(Duration::from_secs(10), || t.screen().contains("[y] yes")) {
            break;
        }
        assert!(attempt < 2, "no go-back dialog: {}", t.screen());
    }
    t.keys(&["y"]);
    let screen = t.wait_until("go back offered", Duration::from_secs(30), |s| {
        s.contains("Go back to") && s.contains("previous artifact release-2")
    });
    assert!(
        screen.contains("it runs release-3 (committed)") && screen.contains("release-2"),
        "{screen}"
    );
    t.keys(&["y"]);
    assert!(
        support::wait_until(Duration::from_secs(60), || dev.artifact() == "release-2"),
        "back on release-2: {}",
        t.screen()
    );
}

/// Some `rollout.json` under the console's state dir says `done`.
fn rollout_done(state: &std::path::Path) -> bool {
    fn walk(dir: &std::path::Path) -> bool {
        std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .any(|e| {
                let p = e.path();
                if p.is_dir() {
                    walk(&p)
                } else {
                    p.ends_with("rollout.json")
                        && std::fs::read_to_string(&p).is_ok_and(|t| t.contains("\"done\""))
                }
            })
    }
    walk(&state.join("updates"))
}
