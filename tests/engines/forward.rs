//! Port forwards (#15, src/backend/forward.rs) carrying real traffic: to a container's
//! published and internal port on the real Docker engine (busybox httpd in the test image),
//! and to a device's local service over a real sshd (`direct-tcpip` on the device's session).
//! Network only on 127.0.0.0/8 and docker's local bridge (the forward itself checks the
//! route stays on a bridge of this machine).

use crate::support;

use std::time::Duration;

use fleetdeck::backend::Backend;
use fleetdeck::backend::docker::DockerBackend;
use fleetdeck::backend::fleet::{FleetBackend, FleetFile};
use fleetdeck::backend::forward::Forward;
use fleetdeck::model::{ResourceKey, ResourceKind};
use support::sshd::{self, Sshd, SshdOpts, TEST_USER};
use support::{TestContainer, docker_test_image};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// An HTTP/1.0 GET through `addr`, retried while the server inside is still starting.
async fn http_get(addr: std::net::SocketAddr) -> String {
    let mut last = String::new();
    for _ in 0..50 {
        if let Ok(mut s) = TcpStream::connect(addr).await {
            let _ = s.write_all(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n").await;
            let mut out = Vec::new();
            let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out)).await;
            last = String::from_utf8_lossy(&out).into_owned();
            if last.contains("200") {
                return last;
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    last
}

fn httpd(suffix: &str, publish: bool) -> TestContainer {
    let spec = TestContainer::spec(suffix);
    let spec = if publish {
        spec.arg("-p").arg("127.0.0.1::8080")
    } else {
        spec
    };
    spec.cmd(&[
        "sh",
        "-c",
        "mkdir -p /www && echo hello-forward > /www/index.html && exec httpd -f -p 8080 -h /www",
    ])
    .run()
}

async fn forward_to(b: &dyn Backend, key: &ResourceKey, port: u16) -> Forward {
    let connector = b
        .forward(key, port)
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    Forward::start(1, 0, connector, key.clone(), key.id.clone())
        .await
        .unwrap()
}

async fn assert_closing_frees(f: Forward) {
    let local = f.local;
    f.close().await;
    assert!(
        TcpStream::connect(local).await.is_err(),
        "{local} still accepts"
    );
    TcpListener::bind(local)
        .await
        .expect("the port is free again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_published_container_port_through_its_host_side() {
    let Some(_image) = docker_test_image() else {
        return;
    };
    let c = httpd("fwd-pub", true);
    let b = DockerBackend::local();
    let key = ResourceKey {
        source: b.id().clone(),
        kind: ResourceKind::Container,
        id: c.id.clone(),
    };
    let f = forward_to(&b, &key, 8080).await;
    let host_port = c.inspect("{{(index (index .NetworkSettings.Ports \"8080/tcp\") 0).HostPort}}");
    assert!(
        f.target
            .contains(&format!("127.0.0.1:{}", host_port.unwrap())),
        "{}",
        f.target
    );
    let reply = http_get(f.local).await;
    assert!(reply.contains("hello-forward"), "{reply}");
    assert!(f.row().cells[3].ends_with("/1") || f.row().cells[3].ends_with("/2"));
    assert_closing_frees(f).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_internal_container_port_through_the_local_bridge() {
    let Some(_image) = docker_test_image() else {
        return;
    };
    let c = httpd("fwd-int", false);
    let b = DockerBackend::local();
    let key = ResourceKey {
        source: b.id().clone(),
        kind: ResourceKind::Container,
        id: c.id.clone(),
    };
    let ip = c.inspect("{{.NetworkSettings.IPAddress}}").unwrap();
    let f = forward_to(&b, &key, 8080).await;
    assert!(f.target.contains(&format!("{ip}:8080")), "{}", f.target);
    let reply = http_get(f.local).await;
    assert!(reply.contains("hello-forward"), "{reply}");
    assert_closing_frees(f).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_container_is_refused_with_why() {
    let Some(_image) = docker_test_image() else {
        return;
    };
    let c = TestContainer::spec("fwd-stopped").create();
    let b = DockerBackend::local();
    let key = ResourceKey {
        source: b.id().clone(),
        kind: ResourceKind::Container,
        id: c.id.clone(),
    };
    let e = b.forward(&key, 80).await.err().expect("refused");
    assert!(e.to_string().contains("is not running"), "{e:#}");
}

/// The device's "local web UI": a TCP server on 127.0.0.1 answering one line per connection.
async fn device_service() -> (u16, tokio::task::JoinHandle<()>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = l.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = [0u8; 64];
                let n = s.read(&mut buf).await.unwrap_or(0);
                let _ = s
                    .write_all(
                        format!("device says: {}", String::from_utf8_lossy(&buf[..n])).as_bytes(),
                    )
                    .await;
            });
        }
    });
    (port, task)
}

/// One device `gw` behind a real sshd on loopback (VERBOSE log, so a test can count its
/// logins), reached with a fresh ed25519 key and a pinned host key.
fn device_behind_sshd() -> (tempfile::TempDir, Sshd, FleetBackend) {
    let dir = tempfile::tempdir().unwrap();
    let (id, id_pub) = sshd::keygen(dir.path(), "id_ed25519", "ed25519", "");
    let sshd = Sshd::start(SshdOpts {
        authorized: vec![id_pub],
        log_level: Some("VERBOSE".into()),
        ..Default::default()
    });
    std::fs::write(
        dir.path().join("known_hosts"),
        sshd.known_hosts_line(sshd.port()) + "\n",
    )
    .unwrap();
    let yaml = format!(
        "known_hosts: known_hosts\ndevices:\n - {{name: gw, host: 127.0.0.1, port: {}, user: {TEST_USER}, identity_file: {}}}\n",
        sshd.port(),
        id.display()
    );
    let path = dir.path().join("fleet.yaml");
    std::fs::write(&path, yaml).unwrap();
    let opts = support::sshd::ssh_options(dir.path(), None, "");
    let b = FleetBackend::new(FleetFile::load(&path).unwrap(), opts);
    (dir, sshd, b)
}

