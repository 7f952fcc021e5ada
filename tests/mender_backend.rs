//! The Mender backend against a local HTTP server serving real-shaped management API JSON.

#[path = "support/mender_server.rs"]
mod mender_server;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use fleetdeck::backend::mender::{DEPLOYMENTS, DEVAUTH, INVENTORY, MenderBackend, client::Token};
use fleetdeck::backend::{Backend, BackendEvent};
use fleetdeck::config::MenderSource;
use fleetdeck::model::{
    LogOpts, Resource, ResourceAction, ResourceKey, ResourceKind, SourceId, SourceStatus,
};
use mender_server::{MenderServer, Reply, fixture, fixture_text};
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

/// A server with every fixture in place; lists are split into pages of 2 (devices: 2 pages).
async fn full_server() -> MenderServer {
    let s = MenderServer::start(TOKEN).await;
    s.list(
        DEVAUTH,
        fixture("devauth_devices.json").as_array().unwrap().clone(),
        2,
    );
    s.list(
        INVENTORY,
        fixture("inventory_devices.json")
            .as_array()
            .unwrap()
            .clone(),
        1,
    );
    s.list(
        DEPLOYMENTS,
        fixture("deployments.json").as_array().unwrap().clone(),
        1,
    );
    s.reply(
        "GET",
        &format!("{DEPLOYMENTS}/{DEP1}"),
        Reply::json(200, &fixture("deployment_0c13a0e6.json")),
    );
    s.reply(
        "GET",
        &format!("{DEPLOYMENTS}/{DEP2}"),
        Reply::json(200, &fixture("deployment_1d24b1f7.json")),
    );
    s.list(
        &format!("{DEPLOYMENTS}/{DEP1}/devices"),
        fixture("deployment_devices_0c13a0e6.json")
            .as_array()
            .unwrap()
            .clone(),
        20,
    );
    s.list(
        &format!("{DEPLOYMENTS}/{DEP2}/devices"),
        fixture("deployment_devices_1d24b1f7.json")
            .as_array()
            .unwrap()
            .clone(),
        20,
    );
    s.reply(
        "GET",
        &format!("{DEPLOYMENTS}/{DEP1}/devices/{DEV2}/log"),
        Reply::text(200, &fixture_text("deployment_log.txt")),
    );
    s
}

async fn next_event(
    rx: &mut mpsc::Receiver<BackendEvent>,
    mut want: impl FnMut(&BackendEvent) -> bool,
) -> BackendEvent {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let ev = rx.recv().await.expect("channel open");
            if want(&ev) {
                return ev;
            }
        }
    })
    .await
    .expect("event within 10s")
}

async fn snapshot(b: &MenderBackend, kind: ResourceKind) -> Vec<Resource> {
    let (tx, mut rx) = mpsc::channel(64);
    let _h = b.watch(kind, tx);
    match next_event(&mut rx, |e| {
        matches!(
            e,
            BackendEvent::Snapshot { .. } | BackendEvent::Unavailable { .. }
        )
    })
    .await
    {
        BackendEvent::Snapshot { resources, .. } => resources,
        other => panic!("expected a snapshot, got {other:?}"),
    }
}

