//! Mender JSON (devauth v2, inventory v1/v2, deployments v1/v2) into neutral rows.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use crate::model::{
    DeploymentFacts, Health, Labels, Resource, ResourceKey, ResourceKind, RowFacts, SourceId,
};
use crate::term::sanitize::sanitize_plain;

fn s<'a>(v: &'a Value, field: &str) -> &'a str {
    v.get(field).and_then(|x| x.as_str()).unwrap_or("")
}

fn clean(text: &str) -> String {
    sanitize_plain(text)
}

fn ts(text: &str) -> Option<jiff::Timestamp> {
    text.parse::<jiff::Timestamp>().ok()
}

/// An inventory attribute value as text (lists joined by commas).
fn attr_text(v: &Value) -> String {
    match v {
        Value::String(s) => clean(s),
        Value::Array(a) => a.iter().map(attr_text).collect::<Vec<_>>().join(","),
        Value::Null => String::new(),
        other => clean(&other.to_string()),
    }
}

/// Inventory devices (v1 `attributes: [{name, value}]`, v2 with `scope`) by device id.
pub fn inventory_by_id(items: &[Value]) -> HashMap<String, BTreeMap<String, String>> {
    let mut out = HashMap::new();
    for d in items {
        let mut attrs = BTreeMap::new();
        for a in d
            .get("attributes")
            .and_then(|a| a.as_array())
            .into_iter()
            .flatten()
        {
            let name = s(a, "name");
            if name.is_empty() {
                continue;
            }
            let value = a.get("value").map(attr_text).unwrap_or_default();
            // v2 has the same name in several scopes: inventory wins, then system, identity.
            let scope = s(a, "scope");
            if scope.is_empty() || scope == "inventory" || !attrs.contains_key(name) {
                attrs.insert(clean(name), value);
            }
        }
        if let Some(t) = d.get("updated_ts").and_then(|t| t.as_str()) {
            attrs.entry("updated_ts".into()).or_insert(clean(t));
        }
        out.insert(s(d, "id").to_string(), attrs);
    }
    out
}

fn device_health(status: &str) -> Health {
    match status {
        "accepted" => Health::Ok,
        "pending" | "preauthorized" => Health::Pending,
        "rejected" => Health::Failed,
        "noauth" => Health::Stopped,
        _ => Health::Unknown,
    }
}

/// One MenderDevice row from a devauth v2 device plus its inventory attributes.
pub fn device_row(
    source: &SourceId,
    dev: &Value,
    inv: Option<&BTreeMap<String, String>>,
) -> Resource {
    let id = clean(s(dev, "id"));
    let status = clean(s(dev, "status"));
    let attr = |name: &str| inv.and_then(|a| a.get(name)).cloned().unwrap_or_default();
    let group = attr("group");
    let check_in = ts(s(dev, "check_in_time"))
        .or_else(|| inv.and_then(|a| a.get("check_in_time")).and_then(|t| ts(t)))
        .or_else(|| inv.and_then(|a| a.get("updated_ts")).and_then(|t| ts(t)));
    let mut labels = Labels::new();
    if let Some(identity) = dev.get("identity_data").and_then(|i| i.as_object()) {
        for (k, v) in identity {
            labels.insert(format!("identity.{}", clean(k)), attr_text(v));
        }
    }
    Resource {
        key: ResourceKey {
            source: source.clone(),
            kind: ResourceKind::MenderDevice,
            id: id.clone(),
        },
        name: id.clone(),
        parent: (!group.is_empty()).then(|| group.clone()),
        health: device_health(&status),
        cells: vec![
            id,
            status,
            attr("device_type"),
            attr("artifact_name"),
            String::new(),
            group,
        ],
        created: check_in,
        labels,
        facts: Default::default(),
    }
}

/// The per-status counts of a deployment's statistics (`{"status": {...}}` or flat).
pub fn stats_counts(stats: &Value) -> BTreeMap<String, u64> {
    let obj = stats
        .get("status")
        .filter(|s| s.is_object())
        .unwrap_or(stats);
    obj.as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| v.as_u64().map(|n| (k.clone(), n)))
        .collect()
}

pub const STAT_COLUMNS: [&str; 8] = [
    "pending",
    "downloading",
    "installing",
    "rebooting",
    "success",
    "failure",
    "aborted",
    "already-installed",
];

