//! Kubernetes errors as the operator should read them: "forbidden: list pods in namespace
//! shop", "cannot reach the API server at https://…: connection refused".

use kube::runtime::watcher;

use super::Inner;
use crate::backend::error::root_cause_text;
use crate::term::sanitize::sanitize_plain;

/// What a failed call means for the view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// 401/403: the source is up, this kind is not ours to see.
    Forbidden(String),
    /// The resourceVersion is too old (410): the watcher relists by itself.
    Gone,
    /// Anything else: unreachable server, bad response, …
    Other(String),
}

/// `forbidden: <verb> <resource> in namespace <ns>`.
pub fn forbidden_text(verb: &str, resource: &str, namespace: Option<&str>) -> String {
    match namespace {
        Some(ns) => format!("forbidden: {verb} {resource} in namespace {ns}"),
        None => format!("forbidden: {verb} {resource} in all namespaces"),
    }
}

/// Human text for a client error of `verb resource` on this source.
pub fn classify(inner: &Inner, verb: &str, resource: &str, e: &kube::Error) -> Failure {
    // An answer over its size cap is not a reachability problem: say what was too large.
    if let Some(t) = super::limit::TooLarge::find(e) {
        let server = inner.server().unwrap_or_default();
        return Failure::Other(sanitize_plain(&format!(
            "{verb} {resource}: {} of {server}{} is larger than {} MiB: stopped reading",
            t.what,
            t.path,
            t.limit / (1024 * 1024)
        )));
    }
    match e {
        kube::Error::Api(status) if status.code == 401 || status.code == 403 => {
            let mut text = forbidden_text(verb, resource, inner.namespace.as_deref());
            if status.code == 401 {
                text = format!("unauthorized ({}): {text}", inner.context);
            }
            Failure::Forbidden(text)
        }
        kube::Error::Api(status) if status.code == 410 => Failure::Gone,
        kube::Error::Api(status) => Failure::Other(sanitize_plain(&format!(
            "{verb} {resource}: {} ({})",
            status.message, status.code
        ))),
        kube::Error::HyperError(_) | kube::Error::Service(_) => {
            let server = inner.server().unwrap_or_else(|| inner.context.clone());
            Failure::Other(sanitize_plain(&format!(
                "cannot reach the API server at {server}: {}",
                root_cause_text(e)
            )))
        }
        other => Failure::Other(sanitize_plain(&format!("{verb} {resource}: {other}"))),
    }
}

/// Human text for a watcher error.
pub fn classify_watch(inner: &Inner, resource: &str, e: &watcher::Error) -> Failure {
    match e {
        watcher::Error::InitialListFailed(e) => classify(inner, "list", resource, e),
        watcher::Error::WatchStartFailed(e) | watcher::Error::WatchFailed(e) => {
            classify(inner, "watch", resource, e)
        }
        watcher::Error::WatchError(status) => match status.code {
            410 => Failure::Gone,
            401 | 403 => Failure::Forbidden(forbidden_text(
                "watch",
                resource,
                inner.namespace.as_deref(),
            )),
            _ => Failure::Other(sanitize_plain(&format!(
                "watch {resource}: {} ({})",
                status.message, status.code
            ))),
        },
        watcher::Error::NoResourceVersion => Failure::Other(format!(
            "watch {resource}: no resourceVersion in the answer"
        )),
    }
}

/// One-line text for an error of a one-shot call (act, describe, logs).
pub fn text(inner: &Inner, verb: &str, resource: &str, e: &kube::Error) -> String {
    match classify(inner, verb, resource, e) {
        Failure::Forbidden(t) | Failure::Other(t) => t,
        Failure::Gone => format!("{verb} {resource}: resource version too old"),
    }
}
