//! A Mender list read to its end: the pager (`Pager::next_page_with`, the same decisions as over
//! the network) driven by hostile pages — `Link` lines, `X-Total-Count`, JSON bodies — and every
//! item mapped to rows the way the views map them.
//!
//! Input: the request path on the first line, then pages separated by a line `--page--`; each
//! page is header lines (`Name: value`), an empty line, and the body, like an HTTP answer.
//!
//! Promises checked: the token never goes to another origin (every URL asked is on the
//! server), no page is asked twice, a list never ends early in silence (a clean end means every
//! row the server's total announced was read), rows hold no control characters.
#![no_main]

mod common;

use std::collections::HashSet;
use std::sync::OnceLock;

use bytes::Bytes;
use common::{assert_clean, assert_clean_but_tab};
use fleetdeck::backend::mender::client::{Api, ApiError, Response};
use fleetdeck::backend::mender::map;
use fleetdeck::backend::mender::paging::Pager;
use fleetdeck::model::{Resource, SourceId};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use url::Url;

const BASE: &str = "https://mender.example:8443";

fn api() -> &'static Api {
    static API: OnceLock<Api> = OnceLock::new();
    API.get_or_init(|| Api::new(BASE, None))
}

fn check_row(r: &Resource) {
    assert_clean(&r.key.id, "row id");
    assert_clean(&r.name, "row name");
    if let Some(p) = &r.parent {
        assert_clean(p, "row parent");
    }
    for c in &r.cells {
        assert_clean(c, "row cell");
    }
    for (k, v) in &r.labels {
        assert_clean(k, "label name");
        assert_clean(v, "label value");
    }
}

fn response(page: &str) -> Response {
    let (head, body) = page.split_once("\n\n").unwrap_or(("", page));
    let mut headers = http::HeaderMap::new();
    for line in head.lines() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        // What a real transport would deliver: valid names and values only.
        if let (Ok(n), Ok(v)) = (
            http::header::HeaderName::from_bytes(name.trim().as_bytes()),
            http::HeaderValue::from_str(value.trim()),
        ) {
            headers.append(n, v);
        }
    }
    Response {
        status: 200,
        headers,
        body: Bytes::copy_from_slice(body.as_bytes()),
        list: None,
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (path, rest) = text.split_once('\n').unwrap_or(("", &text));
    // The path is the console's own (an endpoint constant, ids checked by `seg`), never raw
    // server text: only printable ASCII ones are taken from the input.
    let path = if path.starts_with("/api/") && path.bytes().all(|b| b.is_ascii_graphic()) {
        path
    } else {
        "/api/management/v2/devauth/devices"
    };
    let base = Url::parse(BASE).unwrap();
    let mut pages = rest.split("\n--page--\n");
    let mut pager = Pager::new(api(), path);
    let mut asked: HashSet<String> = HashSet::new();
    let mut items: Vec<Value> = Vec::new();
    let source = SourceId::new("mender:fuzz");

    loop {
        let mut requested = None;
        let result = pager.next_page_with(|url| {
            requested = Some(url.clone());
            match pages.next() {
                Some(p) => Ok(response(p)),
                // The input has no more pages: the server went away.
                None => Err(ApiError::Transport("connection closed".into())),
            }
        });
        if let Some(url) = requested {
            // The bearer token goes with every request: only to the server itself.
            assert_eq!(url.scheme(), base.scheme(), "asked {url}");
            assert_eq!(url.host_str(), base.host_str(), "asked {url}");
            assert_eq!(url.port_or_known_default(), base.port_or_known_default());
            assert!(asked.insert(url.to_string()), "page {url} asked twice");
        }
        match result {
            Ok(Some(page)) => items.extend(page),
            Ok(None) => {
                if let Some(total) = pager.total() {
                    assert!(
                        pager.read() as u64 >= total,
                        "list ended after {} of {total} rows without an error",
                        pager.read()
                    );
                }
                break;
            }
            Err(e) => {
                assert_clean_but_tab(&e.to_string(), "fetch error");
                break;
            }
        }
    }
    assert_eq!(pager.read(), items.len(), "rows counted differently");

    // Rows as the device, deployment and deployment-device views build them.
    let inventory = map::inventory_by_id(&items);
    for v in inventory.values() {
        for (k, val) in v {
            assert_clean(k, "inventory name");
            assert_clean(val, "inventory value");
        }
    }
    for item in items.iter().take(64) {
        let id = item.get("id").and_then(|i| i.as_str()).unwrap_or("");
        check_row(&map::device_row(&source, item, inventory.get(id)));
        check_row(&map::deployment_row(&source, item, Some(item)));
        check_row(&map::deployment_device_row(&source, "d1", "release", item));
        let _ = map::stats_counts(item);
    }
});
