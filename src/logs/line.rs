//! One line of the log ring as the view reads it: borrowed from the ring's blocks, nothing
//! copied until a caller asks for an owned `LogLine` or `StyledText`.

use std::sync::Arc;

use crate::model::{LogLine, StyleRun, StyledText};

#[derive(Debug, Clone, Copy)]
pub struct LineRef<'a> {
    /// Unix time in nanoseconds, when the engine gave one.
    pub ts: Option<i64>,
    /// The producing container/task/pod in a view that interleaves several.
    pub source: Option<&'a Arc<str>>,
    /// Sanitised text.
    pub text: &'a str,
    /// Written by fleetdeck (`logs::marker`), not by the source.
    pub marker: bool,
    /// Style runs, offsets in the ring's block: `base` is where `text` starts there.
    runs: &'a [StyleRun],
    base: u32,
}

impl<'a> LineRef<'a> {
    pub(super) fn new(
        ts: Option<i64>,
        source: Option<&'a Arc<str>>,
        text: &'a str,
        marker: bool,
        runs: &'a [StyleRun],
        base: u32,
    ) -> Self {
        LineRef {
            ts,
            source,
            text,
            marker,
            runs,
            base,
        }
    }

    /// The colour runs, byte offsets in `text`.
    pub fn runs(&self) -> impl ExactSizeIterator<Item = StyleRun> + 'a {
        let base = self.base;
        self.runs.iter().map(move |r| StyleRun {
            start: r.start.saturating_sub(base),
            end: r.end.saturating_sub(base),
            style: r.style,
        })
    }

    pub fn styled(&self) -> StyledText {
        StyledText {
            text: self.text.to_owned(),
            runs: self.runs().collect(),
        }
    }

    pub fn to_line(&self) -> LogLine {
        LogLine {
            ts: self.ts,
            source: self.source.cloned(),
            text: self.styled(),
            marker: self.marker,
        }
    }
}
