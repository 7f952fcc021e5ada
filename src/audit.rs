//! Append-only audit log (JSON lines, fsync per entry).
//!
//! Every destructive action is written before it runs ("attempt") and after ("result"), or as
//! "refused" when read-only mode stops it, so the log tells what was tried even if the console
//! crashes mid-action.
//!
//! Durability over convenience: an action whose "attempt" cannot be written does not run
//! (`run`, `update`, every console action); the operator sees [`AuditError`] instead.
//!
//! Targets name the kind and the object, `devices/r1`; an action on several devices lists
//! them all (`devices/r1,devices/r2`), so one grep finds everything done to a device.
use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// RFC 3339
    pub time: String,
    /// Who: the real uid of the process, from the OS (environment variables cannot change it).
    pub uid: u32,
    /// That uid's name in the user database, for reading only (`uid:N` when it has none);
    /// `uid` is what counts.
    pub user: String,
    pub source: String,
    pub target: String,
    pub action: String,
    /// "attempt" before the action runs, "result" after it; "refused" when read-only mode stops it.
    pub phase: String,
    /// Outcome text for "result"/"refused".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ok: Option<bool>,
}

impl AuditEntry {
    /// The entry written before an action runs; `time` is now, `uid`/`user` the process's.
    pub fn attempt(
        source: impl Into<String>,
        target: impl Into<String>,
        action: impl Into<String>,
    ) -> AuditEntry {
        let uid = current_uid();
        AuditEntry {
            time: now(),
            uid,
            user: user_name(uid),
            source: source.into(),
            target: target.into(),
            action: action.into(),
            phase: "attempt".into(),
            result: None,
            ok: None,
        }
    }

    /// The entry written after the action of this attempt finished.
    pub fn result(&self, ok: bool, text: impl Into<String>) -> AuditEntry {
        AuditEntry {
            time: now(),
            phase: "result".into(),
            result: Some(text.into()),
            ok: Some(ok),
            ..self.clone()
        }
    }

    /// The entry written instead of running the action (read-only mode, a failed check).
    pub fn refused(&self, text: impl Into<String>) -> AuditEntry {
        AuditEntry {
            time: now(),
            phase: "refused".into(),
            result: Some(text.into()),
            ok: Some(false),
            ..self.clone()
        }
    }
}

fn now() -> String {
    jiff::Timestamp::now().to_string()
}

fn current_uid() -> u32 {
    rustix::process::getuid().as_raw()
}

/// The login name of `uid` from the user database (not `$USER`/`$LOGNAME`, which anyone can
/// set), else `uid:N`.
fn user_name(uid: u32) -> String {
    match nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid)) {
        Ok(Some(user)) if !user.name.is_empty() => user.name,
        _ => format!("uid:{uid}"),
    }
}

/// The audit log could not be written: the action it was for must not run.
#[derive(Debug, thiserror::Error)]
#[error("cannot write the audit log {}: {source}", path.display())]
pub struct AuditError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// The audit target of fleet devices: `devices/NAME`, comma-separated for several.
pub fn devices_target<S: AsRef<str>>(devices: &[S]) -> String {
    let kind = crate::model::ResourceKind::Device.name();
    devices
        .iter()
        .map(|d| format!("{kind}/{}", d.as_ref()))
        .collect::<Vec<_>>()
        .join(",")
}

/// Serialises appends within the process so two threads can never interleave inside one
/// line (O_APPEND makes each write atomic in position, but a large line may be split across
/// writes by the kernel/libc; the lock removes that doubt).
static APPEND_LOCK: Mutex<()> = Mutex::new(());

/// Cheap to clone; every append opens-appends-fsyncs so entries survive a crash.
#[derive(Debug, Clone)]
pub struct AuditLog {
    path: PathBuf,
}

impl AuditLog {
    pub fn new(path: impl AsRef<Path>) -> Self {
        AuditLog {
            path: path.as_ref().to_path_buf(),
        }
    }

