//! A local Mender management API for tests: real HTTP on 127.0.0.1, answering like the
//! upstream server, and checking both sides of every exchange against the upstream OpenAPI
//! documents (tests/fixtures/mender/openapi/, validator in tests/support/openapi.rs).
//!
//! - Every request is checked (path in the spec, method, query parameters known and
//!   well-typed, JSON body against the request schema) and every response too (status
//!   declared, body against the response schema, declared headers typed). A violation is
//!   recorded, the request gets a 400 naming it, and the server PANICS WHEN DROPPED (the test
//!   fails) unless the test took the violations with [`MenderServer::take_violations`].
//! - Lists are computed from [`Data`]: `page`/`per_page` honoured (default 20, like the
//!   server), `per_page` > 500 refused with upstream's 400 (mender-server
//!   backend/pkg/rest.utils/paging.go:26-38,78-80), `X-Total-Count` where upstream sends it
//!   (deployments, inventory; not device auth), filters of the v1/v2 deployments lists.
//! - `Link`: one header line per rel, in the order and target style of [`LinkStyle`].
//! - The deprecated unpaged `.../deployments/{id}/devices` still answers, but a call to it
//!   also fails the test at drop unless [`MenderServer::allow_deprecated`] was called:
//!   fleetdeck must use `.../devices/list`.
//! - One-shot replies ([`MenderServer::once`]: 429 + Retry-After ...), failing pages
//!   ([`MenderServer::fail_page`]) and fixed replies ([`MenderServer::reply`]) override the
//!   computed answers; they are validated like any other answer unless marked
//!   [`Reply::off_contract`].
//!
//! Every request is recorded, Authorization header included; one without the expected bearer
//! token gets 401.

#![allow(dead_code)]

#[path = "openapi.rs"]
pub mod openapi;

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub const DEVAUTH: &str = "/api/management/v2/devauth/devices";
pub const INVENTORY: &str = "/api/management/v1/inventory/devices";
pub const DEPLOYMENTS: &str = "/api/management/v1/deployments/deployments";
pub const DEPLOYMENTS_V2: &str = "/api/management/v2/deployments/deployments";

/// How list responses carry their `Link` headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkStyle {
    /// mender-server: first, prev, next, last, one line each, path-absolute targets
    /// (backend/pkg/rest.utils/paging.go:157-194; `last` only where a total is known).
    Monorepo,
    /// go-lib-micro (services <= 3.7): prev, next, first, one line each, path-absolute
    /// (mendersoftware/go-lib-micro@e89531a rest_utils/paging.go `MakePageLinkHdrs`, `MakeLink`).
    GoLibMicro,
    /// Old inventory (<= 3.7): go-lib-micro's order, bare relative targets
    /// `<devices?page=2&per_page=N>` (mendersoftware/inventory@4c53e7d utils/http.go `MakeLink`).
    /// Applied to every list here, so that every list is read through a relative reference.
    OldInventory,
    /// The monorepo's links comma-joined on ONE line (RFC 8288 allows it; a proxy may fold).
    OneLine,
    /// No Link header at all (the client has X-Total-Count, or nothing, to go on).
    None,
}

#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub query: String,
    pub authorization: Option<String>,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
    /// When the request arrived and when its answer was handed to hyper.
    pub at: Instant,
    pub served: Instant,
    pub status: u16,
    /// Bytes of the response body.
    pub bytes: usize,
}

impl Recorded {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
    /// The values of query parameter `name`, decoded.
    pub fn param(&self, name: &str) -> Vec<String> {
        url::form_urlencoded::parse(self.query.as_bytes())
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .collect()
    }
}

#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Why this reply deliberately breaks the contract (a malformed answer for a robustness
    /// test); such replies are not validated.
    pub off_contract: Option<String>,
}

