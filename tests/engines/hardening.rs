//! Issue 11 "Hardening": each test reproduces a finding of the reliability review
//! (/work/shared/REVIEW-reliability.md) against the real binary or the real code path, with
//! fake servers on 127.0.0.1 only.
//!
//! - M1: nothing runs unaudited (`run`, `update`, console actions, the rollout engine).
//! - M2: endless answers (Mender, Kubernetes, Docker) are errors naming the endpoint, with
//!   the peak RSS of the process measured.
//! - L2/L3/L12: terminal-safe JSON/YAML ids, bounded Mender error texts, "loading…" and
//!   "no answer" instead of an empty table.

use crate::support;

use crate::support::mender_server;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use fleetdeck::app::msg::Msg;
use fleetdeck::app::runtime::Runtime;
use fleetdeck::app::{AppState, Effect};
use fleetdeck::audit::AuditLog;
use fleetdeck::backend::Backend;
use fleetdeck::backend::fleet::{FleetBackend, FleetFile};
use fleetdeck::config::load_settings;
use fleetdeck::model::{FailureLimit, ResourceAction, ResourceKey, ResourceKind, UpdateRequest};
use fleetdeck::ssh::client::SshOptions;
use fleetdeck::ssh::config::SshConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

use support::tmux::{Tmux, fleetdeck_bin, shell_quote, tmux_available};

// ---------------------------------------------------------------------------------------------
// Helpers

/// A TCP port that counts connections and never answers: a "device" that must not be reached.
struct Untouched {
    port: u16,
    accepted: Arc<AtomicUsize>,
}

impl Untouched {
    async fn start() -> Untouched {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let n = accepted.clone();
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((s, _)) = l.accept().await {
                n.fetch_add(1, Ordering::SeqCst);
                held.push(s);
            }
        });
        Untouched { port, accepted }
    }

    fn count(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

/// A state dir whose audit log cannot be written (a directory where the file goes: what the
/// review did; root ignores permission bits).
fn unwritable_audit(state_home: &Path) -> PathBuf {
    let audit = state_home.join("fleetdeck").join("audit.jsonl");
    std::fs::create_dir_all(&audit).unwrap();
    audit
}

fn fleet_file(dir: &Path, port: u16) -> PathBuf {
    let path = dir.join("fleet.yaml");
    std::fs::write(
        &path,
        format!(
            "name: lab\ndevices:\n - {{name: r1, host: 127.0.0.1, port: {port}, user: nobody, updater: mender}}\n"
        ),
    )
    .unwrap();
    path
}

fn ssh_options(home: &Path) -> SshOptions {
    SshOptions {
        config: Arc::new(SshConfig::parse("")),
        home: home.to_path_buf(),
        user_known_hosts: home.join(".ssh/known_hosts"),
        agent: None,
        connect_timeout: Duration::from_secs(2),
    }
}

/// The binary with a private config/state dir, no Docker and no kubeconfig unless `env` says.
fn fleetdeck(home: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut c = Command::new(fleetdeck_bin());
    c.args(args)
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .env_remove("KUBECONFIG");
    for (k, v) in env {
        c.env(k, v);
    }
    c
}

/// Run to the end (at most `limit`), polling the peak RSS (VmHWM) of the process.
fn run_measured(mut cmd: Command, limit: Duration) -> (i32, String, String, u64) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run fleetdeck");
    let status_file = format!("/proc/{}/status", child.id());
    let start = Instant::now();
    let mut peak_kb = 0u64;
    let code = loop {
        if let Ok(s) = std::fs::read_to_string(&status_file)
            && let Some(kb) = s
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        {
            peak_kb = peak_kb.max(kb);
        }
        if let Some(st) = child.try_wait().unwrap() {
            break st.code().unwrap_or(-1);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "fleetdeck still running after {limit:?} (peak {} MB)",
                peak_kb / 1024
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut out = String::new();
    let mut err = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (code, out, err, peak_kb / 1024)
}

// ---------------------------------------------------------------------------------------------
// M1: an action that cannot be audited does not run

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_run_and_update_refuse_when_the_audit_log_cannot_be_written() {
    let device = Untouched::start().await;
    let home = tempfile::tempdir().unwrap();
    let audit = unwritable_audit(&home.path().join("state"));
    let fleet = fleet_file(home.path(), device.port);
    let fleet = fleet.to_str().unwrap().to_string();
    let home_path = home.path().to_path_buf();

    let (code, out, err) = tokio::task::spawn_blocking({
        let (home, fleet) = (home_path.clone(), fleet.clone());
        move || {
            let o = fleetdeck(
                &home,
                &[
                    "--fleet", &fleet, "run", "--device", "r1", "--", "echo", "x",
                ],
                &[],
            )
            .output()
            .unwrap();
            (
                o.status.code().unwrap_or(-1),
                String::from_utf8_lossy(&o.stdout).into_owned(),
                String::from_utf8_lossy(&o.stderr).into_owned(),
            )
        }
    })
    .await
    .unwrap();
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains(&format!(
            "not run: cannot write the audit log {}",
            audit.display()
        )),
        "{out}{err}"
    );

    let (code, out, err) = tokio::task::spawn_blocking({
        let (home, fleet) = (home_path.clone(), fleet.clone());
        move || {
            let o = fleetdeck(
                &home,
                &[
                    "--fleet",
                    &fleet,
                    "update",
                    "--device",
                    "r1",
                    "--artifact",
                    "http://127.0.0.1:1/a.mender",
                ],
                &[],
            )
            .output()
            .unwrap();
            (
                o.status.code().unwrap_or(-1),
                String::from_utf8_lossy(&o.stdout).into_owned(),
                String::from_utf8_lossy(&o.stderr).into_owned(),
            )
        }
    })
    .await
    .unwrap();
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("update refused: cannot write the audit log"),
        "{out}{err}"
    );
    assert!(!out.contains("rollout"), "nothing started: {out}");
    assert!(
        !home.path().join("state/fleetdeck/updates/lab").exists(),
        "no rollout recorded"
    );
    assert_eq!(device.count(), 0, "the device was never contacted");
}