    /// The log at its standard place, `$XDG_STATE_HOME/fleetdeck/audit.jsonl`.
    pub fn default_location() -> Self {
        AuditLog::new(crate::config::paths::audit_file())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Blocking (fsync): call from `spawn_blocking` or a backend task, never the UI loop.
    pub fn append(&self, entry: &AuditEntry) -> Result<(), AuditError> {
        let mut line = serde_json::to_vec(entry).map_err(|e| self.error(e.into()))?;
        line.push(b'\n');
        // A poisoned lock only means another append panicked; the file is still fine.
        let _guard = APPEND_LOCK.lock().unwrap_or_else(|p| p.into_inner());
        let mut file = self.open().map_err(|e| self.error(e))?;
        // One write call for the whole line keeps it contiguous for other processes too.
        file.write_all(&line)
            .and_then(|()| file.sync_data())
            .map_err(|e| self.error(e))
    }

    /// Can entries be appended (the directory and the file open for appending)? Writes
    /// nothing: for a check before an action that audits later (a rollout's transitions).
    /// Blocking, like [`AuditLog::append`].
    pub fn check_writable(&self) -> Result<(), AuditError> {
        self.open().map(drop).map_err(|e| self.error(e))
    }

    fn open(&self) -> std::io::Result<std::fs::File> {
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            // Audit data names hosts and targets: private to the user.
            crate::fsx::private_dir_all(dir)?;
        }
        OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(&self.path)
    }

    fn error(&self, source: std::io::Error) -> AuditError {
        AuditError {
            path: self.path.clone(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors_fill_fields() {
        let a = AuditEntry::attempt("docker:local", "web-1", "stop");
        assert_eq!(a.phase, "attempt");
        assert!(!a.user.is_empty());
        assert!(a.time.parse::<jiff::Timestamp>().is_ok(), "{}", a.time);
        assert_eq!((a.ok, a.result.as_deref()), (None, None));
        let r = a.result(true, "stopped");
        assert_eq!(
            (r.phase.as_str(), r.ok, r.result.as_deref()),
            ("result", Some(true), Some("stopped"))
        );
        assert_eq!(
            (r.source.as_str(), r.target.as_str(), r.action.as_str()),
            ("docker:local", "web-1", "stop")
        );
        let f = a.refused("read-only mode");
        assert_eq!((f.phase.as_str(), f.ok), ("refused", Some(false)));
    }

    /// The uid comes from the OS and the name from the user database, whatever `$USER` says
    /// (the binary test `audit_user_is_the_uid_not_the_environment` sets `USER=alice`).
    #[test]
    fn uid_and_name_from_the_os() {
        let a = AuditEntry::attempt("s", "t", "a");
        assert_eq!(a.uid, rustix::process::getuid().as_raw());
        assert_eq!(user_name(0), "root");
        assert_eq!(user_name(4_000_000_000), "uid:4000000000");
        let line = serde_json::to_string(&a).unwrap();
        assert!(line.contains(&format!("\"uid\":{}", a.uid)), "{line}");
    }

    #[test]
    fn an_unwritable_log_is_an_error_naming_it() {
        let tmp = tempfile::tempdir().unwrap();
        // What the review did: a directory where the file should be (root ignores modes).
        let path = tmp.path().join("audit.jsonl");
        std::fs::create_dir(&path).unwrap();
        let log = AuditLog::new(&path);
        let e = log
            .append(&AuditEntry::attempt("s", "t", "stop"))
            .unwrap_err();
        assert!(
            e.to_string()
                .starts_with(&format!("cannot write the audit log {}: ", path.display())),
            "{e}"
        );
        assert!(log.check_writable().is_err());
        let ok = AuditLog::new(tmp.path().join("x/audit.jsonl"));
        ok.check_writable().unwrap();
        assert_eq!(
            std::fs::read(ok.path()).unwrap(),
            b"",
            "a check writes nothing"
        );
    }

    #[test]
    fn device_targets_name_the_kind() {
        assert_eq!(devices_target(&["r1"]), "devices/r1");
        assert_eq!(devices_target(&["r1", "r2"]), "devices/r1,devices/r2");
    }

    #[test]
    fn append_creates_private_dir_and_file() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let log = AuditLog::new(tmp.path().join("a/b/audit.jsonl"));
        let e = AuditEntry::attempt("s", "t\nwith newline", "stop");
        log.append(&e).unwrap();
        log.append(&e.result(false, "boom")).unwrap();
        let text = std::fs::read_to_string(log.path()).unwrap();
        let lines: Vec<_> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        let v: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
        assert_eq!(v["phase"], "result");
        assert_eq!(v["ok"], false);
        assert_eq!(v["target"], "t\nwith newline");
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(log.path()), 0o600);
        assert_eq!(mode(&tmp.path().join("a/b")), 0o700);
    }
}
