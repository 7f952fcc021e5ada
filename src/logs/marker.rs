//! The lines fleetdeck writes into a followed log itself: `── restarted 11:00:22 ──` where a
//! container's new instance begins, `── reconnected 11:00:25 ──` where the connection to the
//! engine or API dropped and the stream resumed. They are `LogLine`s with `marker` set, so
//! they sort, scroll, save and search like the rest; the view draws them in their own style,
//! and ASCII mode turns the box characters into `--` like any other text.

use std::sync::Arc;

use crate::model::{LogLine, StyledText};

/// Why a followed stream resumed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// A new instance of the container started (restart policy, `docker restart`, a crash).
    Restarted,
    /// The engine or API connection dropped and the stream was opened again.
    Reconnected,
    /// A new instance joined a followed group (a Swarm service's replacement task).
    Started,
}

impl Mark {
    fn word(self) -> &'static str {
        match self {
            Mark::Restarted => "restarted",
            Mark::Reconnected => "reconnected",
            Mark::Started => "started",
        }
    }
}

/// The marker line for `mark` at `at` (shown in local time), sorted at `ts` among the lines
/// (the new instance's start, so its first lines follow it) and carrying `source` in a view
/// that interleaves several.
pub fn marker(
    mark: Mark,
    at: jiff::Timestamp,
    ts: Option<i64>,
    source: Option<Arc<str>>,
) -> LogLine {
    let local = at.to_zoned(jiff::tz::TimeZone::system());
    LogLine {
        ts,
        source,
        text: StyledText {
            text: format!("── {} {} ──", mark.word(), local.strftime("%H:%M:%S")),
            runs: Vec::new(),
        },
        marker: true,
    }
}

/// Unix nanoseconds of `at` (a marker's sort key), None past 2262.
pub fn nanos(at: jiff::Timestamp) -> Option<i64> {
    i64::try_from(at.as_nanosecond()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_as_the_issue_shows_it() {
        let at: jiff::Timestamp = "2024-05-01T11:00:22Z".parse().unwrap();
        let l = marker(Mark::Restarted, at, nanos(at), Some("web".into()));
        assert!(l.marker);
        assert!(l.text.text.starts_with("── restarted "), "{}", l.text.text);
        assert!(l.text.text.ends_with(" ──"));
        // HH:MM:SS in whatever zone this machine is in.
        assert_eq!(
            l.text.text.chars().count(),
            "── restarted 11:00:22 ──".chars().count()
        );
        assert_eq!(l.ts, Some(1_714_561_222_000_000_000));
        let r = marker(Mark::Reconnected, at, None, None);
        assert!(r.text.text.starts_with("── reconnected "));
    }
}
