//! Log lines as the views hold them: sanitised text with style runs, their source and time.

use std::sync::Arc;

use ratatui::style::Style;

/// A run of `StyledText::text` (byte offsets) drawn with one style, parsed from SGR sequences.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StyleRun {
    pub start: u32,
    pub end: u32,
    pub style: Style,
}

/// Remote text after sanitising: printable characters only, colours kept as style runs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StyledText {
    pub text: String,
    pub runs: Vec<StyleRun>,
}

/// One log line in the neutral model.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LogLine {
    /// Unix time in nanoseconds, when the engine gave one; used to interleave sources.
    pub ts: Option<i64>,
    /// The producing container/task/pod when a view interleaves several; drawn as a coloured prefix.
    pub source: Option<Arc<str>>,
    pub text: StyledText,
    /// Written by fleetdeck, not by the source: a `── restarted 11:00:22 ──` marker where a
    /// followed stream re-attached (`logs::marker`). Drawn in its own style, never classified.
    pub marker: bool,
}

/// What the log view asks a backend for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogOpts {
    pub follow: bool,
    /// Lines of history per stream; None = all.
    pub tail: Option<usize>,
    /// Only lines newer than this many seconds ago.
    pub since_secs: Option<u64>,
    /// The previous (crashed) instance's logs instead of the running one's (Kubernetes).
    pub previous: bool,
}

impl Default for LogOpts {
    fn default() -> Self {
        LogOpts {
            follow: true,
            tail: Some(1000),
            since_secs: None,
            previous: false,
        }
    }
}
