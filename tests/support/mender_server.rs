//! A local Mender management API for tests: real HTTP on 127.0.0.1, real JSON shapes from
//! tests/fixtures/mender/.
//!
//! Lists are paginated like Mender (`page`/`per_page`, `Link: <...>; rel="next"`) with a page
//! size the test chooses, so a client that ignores the Link header misses rows. Other routes
//! answer canned replies; one-shot failures (401, 429 + Retry-After ...) can be queued per path.
//! Every request is recorded, Authorization header included, and a request without the
//! expected bearer token gets 401.
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::path::Path;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub query: String,
    pub authorization: Option<String>,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(status: u16, v: &Value) -> Reply {
        Reply {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: serde_json::to_vec(v).unwrap(),
        }
    }
    pub fn text(status: u16, t: &str) -> Reply {
        Reply {
            status,
            headers: vec![("content-type".into(), "text/plain".into())],
            body: t.as_bytes().to_vec(),
        }
    }
    pub fn header(mut self, k: &str, v: &str) -> Reply {
        self.headers.push((k.into(), v.into()));
        self
    }
}

#[derive(Default)]
struct State {
    token: String,
    /// path -> (items, page size)
    lists: HashMap<String, (Vec<Value>, usize)>,
    /// (method, path) -> reply
    replies: HashMap<(String, String), Reply>,
    /// path -> replies served once each before the normal answer
    once: HashMap<String, VecDeque<Reply>>,
    requests: Vec<Recorded>,
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
    }
}

pub fn fixture(name: &str) -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/mender")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(&p).expect("fixture")).expect("fixture json")
}

pub fn fixture_text(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/mender")
        .join(name);
    std::fs::read_to_string(&p).expect("fixture")
}

impl MenderServer {
    pub async fn start(token: &str) -> MenderServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State {
            token: token.to_string(),
            ..Default::default()
        }));
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
                        async move { Ok::<_, Infallible>(handle(st, port, req).await) }
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

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Serve `items` at `path` (GET), `page_size` per page with Link headers.
    pub fn list(&self, path: &str, items: Vec<Value>, page_size: usize) {
        self.state
            .lock()
            .unwrap()
            .lists
            .insert(path.to_string(), (items, page_size.max(1)));
    }

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

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().requests.clone()
    }
}

fn respond(r: Reply) -> Response<Full<Bytes>> {
    let mut b = Response::builder().status(r.status);
    for (k, v) in &r.headers {
        b = b.header(k.as_str(), v.as_str());
    }
    b.body(Full::new(Bytes::from(r.body))).unwrap()
}

fn query_param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == name).then(|| v.to_string())
    })
}

async fn handle(st: Arc<Mutex<State>>, port: u16, req: Request<Incoming>) -> Response<Full<Bytes>> {
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
    s.requests.push(Recorded {
        method: method.clone(),
        path: path.clone(),
        query: query.clone(),
        authorization: authorization.clone(),
        content_type,
        body,
    });
    if let Some(r) = s.once.get_mut(&path).and_then(|q| q.pop_front()) {
        return respond(r);
    }
    if authorization.as_deref() != Some(&format!("Bearer {}", s.token)) {
        return respond(Reply::json(
            401,
            &serde_json::json!({"error": "Unauthorized", "request_id": "test"}),
        ));
    }
    if let Some(r) = s.replies.get(&(method.clone(), path.clone())) {
        return respond(r.clone());
    }
    if method == "GET"
        && let Some((items, size)) = s.lists.get(&path)
    {
        let page: usize = query_param(&query, "page")
            .and_then(|p| p.parse().ok())
            .unwrap_or(1)
            .max(1);
        let per_page = query_param(&query, "per_page").unwrap_or_else(|| "20".into());
        let start = (page - 1) * size;
        let chunk: Vec<Value> = items.iter().skip(start).take(*size).cloned().collect();
        let mut links = vec![format!(
            "<http://127.0.0.1:{port}{path}?page=1&per_page={per_page}>; rel=\"first\""
        )];
        if start + size < items.len() {
            links.push(format!(
                "<http://127.0.0.1:{port}{path}?page={}&per_page={per_page}>; rel=\"next\"",
                page + 1
            ));
        }
        return respond(Reply::json(200, &Value::Array(chunk)).header("link", &links.join(", ")));
    }
    respond(Reply::json(
        404,
        &serde_json::json!({"error": format!("no route {method} {path}"), "request_id": "test"}),
    ))
}
