//! Reading a whole Mender list, page by page, without ever stopping early in silence.
//!
//! Pages are asked with `page`/`per_page` (per_page [`PER_PAGE`] = the server's maximum: above it
//! the server answers 400, mender-server backend/pkg/rest.utils/paging.go:26-38,78-80). The next
//! page is the `rel="next"` link of ANY `Link` line (see [`super::link`]), resolved against the
//! URL of the page just read (RFC 3986 §5, via the `url` crate), so the relative targets of old
//! inventory work as well as path-absolute ones. Without a next link, `X-Total-Count` (sent by
//! the deployments and inventory lists) says whether rows are missing; then the following page
//! is asked by number. Without either (a server or proxy that drops the headers), a full page
//! means "ask the next one".
//!
//! Anything that prevents reading the list to its end — an HTTP error on page 3, a next link to
//! another host (it would receive the token), a loop, an empty page while the total says more —
//! is a [`FetchError`] naming the endpoint, the page and how much was read, never a shorter list.

use std::collections::HashSet;

use serde_json::Value;
use url::Url;

use super::client::{Api, ApiError, Response};
use super::link;

/// Rows per page: the most the server allows.
pub const PER_PAGE: usize = 500;
/// Pages followed at most for one list (500 per page: 500,000 objects).
const MAX_PAGES: usize = 1000;
/// Mender's page size when `per_page` is absent (paging.go:27).
const SERVER_DEFAULT_PER_PAGE: usize = 20;

/// Where a list stopped: which page, and how much had been read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageInfo {
    pub page: usize,
    pub read: usize,
    pub total: Option<u64>,
}

/// A request that failed, with the endpoint it went to (path without query) so that the view
/// can say what is missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchError {
    pub endpoint: String,
    pub page: Option<PageInfo>,
    pub cause: ApiError,
}

impl FetchError {
    pub fn new(endpoint: impl Into<String>, cause: ApiError) -> Self {
        FetchError {
            endpoint: endpoint.into(),
            page: None,
            cause,
        }
    }
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GET {}", self.endpoint)?;
        if let Some(p) = &self.page {
            match p.total {
                Some(t) => write!(f, " page {} ({} of {t} read)", p.page, p.read)?,
                None => write!(f, " page {} ({} read)", p.page, p.read)?,
            }
        }
        write!(f, ": {}", self.cause)
    }
}

impl std::error::Error for FetchError {}

/// Reads one list page by page; see the module comment.
pub struct Pager<'a> {
    api: &'a Api,
    endpoint: String,
    next: Option<Url>,
    page: usize,
    read: usize,
    total: Option<u64>,
    seen: HashSet<String>,
    /// An error found with a page whose items were still good (a bad next link): reported by
    /// the following call, after those items.
    pending: Option<FetchError>,
}

