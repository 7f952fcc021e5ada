//! A small HTTPS client for the Mender management API: bearer token, JSON, pagination by
//! `Link: rel="next"`, and the error classes the views tell apart (401, 403, 429, transport).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

/// A personal access token. Never printed: Debug and Display show `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    pub fn new(s: impl Into<String>) -> Self {
        Token(s.into())
    }
    fn bearer(&self) -> String {
        format!("Bearer {}", self.0)
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

impl std::fmt::Display for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// Why a request failed, in the classes the UI shows differently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// No token in the environment variable.
    NoToken,
    /// 401: the token is missing, expired or wrong.
    Unauthorized,
    /// 403: the token's user may not do this.
    Forbidden(String),
    /// 429: retry after this many seconds.
    RateLimited(u64),
    /// Any other HTTP error status, with the server's `error` text.
    Status(u16, String),
    /// Connection refused, DNS, TLS, timeout ...
    Transport(String),
    /// The server answered something that is not the expected JSON.
    Decode(String),
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiError::NoToken => f.write_str("no token"),
            ApiError::Unauthorized => f.write_str("unauthorized"),
            ApiError::Forbidden(m) if m.is_empty() => f.write_str("forbidden"),
            ApiError::Forbidden(m) => write!(f, "forbidden: {m}"),
            ApiError::RateLimited(s) => write!(f, "rate limited, retrying in {s}s"),
            ApiError::Status(code, m) => write!(f, "HTTP {code}: {m}"),
            ApiError::Transport(m) => f.write_str(m),
            ApiError::Decode(m) => write!(f, "unexpected answer: {m}"),
        }
    }
}

impl std::error::Error for ApiError {}

/// Longest Retry-After honoured; a server asking for more is asked again after this.
const MAX_RETRY_AFTER: u64 = 300;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
/// Pages followed at most for one list (500 per page: 500k objects).
const MAX_PAGES: usize = 1000;
pub const PER_PAGE: usize = 500;

pub struct Response {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

impl Response {
    pub fn json(&self) -> Result<Value, ApiError> {
        serde_json::from_slice(&self.body).map_err(|e| ApiError::Decode(e.to_string()))
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

type HttpsClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

#[derive(Clone)]
pub struct Api {
    /// Scheme, host and port (and any path prefix), without a trailing slash.
    base: String,
    token: Option<Token>,
    client: Arc<Result<HttpsClient, String>>,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api")
            .field("base", &self.base)
            .field("token", &self.token)
            .finish()
    }
}

fn build_client() -> Result<HttpsClient, String> {
    use rustls_platform_verifier::BuilderVerifierExt;
    // ring explicitly: the crate graph is ring-only and must not depend on a process default.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup failed: {e}"))?
        .with_platform_verifier()
        .map_err(|e| format!("TLS setup failed: {e}"))?
        .with_no_client_auth();
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_connect_timeout(Some(Duration::from_secs(10)));
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(config)
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    Ok(Client::builder(TokioExecutor::new()).build(https))
}

impl Api {
    pub fn new(base: &str, token: Option<Token>) -> Self {
        Api {
            base: base.trim_end_matches('/').to_string(),
            token,
            client: Arc::new(build_client()),
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// One request; `path` starts with `/api/...` (query included).
    pub async fn request(
        &self,
        method: http::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Response, ApiError> {
        let url = format!("{}{path}", self.base);
        self.request_url(method, &url, body).await
    }

    async fn request_url(
        &self,
        method: http::Method,
        url: &str,
        body: Option<&Value>,
    ) -> Result<Response, ApiError> {
        let token = self.token.as_ref().ok_or(ApiError::NoToken)?;
        let client = self
            .client
            .as_ref()
            .as_ref()
            .map_err(|e| ApiError::Transport(e.clone()))?;
        let mut req = http::Request::builder()
            .method(method.clone())
            .uri(url)
            .header(http::header::AUTHORIZATION, token.bearer())
            .header(http::header::ACCEPT, "application/json")
            .header(http::header::USER_AGENT, "fleetdeck");
        let payload = match body {
            Some(v) => {
                req = req.header(http::header::CONTENT_TYPE, "application/json");
                Bytes::from(serde_json::to_vec(v).unwrap_or_default())
            }
            None => Bytes::new(),
        };
        let req = req
            .body(Full::new(payload))
            .map_err(|e| ApiError::Transport(format!("bad request {url}: {e}")))?;
        tracing::debug!(%method, url, "mender request");
        let fut = async {
            let resp = client
                .request(req)
                .await
                .map_err(|e| ApiError::Transport(transport_text(&e)))?;
            let status = resp.status().as_u16();
            let headers = resp.headers().clone();
            let body = resp
                .into_body()
                .collect()
                .await
                .map_err(|e| ApiError::Transport(e.to_string()))?
                .to_bytes();
            Ok::<_, ApiError>(Response {
                status,
                headers,
                body,
            })
        };
        let resp = tokio::time::timeout(REQUEST_TIMEOUT, fut)
            .await
            .map_err(|_| ApiError::Transport("timed out".into()))??;
        check(resp)
    }

    /// GET every page of a list: `page`/`per_page`, following `Link: <...>; rel="next"`.
    pub async fn get_all(&self, path: &str) -> Result<Vec<Value>, ApiError> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut url = format!("{}{path}{sep}page=1&per_page={PER_PAGE}", self.base);
        let mut out = Vec::new();
        for page in 1..=MAX_PAGES {
            let resp = self.request_url(http::Method::GET, &url, None).await?;
            let items = match resp.json()? {
                Value::Array(items) => items,
                other => return Err(ApiError::Decode(format!("expected a list, got {other}"))),
            };
            let n = items.len();
            out.extend(items);
            let next = resp.header("link").and_then(next_link);
            url = match next {
                Some(next) => match self.resolve(&next) {
                    Some(u) => u,
                    // A next page on another host would receive the token: never follow.
                    None => {
                        tracing::warn!("mender: ignoring a next link to another host");
                        break;
                    }
                },
                None if n >= PER_PAGE && resp.header("link").is_none() => format!(
                    "{}{path}{sep}page={}&per_page={PER_PAGE}",
                    self.base,
                    page + 1
                ),
                None => break,
            };
            if n == 0 {
                break;
            }
        }
        Ok(out)
    }

    /// A Link target as a full URL on this server; None for another origin.
    fn resolve(&self, link: &str) -> Option<String> {
        if link.starts_with('/') {
            let origin = origin(&self.base);
            return Some(format!("{origin}{link}"));
        }
        if origin(link) == origin(&self.base) {
            return Some(link.to_string());
        }
        None
    }
}

/// scheme://host[:port] of a URL.
fn origin(url: &str) -> &str {
    let after = url.find("://").map(|i| i + 3).unwrap_or(0);
    match url[after..].find('/') {
        Some(i) => &url[..after + i],
        None => url,
    }
}

/// The `rel="next"` target of a Link header.
pub fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let is_next = params.split(';').any(|p| {
            let p = p.trim().replace(' ', "");
            p == "rel=\"next\"" || p == "rel=next"
        });
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        is_next.then(|| target.to_string())
    })
}

fn transport_text(e: &hyper_util::client::legacy::Error) -> String {
    use std::error::Error;
    let mut text = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        text = format!("{text}: {s}");
        src = s.source();
    }
    text
}

