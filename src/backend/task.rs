use tokio::task::JoinHandle;

/// A spawned backend task that stops when the handle is dropped, so closing a view or
/// switching the selection can never leak a stream.
#[derive(Debug)]
pub struct TaskHandle(Option<JoinHandle<()>>);

impl TaskHandle {
    pub fn spawn<F>(fut: F) -> Self
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        TaskHandle(Some(tokio::spawn(fut)))
    }

    /// A handle that owns nothing (a request that finished synchronously).
    pub fn none() -> Self {
        TaskHandle(None)
    }

    pub fn is_finished(&self) -> bool {
        self.0.as_ref().is_none_or(|h| h.is_finished())
    }
}

impl Drop for TaskHandle {
    fn drop(&mut self) {
        if let Some(h) = self.0.take() {
            h.abort();
        }
    }
}

/// Exponential backoff for reconnect loops: 1s, 2s, 4s ... capped at 30s, reset on success.
#[derive(Debug, Clone)]
pub struct Backoff {
    next: std::time::Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            next: std::time::Duration::from_secs(1),
        }
    }
}

impl Backoff {
    pub const MAX: std::time::Duration = std::time::Duration::from_secs(30);

    /// The delay to wait now; doubles the next one.
    pub fn next_delay(&mut self) -> std::time::Duration {
        let d = self.next;
        self.next = (self.next * 2).min(Self::MAX);
        d
    }

    pub fn reset(&mut self) {
        *self = Backoff::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let mut b = Backoff::default();
        let secs: Vec<u64> = (0..7).map(|_| b.next_delay().as_secs()).collect();
        assert_eq!(secs, vec![1, 2, 4, 8, 16, 30, 30]);
        b.reset();
        assert_eq!(b.next_delay().as_secs(), 1);
    }

    #[tokio::test]
    async fn dropping_the_handle_stops_the_task() {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<()>(1);
        let h = TaskHandle::spawn(async move {
            let _tx = tx;
            std::future::pending::<()>().await;
        });
        drop(h);
        assert!(
            rx.recv().await.is_none(),
            "sender dropped with the aborted task"
        );
    }
}
