//! What a group update (rollout) over SSH is asked to do: neutral, so views, the CLI and the
//! update engine (src/rollout) share it.

use std::fmt;

use serde::{Deserialize, Serialize};

/// When a rollout stops starting new devices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureLimit {
    /// After this many devices failed or rolled back (at least 1).
    Count(u32),
    /// After this percentage (1..=100) of the rollout's devices failed or rolled back.
    Percent(u8),
}

impl FailureLimit {
    /// `1`, `3`, `10%`.
    pub fn parse(s: &str) -> Result<FailureLimit, String> {
        let s = s.trim();
        let bad = || format!("expected a count (1, 2 ...) or a percentage (10%), not `{s}`");
        if let Some(p) = s.strip_suffix('%') {
            match p.trim().parse::<u8>() {
                Ok(n) if (1..=100).contains(&n) => Ok(FailureLimit::Percent(n)),
                _ => Err(bad()),
            }
        } else {
            match s.parse::<u32>() {
                Ok(n) if n >= 1 => Ok(FailureLimit::Count(n)),
                _ => Err(bad()),
            }
        }
    }

    /// Have `failures` out of `total` devices reached the limit?
    pub fn reached(self, failures: usize, total: usize) -> bool {
        match self {
            FailureLimit::Count(k) => failures >= k as usize,
            FailureLimit::Percent(p) => failures > 0 && failures * 100 >= usize::from(p) * total,
        }
    }
}

impl fmt::Display for FailureLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FailureLimit::Count(1) => f.write_str("1 failure"),
            FailureLimit::Count(n) => write!(f, "{n} failures"),
            FailureLimit::Percent(p) => write!(f, "{p}%"),
        }
    }
}

/// Install `artifact` (a URL the device downloads, or a local `.mender`/file path uploaded
/// first) on `devices` of one fleet, at most `parallel` at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateRequest {
    pub artifact: String,
    pub devices: Vec<String>,
    pub parallel: usize,
    pub max_failures: FailureLimit,
    /// Stop each device at `verified, waiting for commit` until the operator commits it (a
    /// canary step, like a Mender deployment's manual phase).
    #[serde(default)]
    pub hold_before_commit: bool,
    /// Devices of `devices` the update dialog's pre-flight check leaves out, each with why:
    /// the rollout records them `skipped` with that reason and never starts them.
    #[serde(default)]
    pub skip: Vec<SkippedDevice>,
}

/// A device a rollout does not start, and why ("the failed flag is set").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedDevice {
    pub device: String,
    pub reason: String,
}

impl UpdateRequest {
    /// Stands for "any update" in action lists.
    pub const EMPTY: UpdateRequest = UpdateRequest {
        artifact: String::new(),
        devices: Vec::new(),
        parallel: 1,
        max_failures: FailureLimit::Count(1),
        hold_before_commit: false,
        skip: Vec::new(),
    };

    /// Most devices updated at once (`-p`, `--parallel`).
    pub const MAX_PARALLEL: usize = 100;

    /// A `--parallel` value: 1 to [`Self::MAX_PARALLEL`]. Zero is refused, not clamped, so that
    /// what the operator typed is what runs (the console dialog and the CLI say the same).
    pub fn parse_parallel(v: &str) -> Result<usize, String> {
        match v.trim().parse::<usize>() {
            Ok(n) if (1..=Self::MAX_PARALLEL).contains(&n) => Ok(n),
            _ => Err(format!(
                "a number of devices from 1 to {}, not `{}`",
                Self::MAX_PARALLEL,
                crate::term::sanitize::sanitize_short(v, 20)
            )),
        }
    }

    pub fn label(&self) -> String {
        let who = match self.devices.as_slice() {
            [one] => one.clone(),
            many => format!("{} devices", many.len()),
        };
        let hold = if self.hold_before_commit {
            ", hold before commit"
        } else {
            ""
        };
        let skip = match self.skip.len() {
            0 => String::new(),
            n => format!(", {n} skipped"),
        };
        format!(
            "update {who} to {} (parallel {}, stop after {}{hold}{skip})",
            self.artifact, self.parallel, self.max_failures
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_parse_and_trigger() {
        assert_eq!(FailureLimit::parse("1"), Ok(FailureLimit::Count(1)));
        assert_eq!(FailureLimit::parse(" 10% "), Ok(FailureLimit::Percent(10)));
        for bad in ["0", "0%", "101%", "x", "-1", ""] {
            assert!(FailureLimit::parse(bad).is_err(), "{bad}");
        }
        assert!(!FailureLimit::Count(2).reached(1, 10));
        assert!(FailureLimit::Count(2).reached(2, 10));
        assert!(!FailureLimit::Percent(20).reached(1, 10));
        assert!(FailureLimit::Percent(20).reached(2, 10));
        assert!(!FailureLimit::Percent(20).reached(0, 0));
        assert_eq!(FailureLimit::Percent(5).to_string(), "5%");
    }
}