#[tokio::test]
async fn devices_follow_link_pagination_and_join_inventory() {
    let s = full_server().await;
    let b = backend(&s, TOKEN);
    let mut rows = snapshot(&b, ResourceKind::MenderDevice).await;
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(rows.len(), 3, "both pages of devauth devices: {rows:#?}");
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
    assert_eq!(rows[1].cells[5], "staging", "second inventory page joined");
    assert_eq!(rows[2].cells[1], "pending");
    assert!(rows[0].created.is_some(), "last check-in drives the age");
    let reqs = s.requests();
    let devauth: Vec<_> = reqs.iter().filter(|r| r.path == DEVAUTH).collect();
    assert_eq!(devauth.len(), 2, "two pages requested");
    assert!(devauth[0].query.contains("page=1"), "{:?}", devauth[0]);
    assert!(devauth[1].query.contains("page=2"), "{:?}", devauth[1]);
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
async fn deployments_show_per_status_counts() {
    let s = full_server().await;
    let b = backend(&s, TOKEN);
    let rows = snapshot(&b, ResourceKind::MenderDeployment).await;
    assert_eq!(rows.len(), 2, "two pages of one deployment each");
    let d1 = rows.iter().find(|r| r.key.id == DEP1).unwrap();
    assert_eq!(d1.name, "release-2024.04 production");
    assert_eq!(d1.cells[1], "release-2024.04");
    assert_eq!(d1.cells[2], "finished");
    assert_eq!(d1.cells[4], "2");
    // pending downloading installing rebooting success failure aborted already-installed
    assert_eq!(d1.cells[5..], ["0", "0", "0", "0", "1", "1", "0", "0"]);
    assert_eq!(d1.health, fleetdeck::model::Health::Failed);
    let d2 = rows.iter().find(|r| r.key.id == DEP2).unwrap();
    assert_eq!(d2.cells[6], "1", "one device downloading");
}

#[tokio::test]
async fn deployment_devices_and_their_log() {
    let s = full_server().await;
    let b = backend(&s, TOKEN);
    let rows = snapshot(&b, ResourceKind::MenderDeploymentDevice).await;
    assert_eq!(rows.len(), 3, "{rows:#?}");
    let failed = rows
        .iter()
        .find(|r| r.key.id == format!("{DEP1}/{DEV2}"))
        .expect("device row of the first deployment");
    assert_eq!(failed.parent.as_deref(), Some("release-2024.04 production"));
    assert_eq!(failed.cells[1], "failure");
    assert_eq!(failed.cells[2], "2024-05-01T08:01:30.000Z");
    assert_eq!(failed.cells[4], "2");

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
    assert!(lines[0].ts.is_some(), "Mender log timestamps are parsed");
}

#[tokio::test]
async fn create_deployment_posts_name_artifact_and_devices() {
    let s = full_server().await;
    s.reply(
        "POST",
        DEPLOYMENTS,
        Reply::text(201, "").header(
            "location",
            "/api/management/v1/deployments/deployments/2e35c2a8-8d85-4bd0-9001-6df5f5ef3a3d",
        ),
    );
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
    assert!(out.contains("2e35c2a8"), "{out}");
    let post = s
        .requests()
        .into_iter()
        .find(|r| r.method == "POST")
        .expect("a POST");
    assert_eq!(post.path, DEPLOYMENTS);
    assert_eq!(post.content_type.as_deref(), Some("application/json"));
    assert_eq!(
        post.json(),
        json!({
            "name": "release-2024.05 (fleetdeck)",
            "artifact_name": "release-2024.05",
            "devices": [DEV1, DEV2],
        })
    );

    // A group deployment goes to the group endpoint.
    s.reply(
        "POST",
        &format!("{DEPLOYMENTS}/group/production"),
        Reply::text(201, ""),
    );
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
    let s = full_server().await;
    s.reply(
        "PUT",
        &format!("{DEPLOYMENTS}/{DEP2}/status"),
        Reply::text(204, ""),
    );
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
    let s = full_server().await;
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
    let s = full_server().await;
    s.once(
        DEVAUTH,
        Reply::json(403, &json!({"error": "Forbidden", "request_id": "x"})),
    );
    let b = backend(&s, TOKEN);
    let (tx, mut rx) = mpsc::channel(64);
    let _h = b.watch(ResourceKind::MenderDevice, tx);
    let ev = next_event(&mut rx, |e| matches!(e, BackendEvent::Unavailable { .. })).await;
    let BackendEvent::Unavailable { reason, .. } = ev else {
        unreachable!()
    };
    assert!(reason.starts_with("forbidden"), "{reason}");
}

#[tokio::test]
async fn rate_limited_honours_retry_after_then_recovers() {
    let s = full_server().await;
    s.once(
        DEPLOYMENTS,
        Reply::json(429, &json!({"error": "Too Many Requests"})).header("retry-after", "1"),
    );
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
    let ev = next_event(&mut rx, |e| matches!(e, BackendEvent::Snapshot { .. })).await;
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "waited Retry-After"
    );
    let BackendEvent::Snapshot { resources, .. } = ev else {
        unreachable!()
    };
    assert_eq!(resources.len(), 2);
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

    let s = full_server().await;
    s.reply(
        "GET",
        &format!("{DEVAUTH}/{DEV1}"),
        Reply::json(200, &fixture("devauth_devices.json")[0]),
    );
    let b = backend(&s, TOKEN);
    let rows = snapshot(&b, ResourceKind::MenderDevice).await;
    assert_eq!(rows.len(), 3);
    let deps = snapshot(&b, ResourceKind::MenderDeployment).await;
    let described = b.describe(&deps[0].key).await.expect("describe deployment");
    assert!(described.contains("artifact_name"), "{described}");
    let dev = b.describe(&rows[0].key).await.expect("describe device");
    assert!(dev.contains("dc:a6:32"), "{dev}");
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
    let s = full_server().await;
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

/// `fleetdeck ls mdevices|mdeployments -o json` end to end: the real binary, a config naming
/// the server and the token variable, the token only in the environment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ls_mender_kinds_as_json() {
    let s = full_server().await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.yaml");
    std::fs::write(
        &config,
        format!(
            "kube: []\nmender:\n  - name: test\n    url: {}\n    token_env: FLEETDECK_TEST_MENDER_TOKEN\n",
            s.url()
        ),
    )
    .unwrap();
    let run = |kind: &'static str| {
        let (config, home) = (config.clone(), dir.path().to_path_buf());
        async move {
            tokio::process::Command::new(env!("CARGO_BIN_EXE_fleetdeck"))
                .args([
                    "--config",
                    config.to_str().unwrap(),
                    "ls",
                    kind,
                    "-o",
                    "json",
                ])
                .env("HOME", &home)
                .env("XDG_CONFIG_HOME", home.join("config"))
                .env("XDG_STATE_HOME", home.join("state"))
                .env_remove("KUBECONFIG")
                .env("FLEETDECK_TEST_MENDER_TOKEN", TOKEN)
                .output()
                .await
                .expect("run fleetdeck")
        }
    };
    let out = run("mdevices").await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let v: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("JSON array");
    assert_eq!(v.len(), 3);
    assert_eq!(v[0]["id"], DEV1);
    assert_eq!(v[0]["source"], "mender:test");
    assert_eq!(v[0]["auth"], "accepted");
    assert_eq!(v[0]["artifact"], "release-2024.04");
    assert!(v[0]["last check-in"].is_string());

    let out = run("mdeployments").await;
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

#[tokio::test]
async fn the_probe_reports_the_server_in_the_header() {
    let s = full_server().await;
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