impl Reply {
    pub fn json(status: u16, v: &Value) -> Reply {
        Reply {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: serde_json::to_vec(v).unwrap(),
            off_contract: None,
        }
    }
    pub fn text(status: u16, t: &str) -> Reply {
        Reply {
            status,
            headers: vec![("content-type".into(), "text/plain".into())],
            body: t.as_bytes().to_vec(),
            off_contract: None,
        }
    }
    /// No body (201, 204).
    pub fn empty(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            off_contract: None,
        }
    }
    /// Upstream's error body `{"error": ..., "request_id": ...}`.
    pub fn error(status: u16, msg: &str) -> Reply {
        Reply::json(status, &json!({"error": msg, "request_id": "test"}))
    }
    /// 429 as the rate limiter sends it: integer Retry-After and an error body (mender-server
    /// backend/pkg/rate/limit_http.go:181-190).
    pub fn too_many(retry_after_secs: u64) -> Reply {
        Reply::error(429, "too many requests").header("retry-after", &retry_after_secs.to_string())
    }
    pub fn header(mut self, k: &str, v: &str) -> Reply {
        self.headers.push((k.into(), v.into()));
        self
    }
    pub fn off_contract(mut self, why: &str) -> Reply {
        self.off_contract = Some(why.into());
        self
    }
}

/// What the server holds, in upstream's JSON shapes.
#[derive(Default, Clone)]
pub struct Data {
    /// Device auth v2 devices, in the server's order.
    pub devices: Vec<Value>,
    /// Inventory v1 devices.
    pub inventory: Vec<Value>,
    /// Deployments (each with nested `statistics`), any order; lists sort by `created`.
    pub deployments: Vec<Value>,
    /// Per-device deployment statuses by deployment id.
    pub deployment_devices: HashMap<String, Vec<Value>>,
    /// Deployment logs by (deployment id, device id).
    pub logs: HashMap<(String, String), String>,
}

struct State {
    token: String,
    data: Data,
    link_style: LinkStyle,
    /// (method, path) -> reply
    replies: HashMap<(String, String), Reply>,
    /// path -> replies served once each before the normal answer
    once: HashMap<String, VecDeque<Reply>>,
    /// (path, page) -> reply, every time
    fail_pages: HashMap<(String, usize), Reply>,
    /// Answer 404 on the v2 deployments list, like a server <= 3.7.
    no_v2: bool,
    validate: bool,
    violations: Vec<String>,
    allow_deprecated: bool,
    deprecated_calls: Vec<String>,
    requests: Vec<Recorded>,
    created: u64,
}

pub struct MenderServer {
    pub port: u16,
    state: Arc<Mutex<State>>,
    accept: Option<JoinHandle<()>>,
}

impl Drop for MenderServer {
    fn drop(&mut self) {
        if let Some(a) = self.accept.take() {
            a.abort();
        }
        if std::thread::panicking() {
            return;
        }
        let s = self.state.lock().unwrap();
        let mut problems = s.violations.clone();
        if !s.allow_deprecated {
            problems.extend(
                s.deprecated_calls
                    .iter()
                    .map(|c| format!("deprecated endpoint called: {c}")),
            );
        }
        if !problems.is_empty() {
            panic!(
                "the Mender test server saw {} contract violation(s):\n  {}",
                problems.len(),
                problems.join("\n  ")
            );
        }
    }
}

fn fixture_path(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/mender")
        .join(name)
}

pub fn fixture(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixture_path(name)).expect("fixture"))
        .expect("fixture json")
}

pub fn fixture_text(name: &str) -> String {
    std::fs::read_to_string(fixture_path(name)).expect("fixture")
}

fn items(name: &str) -> Vec<Value> {
    fixture(name).as_array().expect("a JSON list").clone()
}

/// The fixtures of tests/fixtures/mender as server data: 3 devices (2 with inventory), 2
/// deployments (one finished with a failure, one in progress), their devices, one log.
pub fn fixture_data() -> Data {
    let mut d = Data {
        devices: items("devauth_devices.json"),
        inventory: items("inventory_devices.json"),
        deployments: items("deployments.json"),
        ..Default::default()
    };
    for (id, file) in [
        ("0c13a0e6-6b63-49b8-be8f-4bd3d3cd1e1b", "0c13a0e6"),
        ("1d24b1f7-7c74-4ac9-8f90-5ce4e4de2f2c", "1d24b1f7"),
    ] {
        d.deployment_devices
            .insert(id.into(), items(&format!("deployment_devices_{file}.json")));
    }
    d.logs.insert(
        (
            "0c13a0e6-6b63-49b8-be8f-4bd3d3cd1e1b".into(),
            "64a1f0c2e4b0a1b2c3d4e5f2".into(),
        ),
        fixture_text("deployment_log.txt"),
    );
    d
}

