//! The Mender backend against a local HTTP server that answers like the upstream server and
//! checks every exchange against the upstream OpenAPI documents (tests/support/mender_server.rs).

use crate::support::mender_server;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fleetdeck::backend::mender::client::{Api, ApiError, Token};
use fleetdeck::backend::mender::{DEPLOYMENTS, DEPLOYMENTS_V2, DEVAUTH, INVENTORY, MenderBackend};
use fleetdeck::backend::{Backend, BackendEvent};
use fleetdeck::config::MenderSource;
use fleetdeck::model::{
    Health, LogOpts, Resource, ResourceAction, ResourceKey, ResourceKind, SourceId, SourceStatus,
};
use mender_server::{Data, LinkStyle, MenderServer, Reply, fixture};
use serde_json::json;
use tokio::sync::mpsc;

const TOKEN: &str = "pat-7f3a9c1e-secret-token-value";
const DEP1: &str = "0c13a0e6-6b63-49b8-be8f-4bd3d3cd1e1b";
const DEP2: &str = "1d24b1f7-7c74-4ac9-8f90-5ce4e4de2f2c";
const DEV1: &str = "64a1f0c2e4b0a1b2c3d4e5f1";
const DEV2: &str = "64a1f0c2e4b0a1b2c3d4e5f2";

fn backend(server: &MenderServer, token: &str) -> MenderBackend {
    let src = MenderSource {
        name: "test".into(),
        url: server.url(),
        token_env: "MENDER_TEST_TOKEN".into(),
    };
    MenderBackend::new(&src, Some(Token::new(token))).with_poll(Duration::from_millis(200))
}

async fn next_event(
    rx: &mut mpsc::Receiver<BackendEvent>,
    mut want: impl FnMut(&BackendEvent) -> bool,
) -> BackendEvent {
    tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let ev = rx.recv().await.expect("channel open");
            if want(&ev) {
                return ev;
            }
        }
    })
    .await
    .expect("event within 20s")
}

/// The first complete list of `kind` (after any loading notes).
async fn snapshot(b: &MenderBackend, kind: ResourceKind) -> Vec<Resource> {
    let (tx, mut rx) = mpsc::channel(64);
    let _h = b.watch(kind, tx);
    first_snapshot(&mut rx).await
}

async fn first_snapshot(rx: &mut mpsc::Receiver<BackendEvent>) -> Vec<Resource> {
    match next_event(rx, |e| {
        matches!(
            e,
            BackendEvent::Snapshot { .. }
                | BackendEvent::Unavailable { .. }
                | BackendEvent::Incomplete { loading: false, .. }
        )
    })
    .await
    {
        BackendEvent::Snapshot { resources, .. } => resources,
        other => panic!("expected a snapshot, got {other:?}"),
    }
}

/// The next "list incomplete" note: (rows shown, note).
async fn incomplete(rx: &mut mpsc::Receiver<BackendEvent>) -> (Option<Vec<Resource>>, String) {
    match next_event(rx, |e| {
        matches!(
            e,
            BackendEvent::Snapshot { .. } | BackendEvent::Incomplete { loading: false, .. }
        )
    })
    .await
    {
        BackendEvent::Incomplete {
            resources, note, ..
        } => (resources, note),
        other => panic!("expected an incomplete list, got {other:?}"),
    }
}

fn ids(rows: &[Resource]) -> HashSet<String> {
    rows.iter().map(|r| r.key.id.clone()).collect()
}

#[tokio::test]
async fn devices_join_inventory() {
    let s = MenderServer::with_fixtures(TOKEN).await;
    let b = backend(&s, TOKEN);
    let mut rows = snapshot(&b, ResourceKind::MenderDevice).await;
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(rows.len(), 3, "{rows:#?}");
    assert_eq!(rows[0].key.source, SourceId::new("mender:test"));
    assert_eq!(
        rows[0].cells,
        vec![
            DEV1.to_string(),
            "accepted".into(),
            "raspberrypi4".into(),
            "release-2024.04".into(),
            String::new(),
            "production".into()
        ]
    );
    assert_eq!(rows[1].cells[5], "staging");
    assert_eq!(rows[2].cells[1], "pending");
    assert!(rows[0].created.is_some(), "last check-in drives the age");
    let reqs = s.requests();
    let devauth: Vec<_> = reqs.iter().filter(|r| r.path == DEVAUTH).collect();
    assert_eq!(devauth.len(), 1, "one page of 500 holds 3 devices");
    assert_eq!(devauth[0].param("per_page"), ["500"]);
    assert_eq!(devauth[0].param("page"), ["1"]);
    assert!(
        reqs.iter()
            .all(|r| r.authorization.as_deref() == Some(&format!("Bearer {TOKEN}"))),
        "every request carries the bearer token"
    );
    // The JSON of `ls mdevices -o json` comes from these rows.
    let j = rows[0].to_json();
    assert_eq!(j["device type"], "raspberrypi4");
    assert_eq!(j["group"], "production");
}

#[tokio::test]
async fn deployments_show_per_status_counts_through_the_v2_list() {
    let s = MenderServer::with_fixtures(TOKEN).await;
    let b = backend(&s, TOKEN);
    let rows = snapshot(&b, ResourceKind::MenderDeployment).await;
    assert_eq!(rows.len(), 2);
    let d1 = rows.iter().find(|r| r.key.id == DEP1).unwrap();
    assert_eq!(d1.name, "release-2024.04 production");
    assert_eq!(d1.cells[1], "release-2024.04");
    assert_eq!(d1.cells[2], "finished");
    assert_eq!(d1.cells[4], "2");
    // pending downloading installing rebooting success failure aborted already-installed
    assert_eq!(d1.cells[5..], ["0", "0", "0", "0", "1", "1", "0", "0"]);
    assert_eq!(d1.health, Health::Failed);
    let d2 = rows.iter().find(|r| r.key.id == DEP2).unwrap();
    assert_eq!(d2.cells[6], "1", "one device downloading");
    // Statistics come with the list items: no per-deployment request.
    let reqs = s.requests();
    assert!(reqs.iter().all(|r| r.path == DEPLOYMENTS_V2), "{reqs:#?}");
    let statuses: Vec<Vec<String>> = reqs.iter().map(|r| r.param("status")).collect();
    assert_eq!(
        statuses,
        vec![vec!["inprogress"], vec!["pending"], vec!["finished"]],
        "active first, then the history"
    );
    assert!(reqs.iter().all(|r| r.param("sort") == ["desc"]));
}

