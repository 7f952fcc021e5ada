//! Mender triage and timeline against the server double (issue #13): a deployment still in
//! progress whose device failed is a problem at once; its transitions (created, in progress,
//! a device failing, finished with its counts) reach the timeline.

use crate::support::mender_server;

use std::time::Duration;

use fleetdeck::backend::mender::MenderBackend;
use fleetdeck::backend::mender::client::Token;
use fleetdeck::backend::{Backend, BackendEvent};
use fleetdeck::config::MenderSource;
use fleetdeck::model::{ResourceKind, TimelineEntry};
use fleetdeck::triage::{Severity, TriageConfig, problem_of};
use mender_server::MenderServer;
use serde_json::json;
use tokio::sync::mpsc;

const TOKEN: &str = "pat-7f3a9c1e-secret-token-value";
/// The fixtures' deployment in progress.
const DEP2: &str = "1d24b1f7-7c74-4ac9-8f90-5ce4e4de2f2c";

fn backend(server: &MenderServer) -> MenderBackend {
    let src = MenderSource {
        name: "test".into(),
        url: server.url(),
        token_env: "MENDER_TEST_TOKEN".into(),
    };
    MenderBackend::new(&src, Some(Token::new(TOKEN))).with_poll(Duration::from_millis(200))
}

async fn entries_until(
    rx: &mut mpsc::Receiver<BackendEvent>,
    got: &mut Vec<TimelineEntry>,
    done: impl Fn(&[TimelineEntry]) -> bool,
) {
    let r = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(ev) = rx.recv().await {
            if let BackendEvent::Timeline(e) = ev {
                got.extend(e);
                if done(got) {
                    return;
                }
            }
        }
    })
    .await;
    assert!(r.is_ok(), "timed out; got {got:#?}");
}

fn set(server: &MenderServer, f: impl FnOnce(&mut serde_json::Value)) {
    server.data(|d| {
        let dep = d
            .deployments
            .iter_mut()
            .find(|x| x["id"] == DEP2)
            .expect("fixture deployment");
        f(dep);
    });
}

#[tokio::test]
async fn a_deployment_with_a_failed_device_is_a_problem_while_it_runs_and_its_transitions_are_entries()
 {
    let server = MenderServer::with_fixtures(TOKEN).await;
    let t0 = jiff::Timestamp::now() - jiff::SignedDuration::from_secs(60);
    let created = jiff::Timestamp::now().to_string();
    set(&server, |d| {
        d["created"] = json!(created);
        d["status"] = json!("pending");
        d["statistics"]["status"]["downloading"] = json!(0);
        d["statistics"]["status"]["pending"] = json!(1);
    });
    let b = backend(&server);
    let (tx, mut rx) = mpsc::channel(256);
    let _feed = b.timeline(t0, None, tx).expect("mender has a timeline");
    let mut got = Vec::new();
    let has = |got: &[TimelineEntry], what: &str| {
        got.iter()
            .any(|e| e.id.as_deref() == Some(DEP2) && e.what == what)
    };
    entries_until(&mut rx, &mut got, |g| has(g, "deployment created")).await;

    set(&server, |d| {
        d["status"] = json!("inprogress");
        d["statistics"]["status"]["pending"] = json!(0);
        d["statistics"]["status"]["failure"] = json!(1);
    });
    entries_until(&mut rx, &mut got, |g| {
        has(g, "deployment inprogress") && has(g, "device failed")
    })
    .await;

    // Triage: in progress, one device failed: a problem now.
    let (tx, mut wrx) = mpsc::channel(64);
    let _w = b.watch(ResourceKind::MenderDeployment, tx);
    let rows = loop {
        match tokio::time::timeout(Duration::from_secs(20), wrx.recv()).await {
            Ok(Some(BackendEvent::Snapshot { resources, .. })) => break resources,
            Ok(Some(_)) => {}
            other => panic!("no deployments list: {other:?}"),
        }
    };
    let row = rows.iter().find(|r| r.key.id == DEP2).unwrap();
    let p = problem_of(row, &TriageConfig::default(), jiff::Timestamp::now()).expect("a problem");
    assert_eq!(p.severity, Severity::Critical);
    assert_eq!(p.problem, "inprogress, 1 device(s) failed");

    let finished = jiff::Timestamp::now().to_string();
    set(&server, |d| {
        d["status"] = json!("finished");
        d["finished"] = json!(finished);
    });
    entries_until(&mut rx, &mut got, |g| has(g, "deployment finished")).await;
    let end = got
        .iter()
        .find(|e| e.what == "deployment finished")
        .unwrap();
    assert_eq!(end.detail, "0 succeeded, 1 failed, 0 aborted");
    assert_eq!(
        end.kind,
        Some(ResourceKind::MenderDeployment),
        "Enter opens it"
    );
    assert!(server.take_violations().is_empty());
}