impl MenderServer {
    /// A server with no data.
    pub async fn start(token: &str) -> MenderServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State {
            token: token.to_string(),
            data: Data::default(),
            link_style: LinkStyle::Monorepo,
            replies: HashMap::new(),
            once: HashMap::new(),
            fail_pages: HashMap::new(),
            no_v2: false,
            validate: true,
            violations: Vec::new(),
            allow_deprecated: false,
            deprecated_calls: Vec::new(),
            requests: Vec::new(),
            created: 0,
        }));
        // Parse the documents now, not inside the first request.
        openapi::spec();
        let st = Arc::clone(&state);
        let accept = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let st = Arc::clone(&st);
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req| {
                        let st = Arc::clone(&st);
                        async move { Ok::<_, Infallible>(handle(st, req).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        MenderServer {
            port,
            state,
            accept: Some(accept),
        }
    }

    /// A server holding [`fixture_data`].
    pub async fn with_fixtures(token: &str) -> MenderServer {
        let s = Self::start(token).await;
        s.set_data(fixture_data());
        s
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn set_data(&self, data: Data) {
        self.state.lock().unwrap().data = data;
    }

    /// Change the data in place (a deployment finishing, devices joining ...).
    pub fn data<R>(&self, f: impl FnOnce(&mut Data) -> R) -> R {
        f(&mut self.state.lock().unwrap().data)
    }

    pub fn link_style(&self, style: LinkStyle) {
        self.state.lock().unwrap().link_style = style;
    }

    /// Answer 404 on the v2 deployments list, like Mender <= 3.7.
    pub fn without_v2(&self) {
        self.state.lock().unwrap().no_v2 = true;
    }

    /// Skip the OpenAPI checks (benchmarks measuring the client, after a validated run).
    pub fn set_validation(&self, on: bool) {
        self.state.lock().unwrap().validate = on;
    }

    /// A fixed answer for (method, path), instead of the computed one.
    pub fn reply(&self, method: &str, path: &str, reply: Reply) {
        self.state
            .lock()
            .unwrap()
            .replies
            .insert((method.to_string(), path.to_string()), reply);
    }

    /// The next request to `path` (any method) gets `reply`, then the normal answer.
    pub fn once(&self, path: &str, reply: Reply) {
        self.state
            .lock()
            .unwrap()
            .once
            .entry(path.to_string())
            .or_default()
            .push_back(reply);
    }

    /// Page `page` of the list at `path` answers `reply`, every time, until cleared.
    pub fn fail_page(&self, path: &str, page: usize, reply: Reply) {
        self.state
            .lock()
            .unwrap()
            .fail_pages
            .insert((path.to_string(), page), reply);
    }

    pub fn clear_failures(&self) {
        self.state.lock().unwrap().fail_pages.clear();
    }

    /// Calls of the deprecated `.../devices` are expected (a test of the double itself).
    pub fn allow_deprecated(&self) {
        self.state.lock().unwrap().allow_deprecated = true;
    }

    pub fn deprecated_calls(&self) -> Vec<String> {
        self.state.lock().unwrap().deprecated_calls.clone()
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().requests.clone()
    }

    pub fn clear_requests(&self) {
        self.state.lock().unwrap().requests.clear();
    }

    /// The contract violations so far, removed (a test that provokes them on purpose).
    pub fn take_violations(&self) -> Vec<String> {
        std::mem::take(&mut self.state.lock().unwrap().violations)
    }
}

fn respond(r: &Reply) -> Response<Full<Bytes>> {
    let mut b = Response::builder().status(r.status);
    for (k, v) in &r.headers {
        // `header` appends: repeated names (Link) go out as separate lines.
        b = b.header(k.as_str(), v.as_str());
    }
    b.body(Full::new(Bytes::from(r.body.clone()))).unwrap()
}

fn query_pairs(query: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn query_param(query: &str, name: &str) -> Option<String> {
    query_pairs(query)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

fn query_all(query: &str, name: &str) -> Vec<String> {
    query_pairs(query)
        .into_iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v)
        .collect()
}

/// Upstream's paging parameters, or its 400 (mender-server backend/pkg/rest.utils/paging.go:50-83).
fn paging(query: &str) -> Result<(usize, usize), Reply> {
    let parse = |name: &str, default: usize| -> Result<usize, Reply> {
        match query_param(query, name) {
            None => Ok(default),
            Some(v) => match v.parse::<i64>() {
                Err(_) => Err(Reply::error(400, &format!("invalid {name} query: \"{v}\""))),
                Ok(n) if n < 1 => Err(Reply::error(
                    400,
                    &format!("invalid {name} query: value must be a non-zero positive integer"),
                )),
                Ok(n) => Ok(n as usize),
            },
        }
    };
    let page = parse("page", 1)?;
    let per_page = parse("per_page", 20)?;
    if per_page > 500 {
        return Err(Reply::error(
            400,
            "parameter \"per_page\" above limit (max: 500)",
        ));
    }
    Ok((page, per_page))
}

/// A query string as Go's `url.Values.Encode()` writes it: keys sorted, form-encoded.
fn go_encode(pairs: &[(String, String)]) -> String {
    let mut sorted = pairs.to_vec();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(sorted)
        .finish()
}

/// One page of `all` with upstream's headers. `total`: send X-Total-Count (and the monorepo's
/// `last` link); device auth sends neither (mender-server
/// backend/services/deviceauth/api/http/api_devauth.go:258-276).
fn page_of(style: LinkStyle, path: &str, query: &str, all: &[Value], total: bool) -> Reply {
    let (page, per_page) = match paging(query) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let start = (page - 1).saturating_mul(per_page);
    let chunk: Vec<Value> = all.iter().skip(start).take(per_page).cloned().collect();
    let has_next = start + per_page < all.len();
    let last_page = all.len().div_ceil(per_page).max(1);
    let link = |p: usize, rel: &str| {
        let mut pairs: Vec<(String, String)> = query_pairs(query)
            .into_iter()
            .filter(|(k, _)| k != "page" && k != "per_page")
            .collect();
        pairs.push(("page".into(), p.to_string()));
        pairs.push(("per_page".into(), per_page.to_string()));
        let q = go_encode(&pairs);
        let target = match style {
            LinkStyle::OldInventory => {
                format!("{}?{q}", path.rsplit('/').next().unwrap_or(""))
            }
            _ => format!("{path}?{q}"),
        };
        format!("<{target}>; rel=\"{rel}\"")
    };
    let mut links = Vec::new();
    match style {
        LinkStyle::Monorepo | LinkStyle::OneLine => {
            links.push(link(1, "first"));
            if page > 1 {
                links.push(link(page - 1, "prev"));
            }
            if has_next {
                links.push(link(page + 1, "next"));
            }
            if total && !all.is_empty() {
                links.push(link(last_page, "last"));
            }
        }
        LinkStyle::GoLibMicro | LinkStyle::OldInventory => {
            if page > 1 {
                links.push(link(page - 1, "prev"));
            }
            if has_next {
                links.push(link(page + 1, "next"));
            }
            links.push(link(1, "first"));
        }
        LinkStyle::None => {}
    }
    let mut reply = Reply::json(200, &Value::Array(chunk));
    if style == LinkStyle::OneLine {
        reply = reply.header("link", &links.join(", "));
    } else {
        for l in links {
            reply = reply.header("link", &l);
        }
    }
    if total {
        reply = reply.header("x-total-count", &all.len().to_string());
    }
    reply
}

fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit()))
}

