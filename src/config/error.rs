use std::path::{Path, PathBuf};

/// A configuration problem located in its file: displays as `file:line:col: message`.
///
/// `line == 0` means the problem has no position inside the file (it is missing, unreadable,
/// or the name of a theme/keymap does not exist); it then displays as `file: message`, because a
/// made-up `1:1` would send the user looking at the wrong place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: PathBuf,
    pub line: usize,
    pub col: usize,
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file.display(), self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file.display(),
                self.line,
                self.col,
                self.message
            )
        }
    }
}

impl std::error::Error for ConfigError {}

impl ConfigError {
    pub fn new(file: &Path, line: usize, col: usize, message: impl Into<String>) -> Self {
        ConfigError {
            file: file.to_path_buf(),
            line,
            col,
            message: message.into(),
        }
    }

    /// A problem with the file as a whole (no position).
    pub fn whole_file(file: &Path, message: impl Into<String>) -> Self {
        ConfigError::new(file, 0, 0, message)
    }

    /// The file could not be read.
    pub fn io(file: &Path, err: &std::io::Error) -> Self {
        let what = match err.kind() {
            std::io::ErrorKind::NotFound => "file not found".to_string(),
            std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
            std::io::ErrorKind::InvalidData => "not valid UTF-8 text".to_string(),
            _ => format!("cannot read: {err}"),
        };
        ConfigError::whole_file(file, what)
    }

    /// Whether the error points at a position inside the file.
    pub fn has_position(&self) -> bool {
        self.line > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_with_and_without_position() {
        let e = ConfigError::new(Path::new("/x/c.yaml"), 3, 7, "bad");
        assert_eq!(e.to_string(), "/x/c.yaml:3:7: bad");
        assert!(e.has_position());
        let e = ConfigError::whole_file(Path::new("/x/c.yaml"), "file not found");
        assert_eq!(e.to_string(), "/x/c.yaml: file not found");
    }
}
