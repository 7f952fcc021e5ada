//! The handle of every backend task: dropping it aborts the task.

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

    /// Wait until the task ends by itself (a one-off feed); it is not aborted.
    pub async fn join(mut self) {
        if let Some(h) = self.0.take() {
            let _ = h.await;
        }
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

#[cfg(test)]
mod tests {
    use super::*;

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
