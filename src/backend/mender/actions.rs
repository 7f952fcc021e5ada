//! Create and abort deployments, and describe any Mender row as YAML.

use anyhow::{anyhow, bail};
use serde_json::{Value, json};

use super::deployment_devices::list_path;
use super::paging::Pager;
use super::{DEPLOYMENTS, DEVAUTH, INVENTORY, Inner, seg, split_deployment_device};
use crate::model::{ResourceAction, ResourceKey, ResourceKind};

impl Inner {
    async fn get_json(&self, path: &str) -> anyhow::Result<Value> {
        self.api
            .request(http::Method::GET, path, None)
            .await
            .and_then(|r| r.json())
            .map_err(|e| anyhow!("GET {}: {}", path, self.describe_error(e)))
    }

    pub(super) async fn describe(&self, key: &ResourceKey) -> anyhow::Result<String> {
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
                // No per-device endpoint: page through the deployment's list until found.
                let (dep, dev) = split_deployment_device(&key.id)?;
                let mut pager = Pager::new(&self.api, &list_path(seg(dep)?));
                let mut found = None;
                while let Some(page) = pager
                    .next_page()
                    .await
                    .map_err(|e| anyhow!("{}", self.describe_fetch_error(e)))?
                {
                    found = page
                        .into_iter()
                        .find(|d| d.get("id").and_then(|i| i.as_str()) == Some(dev));
                    if found.is_some() {
                        break;
                    }
                }
                found.ok_or_else(|| anyhow!("device {dev} is not in deployment {dep}"))?
            }
            k => bail!("{} is not a Mender kind", k.name()),
        };
        let text = serde_saphyr::to_string(&doc)?;
        // Line by line: the YAML keeps its line breaks, each line is neutralised.
        Ok(crate::term::sanitize::sanitize_lines(&text))
    }

    pub(super) async fn act(
        &self,
        key: &ResourceKey,
        action: &ResourceAction,
    ) -> anyhow::Result<String> {
        match (key.kind, action) {
            (ResourceKind::MenderDeployment, ResourceAction::AbortDeployment) => {
                // PUT {"status":"aborted"} -> 204; 422 when it already finished
                // (management_v1.yaml:308-355).
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
                self.create(artifact, devices).await
            }
            (k, a) => bail!("{} is not available for {}", a.name(), k.name()),
        }
    }

    /// POST a deployment to one group, or to a list of devices -> 201 + Location (the new id
    /// is its last segment; management_v1.yaml:111-158,220-277).
    async fn create(&self, artifact: &str, devices: &[String]) -> anyhow::Result<String> {
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
}
