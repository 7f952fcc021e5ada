//! Port forwards to a device (#15, src/backend/forward.rs): a port on the device's own
//! loopback (its local web UI, an agent's API), reached through the device's
//! [`Session`](super::session::Session): a `direct-tcpip` channel on its cached SSH session
//! (what `ssh -L` does, with no second login), or a plain connect for a `host: local` device.

use std::sync::Arc;

use anyhow::anyhow;
use async_trait::async_trait;

use super::Inner;
use crate::backend::forward::{Connected, Connector};
use crate::model::{ResourceKey, ResourceKind};

pub struct DevicePort {
    inner: Arc<Inner>,
    device: String,
    port: u16,
}

pub fn connector(
    inner: &Arc<Inner>,
    target: &ResourceKey,
    port: u16,
) -> anyhow::Result<Arc<dyn Connector>> {
    if target.kind != ResourceKind::Device {
        anyhow::bail!("forwards go to devices");
    }
    inner
        .device(&target.id)
        .ok_or_else(|| anyhow!("no device {}", target.id))?;
    Ok(Arc::new(DevicePort {
        inner: inner.clone(),
        device: target.id.clone(),
        port,
    }))
}

#[async_trait]
impl Connector for DevicePort {
    fn target(&self) -> String {
        format!("{}:{} (127.0.0.1 there)", self.device, self.port)
    }

    /// Each connection asks for the session again: a session lost since the last one is
    /// made anew here (the poller would too), not kept broken.
    async fn connect(&self) -> anyhow::Result<Connected> {
        let dev = self
            .inner
            .device(&self.device)
            .ok_or_else(|| anyhow!("no device {}", self.device))?;
        let session = self.inner.session(dev).await?;
        Ok(session.open_tcp(self.port).await?.into())
    }
}