fn created(d: &Value) -> jiff::Timestamp {
    d["created"]
        .as_str()
        .and_then(|c| c.parse().ok())
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

/// The v1/v2 deployments list with upstream's filters: status, ids, names,
/// created_after/before (Unix seconds, inclusive), sorted by creation, newest first unless
/// `sort=asc` (mender-server backend/services/deployments/api/http/api_deployments.go:1636-1753,
/// backend/services/deployments/store/mongo/datastore_mongo.go:2743-2850).
fn deployments_list(data: &Data, query: &str, v2: bool) -> Result<Vec<Value>, Reply> {
    let status = query_param(query, "status");
    if let Some(s) = &status
        && !["inprogress", "finished", "pending", "aborted"].contains(&s.as_str())
    {
        return Err(Reply::error(400, &format!("unknown status {s}")));
    }
    let ids = if v2 {
        query_all(query, "id")
    } else {
        Vec::new()
    };
    let names = if v2 {
        query_all(query, "name")
    } else {
        Vec::new()
    };
    let secs = |name: &str| -> Result<Option<i64>, Reply> {
        match query_param(query, name) {
            None => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| {
                Reply::error(
                    400,
                    &format!("timestamp parsing failed for {name} parameter"),
                )
            }),
        }
    };
    let (after, before) = (secs("created_after")?, secs("created_before")?);
    let mut out: Vec<Value> = data
        .deployments
        .iter()
        .filter(|d| match status.as_deref() {
            None => true,
            // `aborted` lists finished ones (datastore_mongo.go:2781-2791).
            Some("aborted") => d["status"] == "finished",
            Some(s) => d["status"] == s,
        })
        .filter(|d| ids.is_empty() || ids.iter().any(|i| d["id"] == i.as_str()))
        .filter(|d| names.is_empty() || names.iter().any(|n| d["name"] == n.as_str()))
        .filter(|d| after.is_none_or(|a| created(d).as_second() >= a))
        .filter(|d| before.is_none_or(|b| created(d).as_second() <= b))
        .cloned()
        .collect();
    out.sort_by_key(created);
    if query_param(query, "sort").as_deref() != Some("asc") {
        out.reverse();
    }
    Ok(out)
}

