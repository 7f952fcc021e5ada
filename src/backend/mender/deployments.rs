//! `:mdeployments`: active deployments kept live, finished history read once (and re-read
//! rarely), through the v2 list with status filters.
//!
//! The v1 list is deprecated since 2024-10 in favour of
//! `GET /api/management/v2/deployments/deployments` (mender-server
//! backend/docs/api/deployments/management_v1.yaml:13-22), which filters by `status`
//! (inprogress | pending | finished), `created_after` (Unix seconds, inclusive), repeated `id`,
//! and sorts by creation (`sort=asc|desc`, default desc) (management_v2.yaml:11-130;
//! backend/services/deployments/api/http/api_deployments.go:1636-1753).
//!
//! A refresh costs, with up to 500 active deployments:
//! - `status=inprogress` and `status=pending`: 2 requests (one more per further 500);
//! - `status=finished&created_after=<newest created seen>`: 1 request, catching deployments
//!   that were created and finished between two refreshes;
//! - deployments that were active and are no longer: `id=...&id=...`, 1 request per 20
//!   (only when that happens).
//!
//! The whole finished history (`status=finished`, ceil(F/500) requests) is read on the first
//! refresh and every [`HISTORY_EVERY`] after: a finished deployment never changes again.
//! Servers without the v2 list (Mender <= 3.7 answers 404) get the same queries on the v1 list,
//! which has the same filters but `id` (those are read one by one from the detail instead).

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::client::ApiError;
use super::paging::{FetchError, Pager};
use super::watch::{Failed, Progress, loading_note};
use super::{DEPLOYMENTS, DEPLOYMENTS_V2, Inner, map, seg};
use crate::model::Resource;

/// How often the finished history is read again in full.
pub const HISTORY_EVERY: Duration = Duration::from_secs(600);
/// Ids per lookup of deployments that left the active lists (keeps the URL short).
const ID_CHUNK: usize = 20;

pub fn id_of(d: &Value) -> String {
    d.get("id")
        .and_then(|i| i.as_str())
        .unwrap_or("")
        .to_string()
}

pub fn is_finished(d: &Value) -> bool {
    d.get("status").and_then(|s| s.as_str()) == Some("finished")
}

/// The id of a list item, when it is safe to put into a path or a query (it goes into both).
fn checked_id(inner: &Inner, d: &Value) -> Option<String> {
    let id = id_of(d);
    if seg(&id).is_ok() {
        return Some(id);
    }
    tracing::warn!(source = %inner.id, "mender: skipping deployment id {id:?}");
    None
}

fn created_secs(d: &Value) -> Option<i64> {
    d.get("created")
        .and_then(|c| c.as_str())
        .and_then(|c| c.parse::<jiff::Timestamp>().ok())
        .map(|t| t.as_second())
}

/// The deployments list path with `query`: v2, or v1 once the server said it has no v2.
fn list_path(inner: &Inner, query: &str) -> String {
    let base = if inner.v1_deployments() {
        DEPLOYMENTS
    } else {
        DEPLOYMENTS_V2
    };
    if query.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{query}")
    }
}

/// A 404 from the v2 list: a server older than the v2 list (switch to v1 for good).
fn v2_missing(inner: &Inner, e: &FetchError) -> bool {
    !inner.v1_deployments()
        && e.endpoint == DEPLOYMENTS_V2
        && matches!(e.cause, ApiError::Status(404, _))
}

/// The `n` newest deployments, any status: one request (drill-down of deployment devices).
pub async fn newest(inner: &Inner, n: usize) -> Result<Vec<Value>, FetchError> {
    loop {
        let path = list_path(inner, &format!("sort=desc&page=1&per_page={n}"));
        let endpoint = path.split('?').next().unwrap_or("").to_string();
        let got = inner
            .api
            .request(http::Method::GET, &path, None)
            .await
            .and_then(|r| r.json())
            .map_err(|e| FetchError::new(endpoint.clone(), e));
        match got {
            Ok(Value::Array(items)) => return Ok(items),
            Ok(_) => {
                return Err(FetchError::new(
                    endpoint,
                    ApiError::Decode("expected a JSON list".into()),
                ));
            }
            Err(e) if v2_missing(inner, &e) => inner.use_v1_deployments(),
            Err(e) => return Err(e),
        }
    }
}

