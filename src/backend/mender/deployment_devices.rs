//! Deployment devices (`:mdd`, Enter on a deployment): the per-device statuses of the
//! [`NEWEST`] newest deployments, from the paginated
//! `GET .../deployments/{id}/devices/list?page&per_page` (mender-server
//! backend/docs/api/deployments/management_v1.yaml:434-503). The unpaged `.../devices` is
//! deprecated since 2021 (same file:398-433) and never used.
//!
//! A refresh costs 1 request for the newest deployments plus ceil(devices/500) per active one;
//! a finished deployment's list is read once and kept.

use std::collections::HashMap;

use serde_json::Value;

use super::deployments::{self, id_of, is_finished};
use super::paging::{FetchError, Pager};
use super::watch::{Failed, Progress, loading_note};
use super::{DEPLOYMENTS, Inner, map, seg};
use crate::model::Resource;

/// Deployments whose per-device statuses the drill-down view keeps current (newest first).
pub const NEWEST: usize = 20;

/// The paginated per-device list of deployment `id`.
pub fn list_path(id: &str) -> String {
    format!("{DEPLOYMENTS}/{id}/devices/list")
}

/// Every device of one deployment, all pages.
pub async fn read_all(inner: &Inner, id: &str) -> Result<Vec<Value>, FetchError> {
    let mut pager = Pager::new(&inner.api, &list_path(id));
    let mut out = Vec::new();
    while let Some(page) = pager.next_page().await? {
        out.extend(page);
    }
    Ok(out)
}

/// Device lists of finished deployments, kept between refreshes.
#[derive(Default)]
pub struct Lists {
    finished: HashMap<String, Vec<Value>>,
}

impl Lists {
    pub async fn refresh(
        &mut self,
        inner: &Inner,
        progress: &mut Progress<'_>,
    ) -> Result<Vec<Resource>, Failed> {
        let deps = deployments::newest(inner, NEWEST)
            .await
            .map_err(|e| Failed::new(e, None))?;
        let mut out = Vec::new();
        for d in &deps {
            let id = id_of(d);
            // The id goes into a path: refuse anything but a plain id.
            if seg(&id).is_err() {
                tracing::warn!(source = %inner.id, "mender: skipping deployment id {id:?}");
                continue;
            }
            let name = d
                .get("name")
                .and_then(|n| n.as_str())
                .unwrap_or(&id)
                .to_string();
            let devices = match self.finished.get(&id) {
                Some(list) => list.clone(),
                None => {
                    let list = read_all(inner, &id)
                        .await
                        .map_err(|e| Failed::new(e, Some(out.clone())))?;
                    if is_finished(d) {
                        self.finished.insert(id.clone(), list.clone());
                    }
                    list
                }
            };
            out.extend(
                devices
                    .iter()
                    .map(|dev| map::deployment_device_row(&inner.id, &id, &name, dev)),
            );
            if progress.wanted() {
                let note = loading_note("deployment devices", out.len(), None, &list_path(&id));
                progress.rows(out.clone(), note).await;
            }
        }
        // Forget lists of deployments that dropped out of the newest.
        self.finished.retain(|id, _| {
            deps.iter()
                .any(|d| d.get("id").and_then(|i| i.as_str()) == Some(id))
        });
        Ok(out)
    }
}