const FINAL: [&str; 6] = [
    "success",
    "failure",
    "noartifact",
    "already-installed",
    "aborted",
    "decommissioned",
];

/// Abort: devices not in a final state become `aborted`, the deployment `finished`.
fn abort(data: &mut Data, id: &str) -> Reply {
    let Some(d) = data.deployments.iter_mut().find(|d| d["id"] == id) else {
        return Reply::error(404, "Deployment not found");
    };
    if d["status"] == "finished" {
        return Reply::error(422, "Deployment already finished");
    }
    d["status"] = json!("finished");
    d["finished"] = json!(jiff::Timestamp::now().to_string());
    if let Some(stats) = d["statistics"]["status"].as_object_mut() {
        let mut moved = 0;
        for (k, v) in stats.iter_mut() {
            if !FINAL.contains(&k.as_str()) {
                moved += v.as_u64().unwrap_or(0);
                *v = json!(0);
            }
        }
        let aborted = stats.get("aborted").and_then(|a| a.as_u64()).unwrap_or(0);
        stats.insert("aborted".into(), json!(aborted + moved));
    }
    for dev in data.deployment_devices.entry(id.to_string()).or_default() {
        if !FINAL.contains(&dev["status"].as_str().unwrap_or("")) {
            dev["status"] = json!("aborted");
        }
    }
    Reply::empty(204)
}

fn create(s: &mut State, body: &Value, group: Option<&str>) -> Reply {
    s.created += 1;
    let id = uuid(0xc0de_0000 + s.created);
    let devices: Vec<Value> = body["devices"].as_array().cloned().unwrap_or_default();
    let n = devices.len() as u64;
    let mut d = json!({
        "id": id,
        "name": body["name"],
        "artifact_name": body["artifact_name"],
        "created": jiff::Timestamp::now().to_string(),
        "status": "pending",
        "device_count": n,
        "type": "software",
        "statistics": {"status": stats(&[("pending", n)]), "total_size": 0},
    });
    if let Some(g) = group {
        d["groups"] = json!([g]);
    }
    s.data.deployments.push(d);
    s.data.deployment_devices.insert(
        id.clone(),
        devices
            .iter()
            .map(|dev| json!({"id": dev, "status": "pending", "log": false, "created": jiff::Timestamp::now().to_string()}))
            .collect(),
    );
    // Location: path-absolute (mender-server
    // backend/services/deployments/api/http/api_deployments.go:1119-1121).
    Reply::empty(201).header("location", &format!("{DEPLOYMENTS}/{id}"))
}

