//! One device update as a state machine, persisted before it is acted on.
//!
//! pending → uploading|downloading → installing → rebooting → verifying → committed, or
//! → rolled back / failed (with a reason) from any running step. Every transition is written
//! (temp file + fsync + rename + fsync of the directory) *before* the console acts on it, so a
//! console killed mid-update finds the step it was in when started again and resumes from the
//! device's real state instead of re-running the install.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Pending,
    Uploading,
    Downloading,
    Installing,
    Rebooting,
    Verifying,
    /// Verified and held before its commit (a rollout with `hold_before_commit`, a canary):
    /// the operator commits it (`c`) or rolls it back (`u`). Durable like every step, so a
    /// restarted console holds it again instead of committing.
    Held,
    /// Undoing a failed update on the device (rollback, and a reboot when it had rebooted).
    RollingBack,
    Committed,
    RolledBack,
    Failed,
    /// Never started: the update dialog's pre-flight check found a reason (the failed flag,
    /// unreachable, another rollout drives it, a Mender daemon manages it), kept in `reason`.
    Skipped,
}

impl Step {
    /// Nothing more happens after these.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Step::Committed | Step::RolledBack | Step::Failed | Step::Skipped
        )
    }

    /// Is `next` a legal successor? Failure and rollback are reachable from every running step.
    pub fn can_go_to(self, next: Step) -> bool {
        use Step::*;
        if self.is_final() {
            return false;
        }
        match next {
            Failed => true,
            RollingBack => matches!(self, Installing | Rebooting | Verifying | Held),
            RolledBack => matches!(
                self,
                Installing | Rebooting | Verifying | Held | RollingBack
            ),
            Uploading | Downloading => self == Pending,
            Installing => matches!(self, Pending | Uploading | Downloading),
            Rebooting => self == Installing,
            Verifying => matches!(self, Installing | Rebooting),
            Held => self == Verifying,
            Committed => matches!(self, Verifying | Held),
            Skipped => self == Pending,
            Pending => false,
        }
    }

    /// How the update view names it.
    pub fn label(self) -> &'static str {
        match self {
            Step::Pending => "pending",
            Step::Uploading => "uploading",
            Step::Downloading => "downloading",
            Step::Installing => "installing",
            Step::Rebooting => "rebooting",
            Step::Verifying => "verifying",
            Step::Held => "verified, waiting for commit",
            Step::RollingBack => "rolling back",
            Step::Committed => "committed",
            Step::RolledBack => "rolled back",
            Step::Failed => "failed",
            Step::Skipped => "skipped",
        }
    }
}

/// What the update view shows for one device, and what a restarted console resumes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpdateRecord {
    pub device: String,
    pub artifact: String,
    pub step: Step,
    pub percent: Option<u8>,
    pub started: jiff::Timestamp,
    pub changed: jiff::Timestamp,
    pub last_line: String,
    /// Why it failed or was rolled back.
    pub reason: Option<String>,
    /// The rollout this update belongs to.
    #[serde(default)]
    pub rollout: String,
    /// The updater command found on the device (`mender-update` or `mender`).
    #[serde(default)]
    pub cli: Option<String>,
    /// What the device ran before (`show-artifact`): tells "committed" from "came back on the
    /// old artifact" even when a commit's answer was lost.
    #[serde(default)]
    pub previous: Option<String>,
    /// What the device runs after a commit.
    #[serde(default)]
    pub installed: Option<String>,
    /// The install source on the device (the URL, or where a local file was uploaded).
    #[serde(default)]
    pub source: Option<String>,
    /// Boot id when the install started, then before each reboot the console ordered: a
    /// different one means the device rebooted since.
    #[serde(default)]
    pub boot_id: Option<String>,
    /// The device rebooted into the update (a rollback must reboot it again).
    #[serde(default)]
    pub rebooted: bool,
    /// The install's job directory on the device (src/rollout/job.rs).
    #[serde(default)]
    pub job: Option<String>,
    /// The reboot back into the old software was ordered (`boot_id` is the one before it).
    #[serde(default)]
    pub reboot_back: bool,
}

impl UpdateRecord {
    pub fn new(device: &str, artifact: &str) -> Self {
        let now = jiff::Timestamp::now();
        UpdateRecord {
            device: device.to_string(),
            artifact: artifact.to_string(),
            step: Step::Pending,
            percent: None,
            started: now,
            changed: now,
            last_line: String::new(),
            reason: None,
            rollout: String::new(),
            cli: None,
            previous: None,
            installed: None,
            source: None,
            boot_id: None,
            rebooted: false,
            job: None,
            reboot_back: false,
        }
    }
}

/// A name (a device's, a fleet's) as one file name: ASCII letters, digits, `-`, `_` and `.`
/// (not first) stay, everything else is `%XX` — so `gw:1` and `gw_1` never share a file, and
/// `..`, `/` or a control character can never leave the directory or reach a terminal through
/// a path.
pub fn file_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for (i, b) in name.bytes().enumerate() {
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || (b == b'.' && i > 0) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    if out.is_empty() {
        out.push_str("%00");
    }
    out
}