#[tokio::test]
async fn later_refreshes_cost_three_requests_and_catch_what_finished() {
    let mut data = mender_server::fixture_data();
    data.deployments = mender_server::synth_deployments(1200, 30);
    let s = MenderServer::start(TOKEN).await;
    s.set_data(data);
    let b = backend(&s, TOKEN);
    let (tx, mut rx) = mpsc::channel(64);
    let _h = b.watch(ResourceKind::MenderDeployment, tx);
    let rows = first_snapshot(&mut rx).await;
    assert_eq!(rows.len(), 1230);
    // First load: 1 (30 in progress) + 1 (no pending) + 3 (1,200 finished, 500 a page).
    assert_eq!(s.requests().len(), 5, "{:#?}", s.requests());

    s.clear_requests();
    let rows = first_snapshot(&mut rx).await;
    assert_eq!(rows.len(), 1230);
    let reqs = s.requests();
    assert_eq!(reqs.len(), 3, "a refresh costs 3 requests: {reqs:#?}");
    assert_eq!(reqs[2].param("status"), ["finished"]);
    let newest = mender_server::synth_deployment(1229, "x", 0)["created"]
        .as_str()
        .unwrap()
        .parse::<jiff::Timestamp>()
        .unwrap();
    assert_eq!(
        reqs[2].param("created_after"),
        [newest.as_second().to_string()]
    );

    // One active deployment finishes, and a new one is created and finished at once.
    let done = mender_server::uuid(1211);
    s.data(|d| {
        let dep = d.deployments.iter_mut().find(|x| x["id"] == done).unwrap();
        dep["status"] = json!("finished");
        dep["statistics"]["status"] = mender_server::stats(&[("noartifact", 3)]);
        d.deployments
            .push(mender_server::synth_deployment(1300, "finished", 2));
    });
    s.clear_requests();
    let rows = first_snapshot(&mut rx).await;
    assert_eq!(rows.len(), 1231, "the new finished deployment is listed");
    let row = rows.iter().find(|r| r.key.id == done).unwrap();
    assert_eq!(row.cells[2], "finished");
    assert_eq!(row.health, Health::Ok, "noartifact only: a success");
    let reqs = s.requests();
    assert_eq!(reqs.len(), 4, "3 + one lookup by id: {reqs:#?}");
    assert_eq!(reqs[3].param("id"), [done]);
}

#[tokio::test]
async fn servers_without_the_v2_list_get_the_v1_list() {
    let s = MenderServer::with_fixtures(TOKEN).await;
    s.without_v2();
    let b = backend(&s, TOKEN);
    let rows = snapshot(&b, ResourceKind::MenderDeployment).await;
    assert_eq!(
        ids(&rows),
        HashSet::from([DEP1.to_string(), DEP2.to_string()])
    );
    let reqs = s.requests();
    assert_eq!(reqs[0].path, DEPLOYMENTS_V2);
    assert_eq!(reqs[0].status, 404);
    assert!(reqs[1..].iter().all(|r| r.path == DEPLOYMENTS), "{reqs:#?}");
}

/// > 500 devices and > 500 deployments (active and finished lists both over a page), read
/// completely whatever the Link order and target style.
#[tokio::test]
async fn long_lists_are_read_completely_with_every_link_style() {
    for style in [
        LinkStyle::Monorepo,
        LinkStyle::GoLibMicro,
        LinkStyle::OldInventory,
        LinkStyle::OneLine,
        LinkStyle::None,
    ] {
        let (devices, inventory) = mender_server::synth_devices(1201);
        let s = MenderServer::start(TOKEN).await;
        s.set_data(Data {
            devices,
            inventory,
            deployments: mender_server::synth_deployments(1103, 520),
            ..Default::default()
        });
        s.link_style(style);
        let b = backend(&s, TOKEN);
        let rows = snapshot(&b, ResourceKind::MenderDevice).await;
        assert_eq!(rows.len(), 1201, "{style:?}");
        assert_eq!(ids(&rows).len(), 1201, "{style:?}: no duplicates");
        assert!(
            rows.iter().all(|r| r.cells[2] == "raspberrypi4"),
            "{style:?}: every device joined with its inventory (3 pages)"
        );
        let rows = snapshot(&b, ResourceKind::MenderDeployment).await;
        assert_eq!(rows.len(), 1623, "{style:?}");
        let want: HashSet<String> = (1..=1623).map(mender_server::uuid).collect();
        assert_eq!(ids(&rows), want, "{style:?}");
        let pages = |path: &str| s.requests().iter().filter(|r| r.path == path).count();
        // Device auth sends no X-Total-Count: without links, the short 3rd page ends it.
        assert_eq!(pages(DEVAUTH), 3, "{style:?}");
        assert_eq!(
            pages(INVENTORY),
            3,
            "{style:?}: X-Total-Count says when to stop"
        );
        drop(s);
    }
}

