//! The cached connection of a source (a negotiated Docker client, a device's SSH session, a
//! Kubernetes client): made on first use inside a task or an async call, never at
//! construction (an unreachable source must not hang the console), shared by the one-shot
//! calls, and forgotten after a transport error so the next call connects again.

use std::future::Future;

/// One cached connection. The lock is held while connecting, so callers that arrive
/// meanwhile wait for that connection instead of opening their own.
#[derive(Debug)]
pub struct Cached<C> {
    slot: tokio::sync::Mutex<Option<C>>,
}

impl<C> Default for Cached<C> {
    fn default() -> Self {
        Cached {
            slot: tokio::sync::Mutex::new(None),
        }
    }
}

impl<C: Clone> Cached<C> {
    /// The cached connection, or a new one from `connect` (kept for the next caller).
    pub async fn get_or_connect<E, Fut>(&self, connect: impl FnOnce() -> Fut) -> Result<C, E>
    where
        Fut: Future<Output = Result<C, E>>,
    {
        self.get_or_connect_if(|_| true, connect).await
    }

    /// Like [`Cached::get_or_connect`], but a cached connection that is no longer `usable`
    /// (a session the peer closed) is dropped and replaced.
    pub async fn get_or_connect_if<E, Fut>(
        &self,
        usable: impl FnOnce(&C) -> bool,
        connect: impl FnOnce() -> Fut,
    ) -> Result<C, E>
    where
        Fut: Future<Output = Result<C, E>>,
    {
        let mut slot = self.slot.lock().await;
        if let Some(c) = slot.as_ref()
            && usable(c)
        {
            return Ok(c.clone());
        }
        *slot = None;
        let c = connect().await?;
        *slot = Some(c.clone());
        Ok(c)
    }

    /// Keep `c` as the connection (one made elsewhere, e.g. while checking a host key).
    pub async fn put(&self, c: C) {
        *self.slot.lock().await = Some(c);
    }

    /// Drop the cached connection: the next caller connects again.
    pub async fn forget(&self) {
        *self.slot.lock().await = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn connects_once_until_forgotten_or_unusable() {
        let cached: Cached<u32> = Cached::default();
        let mut made = 0;
        for _ in 0..3 {
            let c = cached
                .get_or_connect(|| {
                    made += 1;
                    async move { Ok::<_, ()>(made) }
                })
                .await;
            assert_eq!(c, Ok(1));
        }
        cached.forget().await;
        let c = cached.get_or_connect(|| async { Ok::<_, ()>(2) }).await;
        assert_eq!(c, Ok(2));
        let c = cached
            .get_or_connect_if(|c| *c != 2, || async { Ok::<_, ()>(3) })
            .await;
        assert_eq!(c, Ok(3));
        let failed = cached.get_or_connect_if(|_| false, || async { Err::<u32, _>("down") });
        assert_eq!(failed.await, Err("down"));
        // A failed connect leaves nothing cached.
        let c = cached.get_or_connect(|| async { Ok::<_, ()>(4) }).await;
        assert_eq!(c, Ok(4));
    }
}
