//! Keeping the devices view current. SSH devices have no push channel (principle 4): each
//! device is polled on its own interval by its own task, at most `concurrency` sessions at
//! once, with a backoff when it fails (and slowly when its host key is bad: that does not fix
//! itself). Answers are coalesced: the view gets the whole list once, then the rows that
//! changed in each burst.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use super::map::{UPDATE_COLUMN, row};
use super::{Conn, Device, Facts, Inner, facts};
use crate::backend::EventTx;
use crate::backend::changes::RowChanges;
use crate::backend::report::{Gone, Reporter};
use crate::backend::supervise::Backoff;
use crate::model::{Resource, ResourceKind};
use crate::rollout::engine::Updates;
use crate::ssh::client::SshError;

/// Facts output larger than this is cut (a misbehaving device cannot eat memory).
const FACTS_LIMIT: usize = 64 * 1024;
const FACTS_TIMEOUT: Duration = Duration::from_secs(20);

impl Inner {
    /// One facts refresh: connect (cached) and run the script once.
    pub(super) async fn refresh(&self, dev: &Device) -> Result<Facts, Conn> {
        let conn = self.session(dev).await.map_err(Conn::Down)?;
        let script = facts::script(&dev.spec.units, &dev.spec.update.failed_flag);
        let res = tokio::time::timeout(FACTS_TIMEOUT, conn.exec(&script, FACTS_LIMIT)).await;
        match res {
            Ok(Ok(out)) if out.code == Some(0) => {
                Ok(facts::parse(&String::from_utf8_lossy(&out.stdout)))
            }
            Ok(Ok(out)) => Err(Conn::Error(format!(
                "facts script exited {}: {}",
                out.code
                    .map(|c| c.to_string())
                    .unwrap_or_else(|| "by signal".into()),
                crate::term::sanitize::sanitize_plain(
                    String::from_utf8_lossy(&out.stderr)
                        .lines()
                        .next()
                        .unwrap_or("")
                )
            ))),
            Ok(Err(e)) => {
                self.forget(dev).await;
                Err(Conn::Down(e))
            }
            Err(_) => {
                self.forget(dev).await;
                Err(Conn::Down(SshError::Timeout(FACTS_TIMEOUT.as_secs())))
            }
        }
    }
}

/// One poller per device (at most `concurrency` polling at once), shared by every watch of
/// the fleet's devices: the devices view and the timeline's changes used to poll each device
/// on their own, two facts scripts (two sessions' work for the device's sshd) per device and
/// interval. Dropped with the last watch: the polls stop.
pub(super) struct Pollers {
    _tasks: tokio::task::JoinSet<()>,
    /// Signalled after every answer (or failure) a device's status recorded; the watches
    /// read the statuses themselves.
    answered: tokio::sync::watch::Sender<()>,
}

impl Pollers {
    fn start(inner: &Arc<Inner>) -> Pollers {
        let (answered, _) = tokio::sync::watch::channel(());
        let sem = Arc::new(Semaphore::new(inner.file.concurrency));
        let mut tasks = tokio::task::JoinSet::new();
        for dev in &inner.devices {
            let (inner, dev, sem, answered) =
                (inner.clone(), dev.clone(), sem.clone(), answered.clone());
            tasks.spawn(poll_device(inner, dev, answered, sem));
        }
        Pollers {
            _tasks: tasks,
            answered,
        }
    }
}

impl Inner {
    /// The running pollers, started when no watch has them yet.
    pub(super) fn pollers(self: &Arc<Self>) -> Arc<Pollers> {
        let mut slot = self.pollers.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(p) = slot.upgrade() {
            return p;
        }
        let p = Arc::new(Pollers::start(self));
        *slot = Arc::downgrade(&p);
        p
    }
}

/// The devices view: the devices' shared pollers; the whole list once, then only the rows that
/// changed.
pub async fn devices(inner: Arc<Inner>, updates: Updates, tx: EventTx) {
    let report = Reporter::new(inner.id.clone(), tx);
    // Rows follow at once either way; a closed channel shows at the snapshot.
    let _ = report.connecting().await;
    let pollers = inner.pollers();
    let mut answered = pollers.answered.subscribe();
    // Rows at once (connecting), so the table never waits for the slowest device; then what
    // changed after every burst of answers.
    let mut sent = Sent::new(&inner, &updates);
    if send_header(&inner, &report).await.is_err()
        || report
            .snapshot(ResourceKind::Device, sent.rows.clone())
            .await
            .is_err()
    {
        return;
    }
    // A running update shows in the UPDATE column too: its changes count as news.
    let mut update_changes = updates.subscribe();
    loop {
        let mut update_moved = tokio::select! {
            answer = answered.changed() => if answer.is_err() { return } else { false },
            changed = update_changes.changed() => if changed.is_err() { return } else { true },
        };
        // Coalesce a burst of answers (or progress lines) into one batch.
        tokio::time::sleep(coalesce_window(inner.devices.len())).await;
        answered.borrow_and_update();
        update_moved |= update_changes.has_changed().unwrap_or(false);
        update_changes.borrow_and_update();
        if send_header(&inner, &report).await.is_err() {
            return;
        }
        // Only the rows that differ travel: with 1,000 devices answering a few per batch, the
        // UI updates those in place instead of merging, sorting and filtering the whole fleet.
        let upserted = sent.changed(&inner, &updates, update_moved);
        if !upserted.is_empty() {
            let changes = RowChanges {
                upserted,
                removed: Vec::new(),
            };
            if report.changes(ResourceKind::Device, changes).await.is_err() {
                return;
            }
        }
    }
}