/// One JSON file per device under `dir` (the state dir's `updates/`).
#[derive(Debug, Clone)]
pub struct StateStore {
    dir: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{device}: cannot go from {from:?} to {to:?}")]
    IllegalTransition {
        device: String,
        from: Step,
        to: Step,
    },
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Corrupt { path: String, message: String },
    /// The record on disk moved on without us (another process drove the device).
    #[error(
        "{device}: the record on disk is {on_disk:?}, not {expected:?}: another process updated it"
    )]
    Stale {
        device: String,
        expected: Step,
        on_disk: Step,
    },
}

fn io_error(path: &Path, source: std::io::Error) -> StoreError {
    StoreError::Io {
        path: path.display().to_string(),
        source,
    }
}

impl StateStore {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        StateStore { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path_of(&self, device: &str) -> PathBuf {
        self.dir.join(format!("{}.json", file_name(device)))
    }

    /// `record` as a temp file next to its place: (temp path, final path), not yet durable.
    fn write_temp(
        &self,
        record: &UpdateRecord,
        sync: bool,
    ) -> Result<(PathBuf, PathBuf), StoreError> {
        let path = self.path_of(&record.device);
        let tmp = path.with_extension("json.tmp");
        let body = serde_json::to_vec_pretty(record).map_err(|e| StoreError::Corrupt {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        let mut f = crate::fsx::private_file()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)
            .map_err(|e| io_error(&tmp, e))?;
        f.write_all(&body).map_err(|e| io_error(&tmp, e))?;
        if sync {
            f.sync_all().map_err(|e| io_error(&tmp, e))?;
        }
        Ok((tmp, path))
    }

    /// Write `record` durably: temp file, fsync, rename, fsync of the directory.
    pub fn save(&self, record: &UpdateRecord) -> Result<(), StoreError> {
        crate::fsx::private_dir_all(&self.dir).map_err(|e| io_error(&self.dir, e))?;
        let (tmp, path) = self.write_temp(record, true)?;
        std::fs::rename(&tmp, &path).map_err(|e| io_error(&path, e))?;
        std::fs::File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| io_error(&self.dir, e))
    }

    /// Write many records at once (a new rollout's pending devices): each file is renamed into
    /// place, then one `syncfs` makes them all durable, instead of two fsyncs per file.
    pub fn save_all(&self, records: &[UpdateRecord]) -> Result<(), StoreError> {
        crate::fsx::private_dir_all(&self.dir).map_err(|e| io_error(&self.dir, e))?;
        for record in records {
            let (tmp, path) = self.write_temp(record, false)?;
            std::fs::rename(&tmp, &path).map_err(|e| io_error(&path, e))?;
        }
        let dir = std::fs::File::open(&self.dir).map_err(|e| io_error(&self.dir, e))?;
        rustix::fs::syncfs(&dir).map_err(|e| io_error(&self.dir, e.into()))?;
        Ok(())
    }

    /// The device's record as it is on disk now, if it has one.
    pub fn load(&self, device: &str) -> Result<Option<UpdateRecord>, StoreError> {
        let path = self.path_of(device);
        match std::fs::read(&path) {
            Ok(body) => serde_json::from_slice(&body)
                .map(Some)
                .map_err(|e| StoreError::Corrupt {
                    path: path.display().to_string(),
                    message: e.to_string(),
                }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error(&path, e)),
        }
    }

    /// Move `record` to `next` and persist it before returning: callers act only after this.
    /// Refused when the record on disk is not the one `record` was read as (another process
    /// moved it on): a driver never acts on a stale record.
    pub fn transition(
        &self,
        record: &mut UpdateRecord,
        next: Step,
        reason: Option<String>,
    ) -> Result<(), StoreError> {
        if !record.step.can_go_to(next) {
            return Err(StoreError::IllegalTransition {
                device: record.device.clone(),
                from: record.step,
                to: next,
            });
        }
        if let Some(disk) = self.load(&record.device)?
            && (disk.step != record.step || disk.changed != record.changed)
        {
            return Err(StoreError::Stale {
                device: record.device.clone(),
                expected: record.step,
                on_disk: disk.step,
            });
        }
        let mut updated = record.clone();
        updated.step = next;
        updated.changed = jiff::Timestamp::now();
        if reason.is_some() {
            updated.reason = reason;
        }
        self.save(&updated)?;
        *record = updated;
        Ok(())
    }

    /// Every persisted update, for the update view after a restart. A corrupt file is reported,
    /// not fatal: the other devices still load.
    pub fn load_all(&self) -> (Vec<UpdateRecord>, Vec<StoreError>) {
        let mut records = Vec::new();
        let mut errors = Vec::new();
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return (records, errors);
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            match std::fs::read(&path)
                .map_err(|e| e.to_string())
                .and_then(|b| serde_json::from_slice::<UpdateRecord>(&b).map_err(|e| e.to_string()))
            {
                Ok(r) => records.push(r),
                Err(message) => errors.push(StoreError::Corrupt {
                    path: path.display().to_string(),
                    message,
                }),
            }
        }
        records.sort_by(|a, b| a.device.cmp(&b.device));
        (records, errors)
    }

