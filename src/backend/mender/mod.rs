//! Mender server backend (`mender:<name>`): devices (device auth + inventory), deployments with
//! per-status counts, a deployment's per-device statuses and their deployment logs, through the
//! management API with a personal access token.
//!
//! Mender has no push channel: an open view is polled every [`POLL`] while it is open, with
//! exponential backoff on errors and Retry-After honoured on 429.

pub mod client;
pub mod map;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, bail};
use async_trait::async_trait;
use serde_json::{Value, json};

use self::client::{Api, ApiError, Token};
use crate::backend::task::Backoff;
use crate::backend::{
    Backend, BackendEvent, EventTx, ShellOpts, ShellSession, StreamId, TaskHandle,
};
use crate::config::MenderSource;
use crate::model::{
    LogLine, LogOpts, Resource, ResourceAction, ResourceKey, ResourceKind, SourceId, SourceStatus,
};

/// How often an open view is refreshed.
pub const POLL: Duration = Duration::from_secs(5);
/// Deployments whose per-device statuses the drill-down view keeps current (newest first).
const DEVICE_LIST_DEPLOYMENTS: usize = 20;

pub const DEPLOYMENTS: &str = "/api/management/v1/deployments/deployments";
pub const DEVAUTH: &str = "/api/management/v2/devauth/devices";
pub const INVENTORY: &str = "/api/management/v1/inventory/devices";

static KINDS: &[ResourceKind] = &[
    ResourceKind::MenderDevice,
    ResourceKind::MenderDeployment,
    ResourceKind::MenderDeploymentDevice,
];

#[derive(Debug)]
pub struct Inner {
    pub id: SourceId,
    pub api: Api,
    /// The environment variable the token came from, named in "unauthorized" messages.
    pub token_env: String,
    pub poll: Duration,
}

#[derive(Debug, Clone)]
pub struct MenderBackend {
    inner: Arc<Inner>,
}

impl MenderBackend {
    /// From the config: the token is read from `token_env` now.
    pub fn from_source(src: &MenderSource) -> Self {
        let token = std::env::var(&src.token_env)
            .ok()
            .filter(|t| !t.trim().is_empty())
            .map(|t| Token::new(t.trim()));
        Self::new(src, token)
    }

    /// With the token given (tests, or a caller that read it elsewhere).
    pub fn new(src: &MenderSource, token: Option<Token>) -> Self {
        MenderBackend {
            inner: Arc::new(Inner {
                id: SourceId::new(format!("mender:{}", src.name)),
                api: Api::new(&src.url, token),
                token_env: src.token_env.clone(),
                poll: POLL,
            }),
        }
    }

    /// Poll more often (tests).
    pub fn with_poll(mut self, poll: Duration) -> Self {
        let inner = Arc::get_mut(&mut self.inner).expect("not shared yet");
        inner.poll = poll;
        self
    }

    pub fn inner(&self) -> &Arc<Inner> {
        &self.inner
    }
}

impl Inner {
    /// What the view shows for an error that is not a connection problem.
    fn unavailable_text(&self, e: &ApiError) -> Option<String> {
        match e {
            ApiError::NoToken => Some(format!(
                "no token: set ${} to a Mender personal access token",
                self.token_env
            )),
            ApiError::Unauthorized => Some(format!(
                "unauthorized: check the token in ${}",
                self.token_env
            )),
            ApiError::Forbidden(m) if m.is_empty() => Some("forbidden".into()),
            ApiError::Forbidden(m) => Some(format!("forbidden: {m}")),
            _ => None,
        }
    }

    fn server_text(&self) -> String {
        let base = self.api.base();
        let host = base.split("://").nth(1).unwrap_or(base);
        format!("Mender {host}")
    }
}

/// Statistics of finished deployments never change again: fetched once.
#[derive(Default)]
struct Cache {
    stats: HashMap<String, Value>,
    devices: HashMap<String, Vec<Value>>,
}