/// The computed answer of the double for one validated operation.
fn route(
    s: &mut State,
    method: &str,
    template: &str,
    path: &str,
    query: &str,
    body: &[u8],
) -> Reply {
    let style = s.link_style;
    let last = path.rsplit('/').next().unwrap_or("").to_string();
    let nth = |i: usize| path.split('/').nth(i).unwrap_or("").to_string();
    // /api/management/v1/deployments/deployments/{id}/... : the id is segment 6.
    let dep_id = nth(6);
    let find = |list: &[Value], id: &str| list.iter().find(|d| d["id"] == id).cloned();
    match (method, template) {
        ("GET", DEVAUTH) => {
            let status = query_param(query, "status");
            let ids = query_all(query, "id");
            let all: Vec<Value> = s
                .data
                .devices
                .iter()
                .filter(|d| status.as_ref().is_none_or(|st| d["status"] == st.as_str()))
                .filter(|d| ids.is_empty() || ids.iter().any(|i| d["id"] == i.as_str()))
                .cloned()
                .collect();
            page_of(style, path, query, &all, false)
        }
        ("GET", "/api/management/v2/devauth/devices/{id}") => match find(&s.data.devices, &last) {
            Some(d) => Reply::json(200, &d),
            None => Reply::error(404, "device not found"),
        },
        ("GET", INVENTORY) => page_of(style, path, query, &s.data.inventory, true),
        ("GET", "/api/management/v1/inventory/devices/{id}") => {
            match find(&s.data.inventory, &last) {
                Some(d) => Reply::json(200, &d),
                None => Reply::error(404, "Device not found"),
            }
        }
        ("GET", DEPLOYMENTS) | ("GET", DEPLOYMENTS_V2) => {
            let v2 = template == DEPLOYMENTS_V2;
            if v2 && s.no_v2 {
                // A server <= 3.7 has no such route: its router's plain 404.
                return Reply::text(404, "404 page not found")
                    .off_contract("a server older than the v2 list does not know it");
            }
            match deployments_list(&s.data, query, v2) {
                Ok(all) => page_of(style, path, query, &all, true),
                Err(r) => r,
            }
        }
        ("POST", DEPLOYMENTS) => {
            let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
            create(s, &body, None)
        }
        ("POST", "/api/management/v1/deployments/deployments/group/{name}") => {
            let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
            create(s, &body, Some(&last))
        }
        ("GET", "/api/management/v1/deployments/deployments/{id}") => {
            match find(&s.data.deployments, &dep_id) {
                Some(d) => Reply::json(200, &d),
                None => Reply::error(404, "Deployment not found"),
            }
        }
        ("PUT", "/api/management/v1/deployments/deployments/{deployment_id}/status") => {
            if !is_uuid(&dep_id) {
                return Reply::error(400, "ID is not a valid UUID");
            }
            abort(&mut s.data, &dep_id)
        }
        ("GET", "/api/management/v1/deployments/deployments/{deployment_id}/statistics") => {
            match find(&s.data.deployments, &dep_id) {
                // Flat, unlike the nested `statistics` of a deployment.
                Some(d) => Reply::json(200, &d["statistics"]["status"]),
                None => Reply::error(404, "Deployment not found"),
            }
        }
        ("GET", "/api/management/v1/deployments/deployments/{deployment_id}/devices") => {
            s.deprecated_calls.push(format!("GET {path}"));
            match s.data.deployment_devices.get(&dep_id) {
                Some(list) => Reply::json(200, &Value::Array(list.clone())),
                None => Reply::error(404, "Deployment not found"),
            }
        }
        ("GET", "/api/management/v1/deployments/deployments/{deployment_id}/devices/list") => {
            // (mender-server backend/services/deployments/api/http/api_deployments.go:1573-1634)
            if !is_uuid(&dep_id) {
                return Reply::error(400, "ID is not a valid UUID");
            }
            if find(&s.data.deployments, &dep_id).is_none() {
                return Reply::error(404, "Deployment not found");
            }
            let status = query_param(query, "status");
            let all: Vec<Value> = s
                .data
                .deployment_devices
                .get(&dep_id)
                .into_iter()
                .flatten()
                .filter(|d| status.as_ref().is_none_or(|st| d["status"] == st.as_str()))
                .cloned()
                .collect();
            page_of(style, path, query, &all, true)
        }
        (
            "GET",
            "/api/management/v1/deployments/deployments/{deployment_id}/devices/{device_id}/log",
        ) => match s.data.logs.get(&(dep_id.clone(), nth(8))) {
            Some(t) => Reply::text(200, t),
            None => Reply::error(404, "Deployment log not found"),
        },
        _ => Reply::error(
            404,
            &format!("the test double does not implement {method} {template}"),
        ),
    }
}