impl<'a> Pager<'a> {
    /// `path` starts with `/api/...` and may carry a query (filters); `page` and `per_page`
    /// are added unless present.
    pub fn new(api: &'a Api, path: &str) -> Self {
        let endpoint = path.split('?').next().unwrap_or(path).to_string();
        let next = Url::parse(&format!("{}{path}", api.base()))
            .ok()
            .map(|mut u| {
                let has = |name: &str| u.query_pairs().any(|(k, _)| k == name);
                let (page, per_page) = (has("page"), has("per_page"));
                {
                    let mut q = u.query_pairs_mut();
                    if !page {
                        q.append_pair("page", "1");
                    }
                    if !per_page {
                        q.append_pair("per_page", &PER_PAGE.to_string());
                    }
                }
                u
            });
        Pager {
            api,
            endpoint,
            next,
            page: 0,
            read: 0,
            total: None,
            seen: HashSet::new(),
            pending: None,
        }
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Items read so far.
    pub fn read(&self) -> usize {
        self.read
    }

    /// The server's `X-Total-Count`, when it sends one.
    pub fn total(&self) -> Option<u64> {
        self.total
    }

    fn fail(&self, cause: ApiError) -> FetchError {
        FetchError {
            endpoint: self.endpoint.clone(),
            page: Some(PageInfo {
                page: self.page.max(1),
                read: self.read,
                total: self.total,
            }),
            cause,
        }
    }

    fn anomaly(&self, what: String) -> FetchError {
        self.fail(ApiError::Decode(what))
    }

    /// The next page's items; `Ok(None)` once the list is complete.
    pub async fn next_page(&mut self) -> Result<Option<Vec<Value>>, FetchError> {
        let Some(url) = self.start_page()? else {
            return Ok(None);
        };
        // Parsed item by item as it arrives, with a size cap (see `super::body`).
        let mut resp = self
            .api
            .get_list_url(&url)
            .await
            .map_err(|e| self.fail(e))?;
        self.take_page(&url, &mut resp)
    }

    /// [`next_page`](Self::next_page) with the response handed in instead of fetched: the same
    /// paging decisions without a server, so the fuzzer can drive them with hostile headers and
    /// bodies (fuzz/fuzz_targets/mender_pages.rs). `get` receives the URL that would be asked.
    #[doc(hidden)]
    pub fn next_page_with(
        &mut self,
        get: impl FnOnce(&Url) -> Result<Response, ApiError>,
    ) -> Result<Option<Vec<Value>>, FetchError> {
        let Some(url) = self.start_page()? else {
            return Ok(None);
        };
        let mut resp = get(&url).map_err(|e| self.fail(e))?;
        self.take_page(&url, &mut resp)
    }

    /// The checks before a request: a pending error, the end of the list, the page limit, a
    /// loop. Returns the URL to ask, `None` once the list is complete.
    fn start_page(&mut self) -> Result<Option<Url>, FetchError> {
        if let Some(e) = self.pending.take() {
            return Err(e);
        }
        if self.page == 0 && self.next.is_none() {
            return Err(self.fail(ApiError::Transport(format!(
                "bad server URL {}",
                self.api.base()
            ))));
        }
        let Some(url) = self.next.take() else {
            return Ok(None);
        };
        if self.page >= MAX_PAGES {
            return Err(self.anomaly(format!("more than {MAX_PAGES} pages")));
        }
        if !self.seen.insert(url.as_str().to_string()) {
            return Err(self.anomaly(format!(
                "the next link points back to a page already read ({})",
                url.path()
            )));
        }
        self.page += 1;
        Ok(Some(url))
    }

    /// One page's answer: its items, and where the list goes on.
    fn take_page(
        &mut self,
        url: &Url,
        resp: &mut Response,
    ) -> Result<Option<Vec<Value>>, FetchError> {
        let parsed = match resp.list.take() {
            Some(items) => Ok(Value::Array(items)),
            None => resp.json(),
        };
        let items = match parsed {
            Ok(Value::Array(items)) => items,
            Ok(other) => {
                return Err(self.anomaly(format!("expected a JSON list, got {}", kind(&other))));
            }
            Err(e) => return Err(self.fail(e)),
        };
        self.read += items.len();
        // A total that does not parse is ignored rather than trusted (the links still work).
        if let Some(t) = resp
            .header("x-total-count")
            .and_then(|t| t.trim().parse().ok())
        {
            self.total = Some(t);
        }
        let lines: Vec<&str> = resp
            .headers
            .get_all(http::header::LINK)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        let next = match link::find(lines.iter().copied(), "next") {
            Some(target) => self.follow(url, &target).map(Some),
            None => self.without_next_link(url, items.len(), !lines.is_empty()),
        };
        match next {
            Ok(next) => self.next = next,
            Err(e) => self.pending = Some(e),
        }
        Ok(Some(items))
    }

    /// A next link resolved against the page it came with; same origin only.
    fn follow(&self, page_url: &Url, target: &str) -> Result<Url, FetchError> {
        let next = page_url
            .join(target)
            .map_err(|e| self.anomaly(format!("bad next link <{target}>: {e}")))?;
        if !same_origin(&next, page_url) {
            // The bearer token would go to that host: never follow.
            return Err(self.anomaly(format!(
                "next link to another host ({}) not followed",
                next.host_str().unwrap_or("?")
            )));
        }
        Ok(next)
    }

    /// No next link: decide from `X-Total-Count`, else from a full page when the server sent no
    /// paging header at all.
    fn without_next_link(
        &self,
        page_url: &Url,
        n: usize,
        had_links: bool,
    ) -> Result<Option<Url>, FetchError> {
        let missing = self.total.is_some_and(|t| (self.read as u64) < t);
        if n == 0 {
            if missing {
                return Err(self.anomaly(format!(
                    "empty page while X-Total-Count is {}",
                    self.total.unwrap_or(0)
                )));
            }
            return Ok(None);
        }
        let full = n >= query_usize(page_url, "per_page").unwrap_or(SERVER_DEFAULT_PER_PAGE);
        if missing || (self.total.is_none() && !had_links && full) {
            let page = query_usize(page_url, "page").unwrap_or(1);
            return Ok(Some(with_page(page_url, page + 1)));
        }
        Ok(None)
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

fn query_usize(url: &Url, name: &str) -> Option<usize> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .and_then(|(_, v)| v.parse().ok())
}

/// `url` with its `page` parameter set to `page`, every other parameter kept.
fn with_page(url: &Url, page: usize) -> Url {
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != "page")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut next = url.clone();
    next.query_pairs_mut()
        .clear()
        .extend_pairs(pairs)
        .append_pair("page", &page.to_string());
    next
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_and_absolute_targets_resolve_against_the_page() {
        let page = Url::parse(
            "https://m.example:8443/api/management/v1/inventory/devices?page=1&per_page=500",
        )
        .unwrap();
        let api = Api::new("https://m.example:8443", None);
        let p = Pager::new(&api, "/api/management/v1/inventory/devices");
        // Old inventory: a bare relative reference replaces the last segment.
        assert_eq!(
            p.follow(&page, "devices?page=2&per_page=500")
                .unwrap()
                .as_str(),
            "https://m.example:8443/api/management/v1/inventory/devices?page=2&per_page=500"
        );
        assert_eq!(
            p.follow(
                &page,
                "/api/management/v1/inventory/devices?page=3&per_page=500"
            )
            .unwrap()
            .as_str(),
            "https://m.example:8443/api/management/v1/inventory/devices?page=3&per_page=500"
        );
        assert!(p.follow(&page, "https://evil.example/api/x").is_err());
        assert!(p.follow(&page, "http://m.example:8443/api/x").is_err());
    }

    #[test]
    fn the_first_url_carries_page_and_the_maximum_per_page() {
        let api = Api::new("https://m/", None);
        let p = Pager::new(&api, "/api/x?status=finished&sort=desc");
        let u = p.next.as_ref().unwrap();
        assert_eq!(
            u.as_str(),
            "https://m/api/x?status=finished&sort=desc&page=1&per_page=500"
        );
        assert_eq!(p.endpoint(), "/api/x");
        assert_eq!(
            with_page(u, 4).as_str(),
            "https://m/api/x?status=finished&sort=desc&per_page=500&page=4"
        );
    }

    #[test]
    fn errors_name_the_endpoint_and_the_page() {
        let e = FetchError {
            endpoint: "/api/management/v2/devauth/devices".into(),
            page: Some(PageInfo {
                page: 3,
                read: 1000,
                total: Some(2000),
            }),
            cause: ApiError::Status(500, "boom".into()),
        };
        assert_eq!(
            e.to_string(),
            "GET /api/management/v2/devauth/devices page 3 (1000 of 2000 read): HTTP 500: boom"
        );
    }
}