async fn list_devices(inner: &Inner) -> Result<Vec<Resource>, ApiError> {
    let devs = inner.api.get_all(DEVAUTH).await?;
    // Inventory adds device type, artifact and group; without it the rows still show.
    let inv = match inner.api.get_all(INVENTORY).await {
        Ok(items) => map::inventory_by_id(&items),
        Err(e @ (ApiError::Unauthorized | ApiError::RateLimited(_) | ApiError::Transport(_))) => {
            return Err(e);
        }
        Err(e) => {
            tracing::warn!(source = %inner.id, "mender inventory: {e}");
            HashMap::new()
        }
    };
    Ok(devs
        .iter()
        .map(|d| {
            map::device_row(
                &inner.id,
                d,
                inv.get(d.get("id").and_then(|i| i.as_str()).unwrap_or("")),
            )
        })
        .collect())
}

fn id_of(d: &Value) -> String {
    d.get("id")
        .and_then(|i| i.as_str())
        .unwrap_or("")
        .to_string()
}

fn finished(d: &Value) -> bool {
    d.get("status").and_then(|s| s.as_str()) == Some("finished")
}

/// A deployment's statistics: from the list item, else its detail, else `/statistics`.
async fn deployment_stats(inner: &Inner, d: &Value, cache: &mut Cache) -> Result<Value, ApiError> {
    if let Some(s) = d.get("statistics").filter(|s| s.is_object()) {
        return Ok(s.clone());
    }
    let id = id_of(d);
    if let Some(s) = cache.stats.get(&id) {
        return Ok(s.clone());
    }
    let path = format!("{DEPLOYMENTS}/{id}");
    let detail = inner
        .api
        .request(http::Method::GET, &path, None)
        .await?
        .json()?;
    let stats = match detail.get("statistics").filter(|s| s.is_object()) {
        Some(s) => s.clone(),
        None => inner
            .api
            .request(http::Method::GET, &format!("{path}/statistics"), None)
            .await?
            .json()?,
    };
    if finished(d) {
        cache.stats.insert(id, stats.clone());
    }
    Ok(stats)
}

async fn list_deployments(inner: &Inner, cache: &mut Cache) -> Result<Vec<Resource>, ApiError> {
    let deps = inner.api.get_all(DEPLOYMENTS).await?;
    let mut out = Vec::with_capacity(deps.len());
    for d in &deps {
        let stats = match deployment_stats(inner, d, cache).await {
            Ok(s) => Some(s),
            Err(
                e @ (ApiError::Unauthorized | ApiError::RateLimited(_) | ApiError::Transport(_)),
            ) => {
                return Err(e);
            }
            Err(e) => {
                tracing::warn!(source = %inner.id, "mender deployment statistics: {e}");
                None
            }
        };
        out.push(map::deployment_row(&inner.id, d, stats.as_ref()));
    }
    Ok(out)
}

/// The per-device statuses of the newest deployments.
async fn list_deployment_devices(
    inner: &Inner,
    cache: &mut Cache,
) -> Result<Vec<Resource>, ApiError> {
    let mut deps = inner.api.get_all(DEPLOYMENTS).await?;
    deps.sort_by(|a, b| {
        let c = |d: &Value| {
            d.get("created")
                .and_then(|c| c.as_str())
                .unwrap_or("")
                .to_string()
        };
        c(b).cmp(&c(a))
    });
    let mut out = Vec::new();
    for d in deps.iter().take(DEVICE_LIST_DEPLOYMENTS) {
        let id = id_of(d);
        let name = d
            .get("name")
            .and_then(|n| n.as_str())
            .unwrap_or(&id)
            .to_string();
        let devices = match cache.devices.get(&id) {
            Some(list) => list.clone(),
            None => {
                let list = inner
                    .api
                    .get_all(&format!("{DEPLOYMENTS}/{id}/devices"))
                    .await?;
                if finished(d) {
                    cache.devices.insert(id.clone(), list.clone());
                }
                list
            }
        };
        out.extend(
            devices
                .iter()
                .map(|dev| map::deployment_device_row(&inner.id, &id, &name, dev)),
        );
    }
    Ok(out)
}

async fn fetch(
    inner: &Inner,
    kind: ResourceKind,
    cache: &mut Cache,
) -> Result<Vec<Resource>, ApiError> {
    match kind {
        ResourceKind::MenderDevice => list_devices(inner).await,
        ResourceKind::MenderDeployment => list_deployments(inner, cache).await,
        ResourceKind::MenderDeploymentDevice => list_deployment_devices(inner, cache).await,
        _ => Ok(Vec::new()),
    }
}