/// One MenderDeployment row; `stats` from the deployment's `statistics` when known.
pub fn deployment_row(source: &SourceId, d: &Value, stats: Option<&Value>) -> Resource {
    let id = clean(s(d, "id"));
    let status = clean(s(d, "status"));
    let counts = stats.map(stats_counts).unwrap_or_default();
    let count = |k: &str| -> u64 { counts.get(k).copied().unwrap_or(0) };
    let health = match status.as_str() {
        // `scheduled` exists in the v2 schema only (management_v2.yaml DeploymentV2.status).
        // A device that failed is a failure now, not when the last device is done.
        "inprogress" if count("failure") > 0 => Health::Failed,
        "inprogress" | "pending" | "scheduled" => Health::Pending,
        "finished" if count("failure") > 0 => Health::Failed,
        "finished" if count("aborted") > 0 => Health::Stopped,
        "finished" => Health::Ok,
        _ => Health::Unknown,
    };
    let mut cells = vec![
        clean(s(d, "name")),
        clean(s(d, "artifact_name")),
        status.clone(),
        String::new(),
        d.get("device_count")
            .and_then(|n| n.as_u64())
            .map(|n| n.to_string())
            .unwrap_or_default(),
    ];
    for k in STAT_COLUMNS {
        cells.push(if stats.is_some() {
            count(k).to_string()
        } else {
            String::new()
        });
    }
    let mut labels = Labels::new();
    if let Some(f) = d.get("finished").and_then(|f| f.as_str()) {
        labels.insert("finished".into(), clean(f));
    }
    let facts = DeploymentFacts {
        status,
        finished: ts(s(d, "finished")),
        success: count("success") + count("already-installed") + count("noartifact"),
        failure: count("failure"),
        aborted: count("aborted"),
    };
    Resource {
        key: ResourceKey {
            source: source.clone(),
            kind: ResourceKind::MenderDeployment,
            id,
        },
        name: clean(s(d, "name")),
        parent: None,
        health,
        cells,
        created: ts(s(d, "created")),
        labels,
        facts: RowFacts {
            deployment: Some(Box::new(facts)),
            ..Default::default()
        },
    }
}

fn device_status_health(status: &str) -> Health {
    match status {
        // No artifact for the device type: "considered finished successfully"
        // (management_v1.yaml, POST /deployments description).
        "success" | "already-installed" | "noartifact" => Health::Ok,
        "failure" => Health::Failed,
        "aborted" | "decommissioned" => Health::Stopped,
        "pending"
        | "downloading"
        | "installing"
        | "rebooting"
        | "pause_before_installing"
        | "pause_before_committing"
        | "pause_before_rebooting" => Health::Pending,
        _ => Health::Unknown,
    }
}

/// One MenderDeploymentDevice row: `dev` from `GET .../deployments/{id}/devices/list`
/// (schema DeviceWithImage: id, status, created, started, finished, log, ... — there is no
/// attempts counter, mender-server backend/services/deployments/model/device_deployment.go:200-253).
pub fn deployment_device_row(
    source: &SourceId,
    deployment_id: &str,
    deployment_name: &str,
    dev: &Value,
) -> Resource {
    let device = clean(s(dev, "id"));
    let status = clean(s(dev, "status"));
    let started = dev
        .get("started")
        .and_then(|v| v.as_str())
        .or_else(|| dev.get("created").and_then(|v| v.as_str()))
        .unwrap_or("");
    let mut labels = Labels::new();
    labels.insert("deployment_id".into(), clean(deployment_id));
    if dev.get("log").and_then(|l| l.as_bool()) == Some(true) {
        labels.insert("log".into(), "true".into());
    }
    Resource {
        key: ResourceKey {
            source: source.clone(),
            kind: ResourceKind::MenderDeploymentDevice,
            id: format!("{}/{}", clean(deployment_id), device),
        },
        name: device.clone(),
        parent: Some(clean(deployment_name)),
        health: device_status_health(&status),
        cells: vec![
            device,
            status,
            clean(started),
            clean(s(dev, "finished")),
            clean(deployment_name),
        ],
        created: ts(started),
        labels,
        facts: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn stats_read_nested_and_flat() {
        let nested = json!({"status": {"success": 2, "failure": 1}, "total_size": 10});
        assert_eq!(stats_counts(&nested).get("success"), Some(&2));
        let flat = json!({"success": 3, "already-installed": 1});
        assert_eq!(stats_counts(&flat).get("already-installed"), Some(&1));
    }

    #[test]
    fn noartifact_is_a_success_and_there_is_no_attempts_column() {
        let src = SourceId::new("mender:t");
        let r = deployment_device_row(
            &src,
            "dep",
            "rollout",
            &json!({"id": "d1", "status": "noartifact", "log": false, "attempts": 3}),
        );
        assert_eq!(r.health, Health::Ok);
        assert_eq!(
            r.cells.len(),
            ResourceKind::MenderDeploymentDevice.spec().columns.len()
        );
        assert!(!r.cells.contains(&"3".to_string()));
    }

    #[test]
    fn device_rows_take_inventory_attributes() {
        let src = SourceId::new("mender:t");
        let inv = inventory_by_id(&[json!({"id": "d1", "attributes": [
            {"name": "device_type", "value": "rpi4", "scope": "inventory"},
            {"name": "artifact_name", "value": "rel-1\u{1b}[31m", "scope": "inventory"},
            {"name": "group", "value": "prod", "scope": "system"}
        ]})]);
        let r = device_row(
            &src,
            &json!({"id": "d1", "status": "accepted", "check_in_time": "2024-01-01T00:00:00Z"}),
            inv.get("d1"),
        );
        assert_eq!(r.cells[2], "rpi4");
        assert!(!r.cells[3].contains('\u{1b}'));
        assert_eq!(r.parent.as_deref(), Some("prod"));
        assert!(r.created.is_some());
    }
}