/// Two connections through the forward, one after the other, each answered by
/// [`device_service`].
async fn two_connections_echo(f: &Forward) {
    for word in ["one", "two"] {
        let mut s = TcpStream::connect(f.local).await.unwrap();
        s.write_all(word.as_bytes()).await.unwrap();
        let mut out = String::new();
        tokio::time::timeout(Duration::from_secs(10), s.read_to_string(&mut out))
            .await
            .expect("reply in time")
            .unwrap();
        assert_eq!(out, format!("device says: {word}"));
    }
}

/// The forward's LAST ERROR cell once it is set (a failed connection reports it shortly
/// after it closed), or empty after 5 s.
async fn last_error(f: &Forward) -> String {
    let mut error = String::new();
    for _ in 0..50 {
        error = f.row().cells[6].clone();
        if !error.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    error
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_port_over_its_ssh_session() {
    if !support::require("sshd", sshd::sshd_available()) {
        return;
    }
    let (_dir, sshd, b) = device_behind_sshd();
    let (port, _service) = device_service().await;
    let key = ResourceKey {
        source: b.id().clone(),
        kind: ResourceKind::Device,
        id: "gw".into(),
    };
    let f = forward_to(&b, &key, port).await;
    // Two connections over the one session, one after the other.
    two_connections_echo(&f).await;
    // sshd logged the forwards as direct-tcpip channels of the one login.
    let log = sshd.log();
    assert_eq!(log.matches("Accepted publickey").count(), 1, "{log}");
    assert_closing_frees(f).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_device_port_shows_as_the_last_error() {
    if !support::require("sshd", sshd::sshd_available()) {
        return;
    }
    let (_dir, _sshd, b) = device_behind_sshd();
    // A port nothing listens on.
    let free = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = free.local_addr().unwrap().port();
    drop(free);
    let key = ResourceKey {
        source: b.id().clone(),
        kind: ResourceKind::Device,
        id: "gw".into(),
    };
    let f = forward_to(&b, &key, port).await;
    let mut s = TcpStream::connect(f.local).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out)).await;
    assert!(out.is_empty());
    let error = last_error(&f).await;
    assert!(error.contains(&format!("127.0.0.1:{port}")), "{error:?}");
    assert_closing_frees(f).await;
}

/// A pod port through kube-client's real `portforward` against the API test double speaking
/// the websocket protocol (tests/support/kube_portforward.rs): a websocket per connection,
/// bytes both ways, the error channel's words as LAST ERROR; a pod that does not exist is
/// refused when the forward opens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pod_port_through_the_api_servers_portforward() {
    use support::kube_server::{KubeServer, fixture_items, kubeconfig_yaml, write_kubeconfig};
    let server = KubeServer::start().await;
    for p in fixture_items("pods.json") {
        server.put("pods", p);
    }
    let (_dir, path) = write_kubeconfig(&kubeconfig_yaml(&[("test", &server.url(), "shop")]));
    let kc = kube::config::Kubeconfig::read_from(&path).unwrap();
    let b = fleetdeck::backend::kube::KubeBackend::from_kubeconfig(Ok(kc), &[]).remove(0);
    let pod = "web-5d8f7c9b6f-x7k2p";
    // The pod row lists its declared ports: the forward dialog's list.
    let json = fixture_items("pods.json")
        .into_iter()
        .find(|p| p["metadata"]["name"] == pod)
        .unwrap();
    let row = fleetdeck::backend::kube::map::pod(b.id(), &serde_json::from_value(json).unwrap());
    assert_eq!(row.facts.ports, [8080]);
    let (port, _service) = device_service().await;
    server.pod_port("shop", pod, 8080, ([127, 0, 0, 1], port).into());
    let key = ResourceKey {
        source: b.id().clone(),
        kind: ResourceKind::Pod,
        id: format!("shop/{pod}"),
    };
    let f = forward_to(&b, &key, 8080).await;
    assert_eq!(f.target, format!("pod shop/{pod}:8080"));
    two_connections_echo(&f).await;
    let forwards = server
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/portforward"))
        .collect::<Vec<_>>();
    assert_eq!(forwards.len(), 2, "one websocket per connection");
    assert!(forwards[0].query_has("ports=8080"), "{}", forwards[0].query);
    assert_closing_frees(f).await;

    // Nothing listens on 9090 in the pod: the API server's error channel says so, and the
    // forward shows it as its LAST ERROR.
    let f = forward_to(&b, &key, 9090).await;
    let mut s = TcpStream::connect(f.local).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out)).await;
    assert!(out.is_empty());
    drop(s);
    let error = last_error(&f).await;
    assert!(error.contains("connection refused"), "{error:?}");
    assert_closing_frees(f).await;

    // A pod that does not exist fails when the forward opens.
    let missing = ResourceKey {
        id: "shop/nope".into(),
        ..key.clone()
    };
    let e = b.forward(&missing, 8080).await.err().expect("refused");
    assert!(e.to_string().contains("not found"), "{e:#}");
}
