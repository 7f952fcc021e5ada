//! The transport to the engine for the unix socket, plain TCP and `SkipTLSVerify` HTTPS:
//! bollard builds the requests, this sends each on its own connection (as bollard does) and
//! reads the answer through a byte budget. bollard collects JSON answers whole, so an engine
//! (or anything on its socket) that answers `200` and sends forever would grow the process
//! without bound; past [`MAX_ANSWER`] bytes the read fails with [`TooLarge`] naming the path.
//!
//! Streams are not capped: logs, stats, events, attach and exec output run as long as the
//! operator watches, and their readers bound what they keep (logs split lines, exec output is
//! cut at its limit). Endpoints reached through bollard's own transports (verified TLS with the
//! context's CA, `ssh://`) are not capped here.

use std::future::Future;
use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bollard::{BollardRequest, Docker};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpStream, UnixStream};

use crate::backend::too_large::TooLarge;

/// The most bytes of one answer (status line and headers included) that is not a stream.
pub const MAX_ANSWER: usize = 64 * 1024 * 1024;

/// How the engine is reached.
#[derive(Clone)]
pub enum Dial {
    Unix(PathBuf),
    /// `host:port` from the request URI.
    Tcp,
    /// HTTPS over TCP with this client config.
    Tls(Arc<rustls::ClientConfig>),
}

/// A bollard client over `dial`; `addr` is what request URIs carry (`http://docker` for a
/// socket, `http://host:port`, `https://host:port`).
pub fn docker(dial: Dial, addr: String, timeout: u64) -> Result<Docker, bollard::errors::Error> {
    Docker::connect_with_custom_transport(
        move |req: BollardRequest| {
            let dial = dial.clone();
            async move { send(dial, req).await }
        },
        Some(addr),
        timeout,
        bollard::API_DEFAULT_VERSION,
    )
}

async fn send(
    dial: Dial,
    req: BollardRequest,
) -> Result<http::Response<hyper::body::Incoming>, bollard::errors::Error> {
    let path = req.uri().path().to_string();
    let budget = (!is_stream(&path)).then_some(MAX_ANSWER);
    let connector = Connector {
        dial: dial.clone(),
        budget,
        path: Arc::from(path.as_str()),
    };
    let mut builder = Client::builder(TokioExecutor::new());
    // No idle pool: every request gets its own connection, and so its own budget.
    builder.pool_max_idle_per_host(0);
    let res = match dial {
        Dial::Tls(config) => {
            let https = hyper_rustls::HttpsConnector::from((connector, (*config).clone()));
            builder.build(https).request(req).await
        }
        _ => builder.build(connector).request(req).await,
    };
    res.map_err(bollard::errors::Error::from)
}

/// Answers that are streams (read for as long as they run), by path.
fn is_stream(path: &str) -> bool {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let last = segs.last().copied().unwrap_or("");
    let before = |n: usize| segs.len().checked_sub(n + 1).map(|i| segs[i]);
    matches!(
        last,
        "logs" | "stats" | "attach" | "events" | "export" | "archive" | "build"
    ) || (last == "start" && before(2) == Some("exec"))
        || (before(1) == Some("images") && matches!(last, "create" | "get" | "load"))
}

/// Opens the connection for one request, reading through its budget.
#[derive(Clone)]
struct Connector {
    dial: Dial,
    budget: Option<usize>,
    path: Arc<str>,
}

impl tower_service::Service<http::Uri> for Connector {
    type Response = TokioIo<CappedIo>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<TokioIo<CappedIo>>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: http::Uri) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            let stream = match &this.dial {
                Dial::Unix(p) => Stream::Unix(UnixStream::connect(p).await?),
                Dial::Tcp | Dial::Tls(_) => {
                    let host = uri.host().unwrap_or("localhost");
                    let port = uri.port_u16().unwrap_or(match uri.scheme_str() {
                        Some("https") => 443,
                        _ => 2375,
                    });
                    let s = TcpStream::connect((host.trim_matches(['[', ']']), port)).await?;
                    let _ = s.set_nodelay(true);
                    Stream::Tcp(s)
                }
            };
            Ok(TokioIo::new(CappedIo {
                stream,
                left: this.budget,
                limit: this.budget.unwrap_or(0),
                path: this.path,
            }))
        })
    }
}

enum Stream {
    Unix(UnixStream),
    Tcp(TcpStream),
}

/// A connection whose reads fail past the budget.
pub struct CappedIo {
    stream: Stream,
    /// Bytes that may still be read; None = a stream, no cap.
    left: Option<usize>,
    limit: usize,
    path: Arc<str>,
}

impl Connection for CappedIo {
    fn connected(&self) -> Connected {
        Connected::new()
    }
}

impl AsyncRead for CappedIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let this = &mut *self;
        let r = match &mut this.stream {
            Stream::Unix(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tcp(s) => Pin::new(s).poll_read(cx, buf),
        };
        if let (Poll::Ready(Ok(())), Some(left)) = (&r, this.left.as_mut()) {
            let n = buf.filled().len() - before;
            if n > *left {
                *left = 0;
                return Poll::Ready(Err(io::Error::other(TooLarge {
                    what: "the answer",
                    path: this.path.to_string(),
                    limit: this.limit,
                })));
            }
            *left -= n;
        }
        r
    }
}

impl AsyncWrite for CappedIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        match &mut self.stream {
            Stream::Unix(s) => Pin::new(s).poll_write(cx, data),
            Stream::Tcp(s) => Pin::new(s).poll_write(cx, data),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.stream {
            Stream::Unix(s) => Pin::new(s).poll_flush(cx),
            Stream::Tcp(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.stream {
            Stream::Unix(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tcp(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_told_apart_by_path() {
        for p in [
            "/v1.41/containers/abc/logs",
            "/v1.41/containers/abc/stats",
            "/v1.41/containers/abc/attach",
            "/v1.41/events",
            "/v1.41/exec/123/start",
            "/v1.41/services/web/logs",
            "/v1.41/tasks/t1/logs",
            "/v1.41/images/create",
        ] {
            assert!(is_stream(p), "{p}");
        }
        for p in [
            "/v1.41/containers/json",
            "/v1.41/containers/abc/json",
            "/v1.41/containers/abc/start",
            "/v1.41/version",
            "/v1.41/exec/123/json",
            "/v1.41/images/json",
            "/_ping",
        ] {
            assert!(!is_stream(p), "{p}");
        }
    }
}