/// The review: audit targets were `devices/r1` for `run` but `r1` for `update`. Now every line
/// about a device names it `devices/NAME`: run, the update's attempt and its transitions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_targets_name_devices_the_same_way_for_run_and_update() {
    let home = tempfile::tempdir().unwrap();
    // Port 1: refused at once, so both fail fast but are audited.
    let fleet = fleet_file(home.path(), 1);
    let fleet = fleet.to_str().unwrap().to_string();
    let home_path = home.path().to_path_buf();
    tokio::task::spawn_blocking(move || {
        for args in [
            vec!["--fleet", &fleet, "run", "--device", "r1", "--", "true"],
            vec![
                "--fleet",
                &fleet,
                "update",
                "--device",
                "r1",
                "--artifact",
                "http://127.0.0.1:1/a.mender",
            ],
        ] {
            let o = fleetdeck(&home_path, &args, &[]).output().unwrap();
            assert_eq!(
                o.status.code(),
                Some(1),
                "{}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
    })
    .await
    .unwrap();
    let audit = std::fs::read_to_string(home.path().join("state/fleetdeck/audit.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = audit
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let phases: Vec<&str> = lines.iter().map(|v| v["phase"].as_str().unwrap()).collect();
    assert!(phases.contains(&"transition"), "{audit}");
    assert!(lines.len() >= 4, "{audit}");
    for v in &lines {
        assert_eq!(v["target"], "devices/r1", "{audit}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_actions_and_rollouts_refuse_when_the_audit_log_cannot_be_written() {
    let device = Untouched::start().await;
    let home = tempfile::tempdir().unwrap();
    let audit = unwritable_audit(&home.path().join("state"));
    let file = FleetFile::load(&fleet_file(home.path(), device.port)).unwrap();
    let backend = FleetBackend::new(file, ssh_options(home.path())).with_update_store(
        home.path().join("updates"),
        Some(AuditLog::new(&audit)),
        Duration::from_millis(50),
    );

    // The rollout engine: no rollout starts when its transitions could not be audited.
    let req = UpdateRequest {
        artifact: "http://127.0.0.1:1/a.mender".into(),
        devices: vec!["r1".into()],
        parallel: 1,
        max_failures: FailureLimit::Count(1),
        ..UpdateRequest::EMPTY
    };
    let e = backend.updates().start(&req).await.unwrap_err();
    assert!(
        e.starts_with(&format!(
            "update refused: cannot write the audit log {}",
            audit.display()
        )),
        "{e}"
    );
    assert!(!home.path().join("updates").exists(), "no rollout recorded");

    // A console action: refused before the backend is called, the operator told why.
    let settings = load_settings(None, Some("default"), Some("default"))
        .unwrap()
        .value;
    let state = AppState::new(settings, false);
    let (events, _events_rx) = mpsc::channel(16);
    let (app, mut app_rx) = mpsc::unbounded_channel();
    let backend: Arc<dyn Backend> = Arc::new(backend);
    let key = ResourceKey {
        source: backend.id().clone(),
        kind: ResourceKind::Device,
        id: "r1".into(),
    };
    let mut rt = Runtime::new(vec![backend], events, app, AuditLog::new(&audit));
    for action in [
        ResourceAction::AcceptHostKey("SHA256:AAAA".into()),
        ResourceAction::StartUpdate(req.clone()),
    ] {
        rt.perform(
            &state,
            Effect::Act {
                key: key.clone(),
                name: "r1".into(),
                action,
            },
        );
        let msg = tokio::time::timeout(Duration::from_secs(10), app_rx.recv())
            .await
            .expect("an answer")
            .expect("open");
        let Msg::ActionDone { result, .. } = msg else {
            panic!("unexpected message");
        };
        let e = result.unwrap_err();
        assert!(e.contains("refused: cannot write the audit log"), "{e}");
    }
    assert_eq!(device.count(), 0, "the device was never contacted");
}

// ---------------------------------------------------------------------------------------------
// M2: endless answers

/// What the raw server does with one request (by its request line).
#[derive(Clone, Copy)]
enum Plan {
    /// A small JSON answer.
    Json(&'static str),
    /// 200 with chunked JSON that never ends: `prefix`, then `item,` forever.
    Endless(&'static str, &'static str),
    /// Headers of a 200 stream, then nothing.
    Hang,
    /// Accept the request and never answer.
    Silent,
}

/// An HTTP/1.1 server speaking just enough; counts the bytes it sent.
struct RawServer {
    sent: Arc<AtomicU64>,
}

async fn serve_conn<S>(mut s: S, plan: fn(&str) -> Plan, sent: Arc<AtomicU64>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    loop {
        let mut head = Vec::new();
        let mut b = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            match s.read(&mut b).await {
                Ok(1) => head.push(b[0]),
                _ => return,
            }
        }
        let text = String::from_utf8_lossy(&head).into_owned();
        let line = text.lines().next().unwrap_or("").to_string();
        match plan(&line) {
            Plan::Json(body) => {
                let r = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                );
                if s.write_all(r.as_bytes()).await.is_err() {
                    return;
                }
            }
            Plan::Endless(prefix, item) => {
                let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
                let mut chunk = String::new();
                while chunk.len() < 64 * 1024 {
                    chunk.push_str(item);
                    chunk.push(',');
                }
                let framed = format!("{:x}\r\n{chunk}\r\n", chunk.len());
                let first = format!("{head}{:x}\r\n{prefix}\r\n", prefix.len());
                if s.write_all(first.as_bytes()).await.is_err() {
                    return;
                }
                while s.write_all(framed.as_bytes()).await.is_ok() {
                    sent.fetch_add(framed.len() as u64, Ordering::Relaxed);
                }
                return;
            }
            Plan::Hang => {
                let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
                let _ = s.write_all(head.as_bytes()).await;
                std::future::pending::<()>().await;
            }
            Plan::Silent => std::future::pending::<()>().await,
        }
    }
}

impl RawServer {
    async fn tcp(plan: fn(&str) -> Plan) -> (RawServer, u16) {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        let sent = Arc::new(AtomicU64::new(0));
        let s2 = sent.clone();
        tokio::spawn(async move {
            while let Ok((c, _)) = l.accept().await {
                tokio::spawn(serve_conn(c, plan, s2.clone()));
            }
        });
        (RawServer { sent }, port)
    }

    async fn unix(path: &Path, plan: fn(&str) -> Plan) -> RawServer {
        let l = tokio::net::UnixListener::bind(path).unwrap();
        let sent = Arc::new(AtomicU64::new(0));
        let s2 = sent.clone();
        tokio::spawn(async move {
            while let Ok((c, _)) = l.accept().await {
                tokio::spawn(serve_conn(c, plan, s2.clone()));
            }
        });
        RawServer { sent }
    }

    fn sent_mb(&self) -> u64 {
        self.sent.load(Ordering::Relaxed) / (1024 * 1024)
    }
}

const AAA: &str = r#"{"id":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}"#;

/// The endless-body tests measure peak RSS: one at a time.
static MEASURE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The review: 5.0 GB in 10 s. Now a list answer stops at 1000 items (pages are asked 500 at
/// a time) or at 16 MiB, whichever comes first, and the error names the endpoint.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_mender_answer_is_an_error_not_gigabytes() {
    let _one = MEASURE.lock().await;
    // Endless items, then one endless item (a string that never closes).
    let items = RawServer::tcp(|_| Plan::Endless("[", AAA)).await;
    let one =
        RawServer::tcp(|_| Plan::Endless(r#"[{"id":""#, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"))
            .await;
    for ((server, port), want) in [
        (
            items,
            "unexpected answer: more than 1000 items in one answer",
        ),
        (one, "is larger than 16 MiB: stopped reading"),
    ] {
        let home = tempfile::tempdir().unwrap();
        let config = home.path().join("config.yaml");
        std::fs::write(
            &config,
            format!(
                "kube: []\nmender:\n  - name: endless\n    url: http://127.0.0.1:{port}\n    token_env: FLEETDECK_TEST_MENDER_TOKEN\n"
            ),
        )
        .unwrap();
        let cmd = fleetdeck(
            home.path(),
            &["--config", config.to_str().unwrap(), "ls", "mdevices"],
            &[("FLEETDECK_TEST_MENDER_TOKEN", "t")],
        );
        let (code, _out, err, peak_mb) =
            tokio::task::spawn_blocking(move || run_measured(cmd, Duration::from_secs(60)))
                .await
                .unwrap();
        eprintln!(
            "mender endless body: peak RSS {peak_mb} MB, server sent {} MB: {err}",
            server.sent_mb()
        );
        assert_eq!(code, 1, "{err}");
        assert!(
            err.contains("GET /api/management/v2/devauth/devices page 1 (0 read): ")
                && err.contains(want),
            "{err}"
        );
        assert!(peak_mb < 200, "peak RSS {peak_mb} MB");
    }
}

/// The review: 6.6 GB in 10 s. Now a list page stops at 64 MiB, naming the server and path.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_kube_list_is_an_error_not_gigabytes() {
    let _one = MEASURE.lock().await;
    let (server, port) = RawServer::tcp(|_| {
        Plan::Endless(
            r#"{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"1"},"items":["#,
            r#"{"metadata":{"name":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","namespace":"default"}}"#,
        )
    })
    .await;
    let home = tempfile::tempdir().unwrap();
    let (_kdir, kubeconfig) =
        support::kube_server::write_kubeconfig(&support::kube_server::kubeconfig_yaml(&[(
            "endless",
            &format!("http://127.0.0.1:{port}"),
            "default",
        )]));
    let cmd = fleetdeck(
        home.path(),
        &["ls", "pods"],
        &[("KUBECONFIG", kubeconfig.to_str().unwrap())],
    );
    let (code, _out, err, peak_mb) =
        tokio::task::spawn_blocking(move || run_measured(cmd, Duration::from_secs(60)))
            .await
            .unwrap();
    eprintln!(
        "kube endless list: peak RSS {peak_mb} MB, server sent {} MB",
        server.sent_mb()
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(&format!(
            "list pods: the answer of http://127.0.0.1:{port}/api/v1/namespaces/default/pods is larger than 64 MiB: stopped reading"
        )),
        "{err}"
    );
    assert!(peak_mb < 400, "peak RSS {peak_mb} MB");
}

/// A Docker socket answering the container list forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_docker_answer_is_an_error_not_gigabytes() {
    let _one = MEASURE.lock().await;
    let home = tempfile::tempdir().unwrap();
    let sock = home.path().join("docker.sock");
    let server = RawServer::unix(&sock, |line| {
        if line.contains("/version") {
            Plan::Json(
                r#"{"Version":"20.10.24","ApiVersion":"1.41","MinAPIVersion":"1.12","Os":"linux","Arch":"amd64"}"#,
            )
        } else if line.contains("/events") {
            Plan::Hang
        } else {
            Plan::Endless("[", r#"{"Id":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","Names":["/x"]}"#)
        }
    })
    .await;
    let host = format!("unix://{}", sock.display());
    let cmd = fleetdeck(
        home.path(),
        &["ls", "containers"],
        &[("DOCKER_HOST", host.as_str())],
    );
    let (code, _out, err, peak_mb) =
        tokio::task::spawn_blocking(move || run_measured(cmd, Duration::from_secs(60)))
            .await
            .unwrap();
    eprintln!(
        "docker endless list: peak RSS {peak_mb} MB, server sent {} MB",
        server.sent_mb()
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(&format!(
            "the answer of Docker at {host} (/containers/json) is larger than 64 MiB: stopped reading"
        )),
        "{err}"
    );
    assert!(peak_mb < 400, "peak RSS {peak_mb} MB");
}

// ---------------------------------------------------------------------------------------------
// L1/L2: ids from remote systems reach the terminal escaped in -o json and -o yaml, and
// neutralised in tables

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ls_escapes_c1_and_bidi_in_ids_as_json_yaml_and_table() {
    let server = support::kube_server::KubeServer::start().await;
    let hostile = "web\u{9b}2J\u{202e}1";
    server.put(
        "pods",
        serde_json::json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": hostile, "namespace": "default", "uid": "u1",
                         "creationTimestamp": "2026-11-23T10:00:00Z"},
            "spec": {"containers": [{"name": "c", "image": "i"}]},
            "status": {"phase": "Running"}
        }),
    );
    let (_kdir, kubeconfig) = support::kube_server::write_kubeconfig(
        &support::kube_server::kubeconfig_yaml(&[("t", &server.url(), "default")]),
    );
    let home = tempfile::tempdir().unwrap();
    for output in ["json", "yaml", "table"] {
        let mut cmd = fleetdeck(
            home.path(),
            &["ls", "pods", "-o", output],
            &[("KUBECONFIG", kubeconfig.to_str().unwrap())],
        );
        let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
            .await
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !text
                .chars()
                .any(|c| fleetdeck::term::sanitize::is_hidden(c) && c != '\n'),
            "{output}: {text:?}"
        );
        if output == "table" {
            // L1: the table shows the name neutralised (C1 and the bidi override dropped).
            assert!(text.contains("web2J1"), "{text}");
            continue;
        }
        // The data is intact for a parser.
        let v: serde_json::Value = if output == "json" {
            serde_json::from_str(&text).unwrap()
        } else {
            serde_saphyr::from_str(&text).unwrap()
        };
        assert_eq!(v[0]["id"], format!("default/{hostile}"), "{text}");
    }
}

// ---------------------------------------------------------------------------------------------
// L3: a Mender error text is sanitised and bounded

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mender_error_texts_are_sanitised_and_bounded() {
    use mender_server::{MenderServer, Reply};
    let s = MenderServer::with_fixtures("tok").await;
    let long = format!("\u{9b}2J\u{202e}{}", "A".repeat(5000));
    s.reply(
        "GET",
        fleetdeck::backend::mender::DEVAUTH,
        Reply::json(500, &serde_json::json!({"error": long})).off_contract("a hostile error"),
    );
    s.reply(
        "GET",
        fleetdeck::backend::mender::DEPLOYMENTS_V2,
        Reply::json(200, &serde_json::json!({"payload": long})).off_contract("not a list"),
    );
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("config.yaml");
    std::fs::write(
        &config,
        format!(
            "kube: []\nmender:\n  - name: m\n    url: {}\n    token_env: FLEETDECK_TEST_MENDER_TOKEN\n",
            s.url()
        ),
    )
    .unwrap();
    for kind in ["mdevices", "mdeployments"] {
        let mut cmd = fleetdeck(
            home.path(),
            &["--config", config.to_str().unwrap(), "ls", kind],
            &[("FLEETDECK_TEST_MENDER_TOKEN", "tok")],
        );
        let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
            .await
            .unwrap();
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(1), "{kind}: {err}");
        assert!(
            !err.chars()
                .any(|c| fleetdeck::term::sanitize::is_hidden(c) && c != '\n'),
            "{kind}: {err:?}"
        );
        assert!(err.len() < 600, "{kind}: {} bytes: {err}", err.len());
        assert!(err.contains("/api/management/"), "{kind}: {err}");
    }
    let _ = s.take_violations();
}