/// Without any Link header, `X-Total-Count` decides: inventory (which sends it) stops when the
/// total is read; device auth (which does not) asks until a page comes back short or empty.
#[tokio::test]
async fn x_total_count_is_the_fallback_without_links() {
    let (devices, inventory) = mender_server::synth_devices(1000);
    let s = MenderServer::start(TOKEN).await;
    s.set_data(Data {
        devices,
        inventory,
        ..Default::default()
    });
    s.link_style(LinkStyle::None);
    let b = backend(&s, TOKEN);
    let rows = snapshot(&b, ResourceKind::MenderDevice).await;
    assert_eq!(rows.len(), 1000);
    assert!(rows.iter().all(|r| r.cells[2] == "raspberrypi4"));
    let pages = |path: &str| {
        s.requests()
            .iter()
            .filter(|r| r.path == path)
            .map(|r| r.param("page")[0].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        pages(INVENTORY),
        ["1", "2"],
        "the total was read after 2 full pages"
    );
    assert_eq!(
        pages(DEVAUTH),
        ["1", "2", "3"],
        "no total: the empty 3rd page ends it"
    );
}

#[tokio::test]
async fn the_first_page_shows_before_the_rest() {
    let (devices, inventory) = mender_server::synth_devices(1201);
    let s = MenderServer::start(TOKEN).await;
    s.set_data(Data {
        devices,
        inventory,
        ..Default::default()
    });
    let b = backend(&s, TOKEN);
    let (tx, mut rx) = mpsc::channel(64);
    let _h = b.watch(ResourceKind::MenderDevice, tx);
    let BackendEvent::Incomplete {
        resources: Some(rows),
        note,
        loading: true,
        ..
    } = next_event(&mut rx, |_| true).await
    else {
        panic!("a loading note first")
    };
    assert_eq!(rows.len(), 500);
    assert_eq!(
        note,
        "loading devices: 500 so far (GET /api/management/v2/devauth/devices)"
    );
    assert_eq!(first_snapshot(&mut rx).await.len(), 1201);
    // Later refreshes replace the list only when complete: no loading note any more.
    match next_event(&mut rx, |e| !matches!(e, BackendEvent::Status(..))).await {
        BackendEvent::Snapshot { resources, .. } => assert_eq!(resources.len(), 1201),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_failing_page_is_never_a_silently_shorter_list() {
    let (devices, inventory) = mender_server::synth_devices(1201);
    let s = MenderServer::start(TOKEN).await;
    s.set_data(Data {
        devices,
        inventory,
        ..Default::default()
    });
    s.fail_page(DEVAUTH, 2, Reply::error(500, "internal error"));
    let b = backend(&s, TOKEN);
    let (tx, mut rx) = mpsc::channel(64);
    let _h = b.watch(ResourceKind::MenderDevice, tx);
    let (rows, note) = incomplete(&mut rx).await;
    assert_eq!(rows.map(|r| r.len()), Some(500), "the rows read, flagged");
    assert!(
        note.starts_with(
            "incomplete list: GET /api/management/v2/devauth/devices page 2 (500 read): HTTP 500: internal error; retrying in"
        ),
        "{note}"
    );

    // Once the page answers, the complete list replaces it; a later failure keeps it, noted.
    s.clear_failures();
    assert_eq!(first_snapshot(&mut rx).await.len(), 1201);
    s.fail_page(INVENTORY, 3, Reply::error(500, "internal error"));
    let (rows, note) = incomplete(&mut rx).await;
    assert!(rows.is_none(), "the complete list stays on screen");
    assert!(
        note.starts_with("not refreshed: GET /api/management/v1/inventory/devices page 3 (1000 of 1201 read): HTTP 500"),
        "{note}"
    );
    assert!(note.contains("showing the list read at"), "{note}");
}

#[tokio::test]
async fn malformed_answers_and_foreign_links_name_the_endpoint() {
    let s = MenderServer::with_fixtures(TOKEN).await;
    s.fail_page(
        DEPLOYMENTS_V2,
        1,
        Reply::json(200, &json!({"not": "a list"})).off_contract("a malformed answer"),
    );
    let b = backend(&s, TOKEN);
    let (tx, mut rx) = mpsc::channel(64);
    let _h = b.watch(ResourceKind::MenderDeployment, tx);
    let (rows, note) = incomplete(&mut rx).await;
    assert_eq!(rows.map(|r| r.len()), Some(0));
    assert!(
        note.contains("GET /api/management/v2/deployments/deployments page 1 (0 read): unexpected answer: expected a JSON list, got an object"),
        "{note}"
    );

    // A next link to another host would carry the token there: not followed, and said so.
    let (devices, inventory) = mender_server::synth_devices(600);
    let s = MenderServer::start(TOKEN).await;
    s.set_data(Data {
        devices,
        inventory,
        ..Default::default()
    });
    let all = s.data(|d| d.devices.clone());
    s.fail_page(
        DEVAUTH,
        1,
        Reply::json(200, &json!(all[..500]))
            .header("link", "<https://elsewhere.example/api/management/v2/devauth/devices?page=2&per_page=500>; rel=\"next\""),
    );
    let b = backend(&s, TOKEN);
    let (tx, mut rx) = mpsc::channel(64);
    let _h = b.watch(ResourceKind::MenderDevice, tx);
    let (rows, note) = incomplete(&mut rx).await;
    assert_eq!(rows.map(|r| r.len()), Some(500));
    assert!(
        note.contains("next link to another host (elsewhere.example) not followed"),
        "{note}"
    );
    assert!(s.requests().iter().all(|r| r.path != "/elsewhere"));
}

#[tokio::test]
async fn deployment_devices_use_the_paged_list_and_logs_keep_fractional_times() {
    let s = MenderServer::with_fixtures(TOKEN).await;
    // 1,201 devices in the in-progress deployment: three pages of `/devices/list`.
    s.data(|d| {
        let list: Vec<_> = (0..1201)
            .map(|i| {
                json!({"id": mender_server::device_id(i), "status": if i % 2 == 0 { "noartifact" } else { "installing" },
                       "created": "2024-05-02T08:00:00Z", "log": false})
            })
            .collect();
        d.deployment_devices.insert(DEP2.into(), list);
    });
    // A log written the way the server writes it: Go `time.String()`, fraction trimmed.
    let log_t0 = "2024-05-02T08:00:10Z".parse::<jiff::Timestamp>().unwrap();
    let log: String = [0i64, 500_000_000, 123_456_789, 1_000_000]
        .iter()
        .map(|n| {
            let t = log_t0 + jiff::SignedDuration::from_nanos(*n);
            format!("{} info: step\n", mender_server::go_time(t))
        })
        .collect();
    assert!(
        log.starts_with(
            "2024-05-02 08:00:10 +0000 UTC info: step\n2024-05-02 08:00:10.5 +0000 UTC"
        )
    );
    let dev0 = mender_server::device_id(0);
    s.data(|d| {
        d.logs.insert((DEP2.into(), dev0.clone()), log);
    });
    let b = backend(&s, TOKEN);
    let rows = snapshot(&b, ResourceKind::MenderDeploymentDevice).await;
    assert_eq!(rows.len(), 1203, "2 + 1,201 devices");
    let failed = rows
        .iter()
        .find(|r| r.key.id == format!("{DEP1}/{DEV2}"))
        .expect("device row of the first deployment");
    assert_eq!(failed.parent.as_deref(), Some("release-2024.04 production"));
    assert_eq!(
        failed.cells,
        [
            DEV2,
            "failure",
            "2024-05-01T08:01:30.000Z",
            "2024-05-01T08:30:00.000Z",
            "release-2024.04 production"
        ],
        "no attempts column"
    );
    let noartifact = rows
        .iter()
        .find(|r| r.key.id == format!("{DEP2}/{}", mender_server::device_id(0)))
        .unwrap();
    assert_eq!(
        noartifact.health,
        Health::Ok,
        "noartifact counts as success"
    );
    let reqs = s.requests();
    let lists: Vec<_> = reqs
        .iter()
        .filter(|r| r.path.ends_with("/devices/list"))
        .collect();
    assert_eq!(lists.len(), 4, "1 page for DEP1, 3 for DEP2: {lists:#?}");
    assert_eq!(reqs[0].path, DEPLOYMENTS_V2);
    assert_eq!(
        reqs[0].param("per_page"),
        ["20"],
        "the 20 newest deployments"
    );
    // (The server fails the test at drop if the deprecated `/devices` was called.)

    let (tx, mut rx) = mpsc::channel(64);
    let _h = b.logs(&failed.key, LogOpts::default(), 7, tx);
    let mut lines = Vec::new();
    loop {
        match next_event(&mut rx, |_| true).await {
            BackendEvent::LogLines { stream, lines: l } => {
                assert_eq!(stream, 7);
                lines.extend(l);
            }
            BackendEvent::LogEnded { error, .. } => {
                assert_eq!(error, None);
                break;
            }
            _ => {}
        }
    }
    assert_eq!(lines.len(), 4);
    let text: Vec<&str> = lines.iter().map(|l| l.text.text.as_str()).collect();
    assert!(text[2].contains("Artifact install failed"), "{text:?}");
    assert!(
        text.iter().all(|t| !t.contains('\u{1b}')),
        "escape sequences are sanitised"
    );
    let ts: Vec<i64> = lines.iter().map(|l| l.ts.expect("parsed")).collect();
    let t0 = "2024-05-01T08:01:31Z"
        .parse::<jiff::Timestamp>()
        .unwrap()
        .as_nanosecond() as i64;
    assert_eq!(ts[0] - t0, 123_456_000, "fractional seconds kept");
    assert_eq!(ts[1] - t0, 29_000_000_000, "whole seconds too");
    assert_eq!(ts[3] % 1_000_000_000, 917_043, "nanoseconds");

    let key = ResourceKey {
        id: format!("{DEP2}/{dev0}"),
        ..failed.key.clone()
    };
    let (tx, mut rx) = mpsc::channel(64);
    let _h = b.logs(&key, LogOpts::default(), 8, tx);
    let BackendEvent::LogLines { lines, .. } =
        next_event(&mut rx, |e| matches!(e, BackendEvent::LogLines { .. })).await
    else {
        unreachable!()
    };
    let base = log_t0.as_nanosecond() as i64;
    let got: Vec<i64> = lines.iter().map(|l| l.ts.unwrap() - base).collect();
    assert_eq!(got, [0, 500_000_000, 123_456_789, 1_000_000]);
}

#[tokio::test]
async fn create_deployment_posts_name_artifact_and_devices() {
    let s = MenderServer::with_fixtures(TOKEN).await;
    let b = backend(&s, TOKEN);
    let key = ResourceKey {
        source: b.id().clone(),
        kind: ResourceKind::MenderDevice,
        id: DEV1.into(),
    };
    let out = b
        .act(
            &key,
            &ResourceAction::CreateDeployment(
                "release-2024.05".into(),
                vec![DEV1.into(), DEV2.into()],
            ),
        )
        .await
        .expect("created");
    let post = s
        .requests()
        .into_iter()
        .find(|r| r.method == "POST")
        .expect("a POST");
    assert_eq!(post.path, DEPLOYMENTS);
    assert_eq!(post.status, 201);
    assert_eq!(post.content_type.as_deref(), Some("application/json"));
    assert_eq!(
        post.json(),
        json!({
            "name": "release-2024.05 (fleetdeck)",
            "artifact_name": "release-2024.05",
            "devices": [DEV1, DEV2],
        })
    );
    let new_id = s.data(|d| {
        d.deployments.last().unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    });
    assert!(out.ends_with(&new_id), "{out}");
    // The new deployment is listed as pending.
    let rows = snapshot(&b, ResourceKind::MenderDeployment).await;
    let new = rows.iter().find(|r| r.key.id == new_id).unwrap();
    assert_eq!(new.cells[2], "pending");

    // A group deployment goes to the group endpoint.
    b.act(
        &key,
        &ResourceAction::CreateDeployment(
            "release-2024.05".into(),
            vec!["group:production".into()],
        ),
    )
    .await
    .expect("group deployment");
    let post = s
        .requests()
        .into_iter()
        .rfind(|r| r.method == "POST")
        .unwrap();
    assert_eq!(post.path, format!("{DEPLOYMENTS}/group/production"));
    assert_eq!(post.json()["artifact_name"], "release-2024.05");
}

#[tokio::test]
async fn abort_puts_the_aborted_status() {
    let s = MenderServer::with_fixtures(TOKEN).await;
    let b = backend(&s, TOKEN);
    let key = ResourceKey {
        source: b.id().clone(),
        kind: ResourceKind::MenderDeployment,
        id: DEP2.into(),
    };
    b.act(&key, &ResourceAction::AbortDeployment)
        .await
        .expect("aborted");
    let put = s
        .requests()
        .into_iter()
        .find(|r| r.method == "PUT")
        .expect("a PUT");
    assert_eq!(put.path, format!("{DEPLOYMENTS}/{DEP2}/status"));
    assert_eq!(put.json(), json!({"status": "aborted"}));
    assert_eq!(put.status, 204);
    let rows = snapshot(&b, ResourceKind::MenderDeployment).await;
    let d2 = rows.iter().find(|r| r.key.id == DEP2).unwrap();
    assert_eq!(d2.cells[2], "finished");
    assert_eq!(d2.cells[11], "1", "the downloading device is aborted");
    assert_eq!(d2.health, Health::Stopped);
    // A finished deployment cannot be aborted: the server's 422 reaches the user.
    let err = b
        .act(
            &ResourceKey {
                id: DEP1.into(),
                ..key.clone()
            },
            &ResourceAction::AbortDeployment,
        )
        .await
        .unwrap_err();
    assert_eq!(format!("{err:#}"), "HTTP 422: Deployment already finished");
    // Aborting is not offered on a device row.
    let dev = ResourceKey {
        kind: ResourceKind::MenderDevice,
        id: DEV1.into(),
        ..key
    };
    assert!(b.act(&dev, &ResourceAction::AbortDeployment).await.is_err());
}

#[tokio::test]
async fn a_wrong_token_says_unauthorized_and_names_the_variable() {
    let s = MenderServer::with_fixtures(TOKEN).await;
    let b = backend(&s, "wrong-token");
    let (tx, mut rx) = mpsc::channel(64);
    let _h = b.watch(ResourceKind::MenderDeployment, tx);
    let ev = next_event(&mut rx, |e| matches!(e, BackendEvent::Unavailable { .. })).await;
    let BackendEvent::Unavailable { reason, kind, .. } = ev else {
        unreachable!()
    };
    assert_eq!(kind, ResourceKind::MenderDeployment);
    assert_eq!(
        reason,
        "unauthorized: check the token in $MENDER_TEST_TOKEN"
    );

    // 403 reads "forbidden".
    let s = MenderServer::with_fixtures(TOKEN).await;
    s.once(DEVAUTH, Reply::error(403, "Forbidden"));
    let b = backend(&s, TOKEN);
    let (tx, mut rx) = mpsc::channel(64);
    let _h = b.watch(ResourceKind::MenderDevice, tx);
    let ev = next_event(&mut rx, |e| matches!(e, BackendEvent::Unavailable { .. })).await;
    let BackendEvent::Unavailable { reason, .. } = ev else {
        unreachable!()
    };
    assert!(reason.starts_with("forbidden"), "{reason}");
}

/// No right to the inventory: the devices still show, with a note that their attributes are
/// missing (and the header stays connected: the server answered).
#[tokio::test]
async fn a_forbidden_inventory_leaves_the_devices_with_a_note() {
    let s = MenderServer::with_fixtures(TOKEN).await;
    s.fail_page(INVENTORY, 1, Reply::error(403, "Forbidden"));
    let b = backend(&s, TOKEN);
    let (tx, mut rx) = mpsc::channel(64);
    let _h = b.watch(ResourceKind::MenderDevice, tx);
    let (rows, note) = incomplete(&mut rx).await;
    let rows = rows.expect("rows");
    assert_eq!(rows.len(), 3);
    assert!(
        rows.iter().all(|r| r.cells[2].is_empty()),
        "no inventory attributes"
    );
    assert!(
        note.starts_with("incomplete list: GET /api/management/v1/inventory/devices page 1 (0 read): forbidden: Forbidden"),
        "{note}"
    );
    match next_event(&mut rx, |e| matches!(e, BackendEvent::Status(..))).await {
        BackendEvent::Status(_, SourceStatus::Connected(_)) => {}
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn rate_limited_honours_retry_after_then_recovers() {
    let s = MenderServer::with_fixtures(TOKEN).await;
    s.once(DEPLOYMENTS_V2, Reply::too_many(1));
    let b = backend(&s, TOKEN);
    let (tx, mut rx) = mpsc::channel(64);
    let started = std::time::Instant::now();
    let _h = b.watch(ResourceKind::MenderDeployment, tx);
    let ev = next_event(&mut rx, |_| true).await;
    match ev {
        BackendEvent::Status(
            _,
            SourceStatus::Reconnecting {
                error,
                retry_in_secs,
            },
        ) => {
            assert_eq!(error, "rate limited, retrying in 1s");
            assert_eq!(retry_in_secs, 1);
        }
        other => panic!("expected the rate-limit status first, got {other:?}"),
    }
    let rows = first_snapshot(&mut rx).await;
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "waited Retry-After"
    );
    assert_eq!(rows.len(), 2);
}

#[tokio::test]
async fn rate_limited_mid_list_keeps_the_rows_and_says_so() {
    let (devices, inventory) = mender_server::synth_devices(1201);
    let s = MenderServer::start(TOKEN).await;
    s.set_data(Data {
        devices,
        inventory,
        ..Default::default()
    });
    s.fail_page(DEVAUTH, 2, Reply::too_many(1));
    let b = backend(&s, TOKEN);
    let (tx, mut rx) = mpsc::channel(64);
    let _h = b.watch(ResourceKind::MenderDevice, tx);
    let (rows, note) = incomplete(&mut rx).await;
    assert_eq!(rows.map(|r| r.len()), Some(500));
    assert!(
        note.contains("page 2 (500 read): rate limited, retrying in 1s"),
        "{note}"
    );
    s.clear_failures();
    assert_eq!(first_snapshot(&mut rx).await.len(), 1201);
}

#[tokio::test]
async fn unreachable_server_reconnects_with_backoff() {
    // A port nobody listens on.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    let src = MenderSource {
        name: "gone".into(),
        url: format!("http://127.0.0.1:{port}"),
        token_env: "MENDER_TEST_TOKEN".into(),
    };
    let b = MenderBackend::new(&src, Some(Token::new(TOKEN)));
    let (tx, mut rx) = mpsc::channel(64);
    let _h = b.watch(ResourceKind::MenderDevice, tx);
    let ev = next_event(&mut rx, |_| true).await;
    assert!(
        matches!(
            ev,
            BackendEvent::Status(
                _,
                SourceStatus::Reconnecting {
                    retry_in_secs: 1,
                    ..
                }
            )
        ),
        "{ev:?}"
    );
}

/// The double holds fleetdeck to the contract; it must hold itself to it too.
#[tokio::test]
async fn the_double_refuses_what_the_server_refuses() {
    let s = MenderServer::with_fixtures(TOKEN).await;
    let api = Api::new(&s.url(), Some(Token::new(TOKEN)));
    let get = |path: String| {
        let api = api.clone();
        async move { api.request(http::Method::GET, &path, None).await }
    };
    match get(format!("{DEVAUTH}?per_page=501")).await {
        Err(ApiError::Status(400, msg)) => {
            assert_eq!(msg, "parameter \"per_page\" above limit (max: 500)")
        }
        other => panic!("{:?}", other.map(|r| r.status)),
    }
    // per_page honoured, default 20.
    let (devices, inventory) = mender_server::synth_devices(45);
    s.data(|d| {
        d.devices = devices;
        d.inventory = inventory;
    });
    let r = get(INVENTORY.to_string()).await.unwrap();
    assert_eq!(r.json().unwrap().as_array().unwrap().len(), 20);
    assert_eq!(r.header("x-total-count"), Some("45"));
    let links: Vec<&str> = r
        .headers
        .get_all("link")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(
        links,
        [
            "</api/management/v1/inventory/devices?page=1&per_page=20>; rel=\"first\"",
            "</api/management/v1/inventory/devices?page=2&per_page=20>; rel=\"next\"",
            "</api/management/v1/inventory/devices?page=3&per_page=20>; rel=\"last\"",
        ],
        "one line per rel, monorepo order"
    );
    // Unknown and ill-typed parameters are violations.
    assert!(
        get(format!("{DEPLOYMENTS_V2}?status=aborted&page=x"))
            .await
            .is_err()
    );
    assert!(get(format!("{DEVAUTH}?colour=blue")).await.is_err());
    let v = s.take_violations();
    assert!(v[0].contains("501 is above the maximum 500"), "{v:#?}");
    assert!(v[1].contains("per_page"), "{v:#?}");
    assert!(
        v.iter()
            .any(|e| e.contains("`aborted` is not one of")
                || e.contains("\"aborted\" is not one of")),
        "{v:#?}"
    );
    assert!(
        v.iter()
            .any(|e| e.contains("unknown query parameter `colour`")),
        "{v:#?}"
    );
    // The deprecated unpaged list still answers (fleetdeck must not call it).
    s.allow_deprecated();
    let r = get(format!("{DEPLOYMENTS}/{DEP1}/devices")).await.unwrap();
    assert_eq!(r.json().unwrap().as_array().unwrap().len(), 2);
    assert_eq!(s.deprecated_calls().len(), 1);
    // Served fixtures match the response schemas (checked on every answer above); a fixture
    // with `attempts` would still pass (extra properties are allowed), so check its absence.
    for f in [
        "deployment_devices_0c13a0e6.json",
        "deployment_devices_1d24b1f7.json",
    ] {
        assert!(
            fixture(f)
                .as_array()
                .unwrap()
                .iter()
                .all(|d| d.get("attempts").is_none())
        );
    }
}

/// The validator is not vacuous: what the upstream documents forbid, on either side, is
/// caught and named.
#[tokio::test]
async fn the_validator_catches_what_the_spec_forbids() {
    let s = MenderServer::with_fixtures(TOKEN).await;
    let api = Api::new(&s.url(), Some(Token::new(TOKEN)));
    let call = |method: http::Method, path: String, body: Option<serde_json::Value>| {
        let api = api.clone();
        async move {
            api.request(method, &path, body.as_ref())
                .await
                .map(|r| r.status)
        }
    };
    // Responses the double was told to serve.
    s.reply(
        "GET",
        &format!("{DEPLOYMENTS}/{DEP1}"),
        Reply::json(
            200,
            &json!({"id": DEP1, "name": "x", "artifact_name": "a", "status": "finished", "device_count": 1}),
        ),
    );
    s.fail_page(
        &format!("{DEPLOYMENTS}/{DEP2}/devices/list"),
        1,
        Reply::json(
            200,
            &json!([{"id": "d", "status": "exploded", "log": false}]),
        ),
    );
    s.reply(
        "GET",
        &format!("{DEPLOYMENTS}/{DEP2}/statistics"),
        Reply::json(200, &json!({"success": 1})),
    );
    s.reply(
        "GET",
        &format!("{DEVAUTH}/{DEV1}"),
        Reply::error(418, "teapot"),
    );
    s.reply(
        "GET",
        &format!("{INVENTORY}/{DEV1}"),
        Reply::json(
            200,
            &json!({"id": DEV1, "attributes": [{"name": "a", "value": "b"}]}),
        ),
    );
    for path in [
        format!("{DEPLOYMENTS}/{DEP1}"),
        format!("{DEPLOYMENTS}/{DEP2}/devices/list"),
        format!("{DEPLOYMENTS}/{DEP2}/statistics"),
        format!("{DEVAUTH}/{DEV1}"),
        format!("{INVENTORY}/{DEV1}"),
    ] {
        let _ = call(http::Method::GET, path, None).await;
    }
    // Requests fleetdeck must never send.
    let _ = call(
        http::Method::POST,
        DEPLOYMENTS.to_string(),
        Some(json!({"name": "x", "devices": ["d1"]})),
    )
    .await;
    let _ = call(
        http::Method::PUT,
        format!("{DEPLOYMENTS}/{DEP2}/status"),
        Some(json!({"status": "paused"})),
    )
    .await;
    let _ = call(http::Method::DELETE, format!("{DEPLOYMENTS}/{DEP1}"), None).await;
    let _ = call(
        http::Method::GET,
        "/api/management/v1/deployments/nope".into(),
        None,
    )
    .await;
    let _ = call(http::Method::GET, format!("{DEPLOYMENTS}/{DEP1}/log"), None).await;
    let v = s.take_violations().join("\n");
    for want in [
        "missing required `created`",
        "\"exploded\" is not one of",
        "missing required `noartifact`",
        "status 418 is not declared",
        "missing required `scope`",
        "missing required `artifact_name`",
        "\"paused\" is not one of",
        "DELETE is not an operation of /api/management/v1/deployments/deployments/{id}",
        "no path in the spec matches /api/management/v1/deployments/nope",
    ] {
        assert!(v.contains(want), "{want} not caught in:\n{v}");
    }
}

/// Captures everything the tracing subscriber writes.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn the_token_is_never_logged_nor_described() {
    // Global (not per-thread) so that interest caching by tests running alongside cannot hide
    // events; every test of this binary then logs into the capture too.
    static CAPTURE: std::sync::OnceLock<Capture> = std::sync::OnceLock::new();
    let cap = CAPTURE
        .get_or_init(|| {
            let cap = Capture::default();
            let writer = cap.clone();
            let subscriber = tracing_subscriber::fmt()
                .with_max_level(tracing::Level::TRACE)
                .with_writer(move || writer.clone())
                .with_ansi(false)
                .finish();
            tracing::subscriber::set_global_default(subscriber).expect("first subscriber");
            cap
        })
        .clone();

    let s = MenderServer::with_fixtures(TOKEN).await;
    let b = backend(&s, TOKEN);
    let rows = snapshot(&b, ResourceKind::MenderDevice).await;
    assert_eq!(rows.len(), 3);
    let deps = snapshot(&b, ResourceKind::MenderDeployment).await;
    let described = b.describe(&deps[0].key).await.expect("describe deployment");
    assert!(described.contains("artifact_name"), "{described}");
    let dev = rows.iter().find(|r| r.key.id == DEV1).unwrap();
    let dev = b.describe(&dev.key).await.expect("describe device");
    assert!(dev.contains("dc:a6:32"), "{dev}");
    let dd = ResourceKey {
        source: b.id().clone(),
        kind: ResourceKind::MenderDeploymentDevice,
        id: format!("{DEP1}/{DEV2}"),
    };
    let dd = b.describe(&dd).await.expect("describe deployment device");
    assert!(dd.contains("failure"), "{dd}");
    // Errors too: a wrong token is reported without echoing any token.
    let wrong = backend(&s, "another-secret-token");
    let err = wrong.describe(&deps[0].key).await.unwrap_err();
    assert!(format!("{err:#}").contains("unauthorized"));

    let log = String::from_utf8(cap.0.lock().unwrap().clone()).unwrap();
    assert!(
        log.contains("mender request"),
        "tracing was captured: {log}"
    );
    for text in [
        &log,
        &described,
        &dev,
        &format!("{b:?}"),
        &format!("{err:#}"),
    ] {
        assert!(!text.contains(TOKEN), "token leaked: {text}");
        assert!(
            !text.contains("another-secret-token"),
            "token leaked: {text}"
        );
    }
}

#[tokio::test]
async fn a_missing_token_is_explained() {
    let s = MenderServer::with_fixtures(TOKEN).await;
    let src = MenderSource {
        name: "t".into(),
        url: s.url(),
        token_env: "FLEETDECK_TEST_UNSET_MENDER_TOKEN".into(),
    };
    let b = MenderBackend::from_source(&src);
    let (tx, mut rx) = mpsc::channel(64);
    let _h = b.watch(ResourceKind::MenderDevice, tx);
    let ev = next_event(&mut rx, |e| matches!(e, BackendEvent::Unavailable { .. })).await;
    let BackendEvent::Unavailable { reason, .. } = ev else {
        unreachable!()
    };
    assert!(
        reason.contains("$FLEETDECK_TEST_UNSET_MENDER_TOKEN"),
        "{reason}"
    );
    assert!(s.requests().is_empty(), "no request without a token");
}

fn write_config(dir: &std::path::Path, s: &MenderServer) -> std::path::PathBuf {
    let config = dir.join("config.yaml");
    std::fs::write(
        &config,
        format!(
            "kube: []\nmender:\n  - name: test\n    url: {}\n    token_env: FLEETDECK_TEST_MENDER_TOKEN\n",
            s.url()
        ),
    )
    .unwrap();
    config
}

async fn run_ls(
    config: &std::path::Path,
    home: &std::path::Path,
    kind: &str,
) -> std::process::Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_fleetdeck"))
        .args([
            "--config",
            config.to_str().unwrap(),
            "ls",
            kind,
            "-o",
            "json",
        ])
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env_remove("KUBECONFIG")
        .env("FLEETDECK_TEST_MENDER_TOKEN", TOKEN)
        .output()
        .await
        .expect("run fleetdeck")
}

/// `fleetdeck ls mdevices|mdeployments -o json` end to end: the real binary, a config naming
/// the server and the token variable, the token only in the environment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ls_mender_kinds_as_json() {
    let s = MenderServer::with_fixtures(TOKEN).await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &s);
    let out = run_ls(&config, dir.path(), "mdevices").await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let v: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("JSON array");
    assert_eq!(v.len(), 3);
    assert_eq!(v[0]["id"], DEV1);
    assert_eq!(v[0]["source"], "mender:test");
    assert_eq!(v[0]["auth"], "accepted");
    assert_eq!(v[0]["artifact"], "release-2024.04");
    assert!(v[0]["last check-in"].is_string());

    let out = run_ls(&config, dir.path(), "mdeployments").await;
    assert!(out.status.success());
    let v: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("JSON array");
    assert_eq!(v.len(), 2);
    let d1 = v.iter().find(|d| d["id"] == DEP1).unwrap();
    assert_eq!(d1["success"], "1");
    assert_eq!(d1["failure"], "1");
    assert_eq!(d1["status"], "finished");

    // The token reaches the server, never the output or the log file.
    let log = std::fs::read_dir(dir.path().join("state"))
        .into_iter()
        .flatten()
        .flatten()
        .flat_map(|e| std::fs::read_to_string(e.path().join("fleetdeck.log")).ok())
        .collect::<String>();
    for text in [
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        log,
    ] {
        assert!(!text.contains(TOKEN));
    }
}