async fn handle(st: Arc<Mutex<State>>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let at = Instant::now();
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let header = |n: &str| {
        req.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(String::from)
    };
    let authorization = header("authorization");
    let content_type = header("content-type");
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes().to_vec())
        .unwrap_or_default();
    let mut s = st.lock().unwrap();
    let spec = openapi::spec();
    let what = format!(
        "{method} {path}{}{query}",
        if query.is_empty() { "" } else { "?" }
    );
    let (op, reply) = match spec.find_op(&method, &path) {
        Err(e) => {
            s.violations.push(format!("{what}: {e}"));
            (None, Reply::error(404, &e))
        }
        Ok(op) => {
            let mut errs = Vec::new();
            if s.validate {
                errs = spec.check_request(op, &path, &query, content_type.as_deref(), &body);
            }
            let reply = if let Err(r) = paging(&query) {
                // per_page > 500 or a bad page: upstream's own 400 (and a violation).
                errs.push(String::from_utf8_lossy(&r.body).into_owned());
                r
            } else if !errs.is_empty() {
                Reply::error(
                    400,
                    &format!("request violates the OpenAPI spec: {}", errs.join("; ")),
                )
            } else if let Some(r) = s.once.get_mut(&path).and_then(|q| q.pop_front()) {
                r
            } else if authorization.as_deref() != Some(&format!("Bearer {}", s.token)) {
                Reply::error(401, "Unauthorized")
            } else if let Some(r) = s.replies.get(&(method.clone(), path.clone())) {
                r.clone()
            } else if let Some(r) = paging(&query)
                .ok()
                .and_then(|(page, _)| s.fail_pages.get(&(path.clone(), page)))
            {
                r.clone()
            } else {
                route(&mut s, &method, &op.template, &path, &query, &body)
            };
            for e in errs {
                s.violations.push(format!("request {what}: {e}"));
            }
            (Some(op), reply)
        }
    };
    if let Some(op) = op
        && s.validate
        && reply.off_contract.is_none()
    {
        for e in spec.check_response(op, reply.status, &reply.headers, &reply.body) {
            s.violations
                .push(format!("response {} to {what}: {e}", reply.status));
        }
    }
    s.requests.push(Recorded {
        method,
        path,
        query,
        authorization,
        content_type,
        body,
        at,
        served: Instant::now(),
        status: reply.status,
        bytes: reply.body.len(),
    });
    respond(&reply)
}

// ---- Data builders for big lists ----

/// A deterministic UUID (v4 layout) for item `n`.
pub fn uuid(n: u64) -> String {
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        n >> 16,
        n & 0xffff,
        n & 0xfff,
        (n >> 12) & 0xfff,
        n
    )
}

/// A device id like the server's (24 hex digits).
pub fn device_id(n: usize) -> String {
    format!("{:024x}", 0x64a1_0000_0000_0000_0000_0000u128 + n as u128)
}

