//! A cap on what one Kubernetes answer may cost. kube-client collects list and get bodies
//! whole and reads watch streams line by line with no line limit, so an API server (or a proxy)
//! that answers `200` and sends forever grew the process by gigabytes (6.6 GB in 10 s in the
//! review). This tower layer, in the client's service stack, counts the bytes of every answer
//! and fails the body, naming the path, past:
//!
//! - [`MAX_BODY`] for a whole answer (a list page: the watcher asks 500 objects at a time);
//! - [`MAX_WATCH_LINE`] for one line of a watch stream (one event; a watch itself runs for
//!   minutes and may carry any amount in total);
//!
//! Pod logs are not capped here: their reader splits lines itself, bounded
//! (`crate::term::sanitize::LineSplitter`). Upgraded connections (exec) carry no body.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http::{Request, Response};
use http_body::{Body, Frame, SizeHint};

pub use crate::backend::too_large::TooLarge;

/// The most bytes of one answer that is read whole.
pub const MAX_BODY: usize = 64 * 1024 * 1024;
/// The most bytes of one watch event (etcd stores objects of at most 1.5 MiB by default).
pub const MAX_WATCH_LINE: usize = 16 * 1024 * 1024;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How an answer is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cap {
    Whole(usize),
    Line(usize),
    None,
}

impl Cap {
    fn of<B>(req: &Request<B>) -> Cap {
        let path = req.uri().path();
        let watch = req
            .uri()
            .query()
            .is_some_and(|q| q.split('&').any(|p| p == "watch=true" || p == "watch=1"));
        if path.ends_with("/log")
            || ["/exec", "/attach", "/portforward"]
                .iter()
                .any(|s| path.ends_with(s))
        {
            Cap::None
        } else if watch {
            Cap::Line(MAX_WATCH_LINE)
        } else {
            Cap::Whole(MAX_BODY)
        }
    }
}

/// The layer for `kube::client::ClientBuilder::with_layer`.
#[derive(Debug, Clone, Copy, Default)]
pub struct LimitLayer;

impl<S> tower_layer::Layer<S> for LimitLayer {
    type Service = Limit<S>;
    fn layer(&self, inner: S) -> Limit<S> {
        Limit { inner }
    }
}

#[derive(Debug, Clone)]
pub struct Limit<S> {
    inner: S,
}

impl<S, ReqBody, B> tower_service::Service<Request<ReqBody>> for Limit<S>
where
    S: tower_service::Service<Request<ReqBody>, Response = Response<B>>,
    S::Future: Send + 'static,
{
    type Response = Response<Capped<B>>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let cap = Cap::of(&req);
        let path = req.uri().path().to_string();
        let fut = self.inner.call(req);
        Box::pin(async move {
            let res = fut.await?;
            Ok(res.map(|inner| Capped {
                inner,
                cap,
                path,
                seen: 0,
                failed: false,
            }))
        })
    }
}

/// A response body that fails with [`TooLarge`] past its cap.
#[derive(Debug)]
pub struct Capped<B> {
    inner: B,
    cap: Cap,
    path: String,
    /// Bytes of the whole body, or since the last newline (watch).
    seen: usize,
    failed: bool,
}

impl<B> Capped<B> {
    /// Count `data`; the error once past the cap.
    fn count(&mut self, data: &[u8]) -> Result<(), TooLarge> {
        let (limit, what) = match self.cap {
            Cap::None => return Ok(()),
            Cap::Whole(l) => {
                self.seen += data.len();
                (l, "the answer")
            }
            Cap::Line(l) => {
                self.seen = match memchr::memrchr(b'\n', data) {
                    Some(nl) => data.len() - nl - 1,
                    None => self.seen + data.len(),
                };
                (l, "a watch event")
            }
        };
        if self.seen > limit {
            return Err(TooLarge {
                what,
                path: self.path.clone(),
                limit,
            });
        }
        Ok(())
    }
}

impl<B> Body for Capped<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        if self.failed {
            return Poll::Ready(None);
        }
        match ready!(Pin::new(&mut self.inner).poll_frame(cx)) {
            Some(Ok(frame)) => {
                if let Some(data) = frame.data_ref()
                    && let Err(e) = self.count(data)
                {
                    self.failed = true;
                    return Poll::Ready(Some(Err(Box::new(e))));
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Some(Err(e)) => Poll::Ready(Some(Err(e.into()))),
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.failed || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cap(uri: &str) -> Cap {
        Cap::of(&Request::get(uri).body(()).unwrap())
    }

    #[test]
    fn lists_are_capped_whole_watches_per_line_logs_not() {
        assert_eq!(
            cap("/api/v1/namespaces/a/pods?limit=500"),
            Cap::Whole(MAX_BODY)
        );
        assert_eq!(
            cap("/api/v1/namespaces/a/pods?&watch=true&timeoutSeconds=290"),
            Cap::Line(MAX_WATCH_LINE)
        );
        assert_eq!(
            cap("/api/v1/namespaces/a/pods/p/log?follow=true"),
            Cap::None
        );
        assert_eq!(
            cap("/api/v1/namespaces/a/pods/p/exec?command=sh"),
            Cap::None
        );
    }

    #[test]
    fn counting_stops_at_the_cap_and_lines_reset_it() {
        let mut b = Capped {
            inner: (),
            cap: Cap::Whole(10),
            path: "/x".into(),
            seen: 0,
            failed: false,
        };
        assert!(b.count(b"12345").is_ok());
        assert!(b.count(b"12345").is_ok());
        let e = b.count(b"1").unwrap_err();
        assert_eq!(e.path, "/x");
        assert_eq!(
            TooLarge {
                limit: MAX_BODY,
                ..e
            }
            .to_string(),
            "the answer of /x is larger than 64 MiB: stopped reading"
        );
        let mut w = Capped {
            inner: (),
            cap: Cap::Line(10),
            path: "/w".into(),
            seen: 0,
            failed: false,
        };
        for _ in 0..100 {
            assert!(w.count(b"event\n1234").is_ok(), "every event is short");
        }
        assert!(w.count(b"1234567").is_err(), "one line over the cap");
    }
}
