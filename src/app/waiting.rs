//! Lists asked for and not answered yet. Until a source's first list of a kind arrives, its
//! empty table means "we do not know", never "there are none": the view says `loading…`, and
//! after [`NO_ANSWER_AFTER`] that the source did not answer (an API server that accepts the
//! list request and then hangs looked like an empty namespace, with a green header).

use std::time::{Duration, Instant};

use super::state::ListNote;

/// How long a first list may take before the view says the source does not answer (the CLI
/// gives up after the same time).
pub const NO_ANSWER_AFTER: Duration = Duration::from_secs(10);

/// A watch started and not answered yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstList {
    pub since: Instant,
    /// Where the list was asked: the API server, socket or URL (else the source id).
    pub endpoint: String,
}

impl FirstList {
    pub fn new(endpoint: impl Into<String>) -> Self {
        FirstList {
            since: Instant::now(),
            endpoint: endpoint.into(),
        }
    }

    /// What the view says at `now`: still loading, or no answer after so many seconds.
    pub fn note(&self, now: Instant) -> ListNote {
        let waited = now.saturating_duration_since(self.since);
        if waited < NO_ANSWER_AFTER {
            ListNote {
                text: "loading…".into(),
                loading: true,
            }
        } else {
            ListNote {
                text: format!(
                    "no answer from {} after {}s (still waiting)",
                    self.endpoint,
                    waited.as_secs()
                ),
                loading: false,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loading_then_no_answer() {
        let f = FirstList::new("https://127.0.0.1:6443");
        let n = f.note(f.since + Duration::from_secs(3));
        assert_eq!((n.text.as_str(), n.loading), ("loading…", true));
        let n = f.note(f.since + Duration::from_secs(12));
        assert_eq!(
            (n.text.as_str(), n.loading),
            (
                "no answer from https://127.0.0.1:6443 after 12s (still waiting)",
                false
            )
        );
    }
}