/// All twelve per-status counters (the spec requires each), zero unless given.
pub fn stats(counts: &[(&str, u64)]) -> Value {
    let mut m = serde_json::Map::new();
    for k in [
        "success",
        "pending",
        "downloading",
        "rebooting",
        "installing",
        "failure",
        "noartifact",
        "already-installed",
        "aborted",
        "pause_before_installing",
        "pause_before_rebooting",
        "pause_before_committing",
    ] {
        let n = counts
            .iter()
            .find(|(c, _)| *c == k)
            .map(|(_, n)| *n)
            .unwrap_or(0);
        m.insert(k.into(), json!(n));
    }
    Value::Object(m)
}

/// `n` accepted devices with inventory (device type, artifact, group in the system scope).
pub fn synth_devices(n: usize) -> (Vec<Value>, Vec<Value>) {
    let t0 = jiff::Timestamp::from_second(1_714_550_400).unwrap();
    (0..n)
        .map(|i| {
            let id = device_id(i);
            let ts = (t0 + jiff::SignedDuration::from_secs(i as i64)).to_string();
            let auth = json!({
                "id": id,
                "identity_data": {"mac": format!("02:00:00:{:02x}:{:02x}:{:02x}", i >> 16 & 0xff, i >> 8 & 0xff, i & 0xff)},
                "status": if i % 50 == 7 { "pending" } else { "accepted" },
                "created_ts": ts,
                "updated_ts": ts,
                "check_in_time": ts,
                "auth_sets": [],
                "decommissioning": false,
            });
            let inv = json!({
                "id": id,
                "attributes": [
                    {"name": "device_type", "value": "raspberrypi4", "scope": "inventory"},
                    {"name": "artifact_name", "value": format!("release-{}", i % 3), "scope": "inventory"},
                    {"name": "group", "value": format!("group-{}", i % 10), "scope": "system"},
                ],
                "updated_ts": ts,
            });
            (auth, inv)
        })
        .unzip()
}

/// A deployment in upstream's shape, created `i` minutes after 2024-05-01.
pub fn synth_deployment(i: usize, status: &str, devices: u64) -> Value {
    let t0 = jiff::Timestamp::from_second(1_714_550_400).unwrap();
    let created = t0 + jiff::SignedDuration::from_secs(60 * i as i64);
    let counts = match status {
        "finished" if i % 7 == 3 => stats(&[
            ("success", devices.saturating_sub(1)),
            ("failure", 1.min(devices)),
        ]),
        "finished" if i % 11 == 5 => stats(&[("noartifact", devices)]),
        "finished" => stats(&[("success", devices)]),
        "inprogress" => stats(&[
            ("downloading", devices / 2),
            ("pending", devices - devices / 2),
        ]),
        _ => stats(&[("pending", devices)]),
    };
    let mut d = json!({
        "id": uuid(i as u64 + 1),
        "name": format!("deployment-{i:05}"),
        "artifact_name": format!("release-{}", i % 40),
        "created": created.to_string(),
        "status": status,
        "device_count": devices,
        "artifacts": [uuid(0xa000_0000 + (i % 40) as u64)],
        "type": "software",
        "statistics": {"status": counts, "total_size": 104_857_600 * devices},
    });
    if status == "finished" {
        d["finished"] = json!((created + jiff::SignedDuration::from_secs(1800)).to_string());
    }
    d
}

/// `finished` finished deployments, then `active` in progress (the newest), 3 devices each.
pub fn synth_deployments(finished: usize, active: usize) -> Vec<Value> {
    (0..finished + active)
        .map(|i| {
            synth_deployment(
                i,
                if i < finished {
                    "finished"
                } else {
                    "inprogress"
                },
                3,
            )
        })
        .collect()
}

/// Go's `time.Time.String()` of a UTC time: fraction without trailing zeros, none when zero
/// (what the deployments service writes before each log message,
/// backend/services/deployments/model/device_deployment_log.go:58-60).
pub fn go_time(t: jiff::Timestamp) -> String {
    let base = t.strftime("%Y-%m-%d %H:%M:%S").to_string();
    let nanos = t.subsec_nanosecond();
    let frac = if nanos == 0 {
        String::new()
    } else {
        format!(".{nanos:09}").trim_end_matches('0').to_string()
    };
    format!("{base}{frac} +0000 UTC")
}
