//! Update guard-rails in the engine (#15), over the in-memory Mender 5 devices of
//! tests/support/fake_link.rs: hold before commit (and that the hold survives a restart),
//! skipped devices, rolling a held device back, going back to the previous artifact, and
//! clearing finished rollouts. The console's side is in tests/console/app_guard.rs, the same
//! paths over real SSH in tests/e2e (update_guard_*).

use crate::support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use fleetdeck::backend::fleet::file::{UpdateSettings, UpdaterKind};
use fleetdeck::model::{FailureLimit, SkippedDevice, SourceId, UpdateRequest};
use fleetdeck::rollout::driver::{AtHold, Plan};
use fleetdeck::rollout::engine::{Counts, DeviceTarget, RolloutState, Updates};
use fleetdeck::rollout::{StateStore, Step, UpdateRecord};
use support::fake_link::FakeDevice;

const URL2: &str = "https://updates.example/release-2.mender";
const URL3: &str = "https://updates.example/release-3.mender";

struct Fleet {
    dir: tempfile::TempDir,
    devices: BTreeMap<String, Arc<FakeDevice>>,
}

impl Fleet {
    fn new(n: usize) -> Fleet {
        Fleet {
            dir: tempfile::tempdir().unwrap(),
            devices: (0..n)
                .map(|i| {
                    (
                        format!("dev-{i}"),
                        Arc::new(FakeDevice::new("release-1", Duration::ZERO)),
                    )
                })
                .collect(),
        }
    }