/// Every deployment seen, kept between refreshes.
#[derive(Default)]
pub struct Tracker {
    known: HashMap<String, Value>,
    /// The row of each known deployment, mapped again only when its JSON changed: a refresh
    /// then costs the mapping of the few active deployments, not of the whole history.
    rows: HashMap<String, Resource>,
    /// `/statistics` of list items that came without `statistics` (older servers); kept for
    /// finished deployments, read again for active ones.
    stats: HashMap<String, Value>,
    history_at: Option<Instant>,
}

impl Tracker {
    pub async fn refresh(
        &mut self,
        inner: &Inner,
        progress: &mut Progress<'_>,
    ) -> Result<Vec<Resource>, Failed> {
        let newest_created = self.known.values().filter_map(created_secs).max();
        let mut active = HashSet::new();
        for status in ["inprogress", "pending"] {
            let query = format!("status={status}&sort=desc");
            active.extend(
                self.read(inner, progress, &query, "active deployments")
                    .await?,
            );
        }
        // Deployments that were active and are not any more have finished (or are gone).
        let mut left: Vec<String> = self
            .known
            .iter()
            .filter(|(id, d)| !is_finished(d) && !active.contains(*id))
            .map(|(id, _)| id.clone())
            .collect();
        let history_due = self.history_at.is_none_or(|t| t.elapsed() >= HISTORY_EVERY);
        let finished = if history_due || newest_created.is_none() {
            let ids = self
                .read(
                    inner,
                    progress,
                    "status=finished&sort=desc",
                    "finished deployments",
                )
                .await?;
            self.history_at = Some(Instant::now());
            ids
        } else {
            let query = format!(
                "status=finished&sort=desc&created_after={}",
                newest_created.unwrap_or(0)
            );
            self.read(inner, progress, &query, "new deployments")
                .await?
        };
        left.retain(|id| !finished.contains(id));
        if !left.is_empty() && !history_due {
            self.look_up(inner, &left).await?;
        } else {
            // The whole history was read: whatever is still missing no longer exists.
            for id in &left {
                self.forget(id);
            }
        }
        self.statistics(inner).await?;
        Ok(self.rows(inner))
    }