/// The rows a devices watch last sent, and the status version each was made from. The device
/// list is fixed for the watch's life, so rows pair up with devices by position.
struct Sent {
    rows: Vec<Resource>,
    versions: Vec<u64>,
}

impl Sent {
    fn new(inner: &Inner, updates: &Updates) -> Sent {
        let live = updates.live_steps();
        let versions = inner.devices.iter().map(|d| d.version()).collect();
        let rows = inner
            .devices
            .iter()
            .map(|d| device_row(inner, d, updates, &live))
            .collect();
        Sent { rows, versions }
    }

    /// The rows that differ from those sent, now sent. Only devices whose status changed are
    /// mapped again — a 1,000-device fleet answers a few per batch, and mapping every row of
    /// every batch was an eighth of the console's CPU in the first wave (docs/PERFORMANCE.md
    /// §22) — unless an update moved: its step and guard show in the rows of its devices.
    fn changed(&mut self, inner: &Inner, updates: &Updates, every: bool) -> Vec<Resource> {
        let live = updates.live_steps();
        let mut out = Vec::new();
        for (i, d) in inner.devices.iter().enumerate() {
            // Read before the row: a change that lands while the row is made moves the
            // version again, so the next batch maps that device once more.
            let version = d.version();
            if !every && version == self.versions[i] {
                continue;
            }
            self.versions[i] = version;
            let row = device_row(inner, d, updates, &live);
            if row != self.rows[i] {
                out.push(row.clone());
                self.rows[i] = row;
            }
        }
        out
    }
}

/// A device's row, with the step of an update running on it.
fn device_row(
    inner: &Inner,
    d: &Device,
    updates: &Updates,
    live: &HashMap<String, String>,
) -> Resource {
    let mut r = row(&inner.id, d);
    if let Some(step) = live.get(&d.spec.name) {
        r.cells[UPDATE_COLUMN] = step.clone();
    }
    if let Some(g) = r.facts.update_guard.as_mut() {
        g.rollout = updates.driving(&d.spec.name);
        g.held = updates.held_in(&d.spec.name).is_some();
    }
    r
}

/// How long answers gather before the next batch of changes: 50 ms up to 200 devices, then
/// 1 ms per 4, up to 250 ms from 1,000 (a 1,000-device wave then makes ~4 batches a second
/// instead of ~20, and the table still moves while the wave runs).
fn coalesce_window(devices: usize) -> Duration {
    crate::backend::changes::gather_window(devices, Duration::from_millis(50), 4)
}

/// The header's "N/M devices up" (every batch: the source's other tasks send statuses too).
async fn send_header(inner: &Inner, report: &Reporter) -> Result<(), Gone> {
    let up = inner.devices.iter().filter(|d| d.is_up()).count();
    report
        .connected(format!("{up}/{} devices up", inner.devices.len()))
        .await
}

/// How long a device waits before its next poll: its interval after an answer; after a
/// failure the backoff, but never longer than the interval (at least 5 s), so a device that
/// comes back shows up as soon as it would have been polled anyway.
fn next_poll(result: &Result<Facts, Conn>, backoff: &mut Backoff, interval: Duration) -> Duration {
    match result {
        Ok(_) => {
            backoff.reset();
            interval
        }
        // A known-bad host key does not fix itself quickly: poll it slowly.
        Err(Conn::Down(
            SshError::ChangedHostKey { .. }
            | SshError::RevokedHostKey { .. }
            | SshError::KnownHostsUnreadable { .. },
        )) => Backoff::MAX,
        Err(_) => backoff
            .next_delay()
            .min(interval.max(Duration::from_secs(5))),
    }
}