    fn updates(&self) -> Updates {
        let devices = self.devices.clone();
        Updates::new(
            self.dir.path().join("updates"),
            None,
            SourceId::new("fleet:test"),
            Arc::new(move |name: &str| {
                Some(DeviceTarget {
                    link: devices.get(name)?.clone(),
                    plan: Plan {
                        updater: UpdaterKind::Mender,
                        custom: None,
                        settings: UpdateSettings::default(),
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

fn request(url: &str, devices: &[&str], parallel: usize) -> UpdateRequest {
    UpdateRequest {
        artifact: url.into(),
        devices: devices.iter().map(|d| d.to_string()).collect(),
        parallel,
        max_failures: FailureLimit::Count(1),
        ..UpdateRequest::EMPTY
    }
}

/// Wait until the rollout's records satisfy `done`; panics with them after 20 s.
async fn until(
    u: &Updates,
    id: &str,
    what: &str,
    done: impl Fn(&[UpdateRecord]) -> bool,
) -> Vec<UpdateRecord> {
    let started = Instant::now();
    loop {
        let (_, records) = u.snapshot(id).unwrap();
        if done(&records) {
            return records;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{what}: {records:#?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn step(records: &[UpdateRecord], device: &str) -> Step {
    records.iter().find(|r| r.device == device).unwrap().step
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_canary_keeps_its_slot_until_committed() {
    let f = Fleet::new(2);
    let u = f.updates();
    let mut req = request(URL2, &["dev-0", "dev-1"], 1);
    req.hold_before_commit = true;
    let id = u.start(&req).await.unwrap();
    let records = until(&u, &id, "dev-0 held", |r| step(r, "dev-0") == Step::Held).await;
    assert_eq!(
        step(&records, "dev-1"),
        Step::Pending,
        "-p 1: the canary holds the rollout"
    );
    assert_eq!(
        Step::Held.label(),
        "verified, waiting for commit",
        "the step's words"
    );
    // Verified (rebooted into it), not committed: the device still waits for its commit.
    assert!(f.dev("dev-0").state.lock().unwrap().pending.is_some());
    assert_eq!(u.held_in("dev-0").as_deref(), Some(id.as_str()));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        step(&u.snapshot(&id).unwrap().1, "dev-0"),
        Step::Held,
        "it stays held"
    );
    let counts = Counts::of(&u.snapshot(&id).unwrap().1);
    assert_eq!((counts.held, counts.pending), (1, 1));
    assert!(
        counts.to_string().contains("1 waiting for commit"),
        "{counts}"
    );
    assert!(
        u.work().is_empty(),
        "a held device is not interrupted by quitting"
    );

    // `c` on the device: it commits, then the next device starts and is held too.
    let said = u.release(&id, Some("dev-0"), AtHold::Commit).unwrap();
    assert_eq!(said, format!("committing dev-0 (rollout {id})"));
    let records = until(&u, &id, "dev-0 committed, dev-1 held", |r| {
        step(r, "dev-0") == Step::Committed && step(r, "dev-1") == Step::Held
    })
    .await;
    assert_eq!(f.dev("dev-0").artifact(), "release-2");
    assert!(records[0].installed.as_deref() == Some("release-2"));
    assert!(
        u.release(&id, Some("dev-0"), AtHold::Commit)
            .unwrap_err()
            .contains("not waiting for a commit")
    );
    // `c` on the rollout: every held device.
    assert!(
        u.release(&id, None, AtHold::Commit)
            .unwrap()
            .contains("dev-1")
    );
    let (state, records) = support::rollout::finish(&u, &id, Duration::from_secs(20)).await;
    assert_eq!(state, RolloutState::Done);
    assert!(
        records.iter().all(|r| r.step == Step::Committed),
        "{records:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_device_rolled_back_at_the_hold_boots_the_old_software() {
    let f = Fleet::new(1);
    let u = f.updates();
    let mut req = request(URL2, &["dev-0"], 1);
    req.hold_before_commit = true;
    let id = u.start(&req).await.unwrap();
    until(&u, &id, "held", |r| step(r, "dev-0") == Step::Held).await;
    u.release(&id, Some("dev-0"), AtHold::RollBack).unwrap();
    let (_, records) = support::rollout::finish(&u, &id, Duration::from_secs(20)).await;
    assert_eq!(records[0].step, Step::RolledBack, "{records:#?}");
    assert!(
        records[0]
            .reason
            .as_deref()
            .unwrap()
            .contains("rolled back by the operator at the hold"),
        "{records:#?}"
    );
    assert_eq!(f.dev("dev-0").artifact(), "release-1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hold_survives_a_restart() {
    // What a console stopped during a hold leaves on disk: the rollout asked for the hold,
    // dev-0 is held (rebooted into the update, not committed).
    let f = Fleet::new(1);
    f.dev("dev-0").state.lock().unwrap().install(URL2);
    f.dev("dev-0").state.lock().unwrap().reboot();
    let root = f.dir.path().join("updates");
    let id = "20261127-220000";
    std::fs::create_dir_all(root.join(id)).unwrap();
    let spec = serde_json::json!({
        "id": id, "artifact": URL2, "devices": ["dev-0"], "parallel": 1,
        "max_failures": {"count": 1}, "created": "2026-11-27T22:00:00Z", "state": "running",
        "hold_before_commit": true
    });
    std::fs::write(root.join(id).join("rollout.json"), spec.to_string()).unwrap();
    let mut r = UpdateRecord::new("dev-0", URL2);
    r.rollout = id.into();
    r.step = Step::Held;
    r.cli = Some("mender-update".into());
    r.previous = Some("release-1".into());
    r.source = Some(URL2.into());
    r.rebooted = true;
    StateStore::new(root.join(id).join("devices"))
        .save(&r)
        .unwrap();

    let u = f.updates();
    u.resume();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (spec, records) = u.snapshot(id).unwrap();
    assert!(spec.hold_before_commit);
    assert_eq!(
        records[0].step,
        Step::Held,
        "held again, never committed on resume"
    );
    assert!(f.dev("dev-0").state.lock().unwrap().pending.is_some());
    u.release(id, None, AtHold::Commit).unwrap();
    let (state, records) = support::rollout::finish(&u, id, Duration::from_secs(20)).await;
    assert_eq!(
        (state, records[0].step),
        (RolloutState::Done, Step::Committed)
    );
    assert_eq!(f.dev("dev-0").artifact(), "release-2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skipped_devices_are_recorded_with_why_and_never_started() {
    let f = Fleet::new(2);
    let u = f.updates();
    let mut req = request(URL2, &["dev-0", "dev-1"], 2);
    req.skip.push(SkippedDevice {
        device: "dev-1".into(),
        reason: "the failed flag /run/appliance_failed is set: clear it first (C)".into(),
    });
    let id = u.start(&req).await.unwrap();
    let (state, records) = support::rollout::finish(&u, &id, Duration::from_secs(20)).await;
    assert_eq!(state, RolloutState::Done);
    assert_eq!(step(&records, "dev-0"), Step::Committed);
    let skipped = records.iter().find(|r| r.device == "dev-1").unwrap();
    assert_eq!(skipped.step, Step::Skipped);
    assert!(skipped.reason.as_deref().unwrap().contains("failed flag"));
    assert_eq!(f.dev("dev-1").installs(), 0);
    assert!(f.dev("dev-1").calls().is_empty(), "never contacted");
    assert_eq!(Counts::of(&records).skipped, 1);
    assert!(
        u.latest("dev-1").is_none(),
        "a skip says nothing about the device"
    );
    // :updates says why, in the row.
    let (_, rows) = u.rows(jiff::Timestamp::now());
    let row = rows.iter().find(|r| r.name == "dev-1").unwrap();
    assert_eq!(row.cells[1], "skipped");
    assert_eq!(row.cells[5], id, "the ROLLOUT column");
    assert!(row.cells[6].contains("failed flag"), "{:?}", row.cells);

    // Every device skipped: nothing starts.
    let mut all = request(URL2, &["dev-1"], 1);
    all.skip.push(SkippedDevice {
        device: "dev-1".into(),
        reason: "unreachable".into(),
    });
    assert!(
        u.start(&all)
            .await
            .unwrap_err()
            .contains("nothing to update")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn go_back_finds_where_the_previous_artifact_came_from_and_clearing_forgets_it() {
    let f = Fleet::new(1);
    let u = f.updates();
    assert_eq!(u.previous_artifact("dev-0"), None, "nothing recorded yet");
    for url in [URL2, URL3] {
        let id = u.start(&request(url, &["dev-0"], 1)).await.unwrap();
        let (_, records) = support::rollout::finish(&u, &id, Duration::from_secs(20)).await;
        assert_eq!(records[0].step, Step::Committed, "{records:#?}");
        // Rollout ids are per second.
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }
    assert_eq!(f.dev("dev-0").artifact(), "release-3");
    let prev = u.previous_artifact("dev-0").unwrap();
    assert_eq!(
        (
            prev.name.as_str(),
            prev.source.as_str(),
            prev.current.as_str()
        ),
        ("release-2", URL2, "release-3")
    );

    // Clear the finished rollouts: the journal forgets them, a running one stays.
    let mut held = request(URL2, &["dev-0"], 1);
    held.hold_before_commit = true;
    let running = u.start(&held).await.unwrap();
    assert_eq!(u.finished(), (2, 2));
    let said = u.clear_finished().await.unwrap();
    assert_eq!(said, "cleared 2 finished rollouts");
    let left: Vec<String> = std::fs::read_dir(f.dir.path().join("updates"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "locks")
        .collect();
    assert_eq!(left, std::slice::from_ref(&running));
    let (rollouts, _) = u.rows(jiff::Timestamp::now());
    assert_eq!(rollouts.len(), 1);
    assert!(
        u.clear_finished()
            .await
            .unwrap_err()
            .contains("no finished rollout")
    );
    assert_eq!(
        u.previous_artifact("dev-0"),
        None,
        "its history was cleared"
    );
    // Aborting a rollout rolls its held devices back (like an aborted Mender deployment).
    until(&u, &running, "held", |r| step(r, "dev-0") == Step::Held).await;
    u.control(&running, RolloutState::Aborted).await.unwrap();
    let (state, records) = support::rollout::finish(&u, &running, Duration::from_secs(20)).await;
    assert_eq!(
        (state, records[0].step),
        (RolloutState::Done, Step::RolledBack)
    );
}
