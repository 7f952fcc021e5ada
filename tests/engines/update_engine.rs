//! The update engine (src/rollout) over in-memory devices that follow the Mender 5 contract
//! (tests/support/fake_link.rs): rollout limits, pause/resume/abort, failure paths and resuming
//! from the state dir. The same driver runs over real SSH, against the real Mender 3 client
//! and the 4.0/5.x simulator, in tests/engines/update_ssh.rs.

use crate::support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use fleetdeck::audit::AuditLog;
use fleetdeck::backend::fleet::file::{UpdateSettings, UpdaterKind};
use fleetdeck::model::{FailureLimit, SourceId, UpdateRequest};
use fleetdeck::rollout::driver::Plan;
use fleetdeck::rollout::engine::{Counts, DeviceTarget, RolloutState, Updates};
use fleetdeck::rollout::{StateStore, Step, UpdateRecord};
use support::fake_link::FakeDevice;

struct Fleet {
    dir: tempfile::TempDir,
    devices: BTreeMap<String, Arc<FakeDevice>>,
}

impl Fleet {
    fn new(n: usize, latency_ms: u64) -> Fleet {
        Fleet {
            dir: tempfile::tempdir().unwrap(),
            devices: (0..n)
                .map(|i| {
                    (
                        format!("dev-{i}"),
                        Arc::new(FakeDevice::new(
                            "release-1",
                            Duration::from_millis(latency_ms),
                        )),
                    )
                })
                .collect(),
        }
    }

    fn updates(&self) -> Updates {
        self.updates_with(UpdateSettings::default())
    }

    fn updates_with(&self, settings: UpdateSettings) -> Updates {
        let devices = self.devices.clone();
        Updates::new(
            self.dir.path().join("updates"),
            Some(AuditLog::new(self.dir.path().join("audit.jsonl"))),
            SourceId::new("fleet:test"),
            Arc::new(move |name: &str| {
                let d = devices.get(name)?.clone();
                Some(DeviceTarget {
                    link: d,
                    plan: Plan {
                        updater: UpdaterKind::Mender,
                        custom: None,
                        settings: settings.clone(),
                    },
                })
            }),
        )
        .with_poll(Duration::from_millis(10))
    }

    fn dev(&self, name: &str) -> &FakeDevice {
        &self.devices[name]
    }
}

fn request(devices: &[&str], parallel: usize, max_failures: FailureLimit) -> UpdateRequest {
    UpdateRequest {
        artifact: "https://updates.example/release-2.mender".into(),
        devices: devices.iter().map(|d| d.to_string()).collect(),
        parallel,
        max_failures,
        ..UpdateRequest::EMPTY
    }
}

async fn finish(u: &Updates, id: &str) -> (RolloutState, Vec<UpdateRecord>) {
    support::rollout::finish(u, id, Duration::from_secs(30)).await
}

fn step_of(records: &[UpdateRecord], device: &str) -> Step {
    records.iter().find(|r| r.device == device).unwrap().step
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_device_installs_reboots_verifies_and_commits() {
    let f = Fleet::new(1, 0);
    let u = f.updates();
    let id = u
        .start(&request(&["dev-0"], 1, FailureLimit::Count(1)))
        .await
        .unwrap();
    let (state, records) = finish(&u, &id).await;
    assert_eq!(state, RolloutState::Done);
    let r = &records[0];
    assert_eq!(r.step, Step::Committed, "{r:#?}");
    assert_eq!(r.previous.as_deref(), Some("release-1"));
    assert_eq!(r.installed.as_deref(), Some("release-2"));
    assert!(r.rebooted);
    assert_eq!(f.dev("dev-0").artifact(), "release-2");
    let calls = f.dev("dev-0").calls();
    assert_eq!(f.dev("dev-0").installs(), 1);
    assert!(calls.contains(&"reboot".to_string()), "{calls:?}");
    // Every transition is on disk and in the audit log, in order.
    let on_disk = StateStore::new(f.dir.path().join("updates").join(&id).join("devices"));
    assert_eq!(on_disk.load_all().0[0].step, Step::Committed);
    let audit = std::fs::read_to_string(f.dir.path().join("audit.jsonl")).unwrap();
    // The target names the kind, like `run`'s and every console action's (`devices/NAME`).
    assert!(
        audit.lines().all(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["target"] == "devices/dev-0"
        }),
        "{audit}"
    );
    let steps: Vec<String> = audit
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["result"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        steps,
        [
            "pending → installing",
            "installing → rebooting",
            "rebooting → verifying",
            "verifying → committed"
        ]
    );
}

