//! Bounded reads of OpenSSH's text files (ssh_config and its Includes, known_hosts). They are
//! small in practice; a cap keeps a mistaken path (`known_hosts: /dev/zero`) or a runaway file
//! from eating the operator's memory, and the error names the file.

use std::io::Read;
use std::path::{Path, PathBuf};

/// Largest file read (the same cap as fleetdeck's own YAML files).
pub const MAX_BYTES: u64 = 4 * 1024 * 1024;

/// A file that could not be used, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {why}", path.display())]
pub struct FileError {
    pub path: PathBuf,
    pub why: String,
}

impl FileError {
    pub fn new(path: &Path, why: impl Into<String>) -> FileError {
        FileError {
            path: path.to_path_buf(),
            why: why.into(),
        }
    }
}

/// The text of `path`, None when it does not exist. Bytes that are not UTF-8 are replaced
/// (OpenSSH reads these files as bytes; a stray byte must not hide the rest of the file).
pub fn read(path: &Path) -> Result<Option<String>, FileError> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(FileError::new(path, e.to_string())),
    };
    // Sized up front: `take` hides the file's size from `read_to_end`, which would otherwise
    // grow the buffer step by step (a fleet's known_hosts is read at every login).
    let size = file.metadata().map_or(0, |m| m.len()).min(MAX_BYTES + 1);
    let mut buf = Vec::with_capacity(usize::try_from(size).unwrap_or(0) + 1);
    file.take(MAX_BYTES + 1)
        .read_to_end(&mut buf)
        .map_err(|e| FileError::new(path, e.to_string()))?;
    if buf.len() as u64 > MAX_BYTES {
        return Err(FileError::new(
            path,
            format!("larger than {} MiB; not read", MAX_BYTES >> 20),
        ));
    }
    Ok(Some(match String::from_utf8(buf) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_is_none_endless_is_an_error_naming_the_file() {
        assert_eq!(read(Path::new("/nonexistent/fleetdeck/x")), Ok(None));
        let e = read(Path::new("/dev/zero")).unwrap_err();
        assert_eq!(e.to_string(), "/dev/zero: larger than 4 MiB; not read");
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("bytes");
        std::fs::write(&f, b"a\xffb\nc\n").unwrap();
        assert_eq!(read(&f).unwrap().unwrap(), "a\u{fffd}b\nc\n");
        assert!(read(dir.path()).is_err(), "a directory is an error");
    }
}