/// Poll `kind` until the UI drops the handle.
async fn poll_loop(inner: Arc<Inner>, kind: ResourceKind, tx: EventTx) {
    let mut backoff = Backoff::default();
    let mut cache = Cache::default();
    let mut connected = false;
    loop {
        let delay = match fetch(&inner, kind, &mut cache).await {
            Ok(resources) => {
                backoff.reset();
                if !connected {
                    connected = true;
                    let status = SourceStatus::Connected(inner.server_text());
                    if tx
                        .send(BackendEvent::Status(inner.id.clone(), status))
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
                let ev = BackendEvent::Snapshot {
                    source: inner.id.clone(),
                    kind,
                    resources,
                };
                if tx.send(ev).await.is_err() {
                    return;
                }
                inner.poll
            }
            Err(e) => {
                connected = false;
                tracing::info!(source = %inner.id, kind = kind.name(), "mender: {e}");
                let (delay, ev) = match (&e, inner.unavailable_text(&e)) {
                    (_, Some(reason)) => {
                        let delay = backoff.next_delay().max(inner.poll);
                        // 403: the server answered and the token is valid; other kinds may
                        // work. 401 / no token: nothing will, say so in the header too.
                        let status = if matches!(e, ApiError::Forbidden(_)) {
                            SourceStatus::Connected(inner.server_text())
                        } else {
                            SourceStatus::Reconnecting {
                                error: reason.clone(),
                                retry_in_secs: delay.as_secs(),
                            }
                        };
                        let _ = tx
                            .send(BackendEvent::Status(inner.id.clone(), status))
                            .await;
                        (
                            delay,
                            BackendEvent::Unavailable {
                                source: inner.id.clone(),
                                kind,
                                reason,
                            },
                        )
                    }
                    (ApiError::RateLimited(secs), None) => (
                        Duration::from_secs(*secs),
                        BackendEvent::Status(
                            inner.id.clone(),
                            SourceStatus::Reconnecting {
                                error: e.to_string(),
                                retry_in_secs: *secs,
                            },
                        ),
                    ),
                    (_, None) => {
                        let d = backoff.next_delay();
                        (
                            d,
                            BackendEvent::Status(
                                inner.id.clone(),
                                SourceStatus::Reconnecting {
                                    error: e.to_string(),
                                    retry_in_secs: d.as_secs(),
                                },
                            ),
                        )
                    }
                };
                if tx.send(ev).await.is_err() {
                    return;
                }
                delay
            }
        };
        tokio::time::sleep(delay).await;
        if tx.is_closed() {
            return;
        }
    }
}

/// One cheap request so the header shows the server's state before any Mender view is open;
/// retried with backoff until it answers.
async fn probe(inner: Arc<Inner>, tx: EventTx) {
    let mut backoff = Backoff::default();
    loop {
        let path = format!("{DEVAUTH}?page=1&per_page=1");
        let (status, delay) = match inner.api.request(http::Method::GET, &path, None).await {
            Ok(_) | Err(ApiError::Forbidden(_)) => {
                let status = SourceStatus::Connected(inner.server_text());
                let _ = tx
                    .send(BackendEvent::Status(inner.id.clone(), status))
                    .await;
                return;
            }
            Err(ApiError::RateLimited(secs)) => (
                SourceStatus::Reconnecting {
                    error: ApiError::RateLimited(secs).to_string(),
                    retry_in_secs: secs,
                },
                Duration::from_secs(secs),
            ),
            Err(e) => {
                let d = backoff.next_delay();
                (
                    SourceStatus::Reconnecting {
                        error: inner.describe_error(e),
                        retry_in_secs: d.as_secs(),
                    },
                    d,
                )
            }
        };
        if tx
            .send(BackendEvent::Status(inner.id.clone(), status))
            .await
            .is_err()
        {
            return;
        }
        tokio::time::sleep(delay).await;
    }
}

/// `<deployment id>/<device id>` of a MenderDeploymentDevice key.
fn split_deployment_device(id: &str) -> anyhow::Result<(&str, &str)> {
    id.split_once('/')
        .ok_or_else(|| anyhow!("not a deployment device id: {id}"))
}

/// Path segments come from the server or the user: keep them to safe characters.
fn seg(s: &str) -> anyhow::Result<&str> {
    if s.is_empty()
        || !s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
    {
        bail!("unexpected id `{s}`");
    }
    Ok(s)
}

async fn fetch_log(inner: &Inner, key: &ResourceKey) -> anyhow::Result<String> {
    let (dep, dev) = split_deployment_device(&key.id)?;
    let path = format!("{DEPLOYMENTS}/{}/devices/{}/log", seg(dep)?, seg(dev)?);
    match inner.api.request(http::Method::GET, &path, None).await {
        Ok(r) => Ok(String::from_utf8_lossy(&r.body).into_owned()),
        Err(ApiError::Status(404, _)) => bail!("no deployment log for this device"),
        Err(e) => Err(anyhow!(inner.describe_error(e))),
    }
}

impl Inner {
    fn describe_error(&self, e: ApiError) -> String {
        self.unavailable_text(&e).unwrap_or_else(|| e.to_string())
    }

    async fn get_json(&self, path: &str) -> anyhow::Result<Value> {
        self.api
            .request(http::Method::GET, path, None)
            .await
            .and_then(|r| r.json())
            .map_err(|e| anyhow!(self.describe_error(e)))
    }

    async fn describe(&self, key: &ResourceKey) -> anyhow::Result<String> {
        let doc = match key.kind {
            ResourceKind::MenderDevice => {
                let id = seg(&key.id)?;
                let auth = self.get_json(&format!("{DEVAUTH}/{id}")).await?;
                let inventory = self.get_json(&format!("{INVENTORY}/{id}")).await.ok();
                json!({"device": auth, "inventory": inventory})
            }
            ResourceKind::MenderDeployment => {
                self.get_json(&format!("{DEPLOYMENTS}/{}", seg(&key.id)?))
                    .await?
            }
            ResourceKind::MenderDeploymentDevice => {
                let (dep, dev) = split_deployment_device(&key.id)?;
                let list = self
                    .api
                    .get_all(&format!("{DEPLOYMENTS}/{}/devices", seg(dep)?))
                    .await
                    .map_err(|e| anyhow!(self.describe_error(e)))?;
                list.into_iter()
                    .find(|d| d.get("id").and_then(|i| i.as_str()) == Some(dev))
                    .ok_or_else(|| anyhow!("device {dev} is not in deployment {dep}"))?
            }
            k => bail!("{} is not a Mender kind", k.name()),
        };
        let text = serde_saphyr::to_string(&doc)?;
        Ok(crate::term::sanitize::sanitize(text.as_bytes()).text)
    }

    async fn act(&self, key: &ResourceKey, action: &ResourceAction) -> anyhow::Result<String> {
        match (key.kind, action) {
            (ResourceKind::MenderDeployment, ResourceAction::AbortDeployment) => {
                let path = format!("{DEPLOYMENTS}/{}/status", seg(&key.id)?);
                self.api
                    .request(
                        http::Method::PUT,
                        &path,
                        Some(&json!({"status": "aborted"})),
                    )
                    .await
                    .map_err(|e| anyhow!(self.describe_error(e)))?;
                Ok(format!("deployment {} aborted", key.id))
            }
            (_, ResourceAction::CreateDeployment(artifact, devices)) => {
                let artifact = artifact.trim();
                if artifact.is_empty() {
                    bail!("an artifact name is needed");
                }
                let name = format!("{artifact} (fleetdeck)");
                let groups: Vec<&str> = devices
                    .iter()
                    .filter_map(|d| d.strip_prefix("group:"))
                    .collect();
                let resp = match groups.as_slice() {
                    [group] if devices.len() == 1 => {
                        let path = format!("{DEPLOYMENTS}/group/{}", seg(group)?);
                        self.api
                            .request(
                                http::Method::POST,
                                &path,
                                Some(&json!({"name": name, "artifact_name": artifact})),
                            )
                            .await
                    }
                    _ => {
                        if devices.is_empty() {
                            bail!("no device to deploy to");
                        }
                        for d in devices {
                            seg(d)?;
                        }
                        self.api
                            .request(
                                http::Method::POST,
                                DEPLOYMENTS,
                                Some(&json!({
                                    "name": name,
                                    "artifact_name": artifact,
                                    "devices": devices,
                                })),
                            )
                            .await
                    }
                }
                .map_err(|e| anyhow!(self.describe_error(e)))?;
                let id = resp
                    .header("location")
                    .and_then(|l| l.rsplit('/').next())
                    .map(crate::term::sanitize::sanitize_plain)
                    .unwrap_or_default();
                Ok(format!(
                    "deployment of {artifact} to {} created {id}",
                    if groups.len() == 1 && devices.len() == 1 {
                        format!("group {}", groups[0])
                    } else {
                        format!("{} device(s)", devices.len())
                    }
                ))
            }
            (k, a) => bail!("{} is not available for {}", a.name(), k.name()),
        }
    }
}

#[async_trait]
impl Backend for MenderBackend {
    fn id(&self) -> &SourceId {
        &self.inner.id
    }

    fn kinds(&self) -> &'static [ResourceKind] {
        KINDS
    }

    fn watch(&self, kind: ResourceKind, tx: EventTx) -> TaskHandle {
        TaskHandle::spawn(poll_loop(self.inner.clone(), kind, tx))
    }

    /// The deployment log of one device in one deployment (no follow: Mender stores it whole).
    fn logs(
        &self,
        target: &ResourceKey,
        _opts: LogOpts,
        stream: StreamId,
        tx: EventTx,
    ) -> TaskHandle {
        let inner = self.inner.clone();
        let key = target.clone();
        TaskHandle::spawn(async move {
            if key.kind != ResourceKind::MenderDeploymentDevice {
                let _ = tx
                    .send(BackendEvent::LogEnded {
                        stream,
                        error: Some("only deployment devices have logs".into()),
                    })
                    .await;
                return;
            }
            match fetch_log(&inner, &key).await {
                Ok(text) => {
                    let lines: Vec<LogLine> = text
                        .lines()
                        .map(|l| LogLine {
                            ts: log_ts(l),
                            source: None,
                            text: crate::term::sanitize::sanitize(l.as_bytes()),
                        })
                        .collect();
                    for chunk in lines.chunks(1000) {
                        let ev = BackendEvent::LogLines {
                            stream,
                            lines: chunk.to_vec(),
                        };
                        if tx.send(ev).await.is_err() {
                            return;
                        }
                    }
                    let _ = tx
                        .send(BackendEvent::LogEnded {
                            stream,
                            error: None,
                        })
                        .await;
                }
                Err(e) => {
                    let _ = tx
                        .send(BackendEvent::LogEnded {
                            stream,
                            error: Some(format!("{e:#}")),
                        })
                        .await;
                }
            }
        })
    }

    fn stats(&self, _target: &ResourceKey, _tx: EventTx) -> Option<TaskHandle> {
        None
    }

    fn probe(&self, tx: EventTx) -> Option<TaskHandle> {
        Some(TaskHandle::spawn(probe(self.inner.clone(), tx)))
    }

    async fn act(&self, target: &ResourceKey, action: &ResourceAction) -> anyhow::Result<String> {
        self.inner.act(target, action).await
    }

    async fn describe(&self, target: &ResourceKey) -> anyhow::Result<String> {
        self.inner.describe(target).await
    }

    async fn shell(
        &self,
        _target: &ResourceKey,
        _opts: &ShellOpts,
    ) -> anyhow::Result<ShellSession> {
        bail!("Mender devices have no shell here (use a fleet source over SSH)")
    }

    async fn exec(&self, _target: &ResourceKey, _cmd: &[String]) -> anyhow::Result<(i64, String)> {
        bail!("exec is not available on a Mender server source")
    }
}

/// The leading timestamp of a Mender deployment log line ("2024-05-01 10:00:00 +0000 UTC ...").
fn log_ts(line: &str) -> Option<i64> {
    let head: String = line.chars().take(25).collect();
    let mut parts = head.split_whitespace();
    let (date, time, offset) = (parts.next()?, parts.next()?, parts.next()?);
    let text = format!("{date}T{time}{offset}");
    jiff::Timestamp::strptime("%Y-%m-%dT%H:%M:%S%z", &text)
        .ok()
        .map(|t| t.as_nanosecond() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_timestamps_parse() {
        assert!(log_ts("2024-05-01 10:00:00 +0000 UTC info: Running Mender").is_some());
        assert_eq!(log_ts("no time here"), None);
    }

    #[test]
    fn path_segments_are_checked() {
        assert!(seg("0c13a0e6-6b63-49b8-be8f-4bd3d3cd1e1b").is_ok());
        assert!(seg("../x").is_err());
        assert!(seg("").is_err());
    }
}
