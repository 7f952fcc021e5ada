//! The Kubernetes backend: one source per kubeconfig context (`kube:<context>`), scoped to a
//! namespace or to all of them.
//!
//! Construction never touches the network: the kubeconfig is parsed up front (a broken one is
//! reported as the source's status), the client is made on first use inside a task, and every
//! list is a `kube::runtime::watcher` (paged list, then watch from the resourceVersion, relist
//! on 410 Gone) feeding a reflector-like store of mapped rows that is sent as snapshots.
//!
//! Files: `map` (objects → rows), `watch`, `logs` (+ `follow`: a followed container kept
//! attached across restarts and reconnects), `exec` (shell and exec over the websocket exec
//! API), `actions` (scale, rollout restart/undo, delete, describe), `error` (human text).

pub mod actions;
pub mod error;
pub mod exec;
mod follow;
mod forward;
pub mod limit;
pub mod logs;
pub mod map;
pub mod objects;
pub mod timeline;
pub mod watch;

use std::sync::{Arc, Mutex};

use anyhow::anyhow;
use async_trait::async_trait;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client};

use crate::backend::conn::Cached;
use crate::backend::report::log_task;
use crate::backend::{Backend, EventTx, ShellOpts, ShellSession, StreamId, TaskHandle};
use crate::model::{LogOpts, ResourceAction, ResourceKey, ResourceKind, SourceId};

/// What every kube source built from one kubeconfig shares: the parsed file and which contexts
/// are shown (in order; the first one also serves the `:ctx` list, so it is listed once).
#[derive(Debug)]
pub struct KubeShared {
    kubeconfig: Result<Kubeconfig, String>,
    active: Mutex<Vec<String>>,
}

impl KubeShared {
    pub fn new(kubeconfig: Result<Kubeconfig, String>) -> Arc<Self> {
        Arc::new(KubeShared {
            kubeconfig,
            active: Mutex::new(Vec::new()),
        })
    }

    pub fn kubeconfig(&self) -> Result<&Kubeconfig, &str> {
        self.kubeconfig.as_ref().map_err(String::as_str)
    }

    fn active(&self) -> Vec<String> {
        self.active.lock().map(|a| a.clone()).unwrap_or_default()
    }

    fn set_active(&self, f: impl FnOnce(&mut Vec<String>)) {
        if let Ok(mut a) = self.active.lock() {
            f(&mut a);
        }
    }
}

/// Which namespaces a source shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NsScope {
    /// The context's namespace (else `default`).
    ContextDefault,
    One(String),
    All,
}

/// State shared by the backend and its tasks.
pub struct Inner {
    pub id: SourceId,
    pub context: String,
    /// The namespace shown; None = all namespaces.
    pub namespace: Option<String>,
    shared: Arc<KubeShared>,
    /// Made on first use and kept: a client holds no connection that could go stale.
    client: Cached<Client>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inner")
            .field("id", &self.id)
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
}

impl Inner {
    /// A client for this context, made on first use (no request is sent to make it).
    pub async fn client(&self) -> Result<Client, String> {
        self.client
            .get_or_connect(|| async {
                let kc = self.shared.kubeconfig().map_err(str::to_string)?.clone();
                let opts = KubeConfigOptions {
                    context: Some(self.context.clone()),
                    ..Default::default()
                };
                let config = kube::Config::from_custom_kubeconfig(kc, &opts)
                    .await
                    .map_err(|e| format!("kubeconfig context {}: {e}", self.context))?;
                // Every answer is capped (see `limit`): an endless body is an error, not OOM.
                kube::client::ClientBuilder::try_from(config)
                    .map(|b| b.with_layer(&limit::LimitLayer).build())
                    .map_err(|e| format!("cannot make a client for {}: {e}", self.context))
            })
            .await
    }

    /// An `Api` over this source's namespace scope.
    pub fn api<K>(&self, client: Client) -> Api<K>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
        <K as kube::Resource>::DynamicType: Default,
    {
        match &self.namespace {
            Some(ns) => Api::namespaced(client, ns),
            None => Api::all(client),
        }
    }

