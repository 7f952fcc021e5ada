//! [`ConfigError`]: a problem in a config, theme, keymap or fleet file, with its position.

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
        let file = shown_path(&self.file);
        if self.line == 0 {
            write!(f, "{file}: {}", self.message)
        } else {
            write!(f, "{file}:{}:{}: {}", self.line, self.col, self.message)
        }
    }
}

/// Characters of a path shown in an error; a longer one keeps its start and its end.
const PATH_MAX: usize = 200;

/// The path as the terminal may show it: controls escaped (a theme or keymap *name* becomes part
/// of the path, and names can hold anything), and at most [`PATH_MAX`] characters.
fn shown_path(file: &Path) -> String {
    let clean = super::yaml::sanitize(&file.to_string_lossy());
    let n = clean.chars().count();
    if n <= PATH_MAX {
        return clean;
    }
    let half = PATH_MAX / 2;
    let head: String = clean.chars().take(half).collect();
    let tail: String = clean.chars().skip(n - half).collect();
    format!("{head}…{tail}")
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

    #[test]
    fn the_path_is_escaped_and_bounded_and_keeps_its_position() {
        let e = ConfigError::new(
            Path::new("/t/\u{1b}]52;c;SGVsbG8=\u{7}\u{9b}2J\u{202e}.yaml"),
            2,
            5,
            "bad",
        );
        let text = e.to_string();
        assert!(
            !text.chars().any(crate::term::sanitize::is_hidden),
            "{text:?}"
        );
        assert_eq!(
            text,
            "/t/\\u{1b}]52;c;SGVsbG8=\\u{7}\\u{9b}2J\\u{202e}.yaml:2:5: bad"
        );
        let long = format!("/themes/{}.yaml", "x".repeat(3_000_000));
        let text = ConfigError::whole_file(Path::new(&long), "file not found").to_string();
        assert!(text.chars().count() < 250, "{} chars", text.chars().count());
        assert!(text.starts_with("/themes/xxx"), "{text}");
        assert!(text.ends_with("xxx.yaml: file not found"), "{text}");
    }
}
