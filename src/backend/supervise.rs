//! Reconnecting with backoff, written once: a source that fails says why in the header
//! ("reconnecting in 4s: …") and is tried again after 1 s, 2 s, 4 s … 30 s, the delay reset by
//! the next success. [`supervise`] runs a watch's sessions under that rule; [`until_ok`] retries
//! one step (make a client, probe a server) until it succeeds. Both stop once the UI is gone.

use std::future::Future;
use std::time::Duration;

use super::report::{Gone, Reporter};

/// Exponential backoff for reconnect loops: 1s, 2s, 4s ... capped at 30s, reset on success.
#[derive(Debug, Clone)]
pub struct Backoff {
    next: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            next: Duration::from_secs(1),
        }
    }
}

impl Backoff {
    pub const MAX: Duration = Duration::from_secs(30);

    /// The delay to wait now; doubles the next one.
    pub fn next_delay(&mut self) -> Duration {
        let d = self.next;
        self.next = (self.next * 2).min(Self::MAX);
        d
    }

    pub fn reset(&mut self) {
        *self = Backoff::default();
    }
}

/// A backoff that reports: each wait first tells the header why and for how long.
#[derive(Debug)]
pub struct Reconnect {
    report: Reporter,
    backoff: Backoff,
    /// Names the loop in fleetdeck.log ("docker watch", "kube probe").
    what: &'static str,
}

impl Reconnect {
    pub fn new(report: &Reporter, what: &'static str) -> Self {
        Reconnect {
            report: report.clone(),
            backoff: Backoff::default(),
            what,
        }
    }

    /// The source answered: the next failure waits the shortest delay again.
    pub fn reset(&mut self) {
        self.backoff.reset();
    }

    /// The next delay, for a failure that is shown elsewhere than in the header.
    pub fn next_delay(&mut self) -> Duration {
        self.backoff.next_delay()
    }

    /// Say `error` in the header and wait out the next backoff delay.
    pub async fn wait(&mut self, error: String) -> Result<(), Gone> {
        let delay = self.backoff.next_delay();
        self.wait_for(error, delay).await
    }

    /// Say `error` in the header and wait `delay` (one the server asked for), leaving the
    /// backoff where it is.
    pub async fn wait_for(&self, error: String, delay: Duration) -> Result<(), Gone> {
        tracing::debug!(source = %self.report.source(), what = self.what, %error, ?delay, "reconnecting");
        self.report.reconnecting(error, delay).await?;
        tokio::time::sleep(delay).await;
        Ok(())
    }
}

/// How one session of a [`supervise`]d loop ended.
#[derive(Debug)]
pub enum Exit {
    /// The UI went away: stop for good.
    Closed,
    /// The source could not be reached: say so in the header, try again after the next
    /// backoff delay.
    Failed(String),
    /// The source answered, then failed: the backoff starts over (shortest delay).
    Lost(String),
    /// The source answered but cannot serve now (the session said why in the view): look
    /// again after this pause, without a status change; the backoff starts over.
    Pause(Duration),
}

impl From<Gone> for Exit {
    fn from(_: Gone) -> Self {
        Exit::Closed
    }
}

/// A watch's life: `Connecting`, then `session` after `session` until the UI goes away, each
/// failure reported and backed off.
pub async fn supervise<F, Fut>(report: &Reporter, what: &'static str, mut session: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Exit>,
{
    if report.connecting().await.is_err() {
        return;
    }
    let mut reconnect = Reconnect::new(report, what);
    loop {
        let error = match session().await {
            Exit::Closed => return,
            Exit::Failed(error) => error,
            Exit::Lost(error) => {
                reconnect.reset();
                error
            }
            Exit::Pause(delay) => {
                reconnect.reset();
                tokio::time::sleep(delay).await;
                continue;
            }
        };
        if reconnect.wait(error).await.is_err() {
            return;
        }
    }
}

/// Why one try of [`until_ok`] failed.
#[derive(Debug)]
pub enum Retry {
    /// Try again after the next backoff delay.
    Backoff(String),
    /// Try again after the delay the server asked for (HTTP 429 Retry-After).
    After(String, Duration),
}

/// Run `attempt` until it succeeds, each failure reported in the header and waited out.
pub async fn until_ok<T, F, Fut>(reconnect: &mut Reconnect, mut attempt: F) -> Result<T, Gone>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Retry>>,
{
    loop {
        match attempt().await {
            Ok(t) => return Ok(t),
            Err(Retry::Backoff(error)) => reconnect.wait(error).await?,
            Err(Retry::After(error, delay)) => reconnect.wait_for(error, delay).await?,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::BackendEvent;
    use crate::model::{SourceId, SourceStatus};

    #[test]
    fn backoff_doubles_and_caps() {
        let mut b = Backoff::default();
        let secs: Vec<u64> = (0..7).map(|_| b.next_delay().as_secs()).collect();
        assert_eq!(secs, vec![1, 2, 4, 8, 16, 30, 30]);
        b.reset();
        assert_eq!(b.next_delay().as_secs(), 1);
    }

    fn retry_in(ev: Option<BackendEvent>) -> (String, u64) {
        match ev {
            Some(BackendEvent::Status(
                _,
                SourceStatus::Reconnecting {
                    error,
                    retry_in_secs,
                },
            )) => (error, retry_in_secs),
            other => panic!("{other:?}"),
        }
    }

    // These wait the real delays (1 s, 2 s): tokio's paused clock is not in this build.
    #[tokio::test]
    async fn until_ok_reports_each_failure_with_its_delay() {
        let (tx, mut rx) = tokio::sync::mpsc::channel(8);
        let report = Reporter::new(SourceId::new("mender:x"), tx);
        let mut tries = 0;
        let got = until_ok(&mut Reconnect::new(&report, "test"), || {
            tries += 1;
            let n = tries;
            async move {
                match n {
                    1 => Err(Retry::Backoff("down".into())),
                    2 => Err(Retry::After("rate limited".into(), Duration::ZERO)),
                    3 => Err(Retry::Backoff("down".into())),
                    _ => Ok(n),
                }
            }
        })
        .await;
        assert_eq!(got, Ok(4));
        assert_eq!(retry_in(rx.recv().await), ("down".into(), 1));
        assert_eq!(retry_in(rx.recv().await), ("rate limited".into(), 0));
        // A server-chosen delay leaves the backoff where it was.
        assert_eq!(retry_in(rx.recv().await), ("down".into(), 2));
    }

    #[tokio::test]
    async fn supervise_starts_over_after_a_session_that_answered() {
        let (tx, mut rx) = tokio::sync::mpsc::channel(8);
        let report = Reporter::new(SourceId::new("docker:x"), tx);
        let mut n = 0;
        supervise(&report, "test", || {
            n += 1;
            let n = n;
            async move {
                match n {
                    1 => Exit::Lost("lost".into()),
                    2 => Exit::Failed("down".into()),
                    _ => Exit::Closed,
                }
            }
        })
        .await;
        assert!(matches!(
            rx.recv().await,
            Some(BackendEvent::Status(_, SourceStatus::Connecting))
        ));
        assert_eq!(retry_in(rx.recv().await), ("lost".into(), 1));
        assert_eq!(retry_in(rx.recv().await), ("down".into(), 2));
    }
}