/// A script never gets a cut list as if it were whole: `ls` fails naming the endpoint.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ls_fails_on_an_incomplete_list() {
    let (devices, inventory) = mender_server::synth_devices(700);
    let s = MenderServer::start(TOKEN).await;
    s.set_data(Data {
        devices,
        inventory,
        ..Default::default()
    });
    s.fail_page(DEVAUTH, 2, Reply::error(500, "internal error"));
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &s);
    let out = run_ls(&config, dir.path(), "mdevices").await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "{stderr} {} bytes out, requests {:#?}",
        out.stdout.len(),
        s.requests()
            .iter()
            .map(|r| (r.path.clone(), r.query.clone(), r.status))
            .collect::<Vec<_>>()
    );
    assert!(out.stdout.is_empty(), "no partial JSON");
    assert!(
        stderr.contains("mender:test: incomplete list: GET /api/management/v2/devauth/devices page 2 (500 read): HTTP 500: internal error"),
        "{stderr}"
    );
}

#[tokio::test]
async fn the_probe_reports_the_server_in_the_header() {
    let s = MenderServer::with_fixtures(TOKEN).await;
    let b = backend(&s, TOKEN);
    let (tx, mut rx) = mpsc::channel(8);
    let _h = b.probe(tx).expect("a probe");
    match next_event(&mut rx, |_| true).await {
        BackendEvent::Status(id, SourceStatus::Connected(text)) => {
            assert_eq!(id, SourceId::new("mender:test"));
            assert!(text.starts_with("Mender 127.0.0.1:"), "{text}");
        }
        other => panic!("{other:?}"),
    }
    let b = backend(&s, "wrong");
    let (tx, mut rx) = mpsc::channel(8);
    let _h = b.probe(tx).expect("a probe");
    match next_event(&mut rx, |_| true).await {
        BackendEvent::Status(_, SourceStatus::Reconnecting { error, .. }) => {
            assert_eq!(error, "unauthorized: check the token in $MENDER_TEST_TOKEN");
        }
        other => panic!("{other:?}"),
    }
}

/// `fleetdeck triage` against the Mender double: the finished deployment with a failed device
/// is a critical problem in the server's words; the one without failures is not listed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn triage_lists_a_deployment_with_failures() {
    let s = MenderServer::with_fixtures(TOKEN).await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &s);
    let home = dir.path();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_fleetdeck"))
        .args(["--config", config.to_str().unwrap(), "triage", "-o", "json"])
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .env_remove("KUBECONFIG")
        .env("FLEETDECK_TEST_MENDER_TOKEN", TOKEN)
        .output()
        .await
        .expect("run fleetdeck");
    assert_eq!(out.status.code(), Some(1));
    let v: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("JSON array");
    let deployments: Vec<&serde_json::Value> =
        v.iter().filter(|p| p["kind"] == "mdeployments").collect();
    assert_eq!(deployments.len(), 1, "{v:?}");
    let d = deployments[0];
    assert_eq!(d["id"], DEP1);
    assert_eq!(d["source"], "mender:test");
    assert_eq!(d["severity"], "critical");
    assert_eq!(d["problem"], "finished, 1 device(s) failed");
}
