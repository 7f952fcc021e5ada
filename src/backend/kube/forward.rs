//! Port forwards to a pod (#15, src/backend/forward.rs): kube's `Api::<Pod>::portforward`,
//! the `portforward.k8s.io` websocket subprotocol (one data and one error channel per port;
//! the server's first frame on each names the port as two little-endian bytes), one
//! websocket per accepted connection, as kubectl does per connection.

use std::sync::Arc;

use anyhow::anyhow;
use async_trait::async_trait;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;

use super::Inner;
use super::error;
use super::map::split_id;
use crate::backend::forward::{Connected, Connector};
use crate::model::{ResourceKey, ResourceKind};

pub struct PodPort {
    pods: Api<Pod>,
    ns: String,
    pod: String,
    port: u16,
}

/// A connector to `port` of the pod `target`, after checking the pod exists (a typo fails
/// when the forward opens, not on its first connection).
pub async fn connector(
    inner: &Inner,
    target: &ResourceKey,
    port: u16,
) -> anyhow::Result<Arc<dyn Connector>> {
    if target.kind != ResourceKind::Pod {
        anyhow::bail!("forwards go to pods");
    }
    let client = inner.client().await.map_err(|e| anyhow!(e))?;
    let (ns, pod) = split_id(&target.id);
    let ns = ns
        .map(str::to_string)
        .or_else(|| inner.namespace.clone())
        .unwrap_or_else(|| "default".into());
    let pods: Api<Pod> = Api::namespaced(client, &ns);
    pods.get(pod)
        .await
        .map_err(|e| anyhow!(error::text(inner, "get", "pods", &e)))?;
    Ok(Arc::new(PodPort {
        pods,
        ns,
        pod: pod.to_string(),
        port,
    }))
}

#[async_trait]
impl Connector for PodPort {
    fn target(&self) -> String {
        format!("pod {}/{}:{}", self.ns, self.pod, self.port)
    }

    async fn connect(&self) -> anyhow::Result<Connected> {
        let mut pf = self
            .pods
            .portforward(&self.pod, &[self.port])
            .await
            .map_err(|e| anyhow!("portforward {}/{}: {e}", self.ns, self.pod))?;
        let stream = pf
            .take_stream(self.port)
            .ok_or_else(|| anyhow!("portforward gave no stream for port {}", self.port))?;
        // The server's error channel (nothing listens on the port, ...) ends the data stream;
        // its words become the forward's LAST ERROR. kube's forwarder task lives as long as
        // the stream, not the `Portforwarder`.
        Ok(Connected {
            stream: Box::new(stream),
            error: pf
                .take_error(self.port)
                .map(|e| Box::pin(e) as futures::future::BoxFuture<'static, Option<String>>),
        })
    }
}