// ---------------------------------------------------------------------------------------------
// L4: Mender describe keeps its line breaks

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mender_describe_is_multi_line_yaml() {
    use fleetdeck::backend::mender::MenderBackend;
    use fleetdeck::backend::mender::client::Token;
    let s = mender_server::MenderServer::with_fixtures("tok").await;
    let b = MenderBackend::new(
        &fleetdeck::config::MenderSource {
            name: "m".into(),
            url: s.url(),
            token_env: "UNUSED".into(),
        },
        Some(Token::new("tok")),
    );
    let key = ResourceKey {
        source: b.id().clone(),
        kind: ResourceKind::MenderDevice,
        id: "64a1f0c2e4b0a1b2c3d4e5f1".into(),
    };
    let text = b.describe(&key).await.unwrap();
    // The review: `device:  id: dev1  identity_data: …inventory:- attributes:` on one line.
    assert!(text.lines().count() > 10, "{text}");
    assert!(text.lines().any(|l| l == "device:"), "{text}");
    assert!(text.lines().any(|l| l.starts_with("  id: ")), "{text}");
}

// ---------------------------------------------------------------------------------------------
// L12: a list request that is accepted and never answered

/// The review: `:pods` said `no pods` (green source) for minutes. Now: `loading…`, then
/// `no answer from <server> after Ns`; never `no pods`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_that_never_answers_is_loading_then_no_answer_never_empty() {
    if !support::require("tmux", tmux_available()) {
        return;
    }
    let (_server, port) = RawServer::tcp(|line| {
        if line.contains("/version") {
            Plan::Json(r#"{"major":"1","minor":"33","gitVersion":"v1.33.0"}"#)
        } else {
            Plan::Silent
        }
    })
    .await;
    let (_kdir, kubeconfig) =
        support::kube_server::write_kubeconfig(&support::kube_server::kubeconfig_yaml(&[(
            "silent",
            &format!("http://127.0.0.1:{port}"),
            "default",
        )]));
    let kubeconfig = kubeconfig.display().to_string();
    tokio::task::spawn_blocking(move || {
        let t = Tmux::start(
            &format!(
                "{} --docker-host unix:///nonexistent/docker.sock",
                shell_quote(fleetdeck_bin())
            ),
            120,
            30,
            &[("KUBECONFIG", &kubeconfig)],
        );
        t.wait_for("Containers", Duration::from_secs(15));
        t.keys(&[":"]);
        t.type_text("pods");
        t.keys(&["Enter"]);
        let screen = t.wait_for("loading…", Duration::from_secs(5));
        assert!(!screen.contains("no pods"), "{screen}");
        let screen = t.wait_for(
            &format!("no answer from http://127.0.0.1:{port} after 1"),
            Duration::from_secs(20),
        );
        assert!(!screen.contains("no pods"), "{screen}");
        t.keys(&["q"]);
    })
    .await
    .unwrap();
}