fn reboots(d: &FakeDevice) -> usize {
    d.calls().iter().filter(|c| *c == "reboot").count()
}

/// One device, one update: the record it ended with.
async fn update_one(u: &Updates) -> UpdateRecord {
    let id = u
        .start(&request(&["dev-0"], 1, FailureLimit::Count(1)))
        .await
        .unwrap();
    let (_, mut records) = finish(u, &id).await;
    records.remove(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bootloader_fallback_is_rolled_back_with_its_reason_and_no_second_reboot() {
    let f = Fleet::new(1, 0);
    f.dev("dev-0").state.lock().unwrap().boot_fails = true;
    let r = update_one(&f.updates()).await;
    assert_eq!(r.step, Step::RolledBack, "{r:#?}");
    let reason = r.reason.as_deref().unwrap();
    assert!(
        reason.contains("came back on the old software (release-1): its bootloader fell back")
            && reason.contains("Upgrade failed and was reverted"),
        "{reason}"
    );
    let d = f.dev("dev-0");
    assert_eq!(d.artifact(), "release-1");
    assert!(
        d.state.lock().unwrap().pending.is_none(),
        "the client cleared its state"
    );
    assert_eq!(
        reboots(d),
        1,
        "it already runs the old software: no reboot back"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vetoed_commit_reboots_the_device_back_before_it_is_rolled_back() {
    let f = Fleet::new(1, 0);
    f.dev("dev-0").state.lock().unwrap().veto_commit = true;
    let r = update_one(&f.updates()).await;
    assert_eq!(r.step, Step::RolledBack, "{r:#?}");
    let reason = r.reason.as_deref().unwrap();
    assert!(
        reason.contains("the commit failed on the device: ArtifactCommit_Enter script failed: health gate says no")
            && reason.contains("rebooted into the old software (release-1)"),
        "{reason}"
    );
    let d = f.dev("dev-0");
    let s = d.state.lock().unwrap();
    assert!(!s.running_new, "the rejected software no longer runs");
    assert_eq!(s.artifact, "release-1");
    drop(s);
    assert_eq!(reboots(d), 2, "into the update, then back");
    // The client had rolled back already: fleetdeck's rollback found nothing to do.
    assert!(d.calls().contains(&"mender-update rollback".to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_health_check_rolls_back_and_reboots() {
    let f = Fleet::new(1, 0);
    let settings = UpdateSettings {
        verify_command: Some("healthy?".into()),
        ..UpdateSettings::default()
    };
    let r = update_one(&f.updates_with(settings)).await;
    assert_eq!(r.step, Step::RolledBack, "{r:#?}");
    assert!(
        r.reason
            .as_deref()
            .unwrap()
            .contains("the health check exited 127"),
        "{r:?}"
    );
    let d = f.dev("dev-0");
    assert_eq!(reboots(d), 2);
    assert!(
        !d.calls().contains(&"mender-update commit".to_string()),
        "never committed"
    );
    assert!(!d.state.lock().unwrap().running_new);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_rollout_stops_starting_devices_at_the_failure_limit() {
    let f = Fleet::new(10, 20);
    f.dev("dev-1").state.lock().unwrap().fail_install = true;
    let u = f.updates();
    let names: Vec<String> = (0..10).map(|i| format!("dev-{i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let id = u
        .start(&request(&refs, 3, FailureLimit::Count(1)))
        .await
        .unwrap();
    let (state, records) = finish(&u, &id).await;
    assert_eq!(state, RolloutState::Stopped);
    let c = Counts::of(&records);
    assert_eq!(
        (c.pending, c.running, c.succeeded, c.failed, c.rolled_back),
        (7, 0, 2, 1, 0),
        "{records:#?}"
    );
    assert_eq!(step_of(&records, "dev-1"), Step::Failed);
    for d in 3..10 {
        assert!(
            f.dev(&format!("dev-{d}")).calls().is_empty(),
            "dev-{d} was started"
        );
    }
    let (rollouts, _) = u.rows(jiff::Timestamp::now());
    assert_eq!(rollouts[0].cells[2], "stopped (failure limit)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_resume_and_abort() {
    let f = Fleet::new(4, 30);
    let u = f.updates();
    let id = u
        .start(&request(
            &["dev-0", "dev-1", "dev-2", "dev-3"],
            1,
            FailureLimit::Percent(50),
        ))
        .await
        .unwrap();
    let mut changes = u.subscribe();
    while Counts::of(&u.snapshot(&id).unwrap().1).running == 0 {
        changes.changed().await.unwrap();
    }
    u.control(&id, RolloutState::Paused).await.unwrap();
    // The running device finishes; nothing else starts while paused.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let (spec, records) = u.snapshot(&id).unwrap();
    assert_eq!(spec.state, RolloutState::Paused);
    let c = Counts::of(&records);
    assert_eq!((c.succeeded, c.pending), (1, 3), "{records:#?}");
    u.control(&id, RolloutState::Running).await.unwrap();
    // Let one more start, then abort: it finishes, the rest stay pending.
    while Counts::of(&u.snapshot(&id).unwrap().1).running == 0 {
        changes.changed().await.unwrap();
    }
    u.control(&id, RolloutState::Aborted).await.unwrap();
    let (state, records) = finish(&u, &id).await;
    assert_eq!(state, RolloutState::Aborted);
    let c = Counts::of(&records);
    assert_eq!((c.succeeded, c.pending), (2, 2), "{records:#?}");
    assert!(
        u.control(&id, RolloutState::Running).await.is_err(),
        "an ended rollout stays ended"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_console_resumes_from_the_devices_real_state() {
    let f = Fleet::new(5, 0);
    const URL: &str = "https://updates.example/release-2.mender";
    // What a console killed mid-rollout leaves: dev-0 waiting for its commit (rebooted into
    // the update); dev-1's detached install finished while the console was away (exit 4);
    // dev-2 not started; dev-3's install died without a status but the client finished it
    // (Mender 5 says so through `resume --stop-before`); dev-4's died and left nothing.
    let job = |d: &str| format!("/var/tmp/.fleetdeck-update-r-{d}");
    {
        let mut s = f.dev("dev-0").state.lock().unwrap();
        s.install(URL);
        s.reboot();
    }
    for d in ["dev-1", "dev-3"] {
        let mut s = f.dev(d).state.lock().unwrap();
        let done = s.install(URL);
        s.jobs.insert(job(d), done);
    }
    f.dev("dev-3")
        .state
        .lock()
        .unwrap()
        .lost_jobs
        .insert(job("dev-3"));
    f.dev("dev-4")
        .state
        .lock()
        .unwrap()
        .lost_jobs
        .insert(job("dev-4"));
    let root = f.dir.path().join("updates");
    let id = "20261123-120000";
    std::fs::create_dir_all(root.join(id)).unwrap();
    let devices = ["dev-0", "dev-1", "dev-2", "dev-3", "dev-4"];
    let spec = serde_json::json!({
        "id": id, "artifact": URL, "devices": devices, "parallel": 5,
        "max_failures": {"count": 2}, "created": "2026-11-23T12:00:00Z", "state": "running"
    });
    std::fs::write(root.join(id).join("rollout.json"), spec.to_string()).unwrap();
    let store = StateStore::new(root.join(id).join("devices"));
    for d in devices {
        let mut r = UpdateRecord::new(d, URL);
        r.rollout = id.into();
        r.step = match d {
            "dev-0" => Step::Verifying,
            "dev-2" => Step::Pending,
            _ => Step::Installing,
        };
        r.cli = Some("mender-update".into());
        r.previous = Some("release-1".into());
        r.source = Some(r.artifact.clone());
        r.boot_id = Some("boot-0".into());
        r.job = Some(job(d));
        r.rebooted = d == "dev-0";
        store.save(&r).unwrap();
    }
    let u = f.updates();
    u.resume();
    let (_, records) = finish(&u, id).await;
    for d in ["dev-0", "dev-1", "dev-2", "dev-3"] {
        assert_eq!(step_of(&records, d), Step::Committed, "{d}: {records:#?}");
        assert_eq!(f.dev(d).artifact(), "release-2");
    }
    let r4 = records.iter().find(|r| r.device == "dev-4").unwrap();
    assert_eq!(r4.step, Step::Failed);
    assert!(
        r4.reason.as_deref().unwrap().contains(
            "stopped without an exit status (killed, or the device rebooted under it); the \
             device has no update in progress, so nothing was installed"
        ),
        "{r4:?}"
    );
    // Never re-installed what the device already had; dev-3 was booted and committed, not
    // committed by `resume`.
    let installs: Vec<usize> = devices.iter().map(|d| f.dev(d).installs()).collect();
    assert_eq!(installs, [0, 0, 1, 0, 0]);
    assert_eq!(reboots(f.dev("dev-0")), 0, "already booted into the update");
    for d in ["dev-1", "dev-3"] {
        assert_eq!(reboots(f.dev(d)), 1, "{d} booted the update once");
    }
    assert!(
        f.dev("dev-3")
            .calls()
            .contains(&"mender-update resume --stop-before ArtifactCommit_Enter".to_string())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_that_rebooted_on_its_own_after_the_install_is_not_rebooted_again() {
    // A second boot before the commit makes the bootloader fall back: a device that rebooted
    // while the console was away must be checked and committed, not rebooted once more.
    let f = Fleet::new(1, 0);
    const URL: &str = "https://updates.example/release-2.mender";
    let dir = "/var/tmp/.fleetdeck-update-r-dev-0";
    {
        let mut s = f.dev("dev-0").state.lock().unwrap();
        let done = s.install(URL);
        s.jobs.insert(dir.into(), done);
        s.reboot();
    }
    let root = f.dir.path().join("updates");
    let id = "20261123-130000";
    std::fs::create_dir_all(root.join(id)).unwrap();
    let spec = serde_json::json!({
        "id": id, "artifact": URL, "devices": ["dev-0"], "parallel": 1,
        "max_failures": {"count": 1}, "created": "2026-11-23T13:00:00Z", "state": "running"
    });
    std::fs::write(root.join(id).join("rollout.json"), spec.to_string()).unwrap();
    let mut r = UpdateRecord::new("dev-0", URL);
    r.rollout = id.into();
    r.step = Step::Installing;
    r.cli = Some("mender-update".into());
    r.previous = Some("release-1".into());
    r.source = Some(URL.into());
    r.boot_id = Some("boot-0".into());
    r.job = Some(dir.into());
    StateStore::new(root.join(id).join("devices"))
        .save(&r)
        .unwrap();
    let u = f.updates();
    u.resume();
    let (_, records) = finish(&u, id).await;
    assert_eq!(records[0].step, Step::Committed, "{records:#?}");
    assert_eq!(reboots(f.dev("dev-0")), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_are_refused_clearly() {
    let f = Fleet::new(2, 0);
    let u = f.updates();
    let e = u
        .start(&request(&["nope"], 1, FailureLimit::Count(1)))
        .await
        .unwrap_err();
    assert!(e.contains("nope is not in this fleet"), "{e}");
    let e = u
        .start(&request(&[], 1, FailureLimit::Count(1)))
        .await
        .unwrap_err();
    assert!(e.contains("no devices"), "{e}");
    let slow = Fleet::new(1, 200);
    let u = slow.updates();
    u.start(&request(&["dev-0"], 1, FailureLimit::Count(1)))
        .await
        .unwrap();
    let e = u
        .start(&request(&["dev-0"], 1, FailureLimit::Count(1)))
        .await
        .unwrap_err();
    assert!(e.contains("already being updated"), "{e}");
}

/// Review H1: a console started while another process (`fleetdeck update`, another console)
/// drives a rollout only shows it, live from disk, and never drives a device itself: no
/// device is installed twice and no committed record is overwritten as failed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_process_only_shows_a_live_rollout() {
    let f = Fleet::new(3, 40);
    let owner = f.updates();
    let id = owner
        .start(&request(
            &["dev-0", "dev-1", "dev-2"],
            1,
            FailureLimit::Count(5),
        ))
        .await
        .unwrap();
    // "Another process": its own store over the same state dir.
    let other = f.updates();
    tokio::task::spawn_blocking({
        let o = other.clone();
        move || o.load()
    })
    .await
    .unwrap();
    other.resume();
    let e = other.control(&id, RolloutState::Paused).await.unwrap_err();
    assert!(
        e.contains("is driven by another fleetdeck process (pid"),
        "{e}"
    );
    let (rollouts, _) = other.rows(jiff::Timestamp::now());
    assert!(
        rollouts[0].cells[2].starts_with("running by pid"),
        "{:?}",
        rollouts[0].cells
    );
    let (state, records) = finish(&owner, &id).await;
    assert_eq!(state, RolloutState::Done);
    assert!(
        records.iter().all(|r| r.step == Step::Committed),
        "{records:#?}"
    );
    // The observer catches up from disk and never drove anything.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while other.state(&id) != Some(RolloutState::Done) {
        assert!(
            std::time::Instant::now() < deadline,
            "the observer never saw the end"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let seen = other.snapshot(&id).unwrap().1;
    assert!(seen.iter().all(|r| r.step == Step::Committed), "{seen:#?}");
    for d in ["dev-0", "dev-1", "dev-2"] {
        assert_eq!(f.dev(d).installs(), 1, "{d} installed once");
    }
    let audit = std::fs::read_to_string(f.dir.path().join("audit.jsonl")).unwrap();
    assert!(!audit.contains("→ failed"), "{audit}");
    assert_eq!(audit.matches("verifying → committed").count(), 3);
}

/// The owner dies mid-rollout (its runtime dropped: its locks go with it, as with a killed
/// process); the observing process takes the rollout over and finishes it from the records on
/// disk, installing nothing twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_observer_takes_over_when_the_owner_is_gone() {
    let f = Fleet::new(3, 60);
    let owner_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let owner = f.updates();
    let req = request(&["dev-0", "dev-1", "dev-2"], 1, FailureLimit::Count(5));
    let id = {
        let o = owner.clone();
        owner_rt
            .spawn(async move { o.start(&req).await })
            .await
            .unwrap()
            .unwrap()
    };
    let other = f.updates();
    tokio::task::spawn_blocking({
        let o = other.clone();
        move || o.load()
    })
    .await
    .unwrap();
    other.resume();
    // Let the owner commit dev-0 and get into dev-1, then "kill" it.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !f
        .dev("dev-1")
        .calls()
        .iter()
        .any(|c| c.starts_with("install "))
    {
        assert!(std::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    owner_rt.shutdown_background();
    let (state, records) = finish(&other, &id).await;
    assert_eq!(state, RolloutState::Done, "{records:#?}");
    assert!(
        records.iter().all(|r| r.step == Step::Committed),
        "{records:#?}"
    );
    for d in ["dev-0", "dev-1", "dev-2"] {
        assert_eq!(f.dev(d).installs(), 1, "{d} installed once");
        assert_eq!(f.dev(d).artifact(), "release-2");
    }
}

/// Review L7: two processes starting rollouts in the same second get two ids, and both start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollouts_started_together_by_two_processes_get_their_own_ids() {
    let f = Fleet::new(2, 0);
    let (a, b) = (f.updates(), f.updates());
    let (qa, qb) = (
        request(&["dev-0"], 1, FailureLimit::Count(1)),
        request(&["dev-1"], 1, FailureLimit::Count(1)),
    );
    let (ra, rb) = tokio::join!(a.start(&qa), b.start(&qb));
    let (ia, ib) = (ra.unwrap(), rb.unwrap());
    assert_ne!(ia, ib);
    assert_eq!(finish(&a, &ia).await.0, RolloutState::Done);
    assert_eq!(finish(&b, &ib).await.0, RolloutState::Done);
}

/// Review M1 for a running rollout: when the audit log stops taking lines, the device's next
/// step is not acted on (no reboot here), and the update ends failed, saying why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollout_stops_acting_when_its_audit_log_cannot_be_written() {
    let f = Fleet::new(1, 150);
    let u = f.updates();
    let id = u
        .start(&request(&["dev-0"], 1, FailureLimit::Count(1)))
        .await
        .unwrap();
    let mut changes = u.subscribe();
    while step_of(&u.snapshot(&id).unwrap().1, "dev-0") != Step::Installing {
        changes.changed().await.unwrap();
    }
    let audit = f.dir.path().join("audit.jsonl");
    std::fs::remove_file(&audit).unwrap();
    std::fs::create_dir(&audit).unwrap();
    let (_, records) = finish(&u, &id).await;
    let r = &records[0];
    assert_eq!(r.step, Step::Failed, "{r:#?}");
    assert!(
        r.reason
            .as_deref()
            .unwrap()
            .contains("cannot write the audit log"),
        "{r:?}"
    );
    assert!(
        !f.dev("dev-0").calls().iter().any(|c| c == "reboot"),
        "the unaudited reboot was not ordered"
    );
}
