//! Where a device update's transitions go: the state file (fsync, off the async threads),
//! then the audit log, then the in-memory view. A transition that cannot be written is an
//! error and the driver does not act on it.

use std::sync::Arc;

use super::state::{StateStore, Step, UpdateRecord};
use crate::audit::{AuditEntry, AuditLog};

/// Called with every change of a record (the update view and the CLI's progress lines).
pub type Publish = Arc<dyn Fn(&UpdateRecord) + Send + Sync>;

#[derive(Clone)]
pub struct Journal {
    store: StateStore,
    audit: Option<AuditLog>,
    source: String,
    publish: Publish,
}

impl Journal {
    pub fn new(store: StateStore, audit: Option<AuditLog>, source: &str, publish: Publish) -> Self {
        Journal {
            store,
            audit,
            source: source.to_string(),
            publish,
        }
    }

    /// Move `rec` to `next`, durably, before the caller acts on it.
    pub async fn step(
        &self,
        rec: &mut UpdateRecord,
        next: Step,
        reason: Option<String>,
    ) -> Result<(), String> {
        let from = rec.step;
        let store = self.store.clone();
        let mut moved = rec.clone();
        if next != from && next != Step::Committed {
            // Progress of the previous step means nothing in the next one; a commit is 100 %.
            moved.percent = None;
        }
        if from == Step::Pending {
            // Elapsed time counts from the device's start, not the rollout's.
            moved.started = jiff::Timestamp::now();
        }
        let moved = tokio::task::spawn_blocking(move || {
            store.transition(&mut moved, next, reason).map(|()| moved)
        })
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("cannot record the update state: {e}"))?;
        *rec = moved;
        if let Some(audit) = self.audit.clone() {
            // `devices/NAME`, like every other action on a device.
            let mut entry = AuditEntry::attempt(
                self.source.clone(),
                crate::audit::devices_target(std::slice::from_ref(&rec.device)),
                format!("update to {}", rec.artifact),
            );
            entry.phase = "transition".into();
            entry.ok = Some(!matches!(next, Step::Failed | Step::RolledBack));
            entry.result = Some(match &rec.reason {
                Some(r) if matches!(next, Step::Failed | Step::RolledBack | Step::RollingBack) => {
                    format!("{} → {}: {r}", from.label(), next.label())
                }
                _ => format!("{} → {}", from.label(), next.label()),
            });
            let written = tokio::task::spawn_blocking(move || audit.append(&entry)).await;
            (self.publish)(rec);
            // Nothing runs unaudited (review M1): the step is on disk, but the driver does not
            // act on it; a resumed driver continues from it once the log can be written.
            return match written {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(format!("stopped: {e}")),
                Err(e) => Err(format!("stopped: the audit log: {e}")),
            };
        }
        (self.publish)(rec);
        Ok(())
    }

    /// Persist fields that are not a transition (the previous artifact, the boot id).
    pub async fn save(&self, rec: &UpdateRecord) -> Result<(), String> {
        let store = self.store.clone();
        let r = rec.clone();
        tokio::task::spawn_blocking(move || store.save(&r))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("cannot record the update state: {e}"))?;
        (self.publish)(rec);
        Ok(())
    }

    /// The device's record as it is on disk now (another process may have moved it on).
    pub async fn on_disk(&self, device: &str) -> Option<UpdateRecord> {
        let (store, device) = (self.store.clone(), device.to_string());
        tokio::task::spawn_blocking(move || store.load(&device))
            .await
            .ok()?
            .ok()?
    }

    /// Show progress (percent, last line); not persisted: a restart resumes by step.
    pub fn progress(&self, rec: &UpdateRecord) {
        (self.publish)(rec);
    }
}