async fn poll_device(
    inner: Arc<Inner>,
    dev: Arc<Device>,
    answered: tokio::sync::watch::Sender<()>,
    sem: Arc<Semaphore>,
) {
    let mut backoff = Backoff::default();
    let mut pass = crate::ssh::auth::passphrases().subscribe();
    let interval = Duration::from_secs(dev.spec.facts_interval.max(1));
    loop {
        let result = {
            let Ok(_permit) = sem.acquire().await else {
                return;
            };
            inner.refresh(&dev).await
        };
        let delay = next_poll(&result, &mut backoff, interval);
        dev.record(result);
        answered.send_replace(());
        let started = Instant::now();
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = dev.wake.notified() => {}
            _ = pass.changed() => {}
        }
        tracing::trace!(device = %dev.spec.name, waited = ?started.elapsed(), "refresh");
    }
}

/// The fleet's header before the devices view polls anything ("4 devices"), then what
/// quitting would interrupt (running rollouts), whenever that changes.
pub async fn probe(inner: Arc<Inner>, updates: Updates, tx: EventTx) {
    let report = Reporter::new(inner.id.clone(), tx);
    let _ = report
        .connected(format!("{} devices", inner.devices.len()))
        .await;
    let mut changes = updates.subscribe();
    let mut told = Vec::new();
    loop {
        let work = updates.work();
        if work != told {
            if report.work(work.clone()).await.is_err() {
                return;
            }
            told = work;
        }
        if changes.changed().await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_watches_of_a_fleet_share_its_pollers_and_the_last_one_stops_them() {
        let b = super::super::FleetBackend::new(
            super::super::file::FleetFile::local("here"),
            crate::ssh::client::SshOptions::from_home(),
        );
        let view = b.inner.pollers();
        let timeline = b.inner.pollers();
        assert!(
            Arc::ptr_eq(&view, &timeline),
            "one poller set, not one per watch"
        );
        drop((view, timeline));
        let slot = b.inner.pollers.lock().unwrap_or_else(|e| e.into_inner());
        assert!(
            slot.upgrade().is_none(),
            "the pollers stop with the last watch"
        );
    }

    #[test]
    fn a_batch_maps_only_the_devices_whose_status_changed() {
        let dir = tempfile::tempdir().unwrap();
        let b = super::super::FleetBackend::new(
            super::super::file::FleetFile::local("here"),
            crate::ssh::client::SshOptions::from_home(),
        )
        .with_update_store(dir.path().into(), None, Duration::from_secs(1));
        let (inner, updates) = (&b.inner, b.updates());
        let mut sent = Sent::new(inner, updates);
        assert_eq!(sent.rows[0].cells[1], "connecting");
        assert!(
            sent.changed(inner, updates, false).is_empty(),
            "nothing moved"
        );

        let dev = &inner.devices[0];
        dev.record(Ok(Facts::default()));
        let moved = sent.changed(inner, updates, false);
        assert_eq!(moved.len(), 1, "the device that answered");
        assert_ne!(moved[0].cells[1], "connecting");
        assert_eq!(sent.rows[0], moved[0], "kept as sent");
        assert!(sent.changed(inner, updates, false).is_empty(), "sent once");

        // The same answer again moves the version, not the row: nothing travels.
        dev.record(Ok(Facts::default()));
        assert!(sent.changed(inner, updates, false).is_empty());
        // Told that an update moved, every row is made again (and still equal).
        assert!(sent.changed(inner, updates, true).is_empty());
    }

    #[test]
    fn snapshots_gather_longer_for_large_fleets_but_never_past_a_quarter_second() {
        let ms = |n| coalesce_window(n).as_millis();
        assert_eq!(ms(1), 50);
        assert_eq!(ms(200), 50);
        assert_eq!(ms(600), 150);
        assert_eq!(ms(1000), 250);
        assert_eq!(ms(20_000), 250);
    }

    #[test]
    fn polls_back_off_within_the_interval_and_bad_keys_wait_longest() {
        let secs = Duration::from_secs;
        let down = Err(Conn::Down(SshError::Timeout(20)));
        let mut b = Backoff::default();
        let waits: Vec<u64> = (0..5)
            .map(|_| next_poll(&down, &mut b, secs(2)).as_secs())
            .collect();
        assert_eq!(waits, vec![1, 2, 4, 5, 5]);
        assert_eq!(next_poll(&Ok(Facts::default()), &mut b, secs(60)), secs(60));
        assert_eq!(next_poll(&down, &mut b, secs(60)), secs(1));
        let unreadable = Err(Conn::Down(SshError::KnownHostsUnreadable {
            host: "a".into(),
            error: "denied".into(),
        }));
        assert_eq!(next_poll(&unreadable, &mut b, secs(60)), Backoff::MAX);
        let script = Err(Conn::Error("facts script exited 1: x".into()));
        assert_eq!(next_poll(&script, &mut b, secs(60)), secs(2));
    }
}
