//! Frame pacing: never more frames than the terminal, or the link in front of it, can take.
//!
//! Keys redraw at once (the operator waits for them). Everything else — log lines, watch
//! updates, stats — waits for the next frame slot: at most `max_fps` frames a second, and,
//! with a byte budget, a frame of N bytes keeps the next one back for N / budget seconds.
//! Over a slow SSH link the bytes a flood of log lines would paint pile up in sshd's channel
//! window (megabytes) long before a write blocks, and every key queues behind them; pacing by
//! bytes keeps the link empty enough that a key's frame goes out within a round trip.

use std::time::{Duration, Instant};

/// `max_fps` when the config sets none.
pub const DEFAULT_MAX_FPS: u32 = 30;

/// The byte budget when the console runs over SSH and the config sets none: what a 256 kbit/s
/// link carries in half its time, so keys and their frames still get through.
pub const DEFAULT_SSH_BUDGET: u64 = 16 * 1024;

/// When the next non-urgent frame may be drawn.
#[derive(Debug, Clone)]
pub struct Pace {
    min_interval: Duration,
    /// Bytes per second; None = no byte budget.
    budget: Option<u64>,
    last_draw: Option<Instant>,
    /// How long the last frame's bytes hold the next one back.
    hold: Duration,
}

impl Pace {
    /// `max_fps` (0 is taken as 1) and a byte budget per second (None or 0: none).
    pub fn new(max_fps: u32, budget: Option<u64>) -> Pace {
        Pace {
            min_interval: Duration::from_secs(1) / max_fps.max(1),
            budget: budget.filter(|b| *b > 0),
            last_draw: None,
            hold: Duration::ZERO,
        }
    }

    /// The budget of a console started with `configured` (`max_bytes_per_sec:`; 0 = none): the
    /// SSH default when the environment says it runs in an SSH session.
    pub fn budget_for(
        configured: Option<u64>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Option<u64> {
        match configured {
            Some(0) => None,
            Some(b) => Some(b),
            None => ["SSH_CONNECTION", "SSH_TTY"]
                .iter()
                .any(|k| env(k).is_some_and(|v| !v.is_empty()))
                .then_some(DEFAULT_SSH_BUDGET),
        }
    }

    /// The earliest time the next non-urgent frame may be drawn.
    pub fn due(&self) -> Instant {
        match self.last_draw {
            Some(t) => t + self.min_interval.max(self.hold),
            None => Instant::now(),
        }
    }

    /// A frame of `bytes` was written at `at`.
    pub fn drawn(&mut self, at: Instant, bytes: u64) {
        self.last_draw = Some(at);
        self.hold = match self.budget {
            Some(b) => Duration::from_secs_f64(bytes as f64 / b as f64),
            None => Duration::ZERO,
        };
    }

    pub fn has_drawn(&self) -> bool {
        self.last_draw.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_spaced_by_max_fps_without_a_budget() {
        let mut p = Pace::new(30, None);
        let t0 = Instant::now();
        p.drawn(t0, 1_000_000);
        assert_eq!(p.due() - t0, Duration::from_secs(1) / 30);
        assert_eq!(Pace::new(0, Some(0)).min_interval, Duration::from_secs(1));
    }

    #[test]
    fn a_big_frame_holds_the_next_one_back_by_its_bytes() {
        let mut p = Pace::new(30, Some(16_000));
        let t0 = Instant::now();
        p.drawn(t0, 4_000);
        assert_eq!(p.due() - t0, Duration::from_millis(250));
        // A small frame: max_fps decides again.
        p.drawn(t0, 10);
        assert_eq!(p.due() - t0, Duration::from_secs(1) / 30);
    }

    #[test]
    fn the_budget_defaults_on_over_ssh_and_0_turns_it_off() {
        let ssh = |k: &str| (k == "SSH_CONNECTION").then(|| "10.0.0.1 5 10.0.0.2 22".to_string());
        let local = |_: &str| None;
        assert_eq!(Pace::budget_for(None, ssh), Some(DEFAULT_SSH_BUDGET));
        assert_eq!(Pace::budget_for(None, local), None);
        assert_eq!(Pace::budget_for(Some(0), ssh), None);
        assert_eq!(Pace::budget_for(Some(4096), local), Some(4096));
    }
}