    /// The scope in words, for the header and error texts.
    pub fn scope_text(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("namespace {ns}"),
            None => "all namespaces".into(),
        }
    }

    /// The API server URL of this context, when the kubeconfig names one.
    pub fn server(&self) -> Option<String> {
        let kc = self.shared.kubeconfig().ok()?;
        let cluster = &kc
            .contexts
            .iter()
            .find(|c| c.name == self.context)?
            .context
            .as_ref()?
            .cluster;
        kc.clusters
            .iter()
            .find(|c| &c.name == cluster)?
            .cluster
            .as_ref()?
            .server
            .clone()
    }
}

/// A Kubernetes context as a fleetdeck source.
#[derive(Debug, Clone)]
pub struct KubeBackend {
    inner: Arc<Inner>,
}

static KINDS: &[ResourceKind] = &[
    ResourceKind::Context,
    ResourceKind::Namespace,
    ResourceKind::Deployment,
    ResourceKind::StatefulSet,
    ResourceKind::DaemonSet,
    ResourceKind::ReplicaSet,
    ResourceKind::Pod,
    ResourceKind::PodContainer,
    ResourceKind::KService,
    ResourceKind::KNode,
    ResourceKind::KEvent,
];

/// The namespace a context defaults to (kubectl: the context's, else `default`).
fn context_namespace(kc: Result<&Kubeconfig, &str>, context: &str) -> String {
    kc.ok()
        .and_then(|kc| kc.contexts.iter().find(|c| c.name == context))
        .and_then(|c| c.context.as_ref())
        .and_then(|c| c.namespace.clone())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "default".into())
}

impl KubeBackend {
    /// Source `kube:<context>` over `shared`'s kubeconfig, registered as shown.
    pub fn new(shared: Arc<KubeShared>, context: &str, scope: NsScope) -> Self {
        let namespace = match scope {
            NsScope::All => None,
            NsScope::One(ns) => Some(ns),
            NsScope::ContextDefault => Some(context_namespace(shared.kubeconfig(), context)),
        };
        shared.set_active(|a| {
            if !a.iter().any(|c| c == context) {
                a.push(context.to_string());
            }
        });
        KubeBackend {
            inner: Arc::new(Inner {
                id: SourceId::new(format!("kube:{context}")),
                context: context.to_string(),
                namespace,
                shared,
                client: Cached::default(),
            }),
        }
    }

    /// One source per entry of `contexts` (context, namespace scope); no entries = the
    /// kubeconfig's current context. A kubeconfig without contexts gives no source.
    pub fn from_kubeconfig(
        kubeconfig: Result<Kubeconfig, String>,
        contexts: &[(String, NsScope)],
    ) -> Vec<KubeBackend> {
        let shared = KubeShared::new(kubeconfig);
        let chosen: Vec<(String, NsScope)> = if contexts.is_empty() {
            match shared.kubeconfig() {
                Ok(kc) => kc
                    .current_context
                    .clone()
                    .or_else(|| kc.contexts.first().map(|c| c.name.clone()))
                    .map(|c| vec![(c, NsScope::ContextDefault)])
                    .unwrap_or_default(),
                // A kubeconfig that does not parse is shown as a source in error, so the
                // operator learns why the cluster is missing.
                Err(_) => vec![("kubeconfig".to_string(), NsScope::ContextDefault)],
            }
        } else {
            contexts.to_vec()
        };
        chosen
            .into_iter()
            .map(|(c, s)| KubeBackend::new(Arc::clone(&shared), &c, s))
            .collect()
    }

    pub fn context(&self) -> &str {
        &self.inner.context
    }

    pub fn namespace(&self) -> Option<&str> {
        self.inner.namespace.as_deref()
    }

    pub fn inner(&self) -> &Arc<Inner> {
        &self.inner
    }
}

#[async_trait]
impl Backend for KubeBackend {
    fn id(&self) -> &SourceId {
        &self.inner.id
    }