    /// Updates a restarted console must pick up again (not in a final step).
    pub fn unfinished(&self) -> Vec<UpdateRecord> {
        self.load_all()
            .0
            .into_iter()
            .filter(|r| !r.step.is_final())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitions_follow_the_machine() {
        use Step::*;
        assert!(Pending.can_go_to(Downloading));
        assert!(Downloading.can_go_to(Installing));
        assert!(Installing.can_go_to(Rebooting));
        assert!(Rebooting.can_go_to(Verifying));
        assert!(Verifying.can_go_to(Committed));
        assert!(Rebooting.can_go_to(RolledBack));
        assert!(
            !Pending.can_go_to(Committed),
            "never commit without verifying"
        );
        assert!(!Committed.can_go_to(RolledBack), "final is final");
        assert!(!Installing.can_go_to(Pending));
        assert!(Verifying.can_go_to(RollingBack));
        assert!(RollingBack.can_go_to(RolledBack));
        assert!(!Pending.can_go_to(RolledBack), "nothing to roll back yet");
        assert!(!RollingBack.can_go_to(Committed));
        assert!(Verifying.can_go_to(Held), "a canary holds after verifying");
        assert!(Held.can_go_to(Committed) && Held.can_go_to(RollingBack));
        assert!(
            !Installing.can_go_to(Held),
            "only a verified update is held"
        );
        assert!(Skipped.is_final() && !Skipped.can_go_to(Installing));
    }

    #[test]
    fn every_transition_is_on_disk_before_it_returns_and_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let store = StateStore::new(dir.path().join("updates"));
        let mut r = UpdateRecord::new("gw/01", "release-2");
        store.save(&r).unwrap();
        store.transition(&mut r, Step::Downloading, None).unwrap();
        store.transition(&mut r, Step::Installing, None).unwrap();
        store.transition(&mut r, Step::Rebooting, None).unwrap();

        // "Restart": a new store over the same directory sees the device mid-reboot.
        let again = StateStore::new(dir.path().join("updates"));
        let unfinished = again.unfinished();
        assert_eq!(unfinished.len(), 1);
        assert_eq!(unfinished[0].step, Step::Rebooting);
        assert_eq!(unfinished[0].device, "gw/01");
        assert!(
            dir.path().join("updates/gw%2F01.json").exists(),
            "name kept inside the dir"
        );

        let err = store.transition(&mut r, Step::Committed, None).unwrap_err();
        assert!(
            err.to_string()
                .contains("cannot go from Rebooting to Committed"),
            "{err}"
        );
        assert_eq!(
            r.step,
            Step::Rebooting,
            "a refused transition changes nothing"
        );

        store
            .transition(
                &mut r,
                Step::RolledBack,
                Some("came back on the old artifact".into()),
            )
            .unwrap();
        assert!(again.unfinished().is_empty());
        let (all, errors) = again.load_all();
        assert!(errors.is_empty());
        assert_eq!(all[0].step, Step::RolledBack);
        assert_eq!(
            all[0].reason.as_deref(),
            Some("came back on the old artifact")
        );
    }

    #[test]
    fn a_corrupt_file_is_reported_and_the_rest_loads() {
        let dir = tempfile::tempdir().unwrap();
        let store = StateStore::new(dir.path());
        store.save(&UpdateRecord::new("a", "x")).unwrap();
        std::fs::write(dir.path().join("b.json"), b"{ not json").unwrap();
        let (records, errors) = store.load_all();
        assert_eq!(records.len(), 1);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].to_string().contains("b.json"));
    }

    #[test]
    fn names_never_collide_nor_leave_the_directory() {
        assert_ne!(file_name("gw:1"), file_name("gw_1"));
        assert_eq!(file_name("gw_1"), "gw_1");
        assert_eq!(file_name(".."), "%2E.");
        assert_eq!(file_name("site.prod"), "site.prod");
        assert_eq!(file_name("/abs/dir"), "%2Fabs%2Fdir");
        assert_eq!(file_name("d\x1b]52"), "d%1B%5D52");
        assert_eq!(file_name(""), "%00");
        let dir = tempfile::tempdir().unwrap();
        let store = StateStore::new(dir.path());
        for d in ["gw:1", "gw_1"] {
            store.save(&UpdateRecord::new(d, "a")).unwrap();
        }
        assert_eq!(store.load_all().0.len(), 2, "two devices, two records");
    }

    #[test]
    fn a_transition_from_a_stale_record_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = StateStore::new(dir.path());
        let mut mine = UpdateRecord::new("gw-1", "release-2");
        store.save(&mine).unwrap();
        // Another process drives the device on from the same starting record.
        let mut theirs = mine.clone();
        std::thread::sleep(std::time::Duration::from_millis(2));
        store
            .transition(&mut theirs, Step::Installing, None)
            .unwrap();
        let err = store
            .transition(&mut mine, Step::Installing, None)
            .unwrap_err();
        assert!(matches!(err, StoreError::Stale { .. }), "{err}");
        assert_eq!(store.load("gw-1").unwrap().unwrap(), theirs);
    }
}