/// The Mender error body's `error` text, else the start of the body.
fn error_text(body: &[u8]) -> String {
    if let Ok(v) = serde_json::from_slice::<Value>(body)
        && let Some(e) = v.get("error").and_then(|e| e.as_str())
    {
        return crate::term::sanitize::sanitize_plain(e);
    }
    let text = String::from_utf8_lossy(body);
    crate::term::sanitize::sanitize_plain(text.trim())
        .chars()
        .take(200)
        .collect()
}

fn check(resp: Response) -> Result<Response, ApiError> {
    match resp.status {
        200..=299 => Ok(resp),
        401 => Err(ApiError::Unauthorized),
        403 => Err(ApiError::Forbidden(error_text(&resp.body))),
        429 => {
            let secs = resp
                .header("retry-after")
                .and_then(|v| v.trim().parse::<u64>().ok())
                .unwrap_or(30)
                .clamp(1, MAX_RETRY_AFTER);
            Err(ApiError::RateLimited(secs))
        }
        code => Err(ApiError::Status(code, error_text(&resp.body))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_link_is_found_among_others() {
        let h = r#"<https://m.example/api/x?page=1&per_page=20>; rel="first", <https://m.example/api/x?page=3&per_page=20>; rel="next""#;
        assert_eq!(
            next_link(h).as_deref(),
            Some("https://m.example/api/x?page=3&per_page=20")
        );
        assert_eq!(next_link(r#"<https://m/a>; rel="first""#), None);
    }

    #[test]
    fn links_to_other_hosts_are_not_followed() {
        let api = Api::new("https://m.example:8443/", None);
        assert_eq!(
            api.resolve("/api/x?page=2").as_deref(),
            Some("https://m.example:8443/api/x?page=2")
        );
        assert_eq!(
            api.resolve("https://m.example:8443/api/x?page=2")
                .as_deref(),
            Some("https://m.example:8443/api/x?page=2")
        );
        assert_eq!(api.resolve("https://evil.example/api/x"), None);
    }

    #[test]
    fn the_token_never_prints() {
        let t = Token::new("s3cret");
        assert_eq!(format!("{t:?} {t}"), "*** ***");
        let api = Api::new("https://m", Some(t));
        assert!(!format!("{api:?}").contains("s3cret"));
    }
}
