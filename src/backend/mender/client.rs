//! A small HTTPS client for the Mender management API: bearer token, JSON, and the error
//! classes the views tell apart (401, 403, 429, transport). Lists are read by
//! [`super::paging::Pager`].

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

use super::body::{MAX_BODY, MAX_ERROR_BODY, ReadError, read_bytes, read_list};

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
    /// The answer of this path was larger than the cap (bytes): reading stopped there.
    TooLarge(String, usize),
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
            ApiError::TooLarge(path, limit) => write!(
                f,
                "the answer of {path} is larger than {} MiB: stopped reading",
                limit / (1024 * 1024)
            ),
        }
    }
}

impl std::error::Error for ApiError {}

/// Longest Retry-After honoured; a server asking for more is asked again after this.
const MAX_RETRY_AFTER: u64 = 300;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

pub struct Response {
    pub status: u16,
    pub headers: http::HeaderMap,
    /// The body (empty when it was read as a list).
    pub body: Bytes,
    /// The body's items, when it was read as a list ([`Api::get_list_url`]).
    pub list: Option<Vec<Value>>,
}

impl Response {
    pub fn json(&self) -> Result<Value, ApiError> {
        if let Some(items) = &self.list {
            return Ok(Value::Array(items.clone()));
        }
        super::body::parse(&self.body).map_err(ApiError::Decode)
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
        self.exchange(method, url, body, false).await
    }

    /// One request; a 2xx body is read with a cap, as a list item by item when `list`.
    async fn exchange(
        &self,
        method: http::Method,
        url: &str,
        body: Option<&Value>,
        list: bool,
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
                .map_err(|e| ApiError::Transport(crate::backend::error::chain_text(&e)))?;
            let status = resp.status().as_u16();
            let headers = resp.headers().clone();
            let path = endpoint_of(url);
            let read_error = |e: ReadError| match e {
                ReadError::TooLarge(limit) => ApiError::TooLarge(path.clone(), limit),
                ReadError::Transport(t) => ApiError::Transport(t),
                ReadError::Decode(d) => ApiError::Decode(d),
            };
            let ok = (200..300).contains(&status);
            if ok && list {
                let items = read_list(resp.into_body(), MAX_BODY)
                    .await
                    .map_err(read_error)?;
                return Ok::<_, ApiError>(Response {
                    status,
                    headers,
                    body: Bytes::new(),
                    list: Some(items),
                });
            }
            // An error answer is only quoted (its start): the rest is not read.
            let limit = if ok { MAX_BODY } else { MAX_ERROR_BODY };
            let (body, cut) = read_bytes(resp.into_body(), limit)
                .await
                .map_err(read_error)?;
            if ok && cut {
                return Err(ApiError::TooLarge(path, limit));
            }
            Ok::<_, ApiError>(Response {
                status,
                headers,
                body,
                list: None,
            })
        };
        let resp = tokio::time::timeout(REQUEST_TIMEOUT, fut)
            .await
            .map_err(|_| ApiError::Transport("timed out".into()))??;
        check(resp)
    }

    /// GET one absolute URL (a page of a list); the caller made sure it is on this server.
    pub async fn get_url(&self, url: &url::Url) -> Result<Response, ApiError> {
        self.request_url(http::Method::GET, url.as_str(), None)
            .await
    }

    /// GET one page of a list, parsed item by item as it arrives (see `super::body`); the
    /// items are in `Response::list`.
    pub async fn get_list_url(&self, url: &url::Url) -> Result<Response, ApiError> {
        self.exchange(http::Method::GET, url.as_str(), None, true)
            .await
    }
}

/// The path of `url`, without the query: what errors name.
fn endpoint_of(url: &str) -> String {
    url.parse::<http::Uri>()
        .map(|u| u.path().to_string())
        .unwrap_or_else(|_| url.split('?').next().unwrap_or(url).to_string())
}

/// Longest server text quoted in an error (the rest is counted, not shown).
const ERROR_TEXT_MAX: usize = 200;

/// The Mender error body's `error` text, else the start of the body; sanitised and bounded
/// either way: a server can put anything there, of any length.
fn error_text(body: &[u8]) -> String {
    use crate::term::sanitize::sanitize_short;
    if let Ok(v) = serde_json::from_slice::<Value>(body)
        && let Some(e) = v.get("error").and_then(|e| e.as_str())
    {
        return sanitize_short(e, ERROR_TEXT_MAX);
    }
    // Only the start of the body is looked at: it may be megabytes.
    let head = &body[..body.len().min(4 * ERROR_TEXT_MAX)];
    let clean = crate::term::sanitize::sanitize_plain(String::from_utf8_lossy(head).trim());
    if head.len() == body.len() && clean.chars().count() <= ERROR_TEXT_MAX {
        return clean;
    }
    let start: String = clean.chars().take(ERROR_TEXT_MAX).collect();
    format!("{start}… ({} bytes in all)", body.len())
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
    fn the_token_never_prints() {
        let t = Token::new("s3cret");
        assert_eq!(format!("{t:?} {t}"), "*** ***");
        let api = Api::new("https://m", Some(t));
        assert!(!format!("{api:?}").contains("s3cret"));
    }
}