    fn kinds(&self) -> &'static [ResourceKind] {
        KINDS
    }

    fn watch(&self, kind: ResourceKind, tx: EventTx) -> TaskHandle {
        TaskHandle::spawn(watch::run(Arc::clone(&self.inner), kind, tx))
    }

    /// The events watch (the `:events` list: what the API server still keeps, then changes).
    fn timeline(
        &self,
        since: jiff::Timestamp,
        until: Option<jiff::Timestamp>,
        tx: EventTx,
    ) -> Option<TaskHandle> {
        let report = crate::backend::report::Reporter::new(self.inner.id.clone(), tx);
        Some(crate::timeline::changes::from_watch(
            |tx| self.watch(ResourceKind::KEvent, tx),
            report,
            until.is_some(),
            move |rows| timeline::entries(rows, since, until),
        ))
    }

    fn logs(
        &self,
        target: &ResourceKey,
        opts: LogOpts,
        stream: StreamId,
        tx: EventTx,
    ) -> TaskHandle {
        let (inner, target) = (Arc::clone(&self.inner), target.clone());
        log_task(stream, tx, move |tx| async move {
            logs::stream_logs(&inner, &target, &opts, stream, &tx).await
        })
    }

    fn stats(&self, _target: &ResourceKey, _tx: EventTx) -> Option<TaskHandle> {
        None
    }

    async fn act(&self, target: &ResourceKey, action: &ResourceAction) -> anyhow::Result<String> {
        let client = self.inner.client().await.map_err(|e| anyhow!(e))?;
        actions::act(&self.inner, client, target, action).await
    }

    async fn describe(&self, target: &ResourceKey) -> anyhow::Result<String> {
        let client = self.inner.client().await.map_err(|e| anyhow!(e))?;
        actions::describe(&self.inner, client, target).await
    }

    async fn shell(&self, target: &ResourceKey, opts: &ShellOpts) -> anyhow::Result<ShellSession> {
        let client = self.inner.client().await.map_err(|e| anyhow!(e))?;
        exec::shell(&self.inner, client, target, opts).await
    }

    async fn exec(&self, target: &ResourceKey, cmd: &[String]) -> anyhow::Result<(i64, String)> {
        if cmd.is_empty() {
            return Err(anyhow!("exec needs a command"));
        }
        let client = self.inner.client().await.map_err(|e| anyhow!(e))?;
        exec::run_collect(&self.inner, client, target, cmd).await
    }

    fn endpoint(&self) -> Option<String> {
        self.inner.server()
    }

    async fn forward(
        &self,
        target: &ResourceKey,
        port: u16,
    ) -> anyhow::Result<Arc<dyn crate::backend::forward::Connector>> {
        forward::connector(&self.inner, target, port).await
    }

    fn probe(&self, tx: EventTx) -> Option<TaskHandle> {
        Some(TaskHandle::spawn(watch::probe(Arc::clone(&self.inner), tx)))
    }

    fn switch(&self, target: &ResourceKey) -> Option<Arc<dyn Backend>> {
        let shared = Arc::clone(&self.inner.shared);
        match target.kind {
            ResourceKind::Context => {
                let to = target.id.clone();
                if to == self.inner.context {
                    return None;
                }
                let from = self.inner.context.clone();
                shared.set_active(|a| {
                    if a.contains(&to) {
                        a.retain(|c| c != &from);
                    } else if let Some(slot) = a.iter_mut().find(|c| **c == from) {
                        *slot = to.clone();
                    }
                });
                let new = KubeBackend::new(shared, &to, NsScope::ContextDefault);
                Some(Arc::new(new))
            }
            ResourceKind::Namespace => {
                let scope = if target.id.is_empty() {
                    NsScope::All
                } else {
                    NsScope::One(target.id.clone())
                };
                let new = KubeBackend::new(shared, &self.inner.context, scope);
                Some(Arc::new(new))
            }
            _ => None,
        }
    }
}
