//! `:mdevices`: every device of device auth v2, joined with its inventory v1 attributes.
//!
//! Both lists are read to their end on every refresh (device auth: ceil(N/500) requests,
//! inventory the same); the join is by device id.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::Value;

use super::paging::Pager;
use super::watch::{Failed, Progress, loading_note};
use super::{DEVAUTH, INVENTORY, Inner, map};
use crate::model::Resource;

type Inventory = HashMap<String, BTreeMap<String, String>>;

fn rows(inner: &Inner, devs: &[Value], inv: &Inventory) -> Vec<Resource> {
    devs.iter()
        .map(|d| {
            let id = d.get("id").and_then(|i| i.as_str()).unwrap_or("");
            map::device_row(&inner.id, d, inv.get(id))
        })
        .collect()
}

pub async fn list(inner: &Inner, progress: &mut Progress<'_>) -> Result<Vec<Resource>, Failed> {
    let mut devs: Vec<Value> = Vec::new();
    let mut ids = HashSet::new();
    let none = Inventory::new();
    let mut pager = Pager::new(&inner.api, DEVAUTH);
    loop {
        match pager.next_page().await {
            // A device that moved between pages while they were read comes twice: keep one.
            Ok(Some(page)) => devs.extend(page.into_iter().filter(|d| {
                ids.insert(
                    d.get("id")
                        .and_then(|i| i.as_str())
                        .unwrap_or("")
                        .to_string(),
                )
            })),
            Ok(None) => break,
            Err(e) => return Err(Failed::new(e, Some(rows(inner, &devs, &none)))),
        }
        if progress.wanted() {
            let note = loading_note("devices", devs.len(), None, pager.endpoint());
            progress.rows(rows(inner, &devs, &none), note).await;
        }
    }
    // Inventory adds device type, artifact and group. A failure here still leaves rows worth
    // showing, with a note that their attributes are incomplete.
    let mut inv = Inventory::new();
    let mut pager = Pager::new(&inner.api, INVENTORY);
    loop {
        match pager.next_page().await {
            Ok(Some(page)) => inv.extend(map::inventory_by_id(&page)),
            Ok(None) => break,
            Err(e) => return Err(Failed::new(e, Some(rows(inner, &devs, &inv)))),
        }
        if progress.wanted() {
            let note = loading_note("inventory", pager.read(), pager.total(), pager.endpoint());
            progress.rows(rows(inner, &devs, &inv), note).await;
        }
    }
    Ok(rows(inner, &devs, &inv))
}
