//! Files fleetdeck keeps for its user only — the state dir, update records, locks, the audit
//! and diagnostics logs: directories 0700 and files 0600, whoever created them first. Update
//! records hold artifact URLs (often presigned, with a token in them) and the logs name hosts.

use std::fs::{DirBuilder, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// `mkdir -p` with 0700 for every directory it creates, and the final directory tightened to
/// 0700 when it already existed and belongs to us (never a parent such as /tmp or $HOME).
pub fn private_dir_all(path: &Path) -> io::Result<()> {
    DirBuilder::new().recursive(true).mode(0o700).create(path)?;
    let meta = std::fs::metadata(path)?;
    let me = rustix::process::geteuid().as_raw();
    if meta.uid() == me && meta.permissions().mode() & 0o077 != 0 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Options that create a file readable by its owner only (an existing file keeps its mode:
/// see [`tighten`]).
pub fn private_file() -> OpenOptions {
    let mut o = OpenOptions::new();
    o.mode(0o600);
    o
}

/// Make an existing file of ours 0600 (one an older version created with the umask's mode).
pub fn tighten(path: &Path) -> io::Result<()> {
    let meta = std::fs::metadata(path)?;
    let me = rustix::process::geteuid().as_raw();
    if meta.uid() == me && meta.permissions().mode() & 0o077 != 0 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn directories_and_files_are_private_whoever_made_them() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path().join("a/b");
        private_dir_all(&d).unwrap();
        assert_eq!((mode(&tmp.path().join("a")), mode(&d)), (0o700, 0o700));
        let loose = tmp.path().join("loose");
        std::fs::create_dir(&loose).unwrap();
        std::fs::set_permissions(&loose, std::fs::Permissions::from_mode(0o755)).unwrap();
        private_dir_all(&loose).unwrap();
        assert_eq!(mode(&loose), 0o700);
        let f = d.join("f");
        private_file().write(true).create(true).open(&f).unwrap();
        assert_eq!(mode(&f), 0o600);
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
        tighten(&f).unwrap();
        assert_eq!(mode(&f), 0o600);
    }
}
