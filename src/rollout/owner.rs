//! Who may drive what: a rollout is driven only by the process holding its `owner.lock`, a
//! device only by the process holding its `locks/<device>.lock`. Both are `flock`s, so the
//! kernel releases them when the process ends, however it ends (crash, SIGKILL, a dropped
//! host): a lock that cannot be taken means a live owner, never a stale file to clean up.
//!
//! The owner writes its pid into the file after locking, so another process can say who holds
//! it ("driven by fleetdeck pid 4242").

use std::io::{Read, Seek, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// A held lock; released when dropped (or when the process ends).
#[derive(Debug)]
pub struct Held {
    _file: std::fs::File,
}

/// Someone else holds it; their pid when they wrote one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy {
    pub pid: Option<u32>,
}

impl std::fmt::Display for Busy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.pid {
            Some(pid) => write!(f, "another fleetdeck process (pid {pid})"),
            None => write!(f, "another fleetdeck process"),
        }
    }
}

/// Take the lock at `path` without waiting: Ok(Ok(held)), Ok(Err(busy)), or Err when the file
/// cannot be opened.
pub fn try_lock(path: &Path) -> Result<Result<Held, Busy>, String> {
    if let Some(dir) = path.parent() {
        crate::fsx::private_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let locked = rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive);
    if locked.is_err() {
        let mut text = String::new();
        let _ = file.read_to_string(&mut text);
        return Ok(Err(Busy {
            pid: text.trim().parse().ok(),
        }));
    }
    // Ours: say who we are (best effort: the lock itself is what counts).
    let _ = file
        .set_len(0)
        .and_then(|()| file.rewind())
        .and_then(|()| writeln!(file, "{}", std::process::id()));
    Ok(Ok(Held { _file: file }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_holder_at_a_time_and_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r/owner.lock");
        let held = try_lock(&path).unwrap().unwrap();
        // A second open file description conflicts, as another process would.
        let busy = try_lock(&path).unwrap().unwrap_err();
        assert_eq!(busy.pid, Some(std::process::id()));
        drop(held);
        assert!(try_lock(&path).unwrap().is_ok());
    }
}