    /// Page through one filtered list, keeping every item; the ids read.
    async fn read(
        &mut self,
        inner: &Inner,
        progress: &mut Progress<'_>,
        query: &str,
        what: &str,
    ) -> Result<HashSet<String>, Failed> {
        'list: loop {
            let path = list_path(inner, query);
            let mut pager = Pager::new(&inner.api, &path);
            let mut ids = HashSet::new();
            loop {
                match pager.next_page().await {
                    Ok(Some(items)) => {
                        for d in items {
                            if let Some(id) = checked_id(inner, &d) {
                                ids.insert(id.clone());
                                self.upsert(id, d);
                            }
                        }
                    }
                    Ok(None) => return Ok(ids),
                    Err(e) if pager.read() == 0 && v2_missing(inner, &e) => {
                        inner.use_v1_deployments();
                        continue 'list;
                    }
                    Err(e) => return Err(Failed::new(e, Some(self.rows(inner)))),
                }
                if progress.wanted() {
                    let note = loading_note(what, pager.read(), pager.total(), &path);
                    progress.rows(self.rows(inner), note).await;
                }
            }
        }
    }

    /// Read deployments by id: the v2 list's repeated `id` filter (api_deployments.go:1719),
    /// or the v1 detail one by one. Ids no longer found are dropped.
    async fn look_up(&mut self, inner: &Inner, ids: &[String]) -> Result<(), Failed> {
        let mut found = HashSet::new();
        for chunk in ids.chunks(ID_CHUNK) {
            if inner.v1_deployments() {
                for id in chunk {
                    let path = format!("{DEPLOYMENTS}/{id}");
                    match inner.api.request(http::Method::GET, &path, None).await {
                        Ok(r) => match r.json() {
                            Ok(d) if d.is_object() => {
                                found.insert(id.clone());
                                self.upsert(id.clone(), d);
                            }
                            Ok(_) => {}
                            Err(e) => return Err(self.failed(FetchError::new(path, e), inner)),
                        },
                        Err(ApiError::Status(404, _)) => {}
                        Err(e) => return Err(self.failed(FetchError::new(path, e), inner)),
                    }
                }
                continue;
            }
            let query: Vec<String> = chunk.iter().map(|id| format!("id={id}")).collect();
            let path = list_path(inner, &query.join("&"));
            let mut pager = Pager::new(&inner.api, &path);
            loop {
                match pager.next_page().await {
                    Ok(Some(items)) => {
                        for d in items {
                            if let Some(id) = checked_id(inner, &d) {
                                found.insert(id.clone());
                                self.upsert(id, d);
                            }
                        }
                    }
                    Ok(None) => break,
                    Err(e) => return Err(Failed::new(e, Some(self.rows(inner)))),
                }
            }
        }
        for id in ids {
            if !found.contains(id) {
                self.forget(id);
            }
        }
        Ok(())
    }

    /// Keep the latest state of a deployment; its row is mapped again only when it changed.
    fn upsert(&mut self, id: String, d: Value) {
        if self.known.get(&id) != Some(&d) {
            self.rows.remove(&id);
            self.known.insert(id, d);
        }
    }

    fn forget(&mut self, id: &str) {
        self.known.remove(id);
        self.rows.remove(id);
        self.stats.remove(id);
    }

    fn failed(&mut self, e: FetchError, inner: &Inner) -> Failed {
        Failed::new(e, Some(self.rows(inner)))
    }

    /// `/statistics` (flat) for items without nested `statistics`; current servers always
    /// send them in list items (mender-server backend/services/deployments/model/
    /// deployment.go:136-164,258-276), so this costs nothing there.
    async fn statistics(&mut self, inner: &Inner) -> Result<(), Failed> {
        let need: Vec<String> = self
            .known
            .iter()
            .filter(|(id, d)| {
                let listed = d.get("statistics").is_some_and(|s| s.is_object());
                let kept = is_finished(d) && self.stats.contains_key(*id);
                !listed && !kept
            })
            .map(|(id, _)| id.clone())
            .collect();
        for id in need {
            let path = format!("{DEPLOYMENTS}/{id}/statistics");
            match inner
                .api
                .request(http::Method::GET, &path, None)
                .await
                .and_then(|r| r.json())
            {
                Ok(s) if s.is_object() => {
                    if self.stats.get(&id) != Some(&s) {
                        self.rows.remove(&id);
                        self.stats.insert(id, s);
                    }
                }
                Ok(_) => tracing::warn!(source = %inner.id, "mender {path}: not an object"),
                Err(
                    e
                    @ (ApiError::Unauthorized | ApiError::RateLimited(_) | ApiError::Transport(_)),
                ) => return Err(self.failed(FetchError::new(path, e), inner)),
                // A deployment without statistics still shows, with empty counts.
                Err(e) => tracing::warn!(source = %inner.id, "mender {path}: {e}"),
            }
        }
        self.stats.retain(|id, _| self.known.contains_key(id));
        Ok(())
    }

    fn rows(&mut self, inner: &Inner) -> Vec<Resource> {
        let Tracker {
            known, rows, stats, ..
        } = self;
        known
            .iter()
            .map(|(id, d)| {
                rows.entry(id.clone())
                    .or_insert_with(|| {
                        let st = d
                            .get("statistics")
                            .filter(|s| s.is_object())
                            .or_else(|| stats.get(id));
                        map::deployment_row(&inner.id, d, st)
                    })
                    .clone()
            })
            .collect()
    }
}
